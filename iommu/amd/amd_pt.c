// SPDX-License-Identifier: MIT
/*
 * AMD-Vi's I/O page tables for host translations (AMD IOMMU 3.08 2.2.3) as
 * a format of the one page-table walker, and the device table entries that
 * point at them (2.2.2). A directory entry names the level of the table it
 * points at (NextLevel); a page entry has NextLevel 0, at level 1 (4 KiB),
 * 2 (2 MiB) or 3 (1 GiB). R and W are checked at every level, so directory
 * entries allow both and the page entry decides. Walks snoop the CPU's
 * caches (the IOMMU is a coherent requester): no sync.
 */
#include "amd_regs.h"

static u64 amd_table_entry(hpa_t next, u32 level)
{
	return next | AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (u64)(level - 1) << AMD_PTE_NEXT_SHIFT;
}

static u64 amd_leaf_entry(hpa_t pa, u32 level, u32 perms)
{
	u64 e = pa | AMD_PTE_PR | AMD_PTE_FC; /* NextLevel 0: a page of this level's size */

	(void)level;
	if (perms & PT_R)
		e |= AMD_PTE_IR;
	if (perms & PT_W)
		e |= AMD_PTE_IW;
	if (perms & PT_OWNED)
		e |= AMD_PTE_OWNED;
	return e;
}

static bool amd_present(u64 e)
{
	return e & AMD_PTE_PR;
}

static bool amd_is_leaf(u64 e, u32 level)
{
	return level == 1 || !(e & AMD_PTE_NEXT_MASK);
}

static hpa_t amd_address(u64 e, u32 level)
{
	if (amd_is_leaf(e, level))
		return e & AMD_PTE_ADDR & ~(PT_LEVEL_SIZE(level) - 1);
	return e & AMD_PTE_ADDR;
}

static u32 amd_perms(u64 e, u32 level)
{
	(void)level;
	return ((e & AMD_PTE_IR) ? PT_R : 0) | ((e & AMD_PTE_IW) ? PT_W : 0) |
	       ((e & AMD_PTE_OWNED) ? PT_OWNED : 0);
}

/*
 * Four levels (48 bits of DMA address), pages of 4 KiB, 2 MiB and 1 GiB:
 * the sizes the format has without NextLevel 7's size encoding, which the
 * walker does not need.
 */
const struct pt_format amd_format = {
	.name = "AMD-Vi 4-level",
	.levels = AMD_LEVELS,
	.leaf_levels = BIT(0) | BIT(1) | BIT(2),
	.table_entry = amd_table_entry,
	.leaf_entry = amd_leaf_entry,
	.present = amd_present,
	.is_leaf = amd_is_leaf,
	.address = amd_address,
	.perms = amd_perms,
};

void amd_dte_translated(u64 dte[AMD_DTE_WORDS], hpa_t root, u32 levels, u16 id)
{
	dte[0] = AMD_DTE_V | AMD_DTE_TV | AMD_DTE_MODE(levels) | (root & AMD_DTE_ROOT) |
		 AMD_DTE_IR | AMD_DTE_IW;
	dte[1] = id; /* DomainID; quadword 2 (interrupts) is amd_ir.c's, kept by set_dte */
	dte[2] = 0;
	dte[3] = 0;
}

/*
 * V = 1 so the entry is used at all (V = 0 passes DMA untranslated, and
 * QEMU's model does so), TV = 1 with Mode 0 and IR = IW = 0: no tables,
 * and neither reads nor writes are allowed.
 */
void amd_dte_blocked(u64 dte[AMD_DTE_WORDS])
{
	dte[0] = AMD_DTE_V | AMD_DTE_TV;
	dte[1] = 0;
	dte[2] = 0;
	dte[3] = 0;
}

// SPDX-License-Identifier: MIT
/*
 * VT-d's second-level page tables (VT-d 4.1 9.8) as formats of the one
 * page-table walker: 3 levels for a 39-bit address width, 4 for 48. Entries
 * are present when they allow a read or a write; execute has no meaning for
 * DMA. Every table write is written back to memory (sync): units that do
 * not snoop the CPU's caches (ECAP.C = 0, as QEMU's) need it, the others
 * lose a few cycles.
 */
#include "vtd_regs.h"

static u64 vtd_table_entry(hpa_t next, u32 level)
{
	(void)level;
	return next | VTD_SL_R | VTD_SL_W; /* 9.8: R and W of non-leaf entries gate what is below */
}

static u64 vtd_leaf_entry(hpa_t pa, u32 level, u32 perms)
{
	u64 e = pa;

	if (level > 1)
		e |= VTD_SL_PS;
	if (perms & PT_R)
		e |= VTD_SL_R;
	if (perms & PT_W)
		e |= VTD_SL_W;
	if (perms & PT_OWNED)
		e |= VTD_SL_OWNED;
	return e;
}

static bool vtd_present(u64 e)
{
	return e & (VTD_SL_R | VTD_SL_W);
}

static bool vtd_is_leaf(u64 e, u32 level)
{
	return level == 1 || (e & VTD_SL_PS);
}

static hpa_t vtd_address(u64 e, u32 level)
{
	if (level > 1 && (e & VTD_SL_PS))
		return e & VTD_SL_ADDR & ~(PT_LEVEL_SIZE(level) - 1);
	return e & VTD_SL_ADDR;
}

static u32 vtd_perms(u64 e, u32 level)
{
	(void)level;
	return ((e & VTD_SL_R) ? PT_R : 0) | ((e & VTD_SL_W) ? PT_W : 0) |
	       ((e & VTD_SL_OWNED) ? PT_OWNED : 0);
}

/*
 * The units' SLLPS decides the large pages; QEMU has 2 MiB and 1 GiB. Keel
 * uses 2 MiB leaves everywhere and 1 GiB ones only with 4 levels (vtd.c
 * refuses a unit without 2 MiB pages).
 */
const struct pt_format vtd_format_3level = {
	.name = "VT-d 3-level",
	.levels = 3,
	.leaf_levels = BIT(0) | BIT(1),
	.table_entry = vtd_table_entry,
	.leaf_entry = vtd_leaf_entry,
	.present = vtd_present,
	.is_leaf = vtd_is_leaf,
	.address = vtd_address,
	.perms = vtd_perms,
	.sync = iommu_cache_flush,
};

const struct pt_format vtd_format_4level = {
	.name = "VT-d 4-level",
	.levels = 4,
	.leaf_levels = BIT(0) | BIT(1),
	.table_entry = vtd_table_entry,
	.leaf_entry = vtd_leaf_entry,
	.present = vtd_present,
	.is_leaf = vtd_is_leaf,
	.address = vtd_address,
	.perms = vtd_perms,
	.sync = iommu_cache_flush,
};

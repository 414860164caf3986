// SPDX-License-Identifier: MIT
/* The nested page table format: x86-64 4-level entries (APM2 15.25, 5.3). NPT walks are user accesses, so U=1. */
#include <arch/x86/paging.h>
#include <arch/x86/virt.h>
#include <keel/pagetable.h>

#define NPT_OWNED BIT(9) /* an AVL bit: Keel's own mark (APM2 5.4.1 "available to software") */

static u64 npt_table_entry(hpa_t next, u32 level)
{
	(void)level;
	return next | PTE_P | PTE_W | PTE_U;
}

static u64 npt_leaf_entry(hpa_t pa, u32 level, u32 perms)
{
	u64 e = pa | PTE_P | PTE_U;

	if (level > 1)
		e |= PTE_PS;
	if (perms & PT_W)
		e |= PTE_W;
	if (!(perms & PT_X))
		e |= PTE_NX;
	if (perms & PT_OWNED)
		e |= NPT_OWNED;
	if (perms & PT_UC)
		e |= PTE_PCD | PTE_PWT;
	return e;
}

static bool npt_present(u64 e)
{
	return e & PTE_P;
}

static bool npt_is_leaf(u64 e, u32 level)
{
	return level == 1 || (e & PTE_PS);
}

static hpa_t npt_address(u64 e, u32 level)
{
	/* large leaves keep the PAT bit at bit 12 (APM2 5.3.4): mask it off */
	if (level > 1 && (e & PTE_PS))
		return e & PTE_ADDR_MASK & ~(PT_LEVEL_SIZE(level) - 1);
	return e & PTE_ADDR_MASK;
}

static u32 npt_perms(u64 e, u32 level)
{
	(void)level;
	return PT_R | ((e & PTE_W) ? PT_W : 0) | ((e & PTE_NX) ? 0 : PT_X) |
	       ((e & NPT_OWNED) ? PT_OWNED : 0) | ((e & PTE_PCD) ? PT_UC : 0);
}

/* 1 GiB leaves only where the CPU has them (svm_cpu_enable clears the bit otherwise). */
struct pt_format npt_format = {
	.name = "NPT",
	.levels = 4,
	.leaf_levels = BIT(0) | BIT(1) | BIT(2),
	.table_entry = npt_table_entry,
	.leaf_entry = npt_leaf_entry,
	.present = npt_present,
	.is_leaf = npt_is_leaf,
	.address = npt_address,
	.perms = npt_perms,
};

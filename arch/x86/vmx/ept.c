// SPDX-License-Identifier: MIT
/*
 * The EPT format for core/pagetable.c: 4 levels, leaves of 4 KiB and 2 MiB,
 * write-back memory (uncached for PT_UC mappings), SDM 3C 29.3.2 tables
 * 29-1 to 29-6. And, for an EPT misconfiguration exit, which entry on the
 * walk of the faulting address is wrong and why.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx.h>
#include <lib/format.h>
#include <keel/memory.h>
#include <keel/pagetable.h>

#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_MEMTYPE_SHIFT 3 /* leaves: bits 5:3 */
#define EPT_MEMTYPE_MASK (7ULL << EPT_MEMTYPE_SHIFT)
#define EPT_LARGE BIT(7)
#define EPT_OWNED BIT(52) /* "ignored" by the CPU (tables 29-1 to 29-6): Keel's own mark */
#define EPT_ADDR_MASK GENMASK(51, 12)

static u64 ept_table_entry(hpa_t next, u32 level)
{
	(void)level;
	return next | EPT_R | EPT_W | EPT_X;
}

static u64 ept_leaf_entry(hpa_t pa, u32 level, u32 perms)
{
	u64 type = (perms & PT_UC) ? MEMTYPE_UC : MEMTYPE_WB;
	u64 e = pa | (type << EPT_MEMTYPE_SHIFT);

	if (level > 1)
		e |= EPT_LARGE;
	if (perms & (PT_R | PT_W))
		e |= EPT_R; /* write without read is a misconfiguration (29.3.3.1) */
	if (perms & PT_W)
		e |= EPT_W;
	if (perms & PT_X)
		e |= EPT_X;
	if (perms & PT_OWNED)
		e |= EPT_OWNED;
	return e;
}

static bool ept_present(u64 e)
{
	return e & (EPT_R | EPT_W | EPT_X);
}

static bool ept_is_leaf(u64 e, u32 level)
{
	return level == 1 || (e & EPT_LARGE);
}

static hpa_t ept_address(u64 e, u32 level)
{
	if (level > 1 && (e & EPT_LARGE))
		return e & EPT_ADDR_MASK & ~(PT_LEVEL_SIZE(level) - 1);
	return e & EPT_ADDR_MASK;
}

static u32 ept_perms(u64 e, u32 level)
{
	(void)level;
	return ((e & EPT_R) ? PT_R : 0) | ((e & EPT_W) ? PT_W : 0) | ((e & EPT_X) ? PT_X : 0) |
	       ((e & EPT_OWNED) ? PT_OWNED : 0) |
	       (((e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT) == MEMTYPE_UC ? PT_UC : 0);
}

const struct pt_format ept_format = {
	.name = "EPT",
	.levels = 4,
	.leaf_levels = BIT(0) | BIT(1),
	.table_entry = ept_table_entry,
	.leaf_entry = ept_leaf_entry,
	.present = ept_present,
	.is_leaf = ept_is_leaf,
	.address = ept_address,
	.perms = ept_perms,
};

/* What is wrong with one present entry (SDM 3C 29.3.3.1), or NULL. */
static const char *misconfig(u64 e, u32 level, u64 caps)
{
	u64 type = (e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT;
	bool leaf = ept_is_leaf(e, level);

	if ((e & EPT_W) && !(e & EPT_R))
		return "writable but not readable";
	if ((e & (EPT_R | EPT_W | EPT_X)) == EPT_X && !(caps & EPT_CAP_EXEC_ONLY))
		return "execute-only, which this CPU does not support";
	if (level == 4 && (e & EPT_LARGE))
		return "a large page at the PML4 level";
	if (leaf && !memtype_valid(type))
		return "a reserved memory type";
	if (leaf && level == 3 && !(caps & EPT_CAP_1G))
		return "a 1 GiB page, which this CPU does not support";
	if (!leaf && (e & EPT_MEMTYPE_MASK))
		return "reserved bits 5:3 set in a non-leaf entry";
	return NULL;
}

void ept_explain_misconfig(hpa_t root, u64 gpa, char *buf, size_t len)
{
	const u64 *table = phys_to_virt(root);

	for (u32 level = 4; level >= 1; level--) {
		u64 e = table[(gpa >> PT_LEVEL_SHIFT(level)) & 511];
		const char *why;

		if (!ept_present(e))
			break;
		why = misconfig(e, level, vmx_caps.ept_vpid);
		if (why) {
			format_snprintf(buf, len, "level %u entry %llx is %s", level,
					(unsigned long long)e, why);
			return;
		}
		if (ept_is_leaf(e, level))
			break;
		table = phys_to_virt(e & EPT_ADDR_MASK);
	}
	format_snprintf(buf, len,
			"no bad entry found on the walk (reserved physical-address bits?)");
}

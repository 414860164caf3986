// SPDX-License-Identifier: MIT
/*
 * Unit tests for AMD-Vi's I/O page tables and device table entries
 * (iommu/amd/amd_pt.c) over the one walker: the entries as the spec lays
 * them out, and a model of the IOMMU's own walk (AMD IOMMU 3.08 2.2.3, as
 * QEMU's amd-iommu does it: from the DTE's Mode down through each entry's
 * NextLevel, R and W checked at every level) that must translate what the
 * walker mapped and refuse the rest.
 */
#include "test.h"
#include "iommu/amd/amd_regs.h"

extern long fake_pages_live;

/* QEMU 7.2's reserved device table bits (an entry with any set is refused as illegal). */
#define QEMU_DTE0_RESERVED 0x80300000000000fcULL
#define QEMU_DTE1_RESERVED 0x0000000000000100ULL
#define QEMU_DTE2_RESERVED 0x08f0000000000000ULL

enum walk_result { WALK_OK, WALK_REFUSED, WALK_BROKEN };

/*
 * The IOMMU's walk of one access: *pa gets the address it reaches. The
 * entry's level comes from the one above (DTE Mode, then NextLevel); a
 * NextLevel of 0 is a page the size of its level.
 */
static enum walk_result walk(const u64 dte[4], u64 iova, bool write, u64 *pa)
{
	u64 need = write ? AMD_PTE_IW : AMD_PTE_IR, e = dte[0];
	u32 level = (u32)((dte[0] & AMD_DTE_MODE_MASK) >> AMD_DTE_MODE_SHIFT);

	if (!(dte[0] & AMD_DTE_V))
		return WALK_BROKEN; /* untranslated: would pass */
	if (!(dte[0] & need))
		return WALK_REFUSED;
	if (!level) /* Mode 0: no tables, IR and IW decide */
		return WALK_REFUSED;
	if (level > 6 || (iova >> PT_LEVEL_SHIFT(level + 1)))
		return WALK_BROKEN;
	for (u32 n = 0; n < 8; n++) {
		const u64 *table = (const u64 *)(uintptr_t)(e & AMD_PTE_ADDR);
		u32 next;

		e = table[(iova >> PT_LEVEL_SHIFT(level)) & 511];
		if (!(e & AMD_PTE_PR) || !(e & need))
			return WALK_REFUSED;
		next = (u32)((e & AMD_PTE_NEXT_MASK) >> AMD_PTE_NEXT_SHIFT);
		if (!next) {
			u64 span = PT_LEVEL_SIZE(level);

			if ((e & AMD_PTE_ADDR) & (span - 1))
				return WALK_BROKEN; /* a large page's address not aligned */
			*pa = (e & AMD_PTE_ADDR) + (iova & (span - 1));
			return WALK_OK;
		}
		if (next != level - 1)
			return WALK_BROKEN; /* Keel never skips levels */
		level = next;
	}
	return WALK_BROKEN;
}

static struct page_table pt;
static u64 dte[4];

static void setup(void)
{
	CHECK_EQ(pt_init(&pt, &amd_format, NULL), 0);
	pt.defer_frees = true;
	amd_dte_translated(dte, pt.root, amd_format.levels, 7);
}

static void teardown(void)
{
	pt_destroy(&pt);
	CHECK_EQ(fake_pages_live, 0);
}

TEST(device_table_entries_as_the_manual_lays_them_out)
{
	u64 d[4] = { ~0ULL, ~0ULL, ~0ULL, ~0ULL };
	u64 pa;

	amd_dte_translated(d, 0x12345000, 4, 0xab);
	CHECK_EQ(d[0], AMD_DTE_V | AMD_DTE_TV | (4ULL << 9) | 0x12345000 | BIT(61) | BIT(62));
	CHECK_EQ(d[1], 0xab); /* DomainID, bits 79:64 */
	CHECK_EQ(d[2], 0);    /* IV = 0: no interrupt remapping here */
	CHECK_EQ(d[3], 0);
	CHECK_EQ(d[0] & QEMU_DTE0_RESERVED, 0);
	CHECK_EQ(d[1] & QEMU_DTE1_RESERVED, 0);
	amd_dte_blocked(d);
	CHECK_EQ(d[0], BIT(0) | BIT(1)); /* V, TV; Mode 0, IR = IW = 0 */
	CHECK_EQ(d[1] | d[2] | d[3], 0);
	CHECK_EQ(walk(d, 0x1000, false, &pa), WALK_REFUSED);
	CHECK_EQ(walk(d, 0x1000, true, &pa), WALK_REFUSED);
	CHECK_EQ(d[2] & QEMU_DTE2_RESERVED, 0);
}

TEST(page_entries_as_the_manual_lays_them_out)
{
	const u64 *l4, *l3, *l2, *l1;
	u64 e;

	setup();
	CHECK_EQ(pt_map(&pt, 0x40201000, 0x7654321000, 4096, PT_R), 0);
	l4 = (const u64 *)(uintptr_t)pt.root;
	e = l4[0];
	CHECK_EQ(e & ~AMD_PTE_ADDR, AMD_PTE_PR | (3ULL << 9) | AMD_PTE_IR | AMD_PTE_IW);
	l3 = (const u64 *)(uintptr_t)(e & AMD_PTE_ADDR);
	e = l3[1];
	CHECK_EQ(e & ~AMD_PTE_ADDR, AMD_PTE_PR | (2ULL << 9) | AMD_PTE_IR | AMD_PTE_IW);
	l2 = (const u64 *)(uintptr_t)(e & AMD_PTE_ADDR);
	e = l2[1];
	CHECK_EQ(e & ~AMD_PTE_ADDR, AMD_PTE_PR | (1ULL << 9) | AMD_PTE_IR | AMD_PTE_IW);
	l1 = (const u64 *)(uintptr_t)(e & AMD_PTE_ADDR);
	/* a page: NextLevel 0, read only, force coherent */
	CHECK_EQ(l1[1], 0x7654321000ULL | AMD_PTE_PR | AMD_PTE_FC | AMD_PTE_IR);
	CHECK_EQ(amd_format.perms(l1[1], 1), PT_R);
	CHECK_EQ(amd_format.perms(amd_format.leaf_entry(0x1000, 1, PT_RWX | PT_OWNED), 1),
		 PT_R | PT_W | PT_OWNED);
	CHECK_EQ(amd_format.leaf_entry(0x1000, 1, PT_OWNED) & ~(AMD_PTE_PR | AMD_PTE_FC | 0x1000),
		 BIT(1)); /* Keel's mark in an ignored bit, and no permission */
	teardown();
}

TEST(large_pages_are_next_level_zero_at_levels_2_and_3)
{
	const u64 *l3, *l2;
	u64 pa, size;

	setup();
	CHECK_EQ(pt_map(&pt, 0x40000000, 0x40000000, 1ULL << 30, PT_R | PT_W), 0);
	CHECK_EQ(pt_map(&pt, 0x80200000, 0x80200000, 2 << 20, PT_R | PT_W), 0);
	l3 = (const u64 *)(uintptr_t)(((const u64 *)(uintptr_t)pt.root)[0] & AMD_PTE_ADDR);
	CHECK_EQ(l3[1], 0x40000000ULL | AMD_PTE_PR | AMD_PTE_FC | AMD_PTE_IR | AMD_PTE_IW);
	l2 = (const u64 *)(uintptr_t)(l3[2] & AMD_PTE_ADDR);
	CHECK_EQ(l2[1], 0x80200000ULL | AMD_PTE_PR | AMD_PTE_FC | AMD_PTE_IR | AMD_PTE_IW);
	CHECK(pt_lookup(&pt, 0x4abcd123, &pa, NULL, &size));
	CHECK_EQ(pa, 0x4abcd123);
	CHECK_EQ(size, 1ULL << 30);
	CHECK_EQ(walk(dte, 0x4abcd123, true, &pa), WALK_OK);
	CHECK_EQ(pa, 0x4abcd123);
	CHECK_EQ(walk(dte, 0x803fffff, true, &pa), WALK_OK);
	CHECK_EQ(pa, 0x803fffff);
	CHECK_EQ(walk(dte, 0x80400000, false, &pa), WALK_REFUSED);
	teardown();
}

/* An identity map of a service VM's RAM, a hole punched in it, read-only parts: as the IOMMU sees it. */
TEST(the_iommu_walk_translates_what_was_mapped_and_refuses_the_rest)
{
	static const u64 probes[] = { 0x0,	  0xfff,      0x100000,	  0x1ff000,   0x200000,
				      0x3fffffff, 0x40000000, 0x2ffff000, 0x30000000, 0x30001000,
				      0x7ffff000, 0x80000000, 0xfed80000, 0x100000000 };
	u64 pa;

	setup();
	CHECK_EQ(pt_map(&pt, 0x100000, 0x100000, 0x2ff00000, PT_R | PT_W), 0); /* 1 MiB-768 MiB */
	CHECK_EQ(pt_map(&pt, 0x40000000, 0x40000000, 0x40000000, PT_R | PT_W), 0);
	CHECK_EQ(pt_unmap(&pt, 0x30000000, 4096), 0); /* not there: nothing changes */
	CHECK_EQ(pt_unmap(&pt, 0x200000, 0x1000), 0); /* splits a 2 MiB page */
	CHECK_EQ(pt_map(&pt, 0x40300000, 0x40300000, 0x1000, PT_R), 0);
	for (u32 i = 0; i < ARRAY_SIZE(probes); i++) {
		u64 a = probes[i];
		bool ram = (a >= 0x100000 && a < 0x30000000 && (a < 0x200000 || a >= 0x201000)) ||
			   (a >= 0x40000000 && a < 0x80000000);

		CHECK_EQ(walk(dte, a, false, &pa), ram ? WALK_OK : WALK_REFUSED);
		if (ram)
			CHECK_EQ(pa, a);
		CHECK_EQ(walk(dte, a, true, &pa), ram ? WALK_OK : WALK_REFUSED);
	}
	CHECK_EQ(walk(dte, 0x200000, false, &pa), WALK_REFUSED);
	CHECK_EQ(walk(dte, 0x201000, true, &pa), WALK_OK);
	CHECK_EQ(walk(dte, 0x40300000, false, &pa), WALK_OK);
	CHECK_EQ(walk(dte, 0x40300000, true, &pa), WALK_REFUSED); /* read-only */
	CHECK_EQ(walk(dte, 0x40301000, true, &pa), WALK_OK);	  /* its neighbours are not */
	CHECK_EQ(walk(dte, 1ULL << 48, false, &pa), WALK_BROKEN); /* past 4 levels */
	CHECK_EQ(pt_unmap(&pt, 0x40000000, 0x40000000), 0);
	CHECK_EQ(walk(dte, 0x40301000, false, &pa), WALK_REFUSED);
	teardown();
}

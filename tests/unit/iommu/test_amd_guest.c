// SPDX-License-Identifier: MIT
/*
 * A guest VM's DMA domain on AMD-Vi (vmm/vm_gpa.c, iommu/iommu.c, iommu/amd/)
 * against the model of a unit (amd_model.c): the domain maps exactly the
 * guest's RAM at its guest-physical addresses, as the unit's own walk of the
 * I/O page tables finds it; the VM's teardown leaves nothing mapped, and no
 * table page nor RAM page goes back to the pool before an
 * INVALIDATE_IOMMU_PAGES of the domain's every page has completed
 * (guest_dma.c).
 */
#include "test.h"
#include "amd_model.h"
#include "guest_dma.h"

/*
 * 2.2.3: a present entry (PR) with NextLevel 0 is a page of its level's
 * size; otherwise it points at the next level's table. IR and IW: 61, 62.
 */
static u32 walk(u64 table, u32 level, u64 base, struct hw_leaf *out, u32 n, u32 max)
{
	const u64 *t = (const u64 *)(uintptr_t)table;

	for (u32 i = 0; i < 512 && n < max; i++) {
		u64 e = t[i], size = 1ULL << (12 + 9 * (level - 1)), iova = base + i * size;
		u32 next = (u32)(e >> 9) & 7;

		if (!(e & 1))
			continue;
		if (next == 0)
			out[n++] = (struct hw_leaf){ iova, e & GENMASK(51, 12) & ~(size - 1), size,
						     (e >> 61) & 1, (e >> 62) & 1 };
		else if (next == level - 1)
			n = walk(e & GENMASK(51, 12), level - 1, iova, out, n, max);
		else
			CHECK_EQ(next, level - 1); /* levels are not skipped here */
	}
	return n;
}

u32 hw_walk(hpa_t root, struct hw_leaf *out, u32 max)
{
	return walk(root, 4, 0, out, 0, max);
}

u32 hw_mark(void)
{
	return hw.nr_cmds;
}

/* 2.4.3: INVALIDATE_IOMMU_PAGES of did, every page and the directory entries; then a wait. */
bool hw_domain_invalidated(u32 mark, u16 did)
{
	for (u32 i = mark; i < hw.nr_cmds; i++) {
		const u64 *c = hw.cmd[i];

		if (c[0] >> 60 == 8) /* INVALIDATE_IOMMU_ALL */
			goto waited;
		if (c[0] >> 60 != 3 || ((c[0] >> 32) & 0xffff) != did ||
		    (c[1] & ~0xfffULL) != 0x7ffffffffffff000ULL || !(c[1] & 1) || !(c[1] & 2))
			continue;
	waited:
		for (u32 j = i + 1; j < hw.nr_cmds; j++)
			if (hw.cmd[j][0] >> 60 == 1)
				return true;
	}
	return false;
}

void hw_stall(bool on)
{
	hw.stall = on; /* the driver stops using a unit that timed out: nothing runs after */
}

static struct vm guest;
static struct iommu_domain *svc;

TEST(a_guest_domain_maps_exactly_its_ram)
{
	hw.efr = 0x29d3; /* QEMU 7.2's: PreF PPR GT IA GA HE */
	load_ivrs();
	CHECK(iommu_init(&ai));
	svc = service_domain();
	guest_add_ram(&guest, "g1");
	check_domain_is_the_ram(&guest);
	check_service_domain_unchanged(svc);
	CHECK_EQ(hw.errors, 0);
}

TEST(the_vm_going_leaves_nothing_mapped_and_frees_after_the_invalidation)
{
	check_teardown(&guest);
	check_service_domain_unchanged(svc);
	CHECK_EQ(hw.errors, 0);
}

TEST(a_domain_with_a_function_is_not_destroyed)
{
	struct iommu_domain *d = iommu_domain_create("busy");

	CHECK(d);
	CHECK_EQ(iommu_attach(d, 0, 0x0010), 0); /* 00:02.0, in the IVHD */
	CHECK_EQ(iommu_domain_destroy(d), -EBUSY);
	CHECK(d->pt.root);
	CHECK_EQ(iommu_attach(NULL, 0, 0x0010), 0);
}

/* Last: a unit whose commands time out is used no more. */
TEST(a_teardown_whose_invalidation_fails_keeps_the_memory)
{
	static struct vm g2;

	guest_add_ram(&g2, "g2");
	check_domain_is_the_ram(&g2);
	check_failed_teardown(&g2);
}

// SPDX-License-Identifier: MIT
/*
 * A guest VM's DMA domain on VT-d (vmm/vm_gpa.c, iommu/iommu.c, iommu/vtd/)
 * against the model of a unit (vtd_model.c): the domain maps exactly the
 * guest's RAM at its guest-physical addresses, as the unit's own walk of the
 * second-level tables finds it; the VM's teardown leaves nothing mapped, and
 * no table page nor RAM page goes back to the pool before the unit has
 * dropped the domain's cached translations (guest_dma.c).
 */
#include "test.h"
#include "guest_dma.h"
#include "vtd_model.h"

/* AMD-Vi's registers, linked beside (iommu.c names both drivers); its tests never get there. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0"; /* the failed teardown keeps its pages on purpose */
}

/* VT-d 4.1 9.8: a second-level entry, its R and W bits, a page at level 2 or 3 if PS. */
static u32 walk(u64 table, u32 level, u64 base, struct hw_leaf *out, u32 n, u32 max)
{
	const u64 *t = (const u64 *)(uintptr_t)table;

	for (u32 i = 0; i < 512 && n < max; i++) {
		u64 e = t[i], size = 1ULL << (12 + 9 * (level - 1)), iova = base + i * size;

		if (!(e & (VTD_SL_R | VTD_SL_W)))
			continue;
		if (level == 1 || (e & VTD_SL_PS))
			out[n++] = (struct hw_leaf){ iova, e & VTD_SL_ADDR & ~(size - 1), size,
						     e & VTD_SL_R, e & VTD_SL_W };
		else
			n = walk(e & VTD_SL_ADDR, level - 1, iova, out, n, max);
	}
	return n;
}

u32 hw_walk(hpa_t root, struct hw_leaf *out, u32 max)
{
	return walk(root, 3, 0, out, 0, max); /* the model's unit: 39-bit, 3 levels */
}

u32 hw_mark(void)
{
	return hw.nr_desc;
}

/* 6.5.2.3: a domain-selective (or global) IOTLB invalidation, then a wait descriptor done. */
bool hw_domain_invalidated(u32 mark, u16 did)
{
	for (u32 i = mark; i < hw.nr_desc; i++) {
		u64 d = hw.desc[i][0];

		if ((d & 0xf) != VTD_INV_IOTLB)
			continue;
		if ((d & (3ULL << 4)) != VTD_INV_G_GLOBAL &&
		    ((d & (3ULL << 4)) != VTD_INV_G_DOMAIN || ((d >> 16) & 0xffff) != did))
			continue;
		for (u32 j = i + 1; j < hw.nr_desc; j++)
			if ((hw.desc[j][0] & 0xf) == VTD_INV_WAIT)
				return true;
	}
	return false;
}

void hw_stall(bool on)
{
	hw.stall = on;
	if (!on)
		queue_run();
}

static struct vm guest;
static struct iommu_domain *svc;

TEST(a_guest_domain_maps_exactly_its_ram)
{
	hw_reset();
	hw.cap &= ~7ULL; /* CAP.ND 0: 16 domain ids, 0 to 15 (QEMU's unit has 256) */
	load_dmar();
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
	CHECK_EQ(iommu_attach(d, 0, 0x0010), 0); /* 00:02.0 */
	CHECK_EQ(iommu_domain_destroy(d), -EBUSY);
	CHECK(d->pt.root);
	CHECK_EQ(iommu_attach(NULL, 0, 0x0010), 0);
}

TEST(a_domain_id_the_unit_lacks_is_never_attached)
{
	struct iommu_domain *d[IOMMU_MAX_DOMAINS];
	u32 n = 0;

	while (n < IOMMU_MAX_DOMAINS && (d[n] = iommu_domain_create("many")) && d[n]->id < 16)
		n++;
	CHECK(n < IOMMU_MAX_DOMAINS && d[n] && d[n]->id == 16);
	if (n < IOMMU_MAX_DOMAINS && d[n]) {
		CHECK_EQ(iommu_attach(d[n], 0, 0x0010), -ENOSPC);
		CHECK_EQ(iommu_domain_destroy(d[n]), 0);
	}
	while (n-- > 0)
		CHECK_EQ(iommu_domain_destroy(d[n]), 0);
	CHECK_EQ(hw.errors, 0);
}

/* Last: the stalled queue's descriptors are still in it afterwards. */
TEST(a_teardown_whose_invalidation_fails_keeps_the_memory)
{
	static struct vm g2;

	guest_add_ram(&g2, "g2");
	check_domain_is_the_ram(&g2);
	check_failed_teardown(&g2);
}

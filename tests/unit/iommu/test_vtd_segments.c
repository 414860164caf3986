// SPDX-License-Identifier: MIT
/*
 * The VT-d driver with two units on two PCI segments: each segment gets its
 * own interrupt remapping table (a requester id carries no segment, VT-d
 * 4.1 9.10, so one shared table would let 0001:00:03.0 use the entries of
 * 0000:00:03.0), its entries invalidated on its own units only. Its own
 * binary, as the driver starts once.
 */
#include "test.h"
#include "vtd_model.h"

extern char fake_log_all[];

static const u64 *irte_of(const struct vtd_model *m, u32 index)
{
	return &((const u64 *)(uintptr_t)(m->irt & ~0xfffULL))[2 * index];
}

TEST(each_segment_gets_its_own_interrupt_remapping_table)
{
	struct iommu_irq a = { .seg = 0, .bdf = 0x0018, .vector = 0x40 };
	struct iommu_irq b = { .seg = 1, .bdf = 0x0018, .vector = 0x41, .apic_id = 1 };
	struct iommu_irq c = { .seg = 2, .bdf = 0x0018, .vector = 0x42 };
	struct iommu_msi msg;
	u32 ha = 0, hb = 0, hc = 0, mark0, mark1;

	hw_reset();
	hw1.cap = hw.cap;
	hw1.ecap = hw.ecap;
	load_dmar_two_segments();
	CHECK(iommu_init(&ai));
	CHECK(iommu_irq_remapping());
	CHECK(hw.irt && hw1.irt);
	CHECK((hw.irt & ~0xfffULL) != (hw1.irt & ~0xfffULL)); /* two tables */
	CHECK(strstr(fake_log_all, "VT-d interrupt remapping on"));
	CHECK_EQ(iommu_irq_compose(&a, &ha, &msg), 0);
	mark0 = hw.nr_desc;
	mark1 = hw1.nr_desc;
	CHECK_EQ(iommu_irq_compose(&b, &hb, &msg), 0);
	/* the same requester id on segment 1: an entry in segment 1's table only */
	CHECK(ha && hb && ha != hb);
	CHECK_EQ(msg.addr, vtd_irte_msi_addr(0) | VTD_MSI_SHV); /* index 0 of its own table */
	CHECK_EQ(irte_of(&hw1, 0)[0], vtd_irte_lo(0x41, 1, false, false));
	CHECK_EQ(irte_of(&hw1, 0)[1], vtd_irte_hi(0x0018));
	CHECK_EQ(irte_of(&hw, 0)[0], vtd_irte_lo(0x40, 0, false, false));
	CHECK_EQ(irte_of(&hw, 1)[0], 0);
	/* invalidated on segment 1's unit, not segment 0's */
	CHECK_EQ(count_desc(mark0, VTD_INV_IEC), 0);
	CHECK_EQ(hw1.nr_desc, mark1 + 2);
	CHECK_EQ(hw1.desc[mark1][0], VTD_INV_IEC | VTD_INV_IEC_INDEX | VTD_INV_IEC_IIDX(0));
	/* freed on its own table, the other's entry untouched */
	iommu_irq_free(&hb);
	CHECK_EQ(irte_of(&hw1, 0)[0] & VTD_IRTE_P, 0);
	CHECK(irte_of(&hw, 0)[0] & VTD_IRTE_P);
	CHECK_EQ(hw1.nr_desc, mark1 + 4);
	/* no unit remaps segment 2: no entry */
	CHECK_EQ(iommu_irq_compose(&c, &hc, &msg), -ENODEV);
	CHECK_EQ(hc, 0);
	iommu_irq_free(&ha);
	CHECK_EQ(hw.errors + hw1.errors, 0);
}

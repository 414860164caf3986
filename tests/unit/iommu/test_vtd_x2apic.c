// SPDX-License-Identifier: MIT
/*
 * The VT-d driver started on x2APIC CPUs whose APIC ids exceed 255, with
 * extended interrupt mode on every unit: entries carry 32-bit destinations
 * (IRTA.EIME, VT-d 4.1 9.10). Its own binary, as the driver starts once;
 * test_vtd_no_eim.c is the same start without EIM.
 */
#include "test.h"
#include "vtd_model.h"

extern char fake_log_all[];

TEST(x2apic_cpus_get_32_bit_destinations_where_every_unit_has_eim)
{
	struct iommu_irq irq = { .bdf = 0x0018, .vector = 0x40, .apic_id = 0x1234 };
	struct iommu_msi msg;
	u32 handle = 0;
	const u64 *e;

	hw_reset();
	hw.ecap |= VTD_ECAP_EIM;
	x2apic = true;
	load_dmar();
	ai.nr_cpus = 2;
	ai.cpus[1].apic_id = 0x1234;
	CHECK(iommu_init(&ai));
	CHECK(iommu_irq_remapping());
	CHECK(hw.irt & VTD_IRTA_EIME);
	CHECK(strstr(fake_log_all,
		     "VT-d interrupt remapping on: 256 entries, 32-bit destinations"));
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	e = &((const u64 *)(uintptr_t)(hw.irt & ~0xfffULL))[2 * (handle - 1)];
	CHECK_EQ(e[0] >> 32, 0x1234); /* the whole id, in DST[31:0] */
	CHECK_EQ(e[0], vtd_irte_lo(0x40, 0x1234, false, true));
	CHECK_EQ(hw.errors, 0);
}

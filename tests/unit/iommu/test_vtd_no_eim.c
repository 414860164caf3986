// SPDX-License-Identifier: MIT
/*
 * The VT-d driver started on x2APIC CPUs whose APIC ids exceed 255, on a unit
 * without extended interrupt mode: remapping stays off and says why, rather
 * than send interrupts to the wrong CPU (an 8-bit destination cannot name
 * them); DMA remapping is on all the same. The unit also lacks page-selective
 * invalidation (CAP.PSI), so a range is invalidated domain-wide.
 */
#include "test.h"
#include "vtd_model.h"

extern char fake_log_all[];
void fake_log_clear(void);

TEST(apic_ids_past_255_without_eim_leave_remapping_off_and_say_so)
{
	struct iommu_irq irq = { .bdf = 0x0018, .vector = 0x40, .apic_id = 1 };
	struct iommu_msi msg;
	u32 handle = 0;

	hw_reset(); /* no ECAP.EIM */
	hw.cap &= ~VTD_CAP_PSI;
	x2apic = true;
	load_dmar();
	ai.nr_cpus = 2;
	ai.cpus[1].apic_id = 300;
	CHECK(iommu_init(&ai)); /* DMA remapping on all the same */
	CHECK(!iommu_irq_remapping());
	CHECK_EQ(hw.gsts & VTD_GCMD_IRE, 0);
	CHECK_EQ(hw.irt, 0);
	CHECK(strstr(fake_log_all,
		     "VT-d interrupt remapping off (APIC ids above 255 need extended "
		     "interrupt mode (x2APIC), which is not there): a device can send "
		     "any interrupt"));
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0); /* compatibility format */
	CHECK_EQ(handle, 0);
	CHECK_EQ(msg.addr, 0xfee01000ULL);
	CHECK_EQ(msg.data, 0x40);
	CHECK_EQ(hw.errors, 0);
}

TEST(a_boot_cpu_past_apic_id_255_gets_no_fault_interrupt_and_faults_are_polled)
{
	fake_log_clear();
	iommu_fault_irq_init(0xe9, 300);
	CHECK(strstr(fake_log_all, "iommu: VT-d fault interrupt not set up (the CPU's APIC id is "
				   "above 255): faults polled by the boot CPU"));
	CHECK(hw.fectl & VTD_FECTL_IM);
	record(0, 0x5000, 0x0010, 5, false);
	CHECK_EQ(hw.fault_events, 0);
	iommu_poll_faults(); /* no interrupt: every round reads */
	CHECK(strstr(fake_log_all, "DMA fault: 0000:00:02.0 (no domain: blocked) write to 0x5000"));
}

TEST(without_psi_a_range_is_invalidated_domain_wide)
{
	struct iommu_domain *d = iommu_domain_create("service");
	u32 mark;

	CHECK(d);
	CHECK_EQ(iommu_map(d, 0x40000000, 0x40000000, 4096, PT_R), 0);
	mark = hw.nr_desc;
	CHECK_EQ(iommu_unmap(d, 0x40000000, 4096), 0);
	CHECK_EQ(count_desc(mark, VTD_INV_IOTLB), 1);
	CHECK_EQ(hw.desc[mark][0], VTD_INV_IOTLB | VTD_INV_G_DOMAIN | VTD_INV_IOTLB_DR |
					   VTD_INV_IOTLB_DW | VTD_INV_DID(d->id));
	CHECK_EQ(hw.errors, 0);
}

// SPDX-License-Identifier: MIT
/*
 * The AMD-Vi driver started on x2APIC CPUs whose APIC ids exceed 255, on a
 * unit without XTSup: remapping stays off and says why, rather than send
 * interrupts to the wrong CPU (a 32-bit entry's destination has 8 bits);
 * DMA remapping is on all the same, and the device table leaves interrupts
 * as they come (IV = 0) since Keel's messages are then unremapped.
 */
#include "test.h"
#include "amd_model.h"

extern char fake_log_all[];

TEST(apic_ids_past_255_without_xt_leave_remapping_off_and_say_so)
{
	struct iommu_irq irq = { .bdf = 0x0010, .vector = 0x40, .apic_id = 1 };
	struct iommu_msi msg;
	u32 handle = 0;

	hw.efr = 0x29d3; /* QEMU 7.2's: GASup without XTSup */
	x2apic = true;
	load_ivrs();
	ai.nr_cpus = 2;
	ai.cpus[1].apic_id = 300;
	CHECK(iommu_init(&ai)); /* DMA remapping on all the same */
	CHECK(!iommu_irq_remapping());
	CHECK(strstr(fake_log_all, "AMD-Vi interrupt remapping off (APIC ids above 255 need "
				   "x2APIC-format entries (XTSup and GASup), which are not there): "
				   "a device can send any interrupt"));
	CHECK_EQ(hw.ctrl & (AMD_CTRL_GA_EN | AMD_CTRL_XT_EN), 0);
	CHECK_EQ(dte_of(0x0010)[2], 0);
	/* compatibility format, as without an IOMMU */
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(handle, 0);
	CHECK_EQ(msg.addr, 0xfee01000);
	CHECK_EQ(msg.data, 0x40);
	CHECK_EQ(hw.errors, 0);
}

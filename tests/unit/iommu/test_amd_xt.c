// SPDX-License-Identifier: MIT
/*
 * The AMD-Vi driver started on x2APIC CPUs whose APIC ids exceed 255, on a
 * unit with XTSup and GASup: remapping entries are 128 bits (GAEn) with
 * 32-bit destinations (XTEn), GuestMode 0 (AMD IOMMU 3.08 2.2.5.2). Its own
 * binary, as the driver starts once; test_amd_no_xt.c is the same start
 * without XTSup.
 */
#include "test.h"
#include "amd_model.h"

extern char fake_log_all[];

TEST(x2apic_cpus_get_128_bit_entries_with_32_bit_destinations_where_the_unit_has_xt)
{
	struct iommu_irq irq = { .bdf = 0x0010, .vector = 0x40, .apic_id = 0x1234 };
	struct iommu_msi msg;
	u32 handle = 0, mark;
	u64 want[2];
	const u64 *e;

	hw.efr = 0x29d3 | AMD_EFR_XT; /* QEMU 7.2's, and XTSup */
	x2apic = true;
	load_ivrs();
	ai.nr_cpus = 2;
	ai.cpus[1].apic_id = 0x1234;
	CHECK(iommu_init(&ai));
	CHECK(iommu_irq_remapping());
	CHECK(strstr(fake_log_all, "AMD-Vi interrupt remapping on: a table of 256 entries per "
				   "device id, 32-bit destinations"));
	/* GAEn and XTEn in the one write that turns the unit on; no guest virtual APIC */
	CHECK(hw.ctrl & AMD_CTRL_GA_EN);
	CHECK(hw.ctrl & AMD_CTRL_XT_EN);
	CHECK_EQ(hw.ctrl & GENMASK(55, 53), 0);
	CHECK_EQ(hw.nr_ctrl_writes, 1);
	mark = hw.nr_cmds;
	hw.watch_index = 0x40;
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(msg.addr, 0xfee00000);
	CHECK_EQ(msg.data, 0x40);
	e = (const u64 *)(uintptr_t)(dte_of(0x0010)[2] & AMD_DTE_INT_TAB_ROOT) + 2 * 0x40;
	amd_irte128(want, 0x40, 0x1234);
	CHECK_EQ(e[0], want[0]);
	CHECK_EQ(e[1], want[1]);
	CHECK_EQ((e[0] >> 8) & 0xffffff, 0x1234); /* the whole id: nothing truncated */
	CHECK_EQ(e[0] & AMD_IRTE_GUEST_MODE, 0);
	CHECK_EQ((u8)e[1], 0x40);
	CHECK_EQ(hw.cmd[mark + 3][0], AMD_CMD_INV_INT_TABLE | 0x0010);
	CHECK_EQ(hw.irte_at[mark + 3], want[0]); /* written before its invalidation */
	/* ids past 24 bits: the top byte in bits 127:120 */
	irq.apic_id = 0xab000001;
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(e[0] >> 8 & 0xffffff, 1);
	CHECK_EQ(e[1] >> 56, 0xab);
	iommu_irq_free(&handle);
	CHECK_EQ(e[0], 0);
	CHECK_EQ(e[1], 0);
	monitor_out[0] = 0;
	amd_driver.report();
	CHECK(strstr(monitor_out, "0 entries in 1 device ids' tables of 256, 32-bit destinations"));
	CHECK_EQ(hw.errors, 0);
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for the AMD-Vi driver and the generic IOMMU layer (iommu/iommu.c,
 * iommu/amd/) against a model of one unit behind the register accessors:
 * the take-over from firmware that left it on, the device table whose every
 * entry blocks, the command buffer and its COMPLETION_WAITs, device table
 * entries blocked and invalidated before they move, the event log read,
 * logged once and restarted after an overflow, and interrupt remapping: a
 * table per device id, its 32-bit entries and the device table entry's
 * interrupt fields, each change invalidated before it is relied on, the
 * I/O APIC's table under the device id the IVRS gives it.
 */
#include "test.h"
#include "amd_model.h"
#include <arch/x86/apic_regs.h>
#include <keel/pci.h>
#include <lib/pci_regs.h>

extern char fake_log_all[];
void fake_log_clear(void);
extern long fake_pages_live;

/* Only once, as the driver keeps its units: later tests build on this one's state. */
TEST(a_unit_left_on_by_the_firmware_is_taken_over)
{
	hw.efr = 0x29d3; /* QEMU 7.2's: PreF PPR GT IA GA HE */
	hw.ctrl = AMD_CTRL_IOMMU_EN | AMD_CTRL_CMD_BUF_EN | AMD_CTRL_EVENT_LOG_EN | BIT(8);
	hw.status = AMD_STS_EVENT_OVERFLOW | AMD_STS_CMD_BUF_RUN | AMD_STS_EVENT_LOG_RUN;
	hw.excl_base = 0x1000000 | AMD_EXCL_EN;
	hw.excl_limit = 0x1fff000;
	load_ivrs();
	ai.nr_cpus = 2; /* APIC ids 0 and 1 */
	ai.cpus[1].apic_id = 1;
	ai.nr_ioapics = 1; /* id 0: the IVRS's special device 00:14.0 */
	fake_log_clear();
	CHECK(iommu_init(&ai));
	CHECK(iommu_active());
	CHECK_EQ(hw.errors, 0);
	/* off first (PassPW, bit 8, kept), then on with the new tables in one write */
	CHECK_EQ(hw.nr_ctrl_writes, 2);
	CHECK_EQ(hw.ctrl_writes[0], BIT(8));
	CHECK_EQ(hw.ctrl_writes[1], BIT(8) | AMD_CTRL_IOMMU_EN | AMD_CTRL_CMD_BUF_EN |
					    AMD_CTRL_EVENT_LOG_EN | AMD_CTRL_COHERENT);
	CHECK_EQ(hw.status & AMD_STS_EVENT_OVERFLOW, 0);
	CHECK_EQ(hw.excl_base & AMD_EXCL_EN, 0);
	CHECK_EQ(hw.dev_table & 0x1ff, 0x1ff); /* 2 MiB: all 65536 device ids */
	CHECK_EQ(hw.cmd_base >> 56, 8);	       /* 256 commands */
	CHECK_EQ(hw.evt_base >> 56, 8);
	/* listed or not, every device id is blocked: DMA, and interrupts (IV, IntCtl 00b) */
	for (u32 id = 0; id < 65536; id++) {
		const u64 *d = dte_of((u16)id);

		if (d[0] != (AMD_DTE_V | AMD_DTE_TV) || d[1] || d[2] != AMD_DTE_IV || d[3]) {
			CHECK_EQ(id, -1);
			break;
		}
	}
	/* whatever the unit cached before is dropped, and waited for */
	CHECK_EQ(hw.nr_cmds, 2);
	CHECK_EQ(hw.cmd[0][0], AMD_CMD_INV_IOMMU_ALL);
	CHECK_EQ(hw.cmd[1][0] & (0xfULL << 60), AMD_CMD_COMPLETION_WAIT);
	CHECK(strstr(fake_log_all, "the firmware left translation the command buffer the event "
				   "log on; turned off"));
	CHECK(strstr(fake_log_all, "AMD-Vi unit at 0xfed80000 (00:03.0), segment 0, 8 device "
				   "ids, features 0x29d3"));
	CHECK(strstr(fake_log_all, "DMA remapping on"));
	CHECK(iommu_irq_remapping());
	CHECK(strstr(fake_log_all, "AMD-Vi interrupt remapping on: a table of 256 entries per "
				   "device id, 8-bit destinations, requester ids verified, other "
				   "device ids' interrupts aborted"));
}

static struct iommu_domain *dom_a, *dom_b;

TEST(functions_attach_to_domains)
{
	u64 *d = dte_of(0x0010);
	u64 want[4];
	u32 mark;

	dom_a = iommu_domain_create("service");
	dom_b = iommu_domain_create("guest1");
	CHECK(dom_a && dom_b && dom_a->id != dom_b->id && dom_a->id && dom_b->id < 256);
	CHECK_EQ(iommu_map(dom_a, 0x10000000, 0x10000000, 64 << 20, PT_R | PT_W), 0);
	mark = hw.nr_cmds;
	CHECK_EQ(iommu_attach(dom_a, 0, 0x0010), 0); /* 00:02.0, listed in the IVHD */
	amd_dte_translated(want, dom_a->pt.root, 4, dom_a->id);
	want[2] = AMD_DTE_IV; /* its interrupts still aborted: no table yet */
	CHECK(!memcmp(d, want, sizeof(want)));
	CHECK_EQ(count_cmds(mark, AMD_CMD_INV_DEVTAB_ENTRY), 1);
	{ /* its IVMD, identity-mapped before it joined */
		hpa_t pa;
		u32 perms;

		CHECK(pt_lookup(&dom_a->pt, 0x7d01f000, &pa, &perms, NULL));
		CHECK_EQ(pa, 0x7d01f000);
		CHECK_EQ(perms, PT_R | PT_W);
		CHECK(!pt_lookup(&dom_a->pt, 0x7d020000, &pa, NULL, NULL));
		CHECK(strstr(fake_log_all,
			     "0000:00:02.0: firmware-reserved 0x7d000000-0x7d01ffff"));
	}
	CHECK_EQ(iommu_attach(dom_a, 0, 0x0500), -ENODEV); /* 05:00.0: no IVHD lists it */
	CHECK_EQ(iommu_attach(dom_b, 0, 0x0300), 0);	   /* its alias's entry too */
	amd_dte_translated(want, dom_b->pt.root, 4, dom_b->id);
	want[2] = AMD_DTE_IV;
	CHECK(!memcmp(dte_of(0x0300), want, sizeof(want)));
	CHECK(!memcmp(dte_of(0x0028), want, sizeof(want)));
	CHECK_EQ(dte_of(0x0020)[0], AMD_DTE_V | AMD_DTE_TV);
	CHECK_EQ(iommu_attach(dom_a, 1, 0x0010), -ENODEV); /* another segment */
	/* moved: blocked and invalidated (the entry, the old domain) before the new entry */
	mark = hw.nr_cmds;
	CHECK_EQ(iommu_attach(dom_b, 0, 0x0010), 0);
	CHECK_EQ(d[1], dom_b->id);
	CHECK_EQ(hw.cmd[mark + 2][0] & (0xfULL << 60),
		 AMD_CMD_INV_DEVTAB_ENTRY); /* after the IVMD's */
	CHECK_EQ(hw.dte0_at[mark + 2], AMD_DTE_V | AMD_DTE_TV);
	CHECK_EQ(hw.cmd[mark + 4][0], AMD_CMD_INV_IOMMU_PAGES | (u64)dom_a->id << 32);
	CHECK_EQ(hw.cmd[mark + 4][1], AMD_INV_ALL_PAGES | AMD_INV_PDE | AMD_INV_SIZE);
	CHECK_EQ(hw.dte0_at[mark + 6], d[0]); /* the new entry's invalidation, last */
	CHECK_EQ(hw.nr_cmds, mark + 8);
	CHECK_EQ(iommu_attach(NULL, 0, 0x0010), 0); /* back to blocked */
	CHECK_EQ(d[0], AMD_DTE_V | AMD_DTE_TV);
	CHECK_EQ(d[1], 0);
	CHECK_EQ(iommu_attach(dom_a, 0, 0x0010), 0);
	CHECK_EQ(hw.errors, 0);
}

TEST(an_unmap_returns_after_its_invalidation)
{
	long pages = fake_pages_live;
	u32 mark;

	CHECK_EQ(iommu_map(dom_a, 0x20000000, 0x20000000, 4096, PT_R), 0); /* one more table */
	CHECK(fake_pages_live > pages);
	mark = hw.nr_cmds;
	CHECK_EQ(iommu_unmap(dom_a, 0x20000000, 4096), 0);
	CHECK_EQ(hw.nr_cmds, mark + 2);
	CHECK_EQ(hw.cmd[mark][0], AMD_CMD_INV_IOMMU_PAGES | (u64)dom_a->id << 32);
	CHECK_EQ(hw.cmd[mark + 1][0] & (0xfULL << 60), AMD_CMD_COMPLETION_WAIT);
	CHECK_EQ(fake_pages_live, pages); /* its tables freed, after the wait */
	CHECK_EQ(hw.errors, 0);
}

/* The INVALIDATE_IOMMU_PAGES an unmap of [iova, iova + size) sent: their second quadwords; n. */
static u32 unmap_cmds(u64 iova, u64 size, u64 q1[8])
{
	u32 mark, n = 0;

	CHECK_EQ(iommu_map(dom_a, iova, iova, size, PT_R | PT_W), 0);
	mark = hw.nr_cmds;
	CHECK_EQ(iommu_unmap(dom_a, iova, size), 0);
	for (u32 i = mark; i < hw.nr_cmds; i++) {
		if ((hw.cmd[i][0] & (0xfULL << 60)) != AMD_CMD_INV_IOMMU_PAGES)
			continue;
		CHECK_EQ(hw.cmd[i][0], AMD_CMD_INV_IOMMU_PAGES | (u64)dom_a->id << 32);
		if (n < 8)
			q1[n] = hw.cmd[i][1];
		n++;
	}
	CHECK_EQ(hw.cmd[hw.nr_cmds - 1][0] & (0xfULL << 60), AMD_CMD_COMPLETION_WAIT);
	return n;
}

TEST(unmaps_invalidate_only_their_pages)
{
	u64 q1[8];

	/* 2.4.3: one page, S = 0; PDE = 1 as tables may have been freed */
	CHECK_EQ(unmap_cmds(0x40000000, 4096, q1), 1);
	CHECK_EQ(q1[0], 0x40000000 | AMD_INV_PDE);
	/* 2 MiB aligned: S = 1, address bits 19:12 set, bit 20 clear */
	CHECK_EQ(unmap_cmds(0x40200000, 2 << 20, q1), 1);
	CHECK_EQ(q1[0], 0x402ff000 | AMD_INV_PDE | AMD_INV_SIZE);
	/* three pages at 0x40005000: page 5 (S = 0), then 6-7 (S = 1, bit 12 clear: 8 KiB) */
	CHECK_EQ(unmap_cmds(0x40005000, 0x3000, q1), 2);
	CHECK_EQ(q1[0], 0x40005000 | AMD_INV_PDE);
	CHECK_EQ(q1[1], 0x40006000 | AMD_INV_PDE | AMD_INV_SIZE);
	/* 16 KiB at 0x40008000: bits 12 set, 13 clear */
	CHECK_EQ(unmap_cmds(0x40008000, 0x4000, q1), 1);
	CHECK_EQ(q1[0], 0x40009000 | AMD_INV_PDE | AMD_INV_SIZE);
	/* 2 MiB from 0x401ff000: 10 blocks, more than 8: the whole domain */
	CHECK_EQ(unmap_cmds(0x401ff000, 2 << 20, q1), 1);
	CHECK_EQ(q1[0], AMD_INV_ALL_PAGES | AMD_INV_PDE | AMD_INV_SIZE);
	CHECK_EQ(hw.errors, 0);
}

static u64 page_fault(u16 devid, u32 flags)
{
	return (u64)AMD_EVT_IO_PAGE_FAULT << 60 | (u64)flags << 48 | devid;
}

TEST(events_are_read_and_faults_logged_once)
{
	fake_log_clear();
	event(page_fault(0x0010, AMD_PF_PR | AMD_PF_RW | AMD_PF_PE), 0x7fff0123);
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "iommu: DMA fault: 0000:00:02.0 (service) write to 0x7fff0000: "
				   "write not allowed (reason 0x2)"));
	CHECK_EQ(hw.evt_head, hw.evt_tail);
	CHECK_EQ(dom_a->faults, 1);
	fake_log_clear();
	event(page_fault(0x0010, AMD_PF_PR | AMD_PF_RW | AMD_PF_PE), 0x7fff0000); /* again */
	event(page_fault(0x00f8, 0), 0x1000);		     /* 00:1f.0, in no domain */
	event((u64)AMD_EVT_ILLEGAL_COMMAND << 60, 0x123450); /* the unit's own */
	event(page_fault(0x0010, AMD_PF_PR | AMD_PF_PE), 0x2000);
	iommu_poll_faults();
	CHECK(!strstr(fake_log_all, "0x7fff0000"));
	CHECK(strstr(fake_log_all, "0000:00:1f.0 (no domain: blocked) read of 0x1000: not mapped"));
	CHECK(strstr(fake_log_all, "AMD-Vi unit at 0xfed80000: illegal command (event "
				   "0x5000000000000000 0x123450)"));
	CHECK(strstr(fake_log_all, "0000:00:02.0 (service) read of 0x2000: read not allowed"));
	CHECK_EQ(dom_a->faults, 3);
	CHECK_EQ(hw.evt_head, hw.evt_tail);
	/* lost events are said, and logging starts again with the log empty */
	fake_log_clear();
	hw.status |= AMD_STS_EVENT_OVERFLOW;
	hw.nr_ctrl_writes = 0;
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "event log overflow"));
	CHECK_EQ(hw.status & AMD_STS_EVENT_OVERFLOW, 0);
	CHECK_EQ(hw.nr_ctrl_writes, 2);
	CHECK_EQ(hw.ctrl_writes[0] & AMD_CTRL_EVENT_LOG_EN, 0);
	CHECK(hw.ctrl & AMD_CTRL_EVENT_LOG_EN);
	CHECK_EQ(hw.evt_head, 0);
	CHECK_EQ(hw.evt_tail, 0);
	event(page_fault(0x0010, AMD_PF_PR | AMD_PF_PE), 0x3000);
	monitor_out[0] = 0;
	iommu_poll_faults();
	amd_driver.report();
	CHECK(strstr(monitor_out,
		     "AMD-Vi unit 0 at 0xfed80000, segment 0, 8 device ids: "
		     "translation on, command buffer on, event log on, 6 events, 5 faults"));
	CHECK_EQ(hw.errors, 0);
}

/* 2.2.5.1 figure 18: RemapEn, IntType, DM, the destination 15:8, the vector 23:16. */
TEST(a_32_bit_entry_names_the_vector_and_cpu_with_fixed_physical_delivery)
{
	u64 e[2];

	CHECK_EQ(amd_irte32(0x41, 3), 0x00410301u);
	CHECK_EQ(amd_irte32(0xfe, 0xff), 0x00feff01u);
	CHECK_EQ(amd_irte32(0x41, 3) & (AMD_IRTE_SUP_IOPF | AMD_IRTE_DM | AMD_IRTE_GUEST_MODE |
					0x1c | 0xff000000u),
		 0); /* refusals logged, fixed, physical, no guest mode, reserved 0 */
	/* 2.2.5.2: 128 bits, GuestMode 0, destination 23:0 in 31:8 and 31:24 in 127:120 */
	amd_irte128(e, 0x41, 0x12345678);
	CHECK_EQ(e[0], 0x0000000034567801ULL);
	CHECK_EQ(e[1], 0x1200000000000041ULL);
	/* 2.2.2: the interrupt quadword of a table at root: IV, IntTabLen 8, IntCtl 10b */
	CHECK_EQ(amd_ir_dte_remapped(0x12345000), 0x2000000012345011ULL);
}

TEST(a_function_gets_its_own_table_and_the_entry_its_vector_names)
{
	struct iommu_irq irq = { .bdf = 0x0010, .vector = 0x41, .apic_id = 1 };
	struct iommu_msi msg;
	u32 handle = 0, mark = hw.nr_cmds;
	const u64 *d = dte_of(0x0010);

	hw.watch_index = 0x41;
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK(handle);
	/* the index in data 10:0, fixed delivery; the address only says "interrupt" */
	CHECK_EQ(msg.addr, 0xfee00000);
	CHECK_EQ(msg.data, 0x41);
	CHECK_EQ(d[2] & ~AMD_DTE_INT_TAB_ROOT, AMD_DTE_IV | 8 << 1 | 2ULL << 60);
	CHECK(d[2] & AMD_DTE_INT_TAB_ROOT);
	CHECK_EQ(d[0], AMD_DTE_V | AMD_DTE_TV | AMD_DTE_MODE(4) | (dom_a->pt.root & AMD_DTE_ROOT) |
			       AMD_DTE_IR | AMD_DTE_IW); /* its DMA fields untouched */
	CHECK_EQ(irte_of(0x0010, 0x41), amd_irte32(0x41, 1));
	CHECK_EQ(irte_of(0x0010, 0x40), 0);
	/* the new table: the entry written, the DTE pointed at it, both invalidated, waited for */
	CHECK_EQ(hw.cmd[mark][0], AMD_CMD_INV_DEVTAB_ENTRY | 0x0010);
	CHECK_EQ(hw.dte2_at[mark], d[2]);
	CHECK_EQ(hw.cmd[mark + 1][0], AMD_CMD_INV_INT_TABLE | 0x0010);
	CHECK_EQ(hw.cmd[mark + 1][1], 0);
	CHECK_EQ(hw.cmd[mark + 2][0] & (0xfULL << 60), AMD_CMD_COMPLETION_WAIT);
	/* the entry, then its table's invalidation and a wait (the entry was there by then) */
	CHECK_EQ(hw.cmd[mark + 3][0], AMD_CMD_INV_INT_TABLE | 0x0010);
	CHECK_EQ(hw.irte_at[mark + 3], amd_irte32(0x41, 1));
	CHECK_EQ(hw.cmd[mark + 4][0] & (0xfULL << 60), AMD_CMD_COMPLETION_WAIT);
	CHECK_EQ(hw.nr_cmds, mark + 5);
	/* other device ids keep aborting; its neighbour's table is not its own */
	CHECK_EQ(dte_of(0x0018)[2], AMD_DTE_IV);
	/* rewritten in place: the same entry, invalidated again */
	mark = hw.nr_cmds;
	irq.apic_id = 0;
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(msg.data, 0x41);
	CHECK_EQ(irte_of(0x0010, 0x41), amd_irte32(0x41, 0));
	CHECK_EQ(hw.cmd[mark][0], AMD_CMD_INV_INT_TABLE | 0x0010);
	CHECK_EQ(hw.irte_at[mark], amd_irte32(0x41, 0));
	CHECK_EQ(hw.nr_cmds, mark + 2);
	/* a DMA domain change keeps the interrupt fields */
	u64 ir = d[2];
	CHECK_EQ(iommu_attach(dom_b, 0, 0x0010), 0);
	CHECK_EQ(d[2], ir);
	CHECK_EQ(iommu_attach(dom_a, 0, 0x0010), 0);
	CHECK_EQ(d[2], ir);
	/* a second vector of the function: its own entry in the same table */
	struct iommu_irq irq2 = { .bdf = 0x0010, .vector = 0x42, .apic_id = 1 };
	u32 handle2 = 0;

	CHECK_EQ(iommu_irq_compose(&irq2, &handle2, &msg), 0);
	CHECK(handle2 != handle);
	CHECK_EQ(msg.data, 0x42);
	CHECK_EQ(d[2], ir);
	CHECK_EQ(irte_of(0x0010, 0x42), amd_irte32(0x42, 1));
	/* freed: not present, and invalidated before the index is given out again */
	mark = hw.nr_cmds;
	hw.watch_index = 0x42;
	iommu_irq_free(&handle2);
	CHECK_EQ(handle2, 0);
	CHECK_EQ(irte_of(0x0010, 0x42), 0);
	CHECK_EQ(hw.cmd[mark][0], AMD_CMD_INV_INT_TABLE | 0x0010);
	CHECK_EQ(hw.irte_at[mark], 0);
	CHECK_EQ(hw.cmd[mark + 1][0] & (0xfULL << 60), AMD_CMD_COMPLETION_WAIT);
	CHECK_EQ(iommu_irq_compose(&irq2, &handle2, &msg), 0);
	/* no entry for an exception vector, nor for a function no IVHD lists */
	struct iommu_irq low = { .bdf = 0x0010, .vector = 0x1f },
			 none = { .bdf = 0x0500, .vector = 0x50 };
	u32 h = 0;

	CHECK_EQ(iommu_irq_compose(&low, &h, &msg), -EINVAL);
	CHECK_EQ(iommu_irq_compose(&none, &h, &msg), -ENODEV);
	CHECK_EQ(h, 0);
	/* a vector a table already holds for another source */
	CHECK_EQ(iommu_irq_compose(&irq2, &h, &msg), -EBUSY);
	CHECK_EQ(hw.errors, 0);
}

TEST(a_function_behind_an_alias_uses_the_alias_table)
{
	struct iommu_irq irq = { .bdf = 0x0300, .vector = 0x50, .apic_id = 0 };
	struct iommu_msi msg;
	u32 handle = 0;

	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(dte_of(0x0028)[2] & AMD_DTE_INT_CTL_MASK, 2ULL << 60); /* its requests' id */
	CHECK_EQ(dte_of(0x0300)[2], dte_of(0x0028)[2]);
	CHECK_EQ(irte_of(0x0028, 0x50), amd_irte32(0x50, 0));
	CHECK_EQ(hw.errors, 0);
}

TEST(an_io_apic_pin_goes_through_the_table_of_its_ivrs_device_id)
{
	struct iommu_irq irq = {
		.ioapic = true, .ioapic_id = 0, .vector = 0x24, .apic_id = 1, .level = true
	};
	struct iommu_irq other = { .ioapic = true, .ioapic_id = 5, .vector = 0x25 };
	struct iommu_msi msg;
	u32 handle = 0, h = 0;

	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	/* the redirection entry: vector field = index = vector, fixed, its trigger mode */
	CHECK_EQ(msg.addr, 0xfee00000);
	CHECK_EQ(msg.data, 0x24 | MSI_DATA_LEVEL);
	CHECK_EQ(dte_of(0x00a0)[2] & AMD_DTE_INT_CTL_MASK, 2ULL << 60);
	CHECK_EQ(irte_of(0x00a0, 0x24), amd_irte32(0x24, 1));
	CHECK_EQ(iommu_irq_compose(&other, &h, &msg), -ENODEV); /* no device id for it */
	monitor_out[0] = 0;
	amd_driver.report();
	CHECK(strstr(monitor_out, "interrupt remapping on: 4 entries in 3 device ids' tables of "
				  "256, 8-bit destinations"));
	CHECK(strstr(monitor_out, "    entry 65: 00:02.0 vector 0x41 -> apic 0\n"));
	CHECK(strstr(monitor_out, "    entry 66: 00:02.0 vector 0x42 -> apic 1\n"));
	CHECK(strstr(monitor_out, "    entry 80: 03:00.0 (as 00:05.0) vector 0x50 -> apic 0\n"));
	CHECK(strstr(monitor_out, "    entry 36: 00:14.0 (I/O APIC 0) vector 0x24 -> apic 1\n"));
	CHECK_EQ(hw.errors, 0);
}

/*
 * 2.5.3: an interrupt a table refused (RemapEn 0, or a device id whose IntCtl aborts) comes
 * back as an IO_PAGE_FAULT with I set: logged with the device, as the refused interrupt.
 */
TEST(a_refused_interrupt_is_logged_with_its_device)
{
	fake_log_clear();
	event(page_fault(0x0020, AMD_PF_I | AMD_PF_RW), 0xfee00000); /* 00:04.0 */
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "0000:00:04.0 (no domain: blocked)"));
	CHECK(strstr(fake_log_all, "interrupt request refused"));
	CHECK_EQ(hw.evt_head, hw.evt_tail);
}

TEST(a_command_buffer_that_does_not_move_times_out)
{
	long pages;

	CHECK_EQ(iommu_map(dom_a, 0x30000000, 0x30000000, 4096, PT_R), 0);
	pages = fake_pages_live;
	hw.stall = true;
	fake_log_clear();
	CHECK_EQ(iommu_unmap(dom_a, 0x30000000, 4096), -EIO);
	CHECK(strstr(fake_log_all, "commands not completed in 1 s"));
	CHECK(strstr(fake_log_all, "its freed table pages are kept out of use"));
	CHECK_EQ(fake_pages_live, pages); /* the emptied tables are not back in the pool */
	CHECK_EQ(dom_a->pt.deferred, NULL);
	/* nothing more is written over commands the unit may still read */
	hw.stall = false;
	u32 tail = (u32)hw.cmd_tail;
	CHECK_EQ(iommu_attach(NULL, 0, 0x0010), -EIO);
	CHECK_EQ(hw.cmd_tail, tail);
	monitor_out[0] = 0;
	amd_driver.report();
	CHECK(strstr(monitor_out, "command buffer broken"));
}

/* Last: faults read on the event log interrupt, then polled again (the fallback). */
TEST(events_are_read_on_the_event_log_interrupt)
{
	u32 sent;

	hw.stall = false;
	cfg[0x40] = PCI_CAP_ID_MSI;
	cfg[0x40 + PCI_MSI_CTRL] = PCI_MSI_CTRL_64BIT | 1 << 1; /* MMC: 2 messages offered */
	fake_log_clear();
	now_ns += 2000000000ULL; /* a new second for the rate limit */
	iommu_poll_faults();
	iommu_fault_irq_init(0xe9, 0);
	CHECK(strstr(fake_log_all, "iommu: AMD-Vi faults read on their interrupt (vector 0xe9, "
				   "CPU apic 0)"));
	/* the function's MSI: compatibility format to apic 0, one message, enabled */
	CHECK_EQ(pci_read(0, 0x44, 4), 0xfee00000);
	CHECK_EQ(pci_read(0, 0x48, 4), 0);
	CHECK_EQ(pci_read(0, 0x4c, 2), 0xe9);
	CHECK_EQ(pci_read(0, 0x42, 2) & (PCI_MSI_CTRL_ENABLE | PCI_MSI_CTRL_MME),
		 PCI_MSI_CTRL_ENABLE);
	CHECK(hw.ctrl & AMD_CTRL_EVENT_INT_EN);
	CHECK(hw.ctrl & AMD_CTRL_EVENT_LOG_EN);
	iommu_poll_faults(); /* what was logged before the interrupt was on */
	CHECK_EQ(hw.status & AMD_STS_EVENT_LOG_INT, 0);
	sent = msis;
	event(page_fault(0x0010, AMD_PF_PR | AMD_PF_RW | AMD_PF_PE), 0x5000);
	CHECK_EQ(msis, sent + 1);
	iommu_poll_faults(); /* no interrupt taken yet: housekeeping leaves the log alone */
	CHECK(!strstr(fake_log_all, "0x5000"));
	iommu_fault_irq();
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "DMA fault: 0000:00:02.0 (service) write to 0x5000"));
	CHECK_EQ(hw.evt_head, hw.evt_tail);
	/* EventLogInt cleared before the log was read: the next event sends the MSI again */
	CHECK_EQ(hw.status & AMD_STS_EVENT_LOG_INT, 0);
	event(page_fault(0x0010, AMD_PF_PR | AMD_PF_RW | AMD_PF_PE), 0x6000);
	CHECK_EQ(msis, sent + 2);
	iommu_fault_irq();
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "write to 0x6000"));
	/* no interrupt for a boot CPU past apic 255: off again, and every round polls */
	fake_log_clear();
	iommu_fault_irq_init(0xe9, 300);
	CHECK(strstr(fake_log_all, "faults polled by the boot CPU"));
	CHECK_EQ(hw.ctrl & AMD_CTRL_EVENT_INT_EN, 0);
	event(page_fault(0x0010, AMD_PF_PR | AMD_PF_RW | AMD_PF_PE), 0x7000);
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "write to 0x7000"));
	CHECK_EQ(hw.errors, 0);
}

/* With the unit's commands failing, a freed entry is never given out again: it may be cached. */
TEST(an_entry_whose_invalidation_failed_stays_out_of_use)
{
	struct iommu_irq irq = { .bdf = 0x0010, .vector = 0x60, .apic_id = 0 };
	struct iommu_msi msg;
	u32 handle = 0;

	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), -EIO); /* written, not invalidated */
	CHECK(handle);
	iommu_irq_free(&handle);
	CHECK_EQ(irte_of(0x0010, 0x60), 0);
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), -EBUSY);
}

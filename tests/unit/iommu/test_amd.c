// SPDX-License-Identifier: MIT
/*
 * Unit tests for the AMD-Vi driver and the generic IOMMU layer (iommu/iommu.c,
 * iommu/amd/) against a model of one unit behind the register accessors:
 * the take-over from firmware that left it on, the device table whose every
 * entry blocks, the command buffer and its COMPLETION_WAITs, device table
 * entries blocked and invalidated before they move, and the event log read,
 * logged once and restarted after an overflow.
 */
#include "test.h"
#include "iommu/amd/amd_regs.h"
#include <lib/pci_regs.h>
#include <keel/monitor.h>

extern char fake_log_all[];
void fake_log_clear(void);
extern long fake_pages_live;

#define MAX_CMDS 1024

/*
 * No leak check: the domains live to the end, and LeakSanitizer cannot follow
 * AMD-Vi's entries to their tables (IR and IW are bits 61 and 62 of each).
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* --- the model of a unit, as AMD IOMMU 3.08 3.4 and 2.4 describe it --- */
static struct {
	u64 ctrl, status, efr, excl_base, excl_limit;
	u64 dev_table, cmd_base, cmd_head, cmd_tail, evt_base, evt_head, evt_tail;
	u64 ctrl_writes[16];
	u32 nr_ctrl_writes;
	u64 cmd[MAX_CMDS][2];  /* every command done, in order */
	u64 dte0_at[MAX_CMDS]; /* for INVALIDATE_DEVTAB_ENTRY: the entry's first quadword then */
	u32 nr_cmds;
	u32 errors; /* what the manual forbids */
	bool stall; /* the buffer does not advance */
} hw;

static u64 now_ns;

/* The VT-d driver, linked beside (iommu.c names both), asks it; its tests never get there. */
bool apic_x2apic(void)
{
	return false;
}

u64 time_ns(void)
{
	return now_ns += 1000000; /* every look at the clock is 1 ms later */
}

int paging_map_io(u64 base, u64 size)
{
	(void)base;
	(void)size;
	return 0;
}

/* The unit's PCI function (3.2): config space with a 64-bit MSI capability at 0x40. */
static u8 cfg[256];
static u32 msis; /* the MSIs the unit sent */

u32 pci_read(u16 bdf, u32 off, u32 size)
{
	u32 v = 0;

	(void)bdf;
	memcpy(&v, &cfg[off], size);
	return v;
}

void pci_write(u16 bdf, u32 off, u32 size, u32 val)
{
	(void)bdf;
	memcpy(&cfg[off], &val, size);
}

u8 pci_find_cap(u16 bdf, u8 id)
{
	(void)bdf;
	return id == PCI_CAP_ID_MSI ? 0x40 : 0;
}

void monitor_register(const struct monitor_cmd *cmds, u32 n)
{
	(void)cmds;
	(void)n;
}

static char monitor_out[4096];

void monitor_print(const char *fmt, ...)
{
	size_t used = strlen(monitor_out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(monitor_out + used, sizeof(monitor_out) - used, fmt, ap);
	va_end(ap);
}

static u64 *dte_of(u16 devid)
{
	return (u64 *)(uintptr_t)((hw.dev_table & AMD_DTE_ROOT) + 32ULL * devid);
}

static void command(const u64 *c)
{
	u64 op = c[0] & (0xfULL << 60);

	if (hw.nr_cmds < MAX_CMDS) {
		hw.cmd[hw.nr_cmds][0] = c[0];
		hw.cmd[hw.nr_cmds][1] = c[1];
		hw.dte0_at[hw.nr_cmds++] = op == AMD_CMD_INV_DEVTAB_ENTRY ? dte_of((u16)c[0])[0] :
									    0;
	}
	if (op == AMD_CMD_COMPLETION_WAIT) {
		if (c[0] & GENMASK(59, 52))
			hw.errors++; /* reserved: QEMU logs an illegal command */
		if (c[0] & AMD_CW_STORE)
			*(u64 *)(uintptr_t)(c[0] & AMD_CW_ADDR) = c[1];
	} else if (op == AMD_CMD_INV_IOMMU_PAGES) {
		if (c[0] & (GENMASK(31, 16) | GENMASK(12, 3)))
			hw.errors++;
	} else if (op == AMD_CMD_INV_IOMMU_ALL) {
		if (!(hw.efr & AMD_EFR_IA) || (c[0] & GENMASK(59, 0)) || c[1])
			hw.errors++;
	} else if (op != AMD_CMD_INV_DEVTAB_ENTRY) {
		hw.errors++;
	}
}

static void cmd_run(void)
{
	u64 size = 16ULL << ((hw.cmd_base >> AMD_RING_LEN_SHIFT) & 0xf);

	if (!(hw.ctrl & AMD_CTRL_CMD_BUF_EN) || !(hw.ctrl & AMD_CTRL_IOMMU_EN))
		return; /* QEMU's model runs commands only with translation on */
	while (!hw.stall && hw.cmd_head != hw.cmd_tail) {
		command((const u64 *)(uintptr_t)((hw.cmd_base & AMD_DTE_ROOT) + hw.cmd_head));
		hw.cmd_head = (hw.cmd_head + 16) % size;
	}
}

u64 amd_read64(const struct amd_unit *u, u32 off)
{
	(void)u;
	switch (off) {
	case AMD_CONTROL:
		return hw.ctrl;
	case AMD_STATUS:
		return hw.status;
	case AMD_EXT_FEATURES:
		return hw.efr;
	case AMD_CMD_BUF_HEAD:
		return hw.cmd_head;
	case AMD_EVENT_LOG_HEAD:
		return hw.evt_head;
	case AMD_EVENT_LOG_TAIL:
		return hw.evt_tail;
	default:
		return 0;
	}
}

static void ctrl_write(u64 v)
{
	hw.ctrl_writes[hw.nr_ctrl_writes++ % 16] = v;
	if ((v & AMD_CTRL_IOMMU_EN) && !(hw.dev_table & AMD_DTE_ROOT))
		hw.errors++; /* translation without a device table */
	hw.ctrl = v;
	hw.status &= ~(AMD_STS_CMD_BUF_RUN | AMD_STS_EVENT_LOG_RUN);
	if (v & AMD_CTRL_CMD_BUF_EN)
		hw.status |= AMD_STS_CMD_BUF_RUN;
	if (v & AMD_CTRL_EVENT_LOG_EN)
		hw.status |= AMD_STS_EVENT_LOG_RUN;
	cmd_run();
}

void amd_write64(struct amd_unit *u, u32 off, u64 v)
{
	(void)u;
	switch (off) {
	case AMD_CONTROL:
		ctrl_write(v);
		break;
	case AMD_STATUS:
		hw.status &= ~(v & AMD_STS_CLEAR);
		break;
	case AMD_DEV_TABLE_BASE:
	case AMD_CMD_BUF_BASE:
		if (hw.ctrl & AMD_CTRL_IOMMU_EN)
			hw.errors++; /* moved under a running unit */
		*(off == AMD_DEV_TABLE_BASE ? &hw.dev_table : &hw.cmd_base) = v;
		break;
	case AMD_EVENT_LOG_BASE:
		hw.evt_base = v;
		break;
	case AMD_EXCL_BASE:
		hw.excl_base = v;
		break;
	case AMD_EXCL_LIMIT:
		hw.excl_limit = v;
		break;
	case AMD_CMD_BUF_HEAD:
		hw.cmd_head = v;
		break;
	case AMD_CMD_BUF_TAIL:
		hw.cmd_tail = v;
		cmd_run();
		break;
	case AMD_EVENT_LOG_HEAD:
		hw.evt_head = v;
		break;
	case AMD_EVENT_LOG_TAIL:
		if (hw.ctrl & AMD_CTRL_EVENT_LOG_EN)
			hw.errors++; /* software writes the tail only with logging off */
		hw.evt_tail = v;
		break;
	}
}

/* The unit records an event at its log's tail. */
static void event(u64 q0, u64 q1)
{
	u64 *log = (u64 *)(uintptr_t)(hw.evt_base & AMD_DTE_ROOT);

	log[hw.evt_tail / 8] = q0;
	log[hw.evt_tail / 8 + 1] = q1;
	hw.evt_tail = (hw.evt_tail + 16) % 4096;
	/* 3.4: EventLogInt set; with EventIntEn, its rising edge sends the function's MSI */
	if ((hw.ctrl & AMD_CTRL_EVENT_INT_EN) && !(hw.status & AMD_STS_EVENT_LOG_INT) &&
	    (cfg[0x40 + PCI_MSI_CTRL] & PCI_MSI_CTRL_ENABLE))
		msis++;
	hw.status |= AMD_STS_EVENT_LOG_INT;
}

/* --- QEMU's IVRS, its unit moved to the model, with an IVMD for 00:02.0 --- */
static u8 ivrs_table[256];
static struct acpi_info ai;

static void load_ivrs(void)
{
	FILE *f = fopen("tests/data/acpi/q35-smp2-amdvi/IVRS.bin", "rb");
	static const u8 ivmd[32] = {
		0x21, IVMD_F_UNITY | IVMD_F_READ | IVMD_F_WRITE,
		32,   0,
		0x10, 0,
		0,    0, /* 00:02.0 */
		0,    0,
		0,    0,
		0,    0,
		0,    0, /* reserved */
		0,    0,
		0,    0x7d,
		0,    0,
		0,    0, /* start */
		0,    0,
		2,    0,
		0,    0,
		0,    0 /* 128 KiB */
	};
	/* 5.2.2.2 alias select: 03:00.0's requests arrive as 00:05.0's (behind a bridge) */
	static const u8 alias[8] = { IVHD_DEV_ALIAS_SELECT, 0x00, 0x03, 0, 0, 0x28, 0x00, 0 };
	u32 len = 0x6c + sizeof(alias) + sizeof(ivmd);
	u16 ivhd_len = 0x3c + sizeof(alias);

	CHECK(f && fread(ivrs_table, 1, sizeof(ivrs_table), f) == 0x6c);
	if (f)
		fclose(f);
	memcpy(ivrs_table + 0x6c, alias, sizeof(alias)); /* the IVHD ends at 0x6c */
	memcpy(ivrs_table + 0x30 + 2, &ivhd_len, 2);
	memcpy(ivrs_table + 0x6c + sizeof(alias), ivmd, sizeof(ivmd));
	memcpy(ivrs_table + 4, &len, 4);
	ai.ivrs = (u64)(uintptr_t)ivrs_table;
}

static u32 count_cmds(u32 from, u64 op)
{
	u32 n = 0;

	for (u32 i = from; i < hw.nr_cmds; i++)
		n += (hw.cmd[i][0] & (0xfULL << 60)) == op;
	return n;
}

/* Only once, as the driver keeps its units: later tests build on this one's state. */
TEST(a_unit_left_on_by_the_firmware_is_taken_over)
{
	hw.efr = 0x29d3; /* QEMU 7.2's: PreF PPR GT IA GA HE */
	hw.ctrl = AMD_CTRL_IOMMU_EN | AMD_CTRL_CMD_BUF_EN | AMD_CTRL_EVENT_LOG_EN | BIT(8);
	hw.status = AMD_STS_EVENT_OVERFLOW | AMD_STS_CMD_BUF_RUN | AMD_STS_EVENT_LOG_RUN;
	hw.excl_base = 0x1000000 | AMD_EXCL_EN;
	hw.excl_limit = 0x1fff000;
	load_ivrs();
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
	for (u32 id = 0; id < 65536; id++) { /* listed or not, every device id is blocked */
		const u64 *d = dte_of((u16)id);

		if (d[0] != (AMD_DTE_V | AMD_DTE_TV) || d[1] || d[2] || d[3]) {
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

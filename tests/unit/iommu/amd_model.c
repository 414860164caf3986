// SPDX-License-Identifier: MIT
/* The model of an AMD-Vi unit the AMD-Vi unit tests run the driver against (tests/unit/iommu/amd_model.h). */
#include "test.h"
#include "amd_model.h"
#include <lib/pci_regs.h>
#include <keel/monitor.h>

/*
 * No leak check: the domains live to the end, and LeakSanitizer cannot follow
 * AMD-Vi's entries to their tables (IR and IW are bits 61 and 62 of each).
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

struct amd_model hw;

u64 now_ns;

bool x2apic;

bool apic_x2apic(void)
{
	return x2apic;
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
u8 cfg[256];
u32 msis;

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

char monitor_out[4096];

void monitor_print(const char *fmt, ...)
{
	size_t used = strlen(monitor_out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(monitor_out + used, sizeof(monitor_out) - used, fmt, ap);
	va_end(ap);
}

u64 *dte_of(u16 devid)
{
	return (u64 *)(uintptr_t)((hw.dev_table & AMD_DTE_ROOT) + 32ULL * devid);
}

u64 irte_of(u16 devid, u32 idx)
{
	u64 root = dte_of(devid)[2] & AMD_DTE_INT_TAB_ROOT;

	if (!root)
		return 0;
	if (hw.ctrl & AMD_CTRL_GA_EN)
		return ((const u64 *)(uintptr_t)root)[2 * idx];
	return ((const u32 *)(uintptr_t)root)[idx];
}

static void command(const u64 *c)
{
	u64 op = c[0] & (0xfULL << 60);
	bool dev = op == AMD_CMD_INV_DEVTAB_ENTRY || op == AMD_CMD_INV_INT_TABLE;

	if (hw.nr_cmds < MAX_CMDS) {
		hw.cmd[hw.nr_cmds][0] = c[0];
		hw.cmd[hw.nr_cmds][1] = c[1];
		hw.dte0_at[hw.nr_cmds] = dev ? dte_of((u16)c[0])[0] : 0;
		hw.dte2_at[hw.nr_cmds] = dev ? dte_of((u16)c[0])[2] : 0;
		hw.irte_at[hw.nr_cmds++] =
			op == AMD_CMD_INV_INT_TABLE ? irte_of((u16)c[0], hw.watch_index) : 0;
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
	} else if (op == AMD_CMD_INV_INT_TABLE) {
		if ((c[0] & GENMASK(59, 16)) || c[1])
			hw.errors++; /* reserved: QEMU logs an illegal command */
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
void event(u64 q0, u64 q1)
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
struct acpi_info ai;

void load_ivrs(void)
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

u32 count_cmds(u32 from, u64 op)
{
	u32 n = 0;

	for (u32 i = from; i < hw.nr_cmds; i++)
		n += (hw.cmd[i][0] & (0xfULL << 60)) == op;
	return n;
}

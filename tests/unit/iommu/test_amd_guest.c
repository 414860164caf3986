// SPDX-License-Identifier: MIT
/*
 * A guest VM's DMA domain on AMD-Vi (vmm/vm_gpa.c, iommu/iommu.c, iommu/amd/)
 * against a small model of a unit (AMD IOMMU 3.08 2.4, 3.4): the domain maps
 * exactly the guest's RAM at its guest-physical addresses, as the unit's own
 * walk of the I/O page tables finds it; the VM's teardown leaves nothing
 * mapped, and no table page nor RAM page goes back to the pool before an
 * INVALIDATE_IOMMU_PAGES of the domain's every page has completed
 * (guest_dma.c). test_amd.c has the full model of the driver's other work.
 */
#include "test.h"
#include "guest_dma.h"
#include "iommu/amd/amd_regs.h"
#include <keel/monitor.h>

#define MAX_CMDS 1024

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0"; /* the failed teardown keeps its pages on purpose */
}

/* --- the unit: its registers, and the commands it does (every one kept, in order) --- */
static struct {
	u64 ctrl, status, dev_table, cmd_base, cmd_head, cmd_tail, evt_base, evt_head, evt_tail;
	u64 cmd[MAX_CMDS][2];
	u32 nr_cmds;
	bool stall;
} hw;

static u64 now_ns;

u64 time_ns(void)
{
	return now_ns += 1000000; /* every look at the clock is 1 ms later */
}

bool apic_x2apic(void) /* the VT-d driver's, linked beside */
{
	return false;
}

int paging_map_io(u64 base, u64 size)
{
	(void)base;
	(void)size;
	return 0;
}

u32 pci_read(u16 bdf, u32 off, u32 size)
{
	(void)bdf;
	(void)off;
	(void)size;
	return 0;
}

void pci_write(u16 bdf, u32 off, u32 size, u32 val)
{
	(void)bdf;
	(void)off;
	(void)size;
	(void)val;
}

u8 pci_find_cap(u16 bdf, u8 id) /* no MSI capability: the unit's faults are polled here */
{
	(void)bdf;
	(void)id;
	return 0;
}

void monitor_register(const struct monitor_cmd *cmds, u32 n)
{
	(void)cmds;
	(void)n;
}

void monitor_print(const char *fmt, ...)
{
	(void)fmt;
}

/* 2.4.1: a COMPLETION_WAIT with S stores its second quadword, once everything before is done. */
static void cmd_run(void)
{
	while (!hw.stall && (hw.ctrl & AMD_CTRL_CMD_BUF_EN) && hw.cmd_head != hw.cmd_tail) {
		const u64 *c = (const u64 *)(uintptr_t)((hw.cmd_base & AMD_DTE_ROOT) + hw.cmd_head);

		if (hw.nr_cmds < MAX_CMDS) {
			hw.cmd[hw.nr_cmds][0] = c[0];
			hw.cmd[hw.nr_cmds++][1] = c[1];
		}
		if ((c[0] >> 60) == 1 && (c[0] & AMD_CW_STORE))
			*(u64 *)(uintptr_t)(c[0] & AMD_CW_ADDR) = c[1];
		hw.cmd_head = (hw.cmd_head + 16) % 4096;
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
		return 0x29d3; /* QEMU 7.2's: PreF PPR GT IA GA HE */
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

void amd_write64(struct amd_unit *u, u32 off, u64 v)
{
	(void)u;
	switch (off) {
	case AMD_CONTROL:
		hw.ctrl = v;
		hw.status = (v & AMD_CTRL_CMD_BUF_EN ? AMD_STS_CMD_BUF_RUN : 0) |
			    (v & AMD_CTRL_EVENT_LOG_EN ? AMD_STS_EVENT_LOG_RUN : 0);
		cmd_run();
		break;
	case AMD_DEV_TABLE_BASE:
		hw.dev_table = v;
		break;
	case AMD_CMD_BUF_BASE:
		hw.cmd_base = v;
		break;
	case AMD_EVENT_LOG_BASE:
		hw.evt_base = v;
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
		hw.evt_tail = v;
		break;
	}
}

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
	hw.stall = on;
	if (!on)
		cmd_run();
}

/* QEMU's IVRS, its unit moved to the model (tests/data/acpi/). */
static u8 ivrs_table[256];
static struct acpi_info ai;

static struct vm guest;
static struct iommu_domain *svc;

TEST(a_guest_domain_maps_exactly_its_ram)
{
	FILE *f = fopen("tests/data/acpi/q35-smp2-amdvi/IVRS.bin", "rb");

	CHECK(f && fread(ivrs_table, 1, sizeof(ivrs_table), f) > 0);
	if (f)
		fclose(f);
	ai.ivrs = (u64)(uintptr_t)ivrs_table;
	CHECK(iommu_init(&ai));
	svc = service_domain();
	guest_add_ram(&guest, "g1");
	check_domain_is_the_ram(&guest);
	check_service_domain_unchanged(svc);
}

TEST(the_vm_going_leaves_nothing_mapped_and_frees_after_the_invalidation)
{
	check_teardown(&guest);
	check_service_domain_unchanged(svc);
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

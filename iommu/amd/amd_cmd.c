// SPDX-License-Identifier: MIT
/*
 * AMD-Vi's command buffer (AMD IOMMU 3.08 2.4): one page of 128-bit
 * commands. Every batch ends with a COMPLETION_WAIT that stores a sequence
 * number to memory, and returns only once that number arrived: the unit
 * then has done every command before it (2.4.1), so no freed page is reused
 * while a cached translation of it may be live, and the ring is empty again.
 * A batch that does not complete marks the unit broken: later batches fail
 * at once instead of overwriting commands it may still read.
 */
#include <arch/x86/tsc.h>
#include <keel/log.h>
#include <keel/memory.h>
#include "amd_regs.h"

#define CMD_TIMEOUT_NS (1000ULL * 1000 * 1000)

void amd_cmd_init(struct amd_unit *u)
{
	u->cmd_tail = 0;
	amd_write64(u, AMD_CMD_BUF_BASE,
		    virt_to_phys(u->cmd_buf) | AMD_RING_LEN_4K << AMD_RING_LEN_SHIFT);
	amd_write64(u, AMD_CMD_BUF_HEAD, 0);
	amd_write64(u, AMD_CMD_BUF_TAIL, 0);
}

static void put(struct amd_unit *u, u64 lo, u64 hi)
{
	u64 *c = &u->cmd_buf[u->cmd_tail / 8];

	c[0] = lo;
	c[1] = hi;
	u->cmd_tail = (u->cmd_tail + AMD_RING_ENTRY) % (AMD_RING_ENTRIES * AMD_RING_ENTRY);
}

static int wait_done(struct amd_unit *u, u64 seq)
{
	u64 start = time_ns();

	while (READ_ONCE(u->wait_data) != seq) {
		if (time_ns() - start > CMD_TIMEOUT_NS) {
			pr_err("iommu: AMD-Vi unit at %#llx: commands not completed in 1 s "
			       "(status %#llx): no more are sent",
			       (unsigned long long)u->acpi->base,
			       (unsigned long long)amd_read64(u, AMD_STATUS));
			u->broken = true;
			return -ETIMEDOUT;
		}
		__builtin_ia32_pause();
	}
	return 0;
}

int amd_cmd_run(struct amd_unit *u, const u64 (*cmd)[2], u32 n)
{
	u64 seq = ++u->wait_seq;

	ASSERT(n + 1 < AMD_RING_ENTRIES);
	if (u->broken)
		return -EIO;
	for (u32 i = 0; i < n; i++)
		put(u, cmd[i][0], cmd[i][1]);
	/* 2.4.1: S = 1 stores the second quadword at the (8-byte aligned) address */
	put(u,
	    AMD_CMD_COMPLETION_WAIT | (virt_to_phys((const void *)&u->wait_data) & AMD_CW_ADDR) |
		    AMD_CW_STORE,
	    seq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the commands in memory before the tail moves */
	amd_write64(u, AMD_CMD_BUF_TAIL, u->cmd_tail);
	return wait_done(u, seq);
}

/* 2.4.2: the unit's cached copy of one device table entry. */
int amd_inv_devtab_entry(struct amd_unit *u, u16 devid)
{
	u64 c[1][2] = { { AMD_CMD_INV_DEVTAB_ENTRY | devid, 0 } };

	return amd_cmd_run(u, c, 1);
}

/*
 * 2.4.3: every cached translation and directory entry of a domain (S = 1
 * with the all-pages address, PDE = 1).
 */
int amd_inv_domain(struct amd_unit *u, u16 domain)
{
	u64 c[1][2] = { { AMD_CMD_INV_IOMMU_PAGES | (u64)domain << AMD_INV_DOMAIN_SHIFT,
			  AMD_INV_ALL_PAGES | AMD_INV_PDE | AMD_INV_SIZE } };

	return amd_cmd_run(u, c, 1);
}

/*
 * 2.4.3: the cached translations and directory entries (PDE = 1: tables
 * freed) of a range of a domain, one command per naturally aligned block:
 * a page with S = 0; 2^n pages with S = 1 and address bits 12 up to
 * 12 + n - 2 set, the first clear bit above them giving the size. The
 * whole domain where the range needs too many (or size is 0).
 */
int amd_inv_pages(struct amd_unit *u, u16 domain, u64 iova, u64 size)
{
	struct iommu_inv_block b[IOMMU_INV_BLOCKS];
	u64 c[IOMMU_INV_BLOCKS][2];
	u32 n = iommu_inv_blocks(iova, size, 51 - PAGE_SHIFT, b, IOMMU_INV_BLOCKS);

	if (!n)
		return amd_inv_domain(u, domain);
	for (u32 i = 0; i < n; i++) {
		c[i][0] = AMD_CMD_INV_IOMMU_PAGES | (u64)domain << AMD_INV_DOMAIN_SHIFT;
		c[i][1] = b[i].addr | AMD_INV_PDE;
		if (b[i].order)
			c[i][1] |= AMD_INV_SIZE | (((1ULL << (b[i].order - 1)) - 1) << PAGE_SHIFT);
	}
	return amd_cmd_run(u, c, n);
}

/*
 * Everything the unit may have cached from before Keel: INVALIDATE_IOMMU_ALL
 * (2.4.8) where the unit has it (EFR.IA), else every device table entry
 * the IVRS gives it and every domain id Keel will use.
 */
int amd_inv_all(struct amd_unit *u)
{
	static u64 c[128][2];
	u32 n = 0;
	int ret = 0;

	if (u->efr & AMD_EFR_IA) {
		c[0][0] = AMD_CMD_INV_IOMMU_ALL;
		c[0][1] = 0;
		return amd_cmd_run(u, c, 1);
	}
	for (u32 d = 0; d <= IOMMU_MAX_DOMAINS; d++) {
		c[n][0] = AMD_CMD_INV_IOMMU_PAGES | (u64)d << AMD_INV_DOMAIN_SHIFT;
		c[n++][1] = AMD_INV_ALL_PAGES | AMD_INV_PDE | AMD_INV_SIZE;
	}
	for (u32 i = 0; i < u->acpi->nr_ranges && !ret; i++) {
		for (u32 id = u->acpi->ranges[i].first; id <= u->acpi->ranges[i].last && !ret;
		     id++) {
			c[n][0] = AMD_CMD_INV_DEVTAB_ENTRY | id;
			c[n++][1] = 0;
			if (n == ARRAY_SIZE(c)) {
				ret = amd_cmd_run(u, c, n);
				n = 0;
			}
		}
	}
	return ret ? ret : amd_cmd_run(u, c, n);
}

/*
 * 2.4.5: the unit's cached copies of devid's interrupt remapping entries,
 * after a change to one of them (IRTEs live in memory the unit may cache).
 */
int amd_inv_int_table(struct amd_unit *u, u16 devid)
{
	u64 c[1][2] = { { AMD_CMD_INV_INT_TABLE | devid, 0 } };

	return amd_cmd_run(u, c, 1);
}

/*
 * A device table entry's interrupt fields changed: the entry's cached copy
 * first (2.4.2), then the interrupt table it now names (2.4.5), and the
 * COMPLETION_WAIT after both.
 */
int amd_inv_dte_and_int_table(struct amd_unit *u, u16 devid)
{
	u64 c[2][2] = { { AMD_CMD_INV_DEVTAB_ENTRY | devid, 0 },
			{ AMD_CMD_INV_INT_TABLE | devid, 0 } };

	return amd_cmd_run(u, c, 2);
}

// SPDX-License-Identifier: MIT
/*
 * VT-d queued invalidation (VT-d 4.1 6.5.2): one page of 128-bit
 * descriptors. Every batch ends with an invalidation-wait descriptor that
 * writes a sequence number to memory; a batch returns only once that number
 * arrived, so no freed page can be reused while a cached translation of it
 * may be live.
 */
#include <arch/x86/tsc.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include "vtd_regs.h"

#define QI_TIMEOUT_NS (1000ULL * 1000 * 1000)

int vtd_qi_enable(struct vtd_unit *u)
{
	u32 gsts = vtd_read32(u, VTD_GSTS);

	u->queue = page_alloc_zeroed(1);
	if (!u->queue)
		return -ENOMEM;
	iommu_cache_flush(u->queue, PAGE_SIZE);
	u->tail = 0;
	vtd_write64(u, VTD_IQT, 0);
	vtd_write64(u, VTD_IQA, virt_to_phys(u->queue) | VTD_IQA_QS_4K);
	vtd_write32(u, VTD_GCMD, (gsts & VTD_GCMD_PERSISTENT) | VTD_GCMD_QIE);
	for (u64 start = time_ns(); !(vtd_read32(u, VTD_GSTS) & VTD_GCMD_QIE);)
		if (time_ns() - start > QI_TIMEOUT_NS)
			return -ETIMEDOUT;
	return 0;
}

static void put(struct vtd_unit *u, u64 lo, u64 hi)
{
	u64 *d = &u->queue[2 * u->tail];

	d[0] = lo;
	d[1] = hi;
	iommu_cache_flush(d, 16);
	u->tail = (u->tail + 1) % VTD_IQ_ENTRIES;
}

/* Polls for the wait descriptor's status write; an invalidation queue error ends it. */
static int wait_done(struct vtd_unit *u, u32 seq)
{
	u64 start = time_ns();

	while (READ_ONCE(u->wait_status) != seq) {
		u32 fsts = vtd_read32(u, VTD_FSTS);

		if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
			pr_err("iommu: VT-d unit at %#llx: invalidation queue error, fault status %#x",
			       (unsigned long long)u->acpi->base, fsts);
			vtd_write32(u, VTD_FSTS,
				    fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE));
			return -EIO;
		}
		if (time_ns() - start > QI_TIMEOUT_NS) {
			pr_err("iommu: VT-d unit at %#llx: invalidation not completed in 1 s",
			       (unsigned long long)u->acpi->base);
			return -ETIMEDOUT;
		}
		__builtin_ia32_pause();
	}
	return 0;
}

int vtd_qi_run(struct vtd_unit *u, const u64 (*desc)[2], u32 n)
{
	u32 seq = ++u->wait_seq;

	ASSERT(n + 1 < VTD_IQ_ENTRIES);
	for (u32 i = 0; i < n; i++)
		put(u, desc[i][0], desc[i][1]);
	/* 6.5.2.8: status write of seq to wait_status, ordered after everything before it */
	put(u, VTD_INV_WAIT | VTD_INV_WAIT_SW | VTD_INV_WAIT_FN | VTD_INV_WAIT_DATA(seq),
	    virt_to_phys(&u->wait_status));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vtd_write64(u, VTD_IQT, (u64)u->tail << VTD_IQ_SHIFT);
	return wait_done(u, seq);
}

/* 6.5.2.1: the context cache, for one device (sid) of domain did, or all (sid 0, did 0). */
int vtd_flush_context(struct vtd_unit *u, u16 did, u16 sid)
{
	u64 d[1][2] = { { VTD_INV_CC | VTD_INV_G_GLOBAL, 0 } };

	if (did)
		d[0][0] = VTD_INV_CC | VTD_INV_G_DEVICE | VTD_INV_DID(did) | VTD_INV_CC_SID(sid);
	return vtd_qi_run(u, d, 1);
}

/*
 * 6.5.2.3: the IOTLB (and paging-structure caches) for domain did, or all
 * (did 0). A range (size > 0) is invalidated page-selectively where the
 * unit can (CAP.PSI), as naturally aligned blocks of at most 2^MAMV pages
 * (IH 0: the paging-structure caches of the range too, for freed tables);
 * domain-selectively where it cannot or the range needs too many blocks.
 */
int vtd_flush_iotlb(struct vtd_unit *u, u16 did, u64 iova, u64 size)
{
	u64 drain = ((u->cap & VTD_CAP_DRD) ? VTD_INV_IOTLB_DR : 0) |
		    ((u->cap & VTD_CAP_DWD) ? VTD_INV_IOTLB_DW : 0);
	u64 d[IOMMU_INV_BLOCKS][2] = { { VTD_INV_IOTLB | VTD_INV_G_GLOBAL | drain, 0 } };
	struct iommu_inv_block b[IOMMU_INV_BLOCKS];
	u32 n = 0;

	if (did && (u->cap & VTD_CAP_PSI))
		n = iommu_inv_blocks(iova, size, VTD_CAP_MAMV(u->cap), b, IOMMU_INV_BLOCKS);
	for (u32 i = 0; i < n; i++) {
		d[i][0] = VTD_INV_IOTLB | VTD_INV_G_PAGE | VTD_INV_DID(did) | drain;
		d[i][1] = b[i].addr | VTD_INV_IOTLB_AM(b[i].order);
	}
	if (n)
		return vtd_qi_run(u, d, n);
	if (did)
		d[0][0] = VTD_INV_IOTLB | VTD_INV_G_DOMAIN | VTD_INV_DID(did) | drain;
	return vtd_qi_run(u, d, 1);
}

/* 6.5.2.7: the interrupt entry cache, for one entry or (global) all of them. */
int vtd_flush_iec(struct vtd_unit *u, u32 index, bool global)
{
	u64 d[1][2] = { { VTD_INV_IEC, 0 } };

	if (!global)
		d[0][0] |= VTD_INV_IEC_INDEX | VTD_INV_IEC_IIDX(index);
	return vtd_qi_run(u, d, 1);
}

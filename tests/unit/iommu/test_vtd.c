// SPDX-License-Identifier: MIT
/*
 * Unit tests for the VT-d driver and the generic IOMMU layer (iommu/iommu.c,
 * iommu/vtd/) against a model of one unit behind the register accessors: the
 * take-over from firmware that left things on, the order of global commands,
 * the invalidation queue and its wait descriptors, context entries, fault
 * records read, cleared and logged once, and interrupt remapping: its entries'
 * encoding, their invalidation, and the faults of interrupt requests. The
 * model is tests/unit/iommu/vtd_model.c; test_vtd_x2apic.c starts the driver
 * on x2APIC CPUs.
 */
#include "test.h"
#include "vtd_model.h"

extern char fake_log_all[];
void fake_log_clear(void);
extern long fake_pages_live;

/* Only once, as the driver keeps its units: later tests build on this one's state. */
TEST(a_unit_left_on_by_the_firmware_is_taken_over)
{
	hw_reset();
	/* CFI too: compatibility-format interrupts let through */
	hw.gsts = VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_SRTP | VTD_GCMD_CFI;
	hw.iqh = hw.iqt = 0x40; /* the firmware's queue, drained */
	hw.frcd[0][1] = VTD_FRCD_F | 0x10;
	hw.fsts = VTD_FSTS_PFO | VTD_FSTS_PPF;
	load_dmar();
	fake_log_clear();
	CHECK(iommu_init(&ai));
	CHECK(iommu_active());
	CHECK_EQ(hw.errors, 0);
	/*
	 * off in order: translation, interrupt remapping, queued invalidation; then
	 * the new set-up; then interrupt remapping: the table, CFI off, IRE (10.4.4)
	 */
	CHECK_EQ(hw.nr_gcmds, 9);
	CHECK_EQ(hw.gcmds[0], VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI);
	CHECK_EQ(hw.gcmds[1], VTD_GCMD_QIE | VTD_GCMD_CFI);
	CHECK_EQ(hw.gcmds[2], VTD_GCMD_CFI);
	CHECK_EQ(hw.gcmds[3], VTD_GCMD_SRTP | VTD_GCMD_CFI);
	CHECK_EQ(hw.gcmds[4], VTD_GCMD_QIE | VTD_GCMD_CFI);
	CHECK_EQ(hw.gcmds[5], VTD_GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_CFI);
	CHECK_EQ(hw.gcmds[6], VTD_GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_CFI | VTD_GCMD_SIRTP);
	CHECK_EQ(hw.gcmds[7], VTD_GCMD_QIE | VTD_GCMD_TE);
	CHECK_EQ(hw.gcmds[8], VTD_GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_IRE);
	CHECK_EQ(hw.gsts & VTD_GCMD_PERSISTENT, VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE);
	/* 256 entries (S = 7), 8-bit destinations (xAPIC), one zeroed page */
	CHECK(hw.irt && (hw.irt & 0xfff) == VTD_IRT_S && !(hw.irt & VTD_IRTA_EIME));
	for (u32 i = 0; i < 512; i++)
		CHECK_EQ(((u64 *)(uintptr_t)(hw.irt & ~0xfffULL))[i], 0);
	CHECK(iommu_irq_remapping());
	CHECK(strstr(fake_log_all, "VT-d interrupt remapping on: 256 entries, 8-bit destinations"));
	CHECK(hw.root && !(hw.root & 0xfff));
	for (u32 i = 0; i < 512; i++) /* an empty root table: every function blocked */
		CHECK_EQ(((u64 *)(uintptr_t)hw.root)[i], 0);
	CHECK_EQ(hw.frcd[0][1] & VTD_FRCD_F, 0); /* the firmware's faults dropped */
	CHECK_EQ(hw.fsts & VTD_FSTS_PFO, 0);
	CHECK(hw.fectl & VTD_FECTL_IM);
	/* global context-cache, IOTLB, interrupt entry cache invalidations, each closed by a wait */
	CHECK_EQ(hw.nr_desc, 6);
	CHECK_EQ(hw.desc[0][0], VTD_INV_CC | VTD_INV_G_GLOBAL);
	CHECK_EQ(hw.desc[1][0] & 0xffffffff, VTD_INV_WAIT | VTD_INV_WAIT_SW | VTD_INV_WAIT_FN);
	CHECK_EQ(hw.desc[2][0],
		 VTD_INV_IOTLB | VTD_INV_G_GLOBAL | VTD_INV_IOTLB_DR | VTD_INV_IOTLB_DW);
	CHECK_EQ(hw.desc[3][0] & 0xf, VTD_INV_WAIT);
	CHECK_EQ(hw.desc[4][0], VTD_INV_IEC); /* global */
	CHECK_EQ(hw.desc[5][0] & 0xf, VTD_INV_WAIT);
	CHECK(strstr(fake_log_all, "the firmware left translation interrupt remapping queued "
				   "invalidation on; turned off"));
	CHECK(strstr(fake_log_all, "3-level tables, non-coherent walks"));
}

static struct iommu_domain *dom_a, *dom_b;

static const u64 *context_of(u16 bdf)
{
	const u64 *root = (const u64 *)(uintptr_t)hw.root;
	const u64 *ctx;

	if (!(root[2 * (bdf >> 8)] & VTD_ROOT_P))
		return NULL;
	ctx = (const u64 *)(uintptr_t)(root[2 * (bdf >> 8)] & ~0xfffULL);
	return &ctx[2 * (bdf & 0xff)];
}

TEST(functions_attach_to_domains)
{
	const u64 *ce;
	u32 mark;

	dom_a = iommu_domain_create("service");
	dom_b = iommu_domain_create("guest1");
	CHECK(dom_a && dom_b && dom_a->id != dom_b->id && dom_a->id);
	CHECK_EQ(iommu_map(dom_a, 0x10000000, 0x10000000, 64 << 20, PT_R | PT_W), 0);
	CHECK_EQ(dom_a->mapped, 64 << 20);
	CHECK_EQ(iommu_attach(dom_a, 0, 0x0010), 0); /* 00:02.0, in the DRHD's scopes */
	ce = context_of(0x0010);
	CHECK(ce);
	CHECK_EQ(ce[0], dom_a->pt.root | VTD_CTX_P);
	CHECK_EQ(ce[1], VTD_CTX_AW_39 | (u64)dom_a->id << 8);
	{ /* its RMRR, identity-mapped before it joined */
		hpa_t pa;
		u32 perms;

		CHECK(pt_lookup(&dom_a->pt, 0x7d01f000, &pa, &perms, NULL));
		CHECK_EQ(pa, 0x7d01f000);
		CHECK_EQ(perms, PT_R | PT_W);
		CHECK(!pt_lookup(&dom_a->pt, 0x7d020000, &pa, NULL, NULL));
		CHECK(strstr(fake_log_all,
			     "0000:00:02.0: firmware-reserved 0x7d000000-0x7d01ffff"));
	}
	CHECK_EQ(iommu_attach(dom_a, 0, 0x0500), -ENODEV); /* 05:00.0: no unit covers it */
	CHECK_EQ(iommu_attach(dom_a, 1, 0x0010), -ENODEV); /* another segment */
	/* moved: blocked and invalidated first, then the new domain's entry */
	mark = hw.nr_desc;
	CHECK_EQ(iommu_attach(dom_b, 0, 0x0010), 0);
	CHECK_EQ(ce[1], VTD_CTX_AW_39 | (u64)dom_b->id << 8);
	CHECK_EQ(count_desc(mark, VTD_INV_CC), 2);
	CHECK_EQ(count_desc(mark, VTD_INV_WAIT), 5); /* and one for the RMRR mapped in dom_b */
	CHECK_EQ(iommu_attach(NULL, 0, 0x0010), 0);  /* back to blocked */
	CHECK_EQ(ce[0], 0);
	CHECK_EQ(iommu_attach(dom_a, 0, 0x0010), 0);
	CHECK_EQ(hw.errors, 0);
}

TEST(an_unmap_returns_after_its_invalidation)
{
	u32 mark = hw.nr_desc;
	long pages = fake_pages_live;

	CHECK_EQ(iommu_map(dom_a, 0x20000000, 0x20000000, 4096, PT_R), 0); /* one more table */
	CHECK(fake_pages_live > pages);
	mark = hw.nr_desc;
	CHECK_EQ(iommu_unmap(dom_a, 0x20000000, 4096), 0);
	CHECK_EQ(count_desc(mark, VTD_INV_IOTLB), 1);
	/* 6.5.2.3: page-selective within the domain (CAP.PSI), the one page (AM 0, IH 0) */
	CHECK_EQ(hw.desc[mark][0], VTD_INV_IOTLB | VTD_INV_G_PAGE | VTD_INV_IOTLB_DR |
					   VTD_INV_IOTLB_DW | VTD_INV_DID(dom_a->id));
	CHECK_EQ(hw.desc[mark][1], 0x20000000);
	CHECK_EQ(hw.desc[mark + 1][0] & 0xf, VTD_INV_WAIT);
	CHECK_EQ(fake_pages_live, pages); /* its tables freed, after the wait */
}

/* The IOTLB descriptors an unmap of [iova, iova + size) issued, as "addr/AM" words; n of them. */
static u32 unmap_descs(u64 iova, u64 size, u64 hi[8])
{
	u32 mark, n = 0;

	CHECK_EQ(iommu_map(dom_a, iova, iova, size, PT_R | PT_W), 0);
	mark = hw.nr_desc;
	CHECK_EQ(iommu_unmap(dom_a, iova, size), 0);
	for (u32 i = mark; i < hw.nr_desc; i++) {
		if ((hw.desc[i][0] & 0xf) != VTD_INV_IOTLB)
			continue;
		CHECK_EQ(hw.desc[i][0] & ~(VTD_INV_IOTLB_DR | VTD_INV_IOTLB_DW),
			 (u64)VTD_INV_IOTLB | VTD_INV_G_PAGE | VTD_INV_DID(dom_a->id));
		if (n < 8)
			hi[n] = hw.desc[i][1];
		n++;
	}
	CHECK_EQ(hw.desc[hw.nr_desc - 1][0] & 0xf, VTD_INV_WAIT); /* one batch, waited for */
	return n;
}

TEST(unmaps_invalidate_only_their_pages)
{
	u64 hi[8];
	u32 mark;

	/* 2 MiB, aligned: one descriptor, AM 9 */
	CHECK_EQ(unmap_descs(0x40000000, 2 << 20, hi), 1);
	CHECK_EQ(hi[0], 0x40000000 | 9);
	/* three pages at 0x40005000: page 5 alone (AM 0), then 6-7 (AM 1) */
	CHECK_EQ(unmap_descs(0x40005000, 0x3000, hi), 2);
	CHECK_EQ(hi[0], 0x40005000);
	CHECK_EQ(hi[1], 0x40006000 | 1);
	/* 4 GiB aligned: blocks of at most 2^MAMV pages (18: 1 GiB) */
	CHECK_EQ(unmap_descs(0x200000000ULL, 4ULL << 30, hi), 4);
	CHECK_EQ(hi[0], 0x200000000ULL | 18);
	CHECK_EQ(hi[3], 0x2c0000000ULL | 18);
	/* 2 MiB from 0x401ff000: pages 0x401ff, 0x40200-0x402ff, ... 0x403fe, 10 blocks, more
	 * than 8: the whole domain instead */
	mark = hw.nr_desc;
	CHECK_EQ(iommu_map(dom_a, 0x401ff000, 0x401ff000, 2 << 20, PT_R), 0);
	CHECK_EQ(iommu_unmap(dom_a, 0x401ff000, 2 << 20), 0);
	CHECK_EQ(count_desc(mark, VTD_INV_IOTLB), 2);
	CHECK_EQ(hw.desc[hw.nr_desc - 2][0], VTD_INV_IOTLB | VTD_INV_G_DOMAIN | VTD_INV_IOTLB_DR |
						     VTD_INV_IOTLB_DW | VTD_INV_DID(dom_a->id));
	CHECK_EQ(hw.errors, 0);
}

TEST(ranges_split_into_naturally_aligned_blocks)
{
	struct iommu_inv_block b[IOMMU_INV_BLOCKS];

	CHECK_EQ(iommu_inv_blocks(0x1000, 0, 18, b, 8), 0); /* nothing: the whole domain */
	CHECK_EQ(iommu_inv_blocks(0x1234, 1, 18, b, 8), 1); /* a byte: its page */
	CHECK_EQ(b[0].addr, 0x1000);
	CHECK_EQ(b[0].order, 0);
	CHECK_EQ(iommu_inv_blocks(0x1fff, 2, 18, b, 8), 2); /* across a page boundary */
	CHECK_EQ(b[1].addr, 0x2000);
	CHECK_EQ(iommu_inv_blocks(0, 1ULL << 39, 18, b, 8), 0); /* 2^9 blocks of 1 GiB: too many */
	CHECK_EQ(iommu_inv_blocks(0, 1ULL << 39, 27, b, 8), 1);
	CHECK_EQ(b[0].order, 27);
	/* 7 pages from page 1: 1 (0), 2-3 (1), 4-7 (2) */
	CHECK_EQ(iommu_inv_blocks(0x1000, 0x7000, 18, b, 8), 3);
	CHECK_EQ(b[0].order, 0);
	CHECK_EQ(b[1].addr, 0x2000);
	CHECK_EQ(b[1].order, 1);
	CHECK_EQ(b[2].addr, 0x4000);
	CHECK_EQ(b[2].order, 2);
}

TEST(faults_are_read_cleared_and_logged_once)
{
	fake_log_clear();
	record(0, 0x7fff0000, 0x0010, 5, false);
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "iommu: DMA fault: 0000:00:02.0 (service) write to 0x7fff0000: "
				   "write not allowed (reason 0x5)"));
	CHECK_EQ(hw.frcd[0][1] & VTD_FRCD_F, 0);
	CHECK_EQ(hw.fsts & VTD_FSTS_PPF, 0);
	CHECK_EQ(dom_a->faults, 1);
	fake_log_clear();
	record(1, 0x7fff0000, 0x0010, 5, false); /* the same again: counted, not logged */
	record(0, 0x1000, 0x00f8, 2, true);	 /* 00:1f.0, in no domain */
	iommu_poll_faults();
	CHECK(!strstr(fake_log_all, "0x7fff0000"));
	CHECK(strstr(fake_log_all, "0000:00:1f.0 (no domain: blocked) read of 0x1000: context "
				   "entry not present"));
	CHECK_EQ(dom_a->faults, 2);
	CHECK_EQ(hw.fsts & VTD_FSTS_PPF, 0);
	fake_log_clear();
	hw.fsts |= VTD_FSTS_PFO; /* lost faults are said, and recording goes on */
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "fault log overflow"));
	CHECK_EQ(hw.fsts & VTD_FSTS_PFO, 0);
	monitor_out[0] = 0;
	record(0, 0x2000, 0x0010, 6, true);
	iommu_poll_faults();
	vtd_driver.report();
	CHECK(strstr(monitor_out, "VT-d unit 0 at"));
	CHECK(strstr(monitor_out, "translation on, queued invalidation on, 4 faults"));
}

TEST(a_flood_of_faults_is_rate_limited)
{
	fake_log_clear();
	now_ns += 2000000000ULL; /* a new second */
	for (u32 i = 0; i < 30; i++) {
		record(i % NFR, 0x100000 + i * 0x1000ULL, 0x0010, 6, true);
		iommu_poll_faults();
	}
	u32 lines = 0;
	for (const char *p = fake_log_all; (p = strstr(p, "DMA fault:")); p++)
		lines++;
	CHECK(lines >= 10 && lines <= 12); /* the clock moves 1 ms a look: about one second's 10 */
	CHECK_EQ(dom_a->faults, 2 + 1 + 30);
}

TEST(a_queue_that_does_not_move_times_out)
{
	long pages;

	CHECK_EQ(iommu_map(dom_a, 0x30000000, 0x30000000, 4096, PT_R), 0);
	pages = fake_pages_live;
	hw.stall = true;
	fake_log_clear();
	CHECK_EQ(iommu_unmap(dom_a, 0x30000000, 4096), -EIO);
	CHECK(strstr(fake_log_all, "invalidation not completed in 1 s"));
	CHECK(strstr(fake_log_all, "its freed table pages are kept out of use"));
	CHECK_EQ(fake_pages_live, pages); /* the emptied tables are not back in the pool */
	CHECK_EQ(dom_a->pt.deferred, NULL);
}

/* --- interrupt remapping --- */

static const u64 *irte(u32 index)
{
	return &((const u64 *)(uintptr_t)(hw.irt & ~0xfffULL))[2 * index];
}

TEST(irte_fields_are_where_the_manual_puts_them)
{
	/* 9.10: P bit 0, TM bit 4, DLM 7:5 (fixed 000), V 23:16, xAPIC DST[15:8] = bits 47:40 */
	CHECK_EQ(vtd_irte_lo(0x34, 1, false, false), 0x0000010000340001ULL);
	CHECK_EQ(vtd_irte_lo(0x3e, 0xff, true, false), 0x0000ff00003e0011ULL);
	CHECK_EQ(vtd_irte_lo(0x34, 0x300, false, false), 0x0000000000340001ULL);  /* 8 bits only */
	CHECK_EQ(vtd_irte_lo(0x41, 0x12345, false, true), 0x0001234500410001ULL); /* x2APIC */
	/* SID 15:0, SQ 17:16 (00: all bits), SVT 19:18 (01: verify) */
	CHECK_EQ(vtd_irte_hi(0x0018), 0x40018ULL);
	CHECK_EQ(vtd_irte_hi(0xff00), 0x4ff00ULL);
	/* 5.1.5.2: 0xFEE, handle[14:0] at 19:5, format bit 4, handle[15] at bit 2 */
	CHECK_EQ(vtd_irte_msi_addr(0), 0xfee00010ULL);
	CHECK_EQ(vtd_irte_msi_addr(5), 0xfee000b0ULL);
	CHECK_EQ(vtd_irte_msi_addr(0x7fff), 0xfeeffff0ULL);
	CHECK_EQ(vtd_irte_msi_addr(0x8001), 0xfee00034ULL);
}

TEST(an_msi_goes_through_an_entry_checked_against_its_requester)
{
	struct iommu_irq irq = { .bdf = 0x0018, .vector = 0x34, .apic_id = 1 };
	struct iommu_msi msg;
	u32 handle = 0, idx, mark;

	hw.stall = false; /* the queue moves again: what the last test left in it is done */
	queue_run();
	mark = hw.nr_desc;
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK(handle);
	idx = handle - 1;
	CHECK_EQ(msg.addr, vtd_irte_msi_addr(idx) | VTD_MSI_SHV); /* subhandle 0 in the data */
	CHECK_EQ(msg.data, 0);
	CHECK_EQ(irte(idx)[0], vtd_irte_lo(0x34, 1, false, false));
	CHECK_EQ(irte(idx)[1], vtd_irte_hi(0x0018));
	/* the entry's cache invalidated by index, and waited for */
	CHECK_EQ(hw.nr_desc, mark + 2);
	CHECK_EQ(hw.desc[mark][0], VTD_INV_IEC | VTD_INV_IEC_INDEX | VTD_INV_IEC_IIDX(idx));
	CHECK_EQ(hw.desc[mark + 1][0] & 0xf, VTD_INV_WAIT);
	/* moved to another CPU: the same entry, rewritten and invalidated again */
	irq.apic_id = 0;
	irq.vector = 0x35;
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(handle, idx + 1);
	CHECK_EQ(irte(idx)[0], vtd_irte_lo(0x35, 0, false, false));
	CHECK_EQ(count_desc(mark + 2, VTD_INV_IEC), 1);
	/* freed: not present, invalidated, the index free again */
	iommu_irq_free(&handle);
	CHECK_EQ(handle, 0);
	CHECK_EQ(irte(idx)[0] & VTD_IRTE_P, 0);
	CHECK_EQ(count_desc(mark + 2, VTD_INV_IEC), 2);
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(handle, idx + 1);
	iommu_irq_free(&handle);
	CHECK_EQ(hw.errors, 0);
}

TEST(an_ioapic_pin_uses_the_requester_id_of_its_dmar_scope)
{
	struct iommu_irq irq = { .ioapic = true, .ioapic_id = 0, .vector = 0x30, .level = true };
	struct iommu_msi msg;
	u32 handle = 0;

	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	/* q35's DMAR names I/O APIC 0 at ff:00.0; level in the entry and, matching, in the pin */
	CHECK_EQ(irte(handle - 1)[1], vtd_irte_hi(0xff00));
	CHECK_EQ(irte(handle - 1)[0], vtd_irte_lo(0x30, 0, true, false));
	CHECK_EQ(msg.addr, vtd_irte_msi_addr(handle - 1)); /* an I/O APIC has no SHV */
	CHECK_EQ(msg.data, 0x30 | 0x8000);		   /* 5.1.5.1: vector and trigger mode */
	iommu_irq_free(&handle);
	irq.ioapic_id = 9; /* no scope names it: no entry without a requester id to check */
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), -ENODEV);
	CHECK_EQ(handle, 0);
}

TEST(a_full_table_says_so)
{
	static u32 handles[VTD_IRT_ENTRIES + 1];
	struct iommu_irq irq = { .bdf = 0x0010, .vector = 0x40 };
	struct iommu_msi msg;
	u32 n = 0;

	while (n <= VTD_IRT_ENTRIES && !iommu_irq_compose(&irq, &handles[n], &msg))
		n++;
	CHECK_EQ(n, VTD_IRT_ENTRIES);
	CHECK_EQ(handles[n], 0);
	while (n)
		iommu_irq_free(&handles[--n]);
	monitor_out[0] = 0;
	vtd_driver.report();
	CHECK(strstr(monitor_out, "interrupt remapping on: 0 of 256 entries, 8-bit destinations, "
				  "requester ids verified, compatibility format blocked"));
}

/* After a_full_table_says_so: the index a failed invalidation keeps is never used again. */
TEST(a_freed_entry_is_reused_only_after_its_invalidation)
{
	struct iommu_irq irq = { .bdf = 0x0018, .vector = 0x50 };
	struct iommu_msi msg;
	u32 handle = 0, idx, mark;

	hw.nr_desc = 0; /* the model keeps 256: the full table's took them */
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	idx = handle - 1;
	/* freed: not present, then the entry's cache invalidated by index and waited for */
	mark = hw.nr_desc;
	iommu_irq_free(&handle);
	CHECK_EQ(irte(idx)[0] & VTD_IRTE_P, 0);
	CHECK_EQ(hw.nr_desc, mark + 2);
	CHECK_EQ(hw.desc[mark][0], VTD_INV_IEC | VTD_INV_IEC_INDEX | VTD_INV_IEC_IIDX(idx));
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK_EQ(handle - 1, idx); /* free again once invalidated */
	/* an invalidation that does not complete: a cached copy may live on, the index stays out */
	hw.stall = true;
	fake_log_clear();
	iommu_irq_free(&handle);
	CHECK_EQ(handle, 0);
	CHECK(strstr(fake_log_all, "invalidation not completed in 1 s"));
	hw.stall = false;
	queue_run();
	CHECK_EQ(iommu_irq_compose(&irq, &handle, &msg), 0);
	CHECK(handle - 1 != idx);
	iommu_irq_free(&handle);
	CHECK_EQ(hw.errors, 0);
}

TEST(interrupt_faults_are_logged_with_their_entry)
{
	fake_log_clear();
	now_ns += 2000000000ULL; /* a new second for the rate limit */
	/* 11.4.14: FI[63:48] holds the index of an interrupt request's fault */
	record(0, 7ULL << 48, 0x0010, 0x22, false);
	iommu_poll_faults();
	CHECK(strstr(fake_log_all,
		     "iommu: interrupt fault: 0000:00:02.0 (service) entry 7: entry not "
		     "present (reason 0x22)"));
	record(1, 3ULL << 48, 0x0018, 0x26, false);
	record(0, 0x100ULL << 48, 0x0018, 0x21, false);
	iommu_poll_faults();
	CHECK(strstr(fake_log_all,
		     "0000:00:03.0 (no domain: blocked) entry 3: requester id not the "
		     "entry's (reason 0x26)"));
	CHECK(strstr(fake_log_all, "entry 256: index beyond the table (reason 0x21)"));
	CHECK(!strstr(fake_log_all, "DMA fault:"));
}

/* Last: faults read on their interrupt, then polled again (the fallback). */
TEST(faults_are_read_on_the_fault_event_interrupt)
{
	u32 events;

	fake_log_clear();
	now_ns += 2000000000ULL; /* a new second for the rate limit */
	iommu_poll_faults();	 /* nothing left over from the tests before */
	iommu_fault_irq_init(0xe9, 0);
	/* 11.4.9: a compatibility-format message to apic 0, vector 0xe9, then unmasked */
	CHECK_EQ(hw.fedata, 0xe9);
	CHECK_EQ(hw.feaddr, 0xfee00000);
	CHECK_EQ(hw.feuaddr, 0);
	CHECK_EQ(hw.fectl & VTD_FECTL_IM, 0);
	CHECK(strstr(fake_log_all, "iommu: VT-d faults read on their interrupt (vector 0xe9, CPU "
				   "apic 0)"));
	iommu_poll_faults(); /* what was recorded before the interrupt was on */
	events = hw.fault_events;
	/* a fault raises the event; without it housekeeping does not read the records */
	record(0, 0x5000, 0x0010, 5, false);
	CHECK_EQ(hw.fault_events, events + 1);
	iommu_poll_faults();
	CHECK(!strstr(fake_log_all, "0x5000"));
	CHECK(hw.frcd[0][1] & VTD_FRCD_F);
	iommu_fault_irq();			/* the vector's handler */
	CHECK(!strstr(fake_log_all, "0x5000")); /* not in the handler: housekeeping reads them */
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "DMA fault: 0000:00:02.0 (service) write to 0x5000"));
	CHECK_EQ(hw.fsts & VTD_FSTS_PPF, 0);
	/* every record read and cleared: the next fault raises the event again */
	record(1, 0x6000, 0x0010, 5, false);
	CHECK_EQ(hw.fault_events, events + 2);
	iommu_fault_irq();
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "write to 0x6000"));
	monitor_out[0] = 0;
	CHECK(monitor_cmds && !strcmp(monitor_cmds[0].name, "iommu"));
	monitor_cmds[0].run("");
	CHECK(strstr(monitor_out, "faults read on their interrupt: vector 0xe9, 2 interrupts"));
	/* no interrupt for a boot CPU past apic 255: masked again, and every round polls */
	fake_log_clear();
	iommu_fault_irq_init(0xe9, 300);
	CHECK(hw.fectl & VTD_FECTL_IM);
	record(0, 0x7000, 0x0010, 5, false);
	iommu_poll_faults();
	CHECK(strstr(fake_log_all, "write to 0x7000"));
	CHECK_EQ(hw.errors, 0);
}

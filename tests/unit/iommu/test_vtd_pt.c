// SPDX-License-Identifier: MIT
/*
 * Unit tests for VT-d's second-level tables (iommu/vtd/vtd_pt.c) over the
 * one walker: entry encodings, and that every table write is flushed. The
 * fake iommu_cache_flush below plays the memory a walker that does not snoop
 * the CPU's caches sees (VT-d ECAP.C = 0, as QEMU reports): a table page's
 * lines reach it only when flushed, and a flushed entry may point only at a
 * table whose memory is already up to date.
 */
#include "test.h"
#include "iommu/vtd/vtd_regs.h"

extern long fake_pages_live;

#define MAX_SHADOWS 512

struct shadow {
	uintptr_t page;
	u8 mem[4096]; /* what the walker reads */
};

static struct shadow shadows[MAX_SHADOWS];
static u32 nr_shadows;
static u32 order_errors; /* entries flushed before the table they point at */

static struct shadow *shadow_of(uintptr_t page, bool create)
{
	for (u32 i = 0; i < nr_shadows; i++)
		if (shadows[i].page == page)
			return &shadows[i];
	if (!create || nr_shadows == MAX_SHADOWS)
		return NULL;
	shadows[nr_shadows].page = page;
	memset(shadows[nr_shadows].mem, 0xaa, 4096); /* whatever the page held before */
	return &shadows[nr_shadows++];
}

/* A line's present entries that name a known table page need that page up to date. */
static void check_order(const u64 *line)
{
	for (u32 i = 0; i < 8; i++) {
		struct shadow *t;

		if (!(line[i] & (VTD_SL_R | VTD_SL_W)) || (line[i] & VTD_SL_PS))
			continue;
		t = shadow_of((uintptr_t)(line[i] & VTD_SL_ADDR), false);
		if (t && memcmp(t->mem, (void *)t->page, 4096))
			order_errors++;
	}
}

void iommu_cache_flush(const void *p, u64 len)
{
	uintptr_t a = (uintptr_t)p & ~63ul, end = (uintptr_t)p + len;

	for (; a < end; a += 64) {
		struct shadow *s = shadow_of(a & ~4095ul, true);

		check_order((const u64 *)a);
		memcpy(s->mem + (a & 4095), (void *)a, 64);
	}
}

/* Every table reachable from the root, as the walker reads it, equals what the CPU wrote. */
static u32 stale_tables(uintptr_t table, u32 level)
{
	struct shadow *s = shadow_of(table, false);
	const u64 *t = (const u64 *)table;
	u32 stale = !s || memcmp(s->mem, t, 4096);

	for (u32 i = 0; level > 1 && i < 512; i++)
		if ((t[i] & (VTD_SL_R | VTD_SL_W)) && !(t[i] & VTD_SL_PS))
			stale += stale_tables((uintptr_t)(t[i] & VTD_SL_ADDR), level - 1);
	return stale;
}

static struct page_table pt;

static void setup(const struct pt_format *f)
{
	nr_shadows = 0;
	order_errors = 0;
	CHECK_EQ(pt_init(&pt, f, NULL), 0);
	pt.defer_frees = true;
}

static void check_flushed(void)
{
	CHECK_EQ(stale_tables(pt.root, pt.fmt->levels), 0);
	CHECK_EQ(order_errors, 0);
}

static void teardown(void)
{
	pt_destroy(&pt);
	CHECK_EQ(fake_pages_live, 0);
}

TEST(entries_as_the_manual_lays_them_out)
{
	hpa_t pa;
	u32 perms;
	u64 size;
	const u64 *l3, *l2, *l1;

	setup(&vtd_format_3level);
	CHECK_EQ(pt_map(&pt, 0x40000000, 0x80000000, 2 << 20, PT_R | PT_W), 0); /* 2 MiB leaf */
	CHECK_EQ(pt_map(&pt, 0x1000, 0x7000, 0x1000, PT_R), 0);			/* 4 KiB, read */
	l3 = (const u64 *)pt.root;
	CHECK_EQ(l3[1] & 0xfff, VTD_SL_R | VTD_SL_W); /* tables: R and W, nothing else */
	l2 = (const u64 *)(uintptr_t)(l3[1] & VTD_SL_ADDR);
	CHECK_EQ(l2[0], 0x80000000 | VTD_SL_PS | VTD_SL_R | VTD_SL_W);
	l1 = (const u64 *)(uintptr_t)(((const u64 *)(uintptr_t)(l3[0] & VTD_SL_ADDR))[0] &
				      VTD_SL_ADDR);
	CHECK_EQ(l1[1], 0x7000 | VTD_SL_R);
	CHECK(pt_lookup(&pt, 0x40123456, &pa, &perms, &size));
	CHECK_EQ(pa, 0x80123456);
	CHECK_EQ(perms, PT_R | PT_W);
	CHECK_EQ(size, 2 << 20);
	CHECK(!pt_lookup(&pt, 0x2000, &pa, NULL, NULL));
	/* 39 bits is all three levels reach */
	CHECK_EQ(pt_map(&pt, 1ULL << 39, 0, 4096, PT_R), -EINVAL);
	teardown();
	setup(&vtd_format_4level);
	CHECK_EQ(pt_map(&pt, 1ULL << 39, 0x5000, 4096, PT_R | PT_W | PT_X | PT_OWNED), 0);
	CHECK(pt_lookup(&pt, (1ULL << 39) + 8, &pa, &perms, NULL));
	CHECK_EQ(pa, 0x5008);
	CHECK_EQ(perms, PT_R | PT_W | PT_OWNED); /* no execute for DMA */
	teardown();
}

TEST(every_table_write_is_flushed)
{
	setup(&vtd_format_3level);
	/* 1 GiB of RAM at 0x40000000 in 2 MiB leaves, with 4 KiB edges */
	CHECK_EQ(pt_map(&pt, 0x3ff00000, 0x3ff00000, (1ULL << 30) + (2 << 20), PT_R | PT_W), 0);
	check_flushed();
	CHECK_EQ(pt_map(&pt, 0x40201000, 0x9000, 0x3000, PT_R), 0); /* splits a 2 MiB leaf */
	check_flushed();
	CHECK_EQ(pt_unmap(&pt, 0x40200000, 2 << 20), 0); /* drops the table the split made */
	check_flushed();
	CHECK_EQ(pt_unmap(&pt, 0x3ff00000, 0x100000), 0); /* empties a table: pruned */
	check_flushed();
	CHECK_EQ(pt_map(&pt, 0x7f000000000 & ((1ULL << 39) - 1), 0x1000, 0x1000, PT_R), 0);
	check_flushed();
	pt_free_deferred(&pt);
	teardown();
}

/* The check above can fail: the same writes without the flush leave the walker stale. */
TEST(a_missing_flush_is_seen)
{
	struct pt_format unsynced = vtd_format_3level;

	unsynced.sync = NULL;
	setup(&unsynced);
	CHECK_EQ(pt_map(&pt, 0, 0, 4 << 20, PT_R | PT_W), 0);
	CHECK(stale_tables(pt.root, 3) > 0);
	teardown();
	/* and an entry flushed before the table it points at is an ordering error */
	nr_shadows = 0;
	order_errors = 0;
	{
		static u64 parent[512] __attribute__((aligned(4096)));
		static u64 child[512] __attribute__((aligned(4096)));

		iommu_cache_flush(child, 4096);
		child[0] = 0x1000 | VTD_SL_R;
		parent[0] = (u64)(uintptr_t)child | VTD_SL_R | VTD_SL_W;
		iommu_cache_flush(parent, 8);
		CHECK_EQ(order_errors, 1);
	}
}

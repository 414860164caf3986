// SPDX-License-Identifier: MIT
/* Unit tests for core/pagetable.c with the NPT format: page sizes, splits, unmaps, ownership, teardown. */
#include "test.h"
#include <arch/x86/virt.h>
#include <keel/pagetable.h>

extern long fake_pages_live, fake_pages_fail_after;
static u64 released;

static void release(hpa_t pa, u64 size)
{
	(void)pa;
	released += size;
}

static struct page_table pt;

static void setup(void)
{
	released = 0;
	fake_pages_fail_after = -1;
	CHECK_EQ(pt_init(&pt, &npt_format, release), 0);
}

static void teardown(void)
{
	pt_destroy(&pt);
	CHECK_EQ(fake_pages_live, 0);
}

TEST(large_pages_where_aligned)
{
	hpa_t pa;
	u64 size;
	u32 perms;

	setup();
	CHECK_EQ(pt_map(&pt, 0, 0x40000000, 1ULL << 30, PT_RWX), 0); /* one 1 GiB leaf */
	CHECK(pt_lookup(&pt, 0x12345678, &pa, &perms, &size));
	CHECK_EQ(pa, 0x40000000 + 0x12345678);
	CHECK_EQ(size, 1ULL << 30);
	CHECK_EQ(perms, PT_RWX);
	CHECK_EQ(pt.table_pages, 2); /* PML4 and one PDPT holding the 1 GiB leaf */
	CHECK_EQ(pt_map(&pt, 0x40000000, 0x80200000, 0x400000, PT_R | PT_X), 0); /* two 2 MiB */
	CHECK(pt_lookup(&pt, 0x40300000, &pa, &perms, &size));
	CHECK_EQ(pa, 0x80500000);
	CHECK_EQ(size, 2 << 20);
	CHECK_EQ(perms, PT_R | PT_X);
	CHECK_EQ(pt_map(&pt, 0x40400000, 0x1000, 0x3000, PT_R), 0); /* 4 KiB: pa not 2M aligned */
	CHECK(pt_lookup(&pt, 0x40402abc, &pa, NULL, &size));
	CHECK_EQ(pa, 0x3abc);
	CHECK_EQ(size, 4096);
	CHECK(!pt_lookup(&pt, 0x40403000, &pa, NULL, NULL));
	teardown();
}

TEST(split_keeps_the_rest_of_a_large_page)
{
	hpa_t pa;
	u64 size;

	setup();
	CHECK_EQ(pt_map(&pt, 0x200000, 0x600000, 0x200000, PT_RWX), 0);
	CHECK_EQ(pt_map(&pt, 0x201000, 0x9000, 0x1000, PT_R), 0); /* one 4K page inside */
	CHECK(pt_lookup(&pt, 0x200000, &pa, NULL, &size));
	CHECK_EQ(pa, 0x600000);
	CHECK_EQ(size, 4096);
	CHECK(pt_lookup(&pt, 0x201000, &pa, NULL, NULL));
	CHECK_EQ(pa, 0x9000);
	CHECK(pt_lookup(&pt, 0x3ff000, &pa, NULL, NULL));
	CHECK_EQ(pa, 0x7ff000);
	teardown();
}

TEST(unmap_partial_and_whole)
{
	hpa_t pa;

	setup();
	CHECK_EQ(pt_map(&pt, 0, 0x200000, 0x800000, PT_RWX), 0);
	CHECK_EQ(pt_unmap(&pt, 0x300000, 0x2000), 0); /* splits the second 2M page */
	CHECK(!pt_lookup(&pt, 0x300000, &pa, NULL, NULL));
	CHECK(!pt_lookup(&pt, 0x301fff, &pa, NULL, NULL));
	CHECK(pt_lookup(&pt, 0x302000, &pa, NULL, NULL));
	CHECK_EQ(pa, 0x502000);
	CHECK_EQ(pt_unmap(&pt, 0, 0x800000), 0);
	CHECK(!pt_lookup(&pt, 0x700000, &pa, NULL, NULL));
	CHECK_EQ(pt_unmap(&pt, 0x10000000, 0x1000), 0); /* nothing there: fine */
	teardown();
}

TEST(unmapping_everything_frees_the_tables)
{
	setup();
	CHECK_EQ(pt_map(&pt, 0x7f00000000ULL, 0x1000, 0x3000, PT_RWX), 0);
	CHECK_EQ(pt_map(&pt, 0x40000000, 0x200000, 0x400000, PT_RWX), 0);
	CHECK(pt.table_pages > 4);
	CHECK_EQ(pt_unmap(&pt, 0x7f00000000ULL, 0x3000), 0);
	CHECK_EQ(pt_unmap(&pt, 0x40000000, 0x400000), 0);
	CHECK_EQ(pt.table_pages, 1);   /* the root stays */
	for (int i = 0; i < 20; i++) { /* cycles leave nothing behind */
		CHECK_EQ(pt_map(&pt, 0x7f00000000ULL, 0x1000, 0x200000, PT_RWX), 0);
		CHECK_EQ(pt_unmap(&pt, 0x7f00000000ULL, 0x200000), 0);
	}
	CHECK_EQ(pt.table_pages, 1);
	CHECK_EQ(fake_pages_live, 1);
	teardown();
}

TEST(owned_pages_are_released_once)
{
	setup();
	CHECK_EQ(pt_map(&pt, 0, 0x1000000, 0x400000, PT_RWX | PT_OWNED), 0);
	CHECK_EQ(pt_map(&pt, 0x400000, 0x2000000, 0x1000, PT_RWX), 0); /* not owned */
	CHECK_EQ(pt_unmap(&pt, 0, 0x1000), 0);
	CHECK_EQ(released, 0x1000);
	CHECK_EQ(pt_map(&pt, 0x200000, 0x3000000, 0x200000, PT_RWX), 0); /* replaces owned 2M */
	CHECK_EQ(released, 0x1000 + 0x200000);
	pt_destroy(&pt);
	CHECK_EQ(released, 0x400000); /* the rest on teardown; the unowned page never */
	CHECK_EQ(fake_pages_live, 0);
}

TEST(take_hands_a_page_over_and_a_map_puts_it_back)
{
	hpa_t pa;
	u32 perms;
	u64 size, removed;

	setup();
	CHECK_EQ(pt_map(&pt, 0x200000, 0x1000000, 0x200000, PT_RWX | PT_OWNED), 0);
	removed = pt.removed;
	CHECK_EQ(pt_take(&pt, 0x203abc, &pa, &perms), 0); /* splits the 2 MiB leaf */
	CHECK_EQ(pa, 0x1003000);
	CHECK_EQ(perms, PT_RWX | PT_OWNED);
	CHECK_EQ(released, 0); /* the caller has it */
	CHECK_EQ(pt.removed, removed + 1);
	CHECK(!pt_lookup(&pt, 0x203000, &pa, NULL, NULL));
	CHECK(pt_lookup(&pt, 0x204000, &pa, NULL, &size)); /* the rest stays, in 4 KiB pages */
	CHECK_EQ(pa, 0x1004000);
	CHECK_EQ(size, 0x1000);
	CHECK_EQ(pt_take(&pt, 0x203000, &pa, &perms), -ENOENT);
	CHECK_EQ(pt_take(&pt, 0x600000, &pa, &perms), -ENOENT);
	CHECK_EQ(pt_map(&pt, 0x203000, 0x1003000, 0x1000, PT_RWX | PT_OWNED), 0);
	CHECK_EQ(released, 0);
	CHECK_EQ(pt.removed, removed + 1); /* nothing was there to remove */
	pt_destroy(&pt);
	CHECK_EQ(released, 0x200000); /* all of it once, the page taken and put back too */
	CHECK_EQ(fake_pages_live, 0);
}

static int count_leaf(void *ctx, u64 va, hpa_t pa, u64 size, u32 perms)
{
	u64 *n = ctx;

	(void)va, (void)pa, (void)perms;
	n[0]++;
	n[1] += size;
	return 0;
}

TEST(walk_visits_every_leaf)
{
	u64 n[2] = { 0, 0 };

	setup();
	CHECK_EQ(pt_map(&pt, 0x1000, 0x1000, 0x1ff000, PT_RWX), 0);	/* 511 small */
	CHECK_EQ(pt_map(&pt, 0x200000, 0x200000, 0x400000, PT_RWX), 0); /* 2 large */
	CHECK_EQ(pt_walk(&pt, count_leaf, n), 0);
	CHECK_EQ(n[0], 513);
	CHECK_EQ(n[1], 0x5ff000);
	teardown();
}

TEST(bad_arguments_and_no_memory)
{
	hpa_t pa;

	setup();
	CHECK_EQ(pt_map(&pt, 0, 0, 1ULL << 30, PT_R), 0);
	CHECK_EQ(pt_map(&pt, (1ULL << 48) - 0x1000, 0x5000, 0x1000, PT_R), 0); /* the last page */
	CHECK(pt_lookup(&pt, (1ULL << 48) - 1, &pa, NULL, NULL));
	CHECK_EQ(pa, 0x5fff);
	CHECK_EQ(pt_map(&pt, 0x1001, 0, 0x1000, PT_R), -22);
	CHECK_EQ(pt_map(&pt, 0, 0x10, 0x1000, PT_R), -22);
	CHECK_EQ(pt_map(&pt, ~0ULL - 0xfff, 0, 0x2000, PT_R), -22);
	CHECK_EQ(pt_map(&pt, 1ULL << 48, 0, 0x1000, PT_R), -22);     /* beyond 4 levels */
	CHECK_EQ(pt_unmap(&pt, 0xffffffff0000b000ULL, 0x1000), -22); /* a 64-bit BAR being sized */
	CHECK_EQ(pt_unmap(&pt, (1ULL << 48) - 0x1000, 0x2000), -22);
	fake_pages_fail_after = 1;
	CHECK_EQ(pt_map(&pt, 0x7000000000ULL, 0, 0x1000, PT_R), -12);
	fake_pages_fail_after = -1;
	teardown();
}

TEST(npt_entries_follow_the_manual)
{
	/* APM2 15.25.5: guest-physical walks are user accesses, so U must be set. */
	u64 leaf = npt_format.leaf_entry(0x200000, 2, PT_R);

	CHECK(leaf & BIT(2));
	CHECK(leaf & BIT(7));	 /* PS */
	CHECK(!(leaf & BIT(1))); /* read-only */
	CHECK(leaf & BIT(63));	 /* not executable */
	CHECK(npt_format.table_entry(0x5000, 3) & BIT(2));
	CHECK_EQ(npt_format.address(leaf | BIT(12), 2), 0x200000); /* PAT bit is not address */
}

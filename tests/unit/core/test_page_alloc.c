// SPDX-License-Identifier: MIT
/* Unit tests for core/page_alloc.c over synthetic memory maps. */
#include "test.h"
#include <keel/page_alloc.h>
#include <stdlib.h>

static void *bitmap;

static void setup(const struct mem_region *r, u32 n)
{
	u64 bytes = page_alloc_bitmap_bytes(r, n);

	free(bitmap);
	bitmap = calloc(1, bytes);
	page_alloc_init(r, n, bitmap, bytes);
}

static const struct mem_region qemu_like[] = {
	{ 0x0, 0xa0000, MEM_FREE, 0 },	     /* below 1 MiB: never handed out */
	{ 0x100000, 0x700000, MEM_FREE, 0 }, /* 1-8 MiB */
	{ 0x800000, 0x8000, MEM_ACPI_NVS, 0 },
	{ 0x808000, 0x3f7f8000, MEM_FREE, 0 }, /* up to 1 GiB */
	{ 0x40000000, 0x100000, MEM_BOOT_SERVICES, 0 },
	{ 0xfee00000, 0x1000, MEM_RESERVED, 0 },
};

TEST(counts_exclude_low_memory_and_reserved)
{
	setup(qemu_like, 6);
	CHECK_EQ(page_alloc_free_pages(), (0x700000 + 0x3f7f8000) / 4096);
	CHECK_EQ(page_alloc_total_pages(), page_alloc_free_pages());
}

TEST(single_pages_are_distinct_and_in_free_ram)
{
	hpa_t a, b;

	setup(qemu_like, 6);
	a = page_alloc_range(1, 1, 0);
	b = page_alloc_range(1, 1, 0);
	CHECK(a >= 0x100000 && a != b);
	CHECK(!(a >= 0x800000 && a < 0x808000));
	CHECK_EQ(page_free_range(a, 1), 0);
	CHECK_EQ(page_alloc_range(1, 1, 0), a); /* freed page comes back first */
}

TEST(aligned_runs_skip_holes)
{
	hpa_t p;

	setup(qemu_like, 6);
	p = page_alloc_range(512, 512, 0); /* 2 MiB aligned 2 MiB */
	CHECK(p && p % (2 << 20) == 0);
	CHECK(p + (2 << 20) <= 0x800000 || p >= 0x808000);
	p = page_alloc_range(0x2000, 1, 0); /* 32 MiB: must come after the ACPI hole */
	CHECK(p >= 0x808000);
}

TEST(below_limit)
{
	struct mem_region r[] = { { 0x100000, 0x400000, MEM_FREE, 0 },
				  { 0x100000000ULL, 0x10000000, MEM_FREE, 0 } };
	hpa_t p;

	setup(r, 2);
	for (int i = 0; i < 1024; i++) {
		p = page_alloc_range(1, 1, 0x500000 - 1);
		CHECK(p >= 0x100000 && p < 0x500000);
	}
	CHECK_EQ(page_alloc_range(1, 1, 0x500000 - 1), 0); /* low memory used up */
	p = page_alloc_range(1, 1, 0);
	CHECK(p >= 0x100000000ULL);
}

TEST(exhaustion_and_double_free)
{
	struct mem_region r[] = { { 0x100000, 0x4000, MEM_FREE, 0 } };
	hpa_t p[4];

	setup(r, 1);
	for (int i = 0; i < 4; i++)
		p[i] = page_alloc_range(1, 1, 0);
	CHECK_EQ(page_alloc_range(1, 1, 0), 0);
	CHECK_EQ(page_alloc_free_pages(), 0);
	CHECK_EQ(page_free_range(p[2], 1), 0);
	CHECK_EQ(page_free_range(p[2], 1), -22); /* double free refused */
	CHECK_EQ(page_free_range(p[0], 2), 0);
	CHECK_EQ(page_free_range(p[1], 2), -22); /* p[2] already free: nothing changes */
	CHECK_EQ(page_alloc_free_pages(), 3);
	CHECK_EQ(page_free_range(0x1000, 1), -22);   /* below 1 MiB */
	CHECK_EQ(page_free_range(0x100001, 1), -22); /* unaligned */
	CHECK_EQ(page_free_range(0x900000, 1), -22); /* beyond the bitmap */
}

TEST(bad_arguments)
{
	setup(qemu_like, 6);
	CHECK_EQ(page_alloc_range(0, 1, 0), 0);
	CHECK_EQ(page_alloc_range(1, 3, 0), 0);
	CHECK_EQ(page_alloc_range(1ULL << 40, 1, 0), 0);
}

TEST(boot_services_added_later)
{
	u64 before;

	setup(qemu_like, 6);
	before = page_alloc_free_pages();
	page_alloc_add_range(0x40000000, 0x100000);
	CHECK_EQ(page_alloc_free_pages(), before + 256);
	page_alloc_add_range(0x40000000, 0x100000); /* adding twice counts once */
	CHECK_EQ(page_alloc_free_pages(), before + 256);
}

TEST(alloc_free_cycles_restore_count)
{
	hpa_t p[64];
	u64 start;

	setup(qemu_like, 6);
	start = page_alloc_free_pages();
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 64; i++)
			p[i] = page_alloc_range((u64)(i % 7) + 1, i % 2 ? 512 : 1, 0);
		for (int i = 0; i < 64; i++)
			CHECK_EQ(page_free_range(p[i], (u64)(i % 7) + 1), 0);
	}
	CHECK_EQ(page_alloc_free_pages(), start);
}

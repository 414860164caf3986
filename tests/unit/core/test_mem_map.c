// SPDX-License-Identifier: MIT
/* Unit tests for boot/mem_map.c: sorting, merging and carving the memory map. */
#include "test.h"
#include <keel/mem_map.h>
#include <stdlib.h>

static struct mem_map *fresh(void)
{
	struct mem_map *bi = calloc(1, sizeof(*bi));

	return bi;
}

TEST(normalize_sorts_and_merges)
{
	struct mem_map *bi = fresh();

	mem_map_add(bi, 0x200000, 0x100000, MEM_FREE);
	mem_map_add(bi, 0x0, 0xa0000, MEM_FREE);
	mem_map_add(bi, 0x100000, 0x100000, MEM_FREE);
	mem_map_add(bi, 0x300000, 0x1000, MEM_RESERVED);
	mem_map_add(bi, 0x301000, 0, MEM_FREE); /* empty: ignored */
	mem_map_normalize(bi);
	CHECK_EQ(bi->nr, 3);
	CHECK_EQ(bi->r[0].base, 0);
	CHECK_EQ(bi->r[1].base, 0x100000);
	CHECK_EQ(bi->r[1].size, 0x200000);
	CHECK_EQ(bi->r[2].type, MEM_RESERVED);
	free(bi);
}

TEST(carve_splits_in_three)
{
	struct mem_map *bi = fresh();

	mem_map_add(bi, 0x100000, 0x1000000, MEM_HYPERVISOR);
	CHECK_EQ(mem_map_carve(bi, 0x200000, 0x3000, MEM_MODULE), 0);
	CHECK_EQ(bi->nr, 3);
	CHECK_EQ(bi->r[0].size, 0x100000);
	CHECK_EQ(bi->r[1].base, 0x200000);
	CHECK_EQ(bi->r[1].type, MEM_MODULE);
	CHECK_EQ(bi->r[2].base, 0x203000);
	CHECK_EQ(bi->r[2].base + bi->r[2].size, 0x1100000);
	free(bi);
}

TEST(carve_at_edges_and_outside)
{
	struct mem_map *bi = fresh();

	mem_map_add(bi, 0x100000, 0x10000, MEM_FREE);
	CHECK_EQ(mem_map_carve(bi, 0x100000, 0x10000, MEM_MODULE), 0); /* whole region */
	CHECK_EQ(bi->nr, 1);
	CHECK_EQ(bi->r[0].type, MEM_MODULE);
	CHECK_EQ(mem_map_carve(bi, 0x0ff000, 0x2000, MEM_FREE), -22); /* straddles */
	CHECK_EQ(mem_map_carve(bi, 0x900000, 0x1000, MEM_FREE), -22); /* unknown */
	CHECK_EQ(mem_map_carve(bi, 0x100000, 0, MEM_FREE), -22);
	CHECK_EQ(bi->nr, 1);
	free(bi);
}

TEST(table_full)
{
	struct mem_map *bi = fresh();

	for (u32 i = 0; i < BOOT_MAX_REGIONS; i++)
		CHECK_EQ(mem_map_add(bi, i * 0x2000ULL, 0x1000, i % 2 ? MEM_FREE : MEM_RESERVED),
			 0);
	CHECK_EQ(mem_map_add(bi, 1ULL << 40, 0x1000, MEM_FREE), -28);
	CHECK_EQ(mem_map_carve(bi, 0x2000, 0x1000, MEM_MODULE), -28);
	free(bi);
}

TEST(type_names)
{
	CHECK_STR(mem_type_name(MEM_FREE), "free");
	CHECK_STR(mem_type_name(MEM_MODULE), "boot-module");
	CHECK_STR(mem_type_name(999), "unknown");
}

/* SPDX-License-Identifier: MIT */
/* One radix page-table builder for every format: NPT, EPT, and the IOMMUs' tables. */
#ifndef KEEL_PAGETABLE_H
#define KEEL_PAGETABLE_H

#include <lib/types.h>

#define PT_R BIT(0)
#define PT_W BIT(1)
#define PT_X BIT(2)
#define PT_RWX (PT_R | PT_W | PT_X)
#define PT_OWNED BIT(3) /* the page belongs to the table's owner: released when unmapped */
#define PT_UC BIT(4)	/* uncached (device memory), for formats that carry a memory type */

/* 4 KiB at level 1, 2 MiB at level 2, 1 GiB at level 3 (what each entry at that level spans). */
#define PT_ENTRIES 512 /* a 4 KiB table of 8-byte entries, in every format */
#define PT_LEVEL_SHIFT(l) (12 + 9 * ((l)-1))
#define PT_LEVEL_SIZE(l) (1ULL << PT_LEVEL_SHIFT(l))

/*
 * A format: how entries look at each level. Levels are numbered from 1
 * (entries map 4 KiB) up to 'levels' (the root).
 */
struct pt_format {
	const char *name;
	u32 levels;
	u32 leaf_levels; /* bit (l - 1) set: level l may hold a leaf */
	u64 (*table_entry)(hpa_t next_table, u32 level);
	u64 (*leaf_entry)(hpa_t pa, u32 level, u32 perms);
	bool (*present)(u64 e);
	bool (*is_leaf)(u64 e, u32 level);
	hpa_t (*address)(u64 e, u32 level);
	u32 (*perms)(u64 e, u32 level); /* PT_* of a leaf */
	/*
	 * NULL where the walker snoops the CPU's caches. Else called after every
	 * write to a table (an entry, or a whole new table page) to write it back
	 * to memory, before any entry that makes it reachable is written.
	 */
	void (*sync)(const void *p, u64 len);
};

struct page_table {
	const struct pt_format *fmt;
	hpa_t root;
	u64 table_pages; /* pages used by the tables themselves */
	/* Called for each PT_OWNED page range as it leaves the table. */
	void (*release)(hpa_t pa, u64 size);
	/*
	 * Set when other CPUs may walk this table while it changes: table pages
	 * that leave it wait on `deferred` (linked through their first word)
	 * until pt_free_deferred(), once no CPU can still hold them. Owned
	 * pages must not leave it then (a hypervisor bug: ASSERT).
	 */
	bool defer_frees;
	u64 *deferred;
	u64 removed; /* present entries dropped so far (by unmaps, or maps over them) */
};

int pt_init(struct page_table *pt, const struct pt_format *fmt, void (*release)(hpa_t, u64));
void pt_free_deferred(struct page_table *pt);
/*
 * Maps [va, va + size) to [pa, pa + size) with the largest pages alignment
 * allows, replacing what was there (large pages are split as needed).
 * All of va, pa and size must be 4 KiB aligned. -ENOMEM if a table page
 * cannot be had (the range may then be partly mapped).
 */
int pt_map(struct page_table *pt, u64 va, hpa_t pa, u64 size, u32 perms);
int pt_unmap(struct page_table *pt, u64 va, u64 size);
/*
 * Takes the 4 KiB page at va out of the table (splitting a large leaf) and
 * hands it to the caller with its perms, owned or not: nothing is released.
 * -ENOENT if nothing is mapped there.
 */
int pt_take(struct page_table *pt, u64 va, hpa_t *pa, u32 *perms);
/* Translates va; false if unmapped. *size gets the leaf's page size. */
bool pt_lookup(const struct page_table *pt, u64 va, hpa_t *pa, u32 *perms, u64 *size);
/* Calls fn for each leaf in address order (va, pa, size, perms); stops if fn returns nonzero. */
int pt_walk(const struct page_table *pt,
	    int (*fn)(void *ctx, u64 va, hpa_t pa, u64 size, u32 perms), void *ctx);
void pt_destroy(struct page_table *pt);

#endif

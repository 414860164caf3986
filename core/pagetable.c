// SPDX-License-Identifier: MIT
/*
 * The one page-table walker. Every format (NPT, EPT, VT-d, AMD-Vi) is a
 * struct pt_format that says how an entry is built and read at each level;
 * mapping, splitting, unmapping, lookup and teardown are written once here.
 */
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/pagetable.h>

static u64 *table_at(hpa_t pa)
{
	return phys_to_virt(pa);
}

static u32 index_of(u64 va, u32 level)
{
	return (u32)((va >> PT_LEVEL_SHIFT(level)) & (PT_ENTRIES - 1));
}

/*
 * Formats whose walker does not snoop the CPU's caches (VT-d with ECAP.C = 0)
 * get each write to a table written back before anything can point at it.
 */
static void sync(const struct page_table *pt, const void *p, u64 len)
{
	if (pt->fmt->sync)
		pt->fmt->sync(p, len);
}

static void entry_set(const struct page_table *pt, u64 *e, u64 v)
{
	*e = v;
	sync(pt, e, sizeof(*e));
}

static int table_new(struct page_table *pt, hpa_t *pa)
{
	u64 *t = page_alloc_zeroed(1);

	if (!t)
		return -ENOMEM;
	sync(pt, t, PAGE_SIZE); /* zeroes, not what the page held before, as the walker's view */
	pt->table_pages++;
	*pa = virt_to_phys(t);
	return 0;
}

int pt_init(struct page_table *pt, const struct pt_format *fmt, void (*release)(hpa_t, u64))
{
	pt->fmt = fmt;
	pt->table_pages = 0;
	pt->release = release;
	return table_new(pt, &pt->root);
}

/* A table page that left the tree: freed now, or later if another CPU may still walk it. */
static void table_free(struct page_table *pt, u64 *t)
{
	pt->table_pages--;
	if (pt->defer_frees) {
		*t = (u64)pt->deferred;
		pt->deferred = t;
		return;
	}
	page_free(t, 1);
}

/* Drops an entry and everything below it, releasing owned pages. */
static void drop_entry(struct page_table *pt, u64 *e, u32 level)
{
	const struct pt_format *f = pt->fmt;

	if (!f->present(*e))
		return;
	pt->removed++;
	if (f->is_leaf(*e, level)) {
		/*
		 * Owned memory leaves only with the whole table, when nothing walks it: a
		 * page freed while a CPU may still hold its translation could be reused.
		 */
		ASSERT(!pt->defer_frees || !(f->perms(*e, level) & PT_OWNED));
		if ((f->perms(*e, level) & PT_OWNED) && pt->release)
			pt->release(f->address(*e, level), PT_LEVEL_SIZE(level));
		entry_set(pt, e, 0);
		return;
	}
	u64 *next = table_at(f->address(*e, level));

	entry_set(pt, e, 0); /* unlinked before its entries go */
	for (u32 i = 0; i < PT_ENTRIES; i++)
		drop_entry(pt, &next[i], level - 1);
	table_free(pt, next);
}

/* Turns a large leaf into a table of 512 smaller leaves with the same mapping. */
static int split(struct page_table *pt, u64 *e, u32 level)
{
	const struct pt_format *f = pt->fmt;
	hpa_t base = f->address(*e, level), tpa;
	u32 perms = f->perms(*e, level);
	u64 *t;
	int ret = table_new(pt, &tpa);

	if (ret)
		return ret;
	t = table_at(tpa);
	for (u32 i = 0; i < PT_ENTRIES; i++)
		t[i] = f->leaf_entry(base + i * PT_LEVEL_SIZE(level - 1), level - 1, perms);
	sync(pt, t, PAGE_SIZE); /* the new table complete before the entry points at it */
	entry_set(pt, e, f->table_entry(tpa, level));
	return 0;
}

/* The next-level table under *e, created or split out of a large leaf as needed. */
static int descend(struct page_table *pt, u64 *e, u32 level, u64 **next)
{
	const struct pt_format *f = pt->fmt;
	hpa_t tpa;
	int ret = 0;

	if (!f->present(*e)) {
		ret = table_new(pt, &tpa);
		if (!ret)
			entry_set(pt, e, f->table_entry(tpa, level));
	} else if (f->is_leaf(*e, level)) {
		ret = split(pt, e, level);
	}
	if (!ret)
		*next = table_at(f->address(*e, level));
	return ret;
}

static bool can_leaf(const struct pt_format *f, u32 level, u64 va, hpa_t pa, u64 len)
{
	u64 span = PT_LEVEL_SIZE(level);

	return (f->leaf_levels & BIT(level - 1)) && IS_ALIGNED(va, span) && IS_ALIGNED(pa, span) &&
	       len >= span;
}

static bool table_empty(const struct page_table *pt, const u64 *t)
{
	for (u32 i = 0; i < PT_ENTRIES; i++)
		if (pt->fmt->present(t[i]))
			return false;
	return true;
}

/* After an unmap: a table left with nothing in it goes back to the pool. */
static void prune(struct page_table *pt, u64 *e, u64 *next)
{
	if (!table_empty(pt, next))
		return;
	entry_set(pt, e, 0);
	table_free(pt, next);
}

void pt_free_deferred(struct page_table *pt)
{
	while (pt->deferred) {
		u64 *page = pt->deferred;

		pt->deferred = (u64 *)*page;
		page_free(page, 1);
	}
}

/* map (unmap if !map) [va, end) in the table at this level; pa follows va. */
static int update(struct page_table *pt, u64 *table, u32 level, u64 va, u64 end, hpa_t pa,
		  u32 perms, bool map)
{
	const struct pt_format *f = pt->fmt;

	while (va < end) {
		u64 span = PT_LEVEL_SIZE(level);
		u64 stop = MIN(end, ALIGN_DOWN(va, span) + span);
		u64 *e = &table[index_of(va, level)];
		u64 *next;
		int ret;

		if (!map && !f->present(*e)) {
			/* nothing to remove here */
		} else if (map ? can_leaf(f, level, va, pa, stop - va) : stop - va == span) {
			drop_entry(pt, e, level);
			if (map)
				entry_set(pt, e, f->leaf_entry(pa, level, perms));
		} else {
			ret = descend(pt, e, level, &next);
			if (ret)
				return ret;
			ret = update(pt, next, level - 1, va, stop, pa, perms, map);
			if (ret)
				return ret;
			if (!map)
				prune(pt, e, next);
		}
		pa += stop - va;
		va = stop;
	}
	return 0;
}

/* Inside what the table can translate (48 bits for 4 levels), without wrapping. */
static bool in_range(const struct page_table *pt, u64 va, u64 size)
{
	u64 limit = 1ULL << PT_LEVEL_SHIFT(pt->fmt->levels + 1);

	return IS_ALIGNED(va | size, PAGE_SIZE) && va + size >= va && va + size <= limit;
}

int pt_map(struct page_table *pt, u64 va, hpa_t pa, u64 size, u32 perms)
{
	if (!in_range(pt, va, size) || !IS_ALIGNED(pa, PAGE_SIZE))
		return -EINVAL;
	return update(pt, table_at(pt->root), pt->fmt->levels, va, va + size, pa, perms, true);
}

int pt_unmap(struct page_table *pt, u64 va, u64 size)
{
	if (!in_range(pt, va, size))
		return -EINVAL;
	return update(pt, table_at(pt->root), pt->fmt->levels, va, va + size, 0, 0, false);
}

int pt_take(struct page_table *pt, u64 va, hpa_t *pa, u32 *perms)
{
	const struct pt_format *f = pt->fmt;
	u64 *table = table_at(pt->root), *e;

	if (!in_range(pt, ALIGN_DOWN(va, PAGE_SIZE), PAGE_SIZE))
		return -EINVAL;
	for (u32 level = f->levels; level > 1; level--) {
		e = &table[index_of(va, level)];
		if (!f->present(*e))
			return -ENOENT;
		if (descend(pt, e, level, &table)) /* a large leaf becomes 512 small ones */
			return -ENOMEM;
	}
	e = &table[index_of(va, 1)];
	if (!f->present(*e))
		return -ENOENT;
	*pa = f->address(*e, 1);
	*perms = f->perms(*e, 1);
	*e = 0; /* the page is the caller's now: not released */
	pt->removed++;
	return 0;
}

bool pt_lookup(const struct page_table *pt, u64 va, hpa_t *pa, u32 *perms, u64 *size)
{
	const struct pt_format *f = pt->fmt;
	const u64 *table = table_at(pt->root);

	for (u32 level = f->levels; level >= 1; level--) {
		u64 e = table[index_of(va, level)];

		if (!f->present(e))
			return false;
		if (f->is_leaf(e, level)) {
			u64 span = PT_LEVEL_SIZE(level);

			*pa = f->address(e, level) + (va & (span - 1));
			if (perms)
				*perms = f->perms(e, level);
			if (size)
				*size = span;
			return true;
		}
		table = table_at(f->address(e, level));
	}
	return false;
}

static int walk_level(const struct page_table *pt, const u64 *table, u32 level, u64 base,
		      int (*fn)(void *, u64, hpa_t, u64, u32), void *ctx)
{
	const struct pt_format *f = pt->fmt;

	for (u32 i = 0; i < PT_ENTRIES; i++) {
		u64 e = table[i], va = base + i * PT_LEVEL_SIZE(level);
		int ret;

		if (!f->present(e))
			continue;
		if (f->is_leaf(e, level))
			ret = fn(ctx, va, f->address(e, level), PT_LEVEL_SIZE(level),
				 f->perms(e, level));
		else
			ret = walk_level(pt, table_at(f->address(e, level)), level - 1, va, fn,
					 ctx);
		if (ret)
			return ret;
	}
	return 0;
}

int pt_walk(const struct page_table *pt, int (*fn)(void *, u64, hpa_t, u64, u32), void *ctx)
{
	return walk_level(pt, table_at(pt->root), pt->fmt->levels, 0, fn, ctx);
}

void pt_destroy(struct page_table *pt)
{
	u64 *root = table_at(pt->root);

	if (!pt->root)
		return;
	pt->defer_frees = false;
	pt_free_deferred(pt);
	for (u32 i = 0; i < PT_ENTRIES; i++)
		drop_entry(pt, &root[i], pt->fmt->levels);
	table_free(pt, root);
	pt->root = 0;
}

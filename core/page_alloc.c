// SPDX-License-Identifier: MIT
/*
 * Physical page allocator. One bit per 4 KiB page from address 0 up to the
 * end of the highest usable region; a set bit means the page is free. The
 * allocator never touches the pages themselves, so it is tested on the host.
 */
#include <keel/page_alloc.h>
#include <keel/spinlock.h>

static struct {
	struct spinlock lock;
	u64 *bits;
	u64 nr_pages; /* pages covered by the bitmap */
	u64 free, total;
	u64 hint; /* first page worth looking at for single pages */
} pa;

static bool is_pool_type(u32 type)
{
	return type == MEM_FREE || type == MEM_BOOT_SERVICES || type == MEM_MODULE;
}

u64 page_alloc_bitmap_bytes(const struct mem_region *r, u32 n)
{
	u64 top = 0;

	for (u32 i = 0; i < n; i++)
		if (is_pool_type(r[i].type))
			top = MAX(top, r[i].base + r[i].size);
	return ALIGN_UP(top / PAGE_SIZE, 64) / 8;
}

static bool test_bit(u64 p)
{
	return pa.bits[p / 64] & BIT(p % 64);
}

static void set_free(u64 first, u64 n, bool free)
{
	for (u64 p = first; p < first + n; p++) {
		if (free)
			pa.bits[p / 64] |= BIT(p % 64);
		else
			pa.bits[p / 64] &= ~BIT(p % 64);
	}
}

static void add_locked(hpa_t base, u64 size)
{
	u64 first = ALIGN_UP(base, PAGE_SIZE) / PAGE_SIZE;
	u64 end = ALIGN_DOWN(base + size, PAGE_SIZE) / PAGE_SIZE;

	first = MAX(first, PAGE_ALLOC_LOW_LIMIT / PAGE_SIZE);
	end = MIN(end, pa.nr_pages);
	for (u64 p = first; p < end; p++) {
		if (test_bit(p))
			continue;
		set_free(p, 1, true);
		pa.free++;
		pa.total++;
	}
}

void page_alloc_init(const struct mem_region *r, u32 n, void *bitmap, u64 bitmap_bytes)
{
	pa.bits = bitmap;
	pa.nr_pages = bitmap_bytes * 8;
	pa.free = pa.total = 0;
	pa.hint = 0;
	for (u64 i = 0; i < bitmap_bytes / 8; i++)
		pa.bits[i] = 0;
	for (u32 i = 0; i < n; i++)
		if (r[i].type == MEM_FREE)
			add_locked(r[i].base, r[i].size);
}

void page_alloc_add_range(hpa_t base, u64 size)
{
	spin_lock(&pa.lock);
	add_locked(base, size);
	spin_unlock(&pa.lock);
}

/* Length of the run of free pages starting at p, looking no further than max. */
static u64 free_run(u64 p, u64 max)
{
	u64 n = 0;

	while (n < max && p + n < pa.nr_pages && test_bit(p + n))
		n++;
	return n;
}

static u64 find_single(u64 limit)
{
	for (u64 w = pa.hint / 64; w * 64 < limit; w++) {
		u64 p;

		if (!pa.bits[w])
			continue;
		p = w * 64 + (u64)__builtin_ctzll(pa.bits[w]);
		if (p < limit)
			return p;
	}
	return ~0ULL;
}

static u64 find_run(u64 npages, u64 align, u64 limit)
{
	u64 p = ALIGN_UP(PAGE_ALLOC_LOW_LIMIT / PAGE_SIZE, align);

	while (p + npages <= limit) {
		u64 run;

		if (!pa.bits[p / 64]) { /* nothing free up to the end of this word */
			p = ALIGN_UP((p / 64 + 1) * 64, align);
			continue;
		}
		run = free_run(p, npages);
		if (run == npages)
			return p;
		p = ALIGN_UP(p + run + 1, align);
	}
	return ~0ULL;
}

hpa_t page_alloc_range(u64 npages, u64 align_pages, hpa_t below)
{
	u64 limit = pa.nr_pages, p;

	if (!npages || !align_pages || (align_pages & (align_pages - 1)))
		return 0;
	if (below)
		limit = MIN(limit, (below + 1) / PAGE_SIZE);
	spin_lock(&pa.lock);
	if (npages == 1 && align_pages == 1) {
		p = find_single(limit);
		if (p == ~0ULL && pa.hint) { /* the hint may have skipped freed pages */
			pa.hint = 0;
			p = find_single(limit);
		}
		if (p != ~0ULL)
			pa.hint = p;
	} else {
		p = find_run(npages, align_pages, limit);
	}
	if (p != ~0ULL) {
		set_free(p, npages, false);
		pa.free -= npages;
	}
	spin_unlock(&pa.lock);
	return p == ~0ULL ? 0 : p * PAGE_SIZE;
}

int page_free_range(hpa_t base, u64 npages)
{
	u64 first = base / PAGE_SIZE;

	if (!IS_ALIGNED(base, PAGE_SIZE) || first < PAGE_ALLOC_LOW_LIMIT / PAGE_SIZE ||
	    first + npages > pa.nr_pages || first + npages < first)
		return -EINVAL;
	spin_lock(&pa.lock);
	for (u64 p = first; p < first + npages; p++) {
		if (test_bit(p)) {
			spin_unlock(&pa.lock);
			return -EINVAL; /* double free: change nothing */
		}
	}
	set_free(first, npages, true);
	pa.free += npages;
	if (first < pa.hint)
		pa.hint = first;
	spin_unlock(&pa.lock);
	return 0;
}

u64 page_alloc_free_pages(void)
{
	return pa.free;
}

u64 page_alloc_total_pages(void)
{
	return pa.total;
}

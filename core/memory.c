// SPDX-License-Identifier: MIT
/* Turns the boot memory map into the page pool and reports it. */
#include <keel/log.h>
#include <keel/mem_map.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <lib/string.h>

void memory_init(struct boot_info *bi)
{
	u64 bytes = page_alloc_bitmap_bytes(bi->map.r, bi->map.nr);
	u64 need = ALIGN_UP(bytes, PAGE_SIZE);
	hpa_t where = 0;

	for (u32 i = 0; i < bi->map.nr && !where; i++) {
		struct mem_region *r = &bi->map.r[i];
		u64 start = MAX(r->base, PAGE_ALLOC_LOW_LIMIT);

		if (r->type == MEM_FREE && start < r->base + r->size &&
		    r->base + r->size - start >= need)
			where = start;
	}
	if (!where || mem_map_carve(&bi->map, where, need, MEM_HYPERVISOR))
		panic("no room for the page allocator's %llu KiB bitmap",
		      (unsigned long long)(need / KiB));
	page_alloc_init(bi->map.r, bi->map.nr, phys_to_virt(where), bytes);
}

void memory_release_boot_services(struct boot_info *bi)
{
	for (u32 i = 0; i < bi->map.nr; i++) {
		struct mem_region *r = &bi->map.r[i];

		if (r->type != MEM_BOOT_SERVICES)
			continue;
		r->type = MEM_FREE;
		page_alloc_add_range(r->base, r->size);
	}
	mem_map_normalize(&bi->map);
}

void memory_report(const struct boot_info *bi)
{
	u64 by_type[MEM_TYPE_COUNT] = { 0 };

	for (u32 i = 0; i < bi->map.nr; i++) {
		const struct mem_region *r = &bi->map.r[i];

		pr_debug("  %016llx-%016llx %s", (unsigned long long)r->base,
			 (unsigned long long)(r->base + r->size - 1), mem_type_name(r->type));
		if (r->type < MEM_TYPE_COUNT)
			by_type[r->type] += r->size;
	}
	pr_info("memory: %llu MiB usable, %llu MiB free in the pool, %llu KiB hypervisor, %llu KiB boot modules",
		(unsigned long long)(page_alloc_total_pages() * PAGE_SIZE / MiB),
		(unsigned long long)(page_alloc_free_pages() * PAGE_SIZE / MiB),
		(unsigned long long)(by_type[MEM_HYPERVISOR] / KiB),
		(unsigned long long)(by_type[MEM_MODULE] / KiB));
}

void *page_alloc_zeroed_below(u64 npages, hpa_t below)
{
	hpa_t pa = page_alloc_range(npages, 1, below);

	if (!pa)
		return NULL;
	memset(phys_to_virt(pa), 0, npages * PAGE_SIZE);
	return phys_to_virt(pa);
}

void *page_alloc_zeroed(u64 npages)
{
	return page_alloc_zeroed_below(npages, 0);
}

void page_free(void *p, u64 npages)
{
	ASSERT(page_free_range(virt_to_phys(p), npages) == 0);
}

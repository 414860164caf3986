/* SPDX-License-Identifier: MIT */
/* The physical page allocator: a bitmap over the RAM the hypervisor may hand out. */
#ifndef KEEL_PAGE_ALLOC_H
#define KEEL_PAGE_ALLOC_H

#include <keel/boot_info.h>

/* RAM below this stays with the firmware's real-mode users and the service VM. */
#define PAGE_ALLOC_LOW_LIMIT (1 * MiB)

/* Bytes of bitmap needed to cover every region of the given types. */
u64 page_alloc_bitmap_bytes(const struct mem_region *r, u32 n);
/* Starts with everything allocated, then frees each MEM_FREE region. */
void page_alloc_init(const struct mem_region *r, u32 n, void *bitmap, u64 bitmap_bytes);
/* Hands [base, base + size) to the allocator (page-aligned inward). */
void page_alloc_add_range(hpa_t base, u64 size);
/* npages contiguous pages aligned to align_pages, ending at or below 'below' (0: anywhere). */
hpa_t page_alloc_range(u64 npages, u64 align_pages, hpa_t below);
/* Returns -EINVAL, changing nothing, if any page is already free or outside the pool. */
int page_free_range(hpa_t base, u64 npages);
u64 page_alloc_free_pages(void);
u64 page_alloc_total_pages(void);

/* Core conveniences over the identity map: zeroed pages, NULL on failure. */
void *page_alloc_zeroed(u64 npages);
void *page_alloc_zeroed_below(u64 npages, hpa_t below);
void page_free(void *p, u64 npages);

#endif

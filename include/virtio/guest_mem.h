/* SPDX-License-Identifier: MIT */
/* The only way virtio/ reaches guest RAM: whole-range mappings and bounded copies. */
#ifndef KEEL_GUEST_MEM_H
#define KEEL_GUEST_MEM_H

#include <lib/types.h>

#define GUEST_MEM_MAX_REGIONS 8

/* One run of guest RAM, mapped contiguously at host. */
struct guest_mem_region {
	gpa_t gpa;
	u64 size;
	u8 *host;
};

/*
 * Guest RAM as the device models see it. The embedder either lists the
 * RAM runs in regions[] (guest_mem_add_region) or installs its own
 * translation in map. map answers a host pointer for the whole of
 * [gpa, gpa + len) when that range lies in guest RAM, NULL otherwise; it
 * is never asked for len 0 or for a range that wraps around 2^64.
 */
struct guest_mem {
	void *(*map)(void *ctx, gpa_t gpa, u64 len);
	void *ctx;
	u32 nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

void guest_mem_init(struct guest_mem *gm);
int guest_mem_add_region(struct guest_mem *gm, gpa_t gpa, u64 size, void *host);

/* Host pointer for [gpa, gpa + len), or NULL if any byte is not guest RAM. */
void *guest_mem_map(const struct guest_mem *gm, gpa_t gpa, u64 len);

/* Copies; -EFAULT (and nothing copied) unless the whole range is guest RAM. */
int guest_mem_read(const struct guest_mem *gm, gpa_t gpa, void *dst, size_t len);
int guest_mem_write(const struct guest_mem *gm, gpa_t gpa, const void *src, size_t len);

#endif

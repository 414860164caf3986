// SPDX-License-Identifier: MIT
/* Guest RAM lookup for the device models: a region table or the embedder's own map(). */
#include <virtio/guest_mem.h>
#include <lib/string.h>

void guest_mem_init(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
}

int guest_mem_add_region(struct guest_mem *gm, gpa_t gpa, u64 size, void *host)
{
	if (!size || !host || gpa + size < gpa)
		return -EINVAL;
	if (gm->nr_regions >= GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	gm->regions[gm->nr_regions].gpa = gpa;
	gm->regions[gm->nr_regions].size = size;
	gm->regions[gm->nr_regions].host = host;
	gm->nr_regions++;
	return 0;
}

/* The range must sit inside one region: a buffer may not straddle a hole. */
static void *guest_mem_lookup(const struct guest_mem *gm, gpa_t gpa, u64 len)
{
	for (u32 i = 0; i < gm->nr_regions && i < GUEST_MEM_MAX_REGIONS; i++) {
		const struct guest_mem_region *r = &gm->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->host + (gpa - r->gpa);
	}
	return NULL;
}

void *guest_mem_map(const struct guest_mem *gm, gpa_t gpa, u64 len)
{
	if (!gm || !len || gpa + len < gpa)
		return NULL;
	if (gm->map)
		return gm->map(gm->ctx, gpa, len);
	return guest_mem_lookup(gm, gpa, len);
}

int guest_mem_read(const struct guest_mem *gm, gpa_t gpa, void *dst, size_t len)
{
	const void *src;

	if (!len)
		return 0;
	src = guest_mem_map(gm, gpa, len);
	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, gpa_t gpa, const void *src, size_t len)
{
	void *dst;

	if (!len)
		return 0;
	dst = guest_mem_map(gm, gpa, len);
	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

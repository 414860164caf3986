/* SPDX-License-Identifier: MIT */
/* Setting up the hypervisor's memory from boot_info: the page pool and the physical map. */
#ifndef KEEL_MEMORY_H
#define KEEL_MEMORY_H

#include <keel/boot_info.h>

/* Places the allocator bitmap in free RAM and fills the pool; boot-services RAM stays out. */
void memory_init(struct boot_info *bi);
/* Once the core runs on its own stack, GDT, IDT and page tables. */
void memory_release_boot_services(struct boot_info *bi);
void memory_report(const struct boot_info *bi);

/* The hypervisor identity-maps physical memory. */
static inline void *phys_to_virt(hpa_t pa)
{
	return (void *)(uintptr_t)pa;
}

static inline hpa_t virt_to_phys(const void *p)
{
	return (hpa_t)(uintptr_t)p;
}

#endif

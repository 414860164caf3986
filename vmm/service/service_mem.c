// SPDX-License-Identifier: MIT
/*
 * The service VM's memory. Its RAM is host RAM mapped at the same address
 * (GPA = HPA), so devices it drives can DMA without an IOMMU: all free RAM
 * below 1 MiB plus service.memory bytes from the pool in large chunks, and
 * the e820 map that tells it so. What else it reaches: service_map.c.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/virt.h>
#include <keel/log.h>
#include <keel/mem_map.h>
#include <keel/page_alloc.h>
#include <keel/service_vm.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

#define LOW_LIMIT (1 * MiB)
#define CHUNK_MAX (1 * GiB)
#define CHUNK_MIN (2 * MiB)

int service_mem_alloc(struct service_layout *sl, const struct boot_info *bi, u64 bytes)
{
	u64 left = ALIGN_UP(bytes, CHUNK_MIN), chunk = CHUNK_MAX;

	while (left) {
		u64 size = MIN(chunk, left);
		hpa_t pa = page_alloc_range(size / PAGE_SIZE, CHUNK_MIN / PAGE_SIZE, 0);

		if (!pa) {
			if (chunk == CHUNK_MIN || sl->nr_ram == SERVICE_MAX_RAM)
				goto out_free;
			chunk /= 2;
			continue;
		}
		sl->ram[sl->nr_ram].base = pa;
		sl->ram[sl->nr_ram++].size = size;
		left -= size;
	}
	/* a 64 KiB boot area in free RAM below 1 MiB, above the real-mode IVT and BDA */
	for (u32 i = 0; i < bi->map.nr; i++) {
		const struct mem_region *r = &bi->map.r[i];
		u64 start = MAX(r->base, 0x10000);

		if (r->type == MEM_FREE &&
		    start + LINUX_BOOT_AREA_SIZE <= MIN(r->base + r->size, LOW_LIMIT)) {
			sl->boot_area = start;
			return 0;
		}
	}
	pr_err("service VM: no 64 KiB of free RAM below 1 MiB for its boot data");
out_free: /* nothing is mapped yet: give back what was taken */
	while (sl->nr_ram) {
		sl->nr_ram--;
		page_free_range(sl->ram[sl->nr_ram].base, sl->ram[sl->nr_ram].size / PAGE_SIZE);
	}
	return -ENOMEM;
}

static u32 e820_type(u32 t)
{
	switch (t) {
	case MEM_FREE:
		return E820_RAM;
	case MEM_ACPI_RECLAIM:
		return E820_ACPI;
	case MEM_ACPI_NVS:
		return E820_NVS;
	case MEM_UNUSABLE:
		return E820_UNUSABLE;
	case MEM_PERSISTENT:
		return E820_PMEM;
	default:
		return E820_RESERVED;
	}
}

static bool is_host_ram(u32 type)
{
	return type == MEM_FREE || type == MEM_BOOT_SERVICES || type == MEM_HYPERVISOR ||
	       type == MEM_MODULE;
}

/* The host map with all RAM not the service VM's turned into "reserved", then its own marked RAM. */
int service_mem_e820(struct service_layout *sl, const struct boot_info *bi)
{
	static struct mem_map m; /* boot CPU only, once */

	m.nr = 0;
	for (u32 i = 0; i < bi->map.nr; i++) {
		const struct mem_region *r = &bi->map.r[i];
		bool low_free = r->type == MEM_FREE && r->base < LOW_LIMIT;

		mem_map_add(&m, r->base, r->size,
			    is_host_ram(r->type) && !low_free ? MEM_HYPERVISOR : r->type);
	}
	mem_map_normalize(&m);
	for (u32 i = 0; i < sl->nr_ram; i++)
		if (mem_map_carve(&m, sl->ram[i].base, sl->ram[i].size, MEM_FREE))
			return -ENOSPC;
	if (mem_map_carve(&m, sl->acpi_page, PAGE_SIZE, MEM_ACPI_RECLAIM))
		return -ENOSPC;
	if (m.nr > E820_MAX)
		return -E2BIG;
	for (u32 i = 0; i < m.nr; i++)
		sl->e820[i] =
			(struct e820_entry){ m.r[i].base, m.r[i].size, e820_type(m.r[i].type) };
	sl->nr_e820 = m.nr;
	return 0;
}

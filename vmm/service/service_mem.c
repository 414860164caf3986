// SPDX-License-Identifier: MIT
/*
 * The service VM's memory. Its RAM is host RAM mapped at the same address
 * (GPA = HPA), so devices it drives can DMA without an IOMMU: all free RAM
 * below 1 MiB plus service.memory bytes from the pool in large chunks. Its
 * guest-physical map is the whole physical address space minus every page
 * of RAM that is not its own, and minus the devices Keel emulates. The
 * first MiB stays mapped whole: Linux scans the BIOS areas there, and Keel
 * needs its AP start-up page only while it boots its own CPUs.
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
#define MAP_SPAN (512 * GiB)

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

/*
 * Everything the CPU can address (64-bit PCI BARs may sit anywhere in it),
 * or, without 1 GiB pages to map it cheaply, the first 512 GiB.
 */
static u64 map_top(const struct boot_info *bi)
{
	u32 bits = cpuid(0x80000008).eax & 0xff;
	u64 top = 4 * GiB;

	for (u32 i = 0; i < bi->map.nr; i++)
		top = MAX(top, bi->map.r[i].base + bi->map.r[i].size);
	if (npt_format.leaf_levels & BIT(2))
		top = MAX(top, 1ULL << MIN(bits, 48u));
	return ALIGN_UP(top, MAP_SPAN);
}

int service_mem_map(struct vm *vm, const struct service_layout *sl, const struct boot_info *bi,
		    const struct acpi_info *ai)
{
	int ret = vm_map(vm, 0, 0, map_top(bi), PT_RWX);

	for (u32 i = 0; !ret && i < bi->map.nr; i++) {
		const struct mem_region *r = &bi->map.r[i];

		u64 start = MAX(r->base, LOW_LIMIT), end = r->base + r->size;

		if (is_host_ram(r->type) && end > start)
			ret = pt_unmap(&vm->gpa, start, end - start);
	}
	for (u32 i = 0; !ret && i < sl->nr_ram; i++) /* owned: back to the pool if the VM dies */
		ret = vm_map(vm, sl->ram[i].base, sl->ram[i].base, sl->ram[i].size,
			     PT_RWX | PT_OWNED);
	if (!ret)
		ret = vm_map(vm, sl->acpi_page, sl->acpi_page, PAGE_SIZE, PT_RWX);
	if (!ret) /* emulated: the local APIC page and the I/O APICs */
		ret = pt_unmap(&vm->gpa, VLAPIC_BASE, PAGE_SIZE);
	for (u32 i = 0; !ret && i < ai->nr_ioapics; i++)
		ret = pt_unmap(&vm->gpa, ai->ioapics[i].address & ~(PAGE_SIZE - 1), PAGE_SIZE);
	return ret;
}

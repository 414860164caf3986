// SPDX-License-Identifier: MIT
/* Converts the UEFI memory map into Keel's own region list once boot services are gone. */
#include "efi_boot.h"
#include <keel/mem_map.h>

static u32 region_type(u32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
		return MEM_FREE;
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return MEM_BOOT_SERVICES;
	case EfiLoaderCode:
	case EfiLoaderData:
		return MEM_HYPERVISOR;
	case EfiACPIReclaimMemory:
		return MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return MEM_ACPI_NVS;
	case EfiUnusableMemory:
		return MEM_UNUSABLE;
	case 14: /* EfiPersistentMemory, UEFI 2.10 table 7.10 (newer than GNU-EFI 3.0.15) */
		return MEM_PERSISTENT;
	default: /* runtime services, MMIO, PAL code, reserved */
		return MEM_RESERVED;
	}
}

void efi_convert_memory_map(struct boot_info *bi, const void *map, UINTN map_size, UINTN desc_size)
{
	const u8 *p = map;

	bi->map.nr = 0;
	for (UINTN off = 0; off + desc_size <= map_size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(p + off);

		mem_map_add(&bi->map, d->PhysicalStart, d->NumberOfPages * PAGE_SIZE,
			    region_type(d->Type));
	}
	mem_map_normalize(&bi->map);
	for (u32 i = 0; i < bi->nr_modules; i++)
		mem_map_carve(&bi->map, bi->modules[i].base,
			      ALIGN_UP(bi->modules[i].size ?: 1, PAGE_SIZE), MEM_MODULE);
}

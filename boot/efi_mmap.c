// SPDX-License-Identifier: MIT
/* The UEFI memory map: Keel's own region list once boot services are gone, and RAM before. */
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

u64 efi_usable_ram(void)
{
	UINTN size = 0, key, desc_size = 0;
	UINT32 ver;
	EFI_STATUS st = efi_bs->GetMemoryMap(&size, NULL, &key, &desc_size, &ver);
	u8 *map = NULL;
	u64 bytes = 0;

	if (st != EFI_BUFFER_TOO_SMALL)
		return 0;
	size += 8 * desc_size; /* the pool allocation may add entries */
	if (EFI_ERROR(efi_bs->AllocatePool(EfiLoaderData, size, (void **)&map)))
		return 0;
	st = efi_bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)map, &key, &desc_size, &ver);
	for (UINTN off = 0; !EFI_ERROR(st) && off + desc_size <= size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map + off);

		if (region_type(d->Type) == MEM_FREE || region_type(d->Type) == MEM_BOOT_SERVICES)
			bytes += d->NumberOfPages * PAGE_SIZE;
	}
	efi_bs->FreePool(map);
	return bytes;
}

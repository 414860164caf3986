// SPDX-License-Identifier: MIT
/*
 * The guest's physical memory map, in one place: the Linux loader's e820
 * table, the multiboot memory map and fw_cfg's etc/e820 are all this list,
 * so every way a guest learns its RAM names the same bytes.
 */
#include <keel/guest.h>

u64 guest_low_ram(u64 ram_size, bool firmware)
{
	if (!firmware)
		return MIN(ram_size, GUEST_RAM_BELOW_4G);
	return ram_size < GUEST_FW_LOW_MAX ? ram_size : GUEST_FW_LOW_SPLIT;
}

u32 guest_e820(u64 ram_size, struct e820_entry *e)
{
	u64 low_top = guest_low_ram(ram_size, false);
	u32 n = 0;

	e[n++] = (struct e820_entry){ 0, GUEST_LOW_RAM_END, E820_RAM };
	e[n++] = (struct e820_entry){ GUEST_LOW_RAM_END, GUEST_ACPI_BASE - GUEST_LOW_RAM_END,
				      E820_RESERVED };
	e[n++] = (struct e820_entry){ GUEST_ACPI_BASE, GUEST_ACPI_SIZE, E820_ACPI };
	e[n++] = (struct e820_entry){ MiB, low_top - MiB, E820_RAM };
	e[n++] = (struct e820_entry){ GUEST_ECAM_BASE, MiB, E820_RESERVED };
	if (ram_size > low_top)
		e[n++] = (struct e820_entry){ 4 * GiB, ram_size - low_top, E820_RAM };
	return n;
}

/*
 * OVMF reads only the RAM entries (MemDetect's E820 scan): the top of low
 * RAM, and RAM above 4 GiB. It reserves its ECAM and the legacy areas itself.
 */
u32 guest_fw_e820(u64 ram_size, struct e820_entry *e)
{
	u64 low_top = guest_low_ram(ram_size, true);
	u32 n = 0;

	e[n++] = (struct e820_entry){ 0, low_top, E820_RAM };
	if (ram_size > low_top)
		e[n++] = (struct e820_entry){ 4 * GiB, ram_size - low_top, E820_RAM };
	return n;
}

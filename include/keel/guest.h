/* SPDX-License-Identifier: MIT */
/* Guest VMs: the small synthetic platform they get, and loading their kernel. */
#ifndef KEEL_GUEST_H
#define KEEL_GUEST_H

#include <keel/linux_boot.h>
#include <keel/vuart.h>

struct vm;

#define GUEST_ERR_MAX 160
#define GUEST_CMDLINE_MAX 2048 /* Linux x86 COMMAND_LINE_SIZE */

/* Guest-physical layout. */
#define GUEST_ACPI_BASE 0xe0000ULL /* RSDP and tables, in the BIOS area */
#define GUEST_ACPI_SIZE 0x10000ULL
#define GUEST_BOOT_AREA 0x10000ULL /* boot_params, page tables for the Linux entry */
#define GUEST_LOW_RAM_END 0x9fc00ULL
#define GUEST_MMIO32_BASE 0xc0000000ULL /* PCI BARs */
#define GUEST_MMIO32_SIZE 0x20000000ULL
#define GUEST_ECAM_BASE 0xe0000000ULL
#define GUEST_MMIO64_BASE (64 * GiB)
#define GUEST_MMIO64_SIZE (64 * GiB)
#define GUEST_RAM_BELOW_4G (3 * GiB)
#define GUEST_E820_MAX 8

struct guest_config {
	const char *name;
	u64 memory;
	u32 vcpus;
	u32 first_cpu;
	bool testdev;
	vuart_sink_fn console; /* where COM1's output goes */
	void *console_ctx;
};

/* A VM with RAM and the guest platform, not yet loaded; NULL with a message in err. */
struct vm *guest_create(const struct guest_config *gc, char *err);
/* What a guest boots, in Keel's memory. */
struct guest_images {
	const u8 *kernel;
	u64 kernel_size;
	const u8 *initrd; /* NULL: none; a multiboot kernel gets it as module 0 */
	u64 initrd_size;
	const char *cmdline;
	const char *initrd_cmdline; /* module 0's command line (multiboot); NULL: "" */
};

/* Boots a Linux bzImage (64-bit protocol) or a multiboot kernel. */
int guest_load(struct vm *vm, const struct guest_images *im, char *err);
/*
 * The guest's physical memory map for ram_size bytes of RAM laid out as
 * guest_create() does (at most GUEST_E820_MAX entries, in address order):
 * the e820 table Linux gets, the multiboot map and fw_cfg's etc/e820.
 */
u32 guest_e820(u64 ram_size, struct e820_entry *e);
/* Presses the ACPI power button (the guest decides what to do). */
void guest_power_button(struct vm *vm);

#endif

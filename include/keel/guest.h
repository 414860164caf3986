/* SPDX-License-Identifier: MIT */
/* Guest VMs: the small synthetic platform they get, and loading their kernel. */
#ifndef KEEL_GUEST_H
#define KEEL_GUEST_H

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
/* Boots a Linux bzImage (64-bit protocol) or a multiboot kernel; the images are in Keel's memory. */
int guest_load(struct vm *vm, const u8 *kernel, u64 kernel_size, const u8 *initrd, u64 initrd_size,
	       const char *cmdline, char *err);
/* Presses the ACPI power button (the guest decides what to do). */
void guest_power_button(struct vm *vm);

#endif

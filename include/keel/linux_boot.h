/* SPDX-License-Identifier: MIT */
/* Booting a Linux bzImage through the 64-bit boot protocol (Documentation/arch/x86/boot.rst). */
#ifndef KEEL_LINUX_BOOT_H
#define KEEL_LINUX_BOOT_H

#include <keel/boot_info.h>

struct vm;

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4
#define E820_UNUSABLE 5
#define E820_PMEM 7
#define E820_MAX 128 /* entries in boot_params */

struct e820_entry {
	u64 addr, size;
	u32 type;
} __packed;

struct linux_boot {
	const u8 *kernel;
	u64 kernel_size;
	const u8 *initrd; /* NULL: none */
	u64 initrd_size;
	const char *cmdline;
	u64 rsdp; /* guest-physical address of the RSDP for the kernel, 0: none */
	const struct e820_entry *e820;
	u32 nr_e820;
	const struct boot_framebuffer *fb; /* handed over as an EFI framebuffer, or NULL */
	/* BOOT_AREA_SIZE bytes of RAM for boot_params, GDT, page tables */
	gpa_t boot_area;
};

#define LINUX_BOOT_AREA_SIZE (64 * KiB)
#define LINUX_ERR_MAX 160

/* Is this a bzImage Keel can boot (64-bit entry, boot protocol 2.12+)? -ENOEXEC with a reason. */
int linux_check_image(const u8 *img, u64 size, char *err);
/* Places kernel, initrd, command line and boot_params in the VM and sets vCPU 0's entry state. */
int linux_load(struct vm *vm, const struct linux_boot *lb, char *err);

#endif

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

/*
 * The firmware flavor (keelctl create --firmware): the platform Debian's OVMF
 * recognises as QEMU's Q35 (OvmfPkg PlatformInitLib, Q35 host bridge 0x29C0),
 * so its PCIEXBAR, PM base and RAM rules are the ones below. Direct-kernel
 * guests keep the layout above.
 */
#define GUEST_FW_ECAM_BASE 0xb0000000ULL    /* what OVMF writes to PCIEXBAR */
#define GUEST_FW_ECAM_SIZE (256 * MiB)	    /* 256 buses */
#define GUEST_FW_MMIO32_BASE 0xc0000000ULL  /* OVMF's Q35 32-bit window: PCIEXBAR + 256 MiB */
#define GUEST_FW_MMIO32_SIZE 0x3c000000ULL  /* up to 0xFC000000 */
#define GUEST_FW_LOW_MAX GUEST_FW_ECAM_BASE /* low RAM stays below the ECAM */
#define GUEST_FW_LOW_SPLIT (2 * GiB)	    /* QEMU pc_q35: 2 GiB low once RAM reaches it */
#define GUEST_FW_MAX (8 * MiB)		    /* code + variables, QEMU's pflash limit */

struct guest_config {
	const char *name;
	u64 memory;
	u32 vcpus;
	u32 first_cpu;
	bool testdev;
	bool firmware;	       /* the firmware flavor: no kernel, guest_load_firmware() instead */
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
/* Bytes of RAM below 4 GiB for ram_size bytes in a guest of that flavor; the rest is at 4 GiB. */
u64 guest_low_ram(u64 ram_size, bool firmware);
/* The same for the firmware flavor: RAM only, as QEMU's etc/e820 for OVMF. */
u32 guest_fw_e820(u64 ram_size, struct e820_entry *e);
/*
 * Is code (and vars, when vars_size is not 0) a UEFI flash image the
 * firmware flavor can map: whole pages, firmware volumes end to end up to
 * the last byte (so a truncated file fails), code + vars at most
 * GUEST_FW_MAX? 0, or -EINVAL with the reason in err.
 */
/* keel-dm's device takes ports base..base+count-1, Keel's reset-only 0x64 among them */
void guest_kbc_yield(struct vm *vm, u16 base, u16 count);
int guest_firmware_check(const u8 *code, u64 code_size, const u8 *vars, u64 vars_size, char *err);
/* Presses the ACPI power button (the guest decides what to do). */
void guest_power_button(struct vm *vm);

#endif

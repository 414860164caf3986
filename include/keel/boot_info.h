/* SPDX-License-Identifier: MIT */
/* struct boot_info: everything the boot stub hands to the core, the core's only input. */
#ifndef KEEL_BOOT_INFO_H
#define KEEL_BOOT_INFO_H

#include <keel/config.h>
#include <lib/types.h>

#define BOOT_INFO_MAGIC 0x4b45454c424f4f54ULL /* "KEELBOOT" */
#define BOOT_MAX_REGIONS 512
#define BOOT_MAX_MODULES (2 + 2 * CONFIG_MAX_VMS) /* a kernel and an initrd each */

/* Who owns a range of physical memory. */
enum mem_type {
	MEM_FREE = 1,	   /* usable RAM, handed to the page allocator */
	MEM_BOOT_SERVICES, /* firmware boot-time RAM: free once the core runs on its own tables */
	MEM_HYPERVISOR,	   /* Keel's image and what the boot stub allocated for it */
	MEM_MODULE,	   /* a file the boot stub loaded (kernel, initrd) */
	MEM_RESERVED,	   /* firmware runtime, MMIO, holes: never touched */
	MEM_ACPI_RECLAIM,  /* ACPI tables */
	MEM_ACPI_NVS,
	MEM_UNUSABLE,
	MEM_PERSISTENT,
	MEM_TYPE_COUNT
};

struct mem_region {
	u64 base;
	u64 size;
	u32 type; /* enum mem_type */
	u32 pad;
};

struct boot_module {
	u64 base; /* page aligned */
	u64 size; /* bytes of file content */
	char path[CONFIG_PATH_MAX];
};

enum fb_format { FB_NONE = 0, FB_BGRX, FB_RGBX };

/* A physical memory map: sorted, non-overlapping after mem_map_normalize(). */
struct mem_map {
	u32 nr;
	struct mem_region r[BOOT_MAX_REGIONS];
};

struct boot_framebuffer {
	u64 base;
	u64 size;
	u32 width, height;
	u32 stride; /* pixels per scan line */
	u32 format; /* enum fb_format */
};

struct boot_info {
	u64 magic;
	struct keel_config config;
	u64 rsdp; /* physical address of the ACPI RSDP, 0 if none */
	/* the firmware's clock at boot, seconds since 1970 (taken as UTC); 0 if unknown */
	u64 boot_epoch;
	struct boot_framebuffer fb;
	u32 nr_modules;
	struct boot_module modules[BOOT_MAX_MODULES]; /* every file keel.cfg names */
	u64 image_base, image_size;		      /* keel.efi as loaded */
	u64 trampoline;		    /* one page below 1 MiB for the AP start-up code */
	u64 stack_base, stack_size; /* the boot CPU's stack */
	bool firmware_serial;	    /* the UEFI console already mirrored to the serial port */
	struct mem_map map;
};

/* The module loaded from path, or NULL. */
const struct boot_module *boot_module_find(const struct boot_info *bi, const char *path);

/* The core's entry point; bi lives in MEM_HYPERVISOR memory. */
void core_main(struct boot_info *bi) __noreturn;

#endif

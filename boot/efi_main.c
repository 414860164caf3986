// SPDX-License-Identifier: MIT
/*
 * The UEFI entry point: read keel.cfg and the files it names from the boot
 * volume, check the CPU, collect the memory map, RSDP and framebuffer, exit
 * boot services and hand a struct boot_info to the core. Any problem is
 * reported on the console and control returns to the firmware.
 */
#include "efi_boot.h"
#include <arch/x86/pc_regs.h>
#include <lib/calendar.h>
#include <lib/format.h>
#include <keel/linux_boot.h>
#include <keel/mem_map.h>
#include <lib/string.h>
#include <keel/virt_detect.h>

#define CONFIG_FILE "keel.cfg"
#define CONFIG_MAX_SIZE (64 * KiB)
#define CORE_STACK_SIZE (64 * KiB)
#define TRAMPOLINE_MAX 0x9ffff /* the AP start-up page must lie below 640 KiB */

static EFI_STATUS load_config(EFI_FILE_HANDLE root, struct keel_config *cfg)
{
	char err[300];
	u64 base, size;
	EFI_STATUS st;
	int ret;

	st = efi_read_file(root, CONFIG_FILE, &base, &size);
	if (EFI_ERROR(st)) {
		efi_print("keel: cannot read \\%s on the boot volume: %s.\n"
			  "keel: put a keel.cfg next to EFI\\ on this volume (see README.md).\n",
			  CONFIG_FILE, efi_status_str(st));
		return st;
	}
	if (size > CONFIG_MAX_SIZE) {
		efi_print("keel: %s is %llu bytes; the limit is %llu\n", CONFIG_FILE,
			  (unsigned long long)size, (unsigned long long)CONFIG_MAX_SIZE);
		return EFI_BAD_BUFFER_SIZE;
	}
	ret = config_parse((const char *)(uintptr_t)base, (size_t)size, cfg, err, sizeof(err));
	efi_bs->FreePages(base, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE ?: 1);
	if (ret) {
		efi_print("keel: %s\n", err);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS load_module(EFI_FILE_HANDLE root, const char *key, const char *path,
			      struct boot_info *bi)
{
	struct boot_module *m;
	EFI_STATUS st;

	if (boot_module_find(bi, path))
		return EFI_SUCCESS; /* two VMs may share a file */
	m = &bi->modules[bi->nr_modules];
	st = efi_read_file(root, path, &m->base, &m->size);
	if (EFI_ERROR(st)) {
		efi_print("keel: cannot read '%s' (%s in keel.cfg): %s\n", path, key,
			  efi_status_str(st));
		return st;
	}
	strlcpy(m->path, path, sizeof(m->path));
	bi->nr_modules++;
	efi_print("keel: loaded %s (%llu KiB)\n", path, (unsigned long long)(m->size / KiB));
	return EFI_SUCCESS;
}

/* A kernel that would fail later is refused now, while the firmware can still take over. */
static EFI_STATUS check_service_kernel(const struct boot_info *bi)
{
	const struct boot_module *m = boot_module_find(bi, bi->config.service_kernel);
	char err[LINUX_ERR_MAX];

	if (!linux_check_image((const u8 *)(uintptr_t)m->base, m->size, err))
		return EFI_SUCCESS;
	efi_print("keel: service.kernel '%s' cannot be booted: %s\n", m->path, err);
	return EFI_LOAD_ERROR;
}

static EFI_STATUS load_modules(EFI_FILE_HANDLE root, struct boot_info *bi)
{
	const struct keel_config *c = &bi->config;
	EFI_STATUS st = EFI_SUCCESS;

	if (c->service_kernel[0]) {
		st = load_module(root, "service.kernel", c->service_kernel, bi);
		if (!EFI_ERROR(st))
			st = check_service_kernel(bi);
	}
	if (!EFI_ERROR(st) && c->service_initrd[0])
		st = load_module(root, "service.initrd", c->service_initrd, bi);
	for (u32 i = 0; i < c->nr_vms && !EFI_ERROR(st); i++) {
		char key[CONFIG_VM_NAME_MAX + 16];

		const struct config_vm *vm = &c->vms[i];
		const char *what[] = { "kernel", "initrd", "firmware", "vars" };
		const char *path[] = { vm->kernel, vm->initrd, vm->firmware, vm->vars };

		for (u32 j = 0; j < ARRAY_SIZE(what) && !EFI_ERROR(st); j++) {
			format_snprintf(key, sizeof(key), "vm.%s.%s", vm->name, what[j]);
			if (path[j][0])
				st = load_module(root, key, path[j], bi);
		}
	}
	return st;
}

static u64 find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	u64 v1 = 0;

	for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &efi_st->ConfigurationTable[i];

		if (!memcmp(&t->VendorGuid, &acpi20, sizeof(EFI_GUID)))
			return (u64)(uintptr_t)t->VendorTable;
		if (!memcmp(&t->VendorGuid, &acpi10, sizeof(EFI_GUID)))
			v1 = (u64)(uintptr_t)t->VendorTable;
	}
	return v1;
}

/* UEFI 2.10 8.3.1 GetTime: the RTC as the firmware keeps it, normally UTC on servers. */
static u64 read_clock(void)
{
	EFI_TIME t;
	struct date_time d;

	if (EFI_ERROR(efi_st->RuntimeServices->GetTime(&t, NULL)))
		return 0;
	d = (struct date_time){ .year = t.Year,
				.month = t.Month,
				.day = t.Day,
				.hour = t.Hour,
				.min = t.Minute,
				.sec = t.Second };
	return epoch_from_date(&d);
}

static void find_framebuffer(struct boot_framebuffer *fb)
{
	EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;

	memset(fb, 0, sizeof(*fb));
	if (EFI_ERROR(efi_bs->LocateProtocol(&gop_guid, NULL, (void **)&gop)))
		return;
	info = gop->Mode->Info;
	if (info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor)
		fb->format = FB_BGRX;
	else if (info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor)
		fb->format = FB_RGBX;
	else
		return; /* blt-only or bitmask formats: no linear framebuffer we can draw on */
	fb->base = gop->Mode->FrameBufferBase;
	fb->size = gop->Mode->FrameBufferSize;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->stride = info->PixelsPerScanLine;
}

static EFI_STATUS alloc_pages(EFI_ALLOCATE_TYPE type, u64 max, u64 bytes, u64 *out)
{
	EFI_PHYSICAL_ADDRESS addr = max;
	EFI_STATUS st = efi_bs->AllocatePages(type, EfiLoaderData,
					      ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE, &addr);

	if (EFI_ERROR(st)) {
		efi_print("keel: out of boot memory (%llu KiB): %s\n",
			  (unsigned long long)(bytes / KiB), efi_status_str(st));
		return st;
	}
	memset((void *)(uintptr_t)addr, 0, bytes);
	*out = addr;
	return EFI_SUCCESS;
}

static EFI_STATUS check_cpu(void)
{
	struct virt_support vs;

	virt_detect(&vs);
	if (!vs.problem)
		return EFI_SUCCESS;
	efi_print("keel: %s (CPU vendor %s).\n"
		  "keel: Keel needs hardware virtualization; returning to the firmware.\n",
		  vs.problem, vs.vendor);
	return EFI_UNSUPPORTED;
}

/* VMs that would not fit are refused now, while the firmware can still take over. */
static EFI_STATUS check_memory(const struct boot_info *bi)
{
	char err[256];

	if (!config_check_memory(&bi->config, efi_usable_ram(), err, sizeof(err)))
		return EFI_SUCCESS;
	efi_print("keel: %s\n", err);
	return EFI_BUFFER_TOO_SMALL;
}

/* Gathers everything the core needs while boot services still run. */
static EFI_STATUS prepare(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	root = efi_open_boot_volume(image, &li);
	if (!root)
		return EFI_NOT_FOUND;
	st = load_config(root, &bi->config);
	if (EFI_ERROR(st))
		return st;
	efi_console_set_serial(bi->config.serial_port, bi->config.serial_baud);
	st = check_cpu();
	if (EFI_ERROR(st))
		return st;
	st = load_modules(root, bi);
	if (EFI_ERROR(st))
		return st;
	st = check_memory(bi);
	if (EFI_ERROR(st))
		return st;
	bi->image_base = (u64)(uintptr_t)li->ImageBase;
	bi->image_size = li->ImageSize;
	bi->rsdp = find_rsdp();
	bi->boot_epoch = read_clock();
	find_framebuffer(&bi->fb);
	bi->firmware_serial = efi_console_firmware_serial();
	st = alloc_pages(AllocateMaxAddress, TRAMPOLINE_MAX, PAGE_SIZE, &bi->trampoline);
	if (EFI_ERROR(st))
		return st;
	bi->stack_size = CORE_STACK_SIZE;
	return alloc_pages(AllocateAnyPages, 0, CORE_STACK_SIZE, &bi->stack_base);
}

/* UEFI 2.10 7.4: on a stale map key, fetch the map again and retry. */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct boot_info *bi, void *map,
				     UINTN map_cap)
{
	UINTN size, key, desc_size;
	UINT32 desc_ver;
	EFI_STATUS st;

	for (int tries = 0; tries < 8; tries++) {
		size = map_cap;
		st = efi_bs->GetMemoryMap(&size, map, &key, &desc_size, &desc_ver);
		if (EFI_ERROR(st))
			return st;
		st = efi_bs->ExitBootServices(image, key);
		if (st == EFI_SUCCESS) {
			efi_convert_memory_map(bi, map, size, desc_size);
			return EFI_SUCCESS;
		}
		if (st != EFI_INVALID_PARAMETER)
			return st;
	}
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st_in)
{
	struct boot_info *bi;
	UINTN map_cap = 64 * KiB;
	void *map;
	EFI_STATUS st;

	efi_st = st_in;
	efi_bs = st_in->BootServices;
	efi_console_init();
	efi_console_set_serial(COM1_PORT, 115200); /* until keel.cfg says otherwise */
	efi_print("keel: Keel hypervisor, UEFI boot stub\n");
	st = efi_bs->AllocatePool(EfiLoaderData, sizeof(*bi) + map_cap, (void **)&bi);
	if (EFI_ERROR(st)) {
		efi_print("keel: out of boot memory: %s\n", efi_status_str(st));
		return st;
	}
	memset(bi, 0, sizeof(*bi));
	bi->magic = BOOT_INFO_MAGIC;
	map = bi + 1;
	st = prepare(image, bi);
	if (EFI_ERROR(st)) {
		efi_print("keel: boot stopped; nothing was changed. Returning to the firmware.\n");
		return st;
	}
	efi_print("keel: exiting boot services\n");
	st = exit_boot_services(image, bi, map, map_cap);
	if (EFI_ERROR(st)) {
		efi_print("keel: ExitBootServices failed: %s\n", efi_status_str(st));
		return st;
	}
	boot_enter_core(bi, bi->stack_base + bi->stack_size);
}

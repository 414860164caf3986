// SPDX-License-Identifier: MIT
/*
 * Linux x86 64-bit boot protocol (Documentation/arch/x86/boot.rst, "64-bit
 * boot protocol"; boot_params layout from zero-page.rst): the protected-mode
 * kernel goes to a kernel_alignment-aligned address with room for
 * init_size, the initrd high in RAM, boot_params with the e820 map, and the
 * CPU starts at load address + 0x200 in long mode on identity page tables.
 */
#include <arch/x86/cpu.h>
#include <lib/format.h>
#include <keel/linux_boot.h>
#include <lib/string.h>
#include <keel/vm.h>

/* Offsets in the image and in boot_params (they share the setup header). */
#define OFF_SCREEN_INFO 0x000
#define OFF_ACPI_RSDP 0x070
#define OFF_EXT_RAMDISK_IMAGE 0x0c0
#define OFF_EXT_RAMDISK_SIZE 0x0c4
#define OFF_EXT_CMD_LINE_PTR 0x0c8
#define OFF_E820_ENTRIES 0x1e8
#define OFF_SENTINEL 0x1ef
#define OFF_SETUP_SECTS 0x1f1
#define OFF_BOOT_FLAG 0x1fe
#define OFF_JUMP 0x200
#define OFF_HEADER 0x202
#define OFF_VERSION 0x206
#define OFF_TYPE_OF_LOADER 0x210
#define OFF_RAMDISK_IMAGE 0x218
#define OFF_RAMDISK_SIZE 0x21c
#define OFF_CMD_LINE_PTR 0x228
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260
#define OFF_E820_TABLE 0x2d0
#define BOOT_PARAMS_SIZE 4096
#define HDR_MAGIC 0x53726448 /* "HdrS" */
#define MIN_VERSION 0x020c   /* xloadflags */
#define XLF_KERNEL_64 BIT(0)
#define XLF_ABOVE_4G BIT(1)
#define ENTRY_64 0x200
#define LOADER_UNDEFINED 0xff
#define VIDEO_TYPE_EFI 0x70
#define VIDEO_CAP_64BIT_BASE BIT(1)

/* Layout of the boot area. */
#define AREA_PARAMS 0x0000
#define AREA_CMDLINE 0x1000 /* up to 4 KiB */
#define AREA_GDT 0x2000
#define AREA_PML4 0x3000
#define AREA_TABLES 0x4000 /* PDPTs, then PDs if 1 GiB pages are missing */
#define AREA_TABLES_MAX ((LINUX_BOOT_AREA_SIZE - AREA_TABLES) / PAGE_SIZE)

static u32 rd32(const u8 *p, u32 off)
{
	u32 v;

	memcpy(&v, p + off, 4);
	return v;
}

static u16 rd16(const u8 *p, u32 off)
{
	return (u16)(p[off] | p[off + 1] << 8);
}

static int bad(char *err, const char *fmt, u32 a)
{
	format_snprintf(err, LINUX_ERR_MAX, fmt, a);
	return -ENOEXEC;
}

int linux_check_image(const u8 *img, u64 size, char *err)
{
	u32 setup;

	if (size < 0x1000 || rd16(img, OFF_BOOT_FLAG) != 0xaa55 ||
	    rd32(img, OFF_HEADER) != HDR_MAGIC)
		return bad(err, "not a Linux bzImage (no boot sector signature or 'HdrS' header)",
			   0);
	if (rd16(img, OFF_VERSION) < MIN_VERSION)
		return bad(err, "boot protocol %x is too old; Keel needs 2.12 or later",
			   rd16(img, OFF_VERSION));
	if (!(rd16(img, OFF_XLOADFLAGS) & XLF_KERNEL_64))
		return bad(err, "the kernel has no 64-bit entry point (xloadflags %x)",
			   rd16(img, OFF_XLOADFLAGS));
	setup = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
	if ((u64)(setup + 1) * 512 >= size)
		return bad(err, "setup code (%u sectors) leaves no kernel in the file", setup);
	if (!img[OFF_RELOCATABLE] && rd32(img, OFF_PREF_ADDRESS) == 0)
		return bad(err, "the kernel is not relocatable", 0);
	return 0;
}

/* The lowest aligned address in RAM with room for init_size bytes at or above min. */
static gpa_t place_kernel(const struct linux_boot *lb, u64 min, u64 align, u64 need)
{
	for (u32 i = 0; i < lb->nr_e820; i++) {
		const struct e820_entry *e = &lb->e820[i];
		u64 a = ALIGN_UP(MAX(e->addr, min), align);

		if (e->type == E820_RAM && a + need <= e->addr + e->size)
			return a;
	}
	return 0;
}

/* The highest page-aligned spot for the initrd below max, clear of [kstart, kend). */
static gpa_t place_initrd(const struct linux_boot *lb, u64 max, u64 kstart, u64 kend)
{
	gpa_t best = 0;

	for (u32 i = 0; i < lb->nr_e820; i++) {
		const struct e820_entry *e = &lb->e820[i];
		u64 top = MIN(e->addr + e->size, max);
		u64 a;

		if (e->type != E820_RAM || top < e->addr + lb->initrd_size)
			continue;
		a = ALIGN_DOWN(top - lb->initrd_size, PAGE_SIZE);
		if (a < kend && a + lb->initrd_size > kstart) {
			if (kstart < e->addr + lb->initrd_size)
				continue;
			/* just below the kernel */
			a = ALIGN_DOWN(kstart - lb->initrd_size, PAGE_SIZE);
		}
		if (a >= e->addr && a + lb->initrd_size <= top && a > best)
			best = a;
	}
	return best;
}

static void screen_info(u8 *bp, const struct boot_framebuffer *fb)
{
	u8 *si = bp + OFF_SCREEN_INFO;
	u16 w = (u16)fb->width, h = (u16)fb->height, line = (u16)(fb->stride * 4), depth = 32;
	u32 base = (u32)fb->base, size = fb->stride * 4 * fb->height, ext = (u32)(fb->base >> 32);
	u32 caps = ext ? VIDEO_CAP_64BIT_BASE : 0;
	bool bgr = fb->format == FB_BGRX;

	si[15] = VIDEO_TYPE_EFI; /* orig_video_isVGA */
	memcpy(si + 18, &w, 2);
	memcpy(si + 20, &h, 2);
	memcpy(si + 22, &depth, 2);
	memcpy(si + 24, &base, 4);
	memcpy(si + 28, &size, 4);
	memcpy(si + 36, &line, 2);
	si[38] = 8, si[39] = bgr ? 16 : 0; /* red size, position */
	si[40] = 8, si[41] = 8;		   /* green */
	si[42] = 8, si[43] = bgr ? 0 : 16; /* blue */
	si[44] = 8, si[45] = 24;	   /* reserved */
	memcpy(si + 54, &caps, 4);
	memcpy(si + 58, &ext, 4);
}

static void fill_params(u8 *bp, const u8 *img, const struct linux_boot *lb, gpa_t cmdline,
			gpa_t initrd)
{
	/* the jump's offset byte gives the header's size */
	u32 hdr_end = OFF_HEADER + img[OFF_JUMP + 1];
	u32 lo;

	memset(bp, 0, BOOT_PARAMS_SIZE);
	memcpy(bp + OFF_SETUP_SECTS, img + OFF_SETUP_SECTS, MIN(hdr_end, 0x290u) - OFF_SETUP_SECTS);
	bp[OFF_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	lo = (u32)cmdline;
	memcpy(bp + OFF_CMD_LINE_PTR, &lo, 4);
	lo = (u32)(cmdline >> 32);
	memcpy(bp + OFF_EXT_CMD_LINE_PTR, &lo, 4);
	if (lb->initrd) {
		lo = (u32)initrd;
		memcpy(bp + OFF_RAMDISK_IMAGE, &lo, 4);
		lo = (u32)(initrd >> 32);
		memcpy(bp + OFF_EXT_RAMDISK_IMAGE, &lo, 4);
		lo = (u32)lb->initrd_size;
		memcpy(bp + OFF_RAMDISK_SIZE, &lo, 4);
		lo = (u32)(lb->initrd_size >> 32);
		memcpy(bp + OFF_EXT_RAMDISK_SIZE, &lo, 4);
	}
	memcpy(bp + OFF_ACPI_RSDP, &lb->rsdp, 8);
	bp[OFF_E820_ENTRIES] = (u8)lb->nr_e820;
	memcpy(bp + OFF_E820_TABLE, lb->e820, lb->nr_e820 * sizeof(struct e820_entry));
	if (lb->fb && lb->fb->format != FB_NONE)
		screen_info(bp, lb->fb);
}

/* Identity page tables covering [0, top): 1 GiB pages if the CPU has them, else 2 MiB. */
static int build_tables(struct vm *vm, gpa_t area, u64 top, char *err)
{
	bool huge = cpuid(0x80000001).edx & CPUID_80000001_EDX_PDPE1GB;
	u64 gbs = ALIGN_UP(top, GiB) / GiB, pdpts = ALIGN_UP(gbs, 512) / 512;
	u64 pages = pdpts + (huge ? 0 : gbs), e;

	if (pages > AREA_TABLES_MAX)
		return bad(err, "RAM reaches too high for the boot page tables (%u GiB)", (u32)gbs);
	for (u64 i = 0; i < pdpts; i++) {
		e = (area + AREA_TABLES + i * PAGE_SIZE) | 3;
		vm_write(vm, area + AREA_PML4 + i * 8, &e, 8);
	}
	for (u64 g = 0; g < gbs; g++) {
		gpa_t pdpte = area + AREA_TABLES + g * 8; /* PDPTs are consecutive pages */
		gpa_t pd = area + AREA_TABLES + (pdpts + g) * PAGE_SIZE;

		e = huge ? (g * GiB) | 0x83 : pd | 3;
		vm_write(vm, pdpte, &e, 8);
		for (u64 j = 0; !huge && j < 512; j++) {
			e = (g * GiB + j * 2 * MiB) | 0x83;
			vm_write(vm, pd + j * 8, &e, 8);
		}
	}
	return 0;
}

static void set_entry(struct vcpu *v, gpa_t area, gpa_t entry)
{
	/* boot.rst: __BOOT_CS = 0x10 (64-bit code), __BOOT_DS = 0x18 (data) */
	static const u64 gdt[4] = { 0, 0, 0x00af9a000000ffffULL, 0x00cf92000000ffffULL };
	struct vcpu_segment cs = { 0x10, 0xa9b, 0xffffffff, 0 },
			    ds = { 0x18, 0xc93, 0xffffffff, 0 };
	struct vcpu_segment gdtr = { 0, 0, sizeof(gdt) - 1, area + AREA_GDT };
	static const enum vcpu_seg data[] = { SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS };

	vm_write(v->vm, area + AREA_GDT, gdt, sizeof(gdt));
	vcpu_ops->set_seg(v, SEG_GDTR, &gdtr);
	vcpu_ops->set_seg(v, SEG_CS, &cs);
	for (u32 i = 0; i < ARRAY_SIZE(data); i++)
		vcpu_ops->set_seg(v, data[i], &ds);
	vcpu_ops->set_reg(v, VCPU_CR3, area + AREA_PML4);
	vcpu_ops->set_reg(v, VCPU_CR4, CR4_PAE);
	vcpu_ops->set_reg(v, VCPU_EFER, EFER_LME | EFER_LMA);
	vcpu_ops->set_reg(v, VCPU_CR0, CR0_PE | CR0_ET | CR0_NE | CR0_PG);
	vcpu_ops->set_reg(v, VCPU_RFLAGS, 0x2);
	vcpu_ops->set_reg(v, VCPU_RIP, entry);
	v->gpr[RSI] = area + AREA_PARAMS;
}

static u64 ram_top(const struct linux_boot *lb)
{
	u64 top = 4 * GiB;

	for (u32 i = 0; i < lb->nr_e820; i++)
		if (lb->e820[i].type == E820_RAM)
			top = MAX(top, lb->e820[i].addr + lb->e820[i].size);
	return top;
}

int linux_load(struct vm *vm, const struct linux_boot *lb, char *err)
{
	const u8 *img = lb->kernel;
	u32 setup = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
	u64 koff = (u64)(setup + 1) * 512, ksize = lb->kernel_size - koff;
	u64 align = MAX(rd32(img, OFF_KERNEL_ALIGNMENT), 2 * MiB);
	u64 need = MAX(rd32(img, OFF_INIT_SIZE), ksize);
	u64 initrd_max = (rd16(img, OFF_XLOADFLAGS) & XLF_ABOVE_4G) ?
				 ~0ULL :
				 rd32(img, OFF_INITRD_ADDR_MAX) + 1ULL;
	u8 bp[BOOT_PARAMS_SIZE];
	gpa_t kaddr, initrd = 0, cmd = lb->boot_area + AREA_CMDLINE;
	int ret = linux_check_image(img, lb->kernel_size, err);

	if (ret)
		return ret;
	if (strlen(lb->cmdline) >= MIN(rd32(img, OFF_CMDLINE_SIZE) + 1, (u32)PAGE_SIZE))
		return bad(err, "the command line is longer than the kernel takes (%u)",
			   rd32(img, OFF_CMDLINE_SIZE));
	kaddr = place_kernel(lb, MAX(rd32(img, OFF_PREF_ADDRESS), 16 * MiB), align, need);
	if (!kaddr)
		return bad(err, "no RAM region holds the kernel's %u MiB", (u32)(need / MiB));
	if (lb->initrd) {
		initrd = place_initrd(lb, initrd_max, kaddr, kaddr + need);
		if (!initrd)
			return bad(err, "no RAM left for the %u KiB initrd",
				   (u32)(lb->initrd_size / KiB));
	}
	ret = build_tables(vm, lb->boot_area, ram_top(lb), err);
	if (ret)
		return ret;
	fill_params(bp, img, lb, cmd, initrd);
	if (vm_write(vm, kaddr, img + koff, ksize) ||
	    (lb->initrd && vm_write(vm, initrd, lb->initrd, lb->initrd_size)) ||
	    vm_write(vm, cmd, lb->cmdline, strlen(lb->cmdline) + 1) ||
	    vm_write(vm, lb->boot_area + AREA_PARAMS, bp, sizeof(bp)))
		return bad(err, "the kernel does not fit the VM's memory", 0);
	set_entry(vm->vcpus[0], lb->boot_area, kaddr + ENTRY_64);
	return 0;
}

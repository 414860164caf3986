// SPDX-License-Identifier: MIT
/*
 * Multiboot v1 loader (Multiboot Specification 0.6.96): finds the header in
 * the first 8 KiB, loads by its address fields or by the ELF program
 * headers, places module 0 after the kernel, writes the information
 * structure and the memory map (the guest's e820 map) and starts the boot
 * CPU in flat 32-bit protected mode with EAX = 0x2BADB002.
 *
 * The information structure and its strings live in one page, at 0x9000
 * unless the kernel or its module lies there (a real-mode test kernel linked
 * at 32 KiB does), else on the first page after both, as QEMU places it:
 *   +0x000 mb_info   +0x100 command line (to +0x7ff)   +0x800 memory map
 *   +0xa00 module list   +0xb00 module 0's command line (to +0xfff)
 */
#include <lib/format.h>
#include <keel/guest.h>
#include <keel/loader.h>
#include <lib/string.h>
#include <keel/vm.h>

#define MB_MAGIC 0x1badb002
#define MB_BOOT_MAGIC 0x2badb002
#define MB_SEARCH 8192
#define MB_FLAG_ADDRESSES BIT(16)
#define MB_FLAG_UNSUPPORTED 0x0000fffc /* video mode etc.; bits 0-1 are fine */
#define MBI_ADDR 0x9000		       /* information page, below 640 KiB if free */
#define MBI_CMDLINE 0x100	       /* offsets in the information page */
#define MBI_CMDLINE_MAX 0x700
#define MBI_MMAP 0x800
#define MBI_MODS 0xa00
#define MBI_MOD_CMDLINE 0xb00
#define MBI_MOD_CMDLINE_MAX 0x500
#define MBI_MEM BIT(0) /* Multiboot 0.6.96 3.3: mem_lower/mem_upper valid */
#define MBI_CMD BIT(2)
#define MBI_MODS_FLAG BIT(3)
#define MBI_MMAP_FLAG BIT(6)
#define MB_MMAP_ENTRY_SIZE 20 /* the size field counts the rest of the entry */
#define ELF_PT_LOAD 1

struct mb_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __packed;
BUILD_ASSERT(offsetof(struct mb_info, mmap_addr) == 48, "Multiboot 3.3");

struct mb_mmap {
	u32 size;
	u64 base, len;
	u32 type;
} __packed;
BUILD_ASSERT(sizeof(struct mb_mmap) == MB_MMAP_ENTRY_SIZE + 4, "Multiboot 3.3 mmap");
BUILD_ASSERT(MBI_MMAP + GUEST_E820_MAX * sizeof(struct mb_mmap) <= MBI_MODS, "the layout above");

struct mb_mod { /* Multiboot 0.6.96 3.3, mods_addr */
	u32 mod_start, mod_end, string, reserved;
};

static int bad(char *err, const char *msg)
{
	strlcpy(err, msg, LOADER_ERR_MAX);
	return -ENOEXEC;
}

static const struct mb_header *find_header(const u8 *img, u64 size, u64 *off)
{
	for (u64 o = 0; o + sizeof(struct mb_header) <= MIN(size, MB_SEARCH); o += 4) {
		const struct mb_header *h = (const void *)(img + o);

		if (h->magic == MB_MAGIC && (u32)(h->magic + h->flags + h->checksum) == 0) {
			*off = o;
			return h;
		}
	}
	return NULL;
}

/* Where the kernel lies in guest-physical memory: [start, end), bss included. */
struct mb_span {
	u64 start, end;
};

static int load_by_header(struct vm *vm, const u8 *img, u64 size, const struct mb_header *h,
			  u64 hoff, u32 *entry, struct mb_span *k, char *err)
{
	u64 start = hoff - (u64)(h->header_addr - h->load_addr);
	u64 end = h->load_end_addr ? h->load_end_addr - h->load_addr + start : size;
	u64 bss_end = h->bss_end_addr;

	if (h->header_addr < h->load_addr || hoff < (u64)(h->header_addr - h->load_addr) ||
	    end > size || end < start)
		return bad(err, "multiboot header: load addresses do not match the file");
	if (vm_write(vm, h->load_addr, img + start, end - start))
		return bad(err, "multiboot image does not fit in the VM's RAM");
	/* RAM comes zeroed from vm_add_ram: the bss only has to lie inside it */
	for (u64 a = ALIGN_DOWN((u64)h->load_addr + (end - start), PAGE_SIZE); a < bss_end;
	     a += PAGE_SIZE)
		if (!vm_is_ram(vm, a))
			return bad(err, "multiboot bss does not fit in the VM's RAM");
	*entry = h->entry_addr;
	*k = (struct mb_span){ h->load_addr, MAX((u64)h->load_addr + (end - start), bss_end) };
	return 0;
}

/* ELF32 or ELF64 (System V ABI): copy every PT_LOAD to its physical address. */
static int load_elf(struct vm *vm, const u8 *img, u64 size, u32 *entry, struct mb_span *k,
		    char *err)
{
	bool is64 = size > 4 && img[4] == 2;
	u64 phoff, ent;
	u32 phnum, phentsize;

	if (size < 64 || memcmp(img,
				"\x7f"
				"ELF",
				4))
		return bad(err, "not an ELF file and no multiboot address fields");
	memcpy(&phoff, img + (is64 ? 32 : 28), is64 ? 8 : 4);
	if (!is64)
		phoff &= 0xffffffff;
	phentsize = img[is64 ? 54 : 42] | img[is64 ? 55 : 43] << 8;
	phnum = img[is64 ? 56 : 44] | img[is64 ? 57 : 45] << 8;
	ent = 0;
	memcpy(&ent, img + 24, is64 ? 8 : 4);
	*k = (struct mb_span){ ~0ULL, 0 };
	if (phoff > size || (u64)phnum * phentsize > size - phoff || phentsize < (is64 ? 56u : 32u))
		return bad(err, "ELF program headers lie outside the file");
	for (u32 i = 0; i < phnum; i++) {
		const u8 *ph = img + phoff + (u64)i * phentsize;
		u64 type = 0, off = 0, paddr = 0, filesz = 0, memsz = 0;

		memcpy(&type, ph, 4);
		memcpy(&off, ph + (is64 ? 8 : 4), is64 ? 8 : 4);
		memcpy(&paddr, ph + (is64 ? 24 : 12), is64 ? 8 : 4);
		memcpy(&filesz, ph + (is64 ? 32 : 16), is64 ? 8 : 4);
		memcpy(&memsz, ph + (is64 ? 40 : 20), is64 ? 8 : 4);
		if (type != ELF_PT_LOAD)
			continue;
		if (off > size || filesz > size - off || filesz > memsz)
			return bad(err, "ELF segment lies outside the file");
		if (vm_write(vm, paddr, img + off, filesz))
			return bad(err, "ELF segment does not fit in the VM's RAM");
		k->start = MIN(k->start, paddr);
		k->end = MAX(k->end, paddr + memsz);
	}
	if (k->start > k->end)
		return bad(err, "ELF file without a loadable segment");
	*entry = (u32)ent;
	return 0;
}

/* Module 0 on the first page after the kernel (k grows over it); multiboot addresses are 32 bits. */
static int place_module(struct vm *vm, const struct multiboot_module *mod, struct mb_span *k,
			struct mb_mod *m, char *err)
{
	u64 start = ALIGN_UP(k->end, PAGE_SIZE);

	if (mod->size > BIT(32) || start + mod->size > BIT(32) ||
	    vm_write(vm, start, mod->data, mod->size))
		return bad(err, "the module does not fit in the VM's RAM after the kernel");
	*m = (struct mb_mod){ (u32)start, (u32)(start + mod->size), 0, 0 };
	k->end = start + mod->size;
	return 0;
}

/* The information page: MBI_ADDR if the kernel and module leave it free, else the page after them. */
static int place_info(struct vm *vm, const struct mb_span *k, gpa_t *mbi, char *err)
{
	*mbi = MBI_ADDR;
	if (MBI_ADDR + PAGE_SIZE <= k->start || MBI_ADDR >= k->end)
		return 0;
	*mbi = ALIGN_UP(k->end, PAGE_SIZE);
	if (*mbi + PAGE_SIZE > BIT(32) || !vm_is_ram(vm, *mbi) ||
	    !vm_is_ram(vm, *mbi + PAGE_SIZE - 1))
		return bad(err, "no RAM for the multiboot information after the kernel");
	return 0;
}

static void write_string(struct vm *vm, gpa_t gpa, const char *s, size_t max)
{
	size_t n = strnlen(s ?: "", max - 1);

	vm_write(vm, gpa, s ?: "", n);
	vm_zero(vm, gpa + n, 1);
}

static void write_info(struct vm *vm, gpa_t at, const char *cmdline,
		       const struct multiboot_module *mod, const struct mb_mod *m)
{
	struct mb_info mbi = { 0 };
	struct e820_entry e820[GUEST_E820_MAX];
	struct mb_mmap map[GUEST_E820_MAX];
	u32 n = guest_e820(vm->ram_size, e820);

	/* mem_lower: RAM below 640 KiB; mem_upper: the RAM from 1 MiB to the first hole */
	for (u32 i = 0; i < n; i++) {
		map[i] = (struct mb_mmap){ MB_MMAP_ENTRY_SIZE, e820[i].addr, e820[i].size,
					   e820[i].type };
		if (e820[i].type == E820_RAM && !e820[i].addr)
			mbi.mem_lower = (u32)(e820[i].size / KiB);
		if (e820[i].type == E820_RAM && e820[i].addr == MiB)
			mbi.mem_upper = (u32)(e820[i].size / KiB);
	}
	mbi.flags = MBI_MEM | MBI_CMD | MBI_MMAP_FLAG;
	mbi.cmdline = (u32)(at + MBI_CMDLINE);
	mbi.mmap_addr = (u32)(at + MBI_MMAP);
	mbi.mmap_length = n * sizeof(map[0]);
	write_string(vm, at + MBI_CMDLINE, cmdline, MBI_CMDLINE_MAX);
	vm_write(vm, at + MBI_MMAP, map, mbi.mmap_length);
	if (mod) {
		struct mb_mod mm = *m;

		mm.string = (u32)(at + MBI_MOD_CMDLINE);
		mbi.flags |= MBI_MODS_FLAG;
		mbi.mods_count = 1;
		mbi.mods_addr = (u32)(at + MBI_MODS);
		vm_write(vm, at + MBI_MODS, &mm, sizeof(mm));
		write_string(vm, at + MBI_MOD_CMDLINE, mod->cmdline, MBI_MOD_CMDLINE_MAX);
	}
	vm_write(vm, at, &mbi, sizeof(mbi));
}

static void set_entry_state(struct vcpu *v, u32 entry, gpa_t mbi)
{
	/* flat 4 GiB segments: code (type 0xB) and data (type 0x3), 32-bit, page granular */
	struct vcpu_segment code = { 0x08, 0xc9b, 0xffffffff, 0 },
			    data = { 0x10, 0xc93, 0xffffffff, 0 };
	static const enum vcpu_seg datas[] = { SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS };

	vcpu_ops->set_seg(v, SEG_CS, &code);
	for (u32 i = 0; i < ARRAY_SIZE(datas); i++)
		vcpu_ops->set_seg(v, datas[i], &data);
	vcpu_ops->set_reg(v, VCPU_CR0, 0x11); /* PE | ET, paging off */
	vcpu_ops->set_reg(v, VCPU_RFLAGS, 0x2);
	vcpu_ops->set_reg(v, VCPU_RIP, entry);
	v->gpr[RAX] = MB_BOOT_MAGIC;
	v->gpr[RBX] = mbi;
}

int multiboot_load(struct vm *vm, const u8 *img, u64 size, const char *cmdline,
		   const struct multiboot_module *mod, char *err)
{
	u64 hoff;
	const struct mb_header *h = find_header(img, size, &hoff);
	struct mb_span k = { 0, 0 };
	struct mb_mod m = { 0 };
	u32 entry = 0;
	gpa_t mbi;
	int ret;

	if (!h)
		return bad(err, "no multiboot header in the first 8 KiB");
	if (h->flags & MB_FLAG_UNSUPPORTED)
		return bad(err,
			   "multiboot header asks for features Keel does not offer (video mode?)");
	if (vm->ram_size < 2 * MiB)
		return bad(err, "a multiboot VM needs at least 2 MiB of RAM");
	if (h->flags & MB_FLAG_ADDRESSES)
		ret = load_by_header(vm, img, size, h, hoff, &entry, &k, err);
	else
		ret = load_elf(vm, img, size, &entry, &k, err);
	if (!ret && mod)
		ret = place_module(vm, mod, &k, &m, err);
	if (!ret)
		ret = place_info(vm, &k, &mbi, err);
	if (ret)
		return ret;
	write_info(vm, mbi, cmdline, mod, &m);
	set_entry_state(vm->vcpus[0], entry, mbi);
	return 0;
}

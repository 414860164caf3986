// SPDX-License-Identifier: MIT
/*
 * fw_cfg (see include/keel/fw_cfg.h), as QEMU's docs/specs/fw_cfg.rst
 * describes it for x86: a 16-bit selector at 0x510, a byte-wide data port
 * at 0x511, and at 0x514 the big-endian address register of the DMA
 * interface, which reads as "QEMU CFG". Every item is read-only: DMA
 * writes set the error bit. DMA goes through vm_read_ram()/vm_write_ram():
 * a transfer reaches nothing but the VM's own RAM, and like QEMU's it stops
 * with the error bit at the first piece that is not.
 */
#include <keel/fw_cfg.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>
#include <lib/string.h>
#include <keel/vm.h>

#define FW_CFG_ENTRY_MASK 0x3fff /* fw_cfg.rst "Ranges": bit 14 write, bit 15 arch */
#define FW_CFG_ARCH_LOCAL BIT(15)
#define FW_CFG_SIGNATURE_LEN 4
#define DIR_ENTRY_SIZE 64 /* struct FWCfgFile */
#define DIR_COUNT_SIZE 4  /* struct FWCfgFiles.count */
#define DMA_ACCESS_SIZE 16
#define DMA_REG_LEN 8
#define DMA_ADDR_HI 0 /* offsets in the DMA address register */
#define DMA_ADDR_LO 4

struct fw_cfg_item {
	u8 *data; /* pool pages, or the directory inside struct fw_cfg */
	u32 len;
};

struct fw_cfg {
	struct spinlock lock;
	struct vm *vm;
	u16 key; /* selected, as written */
	u32 offset;
	u32 dma_hi; /* the DMA address's upper half, written before the lower */
	struct fw_cfg_item keys[FW_CFG_KEYS];
	u32 nr_files;
	struct {
		char name[FW_CFG_NAME_MAX];
		struct fw_cfg_item it;
	} files[FW_CFG_MAX_FILES];
	struct fw_cfg_item dir_item;
	u8 dir[DIR_COUNT_SIZE + DIR_ENTRY_SIZE * FW_CFG_MAX_FILES];
};

struct fw_cfg_dma_access { /* fw_cfg.rst FWCfgDmaAccess, all big-endian */
	u32 control;
	u32 length;
	u64 address;
} __packed;
BUILD_ASSERT(sizeof(struct fw_cfg_dma_access) == DMA_ACCESS_SIZE, "fw_cfg.rst FWCfgDmaAccess");

static const struct fw_cfg_item *item(struct fw_cfg *f, u16 key)
{
	u32 k = key & FW_CFG_ENTRY_MASK;

	if (key & FW_CFG_ARCH_LOCAL)
		return NULL; /* no x86-specific items */
	if (k == FW_CFG_FILE_DIR)
		return &f->dir_item;
	if (k < FW_CFG_KEYS)
		return f->keys[k].data ? &f->keys[k] : NULL;
	if (k - FW_CFG_FILE_FIRST < f->nr_files)
		return &f->files[k - FW_CFG_FILE_FIRST].it;
	return NULL;
}

static void fw_cfg_select(struct fw_cfg *f, u16 key)
{
	f->key = key;
	f->offset = 0;
}

static u8 data_byte(struct fw_cfg *f)
{
	const struct fw_cfg_item *it = item(f, f->key);

	if (!it || f->offset >= it->len)
		return 0; /* past the end, or no such item: zeroes (fw_cfg.rst "Data Register") */
	return it->data[f->offset++];
}

/* The guest's FWCfgDmaAccess at gpa: one transfer, its outcome in control (fw_cfg.rst). */
static void dma_transfer(struct fw_cfg *f, gpa_t gpa)
{
	struct fw_cfg_dma_access d;
	const struct fw_cfg_item *it;
	u32 control, length, result = 0;
	u64 addr;

	if (vm_read_ram(f->vm, gpa, &d, sizeof(d))) {
		result = __builtin_bswap32(FW_CFG_DMA_ERROR);
		vm_write_ram(f->vm, gpa, &result, sizeof(result));
		return;
	}
	control = __builtin_bswap32(d.control);
	length = __builtin_bswap32(d.length);
	addr = __builtin_bswap64(d.address);
	if (control & FW_CFG_DMA_SELECT)
		fw_cfg_select(f, (u16)(control >> 16));
	if (!(control & (FW_CFG_DMA_READ | FW_CFG_DMA_WRITE | FW_CFG_DMA_SKIP)))
		length = 0;
	it = item(f, f->key);
	while (length && !(result & FW_CFG_DMA_ERROR)) {
		u32 avail = it && f->offset < it->len ? it->len - f->offset : 0;
		u32 n = avail ? MIN(length, avail) : length;
		int err = 0;

		if (control & FW_CFG_DMA_READ) /* past the end reads as zeroes */
			err = vm_write_ram(f->vm, addr, avail ? it->data + f->offset : NULL, n);
		else if (control & FW_CFG_DMA_WRITE)
			err = -EPERM; /* no item is writable */
		if (err)
			result |= FW_CFG_DMA_ERROR;
		if (avail)
			f->offset += n;
		addr += n;
		length -= n;
	}
	result = __builtin_bswap32(result);
	vm_write_ram(f->vm, gpa + offsetof(struct fw_cfg_dma_access, control), &result,
		     sizeof(result));
}

static int fw_cfg_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	struct fw_cfg *f = opaque;
	u32 off = port - FW_CFG_PORT_SEL;

	(void)v;
	*val = ~0u;
	if (port >= FW_CFG_PORT_DMA) { /* the signature, bytewise; ports past 0x51b float */
		u32 at = port - FW_CFG_PORT_DMA;

		for (u32 i = 0; i < size && at + i < DMA_REG_LEN; i++)
			*val = (*val & ~(0xffu << (8 * i))) | (u32)(u8)FW_CFG_DMA_SIGNATURE[at + i]
								      << (8 * i);
	} else if (off < 2 && size == 1) { /* data from either port (QEMU's combined region) */
		spin_lock(&f->lock);
		*val = data_byte(f);
		spin_unlock(&f->lock);
	}
	if (size < 4)
		*val &= BIT(8 * size) - 1;
	return 0;
}

static int fw_cfg_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	struct fw_cfg *f = opaque;
	u32 off = port - FW_CFG_PORT_SEL;

	(void)v;
	spin_lock(&f->lock);
	if (off < 2 && size == 2) /* byte writes to the data port: ignored, as since QEMU 2.4 */
		fw_cfg_select(f, (u16)val);
	else if (port == FW_CFG_PORT_DMA + DMA_ADDR_HI && size == 4)
		f->dma_hi = __builtin_bswap32(val);
	else if (port == FW_CFG_PORT_DMA + DMA_ADDR_LO && size == 4) {
		gpa_t gpa = (u64)f->dma_hi << 32 | __builtin_bswap32(val);

		f->dma_hi = 0; /* the register reads as zero after an operation */
		dma_transfer(f, gpa);
	}
	spin_unlock(&f->lock);
	return 0;
}

static void put_be32(u8 *p, u32 v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

/* struct FWCfgFiles: a big-endian count, then {size, select, reserved, name} in name order. */
static void build_dir(struct fw_cfg *f)
{
	memset(f->dir, 0, sizeof(f->dir));
	put_be32(f->dir, f->nr_files);
	for (u32 i = 0; i < f->nr_files; i++) {
		u8 *e = f->dir + DIR_COUNT_SIZE + i * DIR_ENTRY_SIZE;
		u16 sel = __builtin_bswap16((u16)(FW_CFG_FILE_FIRST + i));

		put_be32(e, f->files[i].it.len);
		memcpy(e + 4, &sel, 2);
		memcpy(e + 8, f->files[i].name, FW_CFG_NAME_MAX);
	}
	f->dir_item = (struct fw_cfg_item){ f->dir, DIR_COUNT_SIZE + f->nr_files * DIR_ENTRY_SIZE };
}

static u64 pages_of(u32 len)
{
	return ALIGN_UP((u64)len ?: 1, PAGE_SIZE) / PAGE_SIZE;
}

static int copy_item(struct fw_cfg_item *it, const void *data, u32 len)
{
	it->data = page_alloc_zeroed(pages_of(len));
	if (!it->data)
		return -ENOMEM;
	memcpy(it->data, data, len);
	it->len = len;
	return 0;
}

int fw_cfg_add(struct fw_cfg *f, u16 key, const void *data, u32 len)
{
	if (key >= FW_CFG_KEYS || key == FW_CFG_FILE_DIR || f->keys[key].data)
		return -EINVAL;
	return copy_item(&f->keys[key], data, len);
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, u32 len)
{
	u32 at = 0;
	int ret;

	if (f->nr_files == FW_CFG_MAX_FILES || !*name || strlen(name) >= FW_CFG_NAME_MAX)
		return -EINVAL;
	while (at < f->nr_files && strcmp(f->files[at].name, name) < 0)
		at++;
	if (at < f->nr_files && !strcmp(f->files[at].name, name))
		return -EEXIST;
	memmove(&f->files[at + 1], &f->files[at], (f->nr_files - at) * sizeof(f->files[0]));
	memset(&f->files[at], 0, sizeof(f->files[0]));
	strlcpy(f->files[at].name, name, FW_CFG_NAME_MAX);
	ret = copy_item(&f->files[at].it, data, len);
	if (ret) {
		memmove(&f->files[at], &f->files[at + 1], (f->nr_files - at) * sizeof(f->files[0]));
		return ret;
	}
	f->nr_files++;
	build_dir(f);
	return 0;
}

static void fw_cfg_free(void *opaque)
{
	struct fw_cfg *f = opaque;

	for (u32 i = 0; i < FW_CFG_KEYS; i++)
		if (f->keys[i].data)
			page_free(f->keys[i].data, pages_of(f->keys[i].len));
	for (u32 i = 0; i < f->nr_files; i++)
		page_free(f->files[i].it.data, pages_of(f->files[i].it.len));
	page_free(f, 1);
}

struct fw_cfg *fw_cfg_create(struct vm *vm)
{
	static const u32 id = FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA; /* little-endian item */
	struct fw_cfg *f = page_alloc_zeroed(1);
	struct io_handler h = { FW_CFG_PORT_SEL, FW_CFG_PORTS, fw_cfg_read, fw_cfg_write, f,
				"fw_cfg" };

	BUILD_ASSERT(sizeof(struct fw_cfg) <= PAGE_SIZE, "one page per device");
	if (!f)
		return NULL;
	f->vm = vm;
	build_dir(f);
	if (vm_add_cleanup(vm, fw_cfg_free, f))
		return NULL;
	if (fw_cfg_add(f, FW_CFG_SIGNATURE, "QEMU", FW_CFG_SIGNATURE_LEN) ||
	    fw_cfg_add(f, FW_CFG_ID, &id, sizeof(id)) || vm_register_io(vm, &h))
		return NULL;
	return f;
}

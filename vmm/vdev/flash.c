// SPDX-License-Identifier: MIT
/*
 * A firmware VM's flash, laid out as QEMU's two pflash units on a PC: the
 * code at the top of the 4 GiB space, the variable store under it. Reads
 * are plain memory, mapped read-only in the VM's nested tables; a write
 * faults and reaches the MMIO handler here. Code writes are dropped. So are
 * variable store writes, unless keel-dm serves the store (--vars): then each
 * goes to keel-dm's CFI state machine, and its answer says what to do to
 * the pages here and whether reads stay plain memory (read array mode) or
 * trap and go to keel-dm too (status and command modes). Why in Keel: the
 * pages have to be in the guest-physical map from the reset vector on.
 */
#include <keel/dm.h>
#include <keel/flash.h>
#include <keel/log.h>
#include <keel/vcpu.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>
#include <keel/vm.h>
#include <lib/string.h>

#define FLASH_TOP (4 * GiB)

struct flash {
	u8 *code, *vars;
	u64 code_pages, vars_pages;
	gpa_t base;	      /* the lowest mapped byte */
	u64 writes;	      /* dropped */
	bool vars_dm;	      /* keel-dm serves the variable store */
	bool vars_mapped;     /* the store is in the guest's map (read array mode) */
	struct spinlock lock; /* vars_mapped and the pages' contents, between vCPUs */
};

#define FLASH_BLOCK 4096 /* OVMF's PcdOvmfFirmwareBlockSize; KCTL_FLASH_ERASE's unit */

static void flash_free(void *opaque)
{
	struct flash *f = opaque;

	if (f->code)
		page_free(f->code, f->code_pages);
	if (f->vars)
		page_free(f->vars, f->vars_pages);
	page_free(f, 1);
}

/* keel-dm's answer to an access at off of the store, applied before the instruction completes. */
static int apply(struct vcpu *v, struct flash *f, u64 off, bool write, u8 val)
{
	/* a read changes no byte, whatever keel-dm says */
	u32 act = v->dm.flash & (write ? ~0u : KCTL_FLASH_ARRAY | KCTL_FLASH_COMMAND);
	u64 vars_bytes = f->vars_pages * PAGE_SIZE;
	int ret = 0;

	v->dm.flash = 0;
	if (!act)
		return 0;
	spin_lock(&f->lock);
	if (act & KCTL_FLASH_PROGRAM)
		f->vars[off] = val;
	if (act & KCTL_FLASH_ERASE)
		memset(f->vars + ALIGN_DOWN(off, FLASH_BLOCK), 0xff, FLASH_BLOCK);
	if ((act & KCTL_FLASH_COMMAND) && f->vars_mapped) {
		ret = vm_unmap(v->vm, f->base, vars_bytes);
		f->vars_mapped = false;
	} else if ((act & KCTL_FLASH_ARRAY) && !f->vars_mapped) {
		ret = vm_map(v->vm, f->base, virt_to_phys(f->vars), vars_bytes, PT_R | PT_X);
		f->vars_mapped = !ret;
	}
	spin_unlock(&f->lock);
	return ret;
}

/* keel-dm's store takes one byte at a time, as OVMF writes it (volatile UINT8 stores). */
static int to_dm(struct vcpu *v, struct flash *f, u64 off, u8 size, bool write, u64 *val)
{
	int ret;

	if (size != 1) {
		if (!__atomic_fetch_add(&f->writes, 1, __ATOMIC_RELAXED))
			pr_info("vm %s: %u-byte flash access at %llx: only bytes, %s", v->vm->name,
				size, (unsigned long long)(f->base + off),
				write ? "dropped" : "reads all ones");
		*val = write ? *val : ~0ULL;
		return 0;
	}
	ret = dm_access(v, KCTL_IOREQ_MMIO, f->base + off, 1, write, val);
	if (ret)
		return ret;
	return apply(v, f, off, write, (u8)*val);
}

/* Reads come here only while a page is not mapped: the store in a command mode. */
static int flash_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	struct flash *f = opaque;
	u64 vars_bytes = f->vars_pages * PAGE_SIZE;
	const u8 *p = off < vars_bytes ? f->vars + off : f->code + (off - vars_bytes);

	if (off < vars_bytes && f->vars_dm)
		return to_dm(v, f, off, size, false, val);
	*val = 0;
	memcpy(val, p, size);
	return 0;
}

static int flash_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	struct flash *f = opaque;

	if (off < f->vars_pages * PAGE_SIZE && f->vars_dm)
		return to_dm(v, f, off, size, true, &val);
	if (!__atomic_fetch_add(&f->writes, 1, __ATOMIC_RELAXED))
		pr_info("vm %s: flash write at %llx dropped (read-only, variables stay in RAM)",
			v->vm->name, (unsigned long long)(f->base + off));
	return 0;
}

void flash_reset(struct vm *vm)
{
	for (u32 i = 0; i < vm->nr_mmio; i++) {
		struct flash *f = vm->mmio[i].opaque;

		if (vm->mmio[i].read != flash_read || !f->vars_dm)
			continue;
		spin_lock(&f->lock);
		if (!f->vars_mapped && !vm_map(vm, f->base, virt_to_phys(f->vars),
					       f->vars_pages * PAGE_SIZE, PT_R | PT_X))
			f->vars_mapped = true;
		spin_unlock(&f->lock);
	}
}

int flash_attach(struct vm *vm, u8 *code, u64 code_pages, u8 *vars, u64 vars_pages, bool vars_dm)
{
	struct flash *f = page_alloc_zeroed(1);
	u64 code_bytes = code_pages * PAGE_SIZE, vars_bytes = vars_pages * PAGE_SIZE;
	struct mmio_handler h = { FLASH_TOP - code_bytes - vars_bytes,
				  code_bytes + vars_bytes,
				  flash_read,
				  flash_write,
				  f,
				  "flash" };

	if (!f) {
		page_free(code, code_pages);
		if (vars)
			page_free(vars, vars_pages);
		return -ENOMEM;
	}
	*f = (struct flash){ code,	   vars, code_pages,	  vars_pages,
			     h.base,	   0,	 vars && vars_dm, !!vars,
			     SPINLOCK_INIT };
	if (vm_add_cleanup(vm, flash_free, f))
		return -ENOSPC;
	if (vm_map(vm, FLASH_TOP - code_bytes, virt_to_phys(code), code_bytes, PT_R | PT_X) ||
	    (vars && vm_map(vm, h.base, virt_to_phys(vars), vars_bytes, PT_R | PT_X)) ||
	    !vm_register_mmio(vm, &h))
		return -ENOMEM;
	return 0;
}

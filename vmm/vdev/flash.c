// SPDX-License-Identifier: MIT
/*
 * A firmware VM's flash, laid out as QEMU's two pflash units on a PC: the
 * code at the top of the 4 GiB space, the variable store under it. Reads
 * are plain memory, mapped read-only in the VM's nested tables; a write
 * faults and reaches the MMIO handler here, which drops it. Why in Keel:
 * the pages have to be in the guest-physical map from the reset vector on.
 */
#include <keel/flash.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/vm.h>
#include <lib/string.h>

#define FLASH_TOP (4 * GiB)

struct flash {
	u8 *code, *vars;
	u64 code_pages, vars_pages;
	gpa_t base; /* the lowest mapped byte */
	u64 writes; /* dropped */
};

static void flash_free(void *opaque)
{
	struct flash *f = opaque;

	if (f->code)
		page_free(f->code, f->code_pages);
	if (f->vars)
		page_free(f->vars, f->vars_pages);
	page_free(f, 1);
}

/* Reads come here only while a page is not mapped: none is, today. */
static int flash_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	struct flash *f = opaque;
	u64 vars_bytes = f->vars_pages * PAGE_SIZE;
	const u8 *p = off < vars_bytes ? f->vars + off : f->code + (off - vars_bytes);

	(void)v;
	*val = 0;
	memcpy(val, p, size);
	return 0;
}

static int flash_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	struct flash *f = opaque;

	(void)size, (void)val;
	if (!__atomic_fetch_add(&f->writes, 1, __ATOMIC_RELAXED))
		pr_info("vm %s: flash write at %llx dropped (read-only, variables stay in RAM)",
			v->vm->name, (unsigned long long)(f->base + off));
	return 0;
}

int flash_attach(struct vm *vm, u8 *code, u64 code_pages, u8 *vars, u64 vars_pages)
{
	struct flash *f = page_alloc_zeroed(1);
	u64 code_bytes = code_pages * PAGE_SIZE, vars_bytes = vars_pages * PAGE_SIZE;
	struct mmio_handler h = { FLASH_TOP - code_bytes - vars_bytes, code_bytes + vars_bytes,
				  flash_read, flash_write, f };

	if (!f) {
		page_free(code, code_pages);
		if (vars)
			page_free(vars, vars_pages);
		return -ENOMEM;
	}
	*f = (struct flash){ code, vars, code_pages, vars_pages, h.base, 0 };
	if (vm_add_cleanup(vm, flash_free, f))
		return -ENOSPC;
	if (vm_map(vm, FLASH_TOP - code_bytes, virt_to_phys(code), code_bytes, PT_R | PT_X) ||
	    (vars && vm_map(vm, h.base, virt_to_phys(vars), vars_bytes, PT_R | PT_X)) ||
	    !vm_register_mmio(vm, &h))
		return -ENOMEM;
	return 0;
}

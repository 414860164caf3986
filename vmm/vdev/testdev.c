// SPDX-License-Identifier: MIT
/* The test device (see include/keel/testdev.h): ports, LINT pins and an MMIO page with RAM semantics. */
#include <keel/page_alloc.h>
#include <lib/string.h>
#include <keel/testdev.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

struct testdev {
	u32 scratch;
	u8 page[PAGE_SIZE];
};

static int exit_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)opaque, (void)port, (void)size;
	vm_stop(v->vm, "powered off by its test device, status 0x%02x", val & 0xff);
	return 0;
}

static int scratch_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	struct testdev *t = opaque;
	u32 shift = (port - TESTDEV_SCRATCH_PORT) * 8;

	(void)v, (void)size;
	*val = t->scratch >> shift;
	return 0;
}

static int scratch_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	struct testdev *t = opaque;
	u32 shift = (port - TESTDEV_SCRATCH_PORT) * 8;
	u32 mask = (size == 4 ? 0xffffffff : (1u << (size * 8)) - 1) << shift;

	(void)v;
	t->scratch = (t->scratch & ~mask) | ((val << shift) & mask);
	return 0;
}

/*
 * QEMU's pc-testdev "flush page": the page keeps its contents, but its next
 * access, by an instruction or by the CPU delivering an event (IDT, stack),
 * exits to Keel, which maps it back. Anything but RAM is left alone.
 */
static int flush_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)opaque, (void)port;
	if (size == 4)
		vm_withhold_page(v->vm, val);
	return 0;
}

/*
 * The wires a PC's chipset drives into every local APIC: LINT1 carries the
 * platform's NMI (the NMI button, SERR, IOCHK), LINT0 the 8259's INTR. Keel's
 * guests have neither source; this is their test button.
 */
static int lint_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	struct vm *vm = v->vm;

	(void)opaque, (void)port, (void)size;
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		if (val & TESTDEV_LINT0)
			vlapic_lint(vm->vcpus[i], 0);
		if (val & TESTDEV_LINT1)
			vlapic_lint(vm->vcpus[i], 1);
	}
	return 0;
}

static int page_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	struct testdev *t = opaque;

	(void)v;
	*val = 0;
	if (off + size <= PAGE_SIZE)
		memcpy(val, t->page + off, size);
	return 0;
}

static int page_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	struct testdev *t = opaque;

	(void)v;
	if (off + size <= PAGE_SIZE)
		memcpy(t->page + off, &val, size);
	return 0;
}

static void testdev_free(void *opaque)
{
	page_free(opaque, 2);
}

int testdev_attach(struct vm *vm)
{
	struct testdev *t = page_alloc_zeroed(2);
	struct io_handler ex = { TESTDEV_EXIT_PORT, 1, NULL, exit_write, t, "test exit" };
	struct io_handler sc = { TESTDEV_SCRATCH_PORT, 4, scratch_read,
				 scratch_write,	       t, "test scratch" };
	struct io_handler fl = { TESTDEV_FLUSH_PORT, 4, NULL, flush_write, t, "test flush" };
	struct io_handler lint = { TESTDEV_LINT_PORT, 1, NULL, lint_write, t, "test LINT" };
	struct mmio_handler pg = { TESTDEV_MMIO_BASE, PAGE_SIZE, page_read,
				   page_write,	      t,	 "test page" };

	BUILD_ASSERT(sizeof(struct testdev) <= 2 * PAGE_SIZE, "two pages");
	if (!t)
		return -ENOMEM;
	if (vm_add_cleanup(vm, testdev_free, t))
		return -ENOSPC;
	if (vm_register_io(vm, &ex) || vm_register_io(vm, &sc) || vm_register_io(vm, &fl) ||
	    vm_register_io(vm, &lint) || !vm_register_mmio(vm, &pg))
		return -ENOSPC;
	return 0;
}

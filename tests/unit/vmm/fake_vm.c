// SPDX-License-Identifier: MIT
/* Host stand-ins for the VM the virtual devices register with, and for the scheduler's kick. */
#include <keel/sched.h>
#include "fake_vm.h"
#include "test.h"

struct vm fake_vm;
struct vcpu fake_vcpus[FAKE_VCPUS];
u32 fake_kicks[FAKE_VCPUS];

void fake_vm_reset(u32 nr)
{
	memset(&fake_vm, 0, sizeof(fake_vm));
	memset(fake_vcpus, 0, sizeof(fake_vcpus));
	memset(fake_kicks, 0, sizeof(fake_kicks));
	strcpy(fake_vm.name, "fake");
	fake_vm.nr_vcpus = nr;
	for (u32 i = 0; i < nr; i++) {
		fake_vcpus[i].vm = &fake_vm;
		fake_vcpus[i].id = i;
		fake_vm.vcpus[i] = &fake_vcpus[i];
	}
}

void fake_vm_free(void)
{
	while (fake_vm.nr_cleanups) {
		fake_vm.nr_cleanups--;
		fake_vm.cleanups[fake_vm.nr_cleanups].fn(
			fake_vm.cleanups[fake_vm.nr_cleanups].opaque);
	}
}

/* As in vmm/vm.c. */
int vm_register_io(struct vm *vm, const struct io_handler *h)
{
	if (vm->nr_io >= VM_MAX_IO)
		return -ENOSPC;
	vm->io[vm->nr_io++] = *h;
	return 0;
}

struct mmio_handler *vm_register_mmio(struct vm *vm, const struct mmio_handler *h)
{
	if (vm->nr_mmio >= VM_MAX_MMIO)
		return NULL;
	vm->mmio[vm->nr_mmio] = *h;
	return &vm->mmio[vm->nr_mmio++];
}

int vm_add_cleanup(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
	if (vm->nr_cleanups >= VM_MAX_CLEANUPS) {
		fn(opaque);
		return -ENOSPC;
	}
	vm->cleanups[vm->nr_cleanups].fn = fn;
	vm->cleanups[vm->nr_cleanups++].opaque = opaque;
	return 0;
}

void sched_kick(struct vcpu *v)
{
	fake_kicks[v->id]++;
}

static struct io_handler *find_io(struct vm *vm, u16 port)
{
	for (u32 i = 0; i < vm->nr_io; i++)
		if (port >= vm->io[i].base && port - vm->io[i].base < vm->io[i].count)
			return &vm->io[i];
	return NULL;
}

u32 fake_in(struct vcpu *v, u16 port, u8 size)
{
	struct io_handler *h = find_io(v->vm, port);
	u32 val = 0xffffffff;

	CHECK(h != NULL);
	if (h && h->read)
		CHECK_EQ(h->read(v, h->opaque, port, size, &val), 0);
	return val;
}

void fake_out(struct vcpu *v, u16 port, u8 size, u32 val)
{
	struct io_handler *h = find_io(v->vm, port);

	CHECK(h != NULL);
	if (h && h->write)
		CHECK_EQ(h->write(v, h->opaque, port, size, val), 0);
}

static struct mmio_handler *find_mmio(struct vm *vm, u64 gpa)
{
	for (u32 i = 0; i < vm->nr_mmio; i++)
		if (gpa >= vm->mmio[i].base && gpa - vm->mmio[i].base < vm->mmio[i].size)
			return &vm->mmio[i];
	return NULL;
}

u64 fake_mmio_read(struct vcpu *v, u64 gpa, u8 size)
{
	struct mmio_handler *h = find_mmio(v->vm, gpa);
	u64 val = ~0ULL;

	CHECK(h != NULL);
	if (h && h->read)
		CHECK_EQ(h->read(v, h->opaque, gpa - h->base, size, &val), 0);
	return val;
}

void fake_mmio_write(struct vcpu *v, u64 gpa, u8 size, u64 val)
{
	struct mmio_handler *h = find_mmio(v->vm, gpa);

	CHECK(h != NULL);
	if (h && h->write)
		CHECK_EQ(h->write(v, h->opaque, gpa - h->base, size, val), 0);
}

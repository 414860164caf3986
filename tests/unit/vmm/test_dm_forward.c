// SPDX-License-Identifier: MIT
/* Host tests of forwarding to keel-dm: request slots, answers, replayed accesses, doorbells. */
#include <keel/dm.h>
#include <keel/irq_route.h>
#include <keel/sched.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <keel/vpci_bus.h>
#include "test.h"

/* --- stand-ins for the control device, the scheduler and the vLAPIC --- */
static struct kctl_ioreq slots[KCTL_MAX_VMS][KCTL_IOREQ_VCPUS];
static struct kctl_doorbells bells[KCTL_MAX_VMS];
static u32 raised, kicks, msi_vector;
struct vm *vms[KCTL_MAX_VMS];
u32 nr_vms_created;

struct kctl_ioreq *control_ioreq(u32 vm_id, u32 vcpu)
{
	return &slots[vm_id][vcpu];
}

struct kctl_doorbells *control_doorbells(u32 vm_id)
{
	return &bells[vm_id];
}

void control_raise(u32 irq)
{
	raised |= irq;
}

static int refs; /* vm_get()s not yet put */
static int kicks_unheld;

void sched_kick(struct vcpu *v)
{
	(void)v;
	kicks++;
	kicks_unheld += refs == 0; /* a vCPU looked at with nothing keeping its VM alive */
}

struct vm *vm_get(u32 id)
{
	if (id >= KCTL_MAX_VMS || !vms[id])
		return NULL;
	refs++;
	return vms[id];
}

void vm_put(struct vm *vm)
{
	(void)vm;
	refs--;
}

void vlapic_set_irq(struct vcpu *v, u8 vector)
{
	(void)v;
	msi_vector = vector;
}

bool irq_route_from_msi(struct irq_route *r, struct vm *vm, u64 addr, u32 data)
{
	if ((addr & 0xfff00000) != 0xfee00000)
		return false;
	r->vcpu = vm->vcpus[0];
	r->guest_vector = (u8)data;
	return true;
}

bool vpci_bus_used(struct vm *vm, u32 dev)
{
	(void)vm;
	return dev == 0;
}

/* --- the VM's port handlers and I/O APIC pins, as far as keel-dm's ISA devices reach them --- */
static struct io_handler ports[4];
static u32 nr_ports, claimed, pin_level[16], pin_src;

int vm_register_io(struct vm *v, const struct io_handler *h)
{
	(void)v;
	for (u32 i = 0; i < nr_ports; i++)
		if (h->base < ports[i].base + ports[i].count && ports[i].base < h->base + h->count)
			return -EBUSY;
	ports[nr_ports++] = *h;
	return 0;
}

static u32 yielded; /* base << 16 | count: the ports dm_ports took over from Keel's own */

void guest_kbc_yield(struct vm *v, u16 base, u16 count)
{
	(void)v;
	yielded = (u32)base << 16 | count;
}

void vioapic_claim_pin(struct vioapic *io, u32 pin)
{
	(void)io;
	claimed |= 1u << pin;
}

bool vioapic_pin_claimed(const struct vioapic *io, u32 pin)
{
	(void)io;
	return claimed & (1u << pin);
}

void vioapic_set_pin_src(struct vioapic *io, u32 pin, u32 src, bool level)
{
	(void)io;
	pin_level[pin] = level;
	pin_src = src;
}

static struct vm vm;
static struct vcpu vcpu;

static void setup(void)
{
	static u64 serial;

	memset(&vm, 0, sizeof(vm));
	vm.serial = ++serial; /* a new VM: nothing of the last one's is keel-dm's */
	memset(&vcpu, 0, sizeof(vcpu));
	memset(slots, 0, sizeof(slots));
	memset(bells, 0, sizeof(bells));
	vm.id = 3;
	vm.state = VM_CREATED;
	vm.nr_vcpus = 1;
	vm.vcpus[0] = &vcpu;
	vcpu.vm = &vm;
	vms[3] = &vm;
	nr_vms_created = 4;
	raised = kicks = 0;
	nr_ports = 0;
	claimed = 1u << 4; /* COM1's, Keel's own */
	memset(pin_level, 0, sizeof(pin_level));
	ports[nr_ports++] =
		(struct io_handler){ 0x61, 1, NULL, NULL, NULL, "port B" }; /* the PIT's gate */
	dm_vm_init(&vm);
	CHECK_EQ(dm_attach(&vm, 2, vm.why, sizeof(vm.why)), 0);
	vm.state = VM_RUNNING;
}

/* keel-dm's side: answer the slot. */
static void answer(u64 data, int result)
{
	struct kctl_ioreq *q = &slots[3][0];

	CHECK_EQ(q->state, KCTL_IOREQ_PENDING);
	q->data = data;
	q->result = result;
	q->state = KCTL_IOREQ_DONE;
	dm_answered(3);
	dm_update_state(&vcpu);
}

TEST(read_waits_then_completes_from_the_answer)
{
	u64 val = 0;
	struct kctl_ioreq *q = &slots[3][0];

	setup();
	CHECK_EQ(dm_mmio(&vcpu, 0xc0001014, 1, false, &val), -EAGAIN);
	CHECK_EQ(vcpu.state, VCPU_WAIT_IO);
	CHECK_EQ(q->type, KCTL_IOREQ_MMIO);
	CHECK_EQ(q->addr, 0xc0001014);
	CHECK_EQ(q->size, 1);
	CHECK_EQ(q->write, 0);
	CHECK(raised & KCTL_IRQ_IOREQ);
	dm_update_state(&vcpu); /* not answered yet */
	CHECK_EQ(vcpu.state, VCPU_WAIT_IO);
	answer(0x1234, 0); /* more than a byte: the guest sees only its size */
	CHECK_EQ(kicks, 1);
	CHECK_EQ(vcpu.state, VCPU_RUNNABLE);
	CHECK(vcpu.dm.answered);
	CHECK_EQ(dm_mmio(&vcpu, 0xc0001014, 1, false, &val), 0);
	CHECK_EQ(val, 0x34);
	CHECK_EQ(q->state, KCTL_IOREQ_IDLE);
	dm_instruction_done(&vcpu);
	CHECK_EQ(vcpu.dm.nr_done, 0);
}

TEST(read_modify_write_replays_the_read)
{
	u64 val = 0, w;
	struct kctl_ioreq *q = &slots[3][0];
	u32 seq;

	setup();
	CHECK_EQ(dm_mmio(&vcpu, 0xc0000010, 4, false, &val), -EAGAIN);
	answer(0xf0, 0);
	CHECK_EQ(dm_mmio(&vcpu, 0xc0000010, 4, false, &val), 0);
	w = val | 1;
	CHECK_EQ(dm_mmio(&vcpu, 0xc0000010, 4, true, &w), -EAGAIN);
	CHECK_EQ(q->write, 1);
	CHECK_EQ(q->data, 0xf1);
	seq = q->seq;
	answer(0, 0);
	/* the instruction runs again: its read comes from the replay, not from keel-dm */
	CHECK_EQ(dm_mmio(&vcpu, 0xc0000010, 4, false, &val), 0);
	CHECK_EQ(val, 0xf0);
	CHECK_EQ(dm_mmio(&vcpu, 0xc0000010, 4, true, &w), 0);
	CHECK_EQ(q->seq, seq);
	CHECK_EQ(q->state, KCTL_IOREQ_IDLE);
}

TEST(a_flash_answer_is_taken_once_not_on_replay)
{
	u64 val = 0x10;
	struct kctl_ioreq *q = &slots[3][0];

	setup();
	/* a variable store write (vmm/vdev/flash.c): keel-dm answers with an action */
	CHECK_EQ(dm_access(&vcpu, KCTL_IOREQ_MMIO, 0xffc00010, 1, true, &val), -EAGAIN);
	CHECK_EQ(q->flash, 0);
	q->flash = KCTL_FLASH_COMMAND;
	answer(0, 0);
	CHECK_EQ(dm_access(&vcpu, KCTL_IOREQ_MMIO, 0xffc00010, 1, true, &val), 0);
	CHECK_EQ(vcpu.dm.flash, KCTL_FLASH_COMMAND);
	/* the same instruction again (a replay): no action a second time */
	vcpu.dm.pos = 0;
	CHECK_EQ(dm_access(&vcpu, KCTL_IOREQ_MMIO, 0xffc00010, 1, true, &val), 0);
	CHECK_EQ(vcpu.dm.flash, 0);
	dm_instruction_done(&vcpu);
	/* a new request starts with no action in its slot, whatever the last answer said */
	q->flash = KCTL_FLASH_PROGRAM;
	val = 0x42;
	CHECK_EQ(dm_access(&vcpu, KCTL_IOREQ_MMIO, 0xffc00010, 1, true, &val), -EAGAIN);
	CHECK_EQ(q->flash, 0);
}

TEST(nothing_there_faults)
{
	u64 val = 0;

	setup();
	CHECK_EQ(dm_mmio(&vcpu, 0xd0000000, 4, false, &val), -EAGAIN);
	answer(0, -1);
	CHECK_EQ(dm_mmio(&vcpu, 0xd0000000, 4, false, &val), -EFAULT);
}

TEST(no_devices_no_forwarding)
{
	u64 val = 0;

	setup();
	dm_vm_init(&vm); /* keel-dm serves nothing of it again */
	CHECK_EQ(dm_mmio(&vcpu, 0xc0000000, 4, false, &val), -EFAULT);
	CHECK_EQ(slots[3][0].state, KCTL_IOREQ_IDLE);
}

TEST(doorbell_writes_are_posted)
{
	u64 val = 1;

	setup();
	CHECK_EQ(dm_set_doorbell(&vm, 2, 0xc0003000, 16, 4, vm.why, sizeof(vm.why)), 0);
	CHECK_EQ(dm_mmio(&vcpu, 0xc0003008, 2, true, &val), 0);
	CHECK_EQ(bells[3].pending[2], 1u << 2);
	CHECK(raised & KCTL_IRQ_DOORBELL);
	CHECK_EQ(vcpu.state, VCPU_RUNNABLE);
	CHECK_EQ(slots[3][0].state, KCTL_IOREQ_IDLE);
	/* a read there, or a write past the range, is an ordinary request */
	CHECK_EQ(dm_mmio(&vcpu, 0xc0003008, 2, false, &val), -EAGAIN);
	CHECK_EQ(dm_set_doorbell(&vm, 2, 0xc0003000, 4096, 4, vm.why, sizeof(vm.why)), -EINVAL);
	CHECK_EQ(dm_set_doorbell(&vm, 5, 0xc0003000, 16, 4, vm.why, sizeof(vm.why)), -ENOENT);
}

TEST(attach_checks)
{
	setup();
	CHECK_EQ(dm_attach(&vm, 3, vm.why, sizeof(vm.why)), -EBUSY); /* running */
	vm.state = VM_CREATED;
	CHECK_EQ(dm_attach(&vm, 2, vm.why, sizeof(vm.why)), -EEXIST);
	CHECK_STR(vm.why, "00:02.0 of '' is taken");
	CHECK_EQ(dm_attach(&vm, 0, vm.why, sizeof(vm.why)), -EINVAL);
	CHECK_EQ(dm_attach(&vm, 32, vm.why, sizeof(vm.why)), -EINVAL);
	CHECK_EQ(dm_attach(&vm, 31, vm.why, sizeof(vm.why)), 0);
	CHECK(dm_owns_dev(&vm, 31) && dm_owns_dev(&vm, 2) && !dm_owns_dev(&vm, 3));
}

TEST(msi_reaches_the_vcpu)
{
	setup();
	CHECK_EQ(dm_msi(&vm, 0xfee00000, 0x41, vm.why, sizeof(vm.why)), 0);
	CHECK_EQ(msi_vector, 0x41);
	CHECK_EQ(dm_msi(&vm, 0x12345000, 0x41, vm.why, sizeof(vm.why)), -EINVAL);
}

/* The PS/2 keyboard controller's ports and IRQ 1, asked for by keel-dm before start. */
TEST(isa_ports_and_irq)
{
	const struct io_handler *h;
	u32 val = 0;

	setup();
	CHECK_EQ(dm_ports(&vm, 0x60, 1, 1, vm.why, sizeof(vm.why)), -EBUSY); /* running */
	vm.state = VM_CREATED;
	CHECK_EQ(dm_ports(&vm, 0x61, 1, KCTL_DM_NO_IRQ, vm.why, sizeof(vm.why)), -EBUSY);
	CHECK_STR(vm.why, "ports 0x61-0x61 of '' are taken");
	CHECK_EQ(dm_ports(&vm, 0x60, 9, 1, vm.why, sizeof(vm.why)), -EINVAL);
	CHECK_EQ(dm_ports(&vm, 0xffff, 2, 1, vm.why, sizeof(vm.why)), -EINVAL);
	CHECK_EQ(dm_ports(&vm, 0x60, 1, 16, vm.why, sizeof(vm.why)), -EINVAL);
	CHECK_EQ(dm_ports(&vm, 0x60, 1, 4, vm.why, sizeof(vm.why)), -EEXIST); /* COM1's IRQ */
	CHECK_EQ(dm_irq(&vm, 1, 1, vm.why, sizeof(vm.why)), -ENOENT); /* not keel-dm's yet */
	CHECK_EQ(nr_ports, 1);
	CHECK_EQ(dm_ports(&vm, 0x60, 1, 1, vm.why, sizeof(vm.why)), 0);
	CHECK_EQ(dm_ports(&vm, 0x64, 1, KCTL_DM_NO_IRQ, vm.why, sizeof(vm.why)), 0);
	CHECK_EQ(yielded, 0x640001); /* Keel's reset-only 0x64 goes first */
	CHECK_EQ(nr_ports, 3);
	CHECK(claimed & 2);
	vm.state = VM_RUNNING;
	CHECK_EQ(dm_irq(&vm, 1, 1, vm.why, sizeof(vm.why)), 0);
	CHECK(pin_level[1] && pin_src != 0); /* a source of its own: ORed with others */
	CHECK_EQ(dm_irq(&vm, 1, 0, vm.why, sizeof(vm.why)), 0);
	CHECK(!pin_level[1]);
	CHECK_EQ(dm_irq(&vm, 4, 1, vm.why, sizeof(vm.why)), -ENOENT);
	/* an IN from 0x64 waits for keel-dm's answer, a PIO request for that port */
	h = &ports[2];
	CHECK_EQ(h->read(&vcpu, h->opaque, 0x64, 1, &val), -EAGAIN);
	CHECK_EQ(slots[3][0].type, KCTL_IOREQ_PIO);
	CHECK_EQ(slots[3][0].addr, 0x64);
	answer(0x1d, 0);
	CHECK_EQ(h->read(&vcpu, h->opaque, 0x64, 1, &val), 0);
	CHECK_EQ(val, 0x1d);
	dm_instruction_done(&vcpu);
	/* nothing answers there: the device failed, the vCPU is stopped by the caller */
	CHECK_EQ(h->write(&vcpu, h->opaque, 0x64, 1, 0xaa), -EAGAIN);
	answer(0, -1);
	CHECK_EQ(h->write(&vcpu, h->opaque, 0x64, 1, 0xaa), -EIO);
}

TEST(vcpu_beyond_the_slots_faults)
{
	u64 val = 0;

	setup();
	vcpu.id = KCTL_IOREQ_VCPUS;
	CHECK_EQ(dm_access(&vcpu, KCTL_IOREQ_CFG, 2 << 15, 4, false, &val), -EFAULT);
}

/*
 * keel-dm's doorbell ranges are checked in the width they are kept in: a
 * stride of 2^32 (0 as a u32) would divide by zero in the hypervisor at the
 * next doorbell, and a range one stride past 32 doorbells would shift by 32.
 */
TEST(doorbell_range_refuses_what_the_hypervisor_cannot_use)
{
	u64 val = 1;

	setup();
	CHECK_EQ(dm_set_doorbell(&vm, 2, 0xc0003000, 16, 1ULL << 32, vm.why, sizeof(vm.why)),
		 -EINVAL);
	CHECK_EQ(dm_set_doorbell(&vm, 2, 0xc0003000, 16, 0, vm.why, sizeof(vm.why)), -EINVAL);
	CHECK_EQ(dm_set_doorbell(&vm, 2, 0xc0003000, 32 * 4 + 2, 4, vm.why, sizeof(vm.why)),
		 -EINVAL);
	CHECK_EQ(dm_set_doorbell(&vm, 2, 0xc0003000, 128, 4, vm.why, sizeof(vm.why)), 0);
	CHECK_EQ(dm_mmio(&vcpu, 0xc000307c, 4, true, &val), 0);
	CHECK_EQ(bells[3].pending[2], 1u << 31);
	/* a stride beyond the range (one doorbell) is fine, and a wrap is not */
	CHECK_EQ(dm_set_doorbell(&vm, 2, 0xc0003000, 4, 4096, vm.why, sizeof(vm.why)), 0);
	CHECK_EQ(dm_set_doorbell(&vm, 2, ~0ULL - 8, 16, 4, vm.why, sizeof(vm.why)), -EINVAL);
}

/* IOREQ_DONE comes from the service VM at any time: the VM it names may be reaped meanwhile. */
TEST(answers_wake_vcpus_of_a_vm_held_alive)
{
	u64 val = 0;

	setup();
	refs = kicks_unheld = 0;
	CHECK_EQ(dm_access(&vcpu, KCTL_IOREQ_CFG, 2 << 15, 4, false, &val), -EAGAIN);
	dm_answered(3);
	CHECK_EQ(kicks, 1);
	CHECK_EQ(kicks_unheld, 0);
	CHECK_EQ(refs, 0);
	dm_answered(9); /* no such VM */
	dm_answered(0); /* the service VM has no slots */
	CHECK_EQ(kicks, 1);
}

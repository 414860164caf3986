// SPDX-License-Identifier: MIT
/*
 * Forwarding a guest's device accesses to keel-dm (keelctl_abi.h, "Device
 * models"). Why this is in the hypervisor: only Keel sees the exits. It
 * keeps no device logic: a request slot per vCPU, posted doorbell bits, and
 * MSIs keel-dm asks for. Everything keel-dm writes into the shared slots is
 * read once and checked; a wrong answer can stop only the guest it serves.
 */
#include <keel/control.h>
#include <keel/dm.h>
#include <lib/format.h>
#include <keel/irq_route.h>
#include <keel/sched.h>
#include <lib/string.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <keel/vpci_bus.h>

#define DM_DOORBELLS_PER_DEV 32 /* the bits of a kctl_doorbells.pending word */
BUILD_ASSERT(sizeof(((struct kctl_doorbells *)0)->pending[0]) * 8 == DM_DOORBELLS_PER_DEV,
	     "one bit per doorbell");

/* What forwarding keeps of each VM, by VM id: the devices keel-dm serves and their doorbells. */
static struct vm_dm {
	u32 devs; /* PCI device numbers keel-dm serves (bit n: 00:n.0) */
	struct dm_doorbell {
		gpa_t base;
		u64 len;
		u32 stride;
	} bells[KCTL_DM_DEVS]; /* posted-write ranges, by device number */
} dms[MAX_VMS];

static struct kctl_ioreq *slot_of(struct vcpu *v)
{
	return control_ioreq(v->vm->id, v->id);
}

static bool same(const struct dm_access *a, const struct dm_access *b)
{
	return a->type == b->type && a->addr == b->addr && a->size == b->size &&
	       a->write == b->write;
}

static u64 size_mask(u32 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

void dm_instruction_done(struct vcpu *v)
{
	v->dm.nr_done = v->dm.pos = 0;
}

/* The answer to the request in the slot, once keel-dm gave it. */
static int take_answer(struct vcpu *v, const struct dm_access *a, u64 *val)
{
	struct kctl_ioreq *q = slot_of(v);
	struct dm_access done = v->dm.req;
	int result;

	if (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) != KCTL_IOREQ_DONE)
		return -EAGAIN;
	result = READ_ONCE(q->result);
	done.data = READ_ONCE(q->data) & size_mask(done.size);
	v->dm.flash = READ_ONCE(q->flash);
	WRITE_ONCE(q->state, KCTL_IOREQ_IDLE);
	v->dm.waiting = false;
	v->dm_requests++;
	if (!same(&done, a))
		/* the guest went elsewhere meanwhile (it cannot, barring a bug): ask anew */
		return 1;
	if (result < 0)
		return -EFAULT;
	if (v->dm.nr_done < ARRAY_SIZE(v->dm.done))
		v->dm.done[v->dm.nr_done++] = done;
	v->dm.pos = v->dm.nr_done;
	if (!a->write)
		*val = done.data;
	return 0;
}

static int post_request(struct vcpu *v, const struct dm_access *a)
{
	struct kctl_ioreq *q;

	if (v->id >= KCTL_IOREQ_VCPUS)
		return -EFAULT;
	q = slot_of(v);
	v->dm.req = *a;
	v->dm.waiting = true;
	v->dm.pos = 0; /* the instruction runs again from its first access */
	q->type = a->type;
	q->addr = a->addr;
	q->size = a->size;
	q->write = a->write;
	q->data = a->write ? a->data : 0;
	q->result = 0;
	q->flash = 0;
	q->seq++;
	__atomic_store_n(&q->state, KCTL_IOREQ_PENDING, __ATOMIC_RELEASE);
	WRITE_ONCE(v->state, VCPU_WAIT_IO);
	control_raise(KCTL_IRQ_IOREQ);
	return -EAGAIN;
}

int dm_access(struct vcpu *v, u32 type, u64 addr, u8 size, bool write, u64 *val)
{
	struct dm_access a = { type, size, write, addr, write ? *val & size_mask(size) : 0 };
	struct dm_io *io = &v->dm;

	io->flash = 0;
	if (io->pos < io->nr_done) { /* repeating the instruction: answers it already had */
		struct dm_access *d = &io->done[io->pos];

		if (same(d, &a)) {
			io->pos++;
			if (!write)
				*val = d->data;
			return 0;
		}
		io->nr_done = io->pos;
	}
	if (io->waiting) {
		int ret = take_answer(v, &a, val);

		if (ret <= 0) {
			if (ret == -EAGAIN) {
				io->pos = 0;
				WRITE_ONCE(v->state, VCPU_WAIT_IO);
			}
			return ret;
		}
	}
	return post_request(v, &a);
}

static bool in_doorbell(const struct dm_doorbell *b, gpa_t gpa, u8 size)
{
	return b->len && gpa >= b->base && gpa - b->base < b->len && gpa + size <= b->base + b->len;
}

int dm_mmio(struct vcpu *v, gpa_t gpa, u8 size, bool write, u64 *val)
{
	struct vm *vm = v->vm;
	const struct vm_dm *dm = &dms[vm->id];

	if (!dm->devs)
		return -EFAULT;
	for (u32 devs = write ? dm->devs : 0; devs; devs &= devs - 1) {
		u32 dev = (u32)__builtin_ctz(devs);
		const struct dm_doorbell *b = &dm->bells[dev];

		if (!in_doorbell(b, gpa, size))
			continue;
		__atomic_fetch_or(&control_doorbells(vm->id)->pending[dev],
				  1u << ((gpa - b->base) / b->stride), __ATOMIC_RELEASE);
		control_raise(KCTL_IRQ_DOORBELL);
		v->dm_doorbells++;
		return 0;
	}
	return dm_access(v, KCTL_IOREQ_MMIO, gpa, size, write, val);
}

bool dm_owns_dev(const struct vm *vm, u32 dev)
{
	return dev < KCTL_DM_DEVS && (dms[vm->id].devs & BIT(dev));
}

bool dm_serves(const struct vm *vm)
{
	return dms[vm->id].devs;
}

void dm_update_state(struct vcpu *v)
{
	if (v->state != VCPU_WAIT_IO)
		return;
	if (v->vm->id < KCTL_MAX_VMS &&
	    __atomic_load_n(&slot_of(v)->state, __ATOMIC_ACQUIRE) == KCTL_IOREQ_DONE) {
		v->dm.answered = true;
		WRITE_ONCE(v->state, VCPU_RUNNABLE);
	}
}

void dm_answered(u32 vm_id)
{
	struct vm *vm = vm_id ? vm_get(vm_id) : NULL; /* not freed while its vCPUs are looked at */

	if (!vm)
		return;
	for (u32 i = 0; vm->state == VM_RUNNING && i < vm->nr_vcpus; i++)
		if (READ_ONCE(vm->vcpus[i]->state) == VCPU_WAIT_IO)
			sched_kick(vm->vcpus[i]);
	vm_put(vm);
}

void dm_vm_reset(struct vm *vm)
{
	if (vm->id >= KCTL_MAX_VMS)
		return;
	memset(control_ioreq(vm->id, 0), 0, KCTL_IOREQ_VM_SIZE);
	memset(control_doorbells(vm->id), 0, KCTL_DOORBELL_VM_SIZE);
}

void dm_vm_init(struct vm *vm)
{
	memset(control_ioreq(vm->id, 0), 0, KCTL_IOREQ_VM_SIZE);
	memset(control_doorbells(vm->id), 0, KCTL_DOORBELL_VM_SIZE);
	dms[vm->id] = (struct vm_dm){ 0 };
}

int dm_refuse(char *msg, u32 len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return err;
}

int dm_attach(struct vm *vm, u64 dev, char *msg, u32 msg_len)
{
	if (vm->state != VM_CREATED)
		return dm_refuse(msg, msg_len, -EBUSY,
				 "'%s' has been started: devices go on before", vm->name);
	if (dev < 1 || dev >= KCTL_DM_DEVS)
		return dm_refuse(msg, msg_len, -EINVAL, "PCI device number %llu: must be 1 to %u",
				 (unsigned long long)dev, KCTL_DM_DEVS - 1);
	if ((dms[vm->id].devs & BIT(dev)) || vpci_bus_used(vm, (u32)dev))
		return dm_refuse(msg, msg_len, -EEXIST, "00:%02llx.0 of '%s' is taken",
				 (unsigned long long)dev, vm->name);
	dms[vm->id].devs |= (u32)BIT(dev);
	return 0;
}

int dm_set_doorbell(struct vm *vm, u64 dev, u64 gpa, u64 len, u64 stride, char *msg, u32 msg_len)
{
	if (!dm_owns_dev(vm, (u32)dev))
		return dm_refuse(msg, msg_len, -ENOENT, "00:%02llx.0 of '%s' is not keel-dm's",
				 (unsigned long long)dev, vm->name);
	/*
	 * Checked as kept (a u32 stride) and as used: (offset / stride) picks one of the
	 * device's 32 doorbell bits, so the range holds at most 32 strides.
	 */
	if (len && (!stride || stride > PAGE_SIZE || len > PAGE_SIZE ||
		    len > DM_DOORBELLS_PER_DEV * stride || gpa + len < gpa))
		return dm_refuse(
			msg, msg_len, -EINVAL,
			"doorbell range: at most %u doorbells in 4 KiB, strides of 1 to 4096",
			DM_DOORBELLS_PER_DEV);
	dms[vm->id].bells[dev] = (struct dm_doorbell){ gpa, len, (u32)stride };
	return 0;
}

int dm_msi(struct vm *vm, u64 addr, u64 data, char *msg, u32 msg_len)
{
	struct irq_route r;

	if (vm->state != VM_RUNNING)
		return 0; /* nobody to interrupt: not an error for keel-dm */
	if (!irq_route_from_msi(&r, vm, addr, (u32)data))
		return dm_refuse(msg, msg_len, -EINVAL,
				 "MSI %llx/%llx does not reach a vCPU of '%s'",
				 (unsigned long long)addr, (unsigned long long)data, vm->name);
	vlapic_set_irq(r.vcpu, r.guest_vector);
	return 0;
}

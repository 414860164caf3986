// SPDX-License-Identifier: MIT
/* Answering forwarded guest accesses (I/O request slots) and taking doorbells, in BAR0 memory. */
#include "dm.h"
#include <stdio.h>

#define CFG_DEV(a) ((unsigned)((a) >> 15) & (KCTL_DM_DEVS - 1))
#define CFG_FN(a) ((unsigned)((a) >> 12) & 7)
#define CFG_REG(a) ((uint32_t)(a)&0xfff)
#define CFG_SPACE 256 /* conventional PCI: registers past it read 0 */

/* One request, copied out of its slot field by field, once. */
struct dm_req {
	unsigned type, size, write;
	uint64_t addr, data;
	unsigned seq;	/* the slot's */
	uint32_t flash; /* the answer's KCTL_FLASH_* */
};

static volatile struct kctl_ioreq *dm_slot(struct dm *dm, unsigned id, unsigned vcpu)
{
	return (volatile struct kctl_ioreq *)(dm->ctl->bar0 + KCTL_IOREQ_BASE +
					      (size_t)id * KCTL_IOREQ_VM_SIZE +
					      (size_t)vcpu * sizeof(struct kctl_ioreq));
}

static uint64_t dm_ones(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static int dm_size_ok(unsigned size, unsigned max)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && size <= max;
}

/* Only function 0 of a keel-dm device exists; anything else reads as absent (all ones). */
static int dm_cfg(struct dm_vm *vm, struct dm_req *r)
{
	struct dm_dev *d = vm ? vm->devs[CFG_DEV(r->addr)] : NULL;
	uint32_t reg = CFG_REG(r->addr), v;

	if (!dm_size_ok(r->size, 4))
		return -1;
	if (!d || CFG_FN(r->addr)) {
		r->data = dm_ones(r->size);
		return 0;
	}
	if (r->write) {
		/* refused: ignored */
		virtio_pci_cfg_write(&d->vp, reg, r->size, (uint32_t)r->data);
		dm_dev_doorbell_update(d);
		dm_dev_state_sync(d); /* before the answer: unanswered, a restart repeats it */
		return 0;
	}
	if (virtio_pci_cfg_read(&d->vp, reg, r->size, &v))
		v = reg < CFG_SPACE ? (uint32_t)dm_ones(r->size) : 0;
	r->data = v;
	return 0;
}

/* The device whose BAR0 or BAR2 holds addr. */
static struct dm_dev *dm_mmio_dev(struct dm_vm *vm, uint64_t addr, unsigned *bar, uint64_t *off)
{
	static const unsigned bars[DM_PCI_MMIO_BARS] = { VIRTIO_PCI_BAR_CFG, VIRTIO_PCI_BAR_MSIX };

	for (unsigned n = 0; vm && n < KCTL_DM_DEVS; n++) {
		for (unsigned i = 0; vm->devs[n] && i < DM_PCI_MMIO_BARS; i++) {
			uint64_t base = virtio_pci_bar_addr(&vm->devs[n]->vp, bars[i]);

			if (base && addr >= base && addr - base < virtio_pci_bar_size(bars[i])) {
				*bar = bars[i];
				*off = addr - base;
				return vm->devs[n];
			}
		}
	}
	return NULL;
}

static int dm_mmio(struct dm_vm *vm, struct dm_req *r)
{
	struct dm_dev *d;
	unsigned bar = 0;
	uint64_t off = 0;

	if (!dm_size_ok(r->size, 8) || !(d = dm_mmio_dev(vm, r->addr, &bar, &off)))
		return -1;
	if (r->write) {
		/* a refused access is dropped */
		virtio_pci_bar_write(&d->vp, bar, off, r->size, r->data);
		dm_dev_state_sync(d);
	} else if (virtio_pci_bar_read(&d->vp, bar, off, r->size, &r->data)) {
		r->data = dm_ones(r->size);
	}
	return 0;
}

static int dm_answer(struct dm_vm *vm, unsigned id, unsigned vcpu, struct dm_req *r)
{
	int result = -1;
	char name[24];

	if (r->type == KCTL_IOREQ_CFG)
		result = dm_cfg(vm, r);
	else if (r->type == KCTL_IOREQ_MMIO)
		result = dm_flash_access(vm, vcpu, r->seq, r->addr, r->size, r->write, &r->data,
					 &r->flash);
	if (r->type == KCTL_IOREQ_MMIO && result > 0)
		result = dm_mmio(vm, r);
	if (r->type == KCTL_IOREQ_PIO)
		result = dm_kbc_access(vm, vcpu, r->seq, r->addr, r->size, r->write, &r->data);
	if (!result)
		return 0;
	if (vm)
		snprintf(name, sizeof(name), "%s", vm->name);
	else
		snprintf(name, sizeof(name), "VM %u", id);
	if (r->type > KCTL_IOREQ_PIO)
		dm_log("%s: vCPU %u: a request of unknown type %u: the VM stops", name, vcpu,
		       r->type);
	else
		dm_log("%s: vCPU %u: nothing answers a %u-byte %s %s %#llx%s: the VM stops "
		       "(firmware reads all ones there)",
		       name, vcpu, r->size, r->write ? "write to" : "read of",
		       r->type == KCTL_IOREQ_CFG ? "config" :
		       r->type == KCTL_IOREQ_PIO ? "port" :
						   "MMIO",
		       (unsigned long long)r->addr, vm ? "" : " (keel-dm serves no devices of it)");
	return result;
}

int dm_ioreq_serve(struct dm *dm, unsigned id, unsigned vcpus, struct dm_vm *vm)
{
	int answered = 0;

	if (id >= KCTL_MAX_VMS)
		return 0;
	if (vcpus > KCTL_IOREQ_VCPUS)
		vcpus = KCTL_IOREQ_VCPUS;
	for (unsigned i = 0; i < vcpus; i++) {
		volatile struct kctl_ioreq *s = dm_slot(dm, id, i);
		struct dm_req r;
		int result;

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != KCTL_IOREQ_PENDING)
			continue;
		r = (struct dm_req){ s->type, s->size, s->write, s->addr, s->data, s->seq, 0 };
		if (r.size <= 8)
			r.data &= dm_ones(r.size);
		result = dm_answer(vm, id, i, &r);
		if (!r.write)
			s->data = r.data;
		s->result = result;
		s->flash = r.flash;
		__atomic_store_n(&s->state, KCTL_IOREQ_DONE, __ATOMIC_RELEASE);
		answered++;
	}
	if (answered)
		ctl_set_reg(dm->ctl, KCTL_REG_IOREQ_DONE, id);
	if (answered && vm)
		dm_kbc_answered(vm);
	return answered;
}

void dm_doorbells_take(struct dm *dm, struct dm_vm *vm)
{
	struct kctl_doorbells *db =
		(struct kctl_doorbells *)(dm->ctl->bar0 + KCTL_DOORBELL_BASE +
					  (size_t)vm->id * KCTL_DOORBELL_VM_SIZE);

	for (unsigned n = 0; n < KCTL_DM_DEVS; n++) {
		struct dm_dev *d = vm->devs[n];
		uint32_t bits;

		/* A plain load first: the locked exchange only when there is something to take. */
		if (!d || !__atomic_load_n(&db->pending[n], __ATOMIC_RELAXED))
			continue;
		bits = __atomic_exchange_n(&db->pending[n], 0, __ATOMIC_ACQ_REL);
		for (; bits; bits &= bits - 1) {
			unsigned q = (unsigned)__builtin_ctz(bits);

			if (q < d->vdev->num_queues)
				virtio_pci_notify(&d->vp, (u16)q);
		}
		dm_dev_state_sync(d); /* a fault, net's pairs, a masked vector's PBA bit */
	}
}

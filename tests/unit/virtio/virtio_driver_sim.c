// SPDX-License-Identifier: MIT
/* The simulated guest driver of the virtio tests; it speaks only PCI config and BAR accesses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "virtio_driver_sim.h"

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)

static void vsim_msi(void *ctx, u64 addr, u32 data)
{
	struct vsim *s = ctx;
	u32 v = data - VSIM_MSI_DATA_BASE;

	s->msi_count++;
	if (addr != VSIM_MSI_ADDR || v >= VIRTIO_PCI_MSIX_MAX)
		s->msi_bad++;
	else
		s->msi_vec[v]++;
}

static void vsim_intx(void *ctx, bool level)
{
	((struct vsim *)ctx)->intx = level;
}

static void vsim_fault(void *ctx, const char *reason)
{
	struct vsim *s = ctx;

	s->faults++;
	snprintf(s->fault, sizeof(s->fault), "%s", reason);
}

int vsim_replace(struct vsim *s, struct virtio_dev *dev)
{
	struct virtio_pci_params p = { 0 };

	s->dev = dev;
	p.mem = &s->mem;
	p.notify_msi = vsim_msi;
	p.set_intx = vsim_intx;
	p.on_fault = vsim_fault;
	p.ctx = s;
	return virtio_pci_init(&s->vp, dev, &p);
}

void vsim_init_bus(struct vsim *s, u8 *ram, u64 ram_size, const struct vsim_bus *bus)
{
	memset(s, 0, sizeof(*s));
	s->bus = bus;
	s->ram = ram;
	s->ram_size = ram_size;
	s->brk = 0x10000;
	guest_mem_init(&s->mem);
	guest_mem_add_region(&s->mem, 0, ram_size, s->ram);
}

int vsim_init(struct vsim *s, struct virtio_dev *dev, u64 ram_size)
{
	u8 *ram = calloc(1, ram_size);

	if (!ram)
		return -ENOMEM;
	vsim_init_bus(s, ram, ram_size, NULL);
	s->own_ram = true;
	return vsim_replace(s, dev);
}

void vsim_free(struct vsim *s)
{
	if (s->own_ram)
		free(s->ram);
	s->ram = NULL;
}

gpa_t vsim_alloc(struct vsim *s, u64 len, u64 align)
{
	gpa_t at = ALIGN_UP(s->brk, align);

	if (at + len > s->ram_size)
		abort();
	s->brk = at + len;
	memset(s->ram + at, 0, len);
	return at;
}

void *vsim_ptr(struct vsim *s, gpa_t gpa)
{
	return s->ram + gpa;
}

gpa_t vsim_alloc_copy(struct vsim *s, const void *data, u32 len)
{
	gpa_t at = vsim_alloc(s, len, 8);

	memcpy(s->ram + at, data, len);
	return at;
}

u32 vsim_cfg_read(struct vsim *s, u32 off, u32 size)
{
	u32 v = 0;

	if (s->bus)
		return (u32)s->bus->read(s->bus->ctx, true, 0, off, size);
	virtio_pci_cfg_read(&s->vp, off, size, &v);
	return v;
}

void vsim_cfg_write(struct vsim *s, u32 off, u32 size, u32 val)
{
	if (s->bus)
		s->bus->write(s->bus->ctx, true, 0, off, size, val);
	else
		virtio_pci_cfg_write(&s->vp, off, size, val);
}

u64 vsim_bar_read(struct vsim *s, u32 bar, u64 off, u32 size)
{
	u64 v = 0;

	if (s->bus)
		return s->bus->read(s->bus->ctx, false, bar, off, size);
	virtio_pci_bar_read(&s->vp, bar, off, size, &v);
	return v;
}

void vsim_bar_write(struct vsim *s, u32 bar, u64 off, u32 size, u64 val)
{
	if (s->bus)
		s->bus->write(s->bus->ctx, false, bar, off, size, val);
	else
		virtio_pci_bar_write(&s->vp, bar, off, size, val);
}

u64 vsim_common_read(struct vsim *s, u32 off, u32 size)
{
	return vsim_bar_read(s, 0, s->common + off, size);
}

void vsim_common_write(struct vsim *s, u32 off, u32 size, u64 val)
{
	vsim_bar_write(s, 0, s->common + off, size, val);
}

u8 vsim_status(struct vsim *s)
{
	return (u8)vsim_common_read(s, COMMON(device_status), 1);
}

/* virtio 1.2 4.1.5.1.1: find each structure through the capability list. */
static void vsim_parse_cap(struct vsim *s, u8 at)
{
	u8 type = (u8)vsim_cfg_read(s, at + 3, 1);
	u32 off = vsim_cfg_read(s, at + 8, 4);

	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		s->common = off;
		break;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		s->notify = off;
		s->notify_mult = vsim_cfg_read(s, at + 16, 4);
		break;
	case VIRTIO_PCI_CAP_ISR_CFG:
		s->isr = off;
		break;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		s->device = off;
		break;
	}
}

static void vsim_setup_msix(struct vsim *s)
{
	u32 n = (vsim_cfg_read(s, s->msix_cap + 2, 2) & 0x7ff) + 1;

	for (u32 v = 0; v < n; v++) {
		u64 e = v * 16;

		vsim_bar_write(s, 2, e, 4, (u32)VSIM_MSI_ADDR);
		vsim_bar_write(s, 2, e + 4, 4, 0);
		vsim_bar_write(s, 2, e + 8, 4, VSIM_MSI_DATA_BASE + v);
		vsim_bar_write(s, 2, e + 12, 4, 0); /* unmask */
	}
	vsim_cfg_write(s, s->msix_cap + 2, 2, 0x8000); /* enable */
}

int vsim_probe(struct vsim *s)
{
	u8 at;
	int guard = 0;

	if (vsim_cfg_read(s, 0, 2) != VIRTIO_PCI_VENDOR)
		return -ENODEV;
	for (at = (u8)vsim_cfg_read(s, 0x34, 1); at && guard < 48; guard++) {
		u8 id = (u8)vsim_cfg_read(s, at, 1);

		if (id == 0x09)
			vsim_parse_cap(s, at);
		else if (id == 0x11)
			s->msix_cap = at;
		at = (u8)vsim_cfg_read(s, at + 1, 1);
	}
	vsim_cfg_write(s, 0x10, 4, (u32)VSIM_BAR0_ADDR);
	vsim_cfg_write(s, 0x14, 4, 0);
	vsim_cfg_write(s, 0x18, 4, (u32)VSIM_BAR2_ADDR);
	vsim_cfg_write(s, 0x1c, 4, 0);
	vsim_cfg_write(s, 0x04, 2, 0x6); /* memory + bus master */
	if (s->msix_cap)
		vsim_setup_msix(s);
	return s->notify_mult && s->isr ? 0 : -ENODEV;
}

u64 vsim_negotiate(struct vsim *s, u64 wanted)
{
	u64 offered;

	vsim_common_write(s, COMMON(device_status), 1, 0);
	if (vsim_status(s))
		return 0;
	vsim_common_write(s, COMMON(device_status), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	vsim_common_write(s, COMMON(device_status), 1,
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vsim_common_write(s, COMMON(device_feature_select), 4, 0);
	offered = vsim_common_read(s, COMMON(device_feature), 4);
	vsim_common_write(s, COMMON(device_feature_select), 4, 1);
	offered |= vsim_common_read(s, COMMON(device_feature), 4) << 32;
	s->features = offered & wanted;
	for (u32 sel = 0; sel < 2; sel++) {
		vsim_common_write(s, COMMON(driver_feature_select), 4, sel);
		vsim_common_write(s, COMMON(driver_feature), 4, (u32)(s->features >> (32 * sel)));
	}
	vsim_common_write(s, COMMON(device_status), 1,
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK);
	if (!(vsim_status(s) & VIRTIO_STATUS_FEATURES_OK))
		return 0;
	return s->features;
}

static void vsim_queue_rings(struct vsim *s, struct vsim_queue *vq)
{
	u32 n = vq->size;

	vq->packed = s->features & VIRTIO_F_RING_PACKED;
	if (vq->packed) {
		vq->desc = vsim_alloc(s, 16 * n, 16);
		vq->driver = vsim_alloc(s, 4, 4);
		vq->device = vsim_alloc(s, 4, 4);
		vq->avail_wrap = vq->used_wrap = true;
		vq->slots_free = vq->size;
	} else {
		vq->desc = vsim_alloc(s, 16 * n, 16);
		vq->driver = vsim_alloc(s, 6 + 2 * n, 2);
		vq->device = vsim_alloc(s, 6 + 8 * n, 4);
		for (u32 i = 0; i < n; i++)
			vq->free[vq->nfree++] = (u16)(n - 1 - i);
	}
	for (u32 i = 0; i < n; i++)
		vq->ids[vq->nids++] = (u16)(n - 1 - i);
}

int vsim_setup_queue(struct vsim *s, u16 q, u16 size)
{
	struct vsim_queue *vq = &s->q[q];
	u16 max;

	vsim_common_write(s, COMMON(queue_select), 2, q);
	max = (u16)vsim_common_read(s, COMMON(queue_size), 2);
	if (!max)
		return -ENOENT;
	memset(vq, 0, sizeof(*vq));
	vq->size = size ? size : max;
	vsim_common_write(s, COMMON(queue_size), 2, vq->size);
	vsim_queue_rings(s, vq);
	vsim_common_write(s, COMMON(queue_desc), 8, vq->desc);
	vsim_common_write(s, COMMON(queue_driver), 4, (u32)vq->driver);
	vsim_common_write(s, COMMON(queue_driver) + 4, 4, vq->driver >> 32);
	vsim_common_write(s, COMMON(queue_device), 4, (u32)vq->device);
	vsim_common_write(s, COMMON(queue_device) + 4, 4, vq->device >> 32);
	vsim_common_write(s, COMMON(queue_msix_vector), 2, q + 1u);
	vsim_common_write(s, COMMON(queue_enable), 2, 1);
	return 0;
}

int vsim_start(struct vsim *s, u64 wanted, u16 nq)
{
	if (vsim_probe(s) || !vsim_negotiate(s, wanted))
		return -EIO;
	vsim_common_write(s, COMMON(config_msix_vector), 2, 0);
	for (u16 q = 0; q < nq; q++) {
		if (vsim_setup_queue(s, q, 0))
			return -EIO;
	}
	vsim_common_write(s, COMMON(device_status), 1,
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return vsim_status(s) & VIRTIO_STATUS_DRIVER_OK ? 0 : -EIO;
}

void vsim_kick(struct vsim *s, u16 q)
{
	vsim_bar_write(s, 0, s->notify + (u64)q * s->notify_mult, 2, q);
}

struct virtq_desc *vsim_desc(struct vsim *s, u16 q, u16 i)
{
	return (struct virtq_desc *)vsim_ptr(s, s->q[q].desc) + i;
}

struct pvirtq_desc *vsim_pdesc(struct vsim *s, u16 q, u16 i)
{
	return (struct pvirtq_desc *)vsim_ptr(s, s->q[q].desc) + i;
}

void vsim_avail_push(struct vsim *s, u16 q, u16 head)
{
	struct vsim_queue *vq = &s->q[q];
	struct virtq_avail *avail = vsim_ptr(s, vq->driver);

	avail->ring[vq->avail_idx % vq->size] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail->idx = ++vq->avail_idx;
	/* EVENT_IDX: ask for an interrupt on every used buffer. */
	avail->ring[vq->size] = vq->last_used;
}

static u16 vsim_take_desc(struct vsim_queue *vq)
{
	return vq->free[--vq->nfree];
}

/* A split chain: direct descriptors linked by next, or one indirect table. */
static int vsim_split_post(struct vsim *s, u16 q, const struct vsim_seg *segs, u32 nout, u32 nin,
			   bool indirect)
{
	struct vsim_queue *vq = &s->q[q];
	u32 n = nout + nin;
	struct virtq_desc *d, *t;
	u16 head, prev = 0;
	gpa_t table;

	if (vq->nfree < (indirect ? 1 : n) || !n)
		return -ENOSPC;
	if (indirect) {
		table = vsim_alloc(s, 16ULL * n, 16);
		t = vsim_ptr(s, table);
		for (u32 i = 0; i < n; i++) {
			t[i].addr = segs[i].addr;
			t[i].len = segs[i].len;
			t[i].flags = (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
				     (i >= nout ? VIRTQ_DESC_F_WRITE : 0);
			t[i].next = (u16)(i + 1);
		}
		head = vsim_take_desc(vq);
		d = vsim_desc(s, q, head);
		d->addr = table;
		d->len = 16 * n;
		d->flags = VIRTQ_DESC_F_INDIRECT;
		d->next = 0;
	} else {
		head = 0;
		for (u32 i = 0; i < n; i++) {
			u16 idx = vsim_take_desc(vq);

			d = vsim_desc(s, q, idx);
			d->addr = segs[i].addr;
			d->len = segs[i].len;
			d->flags = i >= nout ? VIRTQ_DESC_F_WRITE : 0;
			d->next = 0;
			if (i) {
				vsim_desc(s, q, prev)->flags |= VIRTQ_DESC_F_NEXT;
				vsim_desc(s, q, prev)->next = idx;
			} else {
				head = idx;
			}
			prev = idx;
		}
	}
	vsim_avail_push(s, q, head);
	return head;
}

static u16 vsim_avail_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

static void vsim_packed_advance(struct vsim_queue *vq, u16 *slot, bool *wrap)
{
	if (++*slot == vq->size) {
		*slot = 0;
		*wrap = !*wrap;
	}
}

/* A packed chain; the first descriptor's flags go last (virtio 1.2 2.8.21). */
static int vsim_packed_post(struct vsim *s, u16 q, const struct vsim_seg *segs, u32 nout, u32 nin,
			    bool indirect)
{
	struct vsim_queue *vq = &s->q[q];
	u32 n = nout + nin, need = indirect ? 1 : n;
	u16 id, first = vq->next_avail, first_flags = 0;
	struct pvirtq_desc *d, *t;
	gpa_t table;

	if (vq->slots_free < need || !vq->nids || !n)
		return -ENOSPC;
	id = vq->ids[--vq->nids];
	vq->id_slots[id] = (u16)need;
	vq->slots_free -= (u16)need;
	if (indirect) {
		table = vsim_alloc(s, 16ULL * n, 16);
		t = vsim_ptr(s, table);
		for (u32 i = 0; i < n; i++) {
			t[i].addr = segs[i].addr;
			t[i].len = segs[i].len;
			t[i].flags = i >= nout ? VIRTQ_DESC_F_WRITE : 0;
		}
		d = vsim_pdesc(s, q, vq->next_avail);
		d->addr = table;
		d->len = 16 * n;
		d->id = id;
		first_flags = VIRTQ_DESC_F_INDIRECT | vsim_avail_bits(vq->avail_wrap);
		vsim_packed_advance(vq, &vq->next_avail, &vq->avail_wrap);
	} else {
		for (u32 i = 0; i < n; i++) {
			u16 f = (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
				(i >= nout ? VIRTQ_DESC_F_WRITE : 0) |
				vsim_avail_bits(vq->avail_wrap);

			d = vsim_pdesc(s, q, vq->next_avail);
			d->addr = segs[i].addr;
			d->len = segs[i].len;
			d->id = id;
			if (i)
				d->flags = f;
			else
				first_flags = f;
			vsim_packed_advance(vq, &vq->next_avail, &vq->avail_wrap);
		}
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vsim_pdesc(s, q, first)->flags = first_flags;
	return id;
}

int vsim_post(struct vsim *s, u16 q, const struct vsim_seg *segs, u32 nout, u32 nin, bool indirect)
{
	if (s->q[q].packed)
		return vsim_packed_post(s, q, segs, nout, nin, indirect);
	return vsim_split_post(s, q, segs, nout, nin, indirect);
}

static int vsim_split_used(struct vsim *s, u16 q, u32 *id, u32 *len)
{
	struct vsim_queue *vq = &s->q[q];
	struct virtq_used *used = vsim_ptr(s, vq->device);
	struct virtq_avail *avail = vsim_ptr(s, vq->driver);
	struct virtq_used_elem e;
	u16 i;

	if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == vq->last_used)
		return 0;
	e = used->ring[vq->last_used % vq->size];
	vq->last_used++;
	avail->ring[vq->size] = vq->last_used; /* used_event */
	*id = e.id;
	*len = e.len;
	if (e.id >= vq->size)
		return -EINVAL;
	for (i = (u16)e.id;; i = vsim_desc(s, q, i)->next) {
		vq->free[vq->nfree++] = i;
		if (!(vsim_desc(s, q, i)->flags & VIRTQ_DESC_F_NEXT))
			break;
	}
	return 1;
}

static int vsim_packed_used(struct vsim *s, u16 q, u32 *id, u32 *len)
{
	struct vsim_queue *vq = &s->q[q];
	struct pvirtq_desc *d = vsim_pdesc(s, q, vq->next_used);
	u16 flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	bool avail = flags & VIRTQ_DESC_F_AVAIL, used = flags & VIRTQ_DESC_F_USED;

	if (avail != used || used != vq->used_wrap)
		return 0;
	*id = d->id;
	*len = d->len;
	if (d->id >= vq->size || !vq->id_slots[d->id])
		return -EINVAL;
	for (u16 i = 0; i < vq->id_slots[d->id]; i++)
		vsim_packed_advance(vq, &vq->next_used, &vq->used_wrap);
	vq->slots_free += vq->id_slots[*id];
	vq->id_slots[*id] = 0;
	vq->ids[vq->nids++] = (u16)*id;
	return 1;
}

int vsim_used(struct vsim *s, u16 q, u32 *id, u32 *len)
{
	if (s->q[q].packed)
		return vsim_packed_used(s, q, id, len);
	return vsim_split_used(s, q, id, len);
}

// SPDX-License-Identifier: MIT
/* Packed virtqueues (virtio 1.2 2.8): one descriptor ring, wrap counters, event suppression. */
#include <virtio/virtio.h>
#include "vq_ring.h"

/*
 * Guest layout for a queue of size N (virtio 1.2 2.8.10.1):
 *
 *   desc_gpa   (align 16)  struct pvirtq_desc[N]
 *   driver_gpa (align 4)   driver event suppression: read by us
 *   device_gpa (align 4)   device event suppression: written by us
 */
int vq_packed_start(struct virtqueue *vq)
{
	const u64 ev = sizeof(struct pvirtq_event_suppress);

	vq->desc = vq_map_area(vq, "descriptor ring", vq->desc_gpa,
			       (u64)vq->size * sizeof(struct pvirtq_desc), 16);
	if (!vq->desc)
		return -EIO;
	vq->driver = vq_map_area(vq, "driver event area", vq->driver_gpa, ev, 4);
	if (!vq->driver)
		return -EIO;
	vq->device = vq_map_area(vq, "device event area", vq->device_gpa, ev, 4);
	return vq->device ? 0 : -EIO;
}

/* virtio 1.2 2.8.1: available means AVAIL == wrap counter and USED != it. */
static bool vq_packed_is_avail(u16 flags, bool wrap)
{
	return !!(flags & VIRTQ_DESC_F_AVAIL) == wrap && !!(flags & VIRTQ_DESC_F_USED) != wrap;
}

static void vq_packed_advance(const struct virtqueue *vq, u16 *slot, bool *wrap, u16 n)
{
	*slot = (u16)(*slot + n);
	if (*slot >= vq->size) {
		*slot = (u16)(*slot - vq->size);
		*wrap = !*wrap;
	}
}

/* virtio 1.2 2.8.7: the table is read in order; only WRITE is meaningful. */
static int vq_packed_indirect(struct virtqueue *vq, struct vq_chain *c,
			      const struct vq_raw_desc *ind)
{
	const u8 *table;
	struct vq_raw_desc d;
	u32 count;
	int err;

	err = vq_chain_indirect(vq, ind->addr, ind->len, &table, &count);
	for (u32 i = 0; !err && i < count; i++) {
		vq_ring_read_desc(table + i * sizeof(struct pvirtq_desc), &d);
		if (d.w14 & VIRTQ_DESC_F_INDIRECT)
			return vq_fail(vq, "indirect descriptor inside an indirect table");
		err = vq_chain_add(vq, c, d.addr, d.len, d.w14 & VIRTQ_DESC_F_WRITE);
	}
	return err;
}

/* One ring slot of a buffer; flags were loaded (once) and checked by the caller. */
static int vq_packed_take(struct virtqueue *vq, struct vq_chain *c, u16 slot, u16 flags)
{
	const struct pvirtq_desc *ring = vq->desc;
	struct vq_raw_desc d;

	vq_ring_rmb(); /* flags observed before the rest of the descriptor */
	vq_ring_read_desc(&ring[slot], &d);
	c->id = d.w12; /* virtio 1.2 2.8.6: the last descriptor's id counts */
	c->ndesc++;
	if (!(flags & VIRTQ_DESC_F_INDIRECT))
		return vq_chain_add(vq, c, d.addr, d.len, flags & VIRTQ_DESC_F_WRITE);
	if (c->ndesc != 1 || (flags & VIRTQ_DESC_F_NEXT))
		return vq_fail(vq, "indirect descriptor chained with NEXT");
	return vq_packed_indirect(vq, c, &d);
}

int vq_packed_pop(struct virtqueue *vq, struct vq_chain *c)
{
	const struct pvirtq_desc *ring = vq->desc;
	u16 slot = vq->last_avail, flags;
	bool wrap = vq->avail_wrap;
	int err;

	flags = vq_ring_load16(&ring[slot].flags);
	if (!vq_packed_is_avail(flags, wrap))
		return 0;
	vq_chain_init(c);
	for (;;) {
		if (c->ndesc >= vq->size)
			return vq_fail(vq, "descriptor chain is longer than the queue size %u",
				       vq->size);
		err = vq_packed_take(vq, c, slot, flags);
		if (err)
			return err;
		vq_packed_advance(vq, &slot, &wrap, 1);
		if (!(flags & VIRTQ_DESC_F_NEXT) || (flags & VIRTQ_DESC_F_INDIRECT))
			break;
		flags = vq_ring_load16(&ring[slot].flags);
		if (!vq_packed_is_avail(flags, wrap))
			return vq_fail(vq,
				       "descriptor chain runs into slot %u, which is not available",
				       slot);
	}
	vq->last_avail = slot;
	vq->avail_wrap = wrap;
	return 1;
}

bool vq_packed_avail_at(struct virtqueue *vq, u16 slot, bool wrap)
{
	const struct pvirtq_desc *ring = vq->desc;

	return vq_packed_is_avail(vq_ring_load16(&ring[slot].flags), wrap);
}

bool vq_packed_has_avail(struct virtqueue *vq)
{
	return vq_packed_avail_at(vq, vq->last_avail, vq->avail_wrap);
}

static u16 vq_packed_used_flags(bool wrap, u32 len)
{
	u16 flags = wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;

	return len ? flags | VIRTQ_DESC_F_WRITE : flags;
}

/* Where the used side stands once the pending batch is published. */
static u16 vq_packed_flush_end(const struct virtqueue *vq)
{
	u16 slot = vq->used_idx;
	bool wrap = vq->used_wrap;

	for (u16 i = 0; i < vq->npending; i++)
		vq_packed_advance(vq, &slot, &wrap, vq->pending[i].ndesc);
	return vq_journal_packed_pos(slot, wrap);
}

/*
 * virtio 1.2 2.8.9: the first used descriptor of a batch gets its flags
 * last, so the driver never sees part of a multi-buffer packet. The
 * journal goes around it (vq_journal.c).
 */
void vq_packed_flush(struct virtqueue *vq)
{
	struct pvirtq_desc *ring = vq->desc;
	u16 slot = vq->used_idx, first = slot, first_flags = 0;
	bool wrap = vq->used_wrap;

	vq_journal_begin(vq, vq_packed_flush_end(vq));
	for (u16 i = 0; i < vq->npending; i++) {
		const struct vq_pending *p = &vq->pending[i];
		u16 flags = vq_packed_used_flags(wrap, p->len);

		vq_ring_store32(&ring[slot].len, p->len);
		vq_ring_store16(&ring[slot].id, p->id);
		if (i) {
			vq_ring_wmb();
			vq_ring_store16(&ring[slot].flags, flags);
		} else {
			first_flags = flags;
		}
		vq_packed_advance(vq, &slot, &wrap, p->ndesc);
		vq->since_signal += p->ndesc;
	}
	vq_ring_wmb();
	vq_ring_store16(&ring[first].flags, first_flags);
	vq->used_idx = slot;
	vq->used_wrap = wrap;
	vq_journal_commit(vq);
}

/* Ring position as one number in [0, 2N): slot, plus N on odd passes. */
u32 vq_packed_linear(const struct virtqueue *vq, u16 slot, bool wrap)
{
	return slot + (wrap ? 0u : vq->size);
}

/*
 * virtio 1.2 2.8.10, 2.8.14: the driver area says enable, disable, or
 * (with EVENT_IDX) "notify once the slot off/wrap has been used".
 */
bool vq_packed_should_notify(struct virtqueue *vq)
{
	const struct pvirtq_event_suppress *ev = vq->driver;
	u32 span = 2u * vq->size, old = vq->signalled, event;
	u32 now = vq_packed_linear(vq, vq->used_idx, vq->used_wrap);
	u32 since = vq->since_signal;
	u16 flags, off_wrap, off;

	vq_ring_mb(); /* used flags store before the event area load */
	vq->signalled = (u16)now;
	vq->since_signal = 0;
	if (!since)
		return false;
	flags = vq_ring_load16(&ev->flags) & RING_EVENT_FLAGS_MASK;
	if (flags == RING_EVENT_FLAGS_DISABLE)
		return false;
	if (flags != RING_EVENT_FLAGS_DESC || !vq->event_idx || since >= span)
		return true;
	off_wrap = vq_ring_load16(&ev->desc);
	off = off_wrap & ~(1u << RING_EVENT_WRAP_SHIFT);
	if (off >= vq->size)
		return true;
	event = vq_packed_linear(vq, off, off_wrap >> RING_EVENT_WRAP_SHIFT);
	return (now + 2 * span - event - 1) % span < (now + span - old) % span;
}

/* virtio 1.2 2.8.10: we only ever ask for all or no available notifications. */
void vq_packed_set_notify(struct virtqueue *vq, bool enable)
{
	struct pvirtq_event_suppress *ev = vq->device;

	vq_ring_store16(&ev->flags, enable ? RING_EVENT_FLAGS_ENABLE : RING_EVENT_FLAGS_DISABLE);
}

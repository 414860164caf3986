// SPDX-License-Identifier: MIT
/* Split virtqueues (virtio 1.2 2.7): descriptor table, avail ring, used ring, event index. */
#include <virtio/virtio.h>
#include "vq_ring.h"

/*
 * Guest layout for a queue of size N (virtio 1.2 2.7, alignment table):
 *
 *   desc_gpa   (align 16)  struct virtq_desc[N]
 *   driver_gpa (align 2)   flags, idx, ring[N], used_event   (avail)
 *   device_gpa (align 4)   flags, idx, elem[N], avail_event (used)
 *
 * used_event/avail_event exist only with VIRTIO_F_EVENT_IDX.
 */
int vq_split_start(struct virtqueue *vq)
{
	u64 n = vq->size, event = vq->event_idx ? sizeof(u16) : 0;

	if (n & (n - 1))
		return vq_fail(vq, "split queue size %u is not a power of 2", vq->size);
	vq->desc = vq_map_area(vq, "descriptor table", vq->desc_gpa, n * sizeof(struct virtq_desc),
			       16);
	if (!vq->desc)
		return -EIO;
	vq->driver = vq_map_area(vq, "avail ring", vq->driver_gpa,
				 sizeof(struct virtq_avail) + n * 2 + event, 2);
	if (!vq->driver)
		return -EIO;
	vq->device = vq_map_area(
		vq, "used ring", vq->device_gpa,
		sizeof(struct virtq_used) + n * sizeof(struct virtq_used_elem) + event, 4);
	return vq->device ? 0 : -EIO;
}

/* virtio 1.2 2.7.5.3: a table of descriptors chained only inside itself. */
static int vq_split_indirect(struct virtqueue *vq, struct vq_chain *c,
			     const struct vq_raw_desc *ind)
{
	const u8 *table;
	struct vq_raw_desc d;
	u32 count, i = 0, steps = 0;
	int err;

	if (ind->w12 & VIRTQ_DESC_F_NEXT)
		return vq_fail(vq, "indirect descriptor also has NEXT set");
	err = vq_chain_indirect(vq, ind->addr, ind->len, &table, &count);
	if (err)
		return err;
	for (;;) {
		if (steps++ >= count)
			return vq_fail(vq, "indirect descriptor chain loops");
		vq_ring_read_desc(table + i * sizeof(struct virtq_desc), &d);
		if (d.w12 & VIRTQ_DESC_F_INDIRECT)
			return vq_fail(vq, "indirect descriptor inside an indirect table");
		err = vq_chain_add(vq, c, d.addr, d.len, d.w12 & VIRTQ_DESC_F_WRITE);
		if (err || !(d.w12 & VIRTQ_DESC_F_NEXT))
			return err;
		if (d.w14 >= count)
			return vq_fail(vq, "indirect descriptor links to %u, table has %u", d.w14,
				       count);
		i = d.w14;
	}
}

/* More steps than descriptors in the table means the chain revisits one. */
static int vq_split_walk(struct virtqueue *vq, struct vq_chain *c, u16 head)
{
	const struct virtq_desc *table = vq->desc;
	struct vq_raw_desc d;
	u32 steps = 0;
	u16 i = head;
	int err;

	for (;;) {
		if (steps++ >= vq->size)
			return vq_fail(vq, "descriptor chain loops");
		vq_ring_read_desc(&table[i], &d);
		if (d.w12 & VIRTQ_DESC_F_INDIRECT)
			return vq_split_indirect(vq, c, &d);
		err = vq_chain_add(vq, c, d.addr, d.len, d.w12 & VIRTQ_DESC_F_WRITE);
		if (err || !(d.w12 & VIRTQ_DESC_F_NEXT))
			return err;
		if (d.w14 >= vq->size)
			return vq_fail(vq, "descriptor %u links to %u, queue size %u", i, d.w14,
				       vq->size);
		i = d.w14;
	}
}

int vq_split_pop(struct virtqueue *vq, struct vq_chain *c)
{
	struct virtq_avail *avail = vq->driver;
	u16 idx = vq_ring_load16(&avail->idx);
	u16 ahead = (u16)(idx - vq->last_avail);
	u16 head;
	int err;

	if (!ahead)
		return 0;
	if (ahead > vq->size)
		return vq_fail(vq, "avail idx %u is %u entries past %u, queue size %u", idx, ahead,
			       vq->last_avail, vq->size);
	vq_ring_rmb(); /* ring entries were written before idx */
	head = vq_ring_load16(&avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return vq_fail(vq, "avail ring names descriptor %u, queue size %u", head, vq->size);
	vq_chain_init(c);
	c->id = head;
	c->ndesc = 1;
	err = vq_split_walk(vq, c, head);
	if (err)
		return err;
	vq->last_avail++;
	return 1;
}

bool vq_split_has_avail(struct virtqueue *vq)
{
	struct virtq_avail *avail = vq->driver;

	return vq_ring_load16(&avail->idx) != vq->last_avail;
}

/*
 * virtio 1.2 2.7.8.2: elements first, then idx, so the driver sees whole
 * ones; the journal around them (vq_journal.c).
 */
void vq_split_flush(struct virtqueue *vq)
{
	struct virtq_used *used = vq->device;

	vq_journal_begin(vq, (u16)(vq->used_idx + vq->npending));
	for (u16 i = 0; i < vq->npending; i++) {
		u16 slot = (u16)(vq->used_idx + i) & (vq->size - 1);

		vq_ring_store32(&used->ring[slot].id, vq->pending[i].id);
		vq_ring_store32(&used->ring[slot].len, vq->pending[i].len);
	}
	vq_ring_wmb();
	vq->used_idx = (u16)(vq->used_idx + vq->npending);
	vq->since_signal += vq->npending;
	vq_ring_store16(&used->idx, vq->used_idx);
	vq_journal_commit(vq);
}

/*
 * virtio 1.2 2.7.7.2: with EVENT_IDX notify when the driver's used_event
 * lies in [old, new); without it, unless NO_INTERRUPT is set.
 */
bool vq_split_should_notify(struct virtqueue *vq)
{
	struct virtq_avail *avail = vq->driver;
	u16 old = vq->signalled, now = vq->used_idx, event;
	u32 since = vq->since_signal;

	vq_ring_mb(); /* used idx store before the flags/used_event load */
	vq->signalled = now;
	vq->since_signal = 0;
	if (!since)
		return false;
	if (!vq->event_idx)
		return !(vq_ring_load16(&avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (since > 0xffff)
		return true; /* the u16 window below would wrap */
	event = vq_ring_load16(&avail->ring[vq->size]);
	return (u16)(now - event - 1) < (u16)(now - old);
}

/* virtio 1.2 2.7.10: NO_NOTIFY flag, or avail_event with EVENT_IDX. */
void vq_split_set_notify(struct virtqueue *vq, bool enable)
{
	struct virtq_used *used = vq->device;

	if (vq->event_idx) {
		if (enable)
			vq_ring_store16(&used->ring[vq->size], vq->last_avail);
		return;
	}
	vq_ring_store16(&used->flags, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
}

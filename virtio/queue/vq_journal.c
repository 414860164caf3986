// SPDX-License-Identifier: MIT
/* A queue's used position kept across a restart of its device model: written ahead of each publish, rolled forward. */
#include <virtio/virtio.h>
#include <lib/string.h>
#include "vq_ring.h"

/*
 * Why this is enough to carry on exactly after the device model died.
 *
 * The model (keel-dm) may die at any instruction; the guest's RAM and the
 * journal (a tmpfs page) stay. Every store made before the death is
 * there and none after, so what a restart sees is program order; the
 * fences below keep the compiler and CPU to it.
 *
 * A publish of used buffers (vq_split_flush, vq_packed_flush) goes:
 *   1. journal: batch and count, then to = the position after the batch
 *   2. guest: the used elements, then the one store that shows them all
 *      (split: used->idx, virtio 1.2 2.7.8.2; packed: the first
 *      element's flags, see vq_packed_flush)
 *   3. journal: used = to
 * So the journal is never behind what the driver can see except by one
 * batch it holds in full (to != used: death between 1 and 3), and never
 * ahead of it. vq_journal_resume finishes such a batch:
 *   split: it is written again. The used ring is the device's alone, so
 *     the same ids and lengths in the same slots and the same idx change
 *     nothing a driver that saw them already has, and show them to one
 *     that had not.
 *   packed: the batch's first slot tells. Still available in the wrap of
 *     `used` (AVAIL == wrap, USED != wrap): never shown, so it is written
 *     again (elements past the first, written or not, were not visible).
 *     Anything else: shown; the driver may since have taken it and made
 *     the slot available for the next lap (AVAIL != wrap), so nothing is
 *     written and the position moves to `to`. The slot cannot look
 *     available in the old wrap again before the device uses it once
 *     more, which this one did not live to do.
 * Either way each completed buffer reaches the driver once, none is lost.
 *
 * The available side needs no journal: Keel's device models complete
 * buffers in order, each before the next is taken (net's mergeable
 * receive buffers: taken together, then completed together or given
 * back), so at rest the avail position equals the used one. A buffer
 * taken but not completed when the model died is taken again: nothing
 * was acknowledged for it, and a block read or write done twice leaves
 * the same data.
 */

u16 vq_journal_packed_pos(u16 slot, bool wrap)
{
	return (u16)(slot | (wrap ? 1u << RING_EVENT_WRAP_SHIFT : 0));
}

static u16 vq_journal_slot(u16 pos)
{
	return pos & (u16)(~(1u << RING_EVENT_WRAP_SHIFT));
}

static bool vq_journal_wrap(u16 pos)
{
	return pos >> RING_EVENT_WRAP_SHIFT;
}

static u16 vq_journal_pos(const struct virtqueue *vq)
{
	return vq->packed ? vq_journal_packed_pos(vq->used_idx, vq->used_wrap) : vq->used_idx;
}

/* At reset and start: nothing in flight, the position as it now is. */
void vq_journal_mark(struct virtqueue *vq)
{
	struct vq_journal *j = vq->journal;

	if (!j)
		return;
	j->count = 0;
	vq_ring_store16(&j->to, vq_journal_pos(vq));
	vq_ring_store16(&j->used, vq_journal_pos(vq));
	vq_ring_wmb();
}

void vq_journal_attach(struct virtqueue *vq, struct vq_journal *j)
{
	vq->journal = j;
	vq_journal_mark(vq);
}

void vq_journal_begin(struct virtqueue *vq, u16 to)
{
	struct vq_journal *j = vq->journal;

	if (!j)
		return;
	memcpy(j->batch, vq->pending, vq->npending * sizeof(vq->pending[0]));
	j->count = vq->npending;
	vq_ring_wmb(); /* the batch before the end that says it is there */
	vq_ring_store16(&j->to, to);
	vq_ring_wmb(); /* and both before the guest sees any of it */
}

void vq_journal_commit(struct virtqueue *vq)
{
	if (!vq->journal)
		return;
	vq_ring_wmb(); /* the guest's view is whole before the journal says so */
	vq_ring_store16(&vq->journal->used, vq_journal_pos(vq));
}

/* Packed: slots from used to to, as the sum of the batch's buffer lengths must be. */
static u32 vq_journal_span(const struct vq_journal *j, u16 size)
{
	u32 from = vq_journal_slot(j->used) + (vq_journal_wrap(j->used) ? 0u : size);
	u32 to = vq_journal_slot(j->to) + (vq_journal_wrap(j->to) ? 0u : size);

	return (to + 2u * size - from) % (2u * size);
}

const char *vq_journal_check(const struct vq_journal *j, u16 size, bool packed)
{
	u32 slots = 0;

	if (packed && (vq_journal_slot(j->used) >= size || vq_journal_slot(j->to) >= size))
		return "a journal position lies outside its queue";
	if (j->to == j->used)
		return NULL;
	if (!j->count || j->count > size || (!packed && (u16)(j->to - j->used) != j->count))
		return "a journal batch has the wrong number of buffers";
	for (u16 i = 0; i < j->count; i++) {
		const struct vq_pending *p = &j->batch[i];

		if (packed ? !p->ndesc || p->ndesc > size : p->id >= size)
			return "a journal batch names a buffer its queue cannot hold";
		slots += p->ndesc;
	}
	if (packed && slots != vq_journal_span(j, size))
		return "a journal batch does not fill the slots it says";
	return NULL;
}

static void vq_journal_seek(struct virtqueue *vq, u16 pos)
{
	if (!vq->packed) {
		vq->used_idx = pos;
		return;
	}
	vq->used_idx = vq_journal_slot(pos);
	vq->used_wrap = vq_journal_wrap(pos);
}

/* The batch in flight was not shown to the driver yet (split: harmless to show again). */
static bool vq_journal_unshown(struct virtqueue *vq)
{
	return !vq->packed || vq_packed_avail_at(vq, vq->used_idx, vq->used_wrap);
}

void vq_journal_resume(struct virtqueue *vq, const struct vq_journal *j)
{
	vq_journal_seek(vq, j->used);
	if (j->to != j->used && vq_journal_unshown(vq)) {
		memcpy(vq->pending, j->batch, j->count * sizeof(vq->pending[0]));
		vq->npending = j->count;
		if (vq->packed)
			vq_packed_flush(vq);
		else
			vq_split_flush(vq);
		vq->npending = 0;
	} else if (j->to != j->used) {
		vq_journal_seek(vq, j->to);
	}
	vq->last_avail = vq->used_idx;
	vq->avail_wrap = vq->used_wrap;
	/* Interrupt decisions start afresh: the embedder signals each queue once. */
	vq->signalled = vq->packed ? (u16)vq_packed_linear(vq, vq->used_idx, vq->used_wrap) :
				     vq->used_idx;
	vq->since_signal = 0;
}

// SPDX-License-Identifier: MIT
/* Virtqueue front end: start/reset, pop dispatch, the used-side batch, notification choices. */
#include <virtio/virtio.h>
#include <lib/string.h>
#include "vq_ring.h"

void vq_init(struct virtqueue *vq, struct virtio_dev *dev, u16 index, u16 size_max)
{
	memset(vq, 0, sizeof(*vq));
	vq->dev = dev;
	vq->index = index;
	vq->size_max = size_max;
	vq_reset(vq);
}

/* virtio 1.2 4.1.4.3.1: after reset queue_size shows the maximum, enable 0. */
void vq_reset(struct virtqueue *vq)
{
	vq->size = vq->size_max;
	vq->enabled = false;
	vq->desc_gpa = vq->driver_gpa = vq->device_gpa = 0;
	vq->started = false;
	vq->desc = vq->driver = vq->device = NULL;
	vq->last_avail = vq->used_idx = vq->signalled = 0;
	vq->since_signal = 0;
	vq->avail_wrap = vq->used_wrap = true; /* virtio 1.2 2.8.1 */
	vq->npending = 0;
	vq_journal_mark(vq);
}

int vq_fail(struct virtqueue *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	virtio_dev_vfail(vq->dev, vq->index, fmt, ap);
	va_end(ap);
	vq->started = false;
	return -EIO;
}

/* A ring area: wholly in guest RAM and aligned as virtio 1.2 2.7 / 2.8.10.1 ask. */
void *vq_map_area(struct virtqueue *vq, const char *what, gpa_t gpa, u64 len, u64 align)
{
	void *p = guest_mem_map(vq->dev->mem, gpa, len);

	if (!p) {
		vq_fail(vq, "%s 0x%llx+0x%llx is outside guest RAM", what, (unsigned long long)gpa,
			(unsigned long long)len);
		return NULL;
	}
	if (!IS_ALIGNED(gpa, align) || !IS_ALIGNED((uintptr_t)p, align)) {
		vq_fail(vq, "%s 0x%llx is not %llu-byte aligned", what, (unsigned long long)gpa,
			(unsigned long long)align);
		return NULL;
	}
	return p;
}

int vq_start(struct virtqueue *vq, bool packed, bool event_idx, bool indirect)
{
	int err;

	if (!vq->size || vq->size > vq->size_max)
		return vq_fail(vq, "queue size %u not in 1..%u", vq->size, vq->size_max);
	vq->packed = packed;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	err = packed ? vq_packed_start(vq) : vq_split_start(vq);
	if (err)
		return err;
	vq->started = true;
	vq_journal_mark(vq); /* the position's form depends on the layout */
	return 0;
}

static bool vq_live(const struct virtqueue *vq)
{
	return vq->started && !vq->dev->broken;
}

int vq_pop(struct virtqueue *vq, struct vq_chain *c)
{
	if (!vq_live(vq))
		return vq->dev->broken ? -EIO : 0;
	return vq->packed ? vq_packed_pop(vq, c) : vq_split_pop(vq, c);
}

int vq_pop_for_device(struct virtqueue *vq, struct vq_chain *c, const char *what)
{
	int r = vq_pop(vq, c);

	if (!r && vq_enable_notify(vq))
		r = vq_pop(vq, c); /* a buffer arrived as we asked for a kick */
	if (r > 0 && c->nout)
		r = vq_fail(vq, "%s has device-readable descriptors", what);
	return r;
}

struct vq_cursor vq_cursor(const struct virtqueue *vq)
{
	struct vq_cursor pos = { vq->last_avail, vq->avail_wrap };

	return pos;
}

void vq_rewind(struct virtqueue *vq, struct vq_cursor pos)
{
	vq->last_avail = pos.idx;
	vq->avail_wrap = pos.wrap;
}

int vq_fill(struct virtqueue *vq, const struct vq_chain *c, u32 len)
{
	struct vq_pending *p;

	if (!vq_live(vq))
		return -EIO;
	if (vq->npending >= vq->size)
		return -ENOSPC;
	p = &vq->pending[vq->npending++];
	p->id = c->id;
	p->ndesc = c->ndesc;
	p->len = MIN(len, c->in_len);
	return 0;
}

void vq_fill_abort(struct virtqueue *vq)
{
	vq->npending = 0;
}

void vq_flush(struct virtqueue *vq)
{
	if (vq_live(vq) && vq->npending) {
		if (vq->packed)
			vq_packed_flush(vq);
		else
			vq_split_flush(vq);
	}
	vq->npending = 0;
}

int vq_push(struct virtqueue *vq, const struct vq_chain *c, u32 len)
{
	int err = vq_fill(vq, c, len);

	if (!err)
		vq_flush(vq);
	return err;
}

bool vq_should_notify(struct virtqueue *vq)
{
	if (!vq_live(vq))
		return false;
	return vq->packed ? vq_packed_should_notify(vq) : vq_split_should_notify(vq);
}

void vq_disable_notify(struct virtqueue *vq)
{
	if (!vq_live(vq))
		return;
	if (vq->packed)
		vq_packed_set_notify(vq, false);
	else
		vq_split_set_notify(vq, false);
}

/* Re-enable, then look again: a buffer may have slipped in meanwhile. */
bool vq_enable_notify(struct virtqueue *vq)
{
	if (!vq_live(vq))
		return false;
	if (vq->packed)
		vq_packed_set_notify(vq, true);
	else
		vq_split_set_notify(vq, true);
	vq_ring_mb();
	return vq->packed ? vq_packed_has_avail(vq) : vq_split_has_avail(vq);
}

// SPDX-License-Identifier: MIT
/* Descriptor chains as iovecs: checked segment adds, indirect tables, copies in and out. */
#include <virtio/virtio.h>
#include <lib/string.h>
#include "vq_ring.h"

void vq_chain_init(struct vq_chain *c)
{
	c->id = 0;
	c->ndesc = 0;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
}

static int vq_chain_account(struct virtqueue *vq, u32 *total, u16 *count, u32 len)
{
	if (len > UINT32_MAX - *total)
		return vq_fail(vq, "descriptor chain length overflows 32 bits");
	*total += len;
	(*count)++;
	return 0;
}

/*
 * One segment, checked: at most size_max segments a chain (the iovec
 * capacity, and what blk's seg_max promises even when the driver picked
 * a smaller ring), buffers non-empty and wholly in guest RAM, and all
 * device-readable segments before the device-writable ones
 * (virtio 1.2 2.7.4.2, 2.8.17).
 */
int vq_chain_add(struct virtqueue *vq, struct vq_chain *c, u64 addr, u32 len, bool writable)
{
	u32 n = (u32)c->nout + c->nin;
	void *p;
	int err;

	if (n >= vq->size_max)
		return vq_fail(vq, "descriptor chain is longer than %u descriptors", vq->size_max);
	if (!len)
		return vq_fail(vq, "zero-length descriptor at chain position %u", n);
	if (!writable && c->nin)
		return vq_fail(vq, "device-readable descriptor after a device-writable one");
	p = guest_mem_map(vq->dev->mem, addr, len);
	if (!p)
		return vq_fail(vq, "descriptor buffer 0x%llx+0x%x is outside guest RAM",
			       (unsigned long long)addr, len);
	if (writable)
		err = vq_chain_account(vq, &c->in_len, &c->nin, len);
	else
		err = vq_chain_account(vq, &c->out_len, &c->nout, len);
	if (err)
		return err;
	c->iov[n].base = p;
	c->iov[n].len = len;
	return 0;
}

/* virtio 1.2 2.7.5.3 and 2.8.7: an indirect table is whole 16-byte entries. */
int vq_chain_indirect(struct virtqueue *vq, u64 addr, u32 len, const u8 **table, u32 *count)
{
	if (!vq->indirect)
		return vq_fail(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (!len || len % sizeof(struct virtq_desc))
		return vq_fail(vq, "indirect table length %u is not a multiple of 16", len);
	*count = len / sizeof(struct virtq_desc);
	if (*count > vq->size_max)
		return vq_fail(vq, "indirect table of %u descriptors exceeds the queue size %u",
			       *count, vq->size_max);
	*table = guest_mem_map(vq->dev->mem, addr, len);
	if (!*table)
		return vq_fail(vq, "indirect table 0x%llx+0x%x is outside guest RAM",
			       (unsigned long long)addr, len);
	return 0;
}

/* Copy to or from one side's segments, starting at byte off of that side. */
static u32 vq_chain_copy(const struct vq_chain *c, bool writable, u32 off, u8 *buf, u32 len)
{
	u32 first = writable ? c->nout : 0;
	u32 end = writable ? (u32)c->nout + c->nin : c->nout;
	u32 done = 0;

	for (u32 i = first; i < end && done < len; i++) {
		u32 seg = c->iov[i].len, n;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		n = MIN(seg - off, len - done);
		if (writable)
			memcpy((u8 *)c->iov[i].base + off, buf + done, n);
		else
			memcpy(buf + done, (const u8 *)c->iov[i].base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

u32 vq_chain_read(const struct vq_chain *c, u32 off, void *dst, u32 len)
{
	return vq_chain_copy(c, false, off, dst, len);
}

u32 vq_chain_write(const struct vq_chain *c, u32 off, const void *src, u32 len)
{
	return vq_chain_copy(c, true, off, (u8 *)src, len);
}

u32 vq_chain_slice(const struct vq_chain *c, bool writable, u32 off, u32 len,
		   struct virtio_iov *out, u32 max)
{
	u32 first = writable ? c->nout : 0;
	u32 end = writable ? (u32)c->nout + c->nin : c->nout;
	u32 n = 0;

	for (u32 i = first; i < end && len && n < max; i++) {
		u32 seg = c->iov[i].len, take;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		take = MIN(seg - off, len);
		out[n].base = (u8 *)c->iov[i].base + off;
		out[n].len = take;
		n++;
		len -= take;
		off = 0;
	}
	return n;
}

// SPDX-License-Identifier: MIT
/* virtio-net receive: a frame into one buffer, or over mergeable buffers (virtio 1.2 5.1.6.3-4). */
#include <virtio/net.h>
#include <lib/string.h>

#define HDR_LEN ((u32)sizeof(struct virtio_net_hdr))
#define NUM_BUFFERS_OFF offsetof(struct virtio_net_hdr, num_buffers)

/* virtio 1.2 5.1.6.4.1: no offload the driver did not accept. */
static bool virtio_net_rx_hdr_ok(const struct virtio_dev *dev, const struct virtio_net_hdr *h)
{
	u8 gso = h->gso_type & (u8)~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags && !virtio_dev_has(dev, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !virtio_dev_has(dev, VIRTIO_NET_F_GUEST_ECN))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return virtio_dev_has(dev, VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return virtio_dev_has(dev, VIRTIO_NET_F_GUEST_TSO6);
	case VIRTIO_NET_HDR_GSO_UDP:
		return virtio_dev_has(dev, VIRTIO_NET_F_GUEST_UFO);
	default:
		return false;
	}
}

/*
 * Copy bytes [off, off + n) of the packet as the guest sees it (header,
 * then frame) to the start of c's device-writable bytes.
 */
static void virtio_net_rx_copy(const struct vq_chain *c, const struct virtio_net_hdr *h,
			       const u8 *frame, u32 off, u32 n)
{
	u32 done = 0;

	if (off < HDR_LEN) {
		done = MIN(n, HDR_LEN - off);
		vq_chain_write(c, 0, (const u8 *)h + off, done);
		off = 0;
	} else {
		off -= HDR_LEN;
	}
	if (n > done)
		vq_chain_write(c, done, frame + off, n - done);
}

/*
 * A receive buffer is device-writable only, and holds at least the header.
 * Out of buffers, a kick is asked for once the driver adds past this point
 * (virtio 1.2 2.7.10).
 */
static int virtio_net_rx_pop(struct virtqueue *vq, struct vq_chain *c)
{
	int r = vq_pop_for_device(vq, c, "receive buffer");

	if (r > 0 && c->in_len < HDR_LEN)
		r = vq_fail(vq, "receive buffer of %u bytes is smaller than virtio_net_hdr",
			    c->in_len);
	return r;
}

/* Without MRG_RXBUF the whole packet must fit one buffer (virtio 1.2 5.1.6.3.2). */
static int virtio_net_rx_single(struct virtio_net *net, struct virtqueue *vq,
				const struct virtio_net_hdr *h, const u8 *frame, u32 len)
{
	struct vq_chain *c = &net->rx_chain;
	struct vq_cursor start = vq_cursor(vq);
	int r = virtio_net_rx_pop(vq, c);

	if (r <= 0)
		return r ? -EIO : -EAGAIN;
	if (c->in_len - HDR_LEN < len) {
		vq_rewind(vq, start); /* leave the buffer for a smaller frame */
		return -E2BIG;
	}
	virtio_net_rx_copy(c, h, frame, 0, HDR_LEN + len);
	return vq_push(vq, c, HDR_LEN + len) ? -EIO : 0;
}

/* Remember where num_buffers lives in the first buffer, to set it last. */
static u32 virtio_net_rx_nb_slot(const struct vq_chain *c, struct virtio_iov nb[2])
{
	return vq_chain_slice(c, true, NUM_BUFFERS_OFF, 2, nb, 2);
}

static void virtio_net_rx_put_nb(const struct virtio_iov *nb, u32 n, u16 val)
{
	u8 bytes[2] = { (u8)val, (u8)(val >> 8) };
	u32 k = 0;

	for (u32 i = 0; i < n; i++)
		for (u32 j = 0; j < nb[i].len && k < 2; j++)
			((u8 *)nb[i].base)[j] = bytes[k++];
}

/*
 * virtio 1.2 5.1.6.4: fill whole buffers in turn until the packet is in;
 * publish them together, or give all back if the queue runs dry.
 */
static int virtio_net_rx_merge(struct virtio_net *net, struct virtqueue *vq,
			       const struct virtio_net_hdr *h, const u8 *frame, u32 len)
{
	struct vq_chain *c = &net->rx_chain;
	struct vq_cursor start = vq_cursor(vq);
	struct virtio_iov nb[2];
	u32 off = 0, total = HDR_LEN + len, nnb = 0, n;
	u16 bufs = 0;
	int r = 0;

	while (off < total) {
		if (bufs == vq->size) {
			r = -E2BIG; /* the whole ring would not hold it */
			break;
		}
		r = virtio_net_rx_pop(vq, c);
		if (r <= 0)
			break;
		n = MIN(c->in_len, total - off);
		virtio_net_rx_copy(c, h, frame, off, n);
		if (!bufs)
			nnb = virtio_net_rx_nb_slot(c, nb);
		if (vq_fill(vq, c, n)) {
			r = -E2BIG;
			break;
		}
		bufs++;
		off += n;
	}
	if (off < total) {
		vq_fill_abort(vq);
		vq_rewind(vq, start);
		return r < 0 ? r : -EAGAIN;
	}
	virtio_net_rx_put_nb(nb, nnb, bufs);
	vq_flush(vq);
	return 0;
}

int virtio_net_rx(struct virtio_net *net, u16 pair, const struct virtio_net_hdr *hdr,
		  const void *frame, u32 len)
{
	struct virtio_dev *dev = &net->dev;
	struct virtio_net_hdr h = { 0 };
	struct virtqueue *vq;
	int err;

	if (dev->broken || !(dev->status & VIRTIO_STATUS_DRIVER_OK))
		return -EIO;
	vq = &dev->vqs[2 * (pair % net->pairs)];
	if (!vq->started)
		return -EIO;
	if (hdr)
		h = *hdr;
	if (!virtio_net_rx_hdr_ok(dev, &h))
		return -ENOTSUP;
	h.num_buffers = 1;
	if (virtio_dev_has(dev, VIRTIO_NET_F_MRG_RXBUF))
		err = virtio_net_rx_merge(net, vq, &h, frame, len);
	else
		err = virtio_net_rx_single(net, vq, &h, frame, len);
	if (!err)
		virtio_dev_queue_used(dev, vq);
	return err;
}

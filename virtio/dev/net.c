// SPDX-License-Identifier: MIT
/* virtio-net: configuration, feature rules, transmit queues and the MQ control queue. */
#include <virtio/net.h>
#include <lib/string.h>

#define HDR_LEN ((u32)sizeof(struct virtio_net_hdr))

static struct virtio_net *virtio_net_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_net, dev);
}

static u16 virtio_net_ctrl_queue(const struct virtio_net *net)
{
	return (u16)(2 * net->max_pairs); /* virtio 1.2 5.1.2 */
}

/* virtio 1.2 5.1.6.2: header, then the frame; all device-readable. */
static int virtio_net_tx(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_net *net = virtio_net_of(dev);
	struct virtio_net_hdr h;
	u32 n;

	if (c->nin)
		return vq_fail(vq, "transmit buffer has device-writable descriptors");
	if (c->out_len < HDR_LEN)
		return vq_fail(vq, "transmit buffer of %u bytes is shorter than virtio_net_hdr",
			       c->out_len);
	vq_chain_read(c, 0, &h, HDR_LEN);
	n = vq_chain_slice(c, false, HDR_LEN, c->out_len - HDR_LEN, net->frame,
			   ARRAY_SIZE(net->frame));
	if (n)
		net->ops->transmit(net->ctx, vq->index / 2, &h, net->frame, n);
	return 0;
}

/* virtio 1.2 5.1.6.5.6: le16 virtqueue_pairs in 1..max_virtqueue_pairs. */
static u8 virtio_net_ctrl_mq(struct virtio_net *net, const struct vq_chain *c, u8 cmd)
{
	u8 data[2];
	u16 pairs;

	if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || !virtio_dev_has(&net->dev, VIRTIO_NET_F_MQ) ||
	    vq_chain_read(c, 2, data, sizeof(data)) != sizeof(data))
		return VIRTIO_NET_ERR;
	pairs = virtio_get_le16(data);
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > net->max_pairs)
		return VIRTIO_NET_ERR;
	net->pairs = pairs;
	if (net->ops->set_pairs)
		net->ops->set_pairs(net->ctx, pairs);
	return VIRTIO_NET_OK;
}

/* virtio 1.2 5.1.6.5: class, command, data (readable), then the ack byte. */
static int virtio_net_ctrl(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_net *net = virtio_net_of(dev);
	u8 hdr[2], ack = VIRTIO_NET_ERR;

	if (c->out_len < sizeof(hdr))
		return vq_fail(vq, "control command header is not device-readable");
	if (!c->in_len)
		return vq_fail(vq, "control command has no device-writable ack byte");
	vq_chain_read(c, 0, hdr, sizeof(hdr));
	if (hdr[0] == VIRTIO_NET_CTRL_MQ)
		ack = virtio_net_ctrl_mq(net, c, hdr[1]);
	vq_chain_write(c, 0, &ack, 1);
	return 1;
}

static void virtio_net_queue_notify(struct virtio_dev *dev, u16 queue)
{
	struct virtio_net *net = virtio_net_of(dev);
	struct virtqueue *vq = &dev->vqs[queue];

	if (queue == virtio_net_ctrl_queue(net))
		virtio_dev_drain(dev, vq, &net->tx_chain, virtio_net_ctrl);
	else if (queue & 1)
		virtio_dev_drain(dev, vq, &net->tx_chain, virtio_net_tx);
	else if (net->ops->rx_ready)
		net->ops->rx_ready(net->ctx, queue / 2);
}

/* virtio 1.2 5.1.3.1: a feature is acceptable only with one of its prerequisites. */
static const struct {
	u64 feature, needs;
} virtio_net_deps[] = {
	{ VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM },
	{ VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM },
	{ VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 },
	{ VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_CSUM },
	{ VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM },
	{ VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM },
	{ VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6 },
	{ VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_CSUM },
	{ VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ },
};

static int virtio_net_features_ok(struct virtio_dev *dev, u64 f)
{
	(void)dev;
	for (u32 i = 0; i < ARRAY_SIZE(virtio_net_deps); i++) {
		if ((f & virtio_net_deps[i].feature) && !(f & virtio_net_deps[i].needs))
			return -EINVAL;
	}
	return 0;
}

static void virtio_net_driver_ok(struct virtio_dev *dev)
{
	struct virtio_net *net = virtio_net_of(dev);

	if (net->ops->features)
		net->ops->features(net->ctx, dev->driver_features);
}

/* virtio 1.2 5.1.6.5.6: after reset only the first pair is in use. */
static void virtio_net_reset(struct virtio_dev *dev)
{
	virtio_net_of(dev)->pairs = 1;
}

/* Across a restart: the active pairs (le16). */
static u32 virtio_net_save(struct virtio_dev *dev, u8 buf[VIRTIO_MODEL_STATE_MAX])
{
	virtio_put_le16(buf, virtio_net_of(dev)->pairs);
	return 2;
}

static int virtio_net_load(struct virtio_dev *dev, const u8 *buf, u32 len)
{
	struct virtio_net *net = virtio_net_of(dev);
	u16 pairs = len == 2 ? virtio_get_le16(buf) : 0;

	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > net->max_pairs)
		return -EINVAL;
	net->pairs = pairs;
	if (net->ops->set_pairs)
		net->ops->set_pairs(net->ctx, pairs);
	return 0;
}

static const struct virtio_dev_ops virtio_net_dev_ops = {
	.reset = virtio_net_reset,
	.save = virtio_net_save,
	.load = virtio_net_load,
	.features_ok = virtio_net_features_ok,
	.driver_ok = virtio_net_driver_ok,
	.queue_notify = virtio_net_queue_notify,
};

static u64 virtio_net_features(const struct virtio_net_params *p, u16 pairs)
{
	u64 f = VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS | VIRTIO_NET_F_CTRL_VQ |
		VIRTIO_NET_F_MRG_RXBUF | (p->offloads & VIRTIO_NET_OFFLOADS);

	if (pairs > 1)
		f |= VIRTIO_NET_F_MQ;
	if (p->mtu)
		f |= VIRTIO_NET_F_MTU;
	return f;
}

int virtio_net_init(struct virtio_net *net, const struct virtio_net_params *p,
		    const struct virtio_net_ops *ops, void *ctx)
{
	u16 pairs = p->max_pairs ? p->max_pairs : 1;
	u16 qsize = p->queue_size ? p->queue_size : VIRTIO_QUEUE_SIZE_MAX;
	int err;

	if (!ops || !ops->transmit || pairs > VIRTIO_NET_MAX_PAIRS)
		return -EINVAL;
	err = virtio_dev_init(&net->dev, VIRTIO_ID_NET, virtio_net_features(p, pairs),
			      (u16)(2 * pairs + 1), qsize, &net->config, sizeof(net->config),
			      &virtio_net_dev_ops);
	if (err)
		return err;
	net->ops = ops;
	net->ctx = ctx;
	net->max_pairs = pairs;
	net->pairs = 1;
	memset(&net->config, 0, sizeof(net->config));
	memcpy(net->config.mac, p->mac, sizeof(net->config.mac));
	net->config.status = p->link_down ? 0 : VIRTIO_NET_S_LINK_UP;
	net->config.max_virtqueue_pairs = pairs;
	net->config.mtu = p->mtu;
	return 0;
}

void virtio_net_set_link(struct virtio_net *net, bool up)
{
	u16 status = up ? VIRTIO_NET_S_LINK_UP : 0;

	if (net->config.status == status)
		return;
	net->config.status = status;
	virtio_dev_config_changed(&net->dev);
}

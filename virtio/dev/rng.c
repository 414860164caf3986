// SPDX-License-Identifier: MIT
/* virtio-rng: one request queue of device-writable buffers, filled with entropy. */
#include <virtio/rng.h>

static struct virtio_rng *virtio_rng_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_rng, dev);
}

/*
 * virtio 1.2 5.4.6: the driver posts only device-writable buffers; the
 * device puts at least one byte in, and may use less than all of it.
 */
static int virtio_rng_request(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_rng *rng = virtio_rng_of(dev);
	u32 done = 0;

	if (c->nout)
		return vq_fail(vq, "entropy request has device-readable descriptors");
	for (u16 i = c->nout; i < c->nout + c->nin; i++) {
		int got = rng->ops->fill(rng->ctx, c->iov[i].base, c->iov[i].len);

		if (got <= 0)
			break;
		done += MIN((u32)got, c->iov[i].len);
		if ((u32)got < c->iov[i].len)
			break;
	}
	return (int)MIN(done, (u32)INT32_MAX);
}

static void virtio_rng_queue_notify(struct virtio_dev *dev, u16 queue)
{
	virtio_dev_drain(dev, &dev->vqs[queue], &virtio_rng_of(dev)->chain, virtio_rng_request);
}

static const struct virtio_dev_ops virtio_rng_dev_ops = {
	.queue_notify = virtio_rng_queue_notify,
};

int virtio_rng_init(struct virtio_rng *rng, u16 queue_size, const struct virtio_rng_ops *ops,
		    void *ctx)
{
	int err;

	if (!ops || !ops->fill)
		return -EINVAL;
	err = virtio_dev_init(&rng->dev, VIRTIO_ID_RNG, 0, 1,
			      queue_size ? queue_size : VIRTIO_QUEUE_SIZE_MAX, NULL, 0,
			      &virtio_rng_dev_ops);
	if (err)
		return err;
	rng->ops = ops;
	rng->ctx = ctx;
	return 0;
}

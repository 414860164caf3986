// SPDX-License-Identifier: MIT
/* The device status machine, feature negotiation, queue dispatch and NEEDS_RESET faults. */
#include <virtio/virtio.h>
#include <lib/format.h>
#include <lib/string.h>

int virtio_dev_init(struct virtio_dev *dev, u32 device_id, u64 features, u16 num_queues,
		    u16 queue_size, void *config, u32 config_len, const struct virtio_dev_ops *ops)
{
	if (!num_queues || num_queues > VIRTIO_DEV_MAX_QUEUES || !queue_size ||
	    queue_size > VIRTIO_QUEUE_SIZE_MAX || !ops || !ops->queue_notify ||
	    (config_len && !config))
		return -EINVAL;
	memset(dev, 0, sizeof(*dev));
	dev->device_id = device_id;
	dev->device_features = features | VIRTIO_TRANSPORT_FEATURES;
	dev->num_queues = num_queues;
	dev->config = config;
	dev->config_len = config_len;
	dev->ops = ops;
	for (u16 q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++)
		vq_init(&dev->vqs[q], dev, q, q < num_queues ? queue_size : 0);
	return 0;
}

bool virtio_dev_has(const struct virtio_dev *dev, u64 feature)
{
	return (dev->driver_features & feature) == feature;
}

/* virtio 1.2 2.4: back to the state after power-on, as far as the driver can tell. */
void virtio_dev_reset(struct virtio_dev *dev)
{
	dev->status = 0;
	dev->driver_features = 0;
	dev->broken = false;
	dev->fault[0] = '\0';
	for (u16 q = 0; q < dev->num_queues; q++)
		vq_reset(&dev->vqs[q]);
	if (dev->ops->reset)
		dev->ops->reset(dev);
}

void virtio_dev_vfail(struct virtio_dev *dev, int queue, const char *fmt, va_list ap)
{
	int n = 0;

	if (dev->broken)
		return; /* the first reason is the interesting one */
	dev->broken = true;
	if (queue >= 0)
		n = format_snprintf(dev->fault, sizeof(dev->fault), "queue %d: ", queue);
	n = MIN(MAX(n, 0), (int)sizeof(dev->fault) - 1);
	format_vsnprintf(dev->fault + n, sizeof(dev->fault) - n, fmt, ap);
	/* virtio 1.2 2.1.2: set NEEDS_RESET, then tell a running driver. */
	dev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (dev->on_fault)
		dev->on_fault(dev->fault_ctx, dev->fault);
	if ((dev->status & VIRTIO_STATUS_DRIVER_OK) && dev->transport)
		dev->transport->config_interrupt(dev);
}

void virtio_dev_fail(struct virtio_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	virtio_dev_vfail(dev, -1, fmt, ap);
	va_end(ap);
}

const char *virtio_dev_fault(const struct virtio_dev *dev)
{
	return dev->broken ? dev->fault : NULL;
}

/* virtio 1.2 2.2.2, 6.2: only offered bits, VERSION_1 required (no legacy). */
static bool virtio_dev_features_ok(struct virtio_dev *dev)
{
	u64 f = dev->driver_features;

	if (!(f & VIRTIO_F_VERSION_1) || (f & ~dev->device_features))
		return false;
	return !dev->ops->features_ok || !dev->ops->features_ok(dev, f);
}

void virtio_dev_set_driver_features(struct virtio_dev *dev, u64 features)
{
	if (dev->status & VIRTIO_STATUS_FEATURES_OK)
		return; /* virtio 1.2 3.1.1: fixed once accepted */
	dev->driver_features = features & dev->device_features;
}

static int virtio_dev_start_queue(struct virtio_dev *dev, struct virtqueue *vq)
{
	return vq_start(vq, virtio_dev_has(dev, VIRTIO_F_RING_PACKED),
			virtio_dev_has(dev, VIRTIO_F_EVENT_IDX),
			virtio_dev_has(dev, VIRTIO_F_INDIRECT_DESC));
}

static void virtio_dev_driver_ok(struct virtio_dev *dev)
{
	for (u16 q = 0; q < dev->num_queues; q++) {
		struct virtqueue *vq = &dev->vqs[q];

		if (vq->enabled && !vq->started && virtio_dev_start_queue(dev, vq))
			return;
	}
	if (dev->ops->driver_ok)
		dev->ops->driver_ok(dev);
}

/* virtio 1.2 2.1, 3.1.1: 0 resets; FEATURES_OK only sticks if acceptable. */
void virtio_dev_set_status(struct virtio_dev *dev, u8 status)
{
	u8 old = dev->status;

	if (!status) {
		virtio_dev_reset(dev);
		return;
	}
	status |= old & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !virtio_dev_features_ok(dev))
		status &= (u8)~VIRTIO_STATUS_FEATURES_OK;
	if (!(status & VIRTIO_STATUS_DRIVER_OK) || (old & VIRTIO_STATUS_DRIVER_OK)) {
		dev->status = status;
		return;
	}
	if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
		dev->status = status & (u8)~VIRTIO_STATUS_DRIVER_OK;
		virtio_dev_fail(dev, "DRIVER_OK without FEATURES_OK");
		return;
	}
	dev->status = status;
	if (!dev->broken)
		virtio_dev_driver_ok(dev);
}

/* The driver wrote 1 to queue_enable; rings are checked now if running, else at DRIVER_OK. */
void virtio_dev_queue_enable(struct virtio_dev *dev, u16 queue)
{
	struct virtqueue *vq;

	if (queue >= dev->num_queues || dev->vqs[queue].enabled)
		return;
	vq = &dev->vqs[queue];
	vq->enabled = true;
	if ((dev->status & VIRTIO_STATUS_DRIVER_OK) && !dev->broken)
		virtio_dev_start_queue(dev, vq);
}

void virtio_dev_queue_notify(struct virtio_dev *dev, u16 queue)
{
	if (queue >= dev->num_queues || dev->broken || !(dev->status & VIRTIO_STATUS_DRIVER_OK) ||
	    !dev->vqs[queue].started)
		return;
	dev->ops->queue_notify(dev, queue);
}

void virtio_dev_queue_used(struct virtio_dev *dev, struct virtqueue *vq)
{
	if (vq_should_notify(vq) && dev->transport)
		dev->transport->queue_interrupt(dev, vq->index);
}

/*
 * virtio 1.2 2.7.10: run with available notifications off, then turn
 * them back on and look once more so a late buffer is not stranded.
 */
void virtio_dev_drain(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c,
		      virtio_handle_fn handle)
{
	int r, used;

	do {
		vq_disable_notify(vq);
		while ((r = vq_pop(vq, c)) > 0) {
			used = handle(dev, vq, c);
			if (used < 0 || vq_push(vq, c, (u32)used))
				return;
		}
		if (r < 0)
			return;
	} while (vq_enable_notify(vq));
	virtio_dev_queue_used(dev, vq);
}

/* virtio 1.2 2.5: a new generation, then a config change notification. */
void virtio_dev_config_changed(struct virtio_dev *dev)
{
	dev->config_generation++;
	if ((dev->status & VIRTIO_STATUS_DRIVER_OK) && dev->transport)
		dev->transport->config_interrupt(dev);
}

static bool virtio_dev_config_range(const struct virtio_dev *dev, u32 off, u32 size)
{
	return (size == 1 || size == 2 || size == 4) && off < dev->config_len &&
	       size <= dev->config_len - off;
}

int virtio_dev_config_read(struct virtio_dev *dev, u32 off, u32 size, u32 *val)
{
	*val = 0;
	if (!virtio_dev_config_range(dev, off, size))
		return -EINVAL;
	for (u32 i = 0; i < size; i++)
		*val |= (u32)dev->config[off + i] << (8 * i);
	return 0;
}

int virtio_dev_config_write(struct virtio_dev *dev, u32 off, u32 size, u32 val)
{
	if (!virtio_dev_config_range(dev, off, size))
		return -EINVAL;
	if (dev->ops->config_write)
		dev->ops->config_write(dev, off, size, val);
	return 0;
}

void virtio_dev_journal(struct virtio_dev *dev, struct vq_journal *j)
{
	for (u16 q = 0; q < dev->num_queues; q++)
		vq_journal_attach(&dev->vqs[q], j ? &j[q] : NULL);
}

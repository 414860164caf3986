// SPDX-License-Identifier: MIT
/* A virtio device's status, features and queue setup as a plain struct, and back onto a fresh device. */
#include <virtio/state.h>
#include <lib/string.h>

static void virtio_dev_state_save_queue(const struct virtqueue *vq, struct virtio_queue_state *qs)
{
	qs->desc = vq->desc_gpa;
	qs->driver = vq->driver_gpa;
	qs->device = vq->device_gpa;
	qs->size = vq->size;
	qs->enabled = vq->enabled;
	qs->started = vq->started;
	qs->packed = vq->started && vq->packed;
}

void virtio_dev_state_save(struct virtio_dev *dev, struct virtio_dev_state *s)
{
	memset(s, 0, sizeof(*s));
	s->device_features = dev->device_features;
	s->driver_features = dev->driver_features;
	s->device_id = dev->device_id;
	s->num_queues = dev->num_queues;
	s->status = dev->status;
	s->config_generation = dev->config_generation;
	s->broken = dev->broken;
	if (dev->broken)
		memcpy(s->fault, dev->fault, sizeof(s->fault));
	if (dev->ops->save)
		s->model_len = (u8)MIN(dev->ops->save(dev, s->model), (u32)VIRTIO_MODEL_STATE_MAX);
	for (u16 q = 0; q < dev->num_queues; q++)
		virtio_dev_state_save_queue(&dev->vqs[q], &s->vq[q]);
}

/* A started queue needs DRIVER_OK, rings of a size the device offers, and its journal. */
static const char *virtio_dev_state_check_queue(const struct virtio_dev *dev,
						const struct virtio_dev_state *s, u16 q,
						const struct vq_journal *j)
{
	const struct virtio_queue_state *qs = &s->vq[q];
	bool packed = s->driver_features & VIRTIO_F_RING_PACKED;

	if (!qs->started)
		return NULL;
	if (!(s->status & VIRTIO_STATUS_DRIVER_OK) || !qs->enabled || qs->packed != packed)
		return "a queue runs that could not have started";
	if (!qs->size || qs->size > dev->vqs[q].size_max)
		return "a running queue has a size the device does not offer";
	if (!j)
		return "a queue runs but nothing says where";
	return vq_journal_check(&j[q], qs->size, packed);
}

const char *virtio_dev_state_check(const struct virtio_dev *dev, const struct virtio_dev_state *s,
				   const struct vq_journal *j)
{
	const char *why = NULL;

	if (s->device_id != dev->device_id || s->num_queues != dev->num_queues ||
	    s->device_features != dev->device_features)
		return "it is of another device (type, queues or features differ)";
	if (s->driver_features & ~s->device_features)
		return "the driver has features the device never offered";
	if (s->model_len > VIRTIO_MODEL_STATE_MAX || (s->model_len && !dev->ops->load))
		return "it holds device-model bytes this model does not take";
	for (u16 q = 0; q < dev->num_queues && !why; q++)
		why = virtio_dev_state_check_queue(dev, s, q, j);
	return why;
}

/* As the driver programmed it; a started queue maps its rings again and carries on. */
static void virtio_dev_state_apply_queue(struct virtio_dev *dev, u16 q,
					 const struct virtio_queue_state *qs,
					 const struct vq_journal *j)
{
	struct virtqueue *vq = &dev->vqs[q];

	vq->size = qs->size;
	vq->enabled = qs->enabled;
	vq->desc_gpa = qs->desc;
	vq->driver_gpa = qs->driver;
	vq->device_gpa = qs->device;
	if (qs->started && !vq_start(vq, qs->packed, virtio_dev_has(dev, VIRTIO_F_EVENT_IDX),
				     virtio_dev_has(dev, VIRTIO_F_INDIRECT_DESC)))
		vq_journal_resume(vq, &j[q]);
}

int virtio_dev_state_apply(struct virtio_dev *dev, const struct virtio_dev_state *s,
			   const struct vq_journal *j)
{
	if (s->model_len && dev->ops->load(dev, s->model, s->model_len))
		return -EINVAL;
	dev->driver_features = s->driver_features;
	dev->status = s->status;
	dev->config_generation = s->config_generation;
	for (u16 q = 0; q < dev->num_queues; q++)
		virtio_dev_state_apply_queue(dev, q, &s->vq[q], j);
	if (s->broken && !dev->broken) {
		dev->broken = true;
		memcpy(dev->fault, s->fault, sizeof(dev->fault));
		dev->fault[sizeof(dev->fault) - 1] = '\0';
	}
	return 0;
}

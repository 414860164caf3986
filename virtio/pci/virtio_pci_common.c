// SPDX-License-Identifier: MIT
/* virtio-pci common configuration structure: features, status, queue setup (virtio 1.2 4.1.4.3). */
#include <virtio/pci.h>
#include <lib/string.h>
#include "virtio_pci_priv.h"

#define COMMON(field) offsetof(struct virtio_pci_common_cfg, field)

/* virtio 1.2 4.1.5.1.2: every event unmapped after reset. */
void virtio_pci_common_reset(struct virtio_pci *vp)
{
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (u32 q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++)
		vp->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
	vp->isr = 0;
	virtio_pci_msix_update(vp);
}

static struct virtqueue *virtio_pci_common_vq(struct virtio_pci *vp)
{
	if (vp->queue_select >= vp->dev->num_queues)
		return NULL;
	return &vp->dev->vqs[vp->queue_select];
}

static u32 virtio_pci_common_feature_word(u64 features, u32 select)
{
	return select < 2 ? (u32)(features >> (32 * select)) : 0;
}

/* The structure as the driver would see it for the selected queue. */
static void virtio_pci_common_image(struct virtio_pci *vp, struct virtio_pci_common_cfg *c)
{
	const struct virtio_dev *dev = vp->dev;
	const struct virtqueue *vq = virtio_pci_common_vq(vp);

	memset(c, 0, sizeof(*c));
	c->device_feature_select = vp->dfselect;
	c->device_feature = virtio_pci_common_feature_word(dev->device_features, vp->dfselect);
	c->driver_feature_select = vp->gfselect;
	c->driver_feature = virtio_pci_common_feature_word(dev->driver_features, vp->gfselect);
	c->config_msix_vector = vp->config_vector;
	c->num_queues = dev->num_queues;
	c->device_status = dev->status;
	c->config_generation = dev->config_generation;
	c->queue_select = vp->queue_select;
	if (!vq)
		return; /* queue_size 0: no such queue */
	c->queue_size = vq->size;
	c->queue_msix_vector = vp->queue_vector[vp->queue_select];
	c->queue_enable = vq->enabled;
	c->queue_notify_off = vp->queue_select;
	c->queue_desc = vq->desc_gpa;
	c->queue_driver = vq->driver_gpa;
	c->queue_device = vq->device_gpa;
	c->queue_notify_data = vp->queue_select;
}

int virtio_pci_common_read(struct virtio_pci *vp, u32 off, u32 size, u64 *val)
{
	struct virtio_pci_common_cfg c;
	const u8 *b = (const u8 *)&c;

	virtio_pci_common_image(vp, &c);
	*val = 0;
	for (u32 i = 0; i < size; i++) {
		if (off + i < sizeof(c))
			*val |= (u64)b[off + i] << (8 * i);
	}
	return 0;
}

/* virtio 1.2 4.1.5.1.2: a vector the table lacks reads back as NO_VECTOR. */
static u16 virtio_pci_common_vector(const struct virtio_pci *vp, u16 v)
{
	return v < vp->nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

static void virtio_pci_common_status(struct virtio_pci *vp, u8 status)
{
	virtio_dev_set_status(vp->dev, status);
	if (!status)
		virtio_pci_common_reset(vp);
}

static void virtio_pci_common_driver_feature(struct virtio_pci *vp, u32 val)
{
	u64 f = vp->dev->driver_features;

	if (vp->gfselect >= 2)
		return;
	f &= ~(0xffffffffULL << (32 * vp->gfselect));
	f |= (u64)val << (32 * vp->gfselect);
	virtio_dev_set_driver_features(vp->dev, f);
}

/* Queue addresses change only while the queue is disabled (virtio 1.2 4.1.4.3.2). */
static void virtio_pci_common_addr(struct virtio_pci *vp, u32 off, u32 val)
{
	struct virtqueue *vq = virtio_pci_common_vq(vp);
	u32 shift = (off & 4) * 8;
	gpa_t *gpa;

	if (!vq || vq->enabled)
		return;
	if (off < COMMON(queue_driver))
		gpa = &vq->desc_gpa;
	else if (off < COMMON(queue_device))
		gpa = &vq->driver_gpa;
	else
		gpa = &vq->device_gpa;
	*gpa = (*gpa & ~(0xffffffffULL << shift)) | (u64)val << shift;
}

static void virtio_pci_common_write32(struct virtio_pci *vp, u32 off, u32 val)
{
	switch (off) {
	case COMMON(device_feature_select):
		vp->dfselect = val;
		break;
	case COMMON(driver_feature_select):
		vp->gfselect = val;
		break;
	case COMMON(driver_feature):
		virtio_pci_common_driver_feature(vp, val);
		break;
	case COMMON(queue_desc)... COMMON(queue_device) + 4:
		virtio_pci_common_addr(vp, off, val);
		break;
	default:
		break; /* read-only or not a 32-bit field */
	}
}

static void virtio_pci_common_write16(struct virtio_pci *vp, u32 off, u16 val)
{
	struct virtqueue *vq = virtio_pci_common_vq(vp);

	switch (off) {
	case COMMON(config_msix_vector):
		vp->config_vector = virtio_pci_common_vector(vp, val);
		break;
	case COMMON(queue_select):
		vp->queue_select = val;
		break;
	case COMMON(queue_size):
		if (vq && !vq->enabled)
			vq->size = val; /* checked when the queue starts */
		break;
	case COMMON(queue_msix_vector):
		if (vq)
			vp->queue_vector[vp->queue_select] = virtio_pci_common_vector(vp, val);
		break;
	case COMMON(queue_enable):
		if (vq && val == 1)
			virtio_dev_queue_enable(vp->dev, vp->queue_select);
		break;
	default:
		break;
	}
}

/* virtio 1.2 4.1.3.1: fields are accessed at their own width; 64-bit as halves. */
void virtio_pci_common_write(struct virtio_pci *vp, u32 off, u32 size, u64 val)
{
	switch (size) {
	case 1:
		if (off == COMMON(device_status))
			virtio_pci_common_status(vp, (u8)val);
		break;
	case 2:
		virtio_pci_common_write16(vp, off, (u16)val);
		break;
	case 4:
		virtio_pci_common_write32(vp, off, (u32)val);
		break;
	case 8:
		if (off >= COMMON(queue_desc) && off <= COMMON(queue_device)) {
			virtio_pci_common_write32(vp, off, (u32)val);
			virtio_pci_common_write32(vp, off + 4, (u32)(val >> 32));
		}
		break;
	}
}

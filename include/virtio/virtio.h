/* SPDX-License-Identifier: MIT */
/* Transport-neutral virtio device core: status, features, queues, faults (virtio 1.2 ch. 2-3). */
#ifndef KEEL_VIRTIO_H
#define KEEL_VIRTIO_H

#include <lib/types.h>
#include <virtio/guest_mem.h>
#include <virtio/queue.h>

/* virtio 1.2 5: device IDs. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* virtio 1.2 2.1: device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE BIT(0)
#define VIRTIO_STATUS_DRIVER BIT(1)
#define VIRTIO_STATUS_DRIVER_OK BIT(2)
#define VIRTIO_STATUS_FEATURES_OK BIT(3)
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET BIT(6)
#define VIRTIO_STATUS_FAILED BIT(7)

/* virtio 1.2 6: reserved (device-independent) feature bits. */
#define VIRTIO_F_INDIRECT_DESC BIT(28)
#define VIRTIO_F_EVENT_IDX BIT(29)
#define VIRTIO_F_VERSION_1 BIT(32)
#define VIRTIO_F_ACCESS_PLATFORM BIT(33)
#define VIRTIO_F_RING_PACKED BIT(34)
#define VIRTIO_F_IN_ORDER BIT(35)

/* What every Keel device offers on top of its own bits. */
#define VIRTIO_TRANSPORT_FEATURES \
	(VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_RING_PACKED)

#define VIRTIO_DEV_MAX_QUEUES 17 /* 8 net queue pairs plus the control queue */
#define VIRTIO_FAULT_LEN 128
#define VIRTIO_MODEL_STATE_MAX 16 /* a device model's own bytes in a saved state */

struct virtio_dev;

/* What a device model (blk, net, ...) supplies. Only queue_notify is required. */
struct virtio_dev_ops {
	void (*reset)(struct virtio_dev *dev);
	/* At FEATURES_OK: 0 accepts the driver's feature set. */
	int (*features_ok)(struct virtio_dev *dev, u64 features);
	void (*driver_ok)(struct virtio_dev *dev);
	void (*queue_notify)(struct virtio_dev *dev, u16 queue);
	/* A driver write to device-specific config, already bounds-checked. */
	void (*config_write)(struct virtio_dev *dev, u32 off, u32 size, u32 val);
	/* Optional: the model's own state across a restart (virtio_state.h); returns its length. */
	u32 (*save)(struct virtio_dev *dev, u8 buf[VIRTIO_MODEL_STATE_MAX]);
	/* 0 and taken, or -EINVAL and nothing changed. */
	int (*load)(struct virtio_dev *dev, const u8 *buf, u32 len);
};

/* What a transport (virtio_pci) supplies to raise interrupts. */
struct virtio_transport_ops {
	void (*queue_interrupt)(struct virtio_dev *dev, u16 queue);
	void (*config_interrupt)(struct virtio_dev *dev);
};

struct virtio_dev {
	u32 device_id;
	u64 device_features;
	u64 driver_features; /* as written by the driver, masked to offered */
	u8 status;
	u8 config_generation;
	u16 num_queues;
	u8 *config; /* device-specific configuration, little-endian */
	u32 config_len;

	const struct guest_mem *mem;
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *transport;
	void *transport_priv;
	void (*on_fault)(void *ctx, const char *reason);
	void *fault_ctx;

	bool broken;
	char fault[VIRTIO_FAULT_LEN];
	struct virtqueue vqs[VIRTIO_DEV_MAX_QUEUES];
};

/* Called by device models. */
int virtio_dev_init(struct virtio_dev *dev, u32 device_id, u64 features, u16 num_queues,
		    u16 queue_size, void *config, u32 config_len, const struct virtio_dev_ops *ops);
bool virtio_dev_has(const struct virtio_dev *dev, u64 feature);
void virtio_dev_queue_used(struct virtio_dev *dev, struct virtqueue *vq);
/*
 * Serve every available buffer of vq with handle(), which returns the
 * bytes it wrote or <0 after failing the device; then notify if due.
 */
typedef int (*virtio_handle_fn)(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c);
void virtio_dev_drain(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c,
		      virtio_handle_fn handle);
void virtio_dev_config_changed(struct virtio_dev *dev);
/* Misbehaving driver: sets DEVICE_NEEDS_RESET (once) and records why. */
void virtio_dev_fail(struct virtio_dev *dev, const char *fmt, ...) __printf(2, 3);
void virtio_dev_vfail(struct virtio_dev *dev, int queue, const char *fmt, va_list ap);

/* Called by transports. */
void virtio_dev_reset(struct virtio_dev *dev);
void virtio_dev_set_status(struct virtio_dev *dev, u8 status);
void virtio_dev_set_driver_features(struct virtio_dev *dev, u64 features);
void virtio_dev_queue_notify(struct virtio_dev *dev, u16 queue);
void virtio_dev_queue_enable(struct virtio_dev *dev, u16 queue);
int virtio_dev_config_read(struct virtio_dev *dev, u32 off, u32 size, u32 *val);
int virtio_dev_config_write(struct virtio_dev *dev, u32 off, u32 size, u32 val);

/* Keep each queue's used position in j[VIRTIO_DEV_MAX_QUEUES] (NULL: no longer). */
void virtio_dev_journal(struct virtio_dev *dev, struct vq_journal *j);

/* For the embedder: the NEEDS_RESET reason, or NULL while healthy. */
const char *virtio_dev_fault(const struct virtio_dev *dev);

/* Little-endian helpers for device config images (Keel runs on x86 only). */
static inline void virtio_put_le16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static inline void virtio_put_le32(u8 *p, u32 v)
{
	virtio_put_le16(p, (u16)v);
	virtio_put_le16(p + 2, (u16)(v >> 16));
}

static inline void virtio_put_le64(u8 *p, u64 v)
{
	virtio_put_le32(p, (u32)v);
	virtio_put_le32(p + 4, (u32)(v >> 32));
}

static inline u16 virtio_get_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static inline u32 virtio_get_le32(const u8 *p)
{
	return virtio_get_le16(p) | (u32)virtio_get_le16(p + 2) << 16;
}

static inline u64 virtio_get_le64(const u8 *p)
{
	return virtio_get_le32(p) | (u64)virtio_get_le32(p + 4) << 32;
}

#endif

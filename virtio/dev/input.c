// SPDX-License-Identifier: MIT
/* virtio-input: a keyboard or a tablet; its config answers evdev queries, events go out one per buffer. */
#include <virtio/input.h>
#include <lib/string.h>

static struct virtio_input *virtio_input_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_input, dev);
}

static void bit_set(u8 *map, u32 bit)
{
	map[bit / 8] |= (u8)(1u << (bit % 8));
}

/* The size field is the last byte in use (virtio 1.2 5.8.5: 0 means "no such data"). */
static u8 bitmap_size(const u8 *map)
{
	u8 n = 128;

	while (n && !map[n - 1])
		n--;
	return n;
}

static void input_string(struct virtio_input_config *cfg, const char *s)
{
	u32 n = (u32)MIN(strlen(s), sizeof(cfg->u.string));

	memcpy(cfg->u.string, s, n);
	cfg->size = (u8)n;
}

/* virtio 1.2 5.8.5: the union answers the (select, subsel) the driver wrote last. */
static void virtio_input_select(struct virtio_input *in)
{
	struct virtio_input_config *cfg = &in->config;
	bool kbd = in->kind == VIRTIO_INPUT_KEYBOARD;

	memset(&cfg->u, 0, sizeof(cfg->u));
	cfg->size = 0;
	switch (cfg->select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		if (!cfg->subsel)
			input_string(cfg, kbd ? "Keel virtio keyboard" : "Keel virtio tablet");
		break;
	case VIRTIO_INPUT_CFG_ID_SERIAL:
		if (!cfg->subsel)
			input_string(cfg, kbd ? "keel-kbd" : "keel-tablet");
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (!cfg->subsel) {
			cfg->u.ids =
				(struct virtio_input_devids){ BUS_VIRTUAL, 0x4b45, kbd ? 1 : 2, 1 };
			cfg->size = sizeof(cfg->u.ids);
		}
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		if (cfg->subsel == EV_KEY && kbd) {
			for (u32 k = 1; k <= KEY_MAX_KEYBOARD; k++)
				bit_set(cfg->u.bitmap, k);
		} else if (cfg->subsel == EV_KEY) {
			bit_set(cfg->u.bitmap, BTN_LEFT);
			bit_set(cfg->u.bitmap, BTN_RIGHT);
			bit_set(cfg->u.bitmap, BTN_MIDDLE);
		} else if (cfg->subsel == EV_LED && kbd) {
			for (u32 l = LED_NUML; l <= LED_SCROLLL; l++)
				bit_set(cfg->u.bitmap, l);
		} else if (cfg->subsel == EV_ABS && !kbd) {
			bit_set(cfg->u.bitmap, ABS_X);
			bit_set(cfg->u.bitmap, ABS_Y);
		} else if (cfg->subsel == EV_REL && !kbd) {
			bit_set(cfg->u.bitmap, REL_WHEEL);
		}
		cfg->size = bitmap_size(cfg->u.bitmap);
		break;
	case VIRTIO_INPUT_CFG_ABS_INFO:
		if (!kbd && (cfg->subsel == ABS_X || cfg->subsel == ABS_Y)) {
			cfg->u.abs = (struct virtio_input_absinfo){ .max = VIRTIO_INPUT_ABS_MAX };
			cfg->size = sizeof(cfg->u.abs);
		}
		break;
	default: /* UNSET, PROP_BITS (no properties) and unknown selectors: size 0 */
		break;
	}
}

static void virtio_input_config_write(struct virtio_dev *dev, u32 off, u32 size, u32 val)
{
	struct virtio_input *in = virtio_input_of(dev);

	/* select and subsel are the only driver-writable fields; a 2-byte write sets both */
	for (u32 i = 0; i < size; i++, val >>= 8) {
		if (off + i == offsetof(struct virtio_input_config, select))
			in->config.select = (u8)val;
		else if (off + i == offsetof(struct virtio_input_config, subsel))
			in->config.subsel = (u8)val;
	}
	virtio_input_select(in);
}

/* Hands held events to posted buffers, oldest first, one event per buffer (virtio 1.2 5.8.6.1). */
static void virtio_input_flush(struct virtio_input *in)
{
	struct virtio_dev *dev = &in->dev;
	struct virtqueue *vq = &dev->vqs[VIRTIO_INPUT_EVENT_QUEUE];
	bool used = false;

	if (!(dev->status & VIRTIO_STATUS_DRIVER_OK) || dev->broken)
		return;
	while (in->count && vq_pop_for_device(vq, &in->chain, "event buffer") > 0) {
		const struct virtio_input_event *ev = &in->pending[in->head];

		if (in->chain.in_len < sizeof(*ev)) {
			vq_fail(vq, "event buffer of %u bytes is smaller than an event",
				in->chain.in_len);
			return;
		}
		vq_chain_write(&in->chain, 0, ev, sizeof(*ev));
		if (vq_push(vq, &in->chain, sizeof(*ev)))
			return;
		in->head = (in->head + 1) % VIRTIO_INPUT_PENDING;
		in->count--;
		used = true;
	}
	if (used)
		virtio_dev_queue_used(dev, vq);
}

bool virtio_input_send(struct virtio_input *in, const struct virtio_input_event *ev, u32 n)
{
	if (n > VIRTIO_INPUT_PENDING - in->count) {
		in->dropped += n;
		return false;
	}
	for (u32 i = 0; i < n; i++)
		in->pending[(in->head + in->count + i) % VIRTIO_INPUT_PENDING] = ev[i];
	in->count += n;
	virtio_input_flush(in);
	return true;
}

/* virtio 1.2 5.8.6.2: status events (LEDs) from the driver, device-readable. */
static int virtio_input_status(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_input *in = virtio_input_of(dev);
	struct virtio_input_event ev;

	if (c->nin)
		return vq_fail(vq, "status buffer has device-writable descriptors");
	if (c->out_len < sizeof(ev))
		return vq_fail(vq, "status buffer of %u bytes is smaller than an event",
			       c->out_len);
	vq_chain_read(c, 0, &ev, sizeof(ev));
	if (in->ops && in->ops->status)
		in->ops->status(in->ctx, &ev);
	return 0;
}

static void virtio_input_queue_notify(struct virtio_dev *dev, u16 queue)
{
	struct virtio_input *in = virtio_input_of(dev);

	if (queue == VIRTIO_INPUT_EVENT_QUEUE)
		virtio_input_flush(in);
	else
		virtio_dev_drain(dev, &dev->vqs[queue], &in->chain, virtio_input_status);
}

/* A reset forgets held events: they were meant for the driver that is gone. */
static void virtio_input_reset(struct virtio_dev *dev)
{
	struct virtio_input *in = virtio_input_of(dev);

	in->head = in->count = 0;
	in->config.select = in->config.subsel = 0;
	virtio_input_select(in);
}

static const struct virtio_dev_ops virtio_input_dev_ops = {
	.reset = virtio_input_reset,
	.queue_notify = virtio_input_queue_notify,
	.config_write = virtio_input_config_write,
};

int virtio_input_init(struct virtio_input *in, enum virtio_input_kind kind, u16 queue_size,
		      const struct virtio_input_ops *ops, void *ctx)
{
	int err;

	if (kind != VIRTIO_INPUT_KEYBOARD && kind != VIRTIO_INPUT_TABLET)
		return -EINVAL;
	memset(&in->config, 0, sizeof(in->config));
	err = virtio_dev_init(&in->dev, VIRTIO_ID_INPUT, 0, 2,
			      queue_size ? queue_size : VIRTIO_QUEUE_SIZE_MAX, &in->config,
			      sizeof(in->config), &virtio_input_dev_ops);
	if (err)
		return err;
	in->kind = kind;
	in->ops = ops;
	in->ctx = ctx;
	in->head = in->count = 0;
	in->dropped = 0;
	return 0;
}

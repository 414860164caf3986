/* SPDX-License-Identifier: MIT */
/* virtio input device model: a keyboard or an absolute pointer (tablet), evdev events (virtio 1.2 5.8). */
#ifndef KEEL_VIRTIO_INPUT_H
#define KEEL_VIRTIO_INPUT_H

#include <virtio/virtio.h>

#define VIRTIO_ID_INPUT 18

/* virtio 1.2 5.8.2: queues. */
#define VIRTIO_INPUT_EVENT_QUEUE 0
#define VIRTIO_INPUT_STATUS_QUEUE 1

/* virtio 1.2 5.8.5: config selectors. */
#define VIRTIO_INPUT_CFG_UNSET 0x00
#define VIRTIO_INPUT_CFG_ID_NAME 0x01
#define VIRTIO_INPUT_CFG_ID_SERIAL 0x02
#define VIRTIO_INPUT_CFG_ID_DEVIDS 0x03
#define VIRTIO_INPUT_CFG_PROP_BITS 0x10
#define VIRTIO_INPUT_CFG_EV_BITS 0x11
#define VIRTIO_INPUT_CFG_ABS_INFO 0x12

/* Linux's evdev codes (include/uapi/linux/input-event-codes.h), which virtio-input carries. */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define SYN_REPORT 0
#define REL_WHEEL 0x08
#define ABS_X 0x00
#define ABS_Y 0x01
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define KEY_MAX_KEYBOARD 0xff /* the keyboard offers codes 1 (KEY_ESC) to 255 */
#define LED_NUML 0x00
#define LED_SCROLLL 0x02
#define BUS_VIRTUAL 0x06
#define VIRTIO_INPUT_ABS_MAX 32767 /* the tablet's axes run 0..32767 */

struct virtio_input_absinfo {
	u32 min, max, fuzz, flat, res;
};

struct virtio_input_devids {
	u16 bustype, vendor, product, version;
};

struct virtio_input_config {
	u8 select; /* 0x0 */
	u8 subsel; /* 0x1 */
	u8 size;   /* 0x2 */
	u8 reserved[5];
	union {
		char string[128];
		u8 bitmap[128];
		struct virtio_input_absinfo abs;
		struct virtio_input_devids ids;
	} u; /* 0x8 */
};
BUILD_ASSERT(sizeof(struct virtio_input_config) == 136, "virtio 1.2 5.8.5");

/* virtio 1.2 5.8.6: one event per buffer, as evdev's type, code, value. */
struct virtio_input_event {
	u16 type, code;
	u32 value;
};
BUILD_ASSERT(sizeof(struct virtio_input_event) == 8, "virtio 1.2 5.8.6");

enum virtio_input_kind {
	VIRTIO_INPUT_KEYBOARD,
	VIRTIO_INPUT_TABLET,
};

/* status: an event the driver sent back (keyboard LEDs); optional. */
struct virtio_input_ops {
	void (*status)(void *ctx, const struct virtio_input_event *ev);
};

#define VIRTIO_INPUT_PENDING 128 /* events held while the driver has no buffers */

struct virtio_input {
	struct virtio_dev dev;
	enum virtio_input_kind kind;
	const struct virtio_input_ops *ops;
	void *ctx;
	struct virtio_input_config config;
	struct virtio_input_event pending[VIRTIO_INPUT_PENDING];
	u32 head, count; /* the held events, oldest at head */
	u64 dropped;	 /* events that found the hold full */
	struct vq_chain chain;
};

/* queue_size 0: VIRTIO_QUEUE_SIZE_MAX. ops may be NULL. */
int virtio_input_init(struct virtio_input *in, enum virtio_input_kind kind, u16 queue_size,
		      const struct virtio_input_ops *ops, void *ctx);
/*
 * Sends n events (a group the caller ends with EV_SYN SYN_REPORT). They
 * wait for buffers if the driver has posted too few; a group that does not
 * fit the hold is dropped whole and false returned.
 */
bool virtio_input_send(struct virtio_input *in, const struct virtio_input_event *ev, u32 n);

#endif

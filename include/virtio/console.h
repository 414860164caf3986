/* SPDX-License-Identifier: MIT */
/* virtio console device model: one port (hvc0), receive and transmit queues (virtio 1.2 5.3). */
#ifndef KEEL_VIRTIO_CONSOLE_H
#define KEEL_VIRTIO_CONSOLE_H

#include <virtio/virtio.h>

/* virtio 1.2 5.3.3: feature bits (MULTIPORT is not offered). */
#define VIRTIO_CONSOLE_F_SIZE BIT(0)
#define VIRTIO_CONSOLE_F_EMERG_WRITE BIT(2)

/* virtio 1.2 5.3.2: port 0 queues. */
#define VIRTIO_CONSOLE_RX_QUEUE 0
#define VIRTIO_CONSOLE_TX_QUEUE 1

/* virtio 1.2 5.3.4: device configuration layout. */
struct virtio_console_config {
	u16 cols;	  /* 0x0 */
	u16 rows;	  /* 0x2 */
	u32 max_nr_ports; /* 0x4 */
	u32 emerg_wr;	  /* 0x8 */
} __packed;
BUILD_ASSERT(offsetof(struct virtio_console_config, emerg_wr) == 0x8, "virtio 1.2 5.3.4");
BUILD_ASSERT(sizeof(struct virtio_console_config) == 12, "virtio 1.2 5.3.4");

/*
 * output receives what the guest wrote to hvc0 (transmit queue and
 * emergency writes). rx_ready says the driver posted receive buffers:
 * time to retry virtio_console_input with held-back input.
 */
struct virtio_console_ops {
	void (*output)(void *ctx, const void *buf, u32 len);
	void (*rx_ready)(void *ctx); /* optional */
};

struct virtio_console_params {
	u16 cols, rows; /* 0: no VIRTIO_CONSOLE_F_SIZE */
	u16 queue_size; /* 0: VIRTIO_QUEUE_SIZE_MAX */
};

struct virtio_console {
	struct virtio_dev dev;
	const struct virtio_console_ops *ops;
	void *ctx;
	struct virtio_console_config config;
	struct vq_chain chain;
};

int virtio_console_init(struct virtio_console *con, const struct virtio_console_params *p,
			const struct virtio_console_ops *ops, void *ctx);
/* Host-to-guest bytes; returns how many fit the posted buffers (0: none). */
u32 virtio_console_input(struct virtio_console *con, const void *buf, u32 len);
/* The terminal changed size (only meaningful with VIRTIO_CONSOLE_F_SIZE). */
void virtio_console_resize(struct virtio_console *con, u16 cols, u16 rows);

#endif

/* SPDX-License-Identifier: MIT */
/* virtio entropy device model: fills driver buffers from the embedder's source (virtio 1.2 5.4). */
#ifndef KEEL_VIRTIO_RNG_H
#define KEEL_VIRTIO_RNG_H

#include <virtio/virtio.h>

/* fill writes up to len random bytes at buf; returns how many, or <0. */
struct virtio_rng_ops {
	int (*fill)(void *ctx, void *buf, u32 len);
};

struct virtio_rng {
	struct virtio_dev dev;
	const struct virtio_rng_ops *ops;
	void *ctx;
	struct vq_chain chain;
};

/* queue_size 0: VIRTIO_QUEUE_SIZE_MAX. */
int virtio_rng_init(struct virtio_rng *rng, u16 queue_size, const struct virtio_rng_ops *ops,
		    void *ctx);

#endif

// SPDX-License-Identifier: MIT
/* libFuzzer: virtio-gpu control commands with arbitrary bodies, on well-formed rings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <virtio/gpu.h>
#include "tests/unit/virtio/virtio_driver_sim.h"

/*
 * Input: commands, each a type selector byte, a body length byte and
 * that many body bytes. Mem entries in ATTACH_BACKING bodies are taken
 * as they come, so most point outside the 1 MiB of guest RAM; the low
 * bit of the selector folds their addresses into twice the RAM instead.
 *
 * The oracles: ASan for any byte touched outside guest RAM or a
 * resource; a flushed rectangle must lie inside its surface; the host
 * memory the model holds never exceeds its limit and is all given back
 * at reset.
 */
#define RAM_SIZE (1 << 20)
#define LIMIT (1 << 20)

static const u32 types[] = {
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_GET_EDID,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO,
};

static struct virtio_gpu gpu;
static struct vsim sim;
static u64 live;

static void *fz_alloc(void *ctx, u64 size)
{
	(void)ctx;
	live += size;
	return calloc(1, size);
}

static void fz_free(void *ctx, void *p, u64 size)
{
	(void)ctx;
	live -= size;
	free(p);
}

static void fz_scanout(void *ctx, const struct virtio_gpu_surface *s)
{
	(void)ctx;
	if (s)
		(void)*(volatile const u8 *)(s->pixels + (u64)(s->height - 1) * s->stride +
					     (u64)s->width * 4 - 1);
}

static void fz_flush(void *ctx, const struct virtio_gpu_surface *s, const struct virtio_gpu_rect *r)
{
	(void)ctx;
	if (!r->width || !r->height || r->x + r->width > s->width || r->y + r->height > s->height)
		abort();
}

static const struct virtio_gpu_ops ops = {
	.alloc = fz_alloc, .free = fz_free, .scanout = fz_scanout, .flush = fz_flush
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct virtio_gpu_params p = { .max_memory = LIMIT, .queue_size = 16 };
	u64 feat = VIRTIO_F_VERSION_1 | VIRTIO_GPU_F_EDID;
	u8 req[sizeof(struct virtio_gpu_ctrl_hdr) + 256];
	struct virtio_gpu_ctrl_hdr *h = (void *)req;
	struct vsim_seg seg[2];
	u32 id, len;

	live = 0;
	if (virtio_gpu_init(&gpu, &p, &ops, NULL) || vsim_init(&sim, &gpu.dev, RAM_SIZE) ||
	    vsim_start(&sim, feat, 2))
		abort();
	seg[1] = (struct vsim_seg){ vsim_alloc(&sim, sizeof(struct virtio_gpu_resp_edid), 8),
				    sizeof(struct virtio_gpu_resp_edid) };
	seg[0].addr = vsim_alloc(&sim, sizeof(req), 8);
	for (int n = 0; n < 64 && size >= 2; n++) {
		u8 sel = data[0], blen = data[1];
		u32 body = MIN((u32)blen, (u32)size - 2);

		memset(req, 0, sizeof(req));
		h->type = types[(sel >> 1) % ARRAY_SIZE(types)];
		memcpy(req + sizeof(*h), data + 2, body);
		if (h->type == VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING && (sel & 1))
			for (u32 off = sizeof(*h) + 8; off + 16 <= sizeof(*h) + body; off += 16)
				*(u64 *)(req + off) %= 2 * RAM_SIZE;
		data += 2 + body;
		size -= 2 + body;
		memcpy(vsim_ptr(&sim, seg[0].addr), req, sizeof(req));
		seg[0].len = (u32)sizeof(*h) + body;
		if (vsim_post(&sim, VIRTIO_GPU_CONTROL_QUEUE, seg, 1, 1, false) < 0)
			abort();
		vsim_kick(&sim, VIRTIO_GPU_CONTROL_QUEUE);
		if (vsim_used(&sim, VIRTIO_GPU_CONTROL_QUEUE, &id, &len) != 1 || live > LIMIT)
			abort();
	}
	if (virtio_dev_fault(&gpu.dev))
		abort(); /* well-formed rings: every bad command is answered, never a reset */
	virtio_dev_reset(&gpu.dev);
	if (live)
		abort();
	vsim_free(&sim);
	return 0;
}

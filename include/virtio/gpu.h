/* SPDX-License-Identifier: MIT */
/* virtio-gpu 2D device model: resources, one scanout, cursor, EDID (virtio 1.2 5.7). */
#ifndef KEEL_VIRTIO_GPU_H
#define KEEL_VIRTIO_GPU_H

#include <virtio/virtio.h>

#define VIRTIO_ID_GPU 16

/* virtio 1.2 5.7.3: feature bits; Keel offers EDID only (no virgl, no blobs). */
#define VIRTIO_GPU_F_EDID BIT(1)

/* virtio 1.2 5.7.2: queues. */
#define VIRTIO_GPU_CONTROL_QUEUE 0
#define VIRTIO_GPU_CURSOR_QUEUE 1

/* virtio 1.2 5.7.4: events_read / events_clear bits. */
#define VIRTIO_GPU_EVENT_DISPLAY BIT(0)

/* virtio 1.2 5.7.6.7: command and response types. */
#define VIRTIO_GPU_CMD_GET_DISPLAY_INFO 0x0100
#define VIRTIO_GPU_CMD_RESOURCE_CREATE_2D 0x0101
#define VIRTIO_GPU_CMD_RESOURCE_UNREF 0x0102
#define VIRTIO_GPU_CMD_SET_SCANOUT 0x0103
#define VIRTIO_GPU_CMD_RESOURCE_FLUSH 0x0104
#define VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D 0x0105
#define VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING 0x0106
#define VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING 0x0107
#define VIRTIO_GPU_CMD_GET_CAPSET_INFO 0x0108
#define VIRTIO_GPU_CMD_GET_EDID 0x010a
#define VIRTIO_GPU_CMD_UPDATE_CURSOR 0x0300
#define VIRTIO_GPU_CMD_MOVE_CURSOR 0x0301
#define VIRTIO_GPU_RESP_OK_NODATA 0x1100
#define VIRTIO_GPU_RESP_OK_DISPLAY_INFO 0x1101
#define VIRTIO_GPU_RESP_OK_EDID 0x1104
#define VIRTIO_GPU_RESP_ERR_UNSPEC 0x1200
#define VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY 0x1201
#define VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID 0x1202
#define VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID 0x1203
#define VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER 0x1205

#define VIRTIO_GPU_FLAG_FENCE BIT(0)

/* virtio 1.2 5.7.6.8: 2D formats; all four bytes a pixel, named by byte order in memory. */
#define VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM 1
#define VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM 2
#define VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM 3
#define VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM 4
#define VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM 67
#define VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM 68
#define VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM 121
#define VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM 134

#define VIRTIO_GPU_MAX_SCANOUTS 16 /* display-info slots (virtio 1.2 5.7.6.8) */
#define VIRTIO_GPU_EDID_BYTES 1024
#define VIRTIO_GPU_MAX_RESOURCES 64  /* live at once, per device */
#define VIRTIO_GPU_MAX_BACKING 16384 /* mem entries of one resource */
#define VIRTIO_GPU_MAX_DIM 16384     /* a resource's width or height */
#define VIRTIO_GPU_MIN_WIDTH 640
#define VIRTIO_GPU_MIN_HEIGHT 480
#define VIRTIO_GPU_MAX_WIDTH 1920
#define VIRTIO_GPU_MAX_HEIGHT 1080
#define VIRTIO_GPU_CURSOR_DIM 64 /* cursor images are 64x64 (virtio 1.2 5.7.6.10) */

/* virtio 1.2 5.7.4: device configuration. */
struct virtio_gpu_config {
	u32 events_read;  /* 0x0 */
	u32 events_clear; /* 0x4 */
	u32 num_scanouts; /* 0x8 */
	u32 num_capsets;  /* 0xc */
};
BUILD_ASSERT(sizeof(struct virtio_gpu_config) == 16, "virtio 1.2 5.7.4");

/* virtio 1.2 5.7.6.7: the header of every request and response. */
struct virtio_gpu_ctrl_hdr {
	u32 type;      /* 0x00 */
	u32 flags;     /* 0x04 */
	u64 fence_id;  /* 0x08 */
	u32 ctx_id;    /* 0x10 */
	u8 ring_idx;   /* 0x14 */
	u8 padding[3]; /* 0x15 */
};
BUILD_ASSERT(sizeof(struct virtio_gpu_ctrl_hdr) == 24, "virtio 1.2 5.7.6.7");

struct virtio_gpu_rect {
	u32 x, y, width, height;
};

/* virtio 1.2 5.7.6.8: GET_DISPLAY_INFO's answer. */
struct virtio_gpu_display_one {
	struct virtio_gpu_rect r;
	u32 enabled;
	u32 flags;
};

struct virtio_gpu_resp_display_info {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_display_one pmodes[VIRTIO_GPU_MAX_SCANOUTS];
};
BUILD_ASSERT(sizeof(struct virtio_gpu_resp_display_info) == 408, "virtio 1.2 5.7.6.8");

/* virtio 1.2 5.7.6.8: the bodies after the header, each command's fixed part. */
struct virtio_gpu_resource_create_2d {
	u32 resource_id, format, width, height;
};

struct virtio_gpu_resource_id { /* UNREF, DETACH_BACKING */
	u32 resource_id, padding;
};

struct virtio_gpu_set_scanout {
	struct virtio_gpu_rect r;
	u32 scanout_id, resource_id;
};

struct virtio_gpu_resource_flush {
	struct virtio_gpu_rect r;
	u32 resource_id, padding;
};

struct virtio_gpu_transfer_to_host_2d {
	struct virtio_gpu_rect r;
	u64 offset;
	u32 resource_id, padding;
};
BUILD_ASSERT(sizeof(struct virtio_gpu_transfer_to_host_2d) == 32, "virtio 1.2 5.7.6.8");

struct virtio_gpu_resource_attach_backing {
	u32 resource_id, nr_entries;
};

struct virtio_gpu_mem_entry {
	u64 addr;
	u32 length, padding;
};
BUILD_ASSERT(sizeof(struct virtio_gpu_mem_entry) == 16, "virtio 1.2 5.7.6.8");

struct virtio_gpu_get_edid {
	u32 scanout, padding;
};

struct virtio_gpu_resp_edid {
	struct virtio_gpu_ctrl_hdr hdr;
	u32 size, padding;
	u8 edid[VIRTIO_GPU_EDID_BYTES];
};

/* virtio 1.2 5.7.6.10: cursor commands. */
struct virtio_gpu_cursor_pos {
	u32 scanout_id, x, y, padding;
};

struct virtio_gpu_update_cursor {
	struct virtio_gpu_cursor_pos pos;
	u32 resource_id, hot_x, hot_y, padding;
};

/* What the scanout shows: a host copy of the guest's resource, format as the guest chose it. */
struct virtio_gpu_surface {
	const u8 *pixels; /* top-left of the scanout rectangle */
	u32 format, width, height, stride;
};

struct virtio_gpu_cursor {
	const u8 *pixels; /* 64x64, format, or NULL: hidden */
	u32 format, width, height, hot_x, hot_y;
	u32 x, y;
};

/*
 * The embedder. alloc returns zeroed host memory (NULL: none left); the
 * model never asks for more than max_memory in all. scanout is told the
 * surface (NULL: the scanout is off) whenever it is set, resized or
 * dropped; flush, that rectangle r (scanout coordinates, clipped) of s
 * changed. cursor is optional.
 */
struct virtio_gpu_ops {
	void *(*alloc)(void *ctx, u64 size);
	void (*free)(void *ctx, void *p, u64 size);
	void (*scanout)(void *ctx, const struct virtio_gpu_surface *s);
	void (*flush)(void *ctx, const struct virtio_gpu_surface *s,
		      const struct virtio_gpu_rect *r);
	void (*cursor)(void *ctx, const struct virtio_gpu_cursor *c);
};

struct virtio_gpu_params {
	u32 width, height; /* the preferred mode; 0: 1024x768 */
	u64 max_memory;	   /* host bytes for all resources and their backing lists; 0: 64 MiB */
	u16 queue_size;	   /* 0: VIRTIO_QUEUE_SIZE_MAX */
};

struct virtio_gpu_resource {
	u32 id; /* 0: a free slot */
	u32 format, width, height;
	u8 *pixels;		    /* width * height * 4 bytes, from ops->alloc */
	struct virtio_iov *backing; /* host views of the guest pages */
	u32 nr_backing;
	u64 backing_len;
};

struct virtio_gpu {
	struct virtio_dev dev;
	const struct virtio_gpu_ops *ops;
	void *ctx;
	struct virtio_gpu_config config;
	u32 width, height; /* the display's mode, as reported to the driver */
	u64 max_memory, used_memory;
	struct virtio_gpu_resource res[VIRTIO_GPU_MAX_RESOURCES];
	u32 scanout_res; /* 0: off */
	struct virtio_gpu_rect scanout_rect;
	struct virtio_gpu_cursor cursor;
	u32 cursor_res;
	struct vq_chain chain;
};

int virtio_gpu_init(struct virtio_gpu *gpu, const struct virtio_gpu_params *p,
		    const struct virtio_gpu_ops *ops, void *ctx);
/* The host's display changed size: the driver is told (EDID, display info, config event). */
int virtio_gpu_set_mode(struct virtio_gpu *gpu, u32 width, u32 height);
/* The scanout's surface now, or NULL while off. */
const struct virtio_gpu_surface *virtio_gpu_surface(struct virtio_gpu *gpu,
						    struct virtio_gpu_surface *s);
/* One pixel of a surface as 0x00RRGGBB, whatever its format. */
u32 virtio_gpu_pixel(u32 format, const u8 *p);

/* gpu_edid.c: a 128-byte EDID 1.4 block preferring width x height, with modes up to 1920x1080. */
void virtio_gpu_edid(u8 edid[128], u32 width, u32 height);

#endif

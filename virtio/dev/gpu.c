// SPDX-License-Identifier: MIT
/* virtio-gpu 2D: the control queue's resource and scanout commands, the cursor queue. */
#include <virtio/gpu.h>
#include <lib/string.h>

#define HDR ((u32)sizeof(struct virtio_gpu_ctrl_hdr))
#define BPP 4u /* every 2D format */

/* The largest response: GET_EDID's. */
union virtio_gpu_resp {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_resp_display_info info;
	struct virtio_gpu_resp_edid edid;
};

static struct virtio_gpu *virtio_gpu_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_gpu, dev);
}

static bool virtio_gpu_format_ok(u32 format)
{
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return true;
	default:
		return false;
	}
}

u32 virtio_gpu_pixel(u32 format, const u8 *p)
{
	u32 r, g, b;

	switch (format) {
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		r = p[1], g = p[2], b = p[3];
		break;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		r = p[0], g = p[1], b = p[2];
		break;
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
		r = p[3], g = p[2], b = p[1];
		break;
	default: /* B8G8R8A8, B8G8R8X8: what Linux's XRGB8888 is on x86 */
		r = p[2], g = p[1], b = p[0];
		break;
	}
	return r << 16 | g << 8 | b;
}

static struct virtio_gpu_resource *virtio_gpu_find(struct virtio_gpu *gpu, u32 id)
{
	for (u32 i = 0; id && i < VIRTIO_GPU_MAX_RESOURCES; i++)
		if (gpu->res[i].id == id)
			return &gpu->res[i];
	return NULL;
}

/* r lies inside res (an empty r does too); no sum can overflow. */
static bool virtio_gpu_rect_inside(const struct virtio_gpu_resource *res,
				   const struct virtio_gpu_rect *r)
{
	return r->x <= res->width && r->width <= res->width - r->x && r->y <= res->height &&
	       r->height <= res->height - r->y;
}

const struct virtio_gpu_surface *virtio_gpu_surface(struct virtio_gpu *gpu,
						    struct virtio_gpu_surface *s)
{
	struct virtio_gpu_resource *res = virtio_gpu_find(gpu, gpu->scanout_res);
	const struct virtio_gpu_rect *r = &gpu->scanout_rect;

	if (!res)
		return NULL;
	s->format = res->format;
	s->stride = res->width * BPP;
	s->width = r->width;
	s->height = r->height;
	s->pixels = res->pixels + (u64)r->y * s->stride + (u64)r->x * BPP;
	return s;
}

static void virtio_gpu_scanout_changed(struct virtio_gpu *gpu)
{
	struct virtio_gpu_surface s;

	gpu->ops->scanout(gpu->ctx, virtio_gpu_surface(gpu, &s));
}

static void virtio_gpu_cursor_changed(struct virtio_gpu *gpu)
{
	if (gpu->ops->cursor)
		gpu->ops->cursor(gpu->ctx, &gpu->cursor);
}

static void virtio_gpu_detach(struct virtio_gpu *gpu, struct virtio_gpu_resource *res)
{
	u64 bytes = (u64)res->nr_backing * sizeof(*res->backing);

	if (res->backing) {
		gpu->ops->free(gpu->ctx, res->backing, bytes);
		gpu->used_memory -= bytes;
	}
	res->backing = NULL;
	res->nr_backing = 0;
	res->backing_len = 0;
}

static void virtio_gpu_unref(struct virtio_gpu *gpu, struct virtio_gpu_resource *res)
{
	u64 size = (u64)res->width * res->height * BPP;

	if (gpu->scanout_res == res->id) {
		gpu->scanout_res = 0;
		virtio_gpu_scanout_changed(gpu);
	}
	if (gpu->cursor_res == res->id) {
		gpu->cursor_res = 0;
		gpu->cursor.pixels = NULL;
		virtio_gpu_cursor_changed(gpu);
	}
	virtio_gpu_detach(gpu, res);
	gpu->ops->free(gpu->ctx, res->pixels, size);
	gpu->used_memory -= size;
	memset(res, 0, sizeof(*res));
}

/* The command's fixed body after the header; false if the request is too short for it. */
static bool virtio_gpu_body(const struct vq_chain *c, void *body, u32 size)
{
	if (c->out_len < HDR + size)
		return false;
	vq_chain_read(c, HDR, body, size);
	return true;
}

static u32 virtio_gpu_create_2d(struct virtio_gpu *gpu, const struct vq_chain *c)
{
	struct virtio_gpu_resource_create_2d b;
	struct virtio_gpu_resource *res = NULL;
	u64 size;

	if (!virtio_gpu_body(c, &b, sizeof(b)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!b.resource_id || virtio_gpu_find(gpu, b.resource_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!virtio_gpu_format_ok(b.format) || !b.width || !b.height ||
	    b.width > VIRTIO_GPU_MAX_DIM || b.height > VIRTIO_GPU_MAX_DIM)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	size = (u64)b.width * b.height * BPP;
	for (u32 i = 0; i < VIRTIO_GPU_MAX_RESOURCES && !res; i++)
		if (!gpu->res[i].id)
			res = &gpu->res[i];
	if (!res || size > gpu->max_memory - gpu->used_memory)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	res->pixels = gpu->ops->alloc(gpu->ctx, size);
	if (!res->pixels)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	gpu->used_memory += size;
	res->id = b.resource_id;
	res->format = b.format;
	res->width = b.width;
	res->height = b.height;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* UNREF and DETACH_BACKING carry only a resource id. */
static struct virtio_gpu_resource *virtio_gpu_named(struct virtio_gpu *gpu,
						    const struct vq_chain *c, u32 *err)
{
	struct virtio_gpu_resource_id b;
	struct virtio_gpu_resource *res;

	if (!virtio_gpu_body(c, &b, sizeof(b))) {
		*err = VIRTIO_GPU_RESP_ERR_UNSPEC;
		return NULL;
	}
	res = virtio_gpu_find(gpu, b.resource_id);
	if (!res)
		*err = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	return res;
}

/*
 * virtio 1.2 5.7.6.8: the entries follow the fixed part. Each must lie
 * in guest RAM as a whole; the host views are kept until detach.
 */
static u32 virtio_gpu_attach(struct virtio_gpu *gpu, const struct vq_chain *c)
{
	struct virtio_gpu_resource_attach_backing b;
	struct virtio_gpu_resource *res;
	struct virtio_gpu_mem_entry e;
	struct virtio_iov *iov;
	u64 bytes, total = 0;

	if (!virtio_gpu_body(c, &b, sizeof(b)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	res = virtio_gpu_find(gpu, b.resource_id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (res->backing || !b.nr_entries || b.nr_entries > VIRTIO_GPU_MAX_BACKING ||
	    c->out_len - HDR - sizeof(b) < (u64)b.nr_entries * sizeof(e))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	bytes = (u64)b.nr_entries * sizeof(*iov);
	iov = bytes <= gpu->max_memory - gpu->used_memory ? gpu->ops->alloc(gpu->ctx, bytes) : NULL;
	if (!iov)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	for (u32 i = 0; i < b.nr_entries; i++) {
		vq_chain_read(c, HDR + sizeof(b) + i * (u32)sizeof(e), &e, sizeof(e));
		iov[i].len = e.length;
		iov[i].base = e.length ? guest_mem_map(gpu->dev.mem, e.addr, e.length) : NULL;
		if (e.length && !iov[i].base) {
			gpu->ops->free(gpu->ctx, iov, bytes);
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
		total += e.length;
	}
	gpu->used_memory += bytes;
	res->backing = iov;
	res->nr_backing = b.nr_entries;
	res->backing_len = total;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Where a walk of a resource's backing entries is: entry i starts at backing offset start. */
struct virtio_gpu_walk {
	u32 i;
	u64 start;
};

/*
 * Copy len bytes at off of res's backing (already checked to be inside
 * it). Offsets only grow from one call to the next of a transfer, so the
 * walk goes on from where it stopped rather than from the first entry.
 */
static void virtio_gpu_backing_read(const struct virtio_gpu_resource *res,
				    struct virtio_gpu_walk *w, u64 off, u8 *dst, u32 len)
{
	while (len && w->i < res->nr_backing) {
		const struct virtio_iov *v = &res->backing[w->i];
		u64 at = off - w->start;
		u32 n;

		if (at >= v->len) {
			w->start += v->len;
			w->i++;
			continue;
		}
		n = (u32)MIN((u64)len, v->len - at);
		memcpy(dst, (const u8 *)v->base + at, n);
		dst += n;
		len -= n;
		off += n;
	}
}

/*
 * virtio 1.2 5.7.6.8: row h of r comes from offset + h * stride of the
 * backing, the resource's own stride (width * 4), as QEMU and Linux agree.
 */
static u32 virtio_gpu_transfer(struct virtio_gpu *gpu, const struct vq_chain *c)
{
	struct virtio_gpu_transfer_to_host_2d b;
	struct virtio_gpu_walk walk = { 0, 0 };
	struct virtio_gpu_resource *res;
	u32 stride, row;

	if (!virtio_gpu_body(c, &b, sizeof(b)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	res = virtio_gpu_find(gpu, b.resource_id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!virtio_gpu_rect_inside(res, &b.r))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (!b.r.width || !b.r.height)
		return VIRTIO_GPU_RESP_OK_NODATA;
	stride = res->width * BPP;
	row = b.r.width * BPP;
	if (b.offset > res->backing_len ||
	    (u64)(b.r.height - 1) * stride + row > res->backing_len - b.offset)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	for (u32 h = 0; h < b.r.height; h++)
		virtio_gpu_backing_read(res, &walk, b.offset + (u64)h * stride,
					res->pixels + (u64)(b.r.y + h) * stride + (u64)b.r.x * BPP,
					row);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static u32 virtio_gpu_set_scanout(struct virtio_gpu *gpu, const struct vq_chain *c)
{
	struct virtio_gpu_set_scanout b;
	struct virtio_gpu_resource *res;

	if (!virtio_gpu_body(c, &b, sizeof(b)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (b.scanout_id != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (!b.resource_id) {
		gpu->scanout_res = 0;
		virtio_gpu_scanout_changed(gpu);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	res = virtio_gpu_find(gpu, b.resource_id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!b.r.width || !b.r.height || !virtio_gpu_rect_inside(res, &b.r))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	gpu->scanout_res = res->id;
	gpu->scanout_rect = b.r;
	virtio_gpu_scanout_changed(gpu);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* The part of r (resource coordinates) that the scanout shows, in scanout coordinates. */
static bool virtio_gpu_clip(const struct virtio_gpu_rect *s, const struct virtio_gpu_rect *r,
			    struct virtio_gpu_rect *out)
{
	u32 x0 = MAX(r->x, s->x), y0 = MAX(r->y, s->y);
	u32 x1 = MIN(r->x + r->width, s->x + s->width);
	u32 y1 = MIN(r->y + r->height, s->y + s->height);

	if (x0 >= x1 || y0 >= y1)
		return false;
	*out = (struct virtio_gpu_rect){ x0 - s->x, y0 - s->y, x1 - x0, y1 - y0 };
	return true;
}

static u32 virtio_gpu_flush(struct virtio_gpu *gpu, const struct vq_chain *c)
{
	struct virtio_gpu_resource_flush b;
	struct virtio_gpu_resource *res;
	struct virtio_gpu_surface s;
	struct virtio_gpu_rect d;

	if (!virtio_gpu_body(c, &b, sizeof(b)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	res = virtio_gpu_find(gpu, b.resource_id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!virtio_gpu_rect_inside(res, &b.r))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (gpu->scanout_res == res->id && virtio_gpu_clip(&gpu->scanout_rect, &b.r, &d))
		gpu->ops->flush(gpu->ctx, virtio_gpu_surface(gpu, &s), &d);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static u32 virtio_gpu_display_info(struct virtio_gpu *gpu, union virtio_gpu_resp *resp, u32 *len)
{
	struct virtio_gpu_display_one *m = &resp->info.pmodes[0];

	m->r = (struct virtio_gpu_rect){ 0, 0, gpu->width, gpu->height };
	m->enabled = 1;
	*len = sizeof(resp->info);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static u32 virtio_gpu_get_edid(struct virtio_gpu *gpu, const struct vq_chain *c,
			       union virtio_gpu_resp *resp, u32 *len)
{
	struct virtio_gpu_get_edid b;

	if (!virtio_gpu_body(c, &b, sizeof(b)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (b.scanout != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	virtio_gpu_edid(resp->edid.edid, gpu->width, gpu->height);
	resp->edid.size = 128;
	*len = sizeof(resp->edid);
	return VIRTIO_GPU_RESP_OK_EDID;
}

static u32 virtio_gpu_execute(struct virtio_gpu *gpu, const struct vq_chain *c, u32 type,
			      union virtio_gpu_resp *resp, u32 *len)
{
	struct virtio_gpu_resource *res;
	u32 err = VIRTIO_GPU_RESP_OK_NODATA;

	switch (type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
		return virtio_gpu_display_info(gpu, resp, len);
	case VIRTIO_GPU_CMD_GET_EDID:
		return virtio_gpu_get_edid(gpu, c, resp, len);
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
		return virtio_gpu_create_2d(gpu, c);
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
		res = virtio_gpu_named(gpu, c, &err);
		if (res)
			virtio_gpu_unref(gpu, res);
		return err;
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
		return virtio_gpu_attach(gpu, c);
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		res = virtio_gpu_named(gpu, c, &err);
		if (res && !res->backing)
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		if (res)
			virtio_gpu_detach(gpu, res);
		return err;
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		return virtio_gpu_transfer(gpu, c);
	case VIRTIO_GPU_CMD_SET_SCANOUT:
		return virtio_gpu_set_scanout(gpu, c);
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		return virtio_gpu_flush(gpu, c);
	case VIRTIO_GPU_CMD_GET_CAPSET_INFO: /* num_capsets is 0: no index is valid */
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	default:
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
}

/*
 * virtio 1.2 5.7.6.7: a request header and body (device-readable), the
 * response (device-writable). A fenced request's response carries the
 * fence back; requests complete in order, so the fence is signalled.
 */
static int virtio_gpu_control(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_gpu *gpu = virtio_gpu_of(dev);
	struct virtio_gpu_ctrl_hdr h;
	union virtio_gpu_resp resp;
	u32 len = HDR;

	if (c->out_len < HDR)
		return vq_fail(vq, "gpu request header is not device-readable (%u readable bytes)",
			       c->out_len);
	vq_chain_read(c, 0, &h, HDR);
	memset(&resp, 0, sizeof(resp)); /* no byte of keel-dm reaches the guest */
	resp.hdr.type = virtio_gpu_execute(gpu, c, h.type, &resp, &len);
	if (h.flags & VIRTIO_GPU_FLAG_FENCE) {
		resp.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
		resp.hdr.fence_id = h.fence_id;
		resp.hdr.ctx_id = h.ctx_id;
		resp.hdr.ring_idx = h.ring_idx;
	}
	return (int)vq_chain_write(c, 0, &resp, len);
}

/* virtio 1.2 5.7.6.10: cursor commands have no response; bad ones are ignored. */
static int virtio_gpu_cursor_cmd(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_gpu *gpu = virtio_gpu_of(dev);
	struct virtio_gpu_update_cursor b;
	struct virtio_gpu_resource *res;
	struct virtio_gpu_ctrl_hdr h;

	if (c->out_len < HDR)
		return vq_fail(
			vq, "gpu cursor request header is not device-readable (%u readable bytes)",
			c->out_len);
	vq_chain_read(c, 0, &h, HDR);
	if ((h.type != VIRTIO_GPU_CMD_UPDATE_CURSOR && h.type != VIRTIO_GPU_CMD_MOVE_CURSOR) ||
	    !virtio_gpu_body(c, &b, sizeof(b)) || b.pos.scanout_id != 0)
		return 0;
	gpu->cursor.x = b.pos.x;
	gpu->cursor.y = b.pos.y;
	if (h.type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		res = virtio_gpu_find(gpu, b.resource_id);
		if (res &&
		    (res->width > VIRTIO_GPU_CURSOR_DIM || res->height > VIRTIO_GPU_CURSOR_DIM))
			res = NULL;
		gpu->cursor = (struct virtio_gpu_cursor){
			.hot_x = b.hot_x, .hot_y = b.hot_y, .x = b.pos.x, .y = b.pos.y
		};
		gpu->cursor_res = res ? res->id : 0;
		if (res) {
			gpu->cursor.pixels = res->pixels;
			gpu->cursor.format = res->format;
			gpu->cursor.width = res->width;
			gpu->cursor.height = res->height;
		}
	}
	virtio_gpu_cursor_changed(gpu);
	return 0;
}

static void virtio_gpu_queue_notify(struct virtio_dev *dev, u16 queue)
{
	virtio_dev_drain(dev, &dev->vqs[queue], &virtio_gpu_of(dev)->chain,
			 queue == VIRTIO_GPU_CONTROL_QUEUE ? virtio_gpu_control :
							     virtio_gpu_cursor_cmd);
}

/* virtio 1.2 5.7.6.1: a reset drops every resource and turns the scanout off. */
static void virtio_gpu_reset(struct virtio_dev *dev)
{
	struct virtio_gpu *gpu = virtio_gpu_of(dev);

	for (u32 i = 0; i < VIRTIO_GPU_MAX_RESOURCES; i++)
		if (gpu->res[i].id)
			virtio_gpu_unref(gpu, &gpu->res[i]);
	gpu->config.events_read = 0;
}

/* virtio 1.2 5.7.4: writing events_clear clears those bits of events_read. */
static void virtio_gpu_config_write(struct virtio_dev *dev, u32 off, u32 size, u32 val)
{
	struct virtio_gpu *gpu = virtio_gpu_of(dev);

	if (off == offsetof(struct virtio_gpu_config, events_clear) && size == 4)
		gpu->config.events_read &= ~val;
}

static const struct virtio_dev_ops virtio_gpu_dev_ops = {
	.reset = virtio_gpu_reset,
	.queue_notify = virtio_gpu_queue_notify,
	.config_write = virtio_gpu_config_write,
};

static bool virtio_gpu_mode_ok(u32 width, u32 height)
{
	return width >= VIRTIO_GPU_MIN_WIDTH && width <= VIRTIO_GPU_MAX_WIDTH &&
	       height >= VIRTIO_GPU_MIN_HEIGHT && height <= VIRTIO_GPU_MAX_HEIGHT;
}

int virtio_gpu_init(struct virtio_gpu *gpu, const struct virtio_gpu_params *p,
		    const struct virtio_gpu_ops *ops, void *ctx)
{
	u32 w = p->width ? p->width : 1024, h = p->height ? p->height : 768;
	int err;

	if (!ops || !ops->alloc || !ops->free || !ops->scanout || !ops->flush ||
	    !virtio_gpu_mode_ok(w, h))
		return -EINVAL;
	memset(gpu->res, 0, sizeof(gpu->res));
	memset(&gpu->cursor, 0, sizeof(gpu->cursor));
	gpu->config = (struct virtio_gpu_config){ .num_scanouts = 1 };
	err = virtio_dev_init(&gpu->dev, VIRTIO_ID_GPU, VIRTIO_GPU_F_EDID, 2,
			      p->queue_size ? p->queue_size : VIRTIO_QUEUE_SIZE_MAX, &gpu->config,
			      sizeof(gpu->config), &virtio_gpu_dev_ops);
	if (err)
		return err;
	gpu->ops = ops;
	gpu->ctx = ctx;
	gpu->width = w;
	gpu->height = h;
	gpu->max_memory = p->max_memory ? p->max_memory : 64ull << 20;
	gpu->used_memory = 0;
	gpu->scanout_res = gpu->cursor_res = 0;
	return 0;
}

int virtio_gpu_set_mode(struct virtio_gpu *gpu, u32 width, u32 height)
{
	if (!virtio_gpu_mode_ok(width, height))
		return -EINVAL;
	gpu->width = width;
	gpu->height = height;
	gpu->config.events_read |= VIRTIO_GPU_EVENT_DISPLAY;
	virtio_dev_config_changed(&gpu->dev);
	return 0;
}

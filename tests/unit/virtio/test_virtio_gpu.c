// SPDX-License-Identifier: MIT
/* virtio-gpu tests: display info and EDID, resources to the scanout, fences, cursor, bad commands. */
#include "test.h"
#include "virtio_driver_sim.h"
#include <virtio/gpu.h>
#include <stdlib.h>

#define FEAT (VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | VIRTIO_GPU_F_EDID)
#define W 64
#define H 48

static struct virtio_gpu gpu;
static struct vsim sim;
static struct {
	u64 live; /* bytes allocated and not freed */
	u32 scanouts, flushes, cursors;
	struct virtio_gpu_surface s;
	bool on;
	struct virtio_gpu_rect r;
	struct virtio_gpu_cursor c;
} be;

static void *gpu_alloc(void *ctx, u64 size)
{
	(void)ctx;
	be.live += size;
	return calloc(1, size);
}

static void gpu_free(void *ctx, void *p, u64 size)
{
	(void)ctx;
	be.live -= size;
	free(p);
}

static void gpu_scanout(void *ctx, const struct virtio_gpu_surface *s)
{
	(void)ctx;
	be.scanouts++;
	be.on = s != NULL;
	if (s)
		be.s = *s;
}

static void gpu_flush(void *ctx, const struct virtio_gpu_surface *s,
		      const struct virtio_gpu_rect *r)
{
	(void)ctx;
	be.flushes++;
	be.s = *s;
	be.r = *r;
}

static void gpu_cursor(void *ctx, const struct virtio_gpu_cursor *c)
{
	(void)ctx;
	be.cursors++;
	be.c = *c;
}

static const struct virtio_gpu_ops ops = { .alloc = gpu_alloc,
					   .free = gpu_free,
					   .scanout = gpu_scanout,
					   .flush = gpu_flush,
					   .cursor = gpu_cursor };

static void setup_with(u64 max_memory)
{
	struct virtio_gpu_params p = { .max_memory = max_memory, .queue_size = 16 };

	memset(&be, 0, sizeof(be));
	CHECK_EQ(virtio_gpu_init(&gpu, &p, &ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &gpu.dev, 4 << 20), 0);
	CHECK_EQ(vsim_start(&sim, FEAT, 2), 0);
	CHECK_EQ(sim.features, FEAT);
}

static void setup(void)
{
	setup_with(0);
}

static void teardown(void)
{
	CHECK(!(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
	vsim_common_write(&sim, 0x14, 1, 0); /* device_status: reset frees every resource */
	CHECK_EQ(be.live, 0);
	vsim_free(&sim);
}

/* One request of len bytes (type first, after a header), its response; the response type. */
static u32 cmd_raw(u32 type, const void *body, u32 len, void *resp, u32 resp_len, u32 flags)
{
	u8 req[512] = { 0 };
	struct virtio_gpu_ctrl_hdr *h = (void *)req;
	struct vsim_seg seg[2];
	u32 id, used;

	h->type = type;
	h->flags = flags;
	h->fence_id = 0x1234567890ull;
	if (len)
		memcpy(req + sizeof(*h), body, len);
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, req, sizeof(*h) + len),
				    (u32)sizeof(*h) + len };
	seg[1] = (struct vsim_seg){ vsim_alloc(&sim, resp_len, 8), resp_len };
	CHECK(vsim_post(&sim, VIRTIO_GPU_CONTROL_QUEUE, seg, 1, 1, false) >= 0);
	vsim_kick(&sim, VIRTIO_GPU_CONTROL_QUEUE);
	CHECK_EQ(vsim_used(&sim, VIRTIO_GPU_CONTROL_QUEUE, &id, &used), 1);
	memcpy(resp, vsim_ptr(&sim, seg[1].addr), resp_len);
	return ((struct virtio_gpu_ctrl_hdr *)resp)->type;
}

static u32 cmd(u32 type, const void *body, u32 len)
{
	struct virtio_gpu_ctrl_hdr r;

	return cmd_raw(type, body, len, &r, sizeof(r), 0);
}

static u32 create(u32 id, u32 format, u32 w, u32 h)
{
	struct virtio_gpu_resource_create_2d b = { id, format, w, h };

	return cmd(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, &b, sizeof(b));
}

/* Backing for id in two pieces of guest RAM, filled with a pattern; returns the GPAs. */
static u32 attach(u32 id, u32 bytes, gpa_t pieces[2])
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[2];
	} b = { { id, 2 }, { { 0 }, { 0 } } };
	u32 first = bytes / 3 & ~3u;

	pieces[0] = vsim_alloc(&sim, first, 4096);
	pieces[1] = vsim_alloc(&sim, bytes - first, 4096);
	b.e[0] = (struct virtio_gpu_mem_entry){ pieces[0], first, 0 };
	b.e[1] = (struct virtio_gpu_mem_entry){ pieces[1], bytes - first, 0 };
	for (u32 i = 0; i < bytes; i++) {
		u8 *p = i < first ? vsim_ptr(&sim, pieces[0] + i) :
				    vsim_ptr(&sim, pieces[1] + i - first);
		*p = (u8)(i * 7 + i / 256);
	}
	return cmd(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &b, sizeof(b));
}

static u8 pattern(u32 i)
{
	return (u8)(i * 7 + i / 256);
}

static u32 set_scanout(u32 scanout, u32 id, u32 x, u32 y, u32 w, u32 h)
{
	struct virtio_gpu_set_scanout b = { { x, y, w, h }, scanout, id };

	return cmd(VIRTIO_GPU_CMD_SET_SCANOUT, &b, sizeof(b));
}

static u32 transfer(u32 id, u32 x, u32 y, u32 w, u32 h, u64 offset)
{
	struct virtio_gpu_transfer_to_host_2d b = { { x, y, w, h }, offset, id, 0 };

	return cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, &b, sizeof(b));
}

static u32 flush(u32 id, u32 x, u32 y, u32 w, u32 h)
{
	struct virtio_gpu_resource_flush b = { { x, y, w, h }, id, 0 };

	return cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, &b, sizeof(b));
}

TEST(gpu_display_info_and_edid)
{
	struct virtio_gpu_resp_display_info info;
	struct virtio_gpu_resp_edid edid;
	struct virtio_gpu_get_edid b = { 0, 0 };
	const u8 *d = edid.edid + 54;
	u8 sum = 0;

	setup();
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 8, 4), 1); /* num_scanouts */
	CHECK_EQ(cmd_raw(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, NULL, 0, &info, sizeof(info), 0),
		 VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(info.pmodes[0].r.width, 1024);
	CHECK_EQ(info.pmodes[0].r.height, 768);
	CHECK_EQ(info.pmodes[0].enabled, 1);
	CHECK_EQ(info.pmodes[1].enabled, 0);
	CHECK_EQ(cmd_raw(VIRTIO_GPU_CMD_GET_EDID, &b, sizeof(b), &edid, sizeof(edid), 0),
		 VIRTIO_GPU_RESP_OK_EDID);
	CHECK_EQ(edid.size, 128);
	CHECK(!memcmp(edid.edid, "\0\xff\xff\xff\xff\xff\xff\0", 8));
	for (int i = 0; i < 128; i++)
		sum += edid.edid[i];
	CHECK_EQ(sum, 0);
	/* the preferred detailed timing is the display's mode */
	CHECK_EQ(d[2] | (d[4] >> 4) << 8, 1024);
	CHECK_EQ(d[5] | (d[7] >> 4) << 8, 768);
	/* 1920x1080 is among the standard timings, and no mode beyond it */
	CHECK_EQ(edid.edid[38 + 14], 1920 / 8 - 31);
	CHECK_EQ(edid.edid[38 + 15], 0xc0);
	b.scanout = 1;
	CHECK_EQ(cmd_raw(VIRTIO_GPU_CMD_GET_EDID, &b, sizeof(b), &edid, sizeof(edid), 0),
		 VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	teardown();
}

TEST(gpu_resource_reaches_the_scanout)
{
	u32 bytes = W * H * 4, stride = W * 4;
	gpa_t pieces[2];

	setup();
	CHECK_EQ(create(5, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(be.live, bytes);
	CHECK_EQ(attach(5, bytes, pieces), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(set_scanout(0, 5, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(be.on);
	CHECK_EQ(be.s.width, W);
	CHECK_EQ(be.s.height, H);
	CHECK_EQ(be.s.stride, stride);
	/* the whole resource, then a rectangle from an offset in the backing */
	CHECK_EQ(transfer(5, 0, 0, W, H, 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(flush(5, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(be.flushes, 1);
	CHECK_EQ(be.r.width, W);
	for (u32 i = 0; i < bytes; i++)
		if (be.s.pixels[i] != pattern(i)) {
			CHECK_EQ(i, -1);
			break;
		}
	memset((u8 *)be.s.pixels, 0, bytes);
	CHECK_EQ(transfer(5, 8, 10, 16, 20, 10 * stride + 8 * 4), VIRTIO_GPU_RESP_OK_NODATA);
	for (u32 y = 0; y < H; y++)
		for (u32 x = 0; x < stride; x++) {
			bool in = y >= 10 && y < 30 && x >= 32 && x < 96;
			u8 want = in ? pattern(y * stride + x) : 0;

			if (be.s.pixels[y * stride + x] != want) {
				CHECK_EQ(y * stride + x, -1);
				y = H;
				break;
			}
		}
	/* a scanout of part of the resource: a flush is clipped to it and moved */
	CHECK_EQ(set_scanout(0, 5, 16, 8, 32, 32), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(be.s.pixels == gpu.res[0].pixels + 8 * stride + 16 * 4);
	CHECK_EQ(flush(5, 0, 0, 20, 10), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(be.r.x, 0);
	CHECK_EQ(be.r.y, 0);
	CHECK_EQ(be.r.width, 4);
	CHECK_EQ(be.r.height, 2);
	CHECK_EQ(flush(5, 0, 0, 8, 8), VIRTIO_GPU_RESP_OK_NODATA); /* outside: no flush */
	CHECK_EQ(be.flushes, 2);
	/* unref of the shown resource turns the scanout off */
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, (u32[]){ 5, 0 }, 8), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(!be.on);
	CHECK_EQ(be.live, 0);
	teardown();
}

TEST(gpu_fence_comes_back)
{
	struct virtio_gpu_ctrl_hdr r;

	setup();
	CHECK_EQ(cmd_raw(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, (u32[]){ 1, 2, 8, 8 }, 16, &r,
			 sizeof(r), VIRTIO_GPU_FLAG_FENCE),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(r.flags, VIRTIO_GPU_FLAG_FENCE);
	CHECK_EQ(r.fence_id, 0x1234567890ull);
	teardown();
}

TEST(gpu_bad_commands_get_errors_and_touch_nothing)
{
	struct virtio_gpu_ctrl_hdr r;
	gpa_t pieces[2];
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} outside = { { 2, 1 }, { 4ull << 20, 4096, 0 } },
	  wraps = { { 2, 1 }, { ~0ull - 100, 4096, 0 } };
	struct virtio_gpu_resource_attach_backing more = { 2, 1000 };

	setup_with(1 << 20);
	CHECK_EQ(create(0, 2, 8, 8), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(create(2, 2, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create(2, 2, 8, 8), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(create(3, 99, 8, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(3, 2, 0, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(3, 2, 1024, 1024), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY); /* 4 MiB > 1 MiB */
	CHECK_EQ(create(3, 2, 0xffffffff, 0xffffffff), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* backing outside guest RAM, wrapping, or more entries than the request holds */
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &outside, sizeof(outside)),
		 VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &wraps, sizeof(wraps)),
		 VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &more, sizeof(more)),
		 VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK(gpu.res[0].backing == NULL);
	CHECK_EQ(transfer(2, 0, 0, 16, 16, 0), VIRTIO_GPU_RESP_ERR_UNSPEC); /* no backing */
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, (u32[]){ 2, 0 }, 8),
		 VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(attach(2, 16 * 16 * 4 - 64, pieces), VIRTIO_GPU_RESP_OK_NODATA); /* short */
	CHECK_EQ(attach(2, 16 * 16 * 4, pieces), VIRTIO_GPU_RESP_ERR_UNSPEC);	  /* twice */
	/* rectangles outside the resource, transfers beyond the backing */
	CHECK_EQ(transfer(2, 8, 0, 9, 16, 0), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(2, 0xfffffff0, 0, 0x20, 1, 0), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(2, 0, 0, 16, 16, 0), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(2, 0, 0, 16, 15, ~0ull - 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(2, 0, 0, 16, 15, 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(transfer(9, 0, 0, 1, 1, 0), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(set_scanout(1, 2, 0, 0, 16, 16), VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	CHECK_EQ(set_scanout(0, 9, 0, 0, 16, 16), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(set_scanout(0, 2, 0, 0, 17, 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(set_scanout(0, 2, 0, 0, 0, 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK(!be.on);
	CHECK_EQ(flush(9, 0, 0, 1, 1), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(flush(2, 0, 0, 16, 17), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, (u32[]){ 9, 0 }, 8),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* too short for its body, unknown, no 3D */
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_SET_SCANOUT, (u32[]){ 0, 0 }, 8), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(cmd(0x0777, NULL, 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_GET_CAPSET_INFO, (u32[]){ 0, 0 }, 8),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* the device still works */
	CHECK_EQ(set_scanout(0, 2, 0, 0, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(flush(2, 0, 0, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(be.flushes, 1);
	CHECK_EQ(cmd_raw(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, NULL, 0, &r, sizeof(r), 0),
		 VIRTIO_GPU_RESP_OK_DISPLAY_INFO); /* a short response buffer takes what fits */
	teardown();
}

TEST(gpu_resource_table_fills_up)
{
	u32 i;

	setup();
	for (i = 1; i <= VIRTIO_GPU_MAX_RESOURCES; i++)
		CHECK_EQ(create(i, 2, 4, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create(i, 2, 4, 4), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	teardown();
}

TEST(gpu_mode_change_tells_the_driver)
{
	struct virtio_gpu_resp_display_info info;
	struct virtio_gpu_resp_edid edid;

	setup();
	CHECK_EQ(virtio_gpu_set_mode(&gpu, 2560, 1440), -EINVAL);
	CHECK_EQ(virtio_gpu_set_mode(&gpu, 1280, 800), 0);
	CHECK_EQ(sim.msi_vec[0], 1); /* the configuration-change interrupt */
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 4), VIRTIO_GPU_EVENT_DISPLAY);
	vsim_bar_write(&sim, 0, sim.device + 4, 4, VIRTIO_GPU_EVENT_DISPLAY);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 4), 0);
	cmd_raw(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, NULL, 0, &info, sizeof(info), 0);
	CHECK_EQ(info.pmodes[0].r.width, 1280);
	CHECK_EQ(info.pmodes[0].r.height, 800);
	cmd_raw(VIRTIO_GPU_CMD_GET_EDID, (u32[]){ 0, 0 }, 8, &edid, sizeof(edid), 0);
	CHECK_EQ(edid.edid[56] | (edid.edid[58] >> 4) << 8, 1280);
	teardown();
}

TEST(gpu_cursor_queue)
{
	struct virtio_gpu_ctrl_hdr h = { .type = VIRTIO_GPU_CMD_UPDATE_CURSOR };
	struct virtio_gpu_update_cursor u = { { 0, 100, 200, 0 }, 7, 3, 4, 0 };
	u8 req[sizeof(h) + sizeof(u)];
	struct vsim_seg seg;
	u32 id, len;

	setup();
	CHECK_EQ(create(7, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64), VIRTIO_GPU_RESP_OK_NODATA);
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), &u, sizeof(u));
	seg = (struct vsim_seg){ vsim_alloc_copy(&sim, req, sizeof(req)), sizeof(req) };
	vsim_post(&sim, VIRTIO_GPU_CURSOR_QUEUE, &seg, 1, 0, false);
	h.type = VIRTIO_GPU_CMD_MOVE_CURSOR;
	u.pos.x = 5;
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), &u, sizeof(u));
	seg = (struct vsim_seg){ vsim_alloc_copy(&sim, req, sizeof(req)), sizeof(req) };
	vsim_post(&sim, VIRTIO_GPU_CURSOR_QUEUE, &seg, 1, 0, false);
	vsim_kick(&sim, VIRTIO_GPU_CURSOR_QUEUE);
	CHECK_EQ(vsim_used(&sim, VIRTIO_GPU_CURSOR_QUEUE, &id, &len), 1);
	CHECK_EQ(vsim_used(&sim, VIRTIO_GPU_CURSOR_QUEUE, &id, &len), 1);
	CHECK_EQ(be.cursors, 2);
	CHECK(be.c.pixels == gpu.res[0].pixels);
	CHECK_EQ(be.c.hot_x, 3);
	CHECK_EQ(be.c.x, 5);
	CHECK_EQ(be.c.y, 200);
	CHECK_EQ(cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, (u32[]){ 7, 0 }, 8), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(be.c.pixels == NULL);
	teardown();
}

TEST(gpu_headerless_request_needs_reset)
{
	struct vsim_seg seg[2];

	setup();
	seg[0] = (struct vsim_seg){ vsim_alloc(&sim, 8, 8), 8 };
	seg[1] = (struct vsim_seg){ vsim_alloc(&sim, 24, 8), 24 };
	vsim_post(&sim, VIRTIO_GPU_CONTROL_QUEUE, seg, 1, 1, false);
	vsim_kick(&sim, VIRTIO_GPU_CONTROL_QUEUE);
	CHECK(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	CHECK(strstr(virtio_dev_fault(&gpu.dev), "gpu request header") != NULL);
	vsim_free(&sim);
	virtio_dev_reset(&gpu.dev);
	CHECK_EQ(be.live, 0);
}

TEST(gpu_pixel_formats)
{
	static const u8 px[4] = { 0x11, 0x22, 0x33, 0x44 };

	CHECK_EQ(virtio_gpu_pixel(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, px), 0x332211);
	CHECK_EQ(virtio_gpu_pixel(VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, px), 0x332211);
	CHECK_EQ(virtio_gpu_pixel(VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, px), 0x223344);
	CHECK_EQ(virtio_gpu_pixel(VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, px), 0x112233);
	CHECK_EQ(virtio_gpu_pixel(VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, px), 0x443322);
}

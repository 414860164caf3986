// SPDX-License-Identifier: MIT
/* Test guest: a hostile virtio-gpu driver whose malformed commands must each be refused, then a picture. */
#include "lib/vpci.h"
#include <virtio/gpu.h>

const char test_name[] = "badgpu";

#define RES 7
#define PW 64 /* the picture: PW x PH, XRGB, drawn at the scanout's top left */
#define PH 48

static struct vqueue q;
static u32 pixels[PW * PH] __attribute__((aligned(4096)));
static struct {
	struct virtio_gpu_ctrl_hdr hdr;
	u8 body[64];
} req __attribute__((aligned(64)));
static struct virtio_gpu_resp_display_info resp __attribute__((aligned(64)));
static struct vpci v;

/* One command: header and body out, the response header in; returns the response type. */
static u32 command(u32 type, const void *body, u32 len)
{
	static u16 used;

	req.hdr = (struct virtio_gpu_ctrl_hdr){ .type = type };
	memcpy(req.body, body, len);
	resp.hdr.type = 0;
	q.desc[0] = (struct vdesc){ (u64)&req, (u32)sizeof(req.hdr) + len, VIRTQ_DESC_F_NEXT, 1 };
	q.desc[1] = (struct vdesc){ (u64)&resp, sizeof(resp), VIRTQ_DESC_F_WRITE, 0 };
	vpci_kick(&v, &q, 0);
	if (!vpci_wait_used(&q, ++used))
		fail_at(__LINE__, "no answer to command 0x%x (status 0x%02x)", type,
			vpci_status(&v));
	return *(volatile u32 *)&resp.hdr.type;
}

static void expect(const char *what, u32 type, const void *body, u32 len, u32 want)
{
	u32 got = command(type, body, len);

	gprintf("badgpu: %s: 0x%x\n", what, got);
	if (got != want)
		fail_at(__LINE__, "%s: answer 0x%x, wanted 0x%x", what, got, want);
	if (vpci_status(&v) & ST_NEEDS_RESET)
		fail_at(__LINE__, "%s: the device needs a reset", what);
}

void test_main(void)
{
	const struct virtio_gpu_rect all = { 0, 0, PW, PH }, out = { PW - 8, 0, 16, PH };
	struct virtio_gpu_resource_create_2d create = { RES, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, PW,
							PH };
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} attach = { { RES, 1 }, { (u64)pixels, sizeof(pixels), 0 } };
	struct virtio_gpu_transfer_to_host_2d xfer = { all, 0, RES, 0 };
	struct virtio_gpu_set_scanout scan = { all, 0, RES };
	struct virtio_gpu_resource_flush flush = { all, RES, 0 };

	for (u32 y = 0; y < PH; y++) /* a gradient with a distinct value in each channel */
		for (u32 x = 0; x < PW; x++)
			pixels[y * PW + x] = (x * 4) << 16 | (y * 5) << 8 | ((x + y) * 2);

	vpci_open(&v, VIRTIO_ID_GPU, 0xc0000000ULL);
	vpci_queue(&v, &q, VIRTIO_GPU_CONTROL_QUEUE);
	vpci_driver_ok(&v);

	/* The malformed stream (virtio 1.2 5.7.6.7: errors are 0x12xx responses). */
	expect("resource 0", VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	       &(struct virtio_gpu_resource_create_2d){ 0, 2, PW, PH }, sizeof(create),
	       VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	expect("unknown format", VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	       &(struct virtio_gpu_resource_create_2d){ RES, 999, PW, PH }, sizeof(create),
	       VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	expect("huge resource", VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	       &(struct virtio_gpu_resource_create_2d){ RES, 2, 16384, 16384 }, sizeof(create),
	       VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	expect("short body", VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, &create, 8,
	       VIRTIO_GPU_RESP_ERR_UNSPEC);
	expect("create", VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, &create, sizeof(create),
	       VIRTIO_GPU_RESP_OK_NODATA);
	expect("duplicate resource", VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, &create, sizeof(create),
	       VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	attach.e.addr = 0x7fff00000000ULL; /* far outside the guest's RAM */
	expect("backing outside RAM", VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &attach,
	       sizeof(attach), VIRTIO_GPU_RESP_ERR_UNSPEC);
	attach.e.addr = ~0ULL - 4095; /* wraps around */
	expect("backing wraps", VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &attach, sizeof(attach),
	       VIRTIO_GPU_RESP_ERR_UNSPEC);
	attach.a.nr_entries = 1000; /* more entries than the request holds */
	attach.e.addr = (u64)pixels;
	expect("entries past the request", VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &attach,
	       sizeof(attach), VIRTIO_GPU_RESP_ERR_UNSPEC);
	attach.a.nr_entries = 1;
	expect("transfer without backing", VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, &xfer, sizeof(xfer),
	       VIRTIO_GPU_RESP_ERR_UNSPEC);
	attach.e.length = sizeof(pixels) / 2; /* backing for half the picture */
	expect("attach half", VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &attach, sizeof(attach),
	       VIRTIO_GPU_RESP_OK_NODATA);
	expect("transfer past the backing", VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, &xfer, sizeof(xfer),
	       VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	expect("detach", VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	       &(struct virtio_gpu_resource_id){ RES, 0 }, 8, VIRTIO_GPU_RESP_OK_NODATA);
	attach.e.length = sizeof(pixels);
	expect("attach", VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, &attach, sizeof(attach),
	       VIRTIO_GPU_RESP_OK_NODATA);
	expect("transfer outside the resource", VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	       &(struct virtio_gpu_transfer_to_host_2d){ out, 0, RES, 0 }, sizeof(xfer),
	       VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	expect("transfer to no resource", VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	       &(struct virtio_gpu_transfer_to_host_2d){ all, 0, 99, 0 }, sizeof(xfer),
	       VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	expect("scanout 5", VIRTIO_GPU_CMD_SET_SCANOUT,
	       &(struct virtio_gpu_set_scanout){ all, 5, RES }, sizeof(scan),
	       VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	expect("scanout rect outside", VIRTIO_GPU_CMD_SET_SCANOUT,
	       &(struct virtio_gpu_set_scanout){ out, 0, RES }, sizeof(scan),
	       VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	expect("flush outside", VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	       &(struct virtio_gpu_resource_flush){ out, RES, 0 }, sizeof(flush),
	       VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	expect("unknown command", 0x0999, &create, sizeof(create), VIRTIO_GPU_RESP_ERR_UNSPEC);

	/* The display still works: the picture goes up. */
	expect("transfer", VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, &xfer, sizeof(xfer),
	       VIRTIO_GPU_RESP_OK_NODATA);
	expect("scanout", VIRTIO_GPU_CMD_SET_SCANOUT, &scan, sizeof(scan),
	       VIRTIO_GPU_RESP_OK_NODATA);
	expect("flush", VIRTIO_GPU_CMD_RESOURCE_FLUSH, &flush, sizeof(flush),
	       VIRTIO_GPU_RESP_OK_NODATA);
	gprintf("badgpu: picture up\n");
	for (;;) /* the test takes its screenshot, then destroys the guest */
		__asm__ volatile("cli; hlt");
}

// SPDX-License-Identifier: MIT
/* Test guest: a virtio-blk driver that ignores VIRTIO_BLK_F_RO and writes, discards and zeroes a read-only disk. */
#include "lib/vpci.h"
#include <virtio/blk.h>

const char test_name[] = "badro";

#define SECTORS 2 /* the data of each request: the disk's first 1 KiB */

static struct vqueue q;
static struct virtio_blk_req_hdr hdr __attribute__((aligned(64)));
static u8 data[SECTORS * VIRTIO_BLK_SECTOR_SIZE] __attribute__((aligned(64)));
static struct virtio_blk_range range __attribute__((aligned(64)));
static volatile u8 status;
static struct vpci v;

/*
 * One request (virtio 1.2 5.2.6): the header, then `out` readable or `in`
 * writable data bytes, then the status byte. Returns the status; *len gets
 * the used length the device reported.
 */
static u8 request(u32 type, const void *out, u32 out_len, u32 in_len, u32 *len)
{
	static u16 used;
	u16 n = 0;

	hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = 0 };
	status = 0xff;
	q.desc[n] = (struct vdesc){ (u64)&hdr, sizeof(hdr), VIRTQ_DESC_F_NEXT, (u16)(n + 1) };
	n++;
	if (out_len) {
		q.desc[n] = (struct vdesc){ (u64)out, out_len, VIRTQ_DESC_F_NEXT, (u16)(n + 1) };
		n++;
	}
	if (in_len) {
		q.desc[n] = (struct vdesc){ (u64)data, in_len,
					    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(n + 1) };
		n++;
	}
	q.desc[n] = (struct vdesc){ (u64)&status, 1, VIRTQ_DESC_F_WRITE, 0 };
	vpci_kick(&v, &q, 0);
	if (!vpci_wait_used(&q, ++used))
		fail_at(__LINE__, "no answer to request type %u (device status 0x%02x)", type,
			vpci_status(&v));
	*len = *(volatile u32 *)&q.used.ring[(u16)(used - 1) % q.size].len;
	if (vpci_status(&v) & ST_NEEDS_RESET)
		fail_at(__LINE__, "request type %u: the device needs a reset", type);
	return status;
}

/* A request that would change the disk: refused with IOERR, only the status byte written. */
static void refused(const char *what, u32 type, const void *out, u32 out_len)
{
	u32 len;
	u8 st = request(type, out, out_len, 0, &len);

	gprintf("badro: %s: status %u, used length %u\n", what, st, len);
	if (st != VIRTIO_BLK_S_IOERR || len != 1)
		fail_at(__LINE__, "%s of a read-only disk: status %u, used length %u; wanted %u, 1",
			what, st, len, VIRTIO_BLK_S_IOERR);
}

void test_main(void)
{
	u32 len;
	u8 st;

	vpci_open(&v, VIRTIO_ID_BLOCK, 0xc0000000ULL);
	if (!(vpci_device_features(&v, 0) & VIRTIO_BLK_F_RO))
		fail_at(__LINE__, "the disk does not offer VIRTIO_BLK_F_RO");
	/* vpci_open negotiated VIRTIO_F_VERSION_1 alone: this driver goes on as if it could write */
	vpci_queue(&v, &q, 0);
	vpci_driver_ok(&v);

	/* virtio 1.2 5.2.6.2: "MUST set the status byte to VIRTIO_BLK_S_IOERR for a write request" */
	memset(data, 'W', sizeof(data));
	refused("write", VIRTIO_BLK_T_OUT, data, sizeof(data));
	range = (struct virtio_blk_range){ 0, SECTORS, 0 };
	refused("discard", VIRTIO_BLK_T_DISCARD, &range, sizeof(range));
	range.flags = VIRTIO_BLK_WZ_F_UNMAP;
	refused("write zeroes", VIRTIO_BLK_T_WRITE_ZEROES, &range, sizeof(range));

	/* the disk still reads, and holds what it held */
	memset(data, 0, sizeof(data));
	st = request(VIRTIO_BLK_T_IN, NULL, 0, sizeof(data), &len);
	if (st != VIRTIO_BLK_S_OK || len != sizeof(data) + 1)
		fail_at(__LINE__, "read: status %u, used length %u", st, len);
	gprintf("badro: read back: %.19s\n", (const char *)data);
}

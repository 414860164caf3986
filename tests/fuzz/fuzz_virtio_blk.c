// SPDX-License-Identifier: MIT
/* libFuzzer: the virtio-blk request parser, fed well-formed rings carrying arbitrary requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <virtio/blk.h>
#include "tests/unit/virtio/virtio_driver_sim.h"

/*
 * Input: one flags byte (packed, indirect, read-only, two queues), then
 * requests: a segment count, per segment a flags byte (bit 0: device-
 * writable) and a le16 length, then the bytes that fill the readable
 * segments in order, so the first 16 are usually the request header.
 *
 * The backend is the oracle: anything the device hands it must be
 * sector-aligned, inside the disk, and sized like the iovecs.
 */
#define DISK_SIZE (256 * 1024)
#define RAM_SIZE (1 << 20)
#define MAX_SEGS 8

static u8 disk[DISK_SIZE];
static struct virtio_blk blk;
static struct vsim sim;

static void check_range(u64 off, u64 len)
{
	if (off % 512 || len % 512 || off > DISK_SIZE || len > DISK_SIZE - off)
		abort();
}

static int disk_rw(void *ctx, u64 off, const struct virtio_iov *iov, u32 n, bool write)
{
	u64 total = 0;

	(void)ctx;
	for (u32 i = 0; i < n; i++)
		total += iov[i].len;
	check_range(off, total);
	for (u32 i = 0; i < n; off += iov[i].len, i++) {
		if (write)
			memcpy(disk + off, iov[i].base, iov[i].len);
		else
			memcpy(iov[i].base, disk + off, iov[i].len);
	}
	return 0;
}

static int disk_read(void *ctx, u64 off, const struct virtio_iov *iov, u32 n)
{
	return disk_rw(ctx, off, iov, n, false);
}

static int disk_write(void *ctx, u64 off, const struct virtio_iov *iov, u32 n)
{
	if (blk.read_only)
		abort();
	return disk_rw(ctx, off, iov, n, true);
}

static int disk_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static int disk_discard(void *ctx, u64 off, u64 len)
{
	(void)ctx;
	check_range(off, len);
	return 0;
}

static int disk_zeroes(void *ctx, u64 off, u64 len, bool unmap)
{
	(void)ctx;
	(void)unmap;
	check_range(off, len);
	memset(disk + off, 0, len);
	return 0;
}

static const struct virtio_blk_ops ops = {
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
	.discard = disk_discard,
	.write_zeroes = disk_zeroes,
};

/* Build one request from the input; returns bytes consumed, 0 to stop. */
static size_t post_request(const u8 *d, size_t n, bool indirect, u16 q)
{
	struct vsim_seg seg[MAX_SEGS], ordered[MAX_SEGS];
	bool writable[MAX_SEGS];
	u32 nseg, nout, k = 0;
	size_t used;

	if (n < 1)
		return 0;
	nseg = d[0] % MAX_SEGS + 1;
	used = 1 + 3 * (size_t)nseg;
	if (n < used)
		return 0;
	for (u32 i = 0; i < nseg; i++) {
		u32 len = (d[2 + 3 * i] | d[3 + 3 * i] << 8) % 8192 + 1;

		writable[i] = d[1 + 3 * i] & 1;
		if (sim.brk + len + 64 > RAM_SIZE)
			return 0;
		seg[i] = (struct vsim_seg){ vsim_alloc(&sim, len, 8), len };
		if (!writable[i]) {
			u32 take = (u32)MIN((size_t)len, n - used);

			memcpy(vsim_ptr(&sim, seg[i].addr), d + used, take);
			used += take;
		}
	}
	/* The sim posts readable segments first, as the spec requires. */
	for (u32 i = 0; i < nseg; i++) {
		if (!writable[i])
			ordered[k++] = seg[i];
	}
	nout = k;
	for (u32 i = 0; i < nseg; i++) {
		if (writable[i])
			ordered[k++] = seg[i];
	}
	if (vsim_post(&sim, q, ordered, nout, nseg - nout, indirect) < 0)
		return 0;
	return used;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct virtio_blk_params p = { .capacity = DISK_SIZE, .serial = "fuzz" };
	u64 feat = VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX |
		   VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES |
		   VIRTIO_BLK_F_MQ | VIRTIO_BLK_F_RO;
	u32 id, len, nused = 0;
	size_t n;
	u8 flags;

	if (size < 1)
		return 0;
	flags = data[0];
	p.read_only = flags & 4;
	p.num_queues = flags & 8 ? 2 : 1;
	p.queue_size = 16;
	if (flags & 1)
		feat |= VIRTIO_F_RING_PACKED;
	if (virtio_blk_init(&blk, &p, &ops, NULL) || vsim_init(&sim, &blk.dev, RAM_SIZE) ||
	    vsim_start(&sim, feat, blk.dev.num_queues))
		abort();
	data++;
	size--;
	for (u16 i = 0; i < 12; i++) {
		u16 q = (u16)(i % blk.dev.num_queues);

		n = post_request(data, size, flags & 2, q);
		if (!n)
			break;
		data += n;
		size -= n;
		vsim_kick(&sim, q);
		while (vsim_used(&sim, q, &id, &len) == 1)
			nused++;
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fault: %s, sim saw %u used, %u msi\n",
			virtio_dev_fault(&blk.dev) ?: "none", nused, sim.msi_count);
	if (virtio_dev_fault(&blk.dev) && !(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		abort();
	vsim_free(&sim);
	return 0;
}

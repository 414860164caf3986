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
 * The oracles: the backend sees only sector-aligned ranges inside the disk,
 * sized like the iovecs; a fault shows as NEEDS_RESET; and, until a fault,
 * each request gets exactly one used entry, right after its kick, with a
 * status the spec allows and a used length within its writable bytes. For
 * reads and writes the status and length are those virtio 1.2 5.2.6
 * prescribes, and a model of the disk (the writes that succeeded, zeroed
 * ranges; discarded sectors become unknown) says what every read returns.
 */
#define DISK_SIZE (256 * 1024)
#define SECTOR VIRTIO_BLK_SECTOR_SIZE
#define RAM_SIZE (1 << 20)
#define MAX_SEGS 8
#define MAX_REQS 12

static u8 disk[DISK_SIZE];
static u8 model[DISK_SIZE];
static bool unknown[DISK_SIZE / SECTOR]; /* discarded: any content is right */
static struct virtio_blk blk;
static struct vsim sim;

/* A posted request as the driver built it: readable segments first. */
struct req {
	struct vsim_seg seg[MAX_SEGS];
	u32 nseg, nout, out_len, in_len;
	int id;
	bool used;
};

static struct req reqs[MAX_REQS];
static u32 nreqs;

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

/* Copies len bytes from byte off of the request's readable (or writable) side. */
static void req_copy(const struct req *r, bool writable, u32 off, void *dst, u32 len)
{
	u8 *out = dst;

	for (u32 i = writable ? r->nout : 0; i < (writable ? r->nseg : r->nout) && len; i++) {
		u32 n;

		if (off >= r->seg[i].len) {
			off -= r->seg[i].len;
			continue;
		}
		n = MIN(r->seg[i].len - off, len);
		memcpy(out, (u8 *)vsim_ptr(&sim, r->seg[i].addr) + off, n);
		out += n;
		len -= n;
		off = 0;
	}
}

static bool range_ok(u64 sector, u64 bytes)
{
	return !(bytes % SECTOR) && sector <= DISK_SIZE / SECTOR &&
	       bytes / SECTOR <= DISK_SIZE / SECTOR - sector;
}

/* IN and OUT: the status and used length virtio 1.2 5.2.6 asks for, and the data a read returns. */
static void check_rw(const struct req *r, const struct virtio_blk_req_hdr *h, u8 st, u32 len)
{
	bool out = h->type == VIRTIO_BLK_T_OUT;
	u32 bytes = out ? r->out_len - 16 : r->in_len - 1;
	bool ok = range_ok(h->sector, bytes) && !(out && blk.read_only);
	u8 *data;

	if (st != (ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR) ||
	    len != (ok && !out ? bytes + 1 : 1))
		abort();
	if (!ok || !bytes)
		return;
	data = malloc(bytes);
	req_copy(r, !out, out ? 16 : 0, data, bytes);
	for (u32 s = 0; s < bytes / SECTOR; s++) {
		u8 *m = model + (h->sector + s) * SECTOR;

		if (out) {
			memcpy(m, data + s * SECTOR, SECTOR);
			unknown[h->sector + s] = false;
		} else if (!unknown[h->sector + s] && memcmp(m, data + s * SECTOR, SECTOR)) {
			abort(); /* the read does not return what was written */
		}
	}
	free(data);
}

/*
 * Discard and write zeroes that succeeded change the model (a write zeroes
 * reads back as zeroes, unmap or not: virtio 1.2 5.2.6; discarded sectors
 * may read as anything); a failed one changed nothing.
 */
static void model_ranges(const struct req *r, u32 type, u8 st)
{
	struct virtio_blk_range rg;

	if (st != VIRTIO_BLK_S_OK)
		return;
	for (u32 off = 16; off + sizeof(rg) <= r->out_len; off += sizeof(rg)) {
		req_copy(r, false, off, &rg, sizeof(rg));
		if (!range_ok(rg.sector, (u64)rg.num_sectors * SECTOR))
			abort(); /* an OK status for a range outside the disk */
		for (u32 s = 0; s < rg.num_sectors; s++) {
			if (type == VIRTIO_BLK_T_WRITE_ZEROES)
				memset(model + (rg.sector + s) * SECTOR, 0, SECTOR);
			unknown[rg.sector + s] = type == VIRTIO_BLK_T_DISCARD;
		}
	}
}

/* One used entry: a request posted and not yet used, a status the spec knows, a sane length. */
static void check_used(u32 id, u32 len)
{
	struct virtio_blk_req_hdr h;
	struct req *r = NULL;
	u8 st;

	for (u32 i = 0; i < nreqs; i++)
		if (reqs[i].id == (int)id && !reqs[i].used)
			r = &reqs[i];
	if (!r || !r->in_len || r->out_len < 16 || len > r->in_len || !len)
		abort(); /* unknown, used twice, or a request the device should have refused */
	r->used = true;
	req_copy(r, true, r->in_len - 1, &st, 1);
	if (st != VIRTIO_BLK_S_OK && st != VIRTIO_BLK_S_IOERR && st != VIRTIO_BLK_S_UNSUPP)
		abort();
	req_copy(r, false, 0, &h, sizeof(h));
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		check_rw(r, &h, st, len);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (blk.read_only && st == VIRTIO_BLK_S_OK)
			abort();
		model_ranges(r, h.type, st);
		break;
	case VIRTIO_BLK_T_FLUSH:
	case VIRTIO_BLK_T_GET_ID:
		break;
	default:
		if (st != VIRTIO_BLK_S_UNSUPP || len != 1)
			abort();
	}
}

/* Build one request from the input; returns bytes consumed, 0 to stop. */
static size_t post_request(const u8 *d, size_t n, bool indirect, u16 q)
{
	struct vsim_seg seg[MAX_SEGS], ordered[MAX_SEGS];
	struct req *r = &reqs[nreqs];
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
	*r = (struct req){ .nseg = nseg, .nout = nout };
	for (u32 i = 0; i < nseg; i++) {
		r->seg[i] = ordered[i];
		*(i < nout ? &r->out_len : &r->in_len) += ordered[i].len;
	}
	r->id = vsim_post(&sim, q, ordered, nout, nseg - nout, indirect);
	if (r->id < 0)
		return 0;
	nreqs++;
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
	memset(disk, 0, sizeof(disk));
	memset(model, 0, sizeof(model));
	memset(unknown, 0, sizeof(unknown));
	nreqs = 0;
	p.num_queues = flags & 8 ? 2 : 1;
	p.queue_size = 16;
	if (flags & 1)
		feat |= VIRTIO_F_RING_PACKED;
	if (virtio_blk_init(&blk, &p, &ops, NULL) || vsim_init(&sim, &blk.dev, RAM_SIZE) ||
	    vsim_start(&sim, feat, blk.dev.num_queues))
		abort();
	data++;
	size--;
	for (u16 i = 0; i < MAX_REQS; i++) {
		u16 q = (u16)(i % blk.dev.num_queues);

		n = post_request(data, size, flags & 2, q);
		if (!n)
			break;
		data += n;
		size -= n;
		vsim_kick(&sim, q);
		while (vsim_used(&sim, q, &id, &len) == 1) {
			check_used(id, len);
			nused++;
		}
		/* until a fault, a kicked request is done before the kick returns */
		if (!virtio_dev_fault(&blk.dev) && !reqs[nreqs - 1].used)
			abort();
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fault: %s, sim saw %u used, %u msi\n",
			virtio_dev_fault(&blk.dev) ?: "none", nused, sim.msi_count);
	if (virtio_dev_fault(&blk.dev) && !(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		abort();
	vsim_free(&sim);
	return 0;
}

// SPDX-License-Identifier: MIT
/* virtio-blk on an in-memory disk: I/O, read-only, flush, get-id, discard, write zeroes, MQ. */
#include <stdlib.h>
#include "test.h"
#include "virtio_driver_sim.h"
#include <virtio/blk.h>

#define DISK_SIZE (1024 * 1024)
#define FEAT (VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX)

static struct virtio_blk blk;
static struct vsim sim;
static u8 disk[DISK_SIZE];
static struct {
	u32 flushes, discards, zeroes, fail_io;
	u64 last_off, last_len;
	bool last_unmap;
} be;

static int disk_rw(const struct virtio_iov *iov, u32 n, u64 off, bool write)
{
	if (be.fail_io)
		return -EIO;
	for (u32 i = 0; i < n; off += iov[i].len, i++) {
		if (off + iov[i].len > DISK_SIZE)
			return -EIO;
		if (write)
			memcpy(disk + off, iov[i].base, iov[i].len);
		else
			memcpy(iov[i].base, disk + off, iov[i].len);
	}
	return 0;
}

static int disk_read(void *ctx, u64 off, const struct virtio_iov *iov, u32 n)
{
	(void)ctx;
	return disk_rw(iov, n, off, false);
}

static int disk_write(void *ctx, u64 off, const struct virtio_iov *iov, u32 n)
{
	(void)ctx;
	return disk_rw(iov, n, off, true);
}

static int disk_flush(void *ctx)
{
	(void)ctx;
	be.flushes++;
	return 0;
}

static int disk_discard(void *ctx, u64 off, u64 len)
{
	(void)ctx;
	be.discards++;
	be.last_off = off;
	be.last_len = len;
	return 0;
}

static int disk_zeroes(void *ctx, u64 off, u64 len, bool unmap)
{
	(void)ctx;
	be.zeroes++;
	be.last_unmap = unmap;
	memset(disk + off, 0, len);
	return 0;
}

static const struct virtio_blk_ops full_ops = {
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
	.discard = disk_discard,
	.write_zeroes = disk_zeroes,
};

static const struct virtio_blk_ops rw_ops = { .read = disk_read, .write = disk_write };

static void setup(const struct virtio_blk_params *p, const struct virtio_blk_ops *ops, u64 feat)
{
	struct virtio_blk_params def = { .capacity = DISK_SIZE, .serial = "keel-disk-0" };

	memset(&be, 0, sizeof(be));
	for (u32 i = 0; i < DISK_SIZE; i++)
		disk[i] = (u8)(i * 7 + i / 512);
	CHECK_EQ(virtio_blk_init(&blk, p ? p : &def, ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &blk.dev, 8 << 20), 0);
	CHECK_EQ(vsim_start(&sim, feat, blk.dev.num_queues), 0);
}

struct req {
	u32 type;
	u64 sector;
	const void *out; /* data for OUT/DISCARD/WRITE_ZEROES */
	u32 out_len;
	u32 in_len; /* data space for IN/GET_ID */
	u32 split;  /* split data into this many descriptors */
	bool indirect;
	u16 queue;
	gpa_t in_gpa; /* result: where IN data landed */
	u32 used;     /* result: used length */
};

/* Post header / data / status and return the status byte (0xff: no completion). */
static u8 blk_req(struct req *r)
{
	struct virtio_blk_req_hdr h = { r->type, 0, r->sector };
	struct vsim_seg seg[10];
	u32 n = 0, nout, data = r->out_len ? r->out_len : r->in_len;
	u32 parts = r->split ? r->split : 1, id, chunk;
	gpa_t dgpa = 0, st;

	seg[n++] = (struct vsim_seg){ vsim_alloc_copy(&sim, &h, sizeof(h)), 16 };
	if (data) {
		dgpa = r->out_len ? vsim_alloc_copy(&sim, r->out, r->out_len) :
				    vsim_alloc(&sim, r->in_len, 8);
		chunk = (data + parts - 1) / parts;
		for (u32 off = 0; off < data; off += chunk)
			seg[n++] = (struct vsim_seg){ dgpa + off, MIN(chunk, data - off) };
	}
	nout = r->out_len || !data ? n : 1;
	st = vsim_alloc(&sim, 1, 1);
	*(u8 *)vsim_ptr(&sim, st) = 0xee;
	seg[n++] = (struct vsim_seg){ st, 1 };
	r->in_gpa = dgpa;
	if (vsim_post(&sim, r->queue, seg, nout, n - nout, r->indirect) < 0)
		return 0xfe;
	vsim_kick(&sim, r->queue);
	if (vsim_used(&sim, r->queue, &id, &r->used) != 1)
		return 0xff;
	return *(u8 *)vsim_ptr(&sim, st);
}

TEST(blk_config_and_features)
{
	struct virtio_blk_config *cfg = &blk.config;

	setup(NULL, &full_ops, FEAT);
	CHECK_EQ(cfg->capacity, DISK_SIZE / 512);
	CHECK_EQ(cfg->seg_max, VIRTIO_QUEUE_SIZE_MAX - 2);
	CHECK_EQ(cfg->blk_size, 512);
	CHECK(blk.dev.device_features & VIRTIO_BLK_F_FLUSH);
	CHECK(blk.dev.device_features & VIRTIO_BLK_F_DISCARD);
	CHECK(blk.dev.device_features & VIRTIO_BLK_F_WRITE_ZEROES);
	CHECK(!(blk.dev.device_features & VIRTIO_BLK_F_RO));
	CHECK(!(blk.dev.device_features & VIRTIO_BLK_F_MQ));
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 0x14, 4), 512);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 0x0c, 4), VIRTIO_QUEUE_SIZE_MAX - 2);
	vsim_free(&sim);
}

static void write_read(bool packed, bool indirect, u32 split)
{
	u8 pattern[2048];
	struct req w = { .type = VIRTIO_BLK_T_OUT,
			 .sector = 3,
			 .out = pattern,
			 .out_len = sizeof(pattern),
			 .split = split,
			 .indirect = indirect };
	struct req r = { .type = VIRTIO_BLK_T_IN,
			 .sector = 3,
			 .in_len = sizeof(pattern),
			 .split = split,
			 .indirect = indirect };

	setup(NULL, &full_ops, FEAT | (packed ? VIRTIO_F_RING_PACKED : 0));
	for (u32 i = 0; i < sizeof(pattern); i++)
		pattern[i] = (u8)(i ^ 0xa5);
	CHECK_EQ(blk_req(&w), VIRTIO_BLK_S_OK);
	CHECK_EQ(w.used, 1);
	CHECK(!memcmp(disk + 3 * 512, pattern, sizeof(pattern)));
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_OK);
	CHECK_EQ(r.used, sizeof(pattern) + 1);
	CHECK(!memcmp(vsim_ptr(&sim, r.in_gpa), pattern, sizeof(pattern)));
	CHECK(!virtio_dev_fault(&blk.dev));
	vsim_free(&sim);
}

TEST(blk_split_write_read)
{
	write_read(false, false, 1);
}

TEST(blk_split_indirect_multi_segment)
{
	write_read(false, true, 5);
}

TEST(blk_packed_write_read)
{
	write_read(true, false, 3);
}

TEST(blk_packed_indirect)
{
	write_read(true, true, 4);
}

/* Header and data in one readable descriptor, data and status in one writable one. */
TEST(blk_merged_descriptors)
{
	u8 buf[16 + 512];
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_OUT, 0, 7 };
	struct vsim_seg seg[2];
	u32 id, len;

	setup(NULL, &full_ops, FEAT);
	memcpy(buf, &h, 16);
	memset(buf + 16, 0x3c, 512);
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, buf, sizeof(buf)), sizeof(buf) };
	seg[1] = (struct vsim_seg){ vsim_alloc(&sim, 1, 1), 1 };
	vsim_post(&sim, 0, seg, 1, 1, false);
	vsim_kick(&sim, 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(*(u8 *)vsim_ptr(&sim, seg[1].addr), VIRTIO_BLK_S_OK);
	CHECK_EQ(disk[7 * 512 + 100], 0x3c);
	h.type = VIRTIO_BLK_T_IN;
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, &h, 16), 16 };
	seg[1] = (struct vsim_seg){ vsim_alloc(&sim, 513, 1), 513 };
	vsim_post(&sim, 0, seg, 1, 1, false);
	vsim_kick(&sim, 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, 513);
	CHECK_EQ(((u8 *)vsim_ptr(&sim, seg[1].addr))[511], 0x3c);
	CHECK_EQ(((u8 *)vsim_ptr(&sim, seg[1].addr))[512], VIRTIO_BLK_S_OK);
	vsim_free(&sim);
}

TEST(blk_range_checks)
{
	struct req r = { .type = VIRTIO_BLK_T_IN, .in_len = 1024 };

	setup(NULL, &full_ops, FEAT);
	r.sector = DISK_SIZE / 512 - 2;
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_OK);
	r.sector = DISK_SIZE / 512 - 1;
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_IOERR);
	r.sector = ~0ULL / 256; /* sector * 512 overflows */
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_IOERR);
	r.sector = 0;
	r.in_len = 700; /* not whole sectors */
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_IOERR);
	r.in_len = 0;
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_OK);
	be.fail_io = 1;
	r.in_len = 512;
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_IOERR);
	CHECK(!virtio_dev_fault(&blk.dev));
	vsim_free(&sim);
}

TEST(blk_read_only_refuses_writes)
{
	struct virtio_blk_params p = { .capacity = DISK_SIZE, .read_only = true };
	u8 data[512], before[512];
	struct virtio_blk_range rg = { 0, 1, 0 };
	struct req w = { .type = VIRTIO_BLK_T_OUT, .sector = 0, .out = data, .out_len = 512 };
	struct req d = { .type = VIRTIO_BLK_T_DISCARD, .out = &rg, .out_len = sizeof(rg) };
	struct req r = { .type = VIRTIO_BLK_T_IN, .in_len = 512 };

	setup(&p, &full_ops, FEAT | VIRTIO_BLK_F_RO);
	CHECK(sim.features & VIRTIO_BLK_F_RO);
	CHECK(!(blk.dev.device_features & VIRTIO_BLK_F_DISCARD));
	memset(data, 0xff, sizeof(data));
	memcpy(before, disk, 512);
	CHECK_EQ(blk_req(&w), VIRTIO_BLK_S_IOERR);
	CHECK(!memcmp(disk, before, 512));
	CHECK_EQ(blk_req(&d), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(be.discards, 0);
	d.type = VIRTIO_BLK_T_WRITE_ZEROES;
	CHECK_EQ(blk_req(&d), VIRTIO_BLK_S_IOERR);
	CHECK(!memcmp(disk, before, 512));
	CHECK_EQ(blk_req(&r), VIRTIO_BLK_S_OK);
	vsim_free(&sim);
}

TEST(blk_flush)
{
	struct req f = { .type = VIRTIO_BLK_T_FLUSH };

	setup(NULL, &full_ops, FEAT | VIRTIO_BLK_F_FLUSH);
	CHECK_EQ(blk_req(&f), VIRTIO_BLK_S_OK);
	CHECK_EQ(be.flushes, 1);
	vsim_free(&sim);
	setup(NULL, &rw_ops, FEAT);
	CHECK(!(blk.dev.device_features & VIRTIO_BLK_F_FLUSH));
	CHECK_EQ(blk_req(&f), VIRTIO_BLK_S_UNSUPP);
	vsim_free(&sim);
}

TEST(blk_get_id)
{
	struct virtio_blk_params p = { .capacity = DISK_SIZE, .serial = "0123456789abcdefghijKLM" };
	struct req g = { .type = VIRTIO_BLK_T_GET_ID, .in_len = 20 };

	setup(NULL, &full_ops, FEAT);
	CHECK_EQ(blk_req(&g), VIRTIO_BLK_S_OK);
	CHECK_EQ(g.used, 21);
	CHECK(!memcmp(vsim_ptr(&sim, g.in_gpa), "keel-disk-0\0\0\0\0\0\0\0\0", 20));
	vsim_free(&sim);
	setup(&p, &full_ops, FEAT); /* 20 bytes exactly, no NUL */
	CHECK_EQ(blk_req(&g), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(vsim_ptr(&sim, g.in_gpa), "0123456789abcdefghij", 20));
	vsim_free(&sim);
}

TEST(blk_discard)
{
	struct virtio_blk_range rg[33];
	struct req d = { .type = VIRTIO_BLK_T_DISCARD, .out = rg };

	setup(NULL, &full_ops, FEAT | VIRTIO_BLK_F_DISCARD);
	memset(rg, 0, sizeof(rg));
	rg[0] = (struct virtio_blk_range){ 8, 16, 0 };
	rg[1] = (struct virtio_blk_range){ 100, 4, 0 };
	d.out_len = 2 * sizeof(rg[0]);
	CHECK_EQ(blk_req(&d), VIRTIO_BLK_S_OK);
	CHECK_EQ(be.discards, 2);
	CHECK_EQ(be.last_off, 100 * 512);
	CHECK_EQ(be.last_len, 4 * 512);
	rg[1].flags = VIRTIO_BLK_WZ_F_UNMAP; /* unmap on discard: UNSUPP */
	CHECK_EQ(blk_req(&d), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(be.discards, 2); /* checked before anything is applied */
	rg[1] = (struct virtio_blk_range){ DISK_SIZE / 512 - 1, 2, 0 };
	CHECK_EQ(blk_req(&d), VIRTIO_BLK_S_IOERR);
	d.out_len = 33 * sizeof(rg[0]);
	rg[1] = rg[0];
	CHECK_EQ(blk_req(&d), VIRTIO_BLK_S_IOERR);
	d.out_len = 20;
	CHECK_EQ(blk_req(&d), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(be.discards, 2);
	vsim_free(&sim);
}

TEST(blk_write_zeroes)
{
	struct virtio_blk_range rg = { 4, 2, VIRTIO_BLK_WZ_F_UNMAP };
	struct req z = { .type = VIRTIO_BLK_T_WRITE_ZEROES, .out = &rg, .out_len = sizeof(rg) };
	static const u8 zero[1024];

	setup(NULL, &full_ops, FEAT | VIRTIO_BLK_F_WRITE_ZEROES);
	CHECK_EQ(blk_req(&z), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(disk + 4 * 512, zero, 1024));
	CHECK(disk[6 * 512 + 1] != 0 || disk[6 * 512 + 2] != 0);
	CHECK(be.last_unmap);
	rg.flags = 2; /* unknown flag */
	CHECK_EQ(blk_req(&z), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(be.zeroes, 1);
	vsim_free(&sim);
}

TEST(blk_unknown_request)
{
	struct req u = { .type = 99 };

	setup(NULL, &full_ops, FEAT);
	CHECK_EQ(blk_req(&u), VIRTIO_BLK_S_UNSUPP);
	u.type = VIRTIO_BLK_T_DISCARD;
	vsim_free(&sim);
	setup(NULL, &rw_ops, FEAT);
	CHECK_EQ(blk_req(&u), VIRTIO_BLK_S_UNSUPP);
	vsim_free(&sim);
}

TEST(blk_multiqueue)
{
	struct virtio_blk_params p = { .capacity = DISK_SIZE, .num_queues = 4 };
	u8 data[512];
	struct req w = { .type = VIRTIO_BLK_T_OUT, .sector = 1, .out = data, .out_len = 512 };

	setup(&p, &full_ops, FEAT | VIRTIO_BLK_F_MQ);
	CHECK(sim.features & VIRTIO_BLK_F_MQ);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 0x22, 2), 4);
	memset(data, 0x77, sizeof(data));
	for (u16 q = 0; q < 4; q++) {
		w.queue = q;
		w.sector = q + 1;
		CHECK_EQ(blk_req(&w), VIRTIO_BLK_S_OK);
		CHECK_EQ(disk[(q + 1) * 512], 0x77);
		CHECK_EQ(sim.msi_vec[q + 1], 1);
	}
	vsim_free(&sim);
}

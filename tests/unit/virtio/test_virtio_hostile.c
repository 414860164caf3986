// SPDX-License-Identifier: MIT
/* A hostile driver: each broken ring or request ends in NEEDS_RESET with a reason, no crash. */
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "virtio_driver_sim.h"
#include <virtio/rng.h>
#include <virtio/blk.h>
#include <virtio/net.h>
#include <virtio/console.h>

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)
#define RAM (1u << 20)
#define FEAT (VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC)
#define AVAIL1 VIRTQ_DESC_F_AVAIL /* available on the first lap */

static struct virtio_rng rng;
static struct virtio_blk blk;
static struct virtio_net net;
static struct virtio_console con;
static struct vsim sim;
static u64 feat;
static u32 backend_calls;

static int rng_fill(void *ctx, void *buf, u32 len)
{
	(void)ctx;
	backend_calls++;
	memset(buf, 1, len);
	return (int)len;
}

static const struct virtio_rng_ops rng_ops = { .fill = rng_fill };

static int blk_io(void *ctx, u64 off, const struct virtio_iov *iov, u32 n)
{
	(void)ctx;
	(void)off;
	(void)iov;
	(void)n;
	backend_calls++;
	return 0;
}

static const struct virtio_blk_ops blk_ops = { .read = blk_io, .write = blk_io };

static int net_tx(void *ctx, u16 pair, const struct virtio_net_hdr *hdr,
		  const struct virtio_iov *iov, u32 n)
{
	(void)ctx;
	(void)pair;
	(void)hdr;
	(void)iov;
	(void)n;
	backend_calls++;
	return 0;
}

static const struct virtio_net_ops net_ops = { .transmit = net_tx };

static void con_out(void *ctx, const void *buf, u32 len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	backend_calls++;
}

static const struct virtio_console_ops con_ops = { .output = con_out };

static void rng_setup(u64 f)
{
	feat = f;
	backend_calls = 0;
	CHECK_EQ(virtio_rng_init(&rng, 8, &rng_ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &rng.dev, RAM), 0);
	CHECK_EQ(vsim_start(&sim, f, 1), 0);
}

static u32 rng_request(void)
{
	struct vsim_seg seg = { vsim_alloc(&sim, 16, 8), 16 };
	u32 id, len = 0;

	vsim_post(&sim, 0, &seg, 0, 1, false);
	vsim_kick(&sim, 0);
	return vsim_used(&sim, 0, &id, &len) == 1 ? len : 0;
}

/*
 * NEEDS_RESET with the expected reason, one config interrupt, nothing
 * used; then the device must come back after a reset.
 */
static void expect_fault(const char *needle, u16 q, u16 nq)
{
	const char *why = virtio_dev_fault(sim.dev);
	u32 id, len;

	if (getenv("VSIM_VERBOSE"))
		fprintf(stderr, "  NEEDS_RESET: %s\n", why ? why : "(none)");
	CHECK(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	CHECK(why && strstr(why, needle));
	if (!why || !strstr(why, needle))
		fprintf(stderr, "  fault was \"%s\", wanted \"%s\"\n", why ? why : "(none)",
			needle);
	CHECK_EQ(sim.faults, 1);
	CHECK_EQ(sim.msi_vec[0], 1);
	CHECK_EQ(vsim_used(&sim, q, &id, &len), 0);
	vsim_kick(&sim, q); /* ignored while broken */
	CHECK_EQ(sim.faults, 1);
	CHECK_EQ(vsim_start(&sim, feat, nq), 0);
	CHECK(!virtio_dev_fault(sim.dev));
	CHECK(!(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
	sim.faults = 0;
	memset(sim.msi_vec, 0, sizeof(sim.msi_vec));
}

/* Up to FEATURES_OK by hand, with the config change vector mapped. */
static void negotiate(u64 f)
{
	CHECK(vsim_negotiate(&sim, f));
	vsim_common_write(&sim, COMMON(config_msix_vector), 2, 0);
}

static void rng_expect_fault(const char *needle)
{
	expect_fault(needle, 0, 1);
	CHECK_EQ(rng_request(), 16);
	vsim_free(&sim);
}

static void sdesc(u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	struct virtq_desc *d = vsim_desc(&sim, 0, i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static gpa_t buf(u32 len)
{
	return vsim_alloc(&sim, len, 16);
}

TEST(hostile_split_loop)
{
	rng_setup(FEAT);
	sdesc(0, buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	sdesc(1, buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("loops");
}

TEST(hostile_split_next_out_of_range)
{
	rng_setup(FEAT);
	sdesc(0, buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 200);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("links to 200");
}

TEST(hostile_split_head_out_of_range)
{
	rng_setup(FEAT);
	vsim_avail_push(&sim, 0, 300);
	vsim_kick(&sim, 0);
	rng_expect_fault("names descriptor 300");
}

TEST(hostile_buffer_outside_ram)
{
	rng_setup(FEAT);
	sdesc(0, RAM - 4, 16, VIRTQ_DESC_F_WRITE, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	CHECK_EQ(backend_calls, 0);
	rng_expect_fault("outside guest RAM");
	rng_setup(FEAT);
	sdesc(0, ~0ULL - 3, 16, VIRTQ_DESC_F_WRITE, 0); /* wraps past 2^64 */
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("outside guest RAM");
}

TEST(hostile_zero_length)
{
	rng_setup(FEAT);
	sdesc(0, buf(8), 0, VIRTQ_DESC_F_WRITE, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("zero-length");
}

TEST(hostile_wrong_direction)
{
	rng_setup(FEAT); /* entropy buffers must be device-writable */
	sdesc(0, buf(8), 8, 0, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("device-readable");
	rng_setup(FEAT); /* readable after writable */
	sdesc(0, buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	sdesc(1, buf(8), 8, 0, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("device-readable descriptor after a device-writable");
}

TEST(hostile_avail_idx_jump)
{
	struct virtq_avail *avail;

	rng_setup(FEAT);
	avail = vsim_ptr(&sim, sim.q[0].driver);
	avail->idx = 9; /* queue size 8 */
	vsim_kick(&sim, 0);
	rng_expect_fault("entries past");
}

TEST(hostile_indirect_cases)
{
	struct virtq_desc *t;
	gpa_t table;

	rng_setup(FEAT); /* nested indirect */
	table = buf(32);
	t = vsim_ptr(&sim, table);
	t[0] = (struct virtq_desc){ buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ buf(16), 16, VIRTQ_DESC_F_INDIRECT, 0 };
	sdesc(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("inside an indirect table");

	rng_setup(FEAT); /* indirect table longer than the queue */
	table = buf(16 * 9);
	t = vsim_ptr(&sim, table);
	for (int i = 0; i < 9; i++)
		t[i] = (struct virtq_desc){ buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
					    (u16)(i + 1) };
	sdesc(0, table, 16 * 9, VIRTQ_DESC_F_INDIRECT, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("exceeds the queue size");

	rng_setup(FEAT); /* loop inside the table */
	table = buf(32);
	t = vsim_ptr(&sim, table);
	t[0] = (struct virtq_desc){ buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ buf(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0 };
	sdesc(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("loops");

	rng_setup(FEAT); /* length not whole descriptors */
	sdesc(0, buf(32), 24, VIRTQ_DESC_F_INDIRECT, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("not a multiple of 16");

	rng_setup(FEAT); /* INDIRECT together with NEXT */
	sdesc(0, buf(32), 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("also has NEXT");

	rng_setup(VIRTIO_F_VERSION_1); /* not negotiated */
	sdesc(0, buf(32), 32, VIRTQ_DESC_F_INDIRECT, 0);
	vsim_avail_push(&sim, 0, 0);
	vsim_kick(&sim, 0);
	rng_expect_fault("without VIRTIO_F_INDIRECT_DESC");
}

/* A mapper that claims RAM above 4 GiB but hands out a one-byte trap. */
static u8 trap_byte;

static void *huge_map(void *ctx, gpa_t gpa, u64 len)
{
	struct vsim *s = ctx;

	if (gpa >= 1ULL << 32)
		return &trap_byte;
	return gpa + len <= s->ram_size ? s->ram + gpa : NULL;
}

TEST(hostile_length_overflow)
{
	struct virtio_blk_params p = { .capacity = 1 << 20 };
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_OUT, 0, 0 };
	struct vsim_seg seg[4];

	feat = FEAT;
	backend_calls = 0;
	CHECK_EQ(virtio_blk_init(&blk, &p, &blk_ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &blk.dev, RAM), 0);
	CHECK_EQ(vsim_start(&sim, feat, 1), 0);
	sim.mem.map = huge_map;
	sim.mem.ctx = &sim;
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, &h, 16), 16 };
	seg[1] = (struct vsim_seg){ 1ULL << 32, 0x80000000u };
	seg[2] = (struct vsim_seg){ 1ULL << 33, 0x80000000u };
	seg[3] = (struct vsim_seg){ vsim_alloc(&sim, 1, 1), 1 };
	vsim_post(&sim, 0, seg, 3, 1, false);
	vsim_kick(&sim, 0);
	CHECK_EQ(backend_calls, 0);
	sim.mem.map = NULL;
	expect_fault("overflows", 0, 1);
	vsim_free(&sim);
}

TEST(hostile_split_queue_size_not_power_of_two)
{
	rng_setup(FEAT);
	negotiate(FEAT);
	CHECK_EQ(vsim_setup_queue(&sim, 0, 6), 0);
	vsim_common_write(&sim, COMMON(device_status), 1, 0xf);
	rng_expect_fault("not a power of 2");
	/* Packed rings may have any size. */
	rng_setup(FEAT | VIRTIO_F_RING_PACKED);
	negotiate(feat);
	CHECK_EQ(vsim_setup_queue(&sim, 0, 6), 0);
	vsim_common_write(&sim, COMMON(device_status), 1, 0xf);
	CHECK(!virtio_dev_fault(sim.dev));
	for (int i = 0; i < 20; i++)
		CHECK_EQ(rng_request(), 16);
	vsim_free(&sim);
}

TEST(hostile_queue_size_out_of_range)
{
	rng_setup(FEAT);
	negotiate(FEAT);
	CHECK_EQ(vsim_setup_queue(&sim, 0, 0), 0);
	vsim_common_write(&sim, COMMON(queue_select), 2, 0);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_size), 2), 8);
	/* queue_enable is set, so rewrite through a fresh setup with size 0 */
	vsim_common_write(&sim, COMMON(device_status), 1, 0);
	negotiate(FEAT);
	vsim_common_write(&sim, COMMON(queue_size), 2, 16);
	vsim_common_write(&sim, COMMON(queue_enable), 2, 1);
	vsim_common_write(&sim, COMMON(device_status), 1, 0xf);
	rng_expect_fault("not in 1..8");
}

TEST(hostile_rings_outside_ram_or_misaligned)
{
	rng_setup(FEAT);
	negotiate(FEAT);
	CHECK_EQ(vsim_setup_queue(&sim, 0, 0), 0);
	vsim_common_write(&sim, COMMON(device_status), 1, 0);
	negotiate(FEAT);
	vsim_common_write(&sim, COMMON(queue_desc), 8, RAM - 64);
	vsim_common_write(&sim, COMMON(queue_driver), 8, 0x20000);
	vsim_common_write(&sim, COMMON(queue_device), 8, 0x21000);
	vsim_common_write(&sim, COMMON(queue_enable), 2, 1);
	vsim_common_write(&sim, COMMON(device_status), 1, 0xf);
	rng_expect_fault("descriptor table");
	rng_setup(FEAT);
	vsim_common_write(&sim, COMMON(device_status), 1, 0);
	negotiate(FEAT);
	vsim_common_write(&sim, COMMON(queue_desc), 8, 0x20008);
	vsim_common_write(&sim, COMMON(queue_driver), 8, 0x21000);
	vsim_common_write(&sim, COMMON(queue_device), 8, 0x22000);
	vsim_common_write(&sim, COMMON(queue_enable), 2, 1);
	vsim_common_write(&sim, COMMON(device_status), 1, 0xf);
	rng_expect_fault("aligned");
}

static void pdesc(u16 i, u64 addr, u32 len, u16 id, u16 flags)
{
	struct pvirtq_desc *d = vsim_pdesc(&sim, 0, i);

	d->addr = addr;
	d->len = len;
	d->id = id;
	d->flags = flags;
}

TEST(hostile_packed_chains)
{
	const u64 pf = FEAT | VIRTIO_F_RING_PACKED;
	struct pvirtq_desc *t;
	gpa_t table;

	rng_setup(pf); /* a chain that runs into a descriptor not made available */
	pdesc(0, buf(8), 8, 0, AVAIL1 | VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
	vsim_kick(&sim, 0);
	rng_expect_fault("not available");

	rng_setup(pf); /* every slot chained: longer than the ring */
	for (u16 i = 0; i < 8; i++)
		pdesc(i, buf(8), 8, 0, AVAIL1 | VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
	vsim_kick(&sim, 0);
	rng_expect_fault("slot 0");

	rng_setup(pf); /* indirect in the middle of a chain */
	pdesc(1, buf(32), 32, 0, AVAIL1 | VIRTQ_DESC_F_INDIRECT);
	pdesc(0, buf(8), 8, 0, AVAIL1 | VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
	vsim_kick(&sim, 0);
	rng_expect_fault("chained with NEXT");

	rng_setup(pf); /* indirect inside indirect */
	table = buf(32);
	t = vsim_ptr(&sim, table);
	t[0] = (struct pvirtq_desc){ buf(8), 8, 0, VIRTQ_DESC_F_WRITE };
	t[1] = (struct pvirtq_desc){ buf(16), 16, 0, VIRTQ_DESC_F_INDIRECT };
	pdesc(0, table, 32, 0, AVAIL1 | VIRTQ_DESC_F_INDIRECT);
	vsim_kick(&sim, 0);
	rng_expect_fault("inside an indirect table");

	rng_setup(pf); /* outside RAM, then zero length */
	pdesc(0, RAM, 8, 0, AVAIL1 | VIRTQ_DESC_F_WRITE);
	vsim_kick(&sim, 0);
	rng_expect_fault("outside guest RAM");
	rng_setup(pf);
	pdesc(0, buf(8), 0, 0, AVAIL1 | VIRTQ_DESC_F_WRITE);
	vsim_kick(&sim, 0);
	rng_expect_fault("zero-length");
}

static void blk_setup(void)
{
	struct virtio_blk_params p = { .capacity = 1 << 20 };

	feat = FEAT;
	backend_calls = 0;
	CHECK_EQ(virtio_blk_init(&blk, &p, &blk_ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &blk.dev, RAM), 0);
	CHECK_EQ(vsim_start(&sim, feat, 1), 0);
}

TEST(hostile_blk_framing)
{
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_IN, 0, 0 };
	struct vsim_seg seg[2];

	blk_setup(); /* header in a device-writable descriptor */
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, &h, 16), 16 };
	seg[1] = (struct vsim_seg){ buf(513), 513 };
	vsim_post(&sim, 0, seg, 0, 2, false);
	vsim_kick(&sim, 0);
	CHECK_EQ(backend_calls, 0);
	expect_fault("header is not device-readable", 0, 1);
	vsim_free(&sim);

	blk_setup(); /* no writable status byte */
	vsim_post(&sim, 0, seg, 2, 0, false);
	vsim_kick(&sim, 0);
	CHECK_EQ(backend_calls, 0);
	expect_fault("no device-writable status", 0, 1);
	vsim_free(&sim);

	blk_setup(); /* short header */
	seg[0].len = 8;
	seg[1].len = 1;
	vsim_post(&sim, 0, seg, 1, 1, false);
	vsim_kick(&sim, 0);
	expect_fault("8 readable bytes", 0, 1);
	vsim_free(&sim);
}

TEST(hostile_net_and_console_directions)
{
	struct virtio_net_params np = { .queue_size = 8 };
	struct virtio_console_params cp = { .queue_size = 8 };
	struct vsim_seg seg = { 0, 64 };
	u8 frame[32] = { 0 };

	feat = FEAT | VIRTIO_NET_F_MRG_RXBUF;
	CHECK_EQ(virtio_net_init(&net, &np, &net_ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &net.dev, RAM), 0);
	CHECK_EQ(vsim_start(&sim, feat, 3), 0);
	seg.addr = buf(64);
	vsim_post(&sim, 1, &seg, 0, 1, false); /* writable tx buffer */
	vsim_kick(&sim, 1);
	expect_fault("transmit buffer has device-writable", 1, 3);
	vsim_post(&sim, 0, &seg, 1, 0, false); /* readable rx buffer */
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, sizeof(frame)), -EIO);
	expect_fault("receive buffer has device-readable", 0, 3);
	seg.len = 8; /* rx buffer below the header size */
	vsim_post(&sim, 0, &seg, 0, 1, false);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, sizeof(frame)), -EIO);
	expect_fault("smaller than virtio_net_hdr", 0, 3);
	vsim_post(&sim, 1, &seg, 1, 0, false); /* tx shorter than the header */
	vsim_kick(&sim, 1);
	expect_fault("shorter than virtio_net_hdr", 1, 3);
	vsim_free(&sim);

	feat = FEAT;
	CHECK_EQ(virtio_console_init(&con, &cp, &con_ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &con.dev, RAM), 0);
	CHECK_EQ(vsim_start(&sim, feat, 2), 0);
	seg = (struct vsim_seg){ buf(16), 16 };
	vsim_post(&sim, 1, &seg, 0, 1, false);
	vsim_kick(&sim, 1);
	expect_fault("console transmit buffer", 1, 2);
	vsim_post(&sim, 0, &seg, 1, 0, false);
	CHECK_EQ(virtio_console_input(&con, "x", 1), 0);
	expect_fault("console receive buffer", 0, 2);
	vsim_free(&sim);
}

/* Whatever the driver pokes into config space or the BARs, nothing breaks. */
TEST(hostile_register_storm)
{
	u32 seed = 12345, v;
	u64 w;

	rng_setup(FEAT);
	for (int i = 0; i < 200000; i++) {
		u32 r1, r2;

		seed = seed * 1103515245 + 12345;
		r1 = seed >> 8;
		seed = seed * 1103515245 + 12345;
		r2 = seed;
		switch (r1 % 5) {
		case 0:
			virtio_pci_cfg_write(&sim.vp, r1 % 260, 1u << (r2 % 3), r2);
			break;
		case 1:
			virtio_pci_cfg_read(&sim.vp, r2 % 260, 1u << (r1 % 3), &v);
			break;
		case 2:
			virtio_pci_bar_write(&sim.vp, r1 % 4, r2 % 0x4100, 1u << (r1 % 4),
					     (u64)r2 << 13 | r1);
			break;
		default:
			virtio_pci_bar_read(&sim.vp, r2 % 4, r1 % 0x4100, 1u << (r2 % 4), &w);
			break;
		}
	}
	sim.faults = 0;
	memset(sim.msi_vec, 0, sizeof(sim.msi_vec));
	virtio_pci_reset(&sim.vp);
	CHECK_EQ(vsim_start(&sim, FEAT, 1), 0);
	CHECK_EQ(rng_request(), 16);
	vsim_free(&sim);
}

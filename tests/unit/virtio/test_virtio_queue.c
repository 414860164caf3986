// SPDX-License-Identifier: MIT
/* Virtqueue tests over an echo device: split and packed rings, indirect, wrap, events, batching. */
#include <stdlib.h>
#include "test.h"
#include "virtio_driver_sim.h"

#define ECHO_ID 0x1f
#define FEAT_BASE (VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC)

/* Copies its readable bytes into its writable ones; or parks chains in hold mode. */
struct echo {
	struct virtio_dev dev;
	struct vq_chain chain;
	u32 calls;
	u16 nout, nin;
	u32 out_len, in_len;
	bool hold;
	u32 nheld;
	struct vq_chain held[4];
};

static struct echo echo;
static struct vsim sim;

static int echo_handle(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct echo *e = container_of(dev, struct echo, dev);
	u8 buf[4096];
	u32 n = MIN(MIN(c->out_len, c->in_len), (u32)sizeof(buf));

	(void)vq;
	e->calls++;
	e->nout = c->nout;
	e->nin = c->nin;
	e->out_len = c->out_len;
	e->in_len = c->in_len;
	vq_chain_read(c, 0, buf, n);
	return (int)vq_chain_write(c, 0, buf, n);
}

static void echo_notify(struct virtio_dev *dev, u16 q)
{
	struct echo *e = container_of(dev, struct echo, dev);
	struct virtqueue *vq = &dev->vqs[q];

	if (!e->hold) {
		virtio_dev_drain(dev, vq, &e->chain, echo_handle);
		return;
	}
	while (e->nheld < ARRAY_SIZE(e->held) && vq_pop(vq, &e->held[e->nheld]) > 0)
		e->nheld++;
}

static const struct virtio_dev_ops echo_ops = { .queue_notify = echo_notify };

static void setup(u64 features, u16 qsize)
{
	memset(&echo, 0, sizeof(echo));
	CHECK_EQ(virtio_dev_init(&echo.dev, ECHO_ID, 0, 2, qsize, NULL, 0, &echo_ops), 0);
	CHECK_EQ(vsim_init(&sim, &echo.dev, 1 << 20), 0);
	CHECK_EQ(vsim_start(&sim, features, 2), 0);
}

static u64 feats(bool packed)
{
	return FEAT_BASE | (packed ? VIRTIO_F_RING_PACKED : 0);
}

/* Post "out" bytes and an in buffer of in_len; kick; return the buffer id. */
static int post_echo(u16 q, const char *out, u32 in_len, gpa_t *in)
{
	struct vsim_seg seg[2];

	seg[0].addr = vsim_alloc_copy(&sim, out, (u32)strlen(out));
	seg[0].len = (u32)strlen(out);
	seg[1].addr = *in = vsim_alloc(&sim, in_len, 8);
	seg[1].len = in_len;
	return vsim_post(&sim, q, seg, 1, 1, false);
}

static void basic(bool packed)
{
	u32 id, len;
	gpa_t in;
	int posted;

	setup(feats(packed), 16);
	posted = post_echo(0, "hello, device", 32, &in);
	CHECK(posted >= 0);
	vsim_kick(&sim, 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(id, posted);
	CHECK_EQ(len, 13);
	CHECK(!memcmp(vsim_ptr(&sim, in), "hello, device", 13));
	CHECK_EQ(sim.msi_vec[1], 1); /* queue 0 uses vector 1 */
	CHECK_EQ(sim.msi_bad, 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 0);
	CHECK(!virtio_dev_fault(&echo.dev));
	vsim_free(&sim);
}

TEST(split_roundtrip)
{
	basic(false);
}

TEST(packed_roundtrip)
{
	basic(true);
}

/* Three readable and two writable segments, direct or through a table. */
static void multi_segment(bool packed, bool indirect)
{
	struct vsim_seg seg[5];
	u32 id, len;
	u8 *w0, *w1;

	setup(feats(packed), 16);
	seg[0].addr = vsim_alloc_copy(&sim, "abc", 3);
	seg[0].len = 3;
	seg[1].addr = vsim_alloc_copy(&sim, "defg", 4);
	seg[1].len = 4;
	seg[2].addr = vsim_alloc_copy(&sim, "hi", 2);
	seg[2].len = 2;
	seg[3].addr = vsim_alloc(&sim, 5, 1);
	seg[3].len = 5;
	seg[4].addr = vsim_alloc(&sim, 8, 1);
	seg[4].len = 8;
	CHECK(vsim_post(&sim, 1, seg, 3, 2, indirect) >= 0);
	vsim_kick(&sim, 1);
	CHECK_EQ(vsim_used(&sim, 1, &id, &len), 1);
	CHECK_EQ(echo.nout, 3);
	CHECK_EQ(echo.nin, 2);
	CHECK_EQ(echo.out_len, 9);
	CHECK_EQ(echo.in_len, 13);
	CHECK_EQ(len, 9);
	w0 = vsim_ptr(&sim, seg[3].addr);
	w1 = vsim_ptr(&sim, seg[4].addr);
	CHECK(!memcmp(w0, "abcde", 5));
	CHECK(!memcmp(w1, "fghi", 4));
	CHECK_EQ(sim.msi_vec[2], 1);
	vsim_free(&sim);
}

TEST(split_multi_segment)
{
	multi_segment(false, false);
}

TEST(split_indirect)
{
	multi_segment(false, true);
}

TEST(packed_multi_segment)
{
	multi_segment(true, false);
}

TEST(packed_indirect)
{
	multi_segment(true, true);
}

/* Many times round a small ring: avail/used indices and wrap counters. */
static void wrap(bool packed)
{
	char msg[16];
	u32 id, len, ok = 0;
	gpa_t in;

	setup(feats(packed), 4);
	for (int i = 0; i < 50; i++) {
		snprintf(msg, sizeof(msg), "msg %d", i);
		if (post_echo(0, msg, 16, &in) < 0)
			break;
		vsim_kick(&sim, 0);
		if (vsim_used(&sim, 0, &id, &len) == 1 && len == strlen(msg) &&
		    !memcmp(vsim_ptr(&sim, in), msg, len))
			ok++;
	}
	CHECK_EQ(ok, 50);
	CHECK_EQ(sim.msi_vec[1], 50);
	CHECK(!virtio_dev_fault(&echo.dev));
	vsim_free(&sim);
}

TEST(split_wraparound)
{
	wrap(false);
}

TEST(packed_wraparound)
{
	wrap(true);
}

/* Several buffers, one kick, one interrupt. */
static void batch(bool packed)
{
	u32 id, len, n = 0;
	gpa_t in;

	setup(feats(packed), 16);
	for (int i = 0; i < 5; i++)
		CHECK(post_echo(0, "x", 4, &in) >= 0);
	vsim_kick(&sim, 0);
	while (vsim_used(&sim, 0, &id, &len) == 1)
		n++;
	CHECK_EQ(n, 5);
	CHECK_EQ(echo.calls, 5);
	CHECK_EQ(sim.msi_vec[1], 1);
	vsim_free(&sim);
}

TEST(split_batch_one_interrupt)
{
	batch(false);
}

TEST(packed_batch_one_interrupt)
{
	batch(true);
}

/* Completion in another order than submission; packed skips by chain length. */
static void out_of_order(bool packed)
{
	struct vsim_seg seg[3];
	struct virtqueue *vq = &echo.dev.vqs[0];
	u32 id, len;
	int a, b, c;

	setup(feats(packed), 8);
	echo.hold = true;
	for (int i = 0; i < 3; i++) {
		seg[i].addr = vsim_alloc(&sim, 8, 8);
		seg[i].len = 8;
	}
	a = vsim_post(&sim, 0, seg, 0, 1, false);
	b = vsim_post(&sim, 0, seg, 1, 2, false);
	c = vsim_post(&sim, 0, seg, 0, 1, false);
	vsim_kick(&sim, 0);
	CHECK_EQ(echo.nheld, 3);
	CHECK_EQ(vq_push(vq, &echo.held[2], 1), 0);
	CHECK_EQ(vq_push(vq, &echo.held[0], 2), 0);
	CHECK_EQ(vq_push(vq, &echo.held[1], 3), 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(id, c);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(id, a);
	CHECK_EQ(len, 2);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(id, b);
	CHECK_EQ(len, 3);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 0);
	vsim_free(&sim);
}

TEST(split_out_of_order)
{
	out_of_order(false);
}

TEST(packed_out_of_order)
{
	out_of_order(true);
}

/* vq_fill queues, vq_flush publishes; vq_rewind hands buffers back. */
static void fill_flush_rewind(bool packed)
{
	struct vsim_seg seg = { 0, 8 };
	struct virtqueue *vq = &echo.dev.vqs[0];
	struct vq_cursor start;
	u32 id, len;

	setup(feats(packed), 8);
	echo.hold = true;
	seg.addr = vsim_alloc(&sim, 8, 8);
	CHECK(vsim_post(&sim, 0, &seg, 0, 1, false) >= 0);
	CHECK(vsim_post(&sim, 0, &seg, 0, 1, false) >= 0);
	start = vq_cursor(vq);
	CHECK_EQ(vq_pop(vq, &echo.held[0]), 1);
	CHECK_EQ(vq_pop(vq, &echo.held[1]), 1);
	CHECK_EQ(vq_pop(vq, &echo.held[2]), 0);
	vq_rewind(vq, start);
	CHECK_EQ(vq_pop(vq, &echo.held[2]), 1);
	CHECK_EQ(echo.held[2].id, echo.held[0].id);
	CHECK_EQ(vq_pop(vq, &echo.held[3]), 1);
	CHECK_EQ(vq_fill(vq, &echo.held[2], 4), 0);
	CHECK_EQ(vq_fill(vq, &echo.held[3], 5), 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 0); /* nothing visible yet */
	vq_flush(vq);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, 4);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, 5);
	vsim_free(&sim);
}

TEST(split_fill_flush_rewind)
{
	fill_flush_rewind(false);
}

TEST(packed_fill_flush_rewind)
{
	fill_flush_rewind(true);
}

/* virtio 1.2 2.7.7: used_event decides; 2.7.10: we publish avail_event. */
TEST(split_event_idx)
{
	struct virtq_avail *avail;
	struct virtq_used *used;
	u32 id, len;
	gpa_t in;

	setup(FEAT_BASE | VIRTIO_F_EVENT_IDX, 16);
	avail = vsim_ptr(&sim, sim.q[0].driver);
	used = vsim_ptr(&sim, sim.q[0].device);
	post_echo(0, "a", 4, &in);
	vsim_kick(&sim, 0);
	CHECK_EQ(sim.msi_vec[1], 1);
	CHECK_EQ(*(u16 *)&used->ring[16], 1); /* avail_event = next avail */
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	post_echo(0, "b", 4, &in);
	avail->ring[16] = 5; /* used_event: only once entry 5 is used */
	vsim_kick(&sim, 0);
	CHECK_EQ(sim.msi_vec[1], 1);
	for (int i = 0; i < 4; i++) {
		post_echo(0, "c", 4, &in);
		avail->ring[16] = 5;
		vsim_kick(&sim, 0);
	}
	CHECK_EQ(sim.msi_vec[1], 2); /* entries 2..4 silent, 5 notifies */
	vsim_free(&sim);
}

TEST(split_no_interrupt_flag)
{
	struct virtq_avail *avail;
	struct virtq_used *used;
	gpa_t in;

	setup(FEAT_BASE, 8);
	avail = vsim_ptr(&sim, sim.q[0].driver);
	used = vsim_ptr(&sim, sim.q[0].device);
	avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	post_echo(0, "a", 4, &in);
	vsim_kick(&sim, 0);
	CHECK_EQ(echo.calls, 1);
	CHECK_EQ(sim.msi_vec[1], 0);
	CHECK_EQ(used->flags, 0); /* notifications re-enabled after the drain */
	vsim_free(&sim);
}

/* virtio 1.2 2.8.10: disable, enable, or a specific descriptor. */
TEST(packed_event_suppression)
{
	struct pvirtq_event_suppress *drv, *devev;
	u32 id, len;
	gpa_t in;

	setup(FEAT_BASE | VIRTIO_F_RING_PACKED | VIRTIO_F_EVENT_IDX, 8);
	drv = vsim_ptr(&sim, sim.q[0].driver);
	devev = vsim_ptr(&sim, sim.q[0].device);
	drv->flags = RING_EVENT_FLAGS_DISABLE;
	post_echo(0, "a", 4, &in);
	vsim_kick(&sim, 0);
	CHECK_EQ(sim.msi_vec[1], 0);
	CHECK_EQ(devev->flags, RING_EVENT_FLAGS_ENABLE);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	drv->flags = RING_EVENT_FLAGS_DESC;
	/* Two-slot chains are used at slots 2, 4, 6: ask for slot 6, first lap. */
	drv->desc = 6 | 1u << 15;
	for (int i = 0; i < 3; i++) {
		post_echo(0, "b", 4, &in);
		vsim_kick(&sim, 0);
		CHECK_EQ(sim.msi_vec[1], i == 2 ? 1 : 0);
		vsim_used(&sim, 0, &id, &len);
	}
	drv->flags = RING_EVENT_FLAGS_ENABLE;
	post_echo(0, "c", 4, &in);
	vsim_kick(&sim, 0);
	CHECK_EQ(sim.msi_vec[1], 2);
	vsim_free(&sim);
}

TEST(chain_copy_helpers)
{
	u8 a[4] = "abcd", b[3] = "efg", w0[2], w1[5];
	struct vq_chain *c = calloc(1, sizeof(*c));
	struct virtio_iov out[4];
	u8 buf[8] = { 0 };

	c->iov[0] = (struct virtio_iov){ a, 4 };
	c->iov[1] = (struct virtio_iov){ b, 3 };
	c->iov[2] = (struct virtio_iov){ w0, 2 };
	c->iov[3] = (struct virtio_iov){ w1, 5 };
	c->nout = c->nin = 2;
	c->out_len = 7;
	c->in_len = 7;
	CHECK_EQ(vq_chain_read(c, 2, buf, 8), 5);
	CHECK(!memcmp(buf, "cdefg", 5));
	CHECK_EQ(vq_chain_write(c, 1, "XYZW", 4), 4);
	CHECK_EQ(w0[1], 'X');
	CHECK(!memcmp(w1, "YZW", 3));
	CHECK_EQ(vq_chain_write(c, 6, "12", 2), 1);
	CHECK_EQ(vq_chain_slice(c, false, 3, 3, out, 4), 2);
	CHECK(out[0].base == a + 3 && out[0].len == 1);
	CHECK(out[1].base == b && out[1].len == 2);
	CHECK_EQ(vq_chain_slice(c, true, 0, 100, out, 4), 2);
	free(c);
}

/* A driver that picked a small ring may still use indirect tables up to the maximum. */
TEST(indirect_longer_than_chosen_queue_size)
{
	struct vsim_seg seg[10];
	u32 id, len;

	memset(&echo, 0, sizeof(echo));
	CHECK_EQ(virtio_dev_init(&echo.dev, ECHO_ID, 0, 1, 16, NULL, 0, &echo_ops), 0);
	CHECK_EQ(vsim_init(&sim, &echo.dev, 1 << 20), 0);
	CHECK_EQ(vsim_probe(&sim), 0);
	CHECK(vsim_negotiate(&sim, FEAT_BASE));
	CHECK_EQ(vsim_setup_queue(&sim, 0, 4), 0);
	vsim_common_write(&sim, offsetof(struct virtio_pci_common_cfg, device_status), 1, 0xf);
	for (int i = 0; i < 10; i++)
		seg[i] = (struct vsim_seg){ vsim_alloc(&sim, 4, 4), 4 };
	memcpy(vsim_ptr(&sim, seg[0].addr), "abcd", 4);
	CHECK(vsim_post(&sim, 0, seg, 5, 5, true) >= 0);
	vsim_kick(&sim, 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, 20);
	CHECK_EQ(echo.nout + echo.nin, 10);
	CHECK(!virtio_dev_fault(&echo.dev));
	vsim_free(&sim);
}

// SPDX-License-Identifier: MIT
/* virtio-rng tests: buffers filled from the backend, short fills, both ring layouts. */
#include "test.h"
#include "virtio_driver_sim.h"
#include <virtio/rng.h>

static struct virtio_rng rng;
static struct vsim sim;
static u32 fills, limit;

static int fill(void *ctx, void *buf, u32 len)
{
	u8 *p = buf;

	(void)ctx;
	fills++;
	if (limit && len > limit)
		len = limit;
	for (u32 i = 0; i < len; i++)
		p[i] = (u8)(0x80 + i);
	return (int)len;
}

static const struct virtio_rng_ops ops = { .fill = fill };

static void setup(u64 extra)
{
	fills = limit = 0;
	CHECK_EQ(virtio_rng_init(&rng, 0, &ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &rng.dev, 1 << 20), 0);
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1 | extra, 1), 0);
}

static void entropy(u64 extra, bool indirect)
{
	struct vsim_seg seg[2];
	u32 id, len;
	u8 *p;

	setup(extra);
	seg[0] = (struct vsim_seg){ vsim_alloc(&sim, 32, 8), 32 };
	seg[1] = (struct vsim_seg){ vsim_alloc(&sim, 16, 8), 16 };
	vsim_post(&sim, 0, seg, 0, 2, indirect);
	vsim_kick(&sim, 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, 48);
	p = vsim_ptr(&sim, seg[0].addr);
	CHECK_EQ(p[0], 0x80);
	CHECK_EQ(p[31], 0x80 + 31);
	CHECK_EQ(((u8 *)vsim_ptr(&sim, seg[1].addr))[15], 0x80 + 15);
	CHECK_EQ(sim.msi_vec[1], 1);
	vsim_free(&sim);
}

TEST(rng_split)
{
	entropy(0, false);
}

TEST(rng_split_indirect)
{
	entropy(VIRTIO_F_INDIRECT_DESC, true);
}

TEST(rng_packed)
{
	entropy(VIRTIO_F_RING_PACKED, false);
}

TEST(rng_packed_indirect)
{
	entropy(VIRTIO_F_RING_PACKED | VIRTIO_F_INDIRECT_DESC, true);
}

TEST(rng_short_fill)
{
	struct vsim_seg seg[2];
	u32 id, len;

	setup(0);
	limit = 10;
	seg[0] = (struct vsim_seg){ vsim_alloc(&sim, 32, 8), 32 };
	seg[1] = (struct vsim_seg){ vsim_alloc(&sim, 16, 8), 16 };
	vsim_post(&sim, 0, seg, 0, 2, false);
	vsim_kick(&sim, 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, 10);
	CHECK_EQ(fills, 1);
	CHECK_EQ(sim.dev->config_len, 0);
	vsim_free(&sim);
}

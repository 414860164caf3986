// SPDX-License-Identifier: MIT
/* virtio-console tests: guest output, host input into receive buffers, resize, emergency write. */
#include "test.h"
#include "virtio_driver_sim.h"
#include <virtio/console.h>

#define FEAT                                                               \
	(VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | VIRTIO_CONSOLE_F_SIZE | \
	 VIRTIO_CONSOLE_F_EMERG_WRITE)

static struct virtio_console con;
static struct vsim sim;
static struct {
	char out[1024];
	u32 out_len, rx_ready;
} be;

static void con_output(void *ctx, const void *buf, u32 len)
{
	(void)ctx;
	if (be.out_len + len <= sizeof(be.out)) {
		memcpy(be.out + be.out_len, buf, len);
		be.out_len += len;
	}
}

static void con_rx_ready(void *ctx)
{
	(void)ctx;
	be.rx_ready++;
}

static const struct virtio_console_ops ops = { .output = con_output, .rx_ready = con_rx_ready };

static void setup(u64 packed)
{
	struct virtio_console_params p = { .cols = 80, .rows = 25, .queue_size = 8 };

	memset(&be, 0, sizeof(be));
	CHECK_EQ(virtio_console_init(&con, &p, &ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &con.dev, 1 << 20), 0);
	CHECK_EQ(vsim_start(&sim, FEAT | packed, 2), 0);
}

static void output(u64 packed)
{
	struct vsim_seg seg[2];
	u32 id, len;

	setup(packed);
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, "Linux ", 6), 6 };
	seg[1] = (struct vsim_seg){ vsim_alloc_copy(&sim, "login: ", 7), 7 };
	vsim_post(&sim, VIRTIO_CONSOLE_TX_QUEUE, seg, 2, 0, false);
	vsim_kick(&sim, VIRTIO_CONSOLE_TX_QUEUE);
	CHECK_EQ(vsim_used(&sim, VIRTIO_CONSOLE_TX_QUEUE, &id, &len), 1);
	CHECK_EQ(be.out_len, 13);
	CHECK(!memcmp(be.out, "Linux login: ", 13));
	CHECK_EQ(sim.msi_vec[2], 1);
	vsim_free(&sim);
}

TEST(console_split_output)
{
	output(0);
}

TEST(console_packed_output)
{
	output(VIRTIO_F_RING_PACKED);
}

static void input(u64 packed)
{
	struct vsim_seg seg[2];
	u32 id, len;

	setup(packed);
	CHECK_EQ(virtio_console_input(&con, "ls\n", 3), 0); /* no buffers yet */
	for (int i = 0; i < 2; i++) {
		seg[i] = (struct vsim_seg){ vsim_alloc(&sim, 4, 4), 4 };
		vsim_post(&sim, VIRTIO_CONSOLE_RX_QUEUE, &seg[i], 0, 1, false);
	}
	vsim_kick(&sim, VIRTIO_CONSOLE_RX_QUEUE);
	CHECK_EQ(be.rx_ready, 1);
	CHECK_EQ(virtio_console_input(&con, "echo hi\n", 8), 8);
	CHECK_EQ(vsim_used(&sim, VIRTIO_CONSOLE_RX_QUEUE, &id, &len), 1);
	CHECK_EQ(len, 4);
	CHECK(!memcmp(vsim_ptr(&sim, seg[0].addr), "echo", 4));
	CHECK_EQ(vsim_used(&sim, VIRTIO_CONSOLE_RX_QUEUE, &id, &len), 1);
	CHECK(!memcmp(vsim_ptr(&sim, seg[1].addr), " hi\n", 4));
	CHECK_EQ(virtio_console_input(&con, "more", 4), 0);
	CHECK_EQ(sim.msi_vec[1], 1);
	vsim_free(&sim);
}

TEST(console_split_input)
{
	input(0);
}

TEST(console_packed_input)
{
	input(VIRTIO_F_RING_PACKED);
}

TEST(console_partial_input)
{
	struct vsim_seg seg = { 0, 3 };

	setup(0);
	seg.addr = vsim_alloc(&sim, 3, 1);
	vsim_post(&sim, VIRTIO_CONSOLE_RX_QUEUE, &seg, 0, 1, false);
	CHECK_EQ(virtio_console_input(&con, "abcdef", 6), 3);
	CHECK(!memcmp(vsim_ptr(&sim, seg.addr), "abc", 3));
	vsim_free(&sim);
}

TEST(console_size_and_emergency_write)
{
	setup(0);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 2), 80);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 2, 2), 25);
	virtio_console_resize(&con, 132, 43);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 4), 43u << 16 | 132);
	CHECK_EQ(sim.msi_vec[0], 1);
	vsim_bar_write(&sim, 0, sim.device + 8, 4, '!');
	vsim_bar_write(&sim, 0, sim.device + 0, 4, 'x'); /* cols: read-only */
	CHECK_EQ(be.out_len, 1);
	CHECK_EQ(be.out[0], '!');
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 2), 132);
	vsim_free(&sim);
}

// SPDX-License-Identifier: MIT
/* virtio-net tests: transmit with offload headers, receive (single and mergeable), MQ control. */
#include <stdlib.h>
#include "test.h"
#include "virtio_driver_sim.h"
#include <virtio/net.h>

#define FEAT (VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX)
#define HDR 12

static struct virtio_net net;
static struct vsim sim;
static struct {
	u32 tx_count, rx_ready, pairs_calls;
	u16 tx_pair, pairs;
	struct virtio_net_hdr hdr;
	u8 frame[4096];
	u32 frame_len;
	u64 features;
} be;

static int net_tx(void *ctx, u16 pair, const struct virtio_net_hdr *hdr,
		  const struct virtio_iov *iov, u32 n)
{
	(void)ctx;
	be.tx_count++;
	be.tx_pair = pair;
	be.hdr = *hdr;
	be.frame_len = 0;
	for (u32 i = 0; i < n; i++) {
		if (be.frame_len + iov[i].len > sizeof(be.frame))
			return -E2BIG;
		memcpy(be.frame + be.frame_len, iov[i].base, iov[i].len);
		be.frame_len += iov[i].len;
	}
	return 0;
}

static void net_rx_ready(void *ctx, u16 pair)
{
	(void)ctx;
	(void)pair;
	be.rx_ready++;
}

static void net_pairs(void *ctx, u16 pairs)
{
	(void)ctx;
	be.pairs_calls++;
	be.pairs = pairs;
}

static void net_features(void *ctx, u64 f)
{
	(void)ctx;
	be.features = f;
}

static const struct virtio_net_ops ops = {
	.transmit = net_tx,
	.rx_ready = net_rx_ready,
	.set_pairs = net_pairs,
	.features = net_features,
};

static int setup(u16 pairs, u64 feat)
{
	struct virtio_net_params p = {
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.max_pairs = pairs,
		.queue_size = 16,
		.mtu = 1500,
		.offloads = VIRTIO_NET_OFFLOADS,
	};

	memset(&be, 0, sizeof(be));
	CHECK_EQ(virtio_net_init(&net, &p, &ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &net.dev, 4 << 20), 0);
	return vsim_start(&sim, feat, net.dev.num_queues);
}

/* Post n receive buffers of len bytes each on rx queue q. */
static void post_rx(u16 q, u32 n, u32 len, gpa_t *at)
{
	for (u32 i = 0; i < n; i++) {
		struct vsim_seg seg = { vsim_alloc(&sim, len, 8), len };

		if (at)
			at[i] = seg.addr;
		CHECK(vsim_post(&sim, q, &seg, 0, 1, false) >= 0);
	}
}

TEST(net_config_and_features)
{
	CHECK_EQ(setup(1, FEAT | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS), 0);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 4), 0x12005452);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 4, 2), 0x5634);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 6, 2), VIRTIO_NET_S_LINK_UP);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 8, 2), 1);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 10, 2), 1500);
	CHECK_EQ(net.dev.num_queues, 3);
	CHECK(net.dev.device_features & VIRTIO_NET_F_MRG_RXBUF);
	CHECK(net.dev.device_features & VIRTIO_NET_F_CTRL_VQ);
	CHECK(!(net.dev.device_features & VIRTIO_NET_F_MQ));
	CHECK_EQ(be.features, sim.features);
	vsim_free(&sim);
}

static void tx(bool packed)
{
	struct virtio_net_hdr h = {
		VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 0
	};
	u8 frame[1514];
	struct vsim_seg seg[3];
	u32 id, len;

	CHECK_EQ(setup(1, FEAT | VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO4 |
				  (packed ? VIRTIO_F_RING_PACKED : 0)),
		 0);
	for (u32 i = 0; i < sizeof(frame); i++)
		frame[i] = (u8)(i * 3);
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, &h, HDR), HDR };
	seg[1] = (struct vsim_seg){ vsim_alloc_copy(&sim, frame, 1000), 1000 };
	seg[2] = (struct vsim_seg){ vsim_alloc_copy(&sim, frame + 1000, 514), 514 };
	CHECK(vsim_post(&sim, 1, seg, 3, 0, false) >= 0);
	vsim_kick(&sim, 1);
	CHECK_EQ(vsim_used(&sim, 1, &id, &len), 1);
	CHECK_EQ(len, 0);
	CHECK_EQ(be.tx_count, 1);
	CHECK_EQ(be.tx_pair, 0);
	CHECK(!memcmp(&be.hdr, &h, HDR)); /* offload request passed untouched */
	CHECK_EQ(be.frame_len, sizeof(frame));
	CHECK(!memcmp(be.frame, frame, sizeof(frame)));
	CHECK_EQ(sim.msi_vec[2], 1);
	vsim_free(&sim);
}

TEST(net_split_tx)
{
	tx(false);
}

TEST(net_packed_tx)
{
	tx(true);
}

TEST(net_rx_single_buffer)
{
	struct virtio_net_hdr h = { VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0 };
	struct virtio_net_hdr *got;
	u8 frame[600];
	gpa_t at;
	u32 id, len;

	CHECK_EQ(setup(1, FEAT | VIRTIO_NET_F_GUEST_CSUM), 0);
	memset(frame, 0xab, sizeof(frame));
	post_rx(0, 1, 1526, &at);
	CHECK_EQ(virtio_net_rx(&net, 0, &h, frame, sizeof(frame)), 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, HDR + sizeof(frame));
	got = vsim_ptr(&sim, at);
	CHECK_EQ(got->flags, VIRTIO_NET_HDR_F_DATA_VALID);
	CHECK_EQ(got->num_buffers, 1);
	CHECK(!memcmp((u8 *)got + HDR, frame, sizeof(frame)));
	CHECK_EQ(sim.msi_vec[1], 1);
	/* No more buffers: keep the frame and retry after rx_ready. */
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, 60), -EAGAIN);
	post_rx(0, 1, 1526, &at);
	vsim_kick(&sim, 0);
	CHECK_EQ(be.rx_ready, 1);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, 60), 0);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, HDR + 60);
	vsim_free(&sim);
}

TEST(net_rx_frame_too_big_for_buffer)
{
	u8 frame[500] = { 1 };
	u32 id, len;

	CHECK_EQ(setup(1, FEAT), 0);
	post_rx(0, 1, 100, NULL);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, sizeof(frame)), -E2BIG);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 0);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, 50), 0); /* same buffer */
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	CHECK_EQ(len, HDR + 50);
	vsim_free(&sim);
}

static void merge(bool packed)
{
	u8 frame[600], out[612];
	gpa_t at[3];
	u32 id, len[3];
	struct virtio_net_hdr *h;

	CHECK_EQ(setup(1, FEAT | VIRTIO_NET_F_MRG_RXBUF | (packed ? VIRTIO_F_RING_PACKED : 0)), 0);
	for (u32 i = 0; i < sizeof(frame); i++)
		frame[i] = (u8)(i + 1);
	post_rx(0, 3, 256, at);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, sizeof(frame)), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(vsim_used(&sim, 0, &id, &len[i]), 1);
	CHECK_EQ(len[0], 256);
	CHECK_EQ(len[1], 256);
	CHECK_EQ(len[2], 100);
	h = vsim_ptr(&sim, at[0]);
	CHECK_EQ(h->num_buffers, 3);
	memcpy(out, vsim_ptr(&sim, at[0]), 256);
	memcpy(out + 256, vsim_ptr(&sim, at[1]), 256);
	memcpy(out + 512, vsim_ptr(&sim, at[2]), 100);
	CHECK(!memcmp(out + HDR, frame, sizeof(frame)));
	CHECK_EQ(sim.msi_vec[1], 1); /* one interrupt for the whole packet */
	vsim_free(&sim);
}

TEST(net_split_rx_mergeable)
{
	merge(false);
}

TEST(net_packed_rx_mergeable)
{
	merge(true);
}

/* Not enough buffers yet: nothing is used, everything is retried later. */
static void merge_wait(bool packed)
{
	u8 frame[300];
	u32 id, len, n = 0;

	CHECK_EQ(setup(1, FEAT | VIRTIO_NET_F_MRG_RXBUF | (packed ? VIRTIO_F_RING_PACKED : 0)), 0);
	memset(frame, 0x11, sizeof(frame));
	post_rx(0, 2, 100, NULL);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, sizeof(frame)), -EAGAIN);
	CHECK_EQ(vsim_used(&sim, 0, &id, &len), 0);
	post_rx(0, 2, 100, NULL);
	vsim_kick(&sim, 0);
	CHECK_EQ(be.rx_ready, 1);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, sizeof(frame)), 0);
	while (vsim_used(&sim, 0, &id, &len) == 1)
		n++;
	CHECK_EQ(n, 4);
	vsim_free(&sim);
}

TEST(net_split_rx_mergeable_waits_for_buffers)
{
	merge_wait(false);
}

TEST(net_packed_rx_mergeable_waits_for_buffers)
{
	merge_wait(true);
}

TEST(net_rx_ring_too_small_for_frame)
{
	u8 frame[2000] = { 0 };

	CHECK_EQ(setup(1, FEAT | VIRTIO_NET_F_MRG_RXBUF), 0);
	post_rx(0, 16, 64, NULL); /* 16 * 64 < 2012 */
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, sizeof(frame)), -E2BIG);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, 500), 0);
	vsim_free(&sim);
}

TEST(net_rx_offload_not_negotiated)
{
	struct virtio_net_hdr csum = { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 14, 16, 0 };
	struct virtio_net_hdr gso = { 0, VIRTIO_NET_HDR_GSO_TCPV6, 0, 0, 0, 0, 0 };
	u8 frame[64] = { 0 };

	CHECK_EQ(setup(1, FEAT), 0);
	post_rx(0, 2, 1526, NULL);
	CHECK_EQ(virtio_net_rx(&net, 0, &csum, frame, 64), -ENOTSUP);
	CHECK_EQ(virtio_net_rx(&net, 0, &gso, frame, 64), -ENOTSUP);
	CHECK_EQ(virtio_net_rx(&net, 0, NULL, frame, 64), 0);
	vsim_free(&sim);
}

static u8 ctrl(u8 class, u8 cmd, const void *data, u32 len)
{
	u8 hdr[2] = { class, cmd };
	struct vsim_seg seg[3];
	u16 q = (u16)(2 * net.max_pairs);
	u32 n = 0, id, used;

	seg[n++] = (struct vsim_seg){ vsim_alloc_copy(&sim, hdr, 2), 2 };
	if (len)
		seg[n++] = (struct vsim_seg){ vsim_alloc_copy(&sim, data, len), len };
	seg[n] = (struct vsim_seg){ vsim_alloc(&sim, 1, 1), 1 };
	*(u8 *)vsim_ptr(&sim, seg[n].addr) = 0xee;
	vsim_post(&sim, q, seg, n, 1, false);
	vsim_kick(&sim, q);
	if (vsim_used(&sim, q, &id, &used) != 1)
		return 0xff;
	return *(u8 *)vsim_ptr(&sim, seg[n].addr);
}

TEST(net_mq_control)
{
	u16 pairs;
	u8 frame[60] = { 0 };
	u32 id, len;

	CHECK_EQ(setup(4, FEAT | VIRTIO_NET_F_CTRL_VQ | VIRTIO_NET_F_MQ), 0);
	CHECK_EQ(net.dev.num_queues, 9);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 8, 2), 4);
	CHECK_EQ(net.pairs, 1);
	pairs = 3;
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		 VIRTIO_NET_OK);
	CHECK_EQ(net.pairs, 3);
	CHECK_EQ(be.pairs, 3);
	pairs = 0;
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		 VIRTIO_NET_ERR);
	pairs = 5;
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		 VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 1),
		 VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(9, 0, NULL, 0), VIRTIO_NET_ERR);
	CHECK_EQ(net.pairs, 3);
	CHECK_EQ(be.pairs_calls, 1);
	/* Receive steering stays within the active pairs: pair 7 -> 1. */
	post_rx(2, 1, 1526, NULL);
	CHECK_EQ(virtio_net_rx(&net, 7, NULL, frame, sizeof(frame)), 0);
	CHECK_EQ(vsim_used(&sim, 2, &id, &len), 1);
	/* Transmit on the third pair reaches the backend as pair 2. */
	{
		struct virtio_net_hdr h = { 0 };
		struct vsim_seg seg[2] = {
			{ vsim_alloc_copy(&sim, &h, HDR), HDR },
			{ vsim_alloc_copy(&sim, frame, 60), 60 },
		};

		vsim_post(&sim, 5, seg, 2, 0, true);
		vsim_kick(&sim, 5);
		CHECK_EQ(be.tx_pair, 2);
	}
	/* A reset goes back to one pair. */
	vsim_common_write(&sim, offsetof(struct virtio_pci_common_cfg, device_status), 1, 0);
	CHECK_EQ(net.pairs, 1);
	vsim_free(&sim);
}

TEST(net_feature_dependencies)
{
	CHECK(setup(4, FEAT | VIRTIO_NET_F_MQ) != 0); /* MQ needs CTRL_VQ */
	CHECK(!(vsim_status(&sim) & VIRTIO_STATUS_FEATURES_OK));
	vsim_free(&sim);
	CHECK(setup(1, FEAT | VIRTIO_NET_F_GUEST_TSO4) != 0); /* needs GUEST_CSUM */
	vsim_free(&sim);
	CHECK(setup(1, FEAT | VIRTIO_NET_F_HOST_ECN | VIRTIO_NET_F_CSUM) != 0);
	vsim_free(&sim);
	CHECK_EQ(setup(1,
		       FEAT | VIRTIO_NET_F_HOST_ECN | VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO6),
		 0);
	vsim_free(&sim);
}

TEST(net_link_status_change)
{
	CHECK_EQ(setup(1, FEAT | VIRTIO_NET_F_STATUS), 0);
	virtio_net_set_link(&net, false);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 6, 2), 0);
	CHECK_EQ(sim.msi_vec[0], 1);
	virtio_net_set_link(&net, false);
	CHECK_EQ(sim.msi_vec[0], 1);
	virtio_net_set_link(&net, true);
	CHECK_EQ(sim.msi_vec[0], 2);
	vsim_free(&sim);
}

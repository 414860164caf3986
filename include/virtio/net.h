/* SPDX-License-Identifier: MIT */
/* virtio network device model: queue pairs, mergeable rx buffers, MQ control (virtio 1.2 5.1). */
#ifndef KEEL_VIRTIO_NET_H
#define KEEL_VIRTIO_NET_H

#include <virtio/virtio.h>

/* virtio 1.2 5.1.3: feature bits. */
#define VIRTIO_NET_F_CSUM BIT(0)
#define VIRTIO_NET_F_GUEST_CSUM BIT(1)
#define VIRTIO_NET_F_MTU BIT(3)
#define VIRTIO_NET_F_MAC BIT(5)
#define VIRTIO_NET_F_GUEST_TSO4 BIT(7)
#define VIRTIO_NET_F_GUEST_TSO6 BIT(8)
#define VIRTIO_NET_F_GUEST_ECN BIT(9)
#define VIRTIO_NET_F_GUEST_UFO BIT(10)
#define VIRTIO_NET_F_HOST_TSO4 BIT(11)
#define VIRTIO_NET_F_HOST_TSO6 BIT(12)
#define VIRTIO_NET_F_HOST_ECN BIT(13)
#define VIRTIO_NET_F_HOST_UFO BIT(14)
#define VIRTIO_NET_F_MRG_RXBUF BIT(15)
#define VIRTIO_NET_F_STATUS BIT(16)
#define VIRTIO_NET_F_CTRL_VQ BIT(17)
#define VIRTIO_NET_F_MQ BIT(22)

/* The offloads a backend (e.g. a TAP with IFF_VNET_HDR) may take on. */
#define VIRTIO_NET_OFFLOADS                                                          \
	(VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4 |     \
	 VIRTIO_NET_F_GUEST_TSO6 | VIRTIO_NET_F_GUEST_ECN | VIRTIO_NET_F_GUEST_UFO | \
	 VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6 | VIRTIO_NET_F_HOST_ECN |   \
	 VIRTIO_NET_F_HOST_UFO)

/* virtio 1.2 5.1.4: status bits. */
#define VIRTIO_NET_S_LINK_UP BIT(0)

/* virtio 1.2 5.1.6: header flags and GSO types. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM BIT(0)
#define VIRTIO_NET_HDR_F_DATA_VALID BIT(1)
#define VIRTIO_NET_HDR_F_RSC_INFO BIT(2)
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN 0x80

/* virtio 1.2 5.1.6.5 and 5.1.6.5.6: control virtqueue. */
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000

#define VIRTIO_NET_MAX_PAIRS ((VIRTIO_DEV_MAX_QUEUES - 1) / 2)

/* virtio 1.2 5.1.4: device configuration layout. */
struct virtio_net_config {
	u8 mac[6];			      /* 0x00 */
	u16 status;			      /* 0x06 */
	u16 max_virtqueue_pairs;	      /* 0x08 */
	u16 mtu;			      /* 0x0a */
	u32 speed;			      /* 0x0c */
	u8 duplex;			      /* 0x10 */
	u8 rss_max_key_size;		      /* 0x11 */
	u16 rss_max_indirection_table_length; /* 0x12 */
	u32 supported_hash_types;	      /* 0x14 */
} __packed;
BUILD_ASSERT(offsetof(struct virtio_net_config, status) == 0x06, "virtio 1.2 5.1.4");
BUILD_ASSERT(offsetof(struct virtio_net_config, mtu) == 0x0a, "virtio 1.2 5.1.4");
BUILD_ASSERT(offsetof(struct virtio_net_config, duplex) == 0x10, "virtio 1.2 5.1.4");
BUILD_ASSERT(sizeof(struct virtio_net_config) == 0x18, "virtio 1.2 5.1.4");

/* virtio 1.2 5.1.6: the header before every frame (no hash report). */
struct virtio_net_hdr {
	u8 flags;	 /* 0x0 */
	u8 gso_type;	 /* 0x1 */
	u16 hdr_len;	 /* 0x2 */
	u16 gso_size;	 /* 0x4 */
	u16 csum_start;	 /* 0x6 */
	u16 csum_offset; /* 0x8 */
	u16 num_buffers; /* 0xa */
};
BUILD_ASSERT(offsetof(struct virtio_net_hdr, num_buffers) == 0xa, "virtio 1.2 5.1.6");
BUILD_ASSERT(sizeof(struct virtio_net_hdr) == 12, "virtio 1.2 5.1.6");

/*
 * The embedder's network port. transmit gets the driver's header as the
 * driver wrote it (checksum/GSO requests untouched) and the frame; its
 * result is not reported to the guest. rx_ready says the driver posted
 * receive buffers for pair (time to retry virtio_net_rx). features says
 * what the driver accepted, to configure backend offloads.
 */
struct virtio_net_ops {
	int (*transmit)(void *ctx, u16 pair, const struct virtio_net_hdr *hdr,
			const struct virtio_iov *frame, u32 niov);
	void (*rx_ready)(void *ctx, u16 pair);	   /* optional */
	void (*set_pairs)(void *ctx, u16 pairs);   /* optional */
	void (*features)(void *ctx, u64 features); /* optional */
};

struct virtio_net_params {
	u8 mac[6];
	u16 max_pairs;	/* 0 or 1: one pair; more offers VIRTIO_NET_F_MQ */
	u16 queue_size; /* 0: VIRTIO_QUEUE_SIZE_MAX */
	u16 mtu;	/* 0: no VIRTIO_NET_F_MTU */
	u64 offloads;	/* subset of VIRTIO_NET_OFFLOADS the backend handles */
	bool link_down;
};

struct virtio_net {
	struct virtio_dev dev;
	const struct virtio_net_ops *ops;
	void *ctx;
	u16 max_pairs;
	u16 pairs; /* active, set by VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET */
	struct virtio_net_config config;
	struct vq_chain tx_chain, rx_chain;
	struct virtio_iov frame[VIRTIO_QUEUE_SIZE_MAX];
};

int virtio_net_init(struct virtio_net *net, const struct virtio_net_params *p,
		    const struct virtio_net_ops *ops, void *ctx);
void virtio_net_set_link(struct virtio_net *net, bool up);

/*
 * Deliver one received frame to the guest on queue pair `pair` (folded
 * onto the active pairs). hdr may be NULL (no offload information).
 * 0: delivered; -EAGAIN: no receive buffer now, keep the frame and retry
 * after rx_ready; -E2BIG: it can never fit the posted buffers;
 * -ENOTSUP: hdr asks for an offload the driver did not accept;
 * -EIO: the device is broken or not running.
 */
int virtio_net_rx(struct virtio_net *net, u16 pair, const struct virtio_net_hdr *hdr,
		  const void *frame, u32 len);

#endif

// SPDX-License-Identifier: MIT
/* keel-dm net: a virtio-net device on a TAP interface (kt-<vm id>-<device>) in a bridge. */
#include "dm.h"
#include <virtio/net.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define NET_HDR ((uint32_t)sizeof(struct virtio_net_hdr)) /* 12: VIRTIO_F_VERSION_1 */
#define NET_FRAME_MAX (NET_HDR + 65536 + 256) /* a TSO frame from the TAP and its header */
#define NET_RX_BURST 64 /* frames a wake: one busy guest must not starve the others */
/* What the TAP does for the guest: checksums and TCP segmentation, both ways. */
#define NET_OFFLOADS                                                           \
	(VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6 | \
	 VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6)

struct dm_net {
	struct virtio_net net;
	struct dm_dev *d;
	int fd; /* the TAP; -1 once it vanished */
	char ifname[IFNAMSIZ], bridge[IFNAMSIZ];
	uint64_t features; /* what the driver accepted */
	uint32_t held;	   /* bytes in frame that found no receive buffer (0: none) */
	int rx_ready;
	struct iovec tx[VIRTIO_QUEUE_SIZE_MAX + 1];
	uint8_t frame[NET_FRAME_MAX];
};

static int dm_net_transmit(void *ctx, u16 pair, const struct virtio_net_hdr *hdr,
			   const struct virtio_iov *frame, u32 niov)
{
	struct dm_net *t = ctx;

	(void)pair;
	t->tx[0] = (struct iovec){ (void *)hdr, NET_HDR };
	for (u32 i = 0; i < niov; i++)
		t->tx[i + 1] = (struct iovec){ frame[i].base, frame[i].len };
	/* A full or vanished TAP drops the frame, like a full wire. */
	if (t->fd >= 0 && writev(t->fd, t->tx, (int)niov + 1) < 0)
		errno = 0;
	return 0;
}

static void dm_net_rx_ready(void *ctx, u16 pair)
{
	(void)pair;
	((struct dm_net *)ctx)->rx_ready = 1;
}

/* The driver accepted its features: the TAP may now hand it checksum-less or TSO frames. */
static void dm_net_features(void *ctx, u64 f)
{
	struct dm_net *t = ctx;
	unsigned off = 0;

	t->features = f;
	if (f & VIRTIO_NET_F_GUEST_CSUM)
		off |= TUN_F_CSUM;
	if (f & VIRTIO_NET_F_GUEST_TSO4)
		off |= TUN_F_TSO4;
	if (f & VIRTIO_NET_F_GUEST_TSO6)
		off |= TUN_F_TSO6;
	if (t->fd >= 0 && ioctl(t->fd, TUNSETOFFLOAD, off))
		dm_log("%s: %s: TUNSETOFFLOAD %#x: %s", t->d->vm->name, t->ifname, off,
		       strerror(errno));
}

static const struct virtio_net_ops dm_net_ops = {
	.transmit = dm_net_transmit,
	.rx_ready = dm_net_rx_ready,
	.features = dm_net_features,
};

/* Frames from the TAP into the guest; one that finds no buffer waits for rx_ready. */
static void dm_net_rx(struct dm_net *t)
{
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)t->frame;

	for (int i = 0; i < NET_RX_BURST && t->fd >= 0; i++) {
		if (!t->held) {
			ssize_t n = read(t->fd, t->frame, sizeof(t->frame));

			if (n < 0)
				return; /* EAGAIN: all taken */
			if ((uint32_t)n < NET_HDR)
				continue;
			t->held = (uint32_t)n;
		}
		/* "Checksum already checked" is a hint the driver may not have asked for. */
		if (!(t->features & VIRTIO_NET_F_GUEST_CSUM))
			h->flags &= (u8)~VIRTIO_NET_HDR_F_DATA_VALID;
		if (virtio_net_rx(&t->net, 0, h, t->frame + NET_HDR, t->held - NET_HDR) == -EAGAIN)
			return;
		t->held = 0; /* delivered, or it never can be: dropped */
	}
}

static int dm_net_tap(struct dm_net *t, char *msg, size_t len)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr = NET_HDR;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		snprintf(msg, len, "cannot open /dev/net/tun (is the tun module loaded?): %s",
			 strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname);
	if (ioctl(t->fd, TUNSETIFF, &ifr) || ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) ||
	    ioctl(t->fd, TUNSETOFFLOAD, 0)) {
		snprintf(msg, len, "cannot set up TAP interface %s: %s", t->ifname,
			 strerror(errno));
		close(t->fd);
		return -1;
	}
	return 0;
}

/* Brings the TAP up and makes it a port of the bridge, with the ioctls brctl and ip use. */
static int dm_net_bridge(struct dm_net *t, char *msg, size_t len)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = -1;
	const char *what = "bring up";

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname);
	if (s >= 0 && !ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		if (!ioctl(s, SIOCSIFFLAGS, &ifr)) {
			what = "add to the bridge";
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->bridge);
			ifr.ifr_ifindex = (int)if_nametoindex(t->ifname);
			err = ioctl(s, SIOCBRADDIF, &ifr);
		}
	}
	if (err)
		snprintf(msg, len, "cannot %s %s (bridge %s): %s", what, t->ifname, t->bridge,
			 strerror(errno));
	if (s >= 0)
		close(s);
	return err;
}

static int dm_net_check_bridge(const char *br, char *msg, size_t len)
{
	char path[64];
	struct stat st;

	if (strlen(br) >= IFNAMSIZ || strchr(br, '/') || !if_nametoindex(br)) {
		snprintf(
			msg, len,
			"no network interface called '%s' (make the bridge first: ip link add %s type bridge)",
			br, br);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", br);
	if (stat(path, &st)) {
		snprintf(msg, len, "'%s' is not a bridge", br);
		return -1;
	}
	return 0;
}

/* net BRIDGE */
static int dm_net_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	struct virtio_net_params p = { .mac = { 0x52, 0x54, 0x00, 0x4b, (u8)d->vm->id,
						(u8)d->number },
				       .offloads = NET_OFFLOADS };
	struct dm_net *t;

	if (argc != 1) {
		snprintf(msg, len, "usage: net BRIDGE");
		return -1;
	}
	if (dm_net_check_bridge(argv[0], msg, len))
		return -1;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	t->d = d;
	snprintf(t->bridge, sizeof(t->bridge), "%s", argv[0]);
	snprintf(t->ifname, sizeof(t->ifname), "kt-%u-%u", d->vm->id, d->number);
	if (dm_net_tap(t, msg, len))
		goto out_free;
	if (dm_net_bridge(t, msg, len))
		goto out_close;
	if (virtio_net_init(&t->net, &p, &dm_net_ops, t)) {
		snprintf(msg, len, "cannot build the network device model");
		goto out_close;
	}
	d->be = t;
	d->vdev = &t->net.dev;
	return 0;
out_close:
	close(t->fd); /* the kernel deletes a TAP nobody holds */
out_free:
	free(t);
	return -1;
}

static void dm_net_close(struct dm_dev *d)
{
	struct dm_net *t = d->be;

	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

static void dm_net_describe(struct dm_dev *d, char *buf, size_t len)
{
	struct dm_net *t = d->be;

	snprintf(buf, len, "%s (%s%s)", d->args, t->ifname, t->fd < 0 ? ", gone" : "");
}

static void dm_net_prepare(struct dm_dev *d, struct pollfd *p)
{
	struct dm_net *t = d->be;

	if (t->rx_ready) {
		t->rx_ready = 0;
		dm_net_rx(t);
	}
	p->fd = t->held ? -1 : t->fd; /* a waiting frame first */
	p->events = POLLIN;
}

static void dm_net_ready(struct dm_dev *d, short revents)
{
	struct dm_net *t = d->be;

	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		dm_log("%s: 00:%02x.0 net: TAP %s went away; the link is down", d->vm->name,
		       d->number, t->ifname);
		close(t->fd);
		t->fd = -1;
		virtio_net_set_link(&t->net, false);
		return;
	}
	dm_net_rx(t);
}

const struct dm_kind dm_net_kind = {
	.name = "net",
	.open = dm_net_open,
	.close = dm_net_close,
	.describe = dm_net_describe,
	.prepare = dm_net_prepare,
	.ready = dm_net_ready,
};

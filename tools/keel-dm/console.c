// SPDX-License-Identifier: MIT
/* keel-dm console: a virtio console (the guest's hvc0), its backlog, and one keelctl client. */
#include "dm.h"
#include <virtio/console.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CON_BACKLOG (28 * 1024) /* what a client that attaches later sees first */
#define CON_INPUT 4096		/* client bytes the guest has no receive buffer for yet */

struct dm_con {
	struct virtio_console con;
	struct dm_dev *d;
	uint8_t backlog[CON_BACKLOG];
	uint64_t head; /* bytes the guest ever wrote */
	int client;    /* -1: none */
	uint64_t sent; /* how far into the output the client is */
	uint8_t in[CON_INPUT];
	uint32_t in_len;
	int rx_ready;
};

static void dm_con_drop(struct dm_con *c)
{
	if (c->client >= 0)
		close(c->client);
	c->client = -1;
}

/* Output to the client as far as its socket takes it now; the rest waits for POLLOUT. */
static void dm_con_flush(struct dm_con *c)
{
	while (c->client >= 0 && c->sent != c->head) {
		uint32_t at, n;
		ssize_t w;

		if (c->head - c->sent > CON_BACKLOG) /* lapped: the oldest bytes are gone */
			c->sent = c->head - CON_BACKLOG;
		at = (uint32_t)(c->sent % CON_BACKLOG);
		n = (uint32_t)(c->head - c->sent);
		if (n > CON_BACKLOG - at)
			n = CON_BACKLOG - at;
		w = send(c->client, c->backlog + at, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			dm_con_drop(c);
		if (w <= 0)
			return;
		c->sent += (uint32_t)w;
	}
}

/* Guest output never waits: it goes into the backlog, which laps a slow client. */
static void dm_con_output(void *ctx, const void *buf, u32 len)
{
	struct dm_con *c = ctx;
	const uint8_t *p = buf;

	if (len > CON_BACKLOG) {
		c->head += len - CON_BACKLOG;
		p += len - CON_BACKLOG;
		len = CON_BACKLOG;
	}
	while (len) {
		uint32_t at = (uint32_t)(c->head % CON_BACKLOG),
			 n = len < CON_BACKLOG - at ? len : CON_BACKLOG - at;

		memcpy(c->backlog + at, p, n);
		c->head += n;
		p += n;
		len -= n;
	}
	dm_con_flush(c);
}

static void dm_con_rx_ready(void *ctx)
{
	((struct dm_con *)ctx)->rx_ready = 1;
}

static const struct virtio_console_ops dm_con_ops = {
	.output = dm_con_output,
	.rx_ready = dm_con_rx_ready,
};

/* Held-back client input into the guest's receive buffers. */
static void dm_con_input(struct dm_con *c)
{
	uint32_t n = c->in_len ? virtio_console_input(&c->con, c->in, c->in_len) : 0;

	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* console (one a VM: it is the VM's hvc0) */
static int dm_con_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	struct virtio_console_params p = { 0 };
	struct dm_dev *other;
	struct dm_con *c;

	(void)argv;
	if (argc) {
		snprintf(msg, len, "usage: console");
		return -1;
	}
	if ((other = dm_vm_dev(d->vm, &dm_console_kind))) {
		snprintf(msg, len, "'%s' has a virtio console already (00:%02x.0)", d->vm->name,
			 other->number);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c || virtio_console_init(&c->con, &p, &dm_con_ops, c)) {
		snprintf(msg, len, "cannot build the console model");
		free(c);
		return -1;
	}
	c->d = d;
	c->client = -1;
	d->be = c;
	d->vdev = &c->con.dev;
	return 0;
}

static void dm_con_close(struct dm_dev *d)
{
	struct dm_con *c = d->be;

	dm_con_drop(c);
	free(c);
}

static void dm_con_describe(struct dm_dev *d, char *buf, size_t len)
{
	struct dm_con *c = d->be;

	snprintf(buf, len, "console%s", c->client >= 0 ? " (attached)" : "");
}

static void dm_con_prepare(struct dm_dev *d, struct pollfd *p)
{
	struct dm_con *c = d->be;

	if (c->rx_ready) {
		c->rx_ready = 0;
		dm_con_input(c);
	}
	p->fd = c->client;
	p->events =
		(short)((c->in_len < CON_INPUT ? POLLIN : 0) | (c->sent != c->head ? POLLOUT : 0));
}

static void dm_con_ready(struct dm_dev *d, short revents)
{
	struct dm_con *c = d->be;
	ssize_t n;

	if (revents & POLLOUT)
		dm_con_flush(c);
	if (c->client < 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (c->in_len == CON_INPUT) { /* not read now: only a hang-up matters */
		if (revents & (POLLHUP | POLLERR))
			dm_con_drop(c);
		return;
	}
	n = read(c->client, c->in + c->in_len, CON_INPUT - c->in_len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		dm_con_drop(c);
		return;
	}
	if (n > 0) {
		c->in_len += (uint32_t)n;
		dm_con_input(c);
	}
}

int dm_console_client(struct dm_dev *d, int fd)
{
	static const char took[] =
		"\r\nkeel-dm: another keelctl console took this console over\r\n";
	struct dm_con *c = d->be;

	if (c->client >= 0 &&
	    send(c->client, took, sizeof(took) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		errno = 0;
	dm_con_drop(c);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return -1;
	c->client = fd;
	c->sent = c->head > CON_BACKLOG ? c->head - CON_BACKLOG : 0; /* the backlog first */
	dm_con_flush(c);
	return 0;
}

const struct dm_kind dm_console_kind = {
	.name = "console",
	.open = dm_con_open,
	.close = dm_con_close,
	.describe = dm_con_describe,
	.prepare = dm_con_prepare,
	.ready = dm_con_ready,
};

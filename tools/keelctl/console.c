// SPDX-License-Identifier: MIT
/* keelctl console: a guest's console (keel-dm's virtio console, else the UART) here until Ctrl-]. */
#include "keelctl.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define DETACH 0x1d /* Ctrl-] */

static struct termios saved;
static int raw_mode;

static void raw_on(void)
{
	struct termios t;

	if (tcgetattr(0, &saved))
		return; /* not a terminal (a script): pass bytes as they come */
	t = saved;
	cfmakeraw(&t); /* the guest's bytes pass as they are: its tty made its CRs */
	tcsetattr(0, TCSANOW, &t);
	raw_mode = 1;
}

static void raw_off(void)
{
	if (raw_mode)
		tcsetattr(0, TCSANOW, &saved);
}

/* Guest output: everything in the out ring. */
static void drain(struct kctl_ring_hdr *out)
{
	const uint8_t *data = (const uint8_t *)(out + 1);
	uint32_t head = __atomic_load_n(&out->head, __ATOMIC_ACQUIRE), tail = out->tail;

	if (head - tail > KCTL_OUT_DATA) /* lapped: the oldest bytes were lost */
		tail = head - KCTL_OUT_DATA;
	while (tail != head) {
		uint32_t n = head - tail, at = tail % KCTL_OUT_DATA;
		ssize_t w;

		if (n > KCTL_OUT_DATA - at)
			n = KCTL_OUT_DATA - at;
		/*
		 * stdout shares stdin's non-blocking file description: a full tty
		 * takes part of a chunk or none (EAGAIN). The rest waits for the
		 * next round, it is not skipped.
		 */
		w = write(1, data + at, n);
		if (w <= 0)
			break;
		tail += (uint32_t)w;
	}
	__atomic_store_n(&out->tail, tail, __ATOMIC_RELEASE);
}

/* Keyboard input into the in ring; returns 1 on Ctrl-]. */
static int feed(struct ctl *c, struct kctl_ring_hdr *in, unsigned vm_id)
{
	uint8_t *data = (uint8_t *)(in + 1);
	unsigned char buf[256];
	ssize_t n = read(0, buf, sizeof(buf));
	uint32_t head = in->head;

	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == DETACH)
			return 1;
		while (head - __atomic_load_n(&in->tail, __ATOMIC_ACQUIRE) >= KCTL_IN_DATA) {
			ctl_set_reg(c, KCTL_REG_CONSOLE_KICK, vm_id);
			usleep(1000);
		}
		data[head % KCTL_IN_DATA] = buf[i];
		head++;
		__atomic_store_n(&in->head, head, __ATOMIC_RELEASE);
	}
	ctl_set_reg(c, KCTL_REG_CONSOLE_KICK, vm_id);
	return 0;
}

/*
 * keel-dm's virtio console: after "ok" the socket is hvc0 both ways. Ctrl-]
 * detaches; bytes typed before it in the same read still go to the guest.
 */
static int console_stream(int fd, const char *name)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { 0, POLLIN, 0 } };
	unsigned char buf[4096];
	const char *end = "detached from";

	fprintf(stderr, "keelctl: console of %s; Ctrl-] detaches (virtio console, hvc0)\r\n", name);
	raw_on();
	for (;;) {
		ssize_t n;
		unsigned char *stop;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0) {
				/* the VM ended, or keel-dm did */
				end = "keel-dm closed the console of";
				break;
			}
			if (write(1, buf, (size_t)n) != n)
				errno = 0;
		}
		if (!p[1].revents)
			continue;
		n = read(0, buf, sizeof(buf));
		if (n <= 0) {
			/* end of input (a script): keep showing output until killed */
			p[1].fd = -1;
			continue;
		}
		stop = memchr(buf, DETACH, (size_t)n);
		if (write(fd, buf, stop ? (size_t)(stop - buf) : (size_t)n) < 0 || stop)
			break;
	}
	raw_off();
	fprintf(stderr, "\r\nkeelctl: %s %s\n", end, name);
	close(fd);
	return 0;
}

/* keel-dm's stream if it has a virtio console for name, else -1. */
static int console_dm(const char *name)
{
	char req[64], line[512];
	int fd;

	snprintf(req, sizeof(req), "console %s", name);
	fd = dm_client_open(req);
	if (fd >= 0 && (dm_client_line(fd, line, sizeof(line)) || strcmp(line, "ok"))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The UART: Keel's console rings. */
static int console_uart(struct ctl *c, const char *name, unsigned vm_id)
{
	struct kctl_ring_hdr *out = ctl_ring(c, vm_id, KCTL_RING_OUT),
			     *in = ctl_ring(c, vm_id, KCTL_RING_IN);
	int stdin_open = 1;

	fprintf(stderr, "keelctl: console of %s; Ctrl-] detaches\r\n", name);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	raw_on();
	for (;;) {
		int r;

		drain(out);
		r = stdin_open ? feed(c, in, vm_id) : 0;
		if (r == 1)
			break;
		if (r < 0)
			/* end of input (a script): keep showing output until killed */
			stdin_open = 0;
		ctl_wait(c, 20, KCTL_IRQ_CONSOLE);
	}
	raw_off();
	fprintf(stderr, "\r\nkeelctl: detached from %s\n", name);
	return 0;
}

int console_run(struct ctl *c, const char *name, unsigned vm_id)
{
	int dm = console_dm(name);

	return dm >= 0 ? console_stream(dm, name) : console_uart(c, name, vm_id);
}

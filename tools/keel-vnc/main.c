// SPDX-License-Identifier: MIT
/* keel-vnc: one guest's screen file served over VNC (libvncserver), its key and pointer input sent to keel-dm. */
#include "keymap.h"
#include "screen.h"
#include <rfb/rfb.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <grp.h>
#include <unistd.h>

#define POLL_US 20000 /* the screen file is looked at 50 times a second */
#define ABS_MAX 32767 /* the virtio tablet's axes (include/virtio/input.h) */

static const char *vm_name, *dm_socket;
static int input_fd = -1;
static volatile sig_atomic_t stop;

static void vnc_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "keel-vnc: %s: ", vm_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

/*
 * keel-dm's input stream for the VM's display ("input VM" -> "ok"), opened
 * once, before privileges go: keel-dm answers from its loop, soon after it
 * started this process.
 */
static int input_open(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval limit = { .tv_sec = 10 };
	char req[96], reply[160];
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", dm_socket);
	snprintf(req, sizeof(req), "input %s\n", vm_name);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || write(fd, req, strlen(req)) < 0 ||
	    (n = read(fd, reply, sizeof(reply) - 1)) <= 0) {
		vnc_log("no input: cannot reach keel-dm at %s: %s", dm_socket, strerror(errno));
		close(fd);
		return -1;
	}
	reply[n] = 0;
	if (strncmp(reply, "ok", 2)) {
		vnc_log("no input: keel-dm says %s", reply);
		close(fd);
		return -1;
	}
	return fd;
}

static void input_line(const char *fmt, ...)
{
	char line[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (input_fd >= 0 && send(input_fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		vnc_log("input lost: keel-dm closed the stream (another client took it?)");
		close(input_fd);
		input_fd = -1;
	}
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	unsigned code = keymap_linux_code((uint32_t)keysym);

	(void)cl;
	if (code)
		input_line("key %u %u\n", code, down ? 1 : 0);
}

/* RFB's button mask (RFC 6143 7.5.5): bits 0-2 left, middle, right; 3 and 4 the wheel. */
static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	rfbScreenInfoPtr s = cl->screen;
	long ax = s->width > 1 ? (long)x * ABS_MAX / (s->width - 1) : 0;
	long ay = s->height > 1 ? (long)y * ABS_MAX / (s->height - 1) : 0;
	int wheel = (mask & 8 ? 1 : 0) - (mask & 16 ? 1 : 0);

	input_line("pointer %ld %ld %d %d\n", ax < 0 ? 0 : ax, ay < 0 ? 0 : ay, mask & 7, wheel);
	rfbDefaultPtrAddEvent(mask, x, y, cl);
}

/* The server's pixels are the screen file's: little-endian 0x00RRGGBB. */
static void xrgb_format(rfbScreenInfoPtr s)
{
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
}

/* From here on nobody: a flaw in the RFB code reaches a read-only screen and an input stream. */
static int drop_privileges(void)
{
	const gid_t nogroup = 65534;
	const uid_t nobody = 65534;

	if (setgroups(0, NULL) || setgid(nogroup) || setuid(nobody))
		return -1;
	return setuid(0) == 0 ? -1 : 0; /* there is no way back */
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* A new picture: resized, or the changed rows marked for the clients. */
static void show(rfbScreenInfoPtr s, const uint32_t *px, uint32_t w, uint32_t h)
{
	uint32_t *fb = (uint32_t *)s->frameBuffer, y0 = h, y1 = 0;

	if ((int)w != s->width || (int)h != s->height) {
		uint32_t *nfb = malloc((size_t)w * h * 4);

		if (!nfb)
			return;
		memcpy(nfb, px, (size_t)w * h * 4);
		rfbNewFramebuffer(s, (char *)nfb, (int)w, (int)h, 8, 3, 4);
		xrgb_format(s);
		free(fb);
		return;
	}
	for (uint32_t y = 0; y < h; y++) {
		if (!memcmp(fb + (size_t)y * w, px + (size_t)y * w, (size_t)w * 4))
			continue;
		memcpy(fb + (size_t)y * w, px + (size_t)y * w, (size_t)w * 4);
		y0 = y < y0 ? y : y0;
		y1 = y + 1;
	}
	if (y0 < y1)
		rfbMarkRectAsModified(s, 0, (int)y0, (int)w, (int)y1);
}

int main(int argc, char **argv)
{
	const volatile struct screen *scr;
	rfbScreenInfoPtr s;
	uint32_t *px, w, h, seen = 1; /* odd: no copy taken yet */
	int fd, port;

	if (argc != 5 || (port = atoi(argv[3])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: keel-vnc VM SCREEN-FILE PORT KEEL-DM-SOCKET\n");
		return 2;
	}
	vm_name = argv[1];
	dm_socket = argv[4];
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	scr = fd < 0 ? MAP_FAILED : mmap(NULL, SCREEN_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	px = malloc((size_t)SCREEN_MAX_W * SCREEN_MAX_H * 4);
	if (scr == MAP_FAILED || !px) {
		vnc_log("cannot map %s: %s", argv[2], strerror(errno));
		return 1;
	}
	rfbLog = rfbErr = vnc_log;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	w = scr->mode_width ? scr->mode_width : 1024;
	h = scr->mode_height ? scr->mode_height : 768;
	s = rfbGetScreen(NULL, NULL, (int)w, (int)h, 8, 3, 4);
	if (!s)
		return 1;
	s->frameBuffer = calloc((size_t)w * h, 4);
	if (!s->frameBuffer)
		return 1;
	xrgb_format(s);
	s->desktopName = vm_name;
	s->port = s->ipv6port = port;
	s->autoPort = FALSE;
	s->alwaysShared = TRUE;
	s->kbdAddEvent = on_key;
	s->ptrAddEvent = on_pointer;
	input_fd = input_open();
	rfbInitServer(s);
	if (s->listenSock == RFB_INVALID_SOCKET) {
		vnc_log("cannot listen on TCP port %d", port);
		return 1;
	}
	if (drop_privileges()) {
		vnc_log("cannot become nobody: %s", strerror(errno));
		return 1;
	}
	vnc_log("serving the screen on TCP port %d", port);
	while (!stop && rfbIsActive(s)) {
		uint32_t seq = __atomic_load_n(&scr->seq, __ATOMIC_ACQUIRE);

		rfbProcessEvents(s, POLL_US);
		if (seq == seen || screen_copy(scr, px, &w, &h))
			continue;
		seen = seq;
		if (!w) { /* display off: black at the mode's size */
			w = scr->mode_width;
			h = scr->mode_height;
			memset(px, 0, (size_t)w * h * 4);
		}
		if (w && h)
			show(s, px, w, h);
	}
	rfbShutdownServer(s, TRUE);
	return 0;
}

// SPDX-License-Identifier: MIT
/* keel-dm gpu: a virtio-gpu display whose scanout keel-dm publishes as the guest's screen file. */
#include "dm.h"
#include "screen.h"
#include <virtio/gpu.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GPU_MEMORY (64ull << 20) /* a guest's resources: a few 1920x1080 frame buffers */
/*
 * The screen file (and VNC, screenshots, the local display) follows the
 * guest's flushes at most this often: a guest that redraws without pause
 * would otherwise keep keel-dm copying and the readers' seqlock retrying.
 */
#define PUBLISH_MS 40
#define VNC_PORT_BASE 5900 /* RFB's display :0 (RFC 6143 1); a VM's display is :<its id> */

struct dm_gpu {
	struct virtio_gpu gpu;
	struct dm_dev *d;
	struct screen *screen; /* SCREEN_BYTES, shared with readers */
	char path[300];	       /* "": anonymous (no state directory) */
	pid_t vnc;	       /* keel-vnc serving the screen file, 0: none */
	unsigned port;
	struct dm_input_stream input; /* keel-vnc's keys and pointer */
	struct virtio_gpu_rect dirty; /* flushed, not yet in the screen file (width 0: nothing) */
	uint64_t published;	      /* when the screen file last changed, CLOCK_MONOTONIC ms */
};

static uint64_t dm_gpu_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void *dm_gpu_alloc(void *ctx, u64 size)
{
	(void)ctx;
	return calloc(1, size);
}

static void dm_gpu_free(void *ctx, void *p, u64 size)
{
	(void)ctx;
	(void)size;
	free(p);
}

static void dm_screen_begin(struct screen *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void dm_screen_end(struct screen *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

/* Rows of r from the surface into the screen, as XRGB (clipped to what the screen holds). */
static void dm_screen_copy(struct screen *scr, const struct virtio_gpu_surface *s,
			   const struct virtio_gpu_rect *r)
{
	uint32_t x1 = r->x + r->width < scr->width ? r->x + r->width : scr->width;
	uint32_t y1 = r->y + r->height < scr->height ? r->y + r->height : scr->height;
	bool same = s->format == VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM ||
		    s->format == VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM;

	for (uint32_t y = r->y; y < y1 && r->x < x1; y++) {
		const u8 *src = s->pixels + (size_t)y * s->stride + (size_t)r->x * 4;
		uint32_t *dst = scr->pixels + (size_t)y * scr->width + r->x;

		if (same) {
			memcpy(dst, src, (size_t)(x1 - r->x) * 4);
			continue;
		}
		for (uint32_t x = r->x; x < x1; x++, src += 4)
			*dst++ = virtio_gpu_pixel(s->format, src);
	}
}

static void dm_gpu_scanout(void *ctx, const struct virtio_gpu_surface *s)
{
	struct dm_gpu *g = ctx;
	struct screen *scr = g->screen;

	g->dirty.width = 0; /* all of it goes now */
	g->published = dm_gpu_now_ms();
	dm_screen_begin(scr);
	scr->width = s ? (s->width < SCREEN_MAX_W ? s->width : SCREEN_MAX_W) : 0;
	scr->height = s ? (s->height < SCREEN_MAX_H ? s->height : SCREEN_MAX_H) : 0;
	if (s)
		dm_screen_copy(scr, s, &(struct virtio_gpu_rect){ 0, 0, s->width, s->height });
	scr->updates++;
	dm_screen_end(scr);
	dm_display_update(g->d, scr, 0, 0, 0, 0, true);
}

/* The flushed rectangles so far, from the scanout as it is now, into the screen file. */
static void dm_gpu_publish(struct dm_gpu *g)
{
	struct virtio_gpu_surface s;
	const struct virtio_gpu_rect *r = &g->dirty;

	if (!r->width)
		return;
	if (virtio_gpu_surface(&g->gpu, &s)) {
		dm_screen_begin(g->screen);
		dm_screen_copy(g->screen, &s, r);
		g->screen->updates++;
		dm_screen_end(g->screen);
		dm_display_update(g->d, g->screen, r->x, r->y, r->width, r->height, false);
	}
	g->dirty.width = 0;
	g->published = dm_gpu_now_ms();
}

static void dm_gpu_flush(void *ctx, const struct virtio_gpu_surface *s,
			 const struct virtio_gpu_rect *r)
{
	struct dm_gpu *g = ctx;
	struct virtio_gpu_rect *d = &g->dirty;

	(void)s;
	if (!d->width) {
		*d = *r;
	} else { /* the smallest rectangle holding both */
		uint32_t x1 = MAX(d->x + d->width, r->x + r->width),
			 y1 = MAX(d->y + d->height, r->y + r->height);

		d->x = MIN(d->x, r->x);
		d->y = MIN(d->y, r->y);
		d->width = x1 - d->x;
		d->height = y1 - d->y;
	}
	if (dm_gpu_now_ms() - g->published >= PUBLISH_MS)
		dm_gpu_publish(g);
}

/*
 * Flushes held back by PUBLISH_MS go out once it has passed (keel-dm polls
 * at least every 20 ms); the input stream is polled.
 */
static void dm_gpu_prepare(struct dm_dev *d, struct pollfd *p)
{
	struct dm_gpu *g = d->be;

	if (g->dirty.width && dm_gpu_now_ms() - g->published >= PUBLISH_MS)
		dm_gpu_publish(g);
	p->fd = g->input.fd;
	p->events = POLLIN;
}

static void dm_gpu_ready(struct dm_dev *d, short revents)
{
	struct dm_gpu *g = d->be;

	dm_input_stream_read(d->vm, &g->input, revents);
}

int dm_gpu_input(struct dm_dev *d, int fd)
{
	struct dm_gpu *g = d->be;

	return dm_input_stream_attach(&g->input, fd);
}

static const struct virtio_gpu_ops dm_gpu_ops = {
	.alloc = dm_gpu_alloc,
	.free = dm_gpu_free,
	.scanout = dm_gpu_scanout,
	.flush = dm_gpu_flush,
};

/* The screen file, made anew (or anonymous memory when keel-dm keeps no state). */
static struct screen *dm_screen_open(struct dm_gpu *g, char *msg, size_t len)
{
	struct dm *dm = g->d->vm->dm;
	void *p;
	int fd = -1;

	if (dm->state_dir) {
		mkdir(dm->state_dir, 0700);
		snprintf(g->path, sizeof(g->path), "%s/%s.screen", dm->state_dir, g->d->vm->name);
		fd = open(g->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)SCREEN_BYTES)) {
			snprintf(msg, len, "cannot make %s: %s", g->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			unlink(g->path);
			return NULL;
		}
	}
	p = mmap(NULL, SCREEN_BYTES, PROT_READ | PROT_WRITE,
		 fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		snprintf(msg, len, "cannot map the screen: %s", strerror(errno));
		if (g->path[0])
			unlink(g->path);
		return NULL;
	}
	memcpy(((struct screen *)p)->magic, SCREEN_MAGIC, 8);
	return p;
}

/*
 * keel-vnc, a process of its own: the network-facing RFB code (libvncserver)
 * never shares an address space with guest RAM. It reads the screen file,
 * sends input lines back through keel-dm's socket (`input VM`), then runs
 * as nobody; it ends with keel-dm.
 */
static void dm_gpu_vnc_start(struct dm_gpu *g)
{
	const char *vnc = g->d->vm->dm->vnc;
	char port[16];
	pid_t pid;

	if (!vnc)
		return;
	g->port = VNC_PORT_BASE + g->d->vm->id;
	snprintf(port, sizeof(port), "%u", g->port);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp(vnc, vnc, g->d->vm->name, g->path, port, KEEL_DM_SOCKET, (char *)NULL);
		dm_log("%s: cannot run %s: %s", g->d->vm->name, vnc, strerror(errno));
		_exit(127);
	}
	g->vnc = pid > 0 ? pid : 0;
	if (pid < 0)
		dm_log("%s: cannot start keel-vnc: %s", g->d->vm->name, strerror(errno));
}

/* 1 while keel-vnc runs (a dead one is reaped and forgotten). */
static int dm_gpu_vnc_alive(struct dm_gpu *g)
{
	int st;

	if (g->vnc && waitpid(g->vnc, &st, WNOHANG) == g->vnc) {
		dm_log("%s: keel-vnc ended (status %d)", g->d->vm->name, st);
		g->vnc = 0;
	}
	return g->vnc != 0;
}

/* gpu [WIDTHxHEIGHT] */
static int dm_gpu_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	struct virtio_gpu_params p = { .max_memory = GPU_MEMORY };
	struct dm_gpu *g;
	char end;

	if (argc > 1 || (argc == 1 && sscanf(argv[0], "%ux%u%c", &p.width, &p.height, &end) != 2)) {
		snprintf(msg, len, "usage: gpu [WIDTHxHEIGHT]");
		return -1;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	if (virtio_gpu_init(&g->gpu, &p, &dm_gpu_ops, g)) {
		snprintf(msg, len, "the display mode must be from %ux%u to %ux%u",
			 VIRTIO_GPU_MIN_WIDTH, VIRTIO_GPU_MIN_HEIGHT, VIRTIO_GPU_MAX_WIDTH,
			 VIRTIO_GPU_MAX_HEIGHT);
		free(g);
		return -1;
	}
	g->d = d;
	g->input.fd = -1;
	g->screen = dm_screen_open(g, msg, len);
	if (!g->screen) {
		free(g);
		return -1;
	}
	g->screen->mode_width = g->gpu.width;
	g->screen->mode_height = g->gpu.height;
	d->be = g;
	d->vdev = &g->gpu.dev;
	if (g->path[0])
		dm_gpu_vnc_start(g);
	return 0;
}

static void dm_gpu_close(struct dm_dev *d)
{
	struct dm_gpu *g = d->be;

	if (dm_display_shows(d))
		dm_display_service();
	dm_input_stream_close(&g->input);
	if (g->vnc) {
		kill(g->vnc, SIGTERM);
		waitpid(g->vnc, NULL, 0);
	}
	virtio_dev_reset(&g->gpu.dev); /* gives back every resource */
	munmap(g->screen, SCREEN_BYTES);
	if (g->path[0])
		unlink(g->path);
	free(g);
}

static void dm_gpu_describe(struct dm_dev *d, char *buf, size_t len)
{
	struct dm_gpu *g = d->be;
	char vnc[32] = "";
	int n;

	if (dm_gpu_vnc_alive(g))
		snprintf(vnc, sizeof(vnc), ", VNC port %u", g->port);
	if (g->screen->width)
		n = snprintf(buf, len, "gpu %ux%u, showing %ux%u", g->gpu.width, g->gpu.height,
			     g->screen->width, g->screen->height);
	else
		n = snprintf(buf, len, "gpu %ux%u, display off", g->gpu.width, g->gpu.height);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s%s", vnc,
			 dm_display_shows(d) ? ", on the local display" : "");
}

int dm_gpu_display(struct dm_dev *d, char *msg, size_t len)
{
	struct dm_gpu *g = d->be;

	return dm_display_show(d, g->screen, msg, len);
}

const char *dm_gpu_screen(struct dm_dev *d)
{
	struct dm_gpu *g = d->be;

	return g->path;
}

const struct dm_kind dm_gpu_kind = {
	.name = "gpu",
	.open = dm_gpu_open,
	.close = dm_gpu_close,
	.describe = dm_gpu_describe,
	.prepare = dm_gpu_prepare,
	.ready = dm_gpu_ready,
};

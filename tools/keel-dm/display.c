// SPDX-License-Identifier: MIT
/* keel-dm's local display: one guest's screen copied onto the machine's framebuffer (the service VM's /dev/fb0). */
#include "dm.h"
#include "screen.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define DM_FB "/dev/fb0"   /* efifb: the UEFI GOP framebuffer Keel hands the service VM */
#define DM_TTY "/dev/tty0" /* the service VM's consoles, drawn by fbcon on that framebuffer */

static struct {
	struct dm_dev *shown; /* the gpu device on the display, NULL: the service VM's console */
	int fb_fd, tty_fd;
	uint8_t *fb;
	size_t fb_len;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	uint32_t x0, y0; /* where the guest's screen's top left goes */
} disp = { .fb_fd = -1, .tty_fd = -1 };

/* 0x00RRGGBB into the framebuffer's 32-bit pixel layout (each channel's top bits). */
static uint32_t dm_display_pixel(uint32_t xrgb)
{
	const struct fb_var_screeninfo *v = &disp.var;
	uint32_t r = xrgb >> 16 & 0xff, g = xrgb >> 8 & 0xff, b = xrgb & 0xff;

	return (r >> (8 - v->red.length)) << v->red.offset |
	       (g >> (8 - v->green.length)) << v->green.offset |
	       (b >> (8 - v->blue.length)) << v->blue.offset;
}

static bool dm_display_native(void)
{
	const struct fb_var_screeninfo *v = &disp.var;

	return v->red.offset == 16 && v->green.offset == 8 && v->blue.offset == 0 &&
	       v->red.length == 8 && v->green.length == 8 && v->blue.length == 8;
}

void dm_display_update(struct dm_dev *d, const struct screen *s, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h, bool whole)
{
	bool native;

	if (d != disp.shown)
		return;
	native = dm_display_native();
	if (whole) { /* a new mode: black around it, then centred (clipped when larger) */
		memset(disp.fb, 0, disp.fb_len);
		disp.x0 = s->width < disp.var.xres ? (disp.var.xres - s->width) / 2 : 0;
		disp.y0 = s->height < disp.var.yres ? (disp.var.yres - s->height) / 2 : 0;
		x = y = 0;
		w = s->width;
		h = s->height;
	}
	if (x >= s->width || y >= s->height)
		return;
	w = MIN(w, s->width - x);
	h = MIN(h, s->height - y);
	w = MIN(w, disp.var.xres > disp.x0 + x ? disp.var.xres - disp.x0 - x : 0);
	h = MIN(h, disp.var.yres > disp.y0 + y ? disp.var.yres - disp.y0 - y : 0);
	for (uint32_t row = y; row < y + h; row++) {
		const uint32_t *src = s->pixels + (size_t)row * s->width + x;
		uint32_t *dst =
			(uint32_t *)(disp.fb + (size_t)(disp.y0 + row) * disp.fix.line_length) +
			disp.x0 + x;

		if (native) {
			memcpy(dst, src, (size_t)w * 4);
			continue;
		}
		for (uint32_t i = 0; i < w; i++)
			dst[i] = dm_display_pixel(src[i]);
	}
}

void dm_display_service(void)
{
	if (!disp.shown)
		return;
	dm_log("the local display shows the service VM's console again (it showed %s)",
	       disp.shown->vm->name);
	disp.shown = NULL;
	memset(disp.fb, 0, disp.fb_len);
	if (ioctl(disp.tty_fd, KDSETMODE, KD_TEXT)) /* fbcon draws the console anew */
		dm_log("%s: KDSETMODE KD_TEXT: %s", DM_TTY, strerror(errno));
	munmap(disp.fb, disp.fb_len);
	close(disp.fb_fd);
	close(disp.tty_fd);
	disp.fb_fd = disp.tty_fd = -1;
}

/* The framebuffer mapped and the console told to keep off it (KD_GRAPHICS); 0, or -1 with msg. */
static int dm_display_take(char *msg, size_t len)
{
	disp.fb_fd = open(DM_FB, O_RDWR | O_CLOEXEC);
	if (disp.fb_fd < 0) {
		snprintf(msg, len, "the service VM has no local display (%s: %s)", DM_FB,
			 strerror(errno));
		return -1;
	}
	if (ioctl(disp.fb_fd, FBIOGET_VSCREENINFO, &disp.var) ||
	    ioctl(disp.fb_fd, FBIOGET_FSCREENINFO, &disp.fix) || disp.var.bits_per_pixel != 32 ||
	    disp.var.red.length > 8 || disp.var.green.length > 8 || disp.var.blue.length > 8) {
		snprintf(msg, len, "%s is not a 32-bit framebuffer keel-dm can draw on", DM_FB);
		goto fail;
	}
	disp.fb_len = (size_t)disp.fix.line_length * disp.var.yres;
	disp.fb = mmap(NULL, disp.fb_len, PROT_READ | PROT_WRITE, MAP_SHARED, disp.fb_fd, 0);
	if (disp.fb == MAP_FAILED) {
		snprintf(msg, len, "cannot map %s: %s", DM_FB, strerror(errno));
		goto fail;
	}
	disp.tty_fd = open(DM_TTY, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (disp.tty_fd < 0 || ioctl(disp.tty_fd, KDSETMODE, KD_GRAPHICS)) {
		snprintf(msg, len, "cannot take the console off the display (%s: %s)", DM_TTY,
			 strerror(errno));
		munmap(disp.fb, disp.fb_len);
		goto fail;
	}
	return 0;
fail:
	if (disp.tty_fd >= 0)
		close(disp.tty_fd);
	close(disp.fb_fd);
	disp.fb_fd = disp.tty_fd = -1;
	return -1;
}

int dm_display_show(struct dm_dev *d, const struct screen *s, char *msg, size_t len)
{
	if (disp.shown == d)
		return 0;
	if (!disp.shown && dm_display_take(msg, len))
		return -1;
	disp.shown = d;
	dm_log("the local display shows %s (%ux%u on %ux%u)", d->vm->name, s->width, s->height,
	       disp.var.xres, disp.var.yres);
	dm_display_update(d, s, 0, 0, 0, 0, true);
	return 0;
}

bool dm_display_shows(const struct dm_dev *d)
{
	return d && d == disp.shown;
}

void dm_display_reset(void)
{
	int mode = KD_TEXT, fd = open(DM_TTY, O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return;
	if (!ioctl(fd, KDGETMODE, &mode) && mode == KD_GRAPHICS) {
		dm_log("the local display shows the service VM's console again (a keel-dm before this one showed a guest)");
		ioctl(fd, KDSETMODE, KD_TEXT);
	}
	close(fd);
}

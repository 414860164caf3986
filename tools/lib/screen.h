/* SPDX-License-Identifier: MIT */
/* A guest's screen as keel-dm publishes it: a shared file of XRGB pixels under a sequence count. */
#ifndef KEEL_SCREEN_H
#define KEEL_SCREEN_H

#include <stdint.h>
#include <string.h>

#define SCREEN_MAGIC "KEELSCR1"
#define SCREEN_MAX_W 1920
#define SCREEN_MAX_H 1080
#define SCREEN_BYTES (sizeof(struct screen) + (size_t)SCREEN_MAX_W * SCREEN_MAX_H * 4)

/*
 * /run/keel-dm/<vm>.screen, written only by keel-dm. Pixels are
 * little-endian 0x00RRGGBB (the top byte means nothing), width * 4 bytes
 * a row. seq is odd while keel-dm writes; a reader copies, and keeps the
 * copy only if seq was even and the same before and after. width 0: the
 * guest's display is off.
 */
struct screen {
	char magic[8];
	uint32_t seq;
	uint32_t width, height;
	uint32_t mode_width, mode_height; /* the display's mode, as the guest is told */
	uint32_t reserved;
	uint64_t updates; /* flushes so far */
	uint32_t pixels[];
};

/*
 * Copies the screen into buf (SCREEN_MAX_W * SCREEN_MAX_H pixels) with its
 * size; 0, or -1 if keel-dm kept writing (try again) or it is not a screen.
 */
static inline int screen_copy(const volatile struct screen *s, uint32_t *buf, uint32_t *w,
			      uint32_t *h)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

	if (memcmp((const void *)s->magic, SCREEN_MAGIC, 8) || (seq & 1))
		return -1;
	*w = s->width;
	*h = s->height;
	if (*w > SCREEN_MAX_W || *h > SCREEN_MAX_H)
		return -1;
	memcpy(buf, (const void *)s->pixels, (size_t)*w * *h * 4);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq ? 0 : -1;
}

#endif

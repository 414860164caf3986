// SPDX-License-Identifier: MIT
/* Framebuffer text console: draws the log with a PSF font converted at build time. */
#include <keel/fbcon.h>
#include <lib/string.h>

#define FIRST_GLYPH 0x20
#define LAST_GLYPH 0x7e
#define TAB_WIDTH 8
#define FG 0x00c0c0c0u /* light grey on black */
#define BG 0x00000000u

extern const u32 font_width, font_height;
extern const u8 font_bits[];

static struct {
	u32 *base;
	u32 width, height, stride; /* pixels */
	u32 cols, rows, x, y;	   /* character cells */
	bool on;
} con;

void fbcon_init(const struct boot_framebuffer *fb)
{
	if (fb->format == FB_NONE || fb->width < font_width || fb->height < font_height)
		return;
	con.base = (u32 *)(uintptr_t)fb->base;
	con.width = fb->width;
	con.height = fb->height;
	con.stride = fb->stride;
	con.cols = fb->width / font_width;
	con.rows = fb->height / font_height;
	con.x = con.y = 0;
	for (u32 row = 0; row < con.height; row++)
		memset(con.base + (u64)row * con.stride, 0, con.width * 4ULL);
	con.on = true;
}

void fbcon_release(void)
{
	con.on = false;
}

static void draw_glyph(u32 cx, u32 cy, char c)
{
	const u8 *g;
	u32 *dst;

	if ((u8)c < FIRST_GLYPH || (u8)c > LAST_GLYPH)
		c = '?';
	g = font_bits + ((u8)c - FIRST_GLYPH) * font_height;
	dst = con.base + (u64)cy * font_height * con.stride + cx * font_width;
	for (u32 row = 0; row < font_height; row++, dst += con.stride)
		for (u32 col = 0; col < font_width; col++)
			dst[col] = (g[row] & (0x80 >> col)) ? FG : BG;
}

static void copy_words(u64 *dst, const u64 *src, u64 n)
{
	while (n--)
		*dst++ = *src++;
}

static void scroll(void)
{
	u64 line = (u64)con.stride * font_height; /* pixels per text row */
	u64 keep = line * (con.rows - 1);

	copy_words((u64 *)con.base, (const u64 *)(con.base + line), keep / 2);
	for (u32 row = 0; row < font_height; row++)
		memset(con.base + keep + (u64)row * con.stride, 0, con.width * 4ULL);
}

static void newline(void)
{
	con.x = 0;
	if (++con.y < con.rows)
		return;
	con.y = con.rows - 1;
	scroll();
}

static void put(char c)
{
	switch (c) {
	case '\n':
		newline();
		return;
	case '\r':
		con.x = 0;
		return;
	case '\t':
		con.x = ALIGN_UP(con.x + 1, TAB_WIDTH) - 1;
		c = ' ';
		break;
	case '\b':
		if (con.x)
			con.x--;
		return;
	}
	if (con.x >= con.cols)
		newline();
	draw_glyph(con.x++, con.y, c);
}

void fbcon_write(const char *s, size_t n)
{
	if (!con.on)
		return;
	for (size_t i = 0; i < n; i++)
		put(s[i]);
}

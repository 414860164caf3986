// SPDX-License-Identifier: MIT
/* PNG files from XRGB pixels: signature, IHDR, IDAT of stored deflate blocks, IEND. */
#include "png.h"
#include <lib/crc32.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STORED_MAX 65535 /* RFC 1951 3.2.4: LEN is 16 bits */

uint32_t png_adler32(uint32_t adler, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t a = adler & 0xffff, b = adler >> 16;

	while (len) {
		/* RFC 1950: the largest run before b can overflow */
		size_t n = len < 5552 ? len : 5552;

		len -= n;
		while (n--) {
			a += *p++;
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	return b << 16 | a;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

static int chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t head[8], tail[4];
	uint32_t crc = crc32(crc32(0, type, 4), data, len);

	put32(head, len);
	memcpy(head + 4, type, 4);
	put32(tail, crc);
	return fwrite(head, 8, 1, f) == 1 && (!len || fwrite(data, len, 1, f) == 1) &&
			       fwrite(tail, 4, 1, f) == 1 ?
		       0 :
		       -1;
}

/* The zlib stream of the filtered rows (filter 0 before each row), in stored blocks. */
static uint8_t *png_zlib(const uint32_t *px, uint32_t w, uint32_t h, size_t *out_len)
{
	size_t raw = (size_t)h * (1 + (size_t)w * 3), blocks = raw / STORED_MAX + 1;
	uint8_t *z = malloc(2 + raw + blocks * 5 + 4), *row = malloc(1 + (size_t)w * 3), *o = z;
	uint32_t adler = 1;
	size_t left = raw, in_block = 0;

	if (!z || !row) {
		free(z);
		free(row);
		return NULL;
	}
	*o++ = 0x78, *o++ = 0x01; /* RFC 1950: deflate, 32 KiB window, no dictionary, FCHECK */
	for (uint32_t y = 0; y < h; y++) {
		row[0] = 0;
		for (uint32_t x = 0; x < w; x++) {
			uint32_t p = px[(size_t)y * w + x];

			row[1 + x * 3] = (uint8_t)(p >> 16);
			row[2 + x * 3] = (uint8_t)(p >> 8);
			row[3 + x * 3] = (uint8_t)p;
		}
		adler = png_adler32(adler, row, 1 + (size_t)w * 3);
		for (size_t at = 0; at < 1 + (size_t)w * 3;) {
			size_t n;

			if (!in_block) { /* RFC 1951 3.2.4: BFINAL, BTYPE 00, LEN, NLEN */
				in_block = left < STORED_MAX ? left : STORED_MAX;
				*o++ = left == in_block;
				*o++ = (uint8_t)in_block, *o++ = (uint8_t)(in_block >> 8);
				*o++ = (uint8_t)~in_block, *o++ = (uint8_t)(~in_block >> 8);
			}
			n = 1 + (size_t)w * 3 - at < in_block ? 1 + (size_t)w * 3 - at : in_block;
			memcpy(o, row + at, n);
			o += n, at += n, in_block -= n, left -= n;
		}
	}
	put32(o, adler);
	*out_len = (size_t)(o + 4 - z);
	free(row);
	return z;
}

int png_write(FILE *f, const uint32_t *px, uint32_t w, uint32_t h)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t ihdr[13] = { 0 };
	size_t zlen;
	uint8_t *z = png_zlib(px, w, h, &zlen);
	int err;

	if (!z || zlen > 0x7fffffff) {
		free(z);
		errno = ENOMEM;
		return -1;
	}
	put32(ihdr, w);
	put32(ihdr + 4, h);
	ihdr[8] = 8; /* bit depth */
	ihdr[9] = 2; /* colour type: truecolour; compression, filter, interlace 0 */
	err = fwrite(sig, 8, 1, f) != 1 || chunk(f, "IHDR", ihdr, 13) ||
	      chunk(f, "IDAT", z, (uint32_t)zlen) || chunk(f, "IEND", NULL, 0);
	free(z);
	return err ? -1 : 0;
}

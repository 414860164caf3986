/* SPDX-License-Identifier: MIT */
/* A PNG writer for screenshots: 8-bit RGB, stored (uncompressed) deflate blocks, no library. */
#ifndef KEELCTL_PNG_H
#define KEELCTL_PNG_H

#include <stdint.h>
#include <stdio.h>

/* PNG 1.2 (ISO 15948) annex D: the CRC-32 of its chunks; zlib's too. */
/* RFC 1950 8.2: the zlib stream's check value. */
uint32_t png_adler32(uint32_t adler, const void *buf, size_t len);
/* XRGB pixels (0x00RRGGBB), w * h, rows packed; 0, or -1 with errno when f fails. */
int png_write(FILE *f, const uint32_t *px, uint32_t w, uint32_t h);

#endif

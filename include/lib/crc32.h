/* SPDX-License-Identifier: MIT */
/* CRC-32 of IEEE 802.3 (PNG, zlib): crc32(0, buf, len), or chained over pieces. */
#ifndef LIB_CRC32_H
#define LIB_CRC32_H

#include <lib/types.h>

u32 crc32(u32 crc, const void *buf, size_t len);

#endif

// SPDX-License-Identifier: MIT
/* CRC-32 (IEEE 802.3, as PNG and zlib use it): bit by bit, small rather than fast. */
#include <lib/crc32.h>

u32 crc32(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++) /* the reflected polynomial 0xedb88320 */
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

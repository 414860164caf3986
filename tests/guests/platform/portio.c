// SPDX-License-Identifier: MIT
/* Test guest: port I/O round trips through the hypervisor, every width, and an empty port. */
#include "../lib/guest.h"

const char test_name[] = "portio";

void test_main(void)
{
	outl(TESTDEV_SCRATCH_PORT, 0x12345678);
	CHECK_EQ(inl(TESTDEV_SCRATCH_PORT), 0x12345678);
	CHECK_EQ(inb(TESTDEV_SCRATCH_PORT + 1), 0x56);
	CHECK_EQ(inw(TESTDEV_SCRATCH_PORT + 2), 0x1234);
	outb(TESTDEV_SCRATCH_PORT + 3, 0xab);
	outw(TESTDEV_SCRATCH_PORT, 0xcdef);
	CHECK_EQ(inl(TESTDEV_SCRATCH_PORT), 0xab34cdef);
	outb(0x3f8 + 7, 0x5a); /* the UART's scratch register */
	CHECK_EQ(inb(0x3f8 + 7), 0x5a);
	CHECK_EQ(inb(0x3f8 + 5) & 0x60, 0x60); /* transmitter empty */
	CHECK_EQ(inb(0x80), 0xff);	       /* nothing there */
	CHECK_EQ(inl(0x1000), 0xffffffff);
	for (u32 i = 0; i < 1000; i++) {
		outl(TESTDEV_SCRATCH_PORT, i * 7919);
		CHECK_EQ(inl(TESTDEV_SCRATCH_PORT), i * 7919);
	}
}

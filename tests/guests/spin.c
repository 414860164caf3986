// SPDX-License-Identifier: MIT
/* Test guest: computes for a while, printing progress, so it outlives a VM that dies beside it. */
#include "lib/guest.h"

const char test_name[] = "spin";

void test_main(void)
{
	u64 start = rdtsc(), sum = 0;

	for (u32 round = 1; round <= 5; round++) {
		for (u64 i = 0; i < 20000000; i++)
			sum += i ^ round;
		gprintf("alive %u\n", round);
	}
	CHECK(sum != 0);
	CHECK(rdtsc() > start);
}

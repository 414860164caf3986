// SPDX-License-Identifier: MIT
/*
 * Benchmark guest (make bench): the cost of a guest exit round trip. Times
 * ITERS CPUID instructions and ITERS port reads of COM1's scratch register
 * (both emulated by the hypervisor, or by QEMU when it runs this directly)
 * against an empty loop, in TSC ticks. Under QEMU's -icount shift=0 the TSC
 * counts executed instructions, so the figures are exact instruction counts.
 */
#include "lib/guest.h"

const char test_name[] = "exitcost";

#define ITERS 20000
#define COM1_SCR 0x3ff

static u64 timed_loop(int what)
{
	u32 a, b, c, d;
	u64 t0 = rdtsc();

	for (u32 i = 0; i < ITERS; i++) {
		if (what == 1)
			cpuid(0, 0, &a, &b, &c, &d);
		else if (what == 2)
			(void)inb(COM1_SCR);
		else
			__asm__ volatile("" ::: "memory");
	}
	return rdtsc() - t0;
}

void test_main(void)
{
	u64 empty = timed_loop(0), cpuid_t = timed_loop(1), pio = timed_loop(2);

	gprintf("exitcost: %u iterations, TSC ticks: empty %llu, cpuid %llu, pio %llu\n", ITERS,
		(unsigned long long)empty, (unsigned long long)cpuid_t, (unsigned long long)pio);
	CHECK(cpuid_t > empty && pio > empty);
}

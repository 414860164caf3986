// SPDX-License-Identifier: MIT
/*
 * Test guest: fills all its RAM above 4 MiB with a pattern of the addresses,
 * then checks it every second for a while: nothing but itself may change it
 * (memory another VM had, and something outside may still write into).
 */
#include "lib/guest.h"

const char test_name[] = "ramcheck";

extern u32 mb_info; /* lib/entry.S: the multiboot information (v1) */

#define START (4 * MiB)
#define LOW_MAPPED (3 * GiB) /* entry.S maps the first 4 GiB, the last one uncached */
#define ROUNDS 20
#define MB_INFO_MEM BIT(0)	 /* multiboot 0.6.96 3.3: mem_lower and mem_upper valid */
#define KEEL_TSC_LEAF 0x40000010 /* eax: the TSC rate in kHz (README "what guests get") */

static u64 pattern(const u64 *p)
{
	return (u64)p ^ 0x9e3779b97f4a7c15ULL;
}

static u64 ram_top(void)
{
	const u32 *mbi = (const u32 *)(u64)mb_info;

	if (!mbi || !(mbi[0] & MB_INFO_MEM))
		fail_at(__LINE__, "no memory size from the loader");
	return MIN(MiB + (u64)mbi[2] * KiB, LOW_MAPPED);
}

static void wait_one_second(void)
{
	u32 khz, b, c, d;
	u64 t0 = rdtsc();

	cpuid(KEEL_TSC_LEAF, 0, &khz, &b, &c, &d);
	while (rdtsc() - t0 < (u64)(khz ? khz : 2000000) * 1000)
		__asm__ volatile("pause");
}

void test_main(void)
{
	u64 *end = (u64 *)ram_top();

	for (u64 *p = (u64 *)START; p < end; p++)
		*p = pattern(p);
	gprintf("ramcheck: %llu MiB filled\n", (unsigned long long)(((u64)end - START) / MiB));
	for (u32 round = 1; round <= ROUNDS; round++) {
		u64 changed = 0, *first = NULL;

		wait_one_second();
		for (u64 *p = (u64 *)START; p < end; p++) {
			if (*p == pattern(p))
				continue;
			first = first ? first : p;
			changed++;
		}
		if (changed)
			fail_at(__LINE__,
				"%llu words changed from outside, the first at %llx (%llx)",
				(unsigned long long)changed, (unsigned long long)first,
				(unsigned long long)*first);
	}
	gprintf("ramcheck: intact after %u s\n", ROUNDS);
}

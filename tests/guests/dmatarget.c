// SPDX-License-Identifier: MIT
/*
 * Test guest: the target of a DMA attack on a running guest's RAM. Fills one
 * page with a pattern, says its guest-physical address, then re-reads it at
 * each key on its console and says whether it is intact: a device that is
 * not this guest's must not be able to write it.
 */
#include "lib/guest.h"

const char test_name[] = "dmatarget";

#define TARGET (8 * MiB) /* in its RAM (16 MiB at least), clear of the image at 1 MiB */
#define WORDS (4096 / 8)
#define COM1_DATA 0x3f8
#define COM1_LSR 0x3fd
#define LSR_DR BIT(0)		 /* 16550: a byte is waiting */
#define KEEL_TSC_LEAF 0x40000010 /* eax: the TSC rate in kHz (README "what guests get") */

static u64 pattern(u32 i)
{
	return (TARGET + i * 8ULL) ^ 0x6b65656c646d6174ULL; /* "keeldmat" */
}

/* The next byte on the console, its line status read every 5 ms: few exits while it waits. */
static void wait_key(u64 khz)
{
	while (!(inb(COM1_LSR) & LSR_DR))
		for (u64 t0 = rdtsc(); rdtsc() - t0 < khz * 5;)
			__asm__ volatile("pause");
	(void)inb(COM1_DATA);
}

void test_main(void)
{
	volatile u64 *page = (volatile u64 *)TARGET;
	u32 khz, b, c, d;

	cpuid(KEEL_TSC_LEAF, 0, &khz, &b, &c, &d);
	for (u32 i = 0; i < WORDS; i++)
		page[i] = pattern(i);
	gprintf("dmatarget: pattern at %#llx; a key re-checks it\n", (unsigned long long)TARGET);
	for (u32 round = 1;; round++) {
		u32 changed = 0, first = 0;

		wait_key(khz ? khz : 2000000);
		for (u32 i = WORDS; i-- > 0;) {
			if (page[i] == pattern(i))
				continue;
			changed++;
			first = i;
		}
		if (changed)
			gprintf("dmatarget: check %u: %u words changed, the first at %#llx (%#llx)\n",
				round, changed, (unsigned long long)(TARGET + first * 8ULL),
				(unsigned long long)page[first]);
		else
			gprintf("dmatarget: check %u: pattern intact\n", round);
	}
}

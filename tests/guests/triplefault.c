// SPDX-License-Identifier: MIT
/* Test guest: triple-faults on purpose; Keel must stop this VM and nothing else. */
#include "lib/guest.h"

const char test_name[] = "triplefault";

void test_main(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) none = { 0, 0 };

	gprintf("about to triple fault\n");
	__asm__ volatile("lidt %0; int3" ::"m"(none));
	fail_at(__LINE__, "still running after a triple fault");
}

// SPDX-License-Identifier: MIT
/*
 * Test guest: its RAM is zeroed (nothing left from earlier users), then it
 * reads guest-physical memory beyond its RAM, where hypervisor or other VMs'
 * memory would be if it were not isolated. Keel must stop it there.
 */
#include "lib/guest.h"

const char test_name[] = "escape";

extern char _image_end[];

void test_main(void)
{
	u64 end = 16ULL << 20; /* the VM is configured with 16 MiB */
	u64 nonzero = 0;

	for (u64 a = (u64)_image_end; a < end; a += 8)
		nonzero += *(volatile u64 *)a != 0;
	CHECK_EQ(nonzero, 0);
	gprintf("RAM up to %llx is clean; now reading %llx\n", (unsigned long long)end,
		(unsigned long long)end);
	gprintf("read %llx\n", (unsigned long long)*(volatile u64 *)end);
	fail_at(__LINE__, "read memory outside its RAM");
}

// SPDX-License-Identifier: MIT
/* Test guest: a page fault taken and fixed inside the guest, under nested paging. */
#include "lib/guest.h"

const char test_name[] = "pagefault";

#define TARGET 0x40000000ULL /* 1 GiB: mapped by the boot tables, unmapped below */
extern u64 pdpt[], pd[];
static u64 pt[512] __attribute__((aligned(4096)));
static u8 backing[4096] __attribute__((aligned(4096)));
static volatile u64 fault_addr, fault_error;

static void on_pf(struct gframe *f)
{
	u64 cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	fault_addr = cr2;
	fault_error = f->error;
	pt[(cr2 >> 12) & 511] = (u64)backing | 3; /* map it and retry the access */
}

void test_main(void)
{
	volatile u64 *p = (volatile u64 *)(TARGET + 0x5008);
	u64 v;

	trap_set(14, on_pf);
	pd[512] = (u64)pt | 3; /* the 2 MiB at 1 GiB now goes through an empty table */
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	*(volatile u8 *)&backing[8] = 0x5a;
	v = *p;
	CHECK_EQ(trap_count[14], 1);
	CHECK_EQ(fault_addr, TARGET + 0x5008);
	CHECK_EQ(fault_error & 1, 0); /* not present */
	CHECK_EQ(v & 0xff, 0x5a);
	*p = 0x1234;
	CHECK_EQ(trap_count[14], 1); /* no second fault */
	CHECK_EQ(*(volatile u64 *)(backing + 8), 0x1234);
	__asm__ volatile("invlpg (%0)" ::"r"(p) : "memory");
	pt[5] = 0;
	__asm__ volatile("invlpg (%0)" ::"r"(p) : "memory");
	*p = 7; /* faults again, gets mapped again */
	CHECK_EQ(trap_count[14], 2);
	CHECK_EQ(fault_error & 2, 2); /* a write */
}

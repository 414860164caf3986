// SPDX-License-Identifier: MIT
/* Test guest: MSRs the platform has work, an unknown MSR raises #GP in the guest. */
#include "../lib/guest.h"

const char test_name[] = "msr";

static void skip_2(struct gframe *f)
{
	f->rip += 2; /* RDMSR and WRMSR are 0F 32 / 0F 30 */
}

static u64 probe_read(u32 msr, bool *faulted)
{
	u64 before = trap_count[13], v = 0;
	u32 lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr));
	v = ((u64)hi << 32) | lo;
	*faulted = trap_count[13] != before;
	return v;
}

void test_main(void)
{
	bool gp;
	u64 efer, pat, t0, t1;

	trap_set(13, skip_2);
	wrmsr(0x174, 0x10); /* SYSENTER_CS: the guest's own */
	CHECK_EQ(rdmsr(0x174), 0x10);
	wrmsr(0xc0000102, 0x1234567800ULL); /* KERNEL_GS_BASE */
	CHECK_EQ(rdmsr(0xc0000102), 0x1234567800ULL);
	pat = rdmsr(0x277);
	CHECK_EQ(pat, 0x0007040600070406ULL); /* power-on PAT */
	wrmsr(0x277, 0x0007010600070106ULL);
	CHECK_EQ(rdmsr(0x277), 0x0007010600070106ULL);
	efer = rdmsr(0xc0000080);
	CHECK(efer & (1 << 8));			  /* LME */
	CHECK(efer & (1 << 10));		  /* LMA */
	CHECK(!(efer & (1 << 12)));		  /* SVME hidden */
	CHECK_EQ(rdmsr(0xc0010114) & 0x18, 0x18); /* VM_CR: SVM disabled and locked */
	t0 = rdmsr(0x10);
	t1 = rdmsr(0x10);
	CHECK(t1 > t0);
	__asm__ volatile("wrmsr" ::"c"(0xc0000080), "a"((u32)(efer & ~(1 << 8))), "d"(0));
	CHECK_EQ(trap_count[13], 1); /* clearing LME while paging: #GP */
	__asm__ volatile("wrmsr" ::"c"(0xc0000080), "a"((u32)(efer | (1 << 12))), "d"(0));
	CHECK_EQ(trap_count[13], 2); /* setting SVME: #GP, the guest has no SVM */
	__asm__ volatile("wrmsr" ::"c"(0x277), "a"(0x02), "d"(0));
	CHECK_EQ(trap_count[13], 3); /* PAT type 2 is reserved */
	CHECK_EQ(rdmsr(0xc0000080), efer);
	trap_count[13] = 0;
	probe_read(0x12345678, &gp);
	CHECK(gp);
	CHECK_EQ(trap_count[13], 1);
	__asm__ volatile("wrmsr" ::"c"(0xc0010117), "a"(0), "d"(0)); /* VM_HSAVE_PA: refused */
	CHECK_EQ(trap_count[13], 2);
	gprintf("unknown MSRs raised #GP %llu times\n", (unsigned long long)trap_count[13]);
}

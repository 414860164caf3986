// SPDX-License-Identifier: MIT
/*
 * Test guest: XSETBV with values the architecture refuses (SDM 1 13.3,
 * 2B XSETBV) takes #GP in the guest, leaves XCR0 as it was, and the guest
 * carries on; the values it accepts load. Under VT-x every XSETBV exits to
 * Keel, which must refuse these itself: the CPU would #GP in VMX root.
 */
#include "../lib/guest.h"

const char test_name[] = "xsetbv";

#define CPUID_1_ECX_XSAVE BIT(26)
#define CR4_OSXSAVE BIT(18)
#define X87 BIT(0)
#define SSE BIT(1)
#define AVX BIT(2)
#define BNDREGS BIT(3)
#define BNDCSR BIT(4)
#define OPMASK BIT(5)
#define AVX512 (BIT(5) | BIT(6) | BIT(7))
#define TILECFG BIT(17)
#define TILEDATA BIT(18)
#define XSETBV_LEN 3 /* 0f 01 d1 */

static volatile u64 gp_count;

static void on_gp(struct gframe *f)
{
	gp_count++;
	f->rip += XSETBV_LEN; /* only XSETBV faults here */
}

static u64 xgetbv0(void)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

static void xsetbv(u32 ecx, u64 val)
{
	__asm__ volatile("xsetbv" ::"c"(ecx), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static void refused(const char *what, u32 ecx, u64 val)
{
	u64 before = xgetbv0(), gp = gp_count;

	xsetbv(ecx, val);
	if (gp_count != gp + 1)
		fail_at(__LINE__, "%s: XSETBV(ECX %u, %#llx) did not raise #GP", what, ecx,
			(unsigned long long)val);
	if (xgetbv0() != before)
		fail_at(__LINE__, "%s: XCR0 changed to %#llx", what, (unsigned long long)xgetbv0());
	gprintf("xsetbv: %s (%#llx): #GP\n", what, (unsigned long long)val);
}

static void accepted(const char *what, u64 val)
{
	u64 gp = gp_count;

	xsetbv(0, val);
	if (gp_count != gp)
		fail_at(__LINE__, "%s: XSETBV(%#llx) raised #GP", what, (unsigned long long)val);
	CHECK_EQ(xgetbv0(), val);
}

void test_main(void)
{
	u32 a, b, c, d;
	u64 host, cr4;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID_1_ECX_XSAVE)) {
		gprintf("xsetbv: no XSAVE on this CPU: nothing to test\n");
		return;
	}
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | CR4_OSXSAVE));
	cpuid(0xd, 0, &a, &b, &c, &d);
	host = ((u64)d << 32) | a;
	gprintf("xsetbv: XCR0 may hold %#llx\n", (unsigned long long)host);
	trap_set(13, on_gp);
	CHECK_EQ(xgetbv0(), X87); /* as after reset */
	accepted("x87 and SSE", X87 | SSE);
	if (host & AVX) {
		refused("AVX without SSE", 0, X87 | AVX);
		accepted("x87, SSE, AVX", X87 | SSE | AVX);
	}
	refused("no x87", 0, SSE);
	refused("zero", 0, 0);
	refused("ECX 1", 1, X87 | SSE);
	refused("bit 63", 0, X87 | SSE | BIT(63));
	refused("PT, a supervisor state", 0, X87 | SSE | BIT(8));
	if ((host & AVX512) == AVX512) {
		refused("opmask alone", 0, X87 | SSE | AVX | OPMASK);
		refused("AVX-512 but AVX", 0, X87 | SSE | AVX512);
		refused("two of the AVX-512 three", 0, X87 | SSE | AVX | (AVX512 & ~OPMASK));
		accepted("AVX-512", X87 | SSE | AVX | AVX512);
	} else {
		refused("AVX-512 on a CPU without it", 0, X87 | SSE | AVX | AVX512);
	}
	refused("BNDREGS alone", 0, X87 | SSE | BNDREGS);
	refused("TILECFG alone", 0, X87 | SSE | TILECFG);
	refused("TILEDATA alone", 0, X87 | SSE | TILEDATA);
	accepted("x87 and SSE again", X87 | SSE);
	CHECK(gp_count >= 9);
}

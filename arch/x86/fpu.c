// SPDX-License-Identifier: MIT
/* XSAVE/XRSTOR of a vCPU's extended state (SDM 1 chapter 13), FXSAVE where XSAVE is missing. */
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <lib/string.h>

#define XCR0_X87 BIT(0)
#define FXSAVE_SIZE 512
#define MXCSR_OFFSET 24 /* SDM 1 table 10-2 */
#define MXCSR_INIT 0x1f80
#define FCW_INIT 0x37f

static bool has_xsave;
static u32 area_size = FXSAVE_SIZE;
static u64 xcr0_host;

void fpu_cpu_init(void)
{
	has_xsave = cpuid(1).ecx & CPUID_1_ECX_XSAVE;
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | (has_xsave ? CR4_OSXSAVE : 0));
	if (has_xsave) {
		struct cpuid_regs d = cpuid_count(0xd, 0);

		/* all features (SDM 1 13.2) */
		area_size = MAX(d.ecx, FXSAVE_SIZE + 64);
		xcr0_host = ((u64)d.edx << 32) | d.eax;
	}
}

u64 fpu_xcr0_host(void)
{
	return xcr0_host;
}

void fpu_set_xcr0(u64 val)
{
	__asm__ volatile("xsetbv" ::"c"(0), "a"((u32)val), "d"((u32)(val >> 32)));
}

u32 fpu_area_size(void)
{
	return area_size;
}

void fpu_area_init(void *area)
{
	u16 fcw = FCW_INIT;
	u32 mxcsr = MXCSR_INIT;

	memset(area, 0, area_size); /* XSTATE_BV = 0: every component in its init state */
	memcpy(area, &fcw, 2);
	memcpy((u8 *)area + MXCSR_OFFSET, &mxcsr, 4);
}

static u64 xgetbv0(void)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

void fpu_save(void *area, u64 *xcr0)
{
	if (!has_xsave) {
		__asm__ volatile("fxsaveq %0" : "=m"(*(u8(*)[FXSAVE_SIZE])area));
		return;
	}
	*xcr0 = xgetbv0(); /* SVM guests write XCR0 themselves (XSETBV is not intercepted) */
	__asm__ volatile("xsaveq (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
}

void fpu_restore(const void *area, u64 xcr0)
{
	if (!has_xsave) {
		__asm__ volatile("fxrstorq %0" ::"m"(*(const u8(*)[FXSAVE_SIZE])area));
		return;
	}
	fpu_set_xcr0(xcr0 | XCR0_X87);
	__asm__ volatile("xrstorq (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
}

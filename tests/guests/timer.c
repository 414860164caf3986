// SPDX-License-Identifier: MIT
/* Test guest: LAPIC timer interrupts arrive, in xAPIC (MMIO) and x2APIC (MSR) modes and with TSC deadline. */
#include "lib/guest.h"
#include <arch/x86/apic_regs.h>

const char test_name[] = "timer";

#define APIC ((volatile u32 *)APIC_DEFAULT_BASE)
#define VEC 0x40
/* the guest's own copies: arch/x86/cpu.h is the hypervisor's, with its own rdmsr() */
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0

static volatile u32 ticks;
static bool x2;

static void apic_eoi(void)
{
	if (x2)
		wrmsr(X2APIC_MSR(APIC_EOI), 0);
	else
		APIC[APIC_EOI / 4] = 0;
}

static void on_timer(struct gframe *f)
{
	(void)f;
	ticks++;
	apic_eoi();
}

static void apic_write(u32 reg, u32 v)
{
	if (x2)
		wrmsr(X2APIC_MSR(reg), v);
	else
		APIC[reg / 4] = v;
}

static u32 apic_read(u32 reg)
{
	return x2 ? (u32)rdmsr(X2APIC_MSR(reg)) : APIC[reg / 4];
}

static void wait_ticks(u32 n, const char *what)
{
	u64 start = rdtsc();

	ticks = 0;
	__asm__ volatile("sti");
	while (ticks < n) {
		__asm__ volatile("hlt");
		if (rdtsc() - start > 50000000000ULL)
			fail_at(__LINE__, "%s: only %u timer interrupts", what, ticks);
	}
	__asm__ volatile("cli");
	gprintf("%s: %u interrupts\n", what, ticks);
}

static void periodic(void)
{
	apic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff); /* software enable, spurious 0xff */
	apic_write(APIC_TIMER_DIVIDE, 0xb);	      /* divide by 1 */
	apic_write(APIC_LVT_TIMER, VEC | APIC_TIMER_PERIODIC << APIC_LVT_TIMER_SHIFT);
	apic_write(APIC_TIMER_INIT, 1000000); /* 1 ms at the 1 GHz virtual bus */
	CHECK(apic_read(APIC_TIMER_CURRENT) <= 1000000);
	wait_ticks(20, x2 ? "x2APIC periodic" : "xAPIC periodic");
	apic_write(APIC_TIMER_INIT, 0);
}

static void tsc_deadline(void)
{
	u32 a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1 << 24))) {
		gprintf("no TSC deadline timer on this CPU\n");
		return;
	}
	apic_write(APIC_LVT_TIMER, VEC | APIC_TIMER_TSC_DEADLINE << APIC_LVT_TIMER_SHIFT);
	for (int i = 0; i < 5; i++) {
		u32 before = ticks;

		wrmsr(MSR_TSC_DEADLINE, rdtsc() + 1000000);
		__asm__ volatile("sti; hlt; cli");
		while (ticks == before)
			__asm__ volatile("sti; hlt; cli");
	}
	CHECK(ticks >= 5);
	gprintf("TSC deadline: %u interrupts\n", ticks);
}

void test_main(void)
{
	trap_set(VEC, on_timer);
	trap_set(0xff, on_timer);		       /* spurious: harmless */
	CHECK_EQ(APIC[APIC_VERSION / 4] & 0xff, 0x14); /* read through MMIO emulation */
	periodic();
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_X2APIC);
	x2 = true;
	CHECK_EQ(rdmsr(X2APIC_MSR(APIC_ID)), 0); /* vCPU 0 */
	periodic();
	ticks = 0;
	tsc_deadline();
}

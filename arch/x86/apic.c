// SPDX-License-Identifier: MIT
/* Local APIC driver: xAPIC through MMIO or x2APIC through MSRs (SDM 3A chapter 11). */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/memory.h>

#define CALIBRATE_MS 20

static bool x2apic;
static volatile u32 *xapic_mmio;
static u64 timer_hz; /* LAPIC timer counts per second at divide-by-16 */

static u32 apic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(X2APIC_MSR(reg));
	return xapic_mmio[reg / 4];
}

static void apic_write(u32 reg, u32 v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR(reg), v);
	else
		xapic_mmio[reg / 4] = v;
}

bool apic_x2apic(void)
{
	return x2apic;
}

void apic_init(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	x2apic = cpuid(1).ecx & CPUID_1_ECX_X2APIC;
	/* SDM 3A 11.12.5: xAPIC must be enabled before switching to x2APIC */
	base |= APIC_BASE_ENABLE;
	wrmsr(MSR_APIC_BASE, base);
	if (x2apic)
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
	xapic_mmio = phys_to_virt(base & APIC_BASE_ADDR_MASK);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VECTOR_SPURIOUS);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_THERMAL, APIC_LVT_MASKED);
	apic_write(APIC_LVT_PERF, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT1, APIC_DM_NMI << APIC_DM_SHIFT); /* LINT1 carries NMI on PCs */
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	apic_write(APIC_ESR, 0);
	apic_write(APIC_EOI, 0);
}

u32 apic_id(void)
{
	return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_send_ipi(u32 dest, u32 icr_low)
{
	if (x2apic) {
		wrmsr(X2APIC_MSR(APIC_ICR_LO), ((u64)dest << 32) | icr_low);
		return;
	}
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr_low);
	for (int i = 0; i < 1000000 && (apic_read(APIC_ICR_LO) & APIC_ICR_PENDING); i++)
		cpu_relax();
}

void apic_timer_calibrate(void)
{
	u32 start = 0xffffffff, left;

	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIV_16);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_TIMER_INIT, start);
	tsc_delay_us(CALIBRATE_MS * 1000);
	left = apic_read(APIC_TIMER_CURRENT);
	apic_write(APIC_TIMER_INIT, 0);
	timer_hz = (u64)(start - left) * 1000 / CALIBRATE_MS;
}

u64 apic_timer_hz(void)
{
	return timer_hz;
}

void apic_timer_start(u32 hz)
{
	this_cpu()->timer_oneshot = false;
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIV_16);
	apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC << APIC_LVT_TIMER_SHIFT | VECTOR_TIMER);
	apic_write(APIC_TIMER_INIT, (u32)(timer_hz / hz));
}

/* Most entries ask for the deadline the timer is set for already: that costs nothing. */
void apic_timer_program(u64 tsc_deadline)
{
	struct percpu *pc = this_cpu();
	u64 now, delta, ticks;

	now = rdtsc();
	delta = tsc_deadline > now ? tsc_deadline - now : 0;
	ticks = tsc_hz() ? delta * timer_hz / tsc_hz() : 1;
	ticks = MIN(MAX(ticks, 1), 0xffffffffULL);
	if (!pc->timer_oneshot) {
		apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIV_16);
		apic_write(APIC_LVT_TIMER, VECTOR_TIMER); /* one-shot */
		pc->timer_oneshot = true;
	}
	apic_write(APIC_TIMER_INIT, (u32)ticks);
	pc->timer_deadline = tsc_deadline;
}

void apic_timer_fired(void)
{
	this_cpu()->timer_deadline = 0;
}

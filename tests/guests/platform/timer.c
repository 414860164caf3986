// SPDX-License-Identifier: MIT
/* Test guest: the guest's clocks (TSC, PM timer, LAPIC timer in xAPIC and x2APIC modes, TSC deadline) agree and keep their rates. */
#include "../lib/guest.h"
#include <arch/x86/apic_regs.h>

const char test_name[] = "timer";

#define APIC ((volatile u32 *)APIC_DEFAULT_BASE)
#define VEC 0x40
#define SPURIOUS_VEC 0xff
/* the guest's own copies: arch/x86/cpu.h is the hypervisor's, with its own rdmsr() */
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define DCR_DIV1 0xb /* SDM 3A figure 11-10 */
#define DCR_DIV4 0x1
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
/* The hypervisor timing leaf Keel fills: EAX TSC kHz, EBX APIC bus kHz. */
#define LEAF_HV_BASE 0x40000000
#define LEAF_HV_TIMING 0x40000010
/* ACPI 6.5 4.8.3.3: the PM timer, at Keel's guest PM block (32 bits: TMR_VAL_EXT) */
#define PM_TIMER_PORT 0x608
#define PM_TIMER_HZ 3579545ULL

#define PERIOD_US 1000	 /* periodic mode: 1 ms */
#define INTERVALS 32	 /* periodic intervals timed with the guest present throughout */
#define DEADLINE_US 2000 /* TSC deadline: 2 ms ahead */
/* interrupts one measurement may take: under contention few intervals are clean (27 of 512 seen) */
#define MAX_STAMPS 4096
#define MEASURE_MS 100 /* clock rates over 100 ms of the PM timer */
#define PAIR_US 200    /* a reading of two clocks at once: within 200 us */

static volatile u32 ticks, spurious;
static volatile u64 stamp[MAX_STAMPS]; /* TSC at each timer interrupt's handler */
static volatile u64 done[MAX_STAMPS];  /* and as it returns */
/* Longest time the guest was away (not in its loop, not in the handler) up to each tick, TSC. */
static u64 away[MAX_STAMPS];
static bool x2;
static u64 tsc_khz, bus_khz;

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

static void on_timer(struct gframe *f)
{
	u32 t = ticks;

	(void)f;
	if (t < MAX_STAMPS)
		stamp[t] = rdtsc();
	apic_write(APIC_EOI, 0);
	if (t < MAX_STAMPS)
		done[t] = rdtsc();
	ticks = t + 1;
}

/* A spurious interrupt is no tick (SDM 3A 11.9): counted apart, and it takes no EOI. */
static void on_spurious(struct gframe *f)
{
	(void)f;
	spurious++;
}

static u32 pm_timer(void)
{
	return inl(PM_TIMER_PORT);
}

static u64 us_to_tsc(u64 us)
{
	return us * tsc_khz / 1000;
}

/* Busy-waits us microseconds of the guest TSC, interrupts as they are. */
static void tsc_wait(u64 us)
{
	u64 end = rdtsc() + us_to_tsc(us);

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* v within pct percent of want (both positive). */
static bool near(u64 v, u64 want, u64 pct)
{
	return v * 100 >= want * (100 - pct) && v * 100 <= want * (100 + pct);
}

/*
 * A PM timer reading taken with another clock's (read by f): both PM reads
 * around it lie within PAIR_US, so a vCPU switch cannot come between them.
 */
static u32 pm_with(u64 (*f)(void), u64 *other)
{
	for (;;) {
		u32 p0 = pm_timer();
		u64 v = f();
		u32 p1 = pm_timer();

		if ((u32)(p1 - p0) <= PM_TIMER_HZ * PAIR_US / 1000000) {
			*other = v;
			return p0 + (u32)(p1 - p0) / 2;
		}
	}
}

static u64 read_tsc(void)
{
	return rdtsc();
}

static u64 read_ccr(void)
{
	return apic_read(APIC_TIMER_CURRENT);
}

/* Keel's timing leaf, and the TSC's rate against the PM timer (an independent device). */
static void clocks(void)
{
	u32 a, b, c, d, p0, p1;
	u64 t0, t1, khz;

	cpuid(LEAF_HV_BASE, 0, &a, &b, &c, &d);
	CHECK(a >= LEAF_HV_TIMING);
	cpuid(LEAF_HV_TIMING, 0, &a, &b, &c, &d);
	tsc_khz = a;
	bus_khz = b;
	CHECK(tsc_khz > 0 && bus_khz > 0);
	p0 = pm_with(read_tsc, &t0);
	while ((u32)(pm_timer() - p0) < PM_TIMER_HZ * MEASURE_MS / 1000)
		;
	p1 = pm_with(read_tsc, &t1);
	khz = (t1 - t0) * PM_TIMER_HZ / ((u64)(u32)(p1 - p0) * 1000);
	gprintf("clocks: TSC %llu kHz by the timing leaf, %llu kHz against the PM timer; bus %llu kHz\n",
		(unsigned long long)tsc_khz, (unsigned long long)khz, (unsigned long long)bus_khz);
	if (!near(khz, tsc_khz, 2))
		fail_at(__LINE__,
			"the TSC runs at %llu kHz against the PM timer, the leaf says %llu",
			(unsigned long long)khz, (unsigned long long)tsc_khz);
}

/*
 * The current count falls at the bus rate over the divisor (one-shot of 1 s,
 * masked). A reading taken once the count ran out says nothing of its rate:
 * when this vCPU is away long enough (nine guests share one CPU under Bochs,
 * and a 100 ms wait there took 1.2 s) the measurement is taken again.
 */
#define RATE_TRIES 5
static void count_rate(u32 dcr, u32 div, const char *what)
{
	u32 icr = (u32)(bus_khz * 1000 / div), p0, p1, i;
	u64 c0, c1, rate;

	for (i = 0;; i++) {
		apic_write(APIC_TIMER_DIVIDE, dcr);
		apic_write(APIC_LVT_TIMER, VEC | APIC_LVT_MASKED);
		apic_write(APIC_TIMER_INIT, icr);
		p0 = pm_with(read_ccr, &c0);
		while ((u32)(pm_timer() - p0) < PM_TIMER_HZ * MEASURE_MS / 1000)
			;
		p1 = pm_with(read_ccr, &c1);
		apic_write(APIC_TIMER_INIT, 0);
		CHECK(c0 <= icr && c1 < c0);
		if (c1 > 0)
			break;
		if (i + 1 == RATE_TRIES)
			fail_at(__LINE__,
				"%s: the count of %u ran out within each of %u tries to read it twice 100 ms apart (last: %llu us)",
				what, icr, RATE_TRIES,
				(unsigned long long)((u64)(u32)(p1 - p0) * 1000000 / PM_TIMER_HZ));
	}
	/* counts per second times the divisor: the bus rate in Hz */
	rate = (c0 - c1) * div * PM_TIMER_HZ / (u32)(p1 - p0);
	if (!near(rate, bus_khz * 1000, 2))
		fail_at(__LINE__,
			"%s: the count falls at %llu Hz x divisor %u, the bus is %llu kHz", what,
			(unsigned long long)rate, div, (unsigned long long)bus_khz);
}

/* The median of n values, by insertion sort. */
static u64 median(u64 *v, u32 n)
{
	for (u32 i = 1; i < n; i++)
		for (u32 j = i; j > 0 && v[j - 1] > v[j]; j--) {
			u64 t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

/*
 * Spins with interrupts on until `clean` intervals between consecutive
 * interrupts passed with the guest present throughout (never away, in an
 * exit or another vCPU's turn, for more than a quarter period, the
 * delivery of both interrupts included); their lengths go to iv. Returns
 * the number of interrupts taken.
 */
static u32 spin_for_intervals(u64 period, u64 *iv, u32 clean, const char *what)
{
	u64 start = rdtsc(), last = start, limit = us_to_tsc(20 * 1000 * 1000);
	u32 seen = 0, n = 0;

	for (u32 i = 0; i < MAX_STAMPS; i++)
		away[i] = 0;
	__asm__ volatile("sti");
	while (n < clean) {
		u32 t = ticks; /* before the TSC: a delivery in between only widens this gap */
		u64 now = rdtsc(), gap = now - last;

		if (t >= MAX_STAMPS || now - start > limit)
			fail_at(__LINE__, "%s: %u interrupts, %u clean intervals in %llu us", what,
				t, n, (unsigned long long)((now - start) * 1000 / tsc_khz));
		if (t == seen + 1) /* the handler ran in this gap: its own time is no absence */
			gap -= MIN(gap, done[seen] - stamp[seen]);
		else if (t != seen) /* several deliveries in one gap: the guest was away */
			for (u32 i = seen; i < t; i++)
				away[i] = gap = ~0ULL;
		if (gap > away[seen])
			away[seen] = gap;
		if (t != seen) {
			/* the interval seen-1 .. seen is complete: both deliveries prompt? */
			if (t == seen + 1 && seen >= 1 && away[seen] <= period / 4 &&
			    away[seen - 1] <= period / 4)
				iv[n++] = stamp[seen] - stamp[seen - 1];
			seen = t;
		}
		last = now;
	}
	__asm__ volatile("cli");
	return ticks;
}

/*
 * Periodic mode at PERIOD_US: the median interval between interrupts, over
 * intervals with the guest present throughout (the time other vCPUs hold
 * this CPU only skips periods: SDM 3A 11.5.4, one interrupt per expiry,
 * pending ones merge), is the period within 10%; and no more interrupts
 * come than periods pass.
 */
static void periodic(u32 dcr, u32 div, const char *what)
{
	u32 icr = (u32)(bus_khz * PERIOD_US / 1000 / div), n;
	u64 period = us_to_tsc(PERIOD_US), start, elapsed, iv[INTERVALS], med;

	count_rate(dcr, div, what);
	ticks = 0;
	apic_write(APIC_TIMER_DIVIDE, dcr);
	apic_write(APIC_LVT_TIMER, VEC | (APIC_TIMER_PERIODIC << APIC_LVT_TIMER_SHIFT));
	start = rdtsc();
	apic_write(APIC_TIMER_INIT, icr);
	CHECK(apic_read(APIC_TIMER_CURRENT) <= icr);
	n = spin_for_intervals(period, iv, INTERVALS, what);
	elapsed = rdtsc() - start;
	apic_write(APIC_TIMER_INIT, 0);
	gprintf("%s: clean intervals (us):", what);
	for (u32 i = 0; i < INTERVALS; i++)
		gprintf(" %llu", (unsigned long long)(iv[i] * 1000 / tsc_khz));
	gprintf("\n");
	med = median(iv, INTERVALS);
	gprintf("%s: %u interrupts in %llu us, median clean interval %llu us\n", what, n,
		(unsigned long long)(elapsed * 1000 / tsc_khz),
		(unsigned long long)(med * 1000 / tsc_khz));
	if (!near(med, period, 10))
		fail_at(__LINE__, "%s: median interval %llu TSC ticks, the period is %llu", what,
			(unsigned long long)med, (unsigned long long)period);
	if (n > elapsed / period + 1)
		fail_at(__LINE__, "%s: %u interrupts in %llu periods", what, n,
			(unsigned long long)(elapsed / period));
}

/* Each deadline gives one interrupt, and not before the TSC reaches it (SDM 3A 11.5.4.1). */
static void tsc_deadline(void)
{
	u32 a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	CHECK(c & CPUID_1_ECX_TSC_DEADLINE); /* Keel's vLAPIC always has it */
	apic_write(APIC_LVT_TIMER, VEC | (APIC_TIMER_TSC_DEADLINE << APIC_LVT_TIMER_SHIFT));
	ticks = 0;
	for (u32 i = 0; i < 5; i++) {
		u64 deadline = rdtsc() + us_to_tsc(DEADLINE_US), t0 = rdtsc();

		wrmsr(MSR_TSC_DEADLINE, deadline);
		__asm__ volatile("sti");
		while (ticks == i && rdtsc() - t0 < us_to_tsc(5 * 1000 * 1000))
			__asm__ volatile("pause");
		tsc_wait(2 * DEADLINE_US); /* a second interrupt for one deadline would come here */
		__asm__ volatile("cli");
		if (ticks != i + 1)
			fail_at(__LINE__, "TSC deadline %u: %u interrupts in all", i, ticks);
		if (stamp[i] < deadline)
			fail_at(__LINE__,
				"TSC deadline %u: interrupt %llu ticks before the deadline", i,
				(unsigned long long)(deadline - stamp[i]));
	}
	/* a deadline written as 0 disarms the timer */
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + us_to_tsc(DEADLINE_US));
	wrmsr(MSR_TSC_DEADLINE, 0);
	__asm__ volatile("sti");
	tsc_wait(3 * DEADLINE_US);
	__asm__ volatile("cli");
	CHECK_EQ(ticks, 5);
	gprintf("TSC deadline: %u interrupts, each at or after its deadline\n", ticks);
}

void test_main(void)
{
	trap_set(VEC, on_timer);
	trap_set(SPURIOUS_VEC, on_spurious);
	clocks();
	CHECK_EQ(APIC[APIC_VERSION / 4] & 0xff, 0x14); /* version, read through MMIO emulation */
	apic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VEC);
	periodic(DCR_DIV1, 1, "xAPIC periodic");
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_X2APIC);
	x2 = true;
	CHECK_EQ(rdmsr(X2APIC_MSR(APIC_ID)), 0); /* x2APIC ID of vCPU 0 */
	periodic(DCR_DIV4, 4, "x2APIC periodic");
	tsc_deadline();
	gprintf("timer: %u spurious interrupts\n", spurious);
}

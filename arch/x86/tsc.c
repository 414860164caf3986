// SPDX-License-Identifier: MIT
/*
 * TSC calibration: count TSC ticks across a known interval of the ACPI PM
 * timer (3.579545 MHz, ACPI 6.5 4.8.3.3), else of the PIT (1.193182 MHz,
 * channel 2 gated through port 0x61). Takes the median of several runs.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/pc_regs.h>
#include <arch/x86/tsc.h>

#define CAL_MS 10
#define CAL_RUNS 5

static u64 hz;
static u64 boot_tsc;

static u64 measure_pm_timer(u16 port, bool wide)
{
	u32 mask = wide ? 0xffffffff : 0xffffff;
	u32 want = (u32)(PM_TIMER_HZ * CAL_MS / 1000), start, now;
	u64 t0, t1;

	start = inl(port) & mask;
	t0 = rdtsc();
	do {
		now = inl(port) & mask;
	} while (((now - start) & mask) < want);
	t1 = rdtsc();
	return (t1 - t0) * PM_TIMER_HZ / ((now - start) & mask);
}

static u64 measure_pit(void)
{
	u16 count = (u16)(PIT_HZ * CAL_MS / 1000);
	u64 t0, t1;

	outb(PIT_PORT_B, (inb(PIT_PORT_B) & ~PIT_PORT_B_SPEAKER) | PIT_PORT_B_GATE2);
	outb(PIT_CMD, 0xb0); /* channel 2, lo/hi, mode 0 */
	outb(PIT_CH2, (u8)count);
	outb(PIT_CH2, (u8)(count >> 8));
	t0 = rdtsc();
	for (u64 i = 0; i < 100000000 && !(inb(PIT_PORT_B) & PIT_PORT_B_OUT2); i++)
		;
	t1 = rdtsc();
	return (t1 - t0) * 1000 / CAL_MS;
}

const char *tsc_calibrate(const struct acpi_info *ai)
{
	u64 runs[CAL_RUNS];
	const char *src = ai->pm_timer_port ? "ACPI PM timer" : "PIT";

	for (int i = 0; i < CAL_RUNS; i++) {
		u64 v = ai->pm_timer_port ?
				measure_pm_timer(ai->pm_timer_port, ai->pm_timer_32bit) :
				measure_pit();
		int j = i;

		for (; j > 0 && runs[j - 1] > v; j--) /* keep sorted */
			runs[j] = runs[j - 1];
		runs[j] = v;
	}
	hz = runs[CAL_RUNS / 2];
	return src;
}

void tsc_mark_boot(void)
{
	boot_tsc = rdtsc();
}

u64 tsc_hz(void)
{
	return hz;
}

u64 tsc_now(void)
{
	return rdtsc();
}

u64 tsc_to_ns(u64 ticks)
{
	return ticks / hz * 1000000000ULL + ticks % hz * 1000000000ULL / hz;
}

u64 time_ns(void)
{
	return tsc_to_ns(rdtsc() - boot_tsc);
}

void tsc_delay_us(u64 us)
{
	u64 end = rdtsc() + hz * us / 1000000;

	while (rdtsc() < end)
		cpu_relax();
}

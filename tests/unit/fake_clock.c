// SPDX-License-Identifier: MIT
/* Host stand-ins for Keel's clocks (time_ns, the TSC, the wall clock): they read what the test set. */
#include <arch/x86/tsc.h>
#include <keel/wallclock.h>
#include "fake_clock.h"

u64 fake_ns, fake_tsc, fake_tsc_hz = 1000000000ULL, fake_wall;

u64 time_ns(void)
{
	return fake_ns;
}

u64 tsc_now(void)
{
	return fake_tsc;
}

u64 tsc_hz(void)
{
	return fake_tsc_hz;
}

u64 tsc_to_ns(u64 ticks)
{
	return ticks / fake_tsc_hz * 1000000000ULL +
	       ticks % fake_tsc_hz * 1000000000ULL / fake_tsc_hz;
}

u64 wallclock_seconds(void)
{
	return fake_wall;
}

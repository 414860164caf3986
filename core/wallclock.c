// SPDX-License-Identifier: MIT
/* The wall clock guests read from their RTC: the boot time plus time_ns(), never stepped. */
#include <arch/x86/tsc.h>
#include <keel/wallclock.h>

static u64 boot_epoch;

void wallclock_init(u64 epoch)
{
	boot_epoch = epoch;
}

u64 wallclock_seconds(void)
{
	return boot_epoch ? boot_epoch + time_ns() / 1000000000ULL : 0;
}

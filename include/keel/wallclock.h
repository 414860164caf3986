/* SPDX-License-Identifier: MIT */
/* The date and time of day: the firmware's clock at boot carried forward by Keel's own clock. */
#ifndef KEEL_WALLCLOCK_H
#define KEEL_WALLCLOCK_H

#include <lib/types.h>

void wallclock_init(u64 boot_epoch);
/* Seconds since 1970 (UTC), 0 when the firmware gave no time. */
u64 wallclock_seconds(void);

#endif

/* SPDX-License-Identifier: MIT */
/* Host stand-ins for Keel's clocks: the tests set the time and the TSC. */
#ifndef KEEL_FAKE_CLOCK_H
#define KEEL_FAKE_CLOCK_H

#include <lib/types.h>

extern u64 fake_ns;	/* time_ns() */
extern u64 fake_tsc;	/* tsc_now() */
extern u64 fake_tsc_hz; /* tsc_hz() */
extern u64 fake_wall;	/* wallclock_seconds() */

#endif

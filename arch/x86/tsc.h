/* SPDX-License-Identifier: MIT */
/* The TSC as the hypervisor's clock, calibrated against an ACPI or legacy timer. */
#ifndef ARCH_X86_TSC_H
#define ARCH_X86_TSC_H

#include <keel/acpi.h>

/* Measures the TSC frequency; returns the reference used ("ACPI PM timer", ...). */
const char *tsc_calibrate(const struct acpi_info *ai);
u64 tsc_hz(void);
/* rdtsc() behind a call: host tests of the devices that read it give it a fake clock. */
u64 tsc_now(void);
u64 tsc_to_ns(u64 ticks);
/* time_ns() counts from here: the core's first instruction. */
void tsc_mark_boot(void);
u64 time_ns(void); /* since tsc_mark_boot(), once calibrated */
void tsc_delay_us(u64 us);

#endif

/* SPDX-License-Identifier: MIT */
/* The local APIC of each physical CPU, in x2APIC mode where the CPU has it, else xAPIC. */
#ifndef ARCH_X86_APIC_H
#define ARCH_X86_APIC_H

#include <arch/x86/apic_regs.h>

void apic_init(void); /* this CPU: mode, spurious vector, everything masked */
bool apic_x2apic(void);
u32 apic_id(void);
void apic_eoi(void);
void apic_send_ipi(u32 apic_id, u32 icr_low);
/* Starts the periodic tick at hz, from the bus clock measured by apic_timer_calibrate(). */
void apic_timer_calibrate(void);
void apic_timer_start(u32 hz);
u64 apic_timer_hz(void);
/* One interrupt at (or just after) the given TSC value; replaces any earlier setting. */
void apic_timer_oneshot(u64 tsc_deadline);
/* From the timer's interrupt handler: the one-shot deadline has passed. */
void apic_timer_fired(void);

#endif

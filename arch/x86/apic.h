/* SPDX-License-Identifier: MIT */
/* The local APIC of each physical CPU, in x2APIC mode where the CPU has it, else xAPIC. */
#ifndef ARCH_X86_APIC_H
#define ARCH_X86_APIC_H

#include <arch/x86/apic_regs.h>
#include <arch/x86/percpu.h>

void apic_init(void); /* this CPU: mode, spurious vector, everything masked */
bool apic_x2apic(void);
u32 apic_id(void);
void apic_eoi(void);
void apic_send_ipi(u32 apic_id, u32 icr_low);
/* Starts the periodic tick at hz, from the bus clock measured by apic_timer_calibrate(). */
void apic_timer_calibrate(void);
void apic_timer_start(u32 hz);
u64 apic_timer_hz(void);
/* apic_timer_oneshot() where the timer is not already set for that deadline */
void apic_timer_program(u64 tsc_deadline);

/* One interrupt at (or just after) the given TSC value; replaces any earlier setting. */
static inline void apic_timer_oneshot(u64 tsc_deadline)
{
	struct percpu *pc = this_cpu();

	if (!pc->timer_oneshot || pc->timer_deadline != tsc_deadline) /* else: set on every entry */
		apic_timer_program(tsc_deadline);
}
/* From the timer's interrupt handler: the one-shot deadline has passed. */
void apic_timer_fired(void);

#endif

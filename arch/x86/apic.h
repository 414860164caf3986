/* SPDX-License-Identifier: MIT */
/* The local APIC of each physical CPU, in x2APIC mode where the CPU has it, else xAPIC. */
#ifndef ARCH_X86_APIC_H
#define ARCH_X86_APIC_H

#include <lib/types.h>

/* Register offsets in the xAPIC page (SDM 3A table 11-1); x2APIC MSR = 0x800 + offset/16. */
#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0

#define APIC_SVR_ENABLE BIT(8)
#define APIC_LVT_MASKED BIT(16)
#define APIC_LVT_TIMER_PERIODIC BIT(17)
#define APIC_ICR_INIT (5u << 8)
#define APIC_ICR_STARTUP (6u << 8)
#define APIC_ICR_NMI (4u << 8)
#define APIC_ICR_PENDING BIT(12)
#define APIC_ICR_ASSERT BIT(14)
#define APIC_ICR_LEVEL BIT(15)
#define APIC_TIMER_DIV_16 0x3

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

#endif

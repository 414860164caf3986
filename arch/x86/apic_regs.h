/* SPDX-License-Identifier: MIT */
/* The APICs as the manuals lay them out: local APIC, I/O APIC and MSI formats, for the host drivers and the virtual ones. */
#ifndef ARCH_X86_APIC_REGS_H
#define ARCH_X86_APIC_REGS_H

#include <lib/types.h>

/* SDM 3A 11.4.1: every local APIC's page after reset; MSIs are writes into the 1 MiB from here (11.11.1). */
#define APIC_DEFAULT_BASE 0xfee00000ULL

/* IA32_APIC_BASE (SDM 3A 11.4.4, 11.12.1). */
#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_ADDR_MASK GENMASK(51, 12)

/* Register offsets in the xAPIC page (SDM 3A table 11-1). */
#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_PPR 0xa0
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100 /* ISR, TMR and IRR: eight registers each, 16 bytes apart */
#define APIC_TMR 0x180
#define APIC_IRR 0x200
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
#define APIC_SELF_IPI 0x3f0 /* x2APIC only */

/* SDM 3A 11.12.1.2: x2APIC MSR = 0x800 + offset / 16. */
#define X2APIC_MSR_FIRST 0x800
#define X2APIC_MSR_LAST 0x8ff
#define X2APIC_MSR(reg) (X2APIC_MSR_FIRST + ((reg) >> 4))

/* SDM 3A 11.9, 11.5.1, 11.5.4: spurious vector register, LVT entries, timer. */
#define APIC_SVR_ENABLE BIT(8)
#define APIC_LVT_MASKED BIT(16)
#define APIC_LVT_TIMER_SHIFT 17 /* timer mode, bits 18:17 */
#define APIC_LVT_TIMER_MODE(v) (((v) >> APIC_LVT_TIMER_SHIFT) & 3)
#define APIC_TIMER_ONESHOT 0
#define APIC_TIMER_PERIODIC 1
#define APIC_TIMER_TSC_DEADLINE 2
#define APIC_TIMER_DIV_16 0x3

/*
 * Delivery mode, bits 10:8 alike in the ICR and LVT entries (SDM 3A 11.6.1),
 * I/O APIC redirection entries (82093AA 3.2.4) and MSI data (SDM 3A 11.11.2).
 */
#define APIC_DM_SHIFT 8
#define APIC_DM(v) (((v) >> APIC_DM_SHIFT) & 7)
#define APIC_DM_FIXED 0
#define APIC_DM_LOWEST 1
#define APIC_DM_SMI 2
#define APIC_DM_NMI 4
#define APIC_DM_INIT 5
#define APIC_DM_STARTUP 6
#define APIC_DM_EXTINT 7

/* SDM 3A 11.6.1: interrupt command register, low half. */
#define APIC_ICR_LOGICAL BIT(11)
#define APIC_ICR_PENDING BIT(12)
#define APIC_ICR_ASSERT BIT(14)
#define APIC_ICR_LEVEL BIT(15)
#define APIC_ICR_SHORTHAND(v) (((v) >> 18) & 3)

/* 82093AA I/O APIC datasheet 3.0-3.2: the index/data window, its registers, a redirection entry. */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_EOI 0x40 /* version 0x20 and later */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDIR(n) (0x10 + 2 * (n))
#define IOAPIC_RTE_LOGICAL BIT(11)
#define IOAPIC_RTE_DELIVERY_STATUS BIT(12)
#define IOAPIC_RTE_ACTIVE_LOW BIT(13)
#define IOAPIC_RTE_REMOTE_IRR BIT(14)
#define IOAPIC_RTE_LEVEL BIT(15)
#define IOAPIC_RTE_MASKED BIT(16)
#define IOAPIC_RTE_DEST_SHIFT 56

/* SDM 3A 11.11.1: MSI address. */
#define MSI_ADDR_MASK 0xfff00000ULL /* equals APIC_DEFAULT_BASE in every MSI */
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_LOGICAL BIT(2)
#define MSI_DATA_ASSERT BIT(14) /* SDM 3A 11.11.2: level messages assert */
#define MSI_DATA_LEVEL BIT(15)	/* trigger mode */

#endif

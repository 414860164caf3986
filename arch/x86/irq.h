/* SPDX-License-Identifier: MIT */
/* The hypervisor's interrupt vectors and handler registration. */
#ifndef ARCH_X86_IRQ_H
#define ARCH_X86_IRQ_H

#include <arch/x86/desc.h>

#define VECTOR_TIMER 0xe0
#define VECTOR_UART 0xe8
#define VECTOR_IOMMU_FAULT 0xe9 /* the IOMMUs' fault events, on the boot CPU */
#define VECTOR_IPI_WAKE 0xf0	/* kick a CPU out of guest mode or halt */
#define VECTOR_SPURIOUS 0xff

/* Returns true if handled; for exceptions (vector < 32) false means fatal. */
typedef bool (*irq_handler_fn)(struct irq_frame *f);

void irq_register(u8 vector, irq_handler_fn fn);
/*
 * A host NMI, from the IDT (on its own IST stack) or a VM exit: counted on
 * this CPU (percpu nmis), where the run loop logs it and passes it on. It
 * takes no lock and never stops the CPU.
 */
void nmi_count(void);
/* Every interrupt and exception, from isr.S's common path. */
void interrupt_dispatch(struct irq_frame *f);
void backtrace(u64 rbp, u64 stack_lo, u64 stack_hi);
void cpu_stop(void) __noreturn;

#endif

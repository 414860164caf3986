/* SPDX-License-Identifier: MIT */
/* The hypervisor's interrupt vectors and handler registration. */
#ifndef ARCH_X86_IRQ_H
#define ARCH_X86_IRQ_H

#include <arch/x86/desc.h>

#define VECTOR_TIMER 0xe0
#define VECTOR_UART 0xe8
#define VECTOR_IPI_WAKE 0xf0 /* kick a CPU out of guest mode or halt */
#define VECTOR_SPURIOUS 0xff

/* Returns true if handled; for exceptions (vector < 32) false means fatal. */
typedef bool (*irq_handler_fn)(struct irq_frame *f);

void irq_register(u8 vector, irq_handler_fn fn);
void backtrace(u64 rbp, u64 stack_lo, u64 stack_hi);
void cpu_stop(void) __noreturn;

#endif

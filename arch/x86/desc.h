/* SPDX-License-Identifier: MIT */
/* Segment selectors, the 64-bit TSS and the saved interrupt frame. */
#ifndef ARCH_X86_DESC_H
#define ARCH_X86_DESC_H

#include <lib/types.h>

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18
#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */

#define IST_NMI 1
#define IST_DOUBLE_FAULT 2
#define IST_MACHINE_CHECK 3

/* SDM vol. 3A 8.7, figure 8-11. */
struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
BUILD_ASSERT(sizeof(struct tss) == 104, "SDM 3A figure 8-11");

/* What isr.S pushes, lowest address first. */
struct irq_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#endif

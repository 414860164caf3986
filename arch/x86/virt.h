/* SPDX-License-Identifier: MIT */
/* Turning on AMD-V or VT-x on each CPU; the backend is picked once, from CPUID. */
#ifndef ARCH_X86_VIRT_H
#define ARCH_X86_VIRT_H

#include <arch/x86/percpu.h>
#include <keel/pagetable.h>

#include <keel/vcpu.h>

/* The two backends; cpu_enable fills pc->virt_report. */
extern const struct vcpu_ops svm_ops;
extern const struct vcpu_ops vmx_ops;
extern struct pt_format npt_format;

/* VT-x: the first control or EPT feature Keel needs that the CPU lacks, or NULL. */
const char *vmx_missing(void);
/* Chooses the backend; false if the CPU has neither extension usable. */
bool virt_select(void);
const char *virt_name(void);
int virt_cpu_enable(struct percpu *pc);
/* A permission map (MSR or I/O) of pages that intercept everything: deny by default. NULL: no memory. */
void *virt_deny_map(u32 pages);

#endif

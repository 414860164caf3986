/* SPDX-License-Identifier: MIT */
/* Turning on AMD-V or VT-x on each CPU; the backend is picked once, from CPUID. */
#ifndef ARCH_X86_VIRT_H
#define ARCH_X86_VIRT_H

#include <arch/x86/percpu.h>

struct virt_cpu_ops {
	const char *name;
	/* Enables the extension on the calling CPU and fills pc->virt_report. */
	int (*cpu_enable)(struct percpu *pc);
};

extern const struct virt_cpu_ops svm_cpu_ops;
extern const struct virt_cpu_ops vmx_cpu_ops;

/* Chooses the backend; false if the CPU has neither extension usable. */
bool virt_select(void);
const char *virt_name(void);
int virt_cpu_enable(struct percpu *pc);

#endif

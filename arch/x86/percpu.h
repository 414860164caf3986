/* SPDX-License-Identifier: MIT */
/* Per-CPU data, reached through GS; one struct percpu per physical CPU. */
#ifndef ARCH_X86_PERCPU_H
#define ARCH_X86_PERCPU_H

#include <arch/x86/desc.h>
#include <lib/types.h>

#define MAX_CPUS 64
#define CPU_STACK_SIZE (32 * KiB)
#define IST_STACK_SIZE (8 * KiB)

struct percpu {
	struct percpu *self; /* %gs:0, so this_cpu() is one load */
	u32 cpu;	     /* logical index, 0 = boot CPU */
	u32 apic_id;
	u64 stack_base, stack_top;
	volatile bool online;
	volatile u64 ticks; /* LAPIC timer interrupts taken */
	bool timer_oneshot; /* the LAPIC timer is in one-shot mode (apic_timer_oneshot) */
	u64 timer_deadline; /* the TSC deadline it is set for; 0 once it fired */
	u64 gdt[GDT_ENTRIES] __aligned(16);
	struct tss tss __aligned(16);
	u64 virt_area;	     /* SVM host save area or VMXON region */
	u64 virt_host_state; /* SVM: VMCB holding the host's VMSAVE state */
	char virt_report[160];
	void *vcpu_current; /* the vCPU running on this CPU, for the run loop */
	u64 tsc_aux;	    /* what IA32_TSC_AUX holds now */
	void *fpu_loaded;   /* the vCPU whose FPU state is in the registers, or NULL */
	void *spec_last_vm; /* the VM whose vCPU ran here last (vmm/exit/spec.c), or NULL */
	u64 spec_ctrl;	    /* what IA32_SPEC_CTRL holds now, once spec_ctrl_known */
	bool spec_ctrl_known;
	volatile u64 nmis; /* NMIs taken (nmi_count()) */
	u64 nmis_seen;	   /* of those, the ones the run loop has reported */
	u64 dr[4], dr6;	   /* what DR0-DR3 and DR6 hold now (vmm/vcpu.c switches them) */
};

extern struct percpu *cpus[MAX_CPUS];
extern u32 nr_cpus;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* Loads GDT, TSS, IDT and GS for the calling CPU. */
void cpu_load_tables(struct percpu *pc);
/* stack_base 0: allocate a CPU_STACK_SIZE stack; else use that one (the boot CPU's). */
struct percpu *percpu_alloc(u32 cpu, u32 apic_id, u64 stack_base, u64 stack_size);

#endif

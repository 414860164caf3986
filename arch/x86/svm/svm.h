/* SPDX-License-Identifier: MIT */
/* What the AMD-V backend's files share: per-vCPU and per-VM state, the run path, the quirks. */
#ifndef ARCH_X86_SVM_SVM_H
#define ARCH_X86_SVM_SVM_H

#include <arch/x86/percpu.h>
#include <arch/x86/svm/vmcb.h>
#include <keel/vcpu.h>

/* The guest's NMI blocking, which Keel keeps (svm_nmi.c). */
struct svm_nmi {
	bool masked;	/* an NMI went in; its handler's IRET has not completed */
	bool iret;	/* that IRET exited at iret_rip and runs at the next VMRUN */
	bool step;	/* single-stepping it: TF set, #DB intercepted */
	bool step_tf;	/* the guest's TF when the step began */
	bool exit_soon; /* an NMI waits behind another event: exit right after its delivery */
	u64 iret_rip, step_dr6;
};

struct svm_vcpu {
	struct vmcb *vmcb;
	hpa_t vmcb_pa;
	bool flush;	    /* next VMRUN flushes the TLB (a new vCPU) */
	u32 asid, asid_cpu; /* the ASID this vCPU last had, on which CPU */
	u64 asid_generation;
	u32 seen_flush_gen; /* the VM's flush_gen at the last entry */
	bool virq;	    /* an interrupt posted in V_IRQ that the guest has not taken yet */
	u64 soft_rip;	    /* RIP moved past a re-injected INT n/INT3/INTO, for this entry */
	u8 soft_len;	    /* by this much (0: none in flight) */
	struct svm_nmi nmi;
};

struct svm_vm {
	u8 *iopm, *msrpm;
};

/* svm_cpu.c */
extern bool svm_nrip_save;
int svm_cpu_enable(struct percpu *pc);

/* svm_event.c: EXITINTINFO back into EVENTINJ (APM2 15.7.2), soft events past their instruction */
void svm_requeue_event(struct vcpu *v, struct svm_vcpu *s, struct vmcb *vmcb);
/*
 * A soft event goes in returning after its instruction of len bytes: RIP
 * (pushed by CPUs without NRIP save, QEMU, Bochs) and next_rip (pushed by
 * CPUs with it, APM2 15.20) both move past it; svm_requeue_event moves RIP
 * back if its delivery is interrupted.
 */
void svm_soft_skip(struct svm_vcpu *s, struct vmcb *vmcb, u32 len);

/* svm_run.c */
void svm_asid_init(u32 cpu, u32 count);
void svm_run(struct vcpu *v, struct vm_exit *exit);

/* svm_nmi.c */
/* Puts an NMI in EVENTINJ unless the guest blocks NMIs or another event is there (false). */
bool svm_nmi_inject(struct svm_nmi *n, struct vmcb *vmcb);
/* True while an NMI handler's IRET is in flight: interrupts wait for it (and get an exit). */
bool svm_nmi_holds_irqs(struct svm_nmi *n, struct vmcb *vmcb);
/* After #VMEXIT (EXITINTINFO requeued): true if the exit was the NMI window's own. */
bool svm_nmi_exit(struct svm_nmi *n, struct vmcb *vmcb);

/* Whether svm_nmi_exit() has anything to do: a step or an IRET in flight, or an IRET's exit. */
static inline bool svm_nmi_busy(const struct svm_nmi *n, const struct vmcb *vmcb)
{
	return n->step || n->iret || vmcb->control.exit_code == SVM_EXIT_IRET;
}

/* quirks.c: where emulators' AMD-V differs from APM2 */
extern bool svm_quirk_virq; /* QEMU's TCG: external interrupts through V_IRQ, not EVENTINJ */
void svm_quirks_detect(void);
/* A MOV to CR8 that svm_quirk_virq intercepts, done here: true once RIP is past it. */
bool svm_quirk_cr8_write(struct vcpu *v, struct vmcb *vmcb);
/* svm_inject() of an external interrupt under svm_quirk_virq; false: one is still in flight. */
bool svm_quirk_inject_virq(struct svm_vcpu *s, u8 vector);
/* After #VMEXIT under svm_quirk_virq; true: the interrupted event went back in V_IRQ. */
bool svm_quirk_requeue(struct svm_vcpu *s, struct vmcb_control *c);
/* The guest state a failed VMRUN must report, kept before it and put back after it. */
struct svm_entry_state {
	struct vmcb_seg cs;
	u64 cr0, cr3, cr4, efer, rip, rflags;
};
void svm_quirk_keep_entry(const struct vmcb_save *st, struct svm_entry_state *k);
void svm_quirk_failed_entry(struct vmcb_save *st, const struct svm_entry_state *k);
/* Before VMRUN: the guest's CR2 in the CPU, for Bochs, which does not load it. */
void svm_quirk_load_cr2(const struct vmcb_save *st);

#endif

// SPDX-License-Identifier: MIT
/*
 * NMI blocking for AMD-V guests, which the CPU leaves to the hypervisor
 * where it has no vNMI (QEMU's TCG has none): EVENTINJ delivers an NMI
 * whatever the guest is doing (APM2 15.20), so Keel keeps the guest's
 * "NMIs blocked until the handler's IRET" itself, as VT-x's virtual NMIs do
 * in hardware (SDM 3C 24.4.2). The steps:
 *
 *   inject NMI ---> masked, IRET intercepted (APM2 15.9)
 *   #VMEXIT(IRET) ---> iret: it runs at the next VMRUN (the intercept is
 *                      checked before the instruction), intercept off
 *   another NMI waiting? ---> step: TF set, #DB intercepted, so the CPU
 *                      exits right after the IRET (SDM 3B 18.3.1.4)
 *   #DB with DR6.BS, RIP moved ---> the IRET completed: NMIs open again
 *   any later exit with RIP moved and no step ---> the same, found lazily
 *
 * While the IRET is in flight no interrupt goes in ahead of it, so a moved
 * RIP means the IRET retired. An IRET that faults returns to itself after
 * the fault's handler: NMIs stay blocked, as on the CPU.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/svm/svm.h>
#include <arch/x86/x86_vectors.h>

static void open_window(struct svm_nmi *n)
{
	n->masked = false;
	n->iret = false;
}

static void step_begin(struct svm_nmi *n, struct vmcb *vmcb)
{
	if (n->step)
		return;
	n->step = true;
	n->step_tf = vmcb->save.rflags & RFLAGS_TF;
	n->step_dr6 = vmcb->save.dr6;
	vmcb->save.rflags |= RFLAGS_TF;
	vmcb->control.intercept_exceptions |= BIT(X86_EXC_DB);
}

/* ours: the #DB was the step's own, whose DR6 bit the guest must not see. */
static void step_end(struct svm_nmi *n, struct vmcb *vmcb, bool ours)
{
	n->step = false;
	vmcb->control.intercept_exceptions &= ~(u32)BIT(X86_EXC_DB);
	if (ours)
		vmcb->save.dr6 = n->step_dr6;
	/* an IRET that completed loaded the guest's own RFLAGS; otherwise TF is still Keel's */
	if (vmcb->save.rip == n->iret_rip && !n->step_tf)
		vmcb->save.rflags &= ~(u64)RFLAGS_TF;
}

bool svm_nmi_inject(struct svm_nmi *n, struct vmcb *vmcb)
{
	struct vmcb_control *c = &vmcb->control;

	if (n->masked) {
		if (n->iret) /* it runs next: exit as soon as it has */
			step_begin(n, vmcb);
		return false;
	}
	if (c->event_inj & EVENT_VALID) { /* another event goes first */
		n->exit_soon = true;
		return false;
	}
	c->event_inj = X86_EXC_NMI | ((u64)EVENT_NMI << EVENT_TYPE_SHIFT) | EVENT_VALID;
	c->intercept_misc1 |= ICPT_IRET;
	n->masked = true;
	return true;
}

bool svm_nmi_holds_irqs(struct svm_nmi *n, struct vmcb *vmcb)
{
	if (!n->iret)
		return false;
	step_begin(n, vmcb); /* the interrupt goes in once the IRET retired */
	return true;
}

/* A #DB that is the guest's own (a breakpoint of its) goes to it, RF set as the CPU would. */
static void reflect_db(struct vmcb *vmcb)
{
	if (vmcb->control.event_inj & EVENT_VALID)
		return; /* hit while delivering an event, which goes in again: the trap is lost */
	vmcb->control.event_inj = X86_EXC_DB | ((u64)EVENT_EXCEPTION << EVENT_TYPE_SHIFT) |
				  EVENT_VALID;
	vmcb->save.rflags |= RFLAGS_RF;
}

bool svm_nmi_exit(struct svm_nmi *n, struct vmcb *vmcb)
{
	u64 code = vmcb->control.exit_code, rip = vmcb->save.rip;

	if (n->step && code == SVM_EXIT_EXCP_BASE + X86_EXC_DB) {
		bool ours = vmcb->save.dr6 & DR6_BS;

		step_end(n, vmcb, ours);
		if (!ours)
			reflect_db(vmcb);
		else if (rip != n->iret_rip)
			open_window(n);
		return true;
	}
	if (code == SVM_EXIT_IRET && n->masked && !n->iret) {
		n->iret = true;
		n->iret_rip = rip;
		vmcb->control.intercept_misc1 &= ~(u32)ICPT_IRET;
		return true;
	}
	if (n->iret && !n->step && rip != n->iret_rip)
		open_window(n);
	return false;
}

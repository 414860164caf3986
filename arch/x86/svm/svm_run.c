// SPDX-License-Identifier: MIT
/*
 * Entering an AMD-V guest and turning its #VMEXIT into a struct vm_exit.
 * ASIDs are handed out per physical CPU with a generation count (a new
 * generation flushes the whole TLB), so a reused ASID never sees another
 * vCPU's translations; an NPT change bumps the VM's flush generation.
 */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/percpu.h>
#include <arch/x86/svm/svm.h>
#include <keel/vm.h>

struct asid_space {
	u32 next, count; /* count = number of ASIDs the CPU has (ASID 0 is the host's) */
	u64 generation;
};

static struct asid_space asids[MAX_CPUS];

void svm_asid_init(u32 cpu, u32 count)
{
	asids[cpu] = (struct asid_space){ 1, count, 1 };
}

/* The vCPU's ASID on this CPU; sets *flush when the TLB must be flushed first. */
static u32 asid_for(struct svm_vcpu *s, u32 cpu, bool *flush)
{
	struct asid_space *sp = &asids[cpu];

	if (s->asid && s->asid_cpu == cpu && s->asid_generation == sp->generation)
		return s->asid;
	if (sp->next >= sp->count) { /* out of ASIDs: start a new generation */
		sp->generation++;
		sp->next = 1;
		*flush = true;
	}
	s->asid = sp->next++;
	s->asid_cpu = cpu;
	s->asid_generation = sp->generation;
	*flush = true; /* the ASID may carry an earlier user's translations */
	return s->asid;
}

static void prepare_entry(struct vcpu *v, struct svm_vcpu *s, u32 cpu)
{
	struct vmcb *vmcb = s->vmcb;
	u32 gen = __atomic_load_n(&v->vm->flush_gen, __ATOMIC_ACQUIRE);
	bool flush = s->flush || gen != s->seen_flush_gen;

	vmcb->control.asid = asid_for(s, cpu, &flush);
	vmcb->control.tlb_control = flush ? TLB_FLUSH_ALL : 0;
	vmcb->control.clean = 0; /* Keel rewrites fields freely: nothing is cached */
	vmcb->control.tsc_offset = v->tsc_offset;
	s->seen_flush_gen = gen;
	s->flush = false;
	vmcb->save.rax = v->gpr[RAX];
	vmcb->save.rsp = v->gpr[RSP];
}

static void decode_io(struct vm_exit *e, const struct vmcb *vmcb)
{
	u64 info = vmcb->control.exit_info_1;

	e->reason = EXIT_IO;
	e->io.in = info & IOIO_IN;
	e->io.string = info & IOIO_STR;
	e->io.rep = info & IOIO_REP;
	e->io.size = (u8)((info >> IOIO_SIZE_SHIFT) & 7);
	e->io.port = (u16)(info >> IOIO_PORT_SHIFT);
	/* the segment (bits 12:10) only with decode assists: vmm/ reads the prefixes */
	e->io.addr_size = (info & IOIO_A64) ? 8 : (info & IOIO_A32) ? 4 : (info & IOIO_A16) ? 2 : 0;
	/* next RIP, always given (one that wrapped gives a length that wraps RIP back) */
	e->insn_len = (u32)(vmcb->control.exit_info_2 - vmcb->save.rip);
}

static enum exit_reason simple_reason(u64 code)
{
	switch (code) {
	case SVM_EXIT_INTR:
		return EXIT_EXTINT;
	case SVM_EXIT_NMI:
		return EXIT_NMI;
	case SVM_EXIT_VINTR:
		return EXIT_IRQ_WINDOW;
	case SVM_EXIT_CPUID:
		return EXIT_CPUID;
	case SVM_EXIT_HLT:
		return EXIT_HLT;
	case SVM_EXIT_VMMCALL:
		return EXIT_HYPERCALL;
	case SVM_EXIT_SHUTDOWN:
		return EXIT_SHUTDOWN;
	case SVM_EXIT_PAUSE:
		return EXIT_PAUSE;
	case SVM_EXIT_XSETBV:
		return EXIT_XSETBV;
	case SVM_EXIT_TASK_SWITCH:
		return EXIT_TASK_SWITCH;
	case SVM_EXIT_INIT:
		return EXIT_INIT;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_INVD:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
		return EXIT_UD;
	default:
		return EXIT_UNKNOWN;
	}
}

static void normalize(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	u64 code = vmcb->control.exit_code;

	*e = (struct vm_exit){ .code = code };
	v->exit_rip = vmcb->save.rip;
	v->exit_len = 0;
	if (svm_nrip_save && vmcb->control.next_rip > vmcb->save.rip)
		v->exit_len = e->insn_len = (u32)(vmcb->control.next_rip - vmcb->save.rip);
	if ((u32)code == SVM_EXIT_INVALID) {
		e->reason = EXIT_INVALID;
		e->invalid.why = svm_check_state(vmcb);
	} else if (code == SVM_EXIT_IOIO) {
		decode_io(e, vmcb);
		if (vmcb->control.exit_info_2 > vmcb->save.rip) /* it did not wrap */
			v->exit_len = e->insn_len;
	} else if (code == SVM_EXIT_MSR) {
		e->reason = vmcb->control.exit_info_1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->msr.index = (u32)v->gpr[RCX];
	} else if (code == SVM_EXIT_NPF) {
		e->reason = EXIT_NPF;
		e->npf.gpa = vmcb->control.exit_info_2;
		e->npf.write = vmcb->control.exit_info_1 & NPF_WRITE;
		e->npf.fetch = vmcb->control.exit_info_1 & NPF_FETCH;
		e->npf.present = vmcb->control.exit_info_1 & NPF_PRESENT;
	} else if (code == SVM_EXIT_WRITE_CR8) {
		e->reason = svm_quirk_cr8_write(v, vmcb) ? EXIT_CR_ACCESS : EXIT_UNKNOWN;
	} else if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
		e->reason = EXIT_EXCEPTION;
		e->exception.vector = (u8)(code - SVM_EXIT_EXCP_BASE);
		e->exception.error = (u32)vmcb->control.exit_info_1;
	} else {
		e->reason = simple_reason(code);
	}
}

void svm_run(struct vcpu *v, struct vm_exit *exit)
{
	struct svm_vcpu *s = v->arch;
	struct percpu *pc = this_cpu();
	struct vmcb *vmcb = s->vmcb;
	struct svm_entry_state entry;
	bool vectoring;

	prepare_entry(v, s, pc->cpu);
	svm_quirk_keep_entry(&vmcb->save, &entry);
	svm_quirk_load_cr2(&vmcb->save);
	if (s->nmi.exit_soon) { /* pending at VMRUN: the CPU exits once EVENTINJ is delivered */
		s->nmi.exit_soon = false;
		apic_send_ipi(pc->apic_id, VECTOR_IPI_WAKE);
	}
	__asm__ volatile("clgi; sti" ::: "memory"); /* interrupts wait for the guest's GIF=1 */
	svm_vmrun(s->vmcb_pa, v->gpr, pc->virt_host_state);
	__asm__ volatile("cli; stgi" ::: "memory");
	v->gpr[RAX] = vmcb->save.rax;
	v->gpr[RSP] = vmcb->save.rsp;
	if ((u32)vmcb->control.exit_code == SVM_EXIT_INVALID)
		svm_quirk_failed_entry(&vmcb->save, &entry);
	vectoring = vmcb->control.exit_int_info & EVENT_VALID;
	if (s->soft_len || s->virq || (vmcb->control.exit_int_info & EVENT_VALID))
		svm_requeue_event(v, s, vmcb); /* an event the exit interrupted, or one in flight */
	if (vmcb->control.exit_code == SVM_EXIT_VINTR) {
		vmcb->control.int_ctl &= ~(u64)V_IRQ;
		vmcb->control.intercept_misc1 &= ~ICPT_VINTR;
	}
	normalize(v, vmcb, exit);
	if (exit->reason == EXIT_NPF)
		exit->npf.vectoring = vectoring;
	if (svm_nmi_busy(&s->nmi, vmcb) && svm_nmi_exit(&s->nmi, vmcb))
		exit->reason = EXIT_NMI_WINDOW;
}

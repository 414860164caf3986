// SPDX-License-Identifier: MIT
/*
 * Where emulators' AMD-V differs from APM2, and what Keel does about it, so
 * that svm.c and svm_run.c read as the manual describes the CPU. Each
 * workaround says which emulator needs it; those QEMU's TCG alone needs run
 * only under it (svm_quirk_virq, detected from the hypervisor CPUID leaf).
 */
#include <arch/x86/cpu.h>
#include <arch/x86/svm/svm.h>
#include <arch/x86/x86_vectors.h>
#include <keel/guest_walk.h>
#include <keel/x86_emulate.h>

bool svm_quirk_virq;

/* QEMU's TCG says so in the hypervisor leaf (its "tcg-cpuid" property, on by default). */
static bool under_qemu_tcg(void)
{
	struct cpuid_regs h = cpuid(0x40000000);

	/* "TCGTCGTCGTCG" */
	return h.ebx == 0x54474354 && h.ecx == 0x43544743 && h.edx == 0x47435447;
}

void svm_quirks_detect(void)
{
	svm_quirk_virq = under_qemu_tcg();
}

/*
 * An external interrupt for the guest goes in as a virtual interrupt
 * (V_IRQ with its vector, TPR ignored: the vLAPIC already chose it), taken
 * at the guest's next interruptible instruction boundary (APM2 15.21.4),
 * not through EVENTINJ. QEMU's TCG (7.2 to 10.0 at least) leaves the
 * vector of an EVENTINJ interrupt in cs->exception_index after VMRUN
 * delivered it (helper_vmrun, SVM_EVTINJ_TYPE_INTR), and delivers it a
 * second time when its vCPU thread is next kicked before any other exception:
 * a second interrupt at the handler's first instruction, with IF=0 and, from
 * user mode, before SWAPGS, which brings Linux down. Virtual interrupts take
 * the ordinary interrupt path and have no such window. Only under QEMU's
 * TCG: Bochs does not write a taken V_IRQ back at #VMEXIT, and on hardware
 * EVENTINJ is exact.
 */
static void post_virq(struct vmcb_control *c, u8 vector)
{
	c->int_ctl = (c->int_ctl & ~(0xffULL << V_INTR_VECTOR_SHIFT)) | V_IRQ | V_IGN_TPR |
		     (0xfULL << V_INTR_PRIO_SHIFT) | ((u64)vector << V_INTR_VECTOR_SHIFT);
	c->intercept_misc1 &= ~ICPT_VINTR;
}

bool svm_quirk_inject_virq(struct svm_vcpu *s, u8 vector)
{
	if (s->virq)
		return false;
	post_virq(&s->vmcb->control, vector);
	s->virq = true;
	return true;
}

/*
 * The posted interrupt is taken once V_IRQ is clear. An interrupted one goes
 * back in V_IRQ, not EVENTINJ; QEMU reports an interrupted external
 * interrupt as an exception (a vector above 31), and leaves V_IRQ set when
 * the delivery it started faulted.
 */
bool svm_quirk_requeue(struct svm_vcpu *s, struct vmcb_control *c)
{
	u64 info = c->exit_int_info;
	u32 type = (u32)(info & EVENT_TYPE_MASK) >> EVENT_TYPE_SHIFT;
	u8 vector = (u8)(info & EVENT_VECTOR_MASK);

	if (s->virq && !(c->int_ctl & V_IRQ))
		s->virq = false; /* the guest took it */
	if (!(info & EVENT_VALID) ||
	    !(type == EVENT_EXTINT || (type == EVENT_EXCEPTION && vector >= X86_NR_EXCEPTIONS)))
		return false;
	c->exit_int_info = 0;
	if (!s->virq)
		post_virq(c, vector);
	s->virq = true;
	return true;
}

/*
 * After a VMRUN that failed its consistency checks (VMEXIT_INVALID), QEMU
 * and Bochs leave host state in the save area where the CPU keeps the
 * guest's; the report of the failure needs the guest's. Not detected: where
 * the CPU keeps it, this puts back what was there.
 */
void svm_quirk_keep_entry(const struct vmcb_save *st, struct svm_entry_state *k)
{
	*k = (struct svm_entry_state){ st->cs,	 st->cr0, st->cr3,   st->cr4,
				       st->efer, st->rip, st->rflags };
}

void svm_quirk_failed_entry(struct vmcb_save *st, const struct svm_entry_state *k)
{
	st->cs = k->cs;
	st->cr0 = k->cr0;
	st->cr3 = k->cr3;
	st->cr4 = k->cr4;
	st->efer = k->efer;
	st->rip = k->rip;
	st->rflags = k->rflags;
}

/*
 * Bochs (2.7 to today) reads the guest's CR2 from the VMCB at VMRUN but
 * never loads it: the guest runs with the CR2 the host had, and a #PF Keel
 * injects (guest_raise) arrives with the wrong CR2. Where the CPU loads it
 * (APM2 15.5.1) this writes what it is about to load; the host does not use
 * CR2 outside its own #PF handler, and VMRUN does not keep the host's.
 */
void svm_quirk_load_cr2(const struct vmcb_save *st)
{
	if (read_cr2() != st->cr2)
		write_cr2(st->cr2);
}

/*
 * QEMU's TCG (7.2) aborts the whole machine when a guest writes CR8 while a
 * V_IRQ is posted: helper_write_crN raises its virtual interrupt request
 * without the lock its interrupt code asserts ("tcg_handle_interrupt:
 * assertion failed"). UEFI firmware writes CR8 as each interrupt handler
 * returns (edk2's CpuExceptionHandlerLib restores it), so under
 * svm_quirk_virq Keel intercepts CR8 writes, and the intercept check comes
 * before that code. The MOV is done here: V_TPR takes the value, as the CPU
 * does with V_INTR_MASKING (APM2 15.21.4). Its forms: [66/67/F0] [REX]
 * 0F 22 /r with mod = 11, CR8 through REX.R, or LOCK and reg 0 (AltMovCr8).
 */
#define MOV_CR_MAX_LEN 8

bool svm_quirk_cr8_write(struct vcpu *v, struct vmcb *vmcb)
{
	u8 b[MOV_CR_MAX_LEN] = { 0 }, rex = 0;
	struct x86_paging p;
	struct x86_fault f;
	size_t got = 0, i = 0;
	bool lock = false;
	u32 cr;

	guest_paging(v, &p);
	guest_fetch(v, &p, b, sizeof(b), &got, &f);
	for (; i < got && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0); i++)
		lock |= b[i] == 0xf0;
	if (i < got && (b[i] & 0xf0) == 0x40 && guest_mode(v) == X86_MODE_LONG64)
		rex = b[i++];
	if (i + 3 > got || b[i] != 0x0f || b[i + 1] != 0x22 || (b[i + 2] >> 6) != 3)
		return false;
	cr = ((rex >> 2) & 1) << 3 | ((b[i + 2] >> 3) & 7);
	if (lock && cr == 0)
		cr = 8;
	if (cr != 8)
		return false;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~0xfULL) |
				(v->gpr[(rex & 1) << 3 | (b[i + 2] & 7)] & 0xf);
	vmcb->save.rip += i + 3;
	return true;
}

// SPDX-License-Identifier: MIT
/* An event whose delivery a #VMEXIT interrupted goes back into EVENTINJ, a soft one past its instruction. */
#include <arch/x86/svm/svm.h>
#include <arch/x86/x86_vectors.h>
#include <keel/guest_walk.h>

/* INT n (type 4), and INT3 and INTO (#BP, #OF: exceptions only an instruction raises). */
static bool soft_event(u64 info)
{
	u32 type = (u32)(info & EVENT_TYPE_MASK) >> EVENT_TYPE_SHIFT;
	u8 vector = (u8)(info & EVENT_VECTOR_MASK);

	return type == EVENT_SOFTINT ||
	       (type == EVENT_EXCEPTION && (vector == X86_EXC_BP || vector == X86_EXC_OF));
}

/* The length of the instruction that raised it: next_rip where the exit saved it, else its bytes. */
static u32 soft_len(struct vcpu *v, const struct vmcb *vmcb, u8 vector)
{
	static const u8 int3[] = { 0xcc }, into[] = { 0xce };
	const u8 intn[] = { 0xcd, vector };
	const struct vm_exit none = { .insn_len = 0 };
	u64 rip = vmcb->save.rip, next = vmcb->control.next_rip;
	u32 len = 0;

	if (svm_nrip_save && next > rip && next - rip <= X86_MAX_INSN_LEN)
		return (u32)(next - rip);
	if (vector == X86_EXC_BP)
		len = guest_insn_len(v, &none, int3, sizeof(int3));
	else if (vector == X86_EXC_OF)
		len = guest_insn_len(v, &none, into, sizeof(into));
	return len ? len : guest_insn_len(v, &none, intn, sizeof(intn));
}

void svm_soft_skip(struct svm_vcpu *s, struct vmcb *vmcb, u32 len)
{
	s->soft_len = (u8)len;
	s->soft_rip = vmcb->save.rip += len;
	vmcb->control.next_rip = s->soft_rip;
}

/*
 * EXITINTINFO: an event whose delivery the exit interrupted goes back in
 * (APM2 15.7.2). A soft one returns after its instruction: CPUs with NRIP
 * save push next_rip (APM2 15.20), those without, QEMU and Bochs push RIP,
 * so both move past it; if that delivery is interrupted again, RIP goes back
 * first. Bytes that are no longer the instruction (another vCPU rewrote it):
 * the event is dropped and the guest runs the instruction at RIP again.
 */
void svm_requeue_event(struct vcpu *v, struct svm_vcpu *s, struct vmcb *vmcb)
{
	struct vmcb_control *c = &vmcb->control;
	u32 len;

	if (s->soft_len && (c->exit_int_info & EVENT_VALID) && vmcb->save.rip == s->soft_rip)
		vmcb->save.rip -= s->soft_len;
	s->soft_len = 0;
	if (svm_quirk_virq && svm_quirk_requeue(s, c))
		return;
	if (!(c->exit_int_info & EVENT_VALID))
		return;
	if (soft_event(c->exit_int_info)) {
		len = soft_len(v, vmcb, (u8)(c->exit_int_info & EVENT_VECTOR_MASK));
		if (!len) {
			c->exit_int_info = 0;
			return;
		}
		svm_soft_skip(s, vmcb, len);
	}
	c->event_inj = c->exit_int_info;
	c->exit_int_info = 0;
}

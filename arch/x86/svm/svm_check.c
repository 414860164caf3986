// SPDX-License-Identifier: MIT
/* Which VMRUN consistency check (APM2 15.5.1) a VMCB fails, to explain VMEXIT_INVALID. */
#include <arch/x86/cpu.h>
#include <arch/x86/svm/vmcb.h>

#define CR4_RESERVED GENMASK(63, 25) /* beyond what any current CPU defines (APM2 3.1.3) */
#define EFER_RESERVED (GENMASK(63, 16) | GENMASK(7, 1) | BIT(9))

const char *svm_check_state(const struct vmcb *vmcb)
{
	const struct vmcb_save *st = &vmcb->save;

	if (!(st->efer & EFER_SVME))
		return "EFER.SVME is clear";
	if ((st->cr0 & CR0_NW) && !(st->cr0 & CR0_CD))
		return "CR0.NW set without CR0.CD";
	if (st->cr0 >> 32)
		return "CR0[63:32] not zero";
	if ((st->efer & EFER_LME) && (st->cr0 & CR0_PG) && !(st->cr4 & CR4_PAE))
		return "long mode with paging but without CR4.PAE";
	if ((st->efer & EFER_LME) && (st->cr0 & CR0_PG) && !(st->cr0 & CR0_PE))
		return "long mode with paging but without CR0.PE";
	if ((st->efer & EFER_LME) && (st->cr0 & CR0_PG) && (st->cs.attrib & BIT(9)) &&
	    (st->cs.attrib & BIT(10)))
		return "CS.L and CS.D both set in long mode";
	if (st->cr4 & CR4_RESERVED)
		return "CR4 reserved bits set";
	if (st->efer & EFER_RESERVED)
		return "EFER reserved bits set";
	if (vmcb->control.asid == 0)
		return "ASID 0";
	if ((vmcb->control.event_inj & EVENT_VALID) &&
	    ((vmcb->control.event_inj >> EVENT_TYPE_SHIFT) & 7) == 3 &&
	    (vmcb->control.event_inj & EVENT_VECTOR_MASK) >= 32)
		return "EVENTINJ: an exception with a vector above 31";
	return NULL;
}

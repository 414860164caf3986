// SPDX-License-Identifier: MIT
/* Unit tests for arch/x86/svm/svm_nmi.c: a guest's NMI blocking on AMD-V, IRET intercept to window. */
#include "test.h"
#include <arch/x86/cpu.h>
#include <arch/x86/svm/svm.h>
#include <arch/x86/x86_vectors.h>

#define NMI_EVENT (X86_EXC_NMI | ((u64)EVENT_NMI << EVENT_TYPE_SHIFT) | EVENT_VALID)
#define IRET_RIP 0x1000
#define GUEST_DR6 0xffff0ff0ULL

static struct vmcb vmcb;
static struct svm_nmi nmi;

static void reset(void)
{
	memset(&vmcb, 0, sizeof(vmcb));
	memset(&nmi, 0, sizeof(nmi));
	vmcb.save.rflags = RFLAGS_RESERVED1 | RFLAGS_IF;
	vmcb.save.dr6 = GUEST_DR6;
	vmcb.save.rip = 0x5000;
}

/* The CPU took what EVENTINJ held and ran until an exit with this code at rip. */
static bool exit_at(u64 code, u64 rip)
{
	vmcb.control.event_inj = 0;
	vmcb.control.exit_code = code;
	vmcb.save.rip = rip;
	return svm_nmi_exit(&nmi, &vmcb);
}

/* An NMI went in and its handler reached IRET_RIP, which exited on the IRET intercept. */
static void nmi_then_iret_exit(void)
{
	CHECK(svm_nmi_inject(&nmi, &vmcb));
	CHECK_EQ(vmcb.control.event_inj, NMI_EVENT);
	CHECK(vmcb.control.intercept_misc1 & ICPT_IRET);
	CHECK(exit_at(SVM_EXIT_IRET, IRET_RIP));
	CHECK(!(vmcb.control.intercept_misc1 & ICPT_IRET));
}

TEST(a_second_nmi_waits_until_the_handlers_iret_completed)
{
	reset();
	nmi_then_iret_exit();
	/* the IRET runs at the next VMRUN: the NMI must not go in ahead of it, a step follows it */
	CHECK(!svm_nmi_inject(&nmi, &vmcb));
	CHECK_EQ(vmcb.control.event_inj, 0);
	CHECK(vmcb.save.rflags & RFLAGS_TF);
	CHECK(vmcb.control.intercept_exceptions & BIT(X86_EXC_DB));
	/* the IRET retired: #DB trap at the interrupted code; it pops the guest's RFLAGS */
	vmcb.save.rflags = RFLAGS_RESERVED1 | RFLAGS_IF;
	vmcb.save.dr6 = GUEST_DR6 | DR6_BS;
	CHECK(exit_at(SVM_EXIT_EXCP_BASE + X86_EXC_DB, 0x2000));
	CHECK_EQ(vmcb.save.dr6, GUEST_DR6); /* the step's BS is not the guest's */
	CHECK(!(vmcb.control.intercept_exceptions & BIT(X86_EXC_DB)));
	CHECK_EQ(vmcb.save.rflags, RFLAGS_RESERVED1 | RFLAGS_IF);
	CHECK(svm_nmi_inject(&nmi, &vmcb));
	CHECK_EQ(vmcb.control.event_inj, NMI_EVENT);
}

TEST(no_nmi_before_the_iret_however_many_exits_come)
{
	reset();
	CHECK(svm_nmi_inject(&nmi, &vmcb));
	for (u64 rip = 0x3000; rip < 0x3010; rip++) {
		CHECK(!exit_at(0x72, rip)); /* CPUID, I/O... in the handler */
		CHECK(!svm_nmi_inject(&nmi, &vmcb));
		CHECK_EQ(vmcb.control.event_inj, 0);
		CHECK(!(vmcb.save.rflags & RFLAGS_TF)); /* no step before its IRET */
	}
}

TEST(an_iret_with_no_nmi_waiting_opens_the_window_at_the_next_exit)
{
	reset();
	nmi_then_iret_exit();
	CHECK(!exit_at(0x60, IRET_RIP)); /* a host interrupt before the IRET ran */
	CHECK(nmi.masked);
	CHECK(!exit_at(0x72, 0x2000)); /* later, past it: it retired */
	CHECK(!nmi.masked);
	CHECK(!(vmcb.save.rflags & RFLAGS_TF)); /* never stepped */
	CHECK(svm_nmi_inject(&nmi, &vmcb));
}

TEST(a_faulting_iret_keeps_nmis_blocked_and_gives_tf_back)
{
	reset();
	nmi_then_iret_exit();
	CHECK(!svm_nmi_inject(&nmi, &vmcb));
	CHECK(vmcb.save.rflags & RFLAGS_TF);
	/* #GP handler returned to the IRET with Keel's TF from the frame: trap at the IRET itself */
	vmcb.save.dr6 = GUEST_DR6 | DR6_BS;
	CHECK(exit_at(SVM_EXIT_EXCP_BASE + X86_EXC_DB, IRET_RIP));
	CHECK(!(vmcb.save.rflags & RFLAGS_TF));
	CHECK(!svm_nmi_inject(&nmi, &vmcb)); /* still blocked: steps again */
	CHECK(vmcb.save.rflags & RFLAGS_TF);
}

TEST(the_guests_own_db_during_the_step_goes_to_the_guest)
{
	reset();
	nmi_then_iret_exit();
	CHECK(!svm_nmi_inject(&nmi, &vmcb));
	vmcb.save.dr6 = GUEST_DR6 | BIT(0); /* its breakpoint 0 on the IRET */
	vmcb.control.exit_code = SVM_EXIT_EXCP_BASE + X86_EXC_DB;
	CHECK(svm_nmi_exit(&nmi, &vmcb));
	CHECK_EQ(vmcb.control.event_inj,
		 X86_EXC_DB | ((u64)EVENT_EXCEPTION << EVENT_TYPE_SHIFT) | EVENT_VALID);
	CHECK_EQ(vmcb.save.dr6, GUEST_DR6 | BIT(0));
	CHECK(vmcb.save.rflags & RFLAGS_RF);
	CHECK(!svm_nmi_inject(&nmi, &vmcb));
}

TEST(interrupts_wait_behind_the_iret_in_flight)
{
	reset();
	CHECK(!svm_nmi_holds_irqs(&nmi, &vmcb));
	CHECK(svm_nmi_inject(&nmi, &vmcb));
	CHECK(!svm_nmi_holds_irqs(&nmi, &vmcb)); /* in the handler: IF decides */
	CHECK(exit_at(SVM_EXIT_IRET, IRET_RIP));
	CHECK(svm_nmi_holds_irqs(&nmi, &vmcb));
	CHECK(vmcb.save.rflags & RFLAGS_TF); /* and the step brings the exit after it */
	vmcb.save.dr6 = GUEST_DR6 | DR6_BS;
	CHECK(exit_at(SVM_EXIT_EXCP_BASE + X86_EXC_DB, 0x2000));
	CHECK(!svm_nmi_holds_irqs(&nmi, &vmcb));
}

TEST(an_nmi_behind_another_event_asks_for_an_exit_after_its_delivery)
{
	reset();
	vmcb.control.event_inj = 0x30 | EVENT_VALID; /* an interrupt that goes in again */
	CHECK(!svm_nmi_inject(&nmi, &vmcb));
	CHECK(nmi.exit_soon);
	CHECK(!nmi.masked);
	CHECK_EQ(vmcb.control.event_inj, 0x30 | EVENT_VALID);
	CHECK(!exit_at(0x60, 0x4000)); /* the self-IPI's exit at the handler's first instruction */
	CHECK(svm_nmi_inject(&nmi, &vmcb));
}

TEST(an_interrupted_nmi_delivery_stays_blocking)
{
	reset();
	CHECK(svm_nmi_inject(&nmi, &vmcb));
	/* #NPF on the stack while delivering: EXITINTINFO's NMI is back in EVENTINJ */
	vmcb.control.exit_code = 0x400;
	vmcb.control.event_inj = NMI_EVENT;
	CHECK(!svm_nmi_exit(&nmi, &vmcb));
	CHECK(!svm_nmi_inject(&nmi, &vmcb));
	CHECK_EQ(vmcb.control.event_inj, NMI_EVENT);
	CHECK(vmcb.control.intercept_misc1 & ICPT_IRET);
}

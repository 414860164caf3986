// SPDX-License-Identifier: MIT
/* Unit tests for arch/x86/svm/svm_event.c: interrupted events back into EVENTINJ, soft ones past their instruction. */
#include "test.h"
#include <arch/x86/svm/svm.h>
#include <keel/guest_walk.h>

bool svm_nrip_save, svm_quirk_virq;

bool svm_quirk_requeue(struct svm_vcpu *s, struct vmcb_control *c)
{
	(void)s, (void)c;
	return false; /* QEMU's interrupt quirk has its own tests on emulators */
}

/* The bytes at RIP, as guest_walk.c matches them: legacy and REX prefixes, then the opcode. */
static u8 at_rip[16];
static u32 decodes;

u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen)
{
	u32 i = 0;

	(void)v, (void)e;
	decodes++;
	while (at_rip[i] == 0x66 || at_rip[i] == 0xf3 || at_rip[i] == 0x67 ||
	       (at_rip[i] & 0xf0) == 0x40)
		i++;
	return memcmp(at_rip + i, opcode, oplen) ? 0 : i + oplen;
}

static struct vmcb vmcb;
static struct svm_vcpu sv;
static struct vcpu vcpu;

#define VALID BIT(31)
#define TYPE(t) ((u64)(t) << 8)

static void setup(const u8 *bytes, u32 n)
{
	memset(&vmcb, 0, sizeof(vmcb));
	memset(&sv, 0, sizeof(sv));
	memset(at_rip, 0x90, sizeof(at_rip));
	memcpy(at_rip, bytes, n);
	svm_nrip_save = false;
	decodes = 0;
	sv.vmcb = &vmcb;
	vmcb.save.rip = 0x1000;
}

/* An exit during the delivery of info, RIP still on the instruction. */
static void exit_with(u64 info)
{
	vmcb.control.exit_int_info = info;
	vmcb.control.event_inj = 0;
	svm_requeue_event(&vcpu, &sv, &vmcb);
}

TEST(int_n_with_prefixes_returns_after_all_its_bytes)
{
	static const u8 b[] = { 0x66, 0xcd, 0x21 };

	setup(b, sizeof(b));
	exit_with(VALID | TYPE(EVENT_SOFTINT) | 0x21);
	CHECK_EQ(vmcb.control.event_inj, VALID | TYPE(EVENT_SOFTINT) | 0x21);
	CHECK_EQ(vmcb.control.exit_int_info, 0);
	CHECK_EQ(vmcb.save.rip, 0x1003);	 /* pushed by CPUs without NRIP save, QEMU, Bochs */
	CHECK_EQ(vmcb.control.next_rip, 0x1003); /* pushed by CPUs with it */
}

TEST(int3_and_into_are_one_byte_whichever_type_reports_them)
{
	static const u8 int3[] = { 0xcc }, into[] = { 0xce }, int_3[] = { 0xcd, 0x03 };

	setup(int3, 1);
	exit_with(VALID | TYPE(EVENT_EXCEPTION) | X86_EXC_BP); /* CPUs and Bochs: an exception */
	CHECK_EQ(vmcb.save.rip, 0x1001);
	CHECK_EQ(vmcb.control.event_inj, VALID | TYPE(EVENT_EXCEPTION) | X86_EXC_BP);
	setup(int3, 1);
	exit_with(VALID | TYPE(EVENT_SOFTINT) | X86_EXC_BP); /* QEMU: a software interrupt */
	CHECK_EQ(vmcb.save.rip, 0x1001);
	setup(int_3, 2);
	exit_with(VALID | TYPE(EVENT_SOFTINT) | X86_EXC_BP); /* INT 3 spelled CD 03 */
	CHECK_EQ(vmcb.save.rip, 0x1002);
	setup(into, 1);
	exit_with(VALID | TYPE(EVENT_EXCEPTION) | X86_EXC_OF);
	CHECK_EQ(vmcb.save.rip, 0x1001);
	CHECK_EQ(vmcb.control.next_rip, 0x1001);
}

TEST(nrip_save_gives_the_length_without_reading_the_bytes)
{
	static const u8 b[] = { 0xf3, 0x66, 0xcd, 0x21 };

	setup(b, sizeof(b));
	svm_nrip_save = true;
	vmcb.control.next_rip = 0x1004;
	exit_with(VALID | TYPE(EVENT_SOFTINT) | 0x21);
	CHECK_EQ(decodes, 0);
	CHECK_EQ(vmcb.save.rip, 0x1004);
	setup(b, sizeof(b));
	svm_nrip_save = true;
	vmcb.control.next_rip = 0; /* not saved for this exit (an NPF on real CPUs) */
	exit_with(VALID | TYPE(EVENT_SOFTINT) | 0x21);
	CHECK_EQ(decodes, 1);
	CHECK_EQ(vmcb.save.rip, 0x1004);
}

TEST(interrupted_again_it_goes_back_once_not_twice)
{
	static const u8 b[] = { 0x66, 0xcd, 0x21 };
	u64 info = VALID | TYPE(EVENT_SOFTINT) | 0x21;

	setup(b, sizeof(b));
	exit_with(info); /* the IDT page */
	CHECK_EQ(vmcb.save.rip, 0x1003);
	exit_with(info); /* then the stack page: RIP is where Keel moved it */
	CHECK_EQ(vmcb.save.rip, 0x1003);
	CHECK_EQ(vmcb.control.event_inj, info);
	vmcb.save.rip = 0x5000; /* delivered: the handler runs and exits for something else */
	exit_with(0);
	CHECK_EQ(vmcb.save.rip, 0x5000);
	CHECK_EQ(vmcb.control.event_inj, 0);
	CHECK_EQ(sv.soft_len, 0);
}

TEST(another_event_interrupted_on_its_way_takes_rip_back_to_the_instruction)
{
	static const u8 b[] = { 0xcd, 0x21 };
	u64 np = VALID | TYPE(EVENT_EXCEPTION) | EVENT_ERROR_VALID | X86_EXC_NP;

	setup(b, sizeof(b));
	exit_with(VALID | TYPE(EVENT_SOFTINT) | 0x21);
	CHECK_EQ(vmcb.save.rip, 0x1002);
	exit_with(np);			 /* the INT n raised #NP, whose delivery was interrupted */
	CHECK_EQ(vmcb.save.rip, 0x1000); /* a fault: it returns to the INT n */
	CHECK_EQ(vmcb.control.event_inj, np);
}

TEST(hardware_events_go_back_as_they_were)
{
	u64 pf = VALID | TYPE(EVENT_EXCEPTION) | EVENT_ERROR_VALID | X86_EXC_PF;

	setup((const u8 *)"\x90", 1);
	exit_with(pf);
	CHECK_EQ(vmcb.control.event_inj, pf);
	CHECK_EQ(vmcb.save.rip, 0x1000);
	CHECK_EQ(decodes, 0);
	exit_with(VALID | TYPE(EVENT_EXTINT) | 0x30);
	CHECK_EQ(vmcb.control.event_inj, VALID | TYPE(EVENT_EXTINT) | 0x30);
	CHECK_EQ(vmcb.save.rip, 0x1000);
	exit_with(0);
	CHECK_EQ(vmcb.control.event_inj, 0);
}

TEST(bytes_no_longer_the_instruction_drop_the_event_to_run_it_again)
{
	setup((const u8 *)"\x90\x90", 2); /* another vCPU rewrote the INT n */
	exit_with(VALID | TYPE(EVENT_SOFTINT) | 0x21);
	CHECK_EQ(vmcb.control.event_inj, 0);
	CHECK_EQ(vmcb.control.exit_int_info, 0);
	CHECK_EQ(vmcb.save.rip, 0x1000);
}

TEST(an_injected_soft_event_skips_the_length_it_is_given)
{
	setup((const u8 *)"\xcc", 1);
	svm_soft_skip(&sv, &vmcb, 1); /* svm_inject of an INT3 with insn_len 1 */
	CHECK_EQ(vmcb.save.rip, 0x1001);
	CHECK_EQ(vmcb.control.next_rip, 0x1001);
	exit_with(VALID | TYPE(EVENT_EXCEPTION) | X86_EXC_BP); /* its delivery interrupted */
	CHECK_EQ(vmcb.save.rip, 0x1001); /* back to the INT3, and past it once more */
	CHECK_EQ(sv.soft_len, 1);
	CHECK_EQ(decodes, 1);
}

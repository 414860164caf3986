// SPDX-License-Identifier: MIT
/* Unit tests for arch/x86/svm/svm_check.c: each VMCB consistency failure is named. */
#include "test.h"
#include <arch/x86/svm/vmcb.h>

static struct vmcb vmcb;

static void good(void)
{
	memset(&vmcb, 0, sizeof(vmcb));
	vmcb.save.efer = BIT(12) | BIT(8) | BIT(10); /* SVME, LME, LMA */
	vmcb.save.cr0 = 0x80000011;		     /* PG, ET, PE */
	vmcb.save.cr4 = 0x20;			     /* PAE */
	vmcb.save.cs.attrib = 0xa9b;		     /* L=1, D=0 */
	vmcb.control.asid = 1;
}

TEST(valid_long_mode_state_passes)
{
	good();
	CHECK(svm_check_state(&vmcb) == NULL);
}

TEST(each_failure_is_named)
{
	good();
	vmcb.save.efer &= ~BIT(12);
	CHECK_STR(svm_check_state(&vmcb), "EFER.SVME is clear");
	good();
	vmcb.save.cr0 = (vmcb.save.cr0 | BIT(29)) & ~BIT(30);
	CHECK_STR(svm_check_state(&vmcb), "CR0.NW set without CR0.CD");
	good();
	vmcb.save.cr0 |= 1ULL << 40;
	CHECK_STR(svm_check_state(&vmcb), "CR0[63:32] not zero");
	good();
	vmcb.save.cr4 = 0;
	CHECK_STR(svm_check_state(&vmcb), "long mode with paging but without CR4.PAE");
	good();
	vmcb.save.cs.attrib |= BIT(10);
	CHECK_STR(svm_check_state(&vmcb), "CS.L and CS.D both set in long mode");
	good();
	vmcb.save.cr4 |= 1ULL << 40;
	CHECK_STR(svm_check_state(&vmcb), "CR4 reserved bits set");
	good();
	vmcb.save.efer |= BIT(2);
	CHECK_STR(svm_check_state(&vmcb), "EFER reserved bits set");
	good();
	vmcb.control.asid = 0;
	CHECK_STR(svm_check_state(&vmcb), "ASID 0");
	good();
	vmcb.control.event_inj = 0x40 | (3u << 8) | BIT(31);
	CHECK_STR(svm_check_state(&vmcb), "EVENTINJ: an exception with a vector above 31");
}

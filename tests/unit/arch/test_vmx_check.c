// SPDX-License-Identifier: MIT
/* Unit tests for arch/x86/vmx/vmx_check.c: each failed VM-entry check is named. */
#include "test.h"
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx_check.h>

static struct vmx_guest_state g;
static char buf[200];

#define CHECK_HAS(what, part)                                                                  \
	do {                                                                                   \
		const char *_w = (what);                                                       \
		if (!_w || !strstr(_w, part)) {                                                \
			fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
				__LINE__, _w ? _w : "(null)", part);                           \
			test_failed_checks++;                                                  \
		}                                                                              \
	} while (0)

static void seg(int n, u16 sel, u64 base, u32 limit, u32 ar)
{
	g.seg[n] = (struct vmx_seg_state){ sel, limit, ar, base };
}

/* What Keel's loader enters: flat 32-bit protected mode, paging off (Bochs tigerlake's fixed bits). */
static void protected_mode(void)
{
	memset(&g, 0, sizeof(g));
	g.cr0_fixed0 = 0x80000021; /* PG NE PE */
	g.cr0_fixed1 = 0xffffffff;
	g.cr4_fixed0 = 0x2000; /* VMXE */
	g.cr4_fixed1 = 0x3727ff;
	g.maxphyaddr = 40;
	g.proc2 = PROC2_EPT | PROC2_UNRESTRICTED;
	g.entry_ctls = ENTRY_LOAD_PAT | ENTRY_LOAD_EFER;
	g.cr0 = 0x31; /* PE ET NE */
	g.cr4 = 0x2000;
	g.rflags = 2;
	g.rip = 0x100000;
	g.pat = 0x0007040600070406ULL;
	g.dr7 = 0x400;
	g.link_pointer = ~0ULL;
	for (int n = 0; n < 6; n++)
		seg(n, 0x10, 0, 0xffffffff, 0xc093);
	seg(1, 0x08, 0, 0xffffffff, 0xc09b);
	seg(6, 0, 0, 0xffff, 0x82);
	seg(7, 0, 0, 0xffff, 0x8b);
	g.gdtr_limit = g.idtr_limit = 0xffff;
}

/* The state after RESET, and an AP after SIPI: real mode, only legal with unrestricted guest. */
static void real_mode(void)
{
	protected_mode();
	g.cr0 = 0x60000030; /* CD NW ET NE */
	g.rip = 0xfff0;
	for (int n = 0; n < 6; n++)
		seg(n, 0, 0, 0xffff, 0x93);
	seg(1, 0xf000, 0xffff0000, 0xffff, 0x9b);
}

static void long_mode(void)
{
	protected_mode();
	g.entry_ctls |= ENTRY_IA32E_GUEST;
	g.efer = BIT(8) | BIT(10);
	g.cr0 = 0x80000031;
	g.cr4 = 0x2020;
	g.cr3 = 0x103000;
	seg(1, 0x08, 0, 0xffffffff, 0xa09b); /* L=1, D=0 */
}

TEST(valid_states_pass)
{
	real_mode();
	CHECK(vmx_check_guest(&g, buf, sizeof(buf)) == NULL);
	protected_mode();
	CHECK(vmx_check_guest(&g, buf, sizeof(buf)) == NULL);
	long_mode();
	CHECK(vmx_check_guest(&g, buf, sizeof(buf)) == NULL);
	CHECK(vmx_check_event(&g, buf, sizeof(buf)) == NULL);
}

TEST(control_registers_and_msrs)
{
	protected_mode();
	g.cr0 &= ~0x20ULL;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "lacks bits 20 that VMX requires");
	real_mode();
	g.proc2 = PROC2_EPT; /* without unrestricted guest, real mode is not allowed */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "CR0 60000030 lacks bits 80000001");
	protected_mode();
	g.cr0 |= 0x80000000ULL;
	g.cr0 &= ~1ULL;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "PG set without PE");
	protected_mode();
	g.cr4 = 0;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "CR4 0 lacks bits 2000");
	long_mode();
	g.cr4 &= ~0x20ULL;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "IA-32e mode guest without CR0.PG and CR4.PAE");
	long_mode();
	g.efer &= ~BIT(10);
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "LMA is 0 but the IA-32e mode guest entry control is 1");
	protected_mode();
	g.pat = 0x0002;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "entry 0 has the reserved type 2");
	protected_mode();
	g.efer = BIT(4);
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "IA32_EFER 10 sets reserved bits");
	protected_mode();
	g.cr3 = 1ULL << 45;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "beyond the 40-bit physical address width");
}

TEST(segments)
{
	protected_mode();
	g.seg[1].ar = 0xc091; /* CS as read-only data */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "guest CS type 1 is not an accessed code segment");
	protected_mode();
	g.seg[1].ar = 0x409b; /* limit 4G with G=0 */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "guest CS limit ffffffff has a 1 in bits 31:20");
	protected_mode();
	g.seg[3].ar = 0xc092; /* DS not accessed */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "guest DS type 2 is not accessed");
	protected_mode();
	g.seg[2].ar = 0xc013; /* SS not present */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "guest SS (AR c013) is not present");
	protected_mode();
	g.seg[7].ar = 0x89; /* an available TSS */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "guest TR type 9 is not a busy TSS");
	protected_mode();
	g.seg[6].ar = 0x83;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "guest LDTR type 3 is not an LDT");
	protected_mode();
	g.seg[6].ar = 0x10000; /* an unusable LDTR is fine */
	CHECK(vmx_check_guest(&g, buf, sizeof(buf)) == NULL);
	long_mode();
	g.seg[1].ar |= AR_DB;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "both L and D/B set");
	real_mode();
	g.seg[1].ar = 0x93; /* real-mode CS as the CPU loads it: type 3 */
	g.seg[2].ar = 0xb3; /* SS DPL 1 in real mode */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "guest SS DPL 1: must be 0 in real mode");
	protected_mode();
	g.gdtr_limit = 0x10000;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "GDTR/IDTR limit 10000/ffff");
}

TEST(rip_rflags_and_interruptibility)
{
	protected_mode();
	g.rip = 1ULL << 32;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "bits 63:32 must be 0 outside 64-bit mode");
	protected_mode();
	g.rflags = 0;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "guest RFLAGS 0: reserved bits wrong");
	protected_mode();
	g.intr_state = INTR_STATE_STI;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "blocking by STI while RFLAGS.IF is 0");
	protected_mode();
	g.rflags |= BIT(9);
	g.intr_state = INTR_STATE_STI;
	g.entry_info = 0x20 | INTR_INFO_VALID; /* external interrupt 0x20 */
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "injecting an external interrupt inside an STI/MOV SS shadow");
	protected_mode();
	g.entry_info = 0x20 | INTR_INFO_VALID;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)),
		  "injecting an external interrupt while guest RFLAGS.IF is 0");
	protected_mode();
	g.link_pointer = 0;
	CHECK_HAS(vmx_check_guest(&g, buf, sizeof(buf)), "VMCS link pointer 0");
}

TEST(entry_events)
{
	protected_mode();
	/* #GP without its error code */
	g.entry_info = 13 | (EVENT_EXCEPTION << 8) | INTR_INFO_VALID;
	CHECK_HAS(vmx_check_event(&g, buf, sizeof(buf)),
		  "error code flag 0, but vector 13 here has one");
	real_mode();
	g.entry_info = 13 | (EVENT_EXCEPTION << 8) | INTR_INFO_ERROR_VALID | INTR_INFO_VALID;
	CHECK_HAS(vmx_check_event(&g, buf, sizeof(buf)), "here has none");
	protected_mode();
	g.entry_info = 3 | (EVENT_NMI << 8) | INTR_INFO_VALID;
	CHECK_HAS(vmx_check_event(&g, buf, sizeof(buf)), "an NMI must use vector 2");
	protected_mode();
	g.entry_info = 0x80 | (EVENT_SOFTINT << 8) | INTR_INFO_VALID;
	CHECK_HAS(vmx_check_event(&g, buf, sizeof(buf)), "instruction length 0: must be 1-15");
	g.entry_len = 2;
	CHECK(vmx_check_event(&g, buf, sizeof(buf)) == NULL);
}

TEST(instruction_errors_have_names)
{
	CHECK_STR(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
	CHECK_STR(vmx_insn_error_name(8), "VM entry with invalid host-state field(s)");
	CHECK_STR(vmx_insn_error_name(28), "invalid operand to INVEPT/INVVPID");
	CHECK_STR(vmx_insn_error_name(14), "an error number the SDM does not list");
	CHECK_STR(vmx_insn_error_name(1000), "an error number the SDM does not list");
}

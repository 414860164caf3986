// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/exit/xsetbv.c: a table of the architectural XCR0 rules
 * (SDM vol. 1 13.3, vol. 2B XSETBV). Every value the guest may not load
 * must come back to it as #GP (or #UD), and never reach the host CPU's
 * XSETBV: under VT-x that runs in VMX root, where its #GP stops the CPU.
 */
#include "test.h"
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

/* XCR0 state components (SDM 1 13.1) */
#define X87 BIT(0)
#define SSE BIT(1)
#define AVX BIT(2)
#define BNDREGS BIT(3)
#define BNDCSR BIT(4)
#define OPMASK BIT(5)
#define ZMM_HI256 BIT(6)
#define HI16_ZMM BIT(7)
#define PT BIT(8) /* a supervisor state: IA32_XSS only */
#define PKRU BIT(9)
#define TILECFG BIT(17)
#define TILEDATA BIT(18)
#define AVX512 (OPMASK | ZMM_HI256 | HI16_ZMM)
/* what CPUID.(EAX=0DH,ECX=0) reports on a CPU with every user state, and on Bochs' tigerlake */
#define HOST_ALL (X87 | SSE | AVX | BNDREGS | BNDCSR | AVX512 | PKRU | TILECFG | TILEDATA)
#define HOST_TIGERLAKE (X87 | SSE | AVX | AVX512 | PKRU)

static struct {
	u64 host;	 /* fpu_xcr0_host() */
	u64 cr4;	 /* the guest's CR4 */
	u8 cpl;		 /* the guest's CPL (SS.DPL) */
	bool set_called; /* fpu_set_xcr0() ran: the host CPU executed XSETBV */
	u64 set_val;
	int gp, ud; /* exceptions injected */
	u32 gp_error;
	u64 rip;
	bool killed;
} fk;

u64 fpu_xcr0_host(void)
{
	return fk.host;
}

void fpu_set_xcr0(u64 val)
{
	fk.set_called = true;
	fk.set_val = val;
}

u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen)
{
	(void)v, (void)e;
	CHECK_EQ(oplen, 3);
	CHECK(opcode[0] == 0x0f && opcode[1] == 0x01 && opcode[2] == 0xd1);
	return 3;
}

enum exit_action vcpu_kill(struct vcpu *v, const char *fmt, ...)
{
	(void)v, (void)fmt;
	fk.killed = true;
	return ACT_STOP;
}

void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	(void)v;
	if (vector == 13) {
		CHECK(has_error);
		fk.gp++;
		fk.gp_error = error;
	} else {
		CHECK_EQ(vector, 6);
		fk.ud++;
	}
}

void vcpu_inject_gp(struct vcpu *v)
{
	vcpu_inject_exception(v, 13, true, 0);
}

void vcpu_inject_ud(struct vcpu *v)
{
	vcpu_inject_exception(v, 6, false, 0);
}

void vcpu_skip(struct vcpu *v, u32 len)
{
	(void)v;
	fk.rip += len;
}

static u64 f_get_reg(struct vcpu *v, enum vcpu_reg r)
{
	(void)v;
	if (r == VCPU_CR4)
		return fk.cr4;
	if (r == VCPU_RIP)
		return fk.rip;
	return 0;
}

static void f_get_seg(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *out)
{
	(void)v;
	*out = (struct vcpu_segment){ 0, SEG_ATTR_P | SEG_ATTR_S | 0x3, 0xffffffff, 0 };
	if (s == SEG_SS || s == SEG_CS)
		out->attr |= (u16)(fk.cpl << 5);
}

static const struct vcpu_ops fake_ops = { .name = "fake",
					  .get_reg = f_get_reg,
					  .get_seg = f_get_seg };
const struct vcpu_ops *vcpu_ops = &fake_ops;

enum want { OK, GP, UD };

struct row {
	const char *what;
	u64 xcr0;
	u64 rcx;
	u8 cpl;
	bool osxsave;
	u64 host;
	enum want want;
};

static const struct row rows[] = {
	{ "x87 alone", X87, 0, 0, true, HOST_ALL, OK },
	{ "x87 and SSE", X87 | SSE, 0, 0, true, HOST_ALL, OK },
	{ "x87, SSE and AVX", X87 | SSE | AVX, 0, 0, true, HOST_ALL, OK },
	{ "every user state", HOST_ALL, 0, 0, true, HOST_ALL, OK },
	{ "AVX-512 with AVX", X87 | SSE | AVX | AVX512, 0, 0, true, HOST_TIGERLAKE, OK },
	{ "PKRU", X87 | PKRU, 0, 0, true, HOST_ALL, OK },
	{ "MPX, both halves", X87 | BNDREGS | BNDCSR, 0, 0, true, HOST_ALL, OK },
	{ "AMX, both halves", X87 | SSE | TILECFG | TILEDATA, 0, 0, true, HOST_ALL, OK },
	/* the upper half of RCX is not part of the XCR number */
	{ "RCX[63:32] set, ECX 0", X87 | SSE, 1ULL << 32, 0, true, HOST_ALL, OK },
	/* bit 0 must be 1 */
	{ "zero", 0, 0, 0, true, HOST_ALL, GP },
	{ "SSE without x87", SSE, 0, 0, true, HOST_ALL, GP },
	{ "SSE and AVX without x87", SSE | AVX, 0, 0, true, HOST_ALL, GP },
	/* AVX needs SSE */
	{ "AVX without SSE", X87 | AVX, 0, 0, true, HOST_ALL, GP },
	{ "AVX without SSE, tigerlake", X87 | AVX, 0, 0, true, HOST_TIGERLAKE, GP },
	/* AVX-512: all three components or none, and only with AVX (and so SSE) */
	{ "opmask alone", X87 | SSE | AVX | OPMASK, 0, 0, true, HOST_ALL, GP },
	{ "ZMM_Hi256 alone", X87 | SSE | AVX | ZMM_HI256, 0, 0, true, HOST_ALL, GP },
	{ "Hi16_ZMM alone", X87 | SSE | AVX | HI16_ZMM, 0, 0, true, HOST_ALL, GP },
	{ "opmask and ZMM_Hi256", X87 | SSE | AVX | OPMASK | ZMM_HI256, 0, 0, true, HOST_ALL, GP },
	{ "opmask and Hi16_ZMM", X87 | SSE | AVX | OPMASK | HI16_ZMM, 0, 0, true, HOST_ALL, GP },
	{ "ZMM_Hi256 and Hi16_ZMM", X87 | SSE | AVX | ZMM_HI256 | HI16_ZMM, 0, 0, true, HOST_ALL,
	  GP },
	{ "AVX-512 without AVX", X87 | SSE | AVX512, 0, 0, true, HOST_ALL, GP },
	{ "AVX-512 without SSE", X87 | AVX | AVX512, 0, 0, true, HOST_ALL, GP },
	{ "AVX-512 with neither", X87 | AVX512, 0, 0, true, HOST_TIGERLAKE, GP },
	/* MPX: BNDREGS and BNDCSR together */
	{ "BNDREGS alone", X87 | BNDREGS, 0, 0, true, HOST_ALL, GP },
	{ "BNDCSR alone", X87 | BNDCSR, 0, 0, true, HOST_ALL, GP },
	/* AMX: TILECFG and TILEDATA together */
	{ "TILECFG alone", X87 | SSE | TILECFG, 0, 0, true, HOST_ALL, GP },
	{ "TILEDATA alone", X87 | SSE | TILEDATA, 0, 0, true, HOST_ALL, GP },
	/* only what the host CPU supports in XCR0 */
	{ "MPX on tigerlake", X87 | BNDREGS | BNDCSR, 0, 0, true, HOST_TIGERLAKE, GP },
	{ "AMX on tigerlake", X87 | SSE | TILECFG | TILEDATA, 0, 0, true, HOST_TIGERLAKE, GP },
	{ "AVX-512 on a CPU without it", X87 | SSE | AVX | AVX512, 0, 0, true, X87 | SSE | AVX,
	  GP },
	{ "PT, a supervisor state", X87 | PT, 0, 0, true, HOST_ALL | PT, GP },
	{ "bit 63", X87 | BIT(63), 0, 0, true, HOST_ALL, GP },
	{ "bit 10", X87 | BIT(10), 0, 0, true, HOST_ALL, GP },
	/* ECX names XCR0 only (1 is XINUSE, readable by XGETBV alone) */
	{ "ECX 1", X87 | SSE, 1, 0, true, HOST_ALL, GP },
	{ "ECX 0x80000000", X87 | SSE, 0x80000000, 0, true, HOST_ALL, GP },
	/* privileged */
	{ "CPL 3", X87 | SSE, 0, 3, true, HOST_ALL, GP },
	{ "CPL 1", X87 | SSE, 0, 1, true, HOST_ALL, GP },
	/* not enabled */
	{ "CR4.OSXSAVE clear", X87 | SSE, 0, 0, false, HOST_ALL, UD },
};

static void run_row(const struct row *r)
{
	struct vm vm = { .name = "t" };
	struct vcpu v = { .vm = &vm };
	struct vm_exit e = { .reason = EXIT_XSETBV, .insn_len = 3 };
	enum exit_action act;

	memset(&fk, 0, sizeof(fk));
	fk.host = r->host;
	fk.cr4 = r->osxsave ? CR4_OSXSAVE : 0;
	fk.cpl = r->cpl;
	fk.rip = 0x1000;
	v.gpr[RAX] = (u32)r->xcr0 | 0xdead000000000000ULL; /* only EDX:EAX count */
	v.gpr[RDX] = (r->xcr0 >> 32) | 0xbeef000000000000ULL;
	v.gpr[RCX] = r->rcx;
	act = exit_xsetbv(&v, &e);
	CHECK(!fk.killed);
	CHECK_EQ(act, ACT_RESUME);
	if (r->want == OK) {
		if (!fk.set_called || fk.set_val != r->xcr0 || fk.gp || fk.ud)
			fprintf(stderr,
				"  %s: XCR0 %#llx should load (set %d to %#llx, #GP %d, #UD %d)\n",
				r->what, (unsigned long long)r->xcr0, fk.set_called,
				(unsigned long long)fk.set_val, fk.gp, fk.ud);
		CHECK(fk.set_called && fk.set_val == r->xcr0 && !fk.gp && !fk.ud);
		CHECK_EQ(fk.rip, 0x1003);
		return;
	}
	if (fk.set_called)
		fprintf(stderr,
			"  %s: XCR0 %#llx (ECX %#llx, CPL %u) went to the host CPU's XSETBV"
			" (#GP in VMX root stops that CPU); want %s in the guest\n",
			r->what, (unsigned long long)r->xcr0, (unsigned long long)r->rcx, r->cpl,
			r->want == GP ? "#GP" : "#UD");
	else if ((r->want == GP && fk.gp != 1) || (r->want == UD && fk.ud != 1))
		fprintf(stderr, "  %s: want %s, got #GP %d #UD %d\n", r->what,
			r->want == GP ? "#GP" : "#UD", fk.gp, fk.ud);
	CHECK(!fk.set_called);
	CHECK_EQ(fk.gp, r->want == GP ? 1 : 0);
	CHECK_EQ(fk.ud, r->want == UD ? 1 : 0);
	CHECK_EQ(fk.gp_error, 0);
	CHECK_EQ(fk.rip, 0x1000); /* a fault: the instruction did not retire */
}

TEST(xcr0_rules)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		run_row(&rows[i]);
}

/* Every value of the low 19 bits against a reference reading of the rules. */
TEST(every_low_xcr0_value)
{
	for (u64 x = 0; x < BIT(19); x++) {
		bool ok = (x & X87) && !((x & AVX) && !(x & SSE)) &&
			  ((x & AVX512) == 0 || ((x & AVX512) == AVX512 && (x & AVX))) &&
			  ((x & (BNDREGS | BNDCSR)) == 0 ||
			   (x & (BNDREGS | BNDCSR)) == (BNDREGS | BNDCSR)) &&
			  ((x & (TILECFG | TILEDATA)) == 0 ||
			   (x & (TILECFG | TILEDATA)) == (TILECFG | TILEDATA)) &&
			  !(x & ~(u64)HOST_ALL);
		struct row r = { "exhaustive", x, 0, 0, true, HOST_ALL, ok ? OK : GP };
		int before = test_failed_checks;

		run_row(&r);
		if (test_failed_checks != before) {
			fprintf(stderr, "  first wrong answer: XCR0 %#llx\n",
				(unsigned long long)x);
			return;
		}
	}
}

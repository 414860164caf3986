// SPDX-License-Identifier: MIT
/*
 * XSETBV: the guest's XCR0, checked before the CPU sees it. VT-x always
 * exits on XSETBV and Keel then runs it in VMX root, where a #GP would stop
 * the CPU: so every check the instruction makes is made here first, and a
 * value it would refuse becomes the guest's #GP (or #UD).
 */
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

/* Both bits of a pair, or neither. */
static bool whole(u64 val, u64 group)
{
	return (val & group) == 0 || (val & group) == group;
}

/*
 * The values XSETBV loads into XCR0 (SDM 1 13.3, 2B XSETBV): x87 always;
 * AVX only with SSE; the three AVX-512 components together and only with
 * AVX; MPX's two halves together; AMX's two halves together; nothing the
 * CPU does not support in XCR0.
 */
static bool xcr0_valid(u64 val, u64 supported)
{
	if (!(val & XCR0_X87) || ((val & XCR0_AVX) && !(val & XCR0_SSE)))
		return false;
	if (!whole(val, XCR0_AVX512) || ((val & XCR0_AVX512) && !(val & XCR0_AVX)))
		return false;
	if (!whole(val, XCR0_MPX) || !whole(val, XCR0_AMX))
		return false;
	return !(val & ~(supported & ~XCR0_SUPERVISOR));
}

/* CPL is SS.DPL (SDM 3A 5.5; the VMCB's CPL field mirrors it on AMD-V). */
static u32 guest_cpl(struct vcpu *v)
{
	struct vcpu_segment ss;

	vcpu_ops->get_seg(v, SEG_SS, &ss);
	return (ss.attr >> 5) & 3;
}

enum exit_action exit_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	static const u8 op[] = { 0x0f, 0x01, 0xd1 };
	u64 val = (v->gpr[RDX] << 32) | (u32)v->gpr[RAX];
	u32 len = guest_insn_len(v, e, op, 3);

	if (!len)
		return vcpu_kill(v, "XSETBV exit, but no XSETBV at RIP");
	/* the checks the CPU makes before the exit, made again: an emulator may exit first */
	if (!(vcpu_ops->get_reg(v, VCPU_CR4) & CR4_OSXSAVE)) {
		vcpu_inject_ud(v);
		return ACT_RESUME;
	}
	if (guest_cpl(v) != 0 || (u32)v->gpr[RCX] != 0 || !xcr0_valid(val, fpu_xcr0_host())) {
		vcpu_inject_gp(v);
		return ACT_RESUME;
	}
	fpu_set_xcr0(val);
	vcpu_skip(v, len);
	return ACT_RESUME;
}

// SPDX-License-Identifier: MIT
/* XSETBV: the guest's XCR0, checked before the CPU sees it. */
#include <arch/x86/fpu.h>
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define XCR0_X87 BIT(0)

/* XSETBV (VMX always exits): accept what the host CPU supports, #GP otherwise (SDM 2B XSETBV). */
enum exit_action exit_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	static const u8 op[] = { 0x0f, 0x01, 0xd1 };
	u64 val = (v->gpr[RDX] << 32) | (u32)v->gpr[RAX];
	u64 supported = fpu_xcr0_host();
	u32 len = guest_insn_len(v, e, op, 3);

	if (!len)
		return vcpu_kill(v, "XSETBV exit, but no XSETBV at RIP");
	if ((u32)v->gpr[RCX] != 0 || !(val & XCR0_X87) || (val & ~supported)) {
		vcpu_inject_gp(v);
		return ACT_RESUME;
	}
	fpu_set_xcr0(val);
	vcpu_skip(v, len);
	return ACT_RESUME;
}

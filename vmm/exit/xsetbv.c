// SPDX-License-Identifier: MIT
/* XSETBV: the guest's XCR0, checked before the CPU sees it. */
#include <arch/x86/cpu.h>
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define XCR0_X87 BIT(0)

/* XSETBV (VMX always exits): accept what the host CPU supports, #GP otherwise (SDM 2B XSETBV). */
enum exit_action exit_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	static const u8 op[] = { 0x0f, 0x01, 0xd1 };
	u64 val = (v->gpr[RDX] << 32) | (u32)v->gpr[RAX];
	struct cpuid_regs r = cpuid_count(0xd, 0);
	u64 supported = ((u64)r.edx << 32) | r.eax;
	u32 len = guest_insn_len(v, e, op, 3);

	if (!len)
		return vcpu_kill(v, "XSETBV exit, but no XSETBV at RIP");
	if ((u32)v->gpr[RCX] != 0 || !(val & XCR0_X87) || (val & ~supported)) {
		vcpu_inject_gp(v);
		return ACT_RESUME;
	}
	__asm__ volatile("xsetbv" ::"c"(0), "a"((u32)val), "d"((u32)(val >> 32)));
	vcpu_skip(v, len);
	return ACT_RESUME;
}

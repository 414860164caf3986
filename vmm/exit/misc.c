// SPDX-License-Identifier: MIT
/* Exits with little to do: HLT, hypercalls, triple faults, failed entries, refused instructions. */
#include <arch/x86/cpu.h>
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define HC_KEEL_VERSION 0 /* rax = 0: returns Keel's version in rax */
#define KEEL_VERSION_CODE 0x000100
#define XCR0_X87 BIT(0)

enum exit_action exit_hlt(struct vcpu *v, struct vm_exit *e)
{
	static const u8 op[] = { 0xf4 };
	u32 len = guest_insn_len(v, e, op, 1);

	if (!len)
		return vcpu_kill(v, "HLT exit, but no HLT at RIP");
	vcpu_skip(v, len);
	return ACT_HALT;
}

enum exit_action exit_hypercall(struct vcpu *v, struct vm_exit *e)
{
	static const u8 vmmcall[] = { 0x0f, 0x01, 0xd9 }, vmcall[] = { 0x0f, 0x01, 0xc1 };
	u32 len = guest_insn_len(v, e, vmmcall, 3);

	if (!len)
		len = guest_insn_len(v, e, vmcall, 3);
	if (!len)
		return vcpu_kill(v, "hypercall exit, but no VMMCALL/VMCALL at RIP");
	v->gpr[RAX] = v->gpr[RAX] == HC_KEEL_VERSION ? KEEL_VERSION_CODE : (u64)-ENOSYS;
	vcpu_skip(v, len);
	return ACT_RESUME;
}

enum exit_action exit_shutdown(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return vcpu_kill(v, "triple fault (shutdown)");
}

enum exit_action exit_invalid(struct vcpu *v, struct vm_exit *e)
{
	return vcpu_kill(v, "the CPU refused the guest state: %s",
			 e->invalid.why ? e->invalid.why : "a check Keel does not know failed");
}

enum exit_action exit_ud(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	vcpu_inject_ud(v);
	return ACT_RESUME;
}

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

// SPDX-License-Identifier: MIT
/* Instructions that exit and are done here: HLT, hypercalls, and those refused with #UD. */
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define HC_KEEL_VERSION 0 /* rax = 0: returns Keel's version in rax */
#define KEEL_VERSION_CODE 0x000100

enum exit_action exit_hlt(struct vcpu *v, struct vm_exit *e)
{
	static const u8 op[] = { 0xf4 };
	u32 len = guest_insn_len(v, e, op, 1);

	if (!len)
		return vcpu_kill(v, "HLT exit, but no HLT at RIP");
	vcpu_skip(v, len);
	return ACT_HALT;
}

/*
 * A PAUSE-loop exit (VT-x; SDM 3C 25.1.3): the vCPU has spun a while,
 * likely on a lock or flag another vCPU holds. RIP is still at the PAUSE,
 * which runs again when it resumes.
 */
enum exit_action exit_pause(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	(void)e;
	return ACT_YIELD;
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

enum exit_action exit_ud(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	vcpu_inject_ud(v);
	return ACT_RESUME;
}

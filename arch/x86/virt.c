// SPDX-License-Identifier: MIT
/* Picks the SVM or VMX backend for this machine and enables it per CPU. */
#include <arch/x86/cpu.h>
#include <arch/x86/virt.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <lib/string.h>
#include <keel/virt_detect.h>

const struct vcpu_ops *vcpu_ops;
u32 vcpu_guest_insns = GUEST_INSN_RDTSCP | GUEST_INSN_INVPCID;

bool virt_select(void)
{
	struct virt_support vs;

	virt_detect(&vs);
	if (vs.problem) {
		pr_err("%s", vs.problem);
		return false;
	}
	vcpu_ops = vs.kind == VIRT_SVM ? &svm_ops : &vmx_ops;
	return true;
}

const char *virt_name(void)
{
	return vcpu_ops ? vcpu_ops->name : "none";
}

/* Debug registers as after reset, so that what percpu says they hold is true (vmm/vcpu.c). */
static void debug_regs_reset(struct percpu *pc)
{
	write_dr7(DR7_INIT);
	write_dr0(0);
	write_dr1(0);
	write_dr2(0);
	write_dr3(0);
	write_dr6(DR6_INIT);
	pc->dr[0] = pc->dr[1] = pc->dr[2] = pc->dr[3] = 0;
	pc->dr6 = DR6_INIT;
}

int virt_cpu_enable(struct percpu *pc)
{
	debug_regs_reset(pc);
	return vcpu_ops ? vcpu_ops->cpu_enable(pc) : -ENODEV;
}

void *virt_deny_map(u32 pages)
{
	void *map = page_alloc_zeroed(pages);

	if (map)
		memset(map, 0xff, pages * PAGE_SIZE);
	return map;
}

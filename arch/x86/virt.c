// SPDX-License-Identifier: MIT
/* Picks the SVM or VMX backend for this machine and enables it per CPU. */
#include <arch/x86/virt.h>
#include <keel/log.h>
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

int virt_cpu_enable(struct percpu *pc)
{
	return vcpu_ops ? vcpu_ops->cpu_enable(pc) : -ENODEV;
}

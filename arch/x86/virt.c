// SPDX-License-Identifier: MIT
/* Picks the SVM or VMX backend for this machine and enables it per CPU. */
#include <arch/x86/virt.h>
#include <keel/log.h>
#include <keel/virt_detect.h>

static const struct virt_cpu_ops *ops;

bool virt_select(void)
{
	struct virt_support vs;

	virt_detect(&vs);
	if (vs.problem) {
		pr_err("%s", vs.problem);
		return false;
	}
	ops = vs.kind == VIRT_SVM ? &svm_cpu_ops : &vmx_cpu_ops;
	return true;
}

const char *virt_name(void)
{
	return ops ? ops->name : "none";
}

int virt_cpu_enable(struct percpu *pc)
{
	return ops ? ops->cpu_enable(pc) : -ENODEV;
}

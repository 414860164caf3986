// SPDX-License-Identifier: MIT
/* Exits that end the VM: a triple fault, a guest state the CPU refused. */
#include <keel/vcpu_run.h>
#include <keel/vm.h>

enum exit_action exit_shutdown(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	if (v->vm->on_crash_reset) { /* keelctl create --on-crash reset; no dump: it may loop */
		vm_reset(v->vm, "after a triple fault of vCPU %u (on_crash reset)", v->id);
		return ACT_STOP;
	}
	return vcpu_kill(v, "triple fault (shutdown)");
}

enum exit_action exit_invalid(struct vcpu *v, struct vm_exit *e)
{
	return vcpu_kill(v, "the CPU refused the guest state: %s",
			 e->invalid.why ? e->invalid.why : "a check Keel does not know failed");
}

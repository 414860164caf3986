// SPDX-License-Identifier: MIT
/* The exit dispatch table and exit names; an unknown exit kills only its VM. */
#include <keel/vcpu_run.h>
#include <keel/vm.h>

const char *const exit_names[EXIT_COUNT] = {
	[EXIT_NONE] = "none",
	[EXIT_EXTINT] = "external interrupt",
	[EXIT_NMI] = "NMI",
	[EXIT_IRQ_WINDOW] = "interrupt window",
	[EXIT_CPUID] = "CPUID",
	[EXIT_MSR_READ] = "RDMSR",
	[EXIT_MSR_WRITE] = "WRMSR",
	[EXIT_IO] = "port I/O",
	[EXIT_NPF] = "nested page fault",
	[EXIT_HLT] = "HLT",
	[EXIT_HYPERCALL] = "hypercall",
	[EXIT_EXCEPTION] = "exception",
	[EXIT_SHUTDOWN] = "shutdown (triple fault)",
	[EXIT_INVALID] = "invalid guest state",
	[EXIT_XSETBV] = "XSETBV",
	[EXIT_TASK_SWITCH] = "task switch",
	[EXIT_PAUSE] = "PAUSE",
	[EXIT_UD] = "unsupported instruction",
	[EXIT_INIT] = "INIT",
	[EXIT_CR_ACCESS] = "control register access",
	[EXIT_NMI_WINDOW] = "NMI window",
	[EXIT_UNKNOWN] = "unknown",
};
BUILD_ASSERT(ARRAY_SIZE(exit_names) == EXIT_COUNT, "a name for every exit reason");

static const exit_handler_fn handlers[EXIT_COUNT] = {
	[EXIT_EXTINT] = exit_resume,
	[EXIT_NMI] = exit_resume,
	[EXIT_IRQ_WINDOW] = exit_resume,
	[EXIT_CPUID] = exit_cpuid,
	[EXIT_MSR_READ] = exit_msr_read,
	[EXIT_MSR_WRITE] = exit_msr_write,
	[EXIT_IO] = exit_io,
	[EXIT_NPF] = exit_npf,
	[EXIT_HLT] = exit_hlt,
	[EXIT_HYPERCALL] = exit_hypercall,
	[EXIT_SHUTDOWN] = exit_shutdown,
	[EXIT_INVALID] = exit_invalid,
	[EXIT_XSETBV] = exit_xsetbv,
	[EXIT_PAUSE] = exit_pause,
	[EXIT_CR_ACCESS] = exit_resume,
	[EXIT_NMI_WINDOW] = exit_resume, /* the run loop injects the NMI it waited for */
	[EXIT_UD] = exit_ud,
	[EXIT_EXCEPTION] = exit_unexpected,
	[EXIT_TASK_SWITCH] = exit_unexpected,
	[EXIT_INIT] = exit_unexpected,
	[EXIT_UNKNOWN] = exit_unexpected,
};

enum exit_action exit_dispatch(struct vcpu *v, struct vm_exit *e)
{
	if ((u32)e->reason >= EXIT_COUNT || !handlers[e->reason])
		return vcpu_kill(v, "exit reason %u (code 0x%llx) has no handler", e->reason,
				 (unsigned long long)e->code);
	v->exits[e->reason]++;
	v->exits_total++;
	return handlers[e->reason](v, e);
}

enum exit_action exit_resume(struct vcpu *v, struct vm_exit *e)
{
	(void)v, (void)e;
	return ACT_RESUME;
}

enum exit_action exit_unexpected(struct vcpu *v, struct vm_exit *e)
{
	return vcpu_kill(v, "unexpected exit: %s (code 0x%llx)", exit_names[e->reason],
			 (unsigned long long)e->code);
}

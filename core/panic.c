// SPDX-License-Identifier: MIT
/* panic(): a fatal hypervisor error; reports, tells the test rig, stops this CPU. */
#include <arch/x86/cpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/percpu.h>
#include <keel/debug_exit.h>
#include <lib/format.h>
#include <keel/log.h>

static struct percpu *current_percpu(void)
{
	u64 gs = rdmsr(MSR_GS_BASE);

	for (u32 i = 0; i < MAX_CPUS; i++)
		if (cpus[i] && (u64)(uintptr_t)cpus[i] == gs)
			return cpus[i];
	return NULL;
}

void panic(const char *fmt, ...)
{
	struct percpu *pc = current_percpu();
	char msg[256];
	va_list ap;

	irq_disable();
	log_panic_mode();
	va_start(ap, fmt);
	format_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("PANIC on CPU %d: %s", pc ? (int)pc->cpu : 0, msg);
	if (pc) {
		pr_err("backtrace:");
		backtrace((u64)(uintptr_t)__builtin_frame_address(0), pc->stack_base,
			  pc->stack_top);
	}
	debug_exit(KEEL_EXIT_PANIC);
	cpu_stop();
}

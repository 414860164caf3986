// SPDX-License-Identifier: MIT
/* Interrupt dispatch, host NMIs, and the report of a hypervisor exception: registers, backtrace, stop. */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/percpu.h>
#include <arch/x86/x86_vectors.h>
#include <keel/debug_exit.h>
#include <keel/log.h>
#include <keel/symbols.h>

#define BACKTRACE_MAX 24

static const char *const exception_names[32] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[15] = "reserved 15",
	[16] = "#MF x87 error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD error",
	[20] = "#VE virtualization",
	[21] = "#CP control protection",
	[22] = "reserved 22",
	[23] = "reserved 23",
	[24] = "reserved 24",
	[25] = "reserved 25",
	[26] = "reserved 26",
	[27] = "reserved 27",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security",
	[31] = "reserved 31",
};
BUILD_ASSERT(ARRAY_SIZE(exception_names) == 32, "one name per exception vector");

static irq_handler_fn irq_handlers[256];

void irq_register(u8 vector, irq_handler_fn fn)
{
	irq_handlers[vector] = fn;
}

static void print_addr(const char *what, u64 addr)
{
	u64 off = 0;
	const char *name = symbol_lookup(addr, &off);

	if (name)
		pr_err("%s %016llx %s+0x%llx", what, (unsigned long long)addr, name,
		       (unsigned long long)off);
	else
		pr_err("%s %016llx", what, (unsigned long long)addr);
}

void backtrace(u64 rbp, u64 lo, u64 hi)
{
	for (int depth = 0; depth < BACKTRACE_MAX; depth++) {
		const u64 *frame = (const u64 *)(uintptr_t)rbp;

		if (rbp < lo || rbp + 16 > hi || (rbp & 7))
			break;
		if (!frame[1])
			break;
		print_addr("  called from", frame[1]);
		rbp = frame[0];
	}
}

static void dump_regs(const struct irq_frame *f)
{
	pr_err("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", (unsigned long long)f->rax,
	       (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	pr_err("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx", (unsigned long long)f->rsi,
	       (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->rsp);
	pr_err("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx", (unsigned long long)f->r8,
	       (unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11);
	pr_err("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx", (unsigned long long)f->r12,
	       (unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
	pr_err("  rflags %016llx cs %04llx ss %04llx cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx",
	       (unsigned long long)f->rflags, (unsigned long long)f->cs, (unsigned long long)f->ss,
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
	       (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

void cpu_stop(void)
{
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

static void __noreturn exception_fatal(const struct irq_frame *f)
{
	struct percpu *pc = this_cpu();

	log_panic_mode();
	pr_err("CPU %u: EXCEPTION %s (vector %llu), error code 0x%llx", pc->cpu,
	       exception_names[f->vector], (unsigned long long)f->vector,
	       (unsigned long long)f->error);
	print_addr("  at", f->rip);
	dump_regs(f);
	pr_err("backtrace:");
	backtrace(f->rbp, pc->stack_base, pc->stack_top);
	pr_err("CPU %u stopped", pc->cpu);
	debug_exit(KEEL_EXIT_PANIC);
	cpu_stop();
	__builtin_unreachable();
}

void nmi_count(void)
{
	struct percpu *pc = this_cpu();

	__atomic_fetch_add(&pc->nmis, 1, __ATOMIC_RELAXED);
}

void interrupt_dispatch(struct irq_frame *f)
{
	irq_handler_fn fn;

	if (f->vector == X86_EXC_NMI) {
		nmi_count(); /* no EOI: an NMI is not an APIC interrupt in service */
		return;
	}
	if (f->vector < 32) {
		fn = irq_handlers[f->vector];
		if (fn && fn(f))
			return; /* an exception the hypervisor expects, e.g. a probed MSR */
		exception_fatal(f);
	}
	fn = irq_handlers[f->vector];
	if (fn)
		fn(f);
	if (f->vector != VECTOR_SPURIOUS)
		apic_eoi();
}

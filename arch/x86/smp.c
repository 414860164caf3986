// SPDX-License-Identifier: MIT
/* SMP bring-up: INIT-SIPI-SIPI (SDM 3A 9.4.4.1, MP spec B.4) through a trampoline below 1 MiB. */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/paging.h>
#include <arch/x86/smp.h>
#include <arch/x86/tsc.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <lib/string.h>

#define INIT_DELAY_US 10000
#define SIPI_DELAY_US 200
#define START_TIMEOUT_US 1000000

extern const char tramp_start[], tramp_end[], tramp_gdt[], tramp_pm[], tramp_lm[];
extern char tramp_far32[], tramp_far64[], tramp_gdt_desc[], tramp_cr3[], tramp_stack[],
	tramp_entry[], tramp_arg[];

static cpu_main_fn ap_main_fn;

static void *tramp_field(u64 page, const char *sym)
{
	return phys_to_virt(page + (u64)(sym - tramp_start));
}

static void __noreturn ap_entry(struct percpu *pc)
{
	cpu_load_tables(pc);
	apic_init();
	ap_main_fn(pc);
	panic("cpu_main returned on CPU %u", pc->cpu);
}

static void tramp_install(u64 page)
{
	u32 p = (u32)page;

	memcpy(phys_to_virt(page), tramp_start, (size_t)(tramp_end - tramp_start));
	*(u32 *)((u8 *)tramp_field(page, tramp_gdt_desc) + 2) = p + (u32)(tramp_gdt - tramp_start);
	*(u32 *)tramp_field(page, tramp_far32) = p + (u32)(tramp_pm - tramp_start);
	*(u32 *)tramp_field(page, tramp_far64) = p + (u32)(tramp_lm - tramp_start);
	*(u64 *)tramp_field(page, tramp_cr3) = paging_root();
	*(u64 *)tramp_field(page, tramp_entry) = (u64)(uintptr_t)ap_entry;
}

static bool wait_online(struct percpu *pc, u64 us)
{
	u64 end = time_ns() + us * 1000;

	while (!READ_ONCE(pc->online)) {
		if (time_ns() > end)
			return false;
		cpu_relax();
	}
	return true;
}

static bool start_one(u64 page, struct percpu *pc)
{
	u32 sipi = APIC_DM_STARTUP << APIC_DM_SHIFT | (u32)(page >> 12);

	*(u64 *)tramp_field(page, tramp_stack) = pc->stack_top;
	*(u64 *)tramp_field(page, tramp_arg) = (u64)(uintptr_t)pc;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	apic_send_ipi(pc->apic_id,
		      APIC_DM_INIT << APIC_DM_SHIFT | APIC_ICR_ASSERT | APIC_ICR_LEVEL);
	tsc_delay_us(INIT_DELAY_US);
	apic_send_ipi(pc->apic_id, APIC_DM_INIT << APIC_DM_SHIFT | APIC_ICR_LEVEL); /* de-assert */
	apic_send_ipi(pc->apic_id, sipi);
	tsc_delay_us(SIPI_DELAY_US);
	if (!READ_ONCE(pc->online))
		apic_send_ipi(pc->apic_id, sipi);
	return wait_online(pc, START_TIMEOUT_US);
}

void smp_boot(const struct acpi_info *ai, u64 page, cpu_main_fn ap_main)
{
	u32 self = apic_id();

	ap_main_fn = ap_main;
	tramp_install(page);
	for (u32 i = 0; i < ai->nr_cpus; i++) {
		const struct acpi_cpu *c = &ai->cpus[i];
		struct percpu *pc;

		if (c->apic_id == self || !c->enabled)
			continue;
		if (nr_cpus >= MAX_CPUS) {
			pr_warn("smp: more than %d CPUs; the rest stay off", MAX_CPUS);
			break;
		}
		pc = percpu_alloc(nr_cpus, c->apic_id, 0, 0);
		if (!pc)
			panic("out of memory for CPU %u's stacks", nr_cpus);
		if (!start_one(page, pc)) {
			pr_err("smp: CPU with APIC ID %u did not start", c->apic_id);
			cpus[nr_cpus] = NULL;
			continue;
		}
		nr_cpus++;
	}
}

// SPDX-License-Identifier: MIT
/* core_main(): the hypervisor's boot sequence, one call per step, then each CPU's main loop. */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/pc_regs.h>
#include <arch/x86/fpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/paging.h>
#include <arch/x86/percpu.h>
#include <arch/x86/pic.h>
#include <arch/x86/smp.h>
#include <arch/x86/tsc.h>
#include <arch/x86/virt.h>
#include <keel/acpi.h>
#include <keel/boot_vms.h>
#include <lib/calendar.h>
#include <keel/debug_exit.h>
#include <keel/control.h>
#include <keel/fbcon.h>
#include <keel/ioapic.h>
#include <keel/iommu.h>
#include <keel/irq_route.h>
#include <keel/pci.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/monitor.h>
#include <keel/platform.h>
#include <keel/sched.h>
#include <keel/service_vm.h>
#include <keel/spec.h>
#include <keel/uart.h>
#include <keel/vm.h>
#include <keel/wallclock.h>

#define TICK_HZ 100
#define KEEL_VERSION "0.1"

static struct acpi_info acpi;
static const struct boot_info *boot_info;
static volatile u32 virt_failures;

static bool uart_irq(struct irq_frame *f)
{
	(void)f;
	uart_drain();
	return true;
}

/* Serial input by interrupt, so nothing typed is lost while a vCPU runs on the boot CPU. */
static void serial_irq_init(u16 port, u32 apic)
{
	u16 flags;
	u32 gsi;

	if (port != COM1_PORT && port != COM2_PORT && port != COM3_PORT && port != COM4_PORT)
		return; /* unknown IRQ: the monitor polls */
	gsi = ioapic_isa_gsi(COM_ISA_IRQ(port), &flags);
	irq_register(VECTOR_UART, uart_irq);
	if (ioapic_route(gsi, VECTOR_UART, apic, flags) == 0)
		uart_enable_rx_irq();
}

static bool iommu_fault(struct irq_frame *f)
{
	(void)f;
	iommu_fault_irq(); /* noted: housekeeping reads the faults */
	return true;
}

static bool timer_tick(struct irq_frame *f)
{
	(void)f;
	this_cpu()->ticks++;
	apic_timer_fired();
	return true;
}

/* Per-CPU work shared by the boot CPU and the APs. */
static void cpu_bring_up(struct percpu *pc)
{
	int ret;

	apic_timer_start(TICK_HZ);
	fpu_cpu_init();
	if (cpuid(0x80000001).edx & CPUID_80000001_EDX_RDTSCP)
		wrmsr(MSR_TSC_AUX, 0); /* what pc->tsc_aux says it holds */
	irq_enable();
	ret = virt_cpu_enable(pc);
	if (ret)
		__atomic_fetch_add(&virt_failures, 1, __ATOMIC_RELAXED);
	pr_info("cpu%u: apic %u, %s", pc->cpu, pc->apic_id, pc->virt_report);
	WRITE_ONCE(pc->online, true);
}

static void __noreturn ap_main(struct percpu *pc)
{
	cpu_bring_up(pc);
	sched_loop();
}

/* The boot CPU's chores between vCPU runs. */
static void housekeeping(void)
{
	static bool reported;

	monitor_poll();
	iommu_poll_faults(); /* what the fault interrupt announced (or polled without one) */
	log_flush_held();
	control_console_poll();
	vm_reap();
	if (!reported && vm_all_stopped() && !boot_info->config.service_kernel[0]) {
		reported = true;
		pr_info("all VMs have stopped");
		debug_exit(KEEL_EXIT_SUCCESS);
	}
}

static void report_ticks(void)
{
	u64 start = time_ns();

	while (time_ns() - start < 200 * 1000000ULL)
		cpu_halt();
	for (u32 i = 0; i < nr_cpus; i++)
		pr_info("cpu%u: timer %llu ticks in the last 200 ms", i,
			(unsigned long long)cpus[i]->ticks);
}

static void report_date(void)
{
	struct date_time d;

	if (!wallclock_seconds()) {
		pr_warn("date: the firmware gave no time; guests' RTCs start at 1970");
		return;
	}
	date_from_epoch(wallclock_seconds(), &d);
	pr_info("date: %04u-%02u-%02u %02u:%02u:%02u UTC (from the firmware)", d.year, d.month,
		d.day, d.hour, d.min, d.sec);
}

void core_main(struct boot_info *bi)
{
	struct percpu *bsp;
	const char *clock;

	tsc_mark_boot(); /* time zero of time_ns() */
	boot_info = bi;
	/* serial console */
	log_init(bi->config.serial_port, bi->config.serial_baud, bi->config.log_level);
	fbcon_init(&bi->fb);			     /* mirror on the GOP framebuffer */
	debug_exit_init(bi->config.debug_exit_port); /* test rigs only */
	pr_info("Keel %s hypervisor: core started", KEEL_VERSION);
	memory_init(bi); /* page pool over free RAM */
	/* boot CPU keeps the stub's stack */
	bsp = percpu_alloc(0, 0, bi->stack_base, bi->stack_size);
	if (!bsp)
		panic("out of memory for the boot CPU's data");
	nr_cpus = 1;
	cpu_load_tables(bsp);		  /* own GDT, TSS, IDT, GS */
	paging_init(bi);		  /* own identity-mapped page tables */
	memory_release_boot_services(bi); /* firmware boot memory joins the pool */
	memory_report(bi);
	if (acpi_parse(bi->rsdp, &acpi)) /* CPUs, IOAPICs, timers */
		panic("cannot continue without ACPI tables");
	platform_init(&acpi); /* reset and power-off paths */
	monitor_init();	      /* Ctrl-] Ctrl-] opens it */
	vm_monitor_init();
	pic_disable(); /* no legacy interrupts */
	apic_init();   /* boot CPU's local APIC */
	bsp->apic_id = apic_id();
	ioapic_init(&acpi);	      /* every pin masked */
	irq_route_init();	      /* vectors for devices' interrupts */
	pci_init(&acpi);	      /* the machine's PCI functions */
	clock = tsc_calibrate(&acpi); /* TSC against PM timer or PIT */
	apic_timer_calibrate();
	pr_info("clock: TSC %llu MHz (from the %s), APIC timer %llu kHz, %s mode",
		(unsigned long long)(tsc_hz() / 1000000), clock,
		(unsigned long long)(apic_timer_hz() / 1000), apic_x2apic() ? "x2APIC" : "xAPIC");
	wallclock_init(bi->boot_epoch);
	report_date();
	/* DMA remapping on, every function blocked (timed: after the clock); faults by interrupt */
	if (iommu_init(&acpi)) {
		irq_register(VECTOR_IOMMU_FAULT, iommu_fault);
		iommu_fault_irq_init(VECTOR_IOMMU_FAULT, bsp->apic_id);
	}
	serial_irq_init(bi->config.serial_port, bsp->apic_id); /* console input (remapped) */
	irq_register(VECTOR_TIMER, timer_tick);
	if (!virt_select()) /* AMD-V or VT-x backend */
		panic("no usable hardware virtualization");
	spec_init();				  /* the speculation controls guests get */
	cpu_bring_up(bsp);			  /* tick, virtualization on the boot CPU */
	smp_boot(&acpi, bi->trampoline, ap_main); /* INIT-SIPI-SIPI every other CPU */
	pr_info("%u of %u CPUs online, %s enabled on %u", nr_cpus, acpi.nr_cpus, virt_name(),
		nr_cpus - virt_failures);
	report_ticks();
	if (virt_failures)
		debug_exit(KEEL_EXIT_FAILURE);
	if (bi->config.service_kernel[0])
		service_vm_start(bi, &acpi); /* Linux with the machine's devices */
	boot_vms_start(bi);		     /* the VMs keel.cfg defines */
	if (!bi->config.nr_vms && !bi->config.service_kernel[0]) {
		pr_info("boot complete; no service VM yet, idling (Ctrl-] twice opens the monitor)");
		debug_exit(KEEL_EXIT_SUCCESS);
	}
	sched_set_housekeeping(housekeeping);
	sched_loop(); /* run vCPUs on this CPU too */
}

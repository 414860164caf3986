// SPDX-License-Identifier: MIT
/*
 * Building the service VM: its memory and e820 map, ACPI tables, the few
 * devices Keel emulates for it (local and I/O APICs, the serial port it
 * shares with the hypervisor, absent 8259 PICs), direct access to every
 * other I/O port, then the Linux kernel and initrd from keel.cfg.
 */
#include <arch/x86/pc_regs.h>
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/control.h>
#include <keel/fbcon.h>
#include <keel/iommu.h>
#include <keel/ioapic.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/monitor.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/assign.h>
#include <keel/service_vm.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <keel/vuart.h>
#include <lib/string.h>

#define PORTS 65536

/* 8259 PICs and their edge/level registers: trapped and absent, so Linux finds none. */
static const u16 absent_ports[] = { PIC1_CMD, PIC1_DATA, PIC2_CMD, PIC2_DATA, 0x4d0, 0x4d1 };

static struct service_layout layout;
static struct vm *service;

static bool console_input(u8 byte)
{
	if (!service || service->state != VM_RUNNING)
		return true; /* no service VM to type to: drop */
	return vuart_receive(service->uart, byte);
}

static void open_ports(struct vm *vm, u16 uart)
{
	for (u32 p = 0; p < PORTS; p++)
		vcpu_ops->intercept_io(vm, (u16)p, false);
	for (u32 i = 0; i < ARRAY_SIZE(absent_ports); i++)
		vcpu_ops->intercept_io(vm, absent_ports[i], true);
	for (u16 p = uart; uart && p < uart + UART_NR_PORTS; p++)
		vcpu_ops->intercept_io(vm, p, true);
}

static int add_devices(struct vm *vm, const struct boot_info *bi, const struct acpi_info *ai)
{
	u16 port = bi->config.serial_port ? bi->config.serial_port : COM1_PORT;
	u16 flags;

	if (vlapic_register_mmio(vm))
		return -ENOMEM;
	if (ai->nr_ioapics && !vioapic_create(vm, ai->ioapics[0].address, (u8)ai->ioapics[0].id,
					      ai->ioapics[0].gsi_base))
		return -ENOMEM;
	vm->uart = vuart_create(vm, port, (u8)ioapic_isa_gsi(COM_ISA_IRQ(port), &flags),
				vuart_sink_serial, NULL);
	if (!vm->uart)
		return -ENOMEM;
	open_ports(vm, port);
	if (vm->ioapic)
		intx_mirror_attach(vm->ioapic);		 /* the devices' INTx */
	if (control_init(vm, bi->config.control_window)) /* keelctl's door into Keel */
		return -ENOSPC;
	return assign_init(vm, bi); /* config space, MSI and MSI-X */
}

/*
 * The service VM's functions reach its RAM (at the same addresses, as its
 * nested paging maps it) and nothing else; the others stay blocked.
 */
static int confine_dma(void)
{
	struct iommu_domain *d;
	int ret;

	if (!iommu_active())
		return 0;
	d = iommu_domain_create("service");
	if (!d)
		return -ENOMEM;
	for (u32 i = 0; i < layout.nr_ram; i++) {
		ret = iommu_map(d, layout.ram[i].base, layout.ram[i].base, layout.ram[i].size,
				PT_R | PT_W);
		if (ret)
			return ret;
	}
	for (u32 i = 0; i < pci_nr_funcs; i++) {
		const struct pci_func *f = &pci_funcs[i];

		if (strcmp(f->owner, "service"))
			continue;
		ret = iommu_attach(d, 0, f->bdf);
		if (ret == -ENODEV)
			pr_warn("service VM: no IOMMU unit covers %02x:%02x.%x: its DMA is unconfined",
				PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf));
		else if (ret)
			return ret;
	}
	return 0;
}

static int load_kernel(struct vm *vm, const struct boot_info *bi, u64 rsdp)
{
	const struct boot_module *k = boot_module_find(bi, bi->config.service_kernel);
	const struct boot_module *rd = bi->config.service_initrd[0] ?
					       boot_module_find(bi, bi->config.service_initrd) :
					       NULL;
	struct linux_boot lb = {
		.kernel = phys_to_virt(k->base),
		.kernel_size = k->size,
		.initrd = rd ? phys_to_virt(rd->base) : NULL,
		.initrd_size = rd ? rd->size : 0,
		.cmdline = bi->config.service_cmdline,
		.rsdp = rsdp,
		.e820 = layout.e820,
		.nr_e820 = layout.nr_e820,
		.fb = &bi->fb,
		.boot_area = layout.boot_area,
	};
	char err[LINUX_ERR_MAX];
	int ret = linux_load(vm, &lb, err);

	if (ret)
		pr_err("service VM: cannot boot %s: %s", bi->config.service_kernel, err);
	return ret;
}

static int build(struct vm *vm, struct boot_info *bi, const struct acpi_info *ai, u32 vcpus)
{
	u64 rsdp;

	if (service_mem_alloc(&layout, bi, bi->config.service_memory)) {
		pr_err("service VM: not enough free memory for service.memory = %llu MiB (%llu MiB free)",
		       (unsigned long long)(bi->config.service_memory / MiB),
		       (unsigned long long)(page_alloc_free_pages() * PAGE_SIZE / MiB));
		return -ENOMEM;
	}
	layout.acpi_page = page_alloc_range(1, 1, 0);
	if (!layout.acpi_page || service_mem_e820(&layout, bi) ||
	    service_map_init(vm, &layout, bi, ai)) {
		pr_err("service VM: cannot build its memory map");
		return -ENOMEM;
	}
	if (confine_dma()) {
		pr_err("service VM: cannot build its DMA domain");
		return -ENOMEM;
	}
	/* identity-mapped, so vm_add_ram did not count it */
	vm->ram_size = bi->config.service_memory;
	rsdp = service_acpi_build(&layout, ai, vcpus);
	if (add_devices(vm, bi, ai))
		return -ENOMEM;
	return load_kernel(vm, bi, rsdp);
}

int service_vm_start(struct boot_info *bi, const struct acpi_info *ai)
{
	u32 vcpus = bi->config.service_vcpus;
	struct vm *vm;

	if (bi->config.iommu_required && !iommu_active()) {
		pr_err("service VM: not started: keel.cfg says iommu = required, and there is no "
		       "usable IOMMU to confine its devices' DMA");
		return -ENODEV;
	}
	if (vcpus > nr_cpus || vcpus > ai->nr_cpus) {
		pr_warn("service VM: service.vcpus = %u, but the machine has %u CPUs: it gets %u",
			vcpus, nr_cpus, nr_cpus);
		vcpus = nr_cpus;
	}
	vm = vm_create("service", vcpus, 0);
	if (!vm)
		return -ENOMEM;
	vm->absent_mmio = true; /* it probes the platform: what is not its own reads as absent */
	if (build(vm, bi, ai, vcpus)) {
		vm_fail(vm, "could not be built");
		return -EINVAL;
	}
	service = vm;
	sched_set_nmi_owner(
		vm); /* the platform's NMIs (SERR, IOCHK, a BMC's) come from its devices */
	monitor_set_console_input(console_input);
	if (bi->fb.format != FB_NONE)
		fbcon_release(); /* the screen is the service VM's now */
	pr_info("service VM: %u vCPU(s), %llu MiB in %u chunk(s), kernel %s, cmdline \"%s\", "
		"starting %llu ms after the core",
		vcpus, (unsigned long long)(bi->config.service_memory / MiB), layout.nr_ram,
		bi->config.service_kernel, bi->config.service_cmdline,
		(unsigned long long)(time_ns() / 1000000));
	vm_start(vm);
	return 0;
}

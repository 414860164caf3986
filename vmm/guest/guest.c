// SPDX-License-Identifier: MIT
/*
 * The guest platform, in the style of Cloud Hypervisor: RAM from Keel's pool
 * at GPA 0 (with the usual hole below 4 GiB), local APICs (xAPIC and
 * x2APIC), an I/O APIC, a 16550 on COM1, a PCI bus behind ECAM, HW-reduced
 * ACPI tables with a PM timer, sleep and reset registers and a power button
 * on a Generic Event Device, PIT channel 2 for TSC calibration. No 8259, no
 * PIT interrupts, no legacy BIOS.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/pc_regs.h>
#include <arch/x86/tsc.h>
#include <lib/format.h>
#include <keel/flash.h>
#include <keel/fw_cfg.h>
#include <keel/guest.h>
#include <keel/guest_acpi.h>
#include <keel/linux_boot.h>
#include <keel/loader.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/memory.h>
#include <lib/string.h>
#include <keel/testdev.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <keel/vpci_bus.h>
#include <keel/vpit.h>
#include <keel/vrtc.h>

#define IOAPIC_BASE 0xfec00000ULL
#define PM_PORT_BASE 0x600
#define SLEEP_STS_PORT 0x600
#define SLEEP_CTL_PORT 0x604
#define PM_TIMER_PORT 0x608
#define RESET_PORT 0x60c
#define RESET_VALUE 0x1
#define PM_PORTS 0x10
#define SLP_EN BIT(5)	   /* ACPI 6.5 4.8.3.7, sleep control register (8 bits) */
#define PM1_SLP_EN BIT(13) /* ACPI 6.5 4.8.3.2.1 table 4.16, PM1 control (16 bits, OVMF's) */
#define RST_CNT_PORT 0xcf9 /* ICH9 reset control (Intel 319973 13.7.5) */
#define RST_CNT_VALUE 0x6  /* full reset: SYS_RST | RST_CPU, what OVMF writes */
#define RST_CPU BIT(2)
#define GED_GSI 9
#define COM1_GSI 4

/*
 * A reset from the guest, through 0xCF9 or the FADT's reset register (Linux
 * writes the latter on reboot). A firmware VM of one vCPU resets in place:
 * that vCPU goes back to the reset vector once this OUT is done, RAM and
 * devices as they are (QEMU keeps RAM too; the firmware programs the
 * devices it uses again). Others stop: resetting several vCPUs needs INIT
 * and SIPI to reset them too, which they do not yet.
 */
static void guest_reset(struct vcpu *v)
{
	if (v->vm->firmware && v->vm->nr_vcpus == 1) {
		pr_info("vm %s: reset by the guest", v->vm->name);
		flash_reset(v);
		v->reset_pending = true;
	} else {
		vm_stop(v->vm, "reset by the guest; start it again to reboot");
	}
}

static int pm_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	u64 ns = time_ns();

	(void)v, (void)opaque, (void)size;
	if (port >= PM_TIMER_PORT && port < PM_TIMER_PORT + 4) /* ACPI 6.5 4.8.3.3, 32 bits */
		*val = (u32)((ns / 1000000000ULL) * PM_TIMER_HZ +
			     (ns % 1000000000ULL) * PM_TIMER_HZ / 1000000000ULL);
	else
		*val = 0;
	return 0;
}

/*
 * 0x604 is two registers in one: the HW-reduced sleep control register
 * Keel's FADT describes (a byte, SLP_EN bit 5), and the ICH9 PM1 control
 * OVMF's ResetSystemLib writes on Q35 (16 bits, SLP_EN bit 13). The access
 * size tells them apart; any sleep type is S5, Keel has no other.
 */
static int pm_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)opaque;
	if (port == SLEEP_CTL_PORT && (size == 1 ? val & SLP_EN : val & PM1_SLP_EN))
		vm_stop(v->vm, "powered off");
	else if (port == RESET_PORT && (val & 0xff) == RESET_VALUE)
		guest_reset(v);
	return 0;
}

/* The reset control register: RST_CPU set resets. */
static int rst_cnt_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)opaque, (void)port, (void)size;
	if (val & RST_CPU)
		guest_reset(v);
	return 0;
}

static int rst_cnt_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	(void)v, (void)opaque, (void)port, (void)size;
	*val = 0;
	return 0;
}

static void platform_of(struct vm *vm, struct guest_platform *p)
{
	*p = (struct guest_platform){
		.nr_vcpus = vm->nr_vcpus,
		.ioapic_base = IOAPIC_BASE,
		.ioapic_id = 0,
		.ioapic_gsi_base = 0,
		.ecam_base = GUEST_ECAM_BASE,
		.bus_end = 0,
		.mmio32_base = GUEST_MMIO32_BASE,
		.mmio32_size = GUEST_MMIO32_SIZE,
		.mmio64_base = GUEST_MMIO64_BASE,
		.mmio64_size = GUEST_MMIO64_SIZE,
		.io_base = 0x1000,
		.io_size = 0xf000,
		.pm_timer_port = PM_TIMER_PORT,
		.sleep_ctl_port = SLEEP_CTL_PORT,
		.sleep_sts_port = SLEEP_STS_PORT,
		.reset_port = RESET_PORT,
		.reset_value = RESET_VALUE,
		.ged_gsi = GED_GSI,
		.com1_port = COM1_PORT,
		.com1_gsi = COM1_GSI,
	};
	if (vm->firmware) {
		p->ecam_base = GUEST_FW_ECAM_BASE;
		p->mmio32_base = GUEST_FW_MMIO32_BASE;
		p->mmio32_size = GUEST_FW_MMIO32_SIZE;
		p->reset_port = RST_CNT_PORT;
		p->reset_value = RST_CNT_VALUE;
	}
}

static int add_ram(struct vm *vm, u64 size)
{
	u64 low = guest_low_ram(size, vm->firmware);
	int ret = vm_add_ram(vm, 0, low);

	if (!ret && size > low)
		ret = vm_add_ram(vm, 4 * GiB, size - low);
	return ret;
}

static int add_acpi(struct vm *vm)
{
	struct guest_platform p;
	u8 *buf = page_alloc_zeroed(GUEST_ACPI_SIZE / PAGE_SIZE);
	int n;

	if (!buf)
		return -ENOMEM;
	platform_of(vm, &p);
	n = guest_acpi_build(&p, GUEST_ACPI_BASE, buf, GUEST_ACPI_SIZE);
	if (n > 0 && vm->firmware) /* firmware places them itself, from fw_cfg */
		n = 0;
	else if (n > 0)
		n = vm_write(vm, GUEST_ACPI_BASE, buf, (size_t)n);
	page_free(buf, GUEST_ACPI_SIZE / PAGE_SIZE);
	if (n >= 0) /* the same tables, and the same facts, for firmware that asks fw_cfg */
		n = guest_fw_cfg_attach(vm, &p);
	return n < 0 ? n : 0;
}

/* The firmware flavor's Q35 pieces: the PCI bus with its LPC bridge, and the reset register. */
static int add_fw_devices(struct vm *vm)
{
	struct io_handler rst = { RST_CNT_PORT, 1, rst_cnt_read, rst_cnt_write, NULL };

	if (vpci_bus_create(vm, GUEST_FW_ECAM_BASE, GUEST_FW_ECAM_SIZE, true) || vlpc_attach(vm) ||
	    vm_register_io(vm, &rst))
		return -ENOMEM;
	return 0;
}

static int add_devices(struct vm *vm, const struct guest_config *gc)
{
	struct io_handler pm = { PM_PORT_BASE, PM_PORTS, pm_read, pm_write, NULL };

	if (vlapic_register_mmio(vm) || !vioapic_create(vm, IOAPIC_BASE, 0, 0))
		return -ENOMEM;
	vm->uart = vuart_create(vm, COM1_PORT, COM1_GSI, gc->console, gc->console_ctx);
	if (!vm->uart || vm_register_io(vm, &pm) || vpit_attach(vm) || vrtc_attach(vm))
		return -ENOMEM;
	if (vm->firmware ? add_fw_devices(vm) :
			   vpci_bus_create(vm, GUEST_ECAM_BASE, VPCI_ECAM_BUS_SIZE, false))
		return -ENOMEM;
	if (gc->testdev && testdev_attach(vm))
		return -ENOMEM;
	return add_acpi(vm);
}

struct vm *guest_create(const struct guest_config *gc, char *err)
{
	struct vm *vm = vm_create(gc->name, gc->vcpus, gc->first_cpu);

	if (!vm) {
		strlcpy(err, "cannot create the VM (out of memory or too many VMs)", GUEST_ERR_MAX);
		return NULL;
	}
	vm->firmware = gc->firmware;
	if (add_ram(vm, gc->memory)) {
		format_snprintf(
			err, GUEST_ERR_MAX, "not enough free memory for %llu MiB (%llu MiB free)",
			(unsigned long long)(gc->memory / MiB),
			(unsigned long long)((page_alloc_free_pages() * PAGE_SIZE + vm->ram_size) /
					     MiB));
		goto out_fail;
	}
	if (add_devices(vm, gc)) {
		strlcpy(err, "out of memory for its devices", GUEST_ERR_MAX);
		goto out_fail;
	}
	return vm;
out_fail:
	vm_destroy(vm);
	return NULL;
}

/*
 * Linux calibrates the TSC against the PIT or PM timer by polling them,
 * which needs each port read to take well under 10 us: not so when every
 * read is a VM exit (nested, above all). Tell it the frequency instead.
 */
static int linux_cmdline(char *line, size_t size, const char *cmdline, char *err)
{
	int n;

	if (strstr(cmdline, "tsc_early_khz="))
		n = format_snprintf(line, size, "%s", cmdline);
	else
		n = format_snprintf(line, size, "%s tsc_early_khz=%llu", cmdline,
				    (unsigned long long)(tsc_hz() / 1000));
	if (n >= (int)size) {
		format_snprintf(err, GUEST_ERR_MAX, "command line longer than %u bytes",
				(u32)size - 32);
		return -E2BIG;
	}
	return 0;
}

int guest_load(struct vm *vm, const struct guest_images *im, char *err)
{
	struct e820_entry e820[GUEST_E820_MAX];
	char why[LINUX_ERR_MAX], line[GUEST_CMDLINE_MAX], mb[LOADER_ERR_MAX];
	struct linux_boot lb = {
		.kernel = im->kernel,
		.kernel_size = im->kernel_size,
		.initrd = im->initrd,
		.initrd_size = im->initrd_size,
		.cmdline = line,
		.rsdp = GUEST_ACPI_BASE,
		.e820 = e820,
		.nr_e820 = guest_e820(vm->ram_size, e820),
		.boot_area = GUEST_BOOT_AREA,
	};
	struct multiboot_module mod = { im->initrd, im->initrd_size, im->initrd_cmdline };

	if (!linux_check_image(im->kernel, im->kernel_size, why)) {
		int ret = linux_cmdline(line, sizeof(line), im->cmdline, err);

		return ret ?: linux_load(vm, &lb, err);
	}
	if (!multiboot_load(vm, im->kernel, im->kernel_size, im->cmdline, im->initrd ? &mod : NULL,
			    mb))
		return 0;
	format_snprintf(err, GUEST_ERR_MAX,
			"neither a Linux bzImage (%s) nor a multiboot kernel (%s)", why, mb);
	return -ENOEXEC;
}

void guest_power_button(struct vm *vm)
{
	vioapic_set_pin(vm->ioapic, GED_GSI, true); /* the GED's interrupt is edge-triggered */
	vioapic_set_pin(vm->ioapic, GED_GSI, false);
}

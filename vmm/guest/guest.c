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

#define KBC_CMD_PORT 0x64    /* 8042 command register */
#define KBC_PULSE_RESET 0xfe /* pulse output line 0, the CPU's reset (8042 command FEh) */

/* What a direct-kernel guest was loaded with, kept for its resets. */
struct guest_boot {
	struct guest_images im;
	u8 *kernel, *initrd;
	char *text; /* both command lines */
	u64 kernel_pages, initrd_pages, text_pages;
	u64 zeroed; /* bytes of RAM a reset in progress has cleared */
};

/*
 * A reset from the guest, through 0xCF9, the FADT's reset register (Linux
 * writes it on reboot) or the keyboard controller: the VM restarts in place
 * (vm_reset, then platform_reset below) once this OUT is done.
 */
static void guest_reset(struct vcpu *v, const char *how)
{
	vm_reset(v->vm, "by the guest (%s)", how);
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
		guest_reset(v, "ACPI reset register");
	return 0;
}

static int kbc_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)opaque, (void)port, (void)size;
	if ((val & 0xff) == KBC_PULSE_RESET)
		guest_reset(v, "keyboard controller");
	return 0;
}

/*
 * keel-dm's keyboard controller (a firmware VM's, with --gpu) takes port 0x64
 * over: Keel's reset-only register goes, and keel-dm resets the VM through
 * KCTL_OP_REBOOT when the guest pulses the reset line there.
 */
void guest_kbc_yield(struct vm *vm, u16 base, u16 count)
{
	if (base <= KBC_CMD_PORT && KBC_CMD_PORT < base + count)
		vm_unregister_io(vm, KBC_CMD_PORT, kbc_write);
}

/* The reset control register: RST_CPU set resets. */
static int rst_cnt_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)opaque, (void)port, (void)size;
	if (val & RST_CPU)
		guest_reset(v, "0xCF9");
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

/* A direct-kernel guest's ACPI tables, in its RAM at GUEST_ACPI_BASE (at create and each reset). */
static int write_acpi(struct vm *vm)
{
	struct guest_platform p;
	u8 *buf = page_alloc_zeroed(GUEST_ACPI_SIZE / PAGE_SIZE);
	int n;

	if (!buf)
		return -ENOMEM;
	platform_of(vm, &p);
	n = guest_acpi_build(&p, GUEST_ACPI_BASE, buf, GUEST_ACPI_SIZE);
	if (n > 0)
		n = vm_write(vm, GUEST_ACPI_BASE, buf, (size_t)n);
	page_free(buf, GUEST_ACPI_SIZE / PAGE_SIZE);
	return n < 0 ? n : 0;
}

static int add_acpi(struct vm *vm)
{
	struct guest_platform p;
	int n = vm->firmware ? 0 : write_acpi(vm); /* firmware places them itself, from fw_cfg */

	platform_of(vm, &p);
	if (n >= 0) /* the same tables, and the same facts, for firmware that asks fw_cfg */
		n = guest_fw_cfg_attach(vm, &p);
	return n < 0 ? n : 0;
}

/* The firmware flavor's Q35 pieces: the PCI bus with its LPC bridge, and the reset register. */
static int add_fw_devices(struct vm *vm)
{
	struct io_handler rst = { RST_CNT_PORT,	 1,    rst_cnt_read,
				  rst_cnt_write, NULL, "reset control" };

	if (vpci_bus_create(vm, GUEST_FW_ECAM_BASE, GUEST_FW_ECAM_SIZE, true) || vlpc_attach(vm) ||
	    vm_register_io(vm, &rst))
		return -ENOMEM;
	return 0;
}

static int add_devices(struct vm *vm, const struct guest_config *gc)
{
	struct io_handler pm = { PM_PORT_BASE, PM_PORTS, pm_read, pm_write, NULL, "ACPI PM" };
	/* writes only: reads stay all-ones, no controller for Linux to probe */
	struct io_handler kbc = { KBC_CMD_PORT, 1,    NULL,
				  kbc_write,	NULL, "keyboard controller reset" };

	if (vlapic_register_mmio(vm) || !vioapic_create(vm, IOAPIC_BASE, 0, 0))
		return -ENOMEM;
	vm->uart = vuart_create(vm, COM1_PORT, COM1_GSI, gc->console, gc->console_ctx);
	if (!vm->uart || vm_register_io(vm, &pm) || vpit_attach(vm) || vrtc_attach(vm))
		return -ENOMEM;
	if (vm->firmware ? add_fw_devices(vm) :
			   vpci_bus_create(vm, GUEST_ECAM_BASE, VPCI_ECAM_BUS_SIZE, false))
		return -ENOMEM;
	if (vm_register_io(vm, &kbc)) /* until keel-dm's controller takes the port over */
		return -ENOMEM;
	if (gc->testdev && testdev_attach(vm))
		return -ENOMEM;
	return add_acpi(vm);
}

/*
 * A reset clears a direct-kernel guest's RAM ZERO_STEP bytes per reaper
 * round (CPU 0, between the service VM's slices): all of it at once held
 * CPU 0 for seconds under an emulator.
 */
#define ZERO_STEP (2 * MiB)

struct zero_walk {
	u64 pos;    /* bytes of RAM runs walked so far */
	u64 cursor; /* bytes cleared so far, in walk order (vm->boot->zeroed) */
	u64 budget;
};

/* Under the VM's gpa_lock (vm_walk_ram): straight at the RAM, not through vm_zero. */
static int zero_run(void *ctx, gpa_t gpa, hpa_t hpa, u64 size)
{
	struct zero_walk *z = ctx;
	u64 start, n;

	(void)gpa;
	if (z->pos + size <= z->cursor) {
		z->pos += size;
		return 0;
	}
	start = z->cursor - z->pos;
	n = MIN(size - start, z->budget);
	memset((u8 *)phys_to_virt(hpa) + start, 0, n);
	z->cursor += n;
	z->budget -= n;
	z->pos += size;
	return z->budget ? 0 : 1;
}

/*
 * The platform's part of a reset (vm_reset): the I/O APIC's entries masked
 * again; firmware finds its flash in read-array mode and RAM as it was (QEMU
 * keeps RAM too); a direct-kernel guest gets clean RAM (-EAGAIN until all of
 * it is), its ACPI tables and the kernel it was loaded with, as at its first
 * start.
 */
static int platform_reset(struct vm *vm, char *err)
{
	vioapic_reset(vm->ioapic);
	if (vm->firmware) {
		flash_reset(vm);
		return 0;
	}
	if (!vm->boot) {
		strlcpy(err, "no copy of its kernel was kept", GUEST_ERR_MAX);
		return -ENOENT;
	}
	if (vm->boot->zeroed < vm->ram_size) {
		struct zero_walk z = { 0, vm->boot->zeroed, ZERO_STEP };

		vm_walk_ram(vm, zero_run, &z);
		vm->boot->zeroed = z.cursor < vm->ram_size && z.budget ? vm->ram_size : z.cursor;
		return -EAGAIN; /* again next round, then the kernel */
	}
	vm->boot->zeroed = 0;
	if (write_acpi(vm)) {
		strlcpy(err, "cannot write its ACPI tables", GUEST_ERR_MAX);
		return -EFAULT;
	}
	return guest_load(vm, &vm->boot->im, err);
}

struct vm *guest_create(const struct guest_config *gc, char *err)
{
	struct vm *vm = vm_create(gc->name, gc->vcpus, gc->first_cpu);

	if (!vm) {
		strlcpy(err, "cannot create the VM (out of memory or too many VMs)", GUEST_ERR_MAX);
		return NULL;
	}
	vm->firmware = gc->firmware;
	vm->platform_reset = platform_reset;
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
 * And how to reboot: on HW-reduced ACPI Linux picks EFI reboot unless told
 * (arch/x86/kernel/reboot.c, reboot_init()), which without EFI falls to a
 * jump to a BIOS reset vector a direct-kernel guest does not have; reboot=a
 * makes it write the FADT's reset register (port 0x60C) instead.
 */
static int linux_cmdline(char *line, size_t size, const char *cmdline, char *err)
{
	int n = format_snprintf(line, size, "%s", cmdline);

	if (!strstr(cmdline, "tsc_early_khz=") && n >= 0 && n < (int)size)
		n += format_snprintf(line + n, size - (size_t)n, " tsc_early_khz=%llu",
				     (unsigned long long)(tsc_hz() / 1000));
	if (!strstr(cmdline, "reboot=") && n >= 0 && n < (int)size)
		n += format_snprintf(line + n, size - (size_t)n, " reboot=a");
	if (n >= (int)size) {
		format_snprintf(err, GUEST_ERR_MAX, "command line longer than %u bytes",
				(u32)size - 32);
		return -E2BIG;
	}
	return 0;
}

static void boot_free(void *opaque)
{
	struct guest_boot *b = opaque;

	if (b->kernel)
		page_free(b->kernel, b->kernel_pages);
	if (b->initrd)
		page_free(b->initrd, b->initrd_pages);
	if (b->text)
		page_free(b->text, b->text_pages);
	page_free(b, 1);
}

static u8 *copy_pages(const void *src, u64 len, u64 *pages)
{
	u8 *p;

	*pages = ALIGN_UP(len ?: 1, PAGE_SIZE) / PAGE_SIZE;
	p = page_alloc_zeroed(*pages);
	if (p)
		memcpy(p, src, len);
	return p;
}

/* A copy of what the guest was loaded with, for its resets; false if there is no memory for it. */
static bool keep_images(struct vm *vm, const struct guest_images *im)
{
	struct guest_boot *b = page_alloc_zeroed(1);
	const char *mc = im->initrd_cmdline ?: "";
	size_t cl = strlen(im->cmdline) + 1, ml = strlen(mc) + 1;

	BUILD_ASSERT(sizeof(*b) <= PAGE_SIZE, "one page");
	if (!b)
		return false;
	b->kernel = copy_pages(im->kernel, im->kernel_size, &b->kernel_pages);
	if (im->initrd)
		b->initrd = copy_pages(im->initrd, im->initrd_size, &b->initrd_pages);
	b->text = page_alloc_zeroed(ALIGN_UP(cl + ml, PAGE_SIZE) / PAGE_SIZE);
	b->text_pages = ALIGN_UP(cl + ml, PAGE_SIZE) / PAGE_SIZE;
	if (!b->kernel || (im->initrd && !b->initrd) || !b->text) {
		boot_free(b);
		return false;
	}
	memcpy(b->text, im->cmdline, cl);
	memcpy(b->text + cl, mc, ml);
	b->im = (struct guest_images){ b->kernel,	im->kernel_size, b->initrd,
				       im->initrd_size, b->text,	 b->text + cl };
	if (vm_add_cleanup(vm, boot_free, b))
		return false; /* freed already */
	vm->boot = b;
	return true;
}

static int load(struct vm *vm, const struct guest_images *im, char *err);

int guest_load(struct vm *vm, const struct guest_images *im, char *err)
{
	int ret = load(vm, im, err);

	if (!ret && !vm->boot && !keep_images(vm, im))
		pr_warn("vm %s: no memory for a copy of its kernel: a reset will stop it",
			vm->name);
	return ret;
}

static int load(struct vm *vm, const struct guest_images *im, char *err)
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

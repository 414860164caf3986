// SPDX-License-Identifier: MIT
/* Boot-time VMs from keel.cfg: the guest platform they get and their start. */
#include <arch/x86/percpu.h>
#include <keel/boot_vms.h>
#include <keel/loader.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/testdev.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <keel/vuart.h>

#define COM1_PORT 0x3f8
#define COM1_IRQ 4
#define LOW_RAM_MAX (3 * GiB) /* RAM above goes past the 32-bit device hole, at 4 GiB */

static int add_ram(struct vm *vm, u64 size)
{
	u64 low = MIN(size, LOW_RAM_MAX);
	int ret = vm_add_ram(vm, 0, low);

	if (!ret && size > low)
		ret = vm_add_ram(vm, 4 * GiB, size - low);
	return ret;
}

static int build(const struct boot_info *bi, const struct config_vm *c, struct vm *vm)
{
	const struct boot_module *m = boot_module_find(bi, c->kernel);
	char err[LOADER_ERR_MAX];
	int ret;

	if (add_ram(vm, c->memory)) {
		pr_err("vm %s: not enough free memory for %llu MiB", c->name,
		       (unsigned long long)(c->memory / MiB));
		return -ENOMEM;
	}
	if (vlapic_register_mmio(vm) || !vuart_create(vm, COM1_PORT, COM1_IRQ, vuart_sink_log, NULL) ||
	    (c->testdev && testdev_attach(vm)))
		return -ENOMEM;
	ret = multiboot_load(vm, phys_to_virt(m->base), m->size, c->cmdline, err);
	if (ret)
		pr_err("vm %s: cannot load %s: %s", c->name, c->kernel, err);
	return ret;
}

void boot_vms_start(const struct boot_info *bi)
{
	for (u32 i = 0; i < bi->config.nr_vms; i++) {
		const struct config_vm *c = &bi->config.vms[i];
		struct vm *vm = vm_create(c->name, c->vcpus, c->first_cpu);

		if (!vm)
			continue;
		if (build(bi, c, vm)) {
			vm_fail(vm, "could not be built");
			continue;
		}
		pr_info("vm %s: %u vCPU(s) from CPU %u, %llu MiB, kernel %s", c->name, c->vcpus,
			c->first_cpu % nr_cpus, (unsigned long long)(c->memory / MiB), c->kernel);
		vm_start(vm);
	}
}

// SPDX-License-Identifier: MIT
/* Boot-time VMs from keel.cfg (vm.<name>.*): guests on the guest platform, output in Keel's log. */
#include <arch/x86/percpu.h>
#include <keel/boot_vms.h>
#include <keel/guest.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/vm.h>

static int load(struct vm *vm, const struct boot_info *bi, const struct config_vm *c, char *err)
{
	const struct boot_module *m = boot_module_find(bi, c->kernel);
	const struct boot_module *rd = c->initrd[0] ? boot_module_find(bi, c->initrd) : NULL;
	struct guest_images im = {
		phys_to_virt(m->base), m->size,	   rd ? phys_to_virt(rd->base) : NULL,
		rd ? rd->size : 0,     c->cmdline, c->initrd_cmdline
	};

	return guest_load(vm, &im, err);
}

void boot_vms_start(const struct boot_info *bi)
{
	/* what the pool must hold again, to the KiB, once every VM has stopped */
	if (bi->config.nr_vms)
		pr_info("boot VMs: %u to start, %llu KiB free in the pool", bi->config.nr_vms,
			(unsigned long long)(page_alloc_free_pages() * PAGE_SIZE / KiB));
	for (u32 i = 0; i < bi->config.nr_vms; i++) {
		const struct config_vm *c = &bi->config.vms[i];
		struct guest_config gc = { .name = c->name,
					   .memory = c->memory,
					   .vcpus = c->vcpus,
					   .first_cpu = c->first_cpu,
					   .testdev = c->testdev,
					   .console = vuart_sink_log };
		char err[GUEST_ERR_MAX];
		struct vm *vm = guest_create(&gc, err);

		if (!vm) {
			pr_err("vm %s: %s", c->name, err);
			continue;
		}
		if (load(vm, bi, c, err)) {
			pr_err("vm %s: cannot load %s: %s", c->name, c->kernel, err);
			vm_destroy(vm);
			continue;
		}
		pr_info("vm %s: %u vCPU(s) from CPU %u, %llu MiB, kernel %s%s%s", c->name, c->vcpus,
			c->first_cpu % nr_cpus, (unsigned long long)(c->memory / MiB), c->kernel,
			c->initrd[0] ? ", module " : "", c->initrd);
		vm_start(vm);
	}
}

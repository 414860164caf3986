// SPDX-License-Identifier: MIT
/* Boot-time VMs from keel.cfg (vm.<name>.*): guests on the guest platform, output in Keel's log. */
#include <arch/x86/percpu.h>
#include <keel/boot_vms.h>
#include <keel/flash.h>
#include <keel/guest.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/vm.h>
#include <lib/format.h>
#include <lib/string.h>

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

/* A boot module copied to pool pages of its own (the VM's, freed with it); NULL: no memory. */
static u8 *module_copy(const struct boot_module *m, u64 *pages)
{
	u8 *p;

	*pages = ALIGN_UP(m->size ?: 1, PAGE_SIZE) / PAGE_SIZE;
	p = page_alloc_zeroed(*pages);
	if (p)
		memcpy(p, phys_to_virt(m->base), m->size);
	return p;
}

/*
 * The firmware and its variable store template, as `keelctl create --firmware`
 * maps them: read-only below 4 GiB. With no keel-dm to keep it, the store is
 * read-only too; OVMF then keeps its variables in RAM.
 */
static int load_firmware(struct vm *vm, const struct boot_info *bi, const struct config_vm *c,
			 char *err)
{
	const struct boot_module *m = boot_module_find(bi, c->firmware);
	const struct boot_module *vs = c->vars[0] ? boot_module_find(bi, c->vars) : NULL;
	u64 cp, vp = 0;
	u8 *code, *vars = NULL;

	if (guest_firmware_check(phys_to_virt(m->base), m->size, vs ? phys_to_virt(vs->base) : NULL,
				 vs ? vs->size : 0, err))
		return -EINVAL;
	code = module_copy(m, &cp);
	if (code && vs)
		vars = module_copy(vs, &vp);
	if (!code || (vs && !vars)) {
		if (code)
			page_free(code, cp);
		format_snprintf(err, GUEST_ERR_MAX, "no memory for the firmware's copy");
		return -ENOMEM;
	}
	if (flash_attach(vm, code, cp, vars, vp, false)) { /* the pages are the VM's now */
		format_snprintf(err, GUEST_ERR_MAX, "no room to map the firmware");
		return -ENOMEM;
	}
	vm->loaded = true;
	return 0;
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
					   .firmware = c->firmware[0] != 0,
					   .console = vuart_sink_log };
		char err[GUEST_ERR_MAX];
		struct vm *vm = guest_create(&gc, err);

		if (!vm) {
			pr_err("vm %s: %s", c->name, err);
			continue;
		}
		if (gc.firmware ? load_firmware(vm, bi, c, err) : load(vm, bi, c, err)) {
			pr_err("vm %s: cannot load %s: %s", c->name,
			       gc.firmware ? c->firmware : c->kernel, err);
			vm_destroy(vm);
			continue;
		}
		pr_info("vm %s: %u vCPU(s) from CPU %u, %llu MiB, %s %s%s%s", c->name, c->vcpus,
			c->first_cpu % nr_cpus, (unsigned long long)(c->memory / MiB),
			gc.firmware ? "firmware" : "kernel", gc.firmware ? c->firmware : c->kernel,
			c->initrd[0] ? ", module " :
			c->vars[0]   ? ", variables " :
				       "",
			c->initrd[0] ? c->initrd : c->vars);
		vm_start(vm);
	}
}

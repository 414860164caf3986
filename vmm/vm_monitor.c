// SPDX-License-Identifier: MIT
/* Monitor commands about VMs: list them with their RAM, vCPUs, states and exit counts; their NMI button. */
#include <arch/x86/tsc.h>
#include <lib/format.h>
#include <keel/irq_route.h>
#include <keel/monitor.h>
#include <keel/pci.h>
#include <lib/string.h>
#include <keel/vcpu_run.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

static const char *vcpu_state_name(enum vcpu_state s)
{
	static const char *const names[] = { [VCPU_RUNNABLE] = "runnable",
					     [VCPU_HALTED] = "halted",
					     [VCPU_WAIT_SIPI] = "waiting for SIPI",
					     [VCPU_STOPPED] = "stopped" };

	return (u32)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static void show_vcpu(struct vcpu *v)
{
	char line[256];
	u32 n = 0;

	for (u32 r = 0; r < EXIT_COUNT && n + 40 < sizeof(line); r++) {
		if (!v->exits[r])
			continue;
		n += (u32)format_snprintf(line + n, sizeof(line) - n, "%s%s %llu", n ? ", " : "",
					  exit_names[r], (unsigned long long)v->exits[r]);
	}
	line[n] = 0;
	monitor_print("    vcpu%u on cpu%u %s at %llx, %llu exits%s%s\n", v->id, v->pcpu,
		      vcpu_state_name(v->state), (unsigned long long)READ_ONCE(v->exit_rip),
		      (unsigned long long)v->exits_total, n ? ": " : "", line);
}

#define RAM_RUNS 4 /* lines a VM's RAM gets in `vms`: the rest are counted */

/* Runs of RAM contiguous in both address spaces, the first RAM_RUNS of them and one more. */
struct ram_runs {
	struct {
		gpa_t gpa;
		hpa_t hpa;
		u64 size;
	} run[RAM_RUNS + 1];
	u32 n, more;
};

static int add_run(void *ctx, gpa_t gpa, hpa_t hpa, u64 size)
{
	struct ram_runs *r = ctx;

	if (r->n && r->run[r->n - 1].gpa + r->run[r->n - 1].size == gpa &&
	    r->run[r->n - 1].hpa + r->run[r->n - 1].size == hpa) {
		r->run[r->n - 1].size += size;
		return 0;
	}
	if (r->n == RAM_RUNS + 1)
		r->more++; /* the extra slot holds the latest run, for the next to join */
	else
		r->n++;
	r->run[r->n - 1].gpa = gpa;
	r->run[r->n - 1].hpa = hpa;
	r->run[r->n - 1].size = size;
	return 0;
}

/* Where a VM's RAM is: guest-physical ranges and the host-physical memory behind each. */
static void show_ram(struct vm *vm)
{
	struct ram_runs r = { .n = 0, .more = 0 };

	vm_walk_ram(vm, add_run, &r); /* collected first: no printing under the map's lock */
	for (u32 i = 0; i < r.n && i < RAM_RUNS; i++)
		monitor_print("    ram 0x%llx-0x%llx at 0x%llx\n", (unsigned long long)r.run[i].gpa,
			      (unsigned long long)(r.run[i].gpa + r.run[i].size - 1),
			      (unsigned long long)r.run[i].hpa);
	if (r.n > RAM_RUNS)
		monitor_print("    ram: %u more runs\n", r.more + 1);
}

static void cmd_vms(const char *args)
{
	(void)args;
	if (!nr_vms_created)
		monitor_print("  no VMs\n");
	for (u32 i = 0; i < nr_vms_created; i++) {
		struct vm *vm = vm_get(i); /* the reaper may run on another CPU meanwhile */
		u64 up;

		if (!vm)
			continue;
		up = vm->start_ns ? (time_ns() - vm->start_ns) / 1000000000ULL : 0;
		monitor_print("  %u %-15s %-8s %u vCPU(s), %llu MiB, up %llu s%s%s\n", vm->id,
			      vm->name, vm_state_name(vm->state), vm->nr_vcpus,
			      (unsigned long long)(vm->ram_size / MiB), (unsigned long long)up,
			      vm->why[0] ? ": " : "", vm->why);
		if (!vm->resources_freed)
			show_ram(vm);
		for (u32 j = 0; j < vm->nr_vcpus && !vm->resources_freed; j++)
			show_vcpu(vm->vcpus[j]);
		vm_put(vm);
	}
}

static void cmd_pci(const char *args)
{
	(void)args;
	for (u32 i = 0; i < pci_nr_funcs; i++) {
		const struct pci_func *f = &pci_funcs[i];

		monitor_print("  %02x:%02x.%x %04x:%04x class %06x %-8s%s%s\n", PCI_BUS(f->bdf),
			      PCI_DEV(f->bdf), PCI_FN(f->bdf), f->vendor, f->device,
			      f->class_rev >> 8, f->owner, f->msi_cap ? " msi" : "",
			      f->msix_cap ? " msi-x" : "");
	}
	monitor_print("  %u device interrupts routed to vCPUs\n", irq_route_count());
}

/*
 * The NMI button (as `xl trigger nmi`, `virsh inject-nmi`, QEMU's `nmi`):
 * an edge on LINT1 of each vCPU, which its LVT entry delivers; a guest
 * that set LINT1 to NMI, as PC firmware and Linux do, takes an NMI.
 */
static void cmd_nmi(const char *args)
{
	bool found = false;

	for (u32 i = 0; i < nr_vms_created; i++) {
		struct vm *vm = vm_get(i);

		if (!vm)
			continue;
		if (!strcmp(vm->name, args) && vm->state == VM_RUNNING && !vm->resources_freed) {
			for (u32 j = 0; j < vm->nr_vcpus; j++)
				vlapic_lint(vm->vcpus[j], 1);
			monitor_print("  LINT1 pulsed on the %u vCPU(s) of %s\n", vm->nr_vcpus,
				      vm->name);
			found = true;
		}
		vm_put(vm);
	}
	if (!found)
		monitor_print("  no running VM named '%s' (see vms)\n", args);
}

static const struct monitor_cmd vm_cmds[] = {
	{ "vms", "VMs and their vCPUs: state, physical CPU, exit counts", cmd_vms },
	{ "pci", "PCI functions and the VM that owns each", cmd_pci },
	{ "nmi", "nmi NAME: the NMI button of a VM (LINT1 of each vCPU)", cmd_nmi },
};

void vm_monitor_init(void)
{
	monitor_register(vm_cmds, ARRAY_SIZE(vm_cmds));
}

// SPDX-License-Identifier: MIT
/* VM objects: creation, guest RAM from the pool, device registration, stop and teardown. */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <lib/format.h>
#include <keel/dm.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/spec.h>
#include <keel/vcpu_run.h>
#include <lib/string.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

struct vm *vms[MAX_VMS];
u32 nr_vms_created;
static u64 serials;
static struct spinlock vms_lock = SPINLOCK_INIT;
static const struct vm_teardown_ops *teardown;
static struct spinlock admin_lock = SPINLOCK_INIT;

/*
 * The MSRs a guest reads and writes without an exit, on either backend: its
 * own state, which the VMCB or the VMCS switches with it (FS and GS bases,
 * the SYSCALL and SYSENTER MSRs). Every other MSR exits to exit/msr.c.
 */
static const u32 passthrough_msrs[] = {
	MSR_FS_BASE,	 MSR_GS_BASE,	   MSR_KERNEL_GS_BASE,		   /* segment bases */
	MSR_STAR,	 MSR_LSTAR,	   MSR_CSTAR,	       MSR_SFMASK, /* SYSCALL */
	MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,		   /* SYSENTER */
};

static void release_ram(hpa_t pa, u64 size)
{
	ASSERT(page_free_range(pa, size / PAGE_SIZE) == 0);
}

static int vcpus_create(struct vm *vm, u32 n, u32 first_cpu)
{
	for (u32 i = 0; i < n; i++) {
		struct vcpu *v = page_alloc_zeroed(ALIGN_UP(sizeof(*v), PAGE_SIZE) / PAGE_SIZE);

		if (!v)
			return -ENOMEM;
		vm->vcpus[i] = v;
		vm->nr_vcpus = i + 1;
		v->vm = vm;
		v->id = i;
		v->pcpu = (first_cpu + i) % nr_cpus;
		v->state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
		if (vcpu_ops->vcpu_create(v))
			return -ENOMEM;
		v->lapic = vlapic_create(v);
		v->fpu = page_alloc_zeroed(ALIGN_UP(fpu_area_size(), PAGE_SIZE) / PAGE_SIZE);
		if (!v->lapic || !v->fpu)
			return -ENOMEM;
		fpu_area_init(v->fpu);
		v->xcr0 = 1; /* x87 only, as after reset */
		mtrr_reset(v);
	}
	return 0;
}

/* The backend's part of the VM, its permission maps denying all but passthrough_msrs (and SPEC_CTRL reads). */
static int arch_init(struct vm *vm)
{
	int ret = vcpu_ops->vm_init(vm);

	for (u32 i = 0; !ret && i < ARRAY_SIZE(passthrough_msrs); i++)
		vcpu_ops->intercept_msr(vm, passthrough_msrs[i], false, false);
	if (!ret && spec_host.spec_ctrl) /* the CPU holds the vCPU's own value: read it there */
		vcpu_ops->intercept_msr(vm, MSR_SPEC_CTRL, false, true);
	return ret;
}

int vm_add_cleanup(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
	if (vm->nr_cleanups >= VM_MAX_CLEANUPS) {
		fn(opaque);
		return -ENOSPC;
	}
	vm->cleanups[vm->nr_cleanups].fn = fn;
	vm->cleanups[vm->nr_cleanups++].opaque = opaque;
	return 0;
}

static void vm_free_resources(struct vm *vm)
{
	while (vm->nr_cleanups) {
		vm->nr_cleanups--;
		vm->cleanups[vm->nr_cleanups].fn(vm->cleanups[vm->nr_cleanups].opaque);
	}
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v->lapic)
			vlapic_destroy(v->lapic);
		if (v->fpu) {
			/* a new vCPU at this address must not inherit it */
			for (u32 c = 0; c < nr_cpus; c++)
				__atomic_compare_exchange_n(&cpus[c]->fpu_loaded, &(void *){ v },
							    NULL, false, __ATOMIC_SEQ_CST,
							    __ATOMIC_SEQ_CST);
			page_free(v->fpu, ALIGN_UP(fpu_area_size(), PAGE_SIZE) / PAGE_SIZE);
		}
		if (v->arch)
			vcpu_ops->vcpu_destroy(v);
		vm->exits_retired += v->exits_total;
		page_free(v, ALIGN_UP(sizeof(*v), PAGE_SIZE) / PAGE_SIZE);
		vm->vcpus[i] = NULL;
	}
	if (vm->arch) {
		spec_forget_vm(vm);
		vcpu_ops->vm_destroy(vm);
	}
	vm_release_ram(vm);
	vm->resources_freed = true;
}

struct vm *vm_create(const char *name, u32 nr_vcpus, u32 first_cpu)
{
	struct vm *vm = page_alloc_zeroed(ALIGN_UP(sizeof(*vm), PAGE_SIZE) / PAGE_SIZE);
	u64 flags;

	if (!vm || nr_vcpus == 0 || nr_vcpus > VM_MAX_VCPUS) {
		pr_err("vm %s: cannot create: %s", name, !vm ? "out of memory" : "bad vCPU count");
		goto out_free;
	}
	strlcpy(vm->name, name, sizeof(vm->name));
	if (pt_init(&vm->gpa, vcpu_ops->gpa_format, release_ram) || arch_init(vm) ||
	    vcpus_create(vm, nr_vcpus, first_cpu)) {
		pr_err("vm %s: cannot create: out of memory", name);
		vm_free_resources(vm);
		goto out_free;
	}
	flags = spin_lock_irqsave(&vms_lock);
	vm->id = MAX_VMS;
	for (u32 i = 0; i < MAX_VMS && vm->id == MAX_VMS; i++)
		if (!vms[i])
			vm->id = i; /* slots are reused once a VM is destroyed */
	if (vm->id == MAX_VMS) {
		spin_unlock_irqrestore(&vms_lock, flags);
		pr_err("vm %s: cannot create: more than %d VMs", name, MAX_VMS);
		vm_free_resources(vm);
		goto out_free;
	}
	vm->serial = ++serials;
	vms[vm->id] = vm;
	nr_vms_created = MAX(nr_vms_created, vm->id + 1);
	spin_unlock_irqrestore(&vms_lock, flags);
	return vm;
out_free:
	if (vm)
		page_free(vm, ALIGN_UP(sizeof(*vm), PAGE_SIZE) / PAGE_SIZE);
	return NULL;
}

/* Ranges never overlap: a port has one owner, and exit_io may look at the latest one first. */
int vm_register_io(struct vm *vm, const struct io_handler *h)
{
	for (u32 i = 0; i < vm->nr_io; i++)
		if (h->base < vm->io[i].base + vm->io[i].count &&
		    vm->io[i].base < h->base + h->count)
			return -EBUSY;
	if (vm->nr_io >= VM_MAX_IO)
		return -ENOSPC;
	vm->io[vm->nr_io++] = *h;
	return 0;
}

/* Takes out the handler at base that writes through write (before the VM starts). */
void vm_unregister_io(struct vm *vm, u16 base,
		      int (*write)(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val))
{
	for (u32 i = 0; i < vm->nr_io; i++)
		if (vm->io[i].base == base && vm->io[i].write == write) {
			vm->io[i] = vm->io[--vm->nr_io];
			return;
		}
}

struct mmio_handler *vm_register_mmio(struct vm *vm, const struct mmio_handler *h)
{
	if (vm->nr_mmio >= VM_MAX_MMIO)
		return NULL;
	vm->mmio[vm->nr_mmio] = *h;
	return &vm->mmio[vm->nr_mmio++];
}

void vm_start(struct vm *vm)
{
	vm->start_ns = time_ns();
	vm->state = VM_RUNNING;
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		sched_add(vm->vcpus[i]);
}

/* Moves the VM out of RUNNING once, records why, and kicks its vCPUs off their CPUs. */
static void vm_end(struct vm *vm, enum vm_state to, const char *fmt, va_list ap)
{
	u64 flags = spin_lock_irqsave(&vm->lock);

	if (vm->state == VM_STOPPED || vm->state == VM_DEAD) {
		spin_unlock_irqrestore(&vm->lock, flags);
		return;
	}
	format_vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
	vm->state = to;
	spin_unlock_irqrestore(&vm->lock, flags);
	if (to == VM_DEAD)
		pr_err("vm %s: stopped: %s", vm->name, vm->why);
	else
		pr_info("vm %s: %s", vm->name, vm->why);
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		sched_kick(vm->vcpus[i]);
}

void vm_fail(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vm_end(vm, VM_DEAD, fmt, ap);
	va_end(ap);
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vm_end(vm, VM_STOPPED, fmt, ap);
	va_end(ap);
}

/*
 * A VM that resets in a loop (a triple fault with on_crash_reset) resets at
 * most every RESET_GAP_NS, and its log line comes at most once a second.
 */
#define RESET_GAP_NS (100 * 1000000ULL)
#define RESET_LOG_NS 1000000000ULL

void vm_reset(struct vm *vm, const char *fmt, ...)
{
	u64 now = time_ns(), flags;
	char why[96];
	va_list ap;

	va_start(ap, fmt);
	format_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	flags = spin_lock_irqsave(&vm->lock);
	if (vm->state != VM_RUNNING) {
		spin_unlock_irqrestore(&vm->lock, flags);
		return;
	}
	vm->state = VM_RESETTING;
	vm->resets++;
	if (vm->reset_due_ns < now)
		vm->reset_due_ns = now;
	spin_unlock_irqrestore(&vm->lock, flags);
	if (!vm->reset_log_ns || now - vm->reset_log_ns >= RESET_LOG_NS) {
		if (vm->resets_unlogged)
			pr_info("vm %s: reset %s (reset %llu; %llu more since the last line)",
				vm->name, why, (unsigned long long)vm->resets,
				(unsigned long long)vm->resets_unlogged);
		else
			pr_info("vm %s: reset %s (reset %llu)", vm->name, why,
				(unsigned long long)vm->resets);
		vm->reset_log_ns = now;
		vm->resets_unlogged = 0;
	} else {
		vm->resets_unlogged++;
	}
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		sched_kick(vm->vcpus[i]);
}

static bool vcpus_detached(struct vm *vm);

/* The reaper's part of a reset, once every vCPU is off its CPU (see vm_reset). */
static void finish_reset(struct vm *vm)
{
	char err[192] = ""; /* GUEST_ERR_MAX */
	u64 flags;
	int ret = 0;

	if (time_ns() < vm->reset_due_ns || !vcpus_detached(vm))
		return;
	if (!vm->reset_vcpus_done) {
		for (u32 i = 0; i < vm->nr_vcpus; i++)
			vcpu_power_on(vm->vcpus[i]);
		dm_vm_reset(vm);
		vm->reset_vcpus_done = true;
	}
	if (vm->platform_reset)
		ret = vm->platform_reset(vm, err);
	if (ret == -EAGAIN) /* more to do in the next round */
		return;
	vm->reset_vcpus_done = false;
	if (ret) {
		vm_fail(vm, "cannot reset: %s", err);
		return;
	}
	vm->reset_due_ns = time_ns() + RESET_GAP_NS;
	flags = spin_lock_irqsave(&vm->lock);
	if (vm->state != VM_RESETTING) { /* stopped meanwhile */
		spin_unlock_irqrestore(&vm->lock, flags);
		return;
	}
	vm->state = VM_RUNNING;
	spin_unlock_irqrestore(&vm->lock, flags);
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		sched_add(vm->vcpus[i]);
}

void vm_destroy(struct vm *vm)
{
	vm->destroy_pending = true;
	if (vm->state == VM_RUNNING || vm->state == VM_CREATED || vm->state == VM_RESETTING)
		vm_stop(vm, "destroyed");
}

/* Frees a destroyed VM's own struct; its slot can then be reused. */
static void vm_release(struct vm *vm)
{
	u64 flags = spin_lock_irqsave(&vms_lock);

	vms[vm->id] = NULL;
	spin_unlock_irqrestore(&vms_lock, flags);
	page_free(vm, ALIGN_UP(sizeof(*vm), PAGE_SIZE) / PAGE_SIZE);
}

void vm_admin_lock(void)
{
	spin_lock(&admin_lock);
}

bool vm_admin_trylock(void)
{
	return spin_trylock(&admin_lock);
}

void vm_admin_unlock(void)
{
	spin_unlock(&admin_lock);
}

struct vm *vm_get(u32 id)
{
	u64 flags = spin_lock_irqsave(&vms_lock);
	struct vm *vm = id < MAX_VMS ? vms[id] : NULL;

	if (vm && vm->reaping)
		vm = NULL;
	if (vm)
		vm->refs++;
	spin_unlock_irqrestore(&vms_lock, flags);
	return vm;
}

void vm_put(struct vm *vm)
{
	u64 flags = spin_lock_irqsave(&vms_lock);

	ASSERT(vm->refs > 0);
	vm->refs--;
	spin_unlock_irqrestore(&vms_lock, flags);
}

/* Nobody holds the VM (vm_get) and none of its vCPUs is on a CPU: it may be freed. */
static bool vcpus_detached(struct vm *vm)
{
	for (u32 j = 0; j < vm->nr_vcpus && !vm->resources_freed; j++)
		if (!sched_detached(vm->vcpus[j]))
			return false;
	return true;
}

static bool claim_for_reaping(struct vm *vm)
{
	u64 flags;

	if (!vcpus_detached(vm))
		return false;
	flags = spin_lock_irqsave(&vms_lock);
	if (!vm->refs)
		vm->reaping = true; /* vm_get() hands it out no more */
	spin_unlock_irqrestore(&vms_lock, flags);
	return vm->reaping;
}

/* Its vCPUs are gone: holders may look at what is left (they check resources_freed). */
static void reaped(struct vm *vm)
{
	u64 flags = spin_lock_irqsave(&vms_lock);

	vm->reaping = false;
	spin_unlock_irqrestore(&vms_lock, flags);
}

void vm_set_teardown_ops(const struct vm_teardown_ops *ops)
{
	teardown = ops;
}

static bool ram_may_go(struct vm *vm)
{
	return !teardown || teardown->ram_may_go(vm);
}

static bool vm_may_go(struct vm *vm)
{
	return !teardown || teardown->vm_may_go(vm);
}

void vm_reap(void)
{
	if (!vm_admin_trylock())
		return;
	for (u32 i = 0; i < nr_vms_created; i++) {
		struct vm *vm = vms[i];
		u64 free_kib;

		if (!vm)
			continue;
		if (vm->state == VM_RESETTING && !vm->resources_freed) {
			finish_reset(vm);
			continue;
		}
		if (vm->resources_freed && vm->destroy_pending) {
			if (vm_may_go(vm) && claim_for_reaping(vm))
				vm_release(vm);
			continue;
		}
		if (vm->resources_freed || (vm->state != VM_STOPPED && vm->state != VM_DEAD))
			continue;
		if (!vcpus_detached(vm) || !ram_may_go(vm) || !claim_for_reaping(vm))
			continue;
		vm_free_resources(vm);
		free_kib = page_alloc_free_pages() * PAGE_SIZE / KiB;
		if (vm->destroy_pending && vm_may_go(vm)) {
			pr_info("vm %s: memory returned to the pool (%llu KiB free before its record)",
				vm->name, (unsigned long long)free_kib);
			vm_release(vm);
			continue;
		}
		pr_info("vm %s: memory returned to the pool (%llu KiB free; its record, %llu KiB, is kept until it is destroyed)",
			vm->name, (unsigned long long)free_kib,
			(unsigned long long)(ALIGN_UP(sizeof(*vm), PAGE_SIZE) / KiB));
		reaped(vm);
	}
	spin_unlock(&admin_lock);
}

bool vm_all_stopped(void)
{
	for (u32 i = 0; i < nr_vms_created; i++)
		if (vms[i] && !vms[i]->resources_freed)
			return false;
	return nr_vms_created > 0;
}

struct vm *vm_find(const char *name)
{
	for (u32 i = 0; i < nr_vms_created; i++)
		if (vms[i] && !vms[i]->destroy_pending && !strcmp(vms[i]->name, name))
			return vms[i];
	return NULL;
}

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[] = { [VM_CREATED] = "created",
					     [VM_RUNNING] = "running",
					     [VM_STOPPED] = "stopped",
					     [VM_DEAD] = "dead",
					     [VM_RESETTING] = "resetting" };

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

// SPDX-License-Identifier: MIT
/*
 * A VM's guest-physical map (NPT or EPT): the only code that changes it.
 *
 * Other CPUs use the table while it changes: vCPUs of the VM in guest mode
 * (through their TLBs and the CPU's own walks), and Keel on those CPUs
 * (emulating an instruction, forwarding an access). So every change and every
 * lookup holds the VM's gpa_lock, and a change that takes a translation away
 * (an unmap, or a map over an existing one) is complete only once no vCPU of
 * the VM can still use it: the flush generation goes up, each vCPU in guest
 * mode is kicked out and waited for, and every vCPU flushes its TLB at its
 * next entry. Table pages the change emptied are freed after that.
 */
#include <arch/x86/cpu.h>
#include <keel/iommu.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/vm.h>
#include <lib/string.h>

#define PAGES_2M 512

void vm_flush_wait(struct vm *vm)
{
	__atomic_fetch_add(&vm->flush_gen, 1, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		sched_kick(vm->vcpus[i]);
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		u64 seen = READ_ONCE(v->exits_total);

		/* in_guest is set before an entry reads flush_gen (vcpu_run_slice) */
		while (READ_ONCE(v->in_guest) && READ_ONCE(v->exits_total) == seen)
			cpu_relax();
	}
}

static void edit_begin(struct vm *vm, u64 *removed)
{
	spin_lock(&vm->gpa_lock);
	vm->gpa.defer_frees = true;
	*removed = vm->gpa.removed;
}

static void edit_end(struct vm *vm, u64 removed)
{
	if (vm->gpa.removed != removed)
		vm_flush_wait(vm);
	vm->gpa.defer_frees = false;
	pt_free_deferred(&vm->gpa);
	spin_unlock(&vm->gpa_lock);
}

int vm_map(struct vm *vm, gpa_t gpa, hpa_t hpa, u64 size, u32 perms)
{
	u64 removed;
	int ret;

	edit_begin(vm, &removed);
	ret = pt_map(&vm->gpa, gpa, hpa, size, perms);
	edit_end(vm, removed);
	return ret;
}

int vm_unmap(struct vm *vm, gpa_t gpa, u64 size)
{
	u64 removed;
	int ret;

	edit_begin(vm, &removed);
	ret = pt_unmap(&vm->gpa, gpa, size);
	edit_end(vm, removed);
	return ret;
}

int vm_withhold_page(struct vm *vm, gpa_t gpa)
{
	struct vm_withheld *w = NULL;
	u64 removed;
	int ret = -ENOSPC;

	gpa = ALIGN_DOWN(gpa, PAGE_SIZE);
	edit_begin(vm, &removed);
	for (u32 i = 0; i < VM_MAX_WITHHELD && !w; i++)
		if (!vm->withheld[i].hpa)
			w = &vm->withheld[i];
	if (w)
		ret = pt_take(&vm->gpa, gpa, &w->hpa, &w->perms);
	if (!ret)
		w->gpa = gpa;
	else if (w)
		w->hpa = 0;
	edit_end(vm, removed); /* no vCPU uses the old translation after this */
	return ret;
}

/* Under gpa_lock: mapping where nothing is removes nothing, so no vCPU need be waited for. */
static bool restore_locked(struct vm *vm, gpa_t gpa)
{
	for (u32 i = 0; i < VM_MAX_WITHHELD; i++) {
		struct vm_withheld *w = &vm->withheld[i];

		if (!w->hpa || w->gpa != ALIGN_DOWN(gpa, PAGE_SIZE))
			continue;
		if (pt_map(&vm->gpa, w->gpa, w->hpa, PAGE_SIZE, w->perms))
			return false;
		*w = (struct vm_withheld){ 0, 0, 0 };
		return true;
	}
	return false;
}

bool vm_restore_page(struct vm *vm, gpa_t gpa)
{
	bool done = false;

	for (u32 i = 0; i < VM_MAX_WITHHELD; i++)
		done |= READ_ONCE(vm->withheld[i].hpa) != 0;
	if (!done)
		return false; /* none withheld: every NPF asks, it need not take the lock */
	spin_lock(&vm->gpa_lock);
	done = restore_locked(vm, gpa);
	spin_unlock(&vm->gpa_lock);
	return done;
}

void vm_restore_pages(struct vm *vm)
{
	for (u32 i = 0; i < VM_MAX_WITHHELD; i++)
		if (vm->withheld[i].hpa)
			vm_restore_page(vm, vm->withheld[i].gpa);
}

/* Under gpa_lock: gpa's translation, a withheld page brought back for it first. */
static bool lookup_locked(struct vm *vm, gpa_t gpa, hpa_t *pa, u32 *perms)
{
	return pt_lookup(&vm->gpa, gpa, pa, perms, NULL) ||
	       (restore_locked(vm, gpa) && pt_lookup(&vm->gpa, gpa, pa, perms, NULL));
}

BUILD_ASSERT(IOMMU_MAX_DOMAINS >= MAX_VMS, "a DMA domain for every VM");

/* With an IOMMU, RAM is mapped in the VM's domain at its guest-physical address as it is added. */
static int dma_map(struct vm *vm, gpa_t gpa, hpa_t pa, u64 size)
{
	if (!iommu_active())
		return 0;
	if (!vm->dma)
		vm->dma = iommu_domain_create(vm->name);
	if (!vm->dma) {
		pr_err("vm %s: no IOMMU domain left for its RAM", vm->name);
		return -ENOSPC;
	}
	return iommu_map(vm->dma, gpa, pa, size, PT_R | PT_W);
}

int vm_add_ram(struct vm *vm, gpa_t gpa, u64 size)
{
	u64 end = gpa + size;
	int ret;

	if (!IS_ALIGNED(gpa | size, PAGE_SIZE))
		return -EINVAL;
	while (gpa < end) {
		bool big = IS_ALIGNED(gpa, 2 * MiB) && end - gpa >= 2 * MiB;
		u64 pages = big ? PAGES_2M : 1;
		hpa_t pa = page_alloc_range(pages, pages, 0);

		if (!pa && big) {
			big = false;
			pages = 1;
			pa = page_alloc_range(1, 1, 0);
		}
		if (!pa)
			return -ENOMEM;
		memset(phys_to_virt(pa), 0, pages * PAGE_SIZE); /* no stale data from another VM */
		if (vm_map(vm, gpa, pa, pages * PAGE_SIZE, PT_RWX | PT_OWNED)) {
			page_free_range(pa, pages);
			return -ENOMEM;
		}
		vm->ram_size += pages * PAGE_SIZE;
		/* owned by the map now: it leaves with the VM, the domain first (vm_release_ram) */
		ret = dma_map(vm, gpa, pa, pages * PAGE_SIZE);
		if (ret)
			return ret;
		gpa += pages * PAGE_SIZE;
	}
	return 0;
}

void vm_release_ram(struct vm *vm)
{
	if (vm->dma && iommu_domain_destroy(vm->dma)) {
		pr_err("vm %s: its DMA domain could not be torn down: its %llu MiB of RAM are kept "
		       "out of the pool",
		       vm->name, (unsigned long long)(vm->ram_size / MiB));
		vm->gpa.release = NULL; /* the owned pages stay allocated */
	}
	vm->dma = NULL;
	vm_restore_pages(vm); /* withheld RAM leaves with the rest */
	pt_destroy(&vm->gpa);
	vm->ram_size = 0;
}

struct ram_walk {
	int (*fn)(void *ctx, gpa_t gpa, hpa_t hpa, u64 size);
	void *ctx;
};

static int walk_owned(void *ctx, u64 gpa, hpa_t hpa, u64 size, u32 perms)
{
	struct ram_walk *w = ctx;

	return (perms & PT_OWNED) ? w->fn(w->ctx, gpa, hpa, size) : 0;
}

bool vm_lookup(struct vm *vm, gpa_t gpa, hpa_t *hpa, u32 *perms)
{
	bool found;

	spin_lock(&vm->gpa_lock);
	found = lookup_locked(vm, gpa, hpa, perms);
	spin_unlock(&vm->gpa_lock);
	return found;
}

bool vm_is_ram(struct vm *vm, gpa_t gpa)
{
	hpa_t pa;
	u32 perms;

	return vm_lookup(vm, gpa, &pa, &perms);
}

int vm_walk_ram(struct vm *vm, int (*fn)(void *ctx, gpa_t gpa, hpa_t hpa, u64 size), void *ctx)
{
	struct ram_walk w = { fn, ctx };
	int ret;

	spin_lock(&vm->gpa_lock);
	ret = pt_walk(&vm->gpa, walk_owned, &w);
	spin_unlock(&vm->gpa_lock);
	return ret;
}

#define COPY_WRITE BIT(0)
#define COPY_OWNED BIT(1) /* only the VM's own RAM, all of the range or none of it */

static bool copy_allowed(u32 perms, u32 how)
{
	return (!(how & COPY_WRITE) || (perms & PT_W)) &&
	       (!(how & COPY_OWNED) || (perms & PT_OWNED));
}

/* Under gpa_lock: is every page of [gpa, gpa + len) mapped as how needs it? */
static bool range_allowed(struct vm *vm, gpa_t gpa, size_t len, u32 how)
{
	if (!len)
		return true;
	if (gpa + len < gpa)
		return false;
	for (u64 a = ALIGN_DOWN(gpa, PAGE_SIZE); a < gpa + len; a += PAGE_SIZE) {
		hpa_t pa;
		u32 perms;

		if (!lookup_locked(vm, a, &pa, &perms) || !copy_allowed(perms, how))
			return false;
	}
	return true;
}

/* Under the lock for the whole copy: the pages cannot leave the map meanwhile. */
static int vm_copy(struct vm *vm, gpa_t gpa, void *buf, size_t len, u32 how)
{
	u8 *b = buf;
	int ret = 0;

	spin_lock(&vm->gpa_lock);
	if ((how & COPY_OWNED) && !range_allowed(vm, gpa, len, how))
		len = 0, ret = -EFAULT;
	while (len) {
		size_t n = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		hpa_t pa;
		u32 perms;

		if (!lookup_locked(vm, gpa, &pa, &perms) || !copy_allowed(perms, how)) {
			ret = -EFAULT;
			break;
		}
		if ((how & COPY_WRITE) && !b)
			memset(phys_to_virt(pa), 0, n);
		else if (how & COPY_WRITE)
			memcpy(phys_to_virt(pa), b, n);
		else
			memcpy(b, phys_to_virt(pa), n);
		gpa += n;
		b = b ? b + n : NULL;
		len -= n;
	}
	spin_unlock(&vm->gpa_lock);
	return ret;
}

/*
 * A paging-structure entry of the guest's own tables, accessed as the CPU
 * accesses it: one aligned load or one locked compare-exchange (SDM 3A 4.8),
 * so a writer on another vCPU cannot tear it; under the lock, so the page
 * cannot leave the map meanwhile.
 */
static void *entry_locked(struct vm *vm, gpa_t gpa, unsigned int size, bool write)
{
	hpa_t pa;
	u32 perms;

	if ((size != 4 && size != 8) || (gpa & (size - 1)) ||
	    !lookup_locked(vm, gpa, &pa, &perms) || (write && !(perms & PT_W)))
		return NULL;
	return phys_to_virt(pa);
}

int vm_read_entry(struct vm *vm, gpa_t gpa, unsigned int size, u64 *val)
{
	void *e;

	spin_lock(&vm->gpa_lock);
	e = entry_locked(vm, gpa, size, false);
	if (e)
		*val = size == 4 ? __atomic_load_n((u32 *)e, __ATOMIC_RELAXED) :
				   __atomic_load_n((u64 *)e, __ATOMIC_RELAXED);
	spin_unlock(&vm->gpa_lock);
	return e ? 0 : -EFAULT;
}

int vm_cmpxchg_entry(struct vm *vm, gpa_t gpa, unsigned int size, u64 old, u64 new_val)
{
	u32 old32 = (u32)old;
	bool done = false;
	void *e;

	spin_lock(&vm->gpa_lock);
	e = entry_locked(vm, gpa, size, true);
	if (e && size == 4)
		done = __atomic_compare_exchange_n((u32 *)e, &old32, (u32)new_val, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	else if (e)
		done = __atomic_compare_exchange_n((u64 *)e, &old, new_val, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	spin_unlock(&vm->gpa_lock);
	return !e ? -EFAULT : done ? 0 : -EAGAIN;
}

int vm_read(struct vm *vm, gpa_t gpa, void *buf, size_t len)
{
	return vm_copy(vm, gpa, buf, len, 0);
}

int vm_write(struct vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	return vm_copy(vm, gpa, (void *)buf, len, COPY_WRITE);
}

int vm_zero(struct vm *vm, gpa_t gpa, size_t len)
{
	return vm_copy(vm, gpa, NULL, len, COPY_WRITE);
}

int vm_read_ram(struct vm *vm, gpa_t gpa, void *buf, size_t len)
{
	return vm_copy(vm, gpa, buf, len, COPY_OWNED);
}

int vm_write_ram(struct vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	return vm_copy(vm, gpa, (void *)buf, len, COPY_WRITE | COPY_OWNED);
}

// SPDX-License-Identifier: MIT
/*
 * What of the physical address space the service VM reaches (GPA = HPA),
 * denied by default. It gets, identity-mapped:
 *   - its RAM (mapped once, owned) and the page with its ACPI tables;
 *   - the platform ranges Linux needs: the first MiB (BIOS and VGA areas),
 *     the firmware's reserved, ACPI and persistent-memory regions, the
 *     framebuffer;
 *   - the memory BARs and expansion ROMs of the PCI functions it owns, where
 *     it (or the firmware) placed them, followed as they move;
 *   - the HPET read-only (its writes could send any vector to any host CPU);
 * never: RAM that is not its own, the local and I/O APICs (emulated), PCI
 * configuration space (trapped), the IOMMUs' registers, and pages holding a
 * BAR of a function it does not own. Claimed ranges (the control device's
 * BARs, MSI-X table traps) are left to their owner, and given back to this
 * policy when released, so nothing that moves maps back what was not its.
 */
#include <arch/x86/apic_regs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/paging.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/pci.h>
#include <keel/service_vm.h>
#include <keel/spinlock.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <lib/format.h>

#define LOW_MIB (1 * MiB)
#define MAX_SPANS 96
#define MAX_DENY 24
#define MAX_CLAIMS 32
#define MAX_POINTS 4096
#define FN_SPANS PCI_FN_SPANS

enum kind { KIND_SKIP, KIND_NONE, KIND_RO, KIND_RW };

struct span_list {
	u32 nr;
	struct pci_span s[MAX_SPANS];
};

static struct {
	struct vm *vm;
	u64 limit; /* 1 << MAXPHYADDR */
	struct span_list own, plat, ro, ram, claims;
	struct pci_span deny[MAX_DENY];
	const char *deny_what[MAX_DENY];
	u32 nr_deny;
	struct pci_span (*bars)[FN_SPANS];    /* decoded spans of functions it owns */
	struct pci_span (*foreign)[FN_SPANS]; /* BARs of functions it does not own */
	u64 *points;
	struct spinlock lock;
} sm = { .lock = SPINLOCK_INIT };

static struct pci_span page_span(u64 base, u64 size)
{
	return (struct pci_span){ ALIGN_DOWN(base, PAGE_SIZE), ALIGN_UP(base + size, PAGE_SIZE) };
}

static void add(struct span_list *l, u64 base, u64 size)
{
	if (size && l->nr < MAX_SPANS)
		l->s[l->nr++] = page_span(base, size);
}

static void deny(u64 base, u64 size, const char *what)
{
	if (!size || sm.nr_deny >= MAX_DENY)
		return;
	sm.deny[sm.nr_deny] = page_span(base, size);
	sm.deny_what[sm.nr_deny++] = what;
}

static bool overlaps(const struct pci_span *s, u64 base, u64 end)
{
	return s->end > s->base && base < s->end && s->base < end;
}

static bool inside(const struct pci_span *s, u64 pa)
{
	return pa >= s->base && pa < s->end;
}

static bool in_list(const struct span_list *l, u64 pa)
{
	for (u32 i = 0; i < l->nr; i++)
		if (inside(&l->s[i], pa))
			return true;
	return false;
}

static bool in_table(struct pci_span (*t)[FN_SPANS], u64 pa)
{
	for (u32 f = 0; f < pci_nr_funcs; f++)
		for (u32 i = 0; i < FN_SPANS; i++)
			if (inside(&t[f][i], pa))
				return true;
	return false;
}

static bool denied(u64 pa)
{
	for (u32 i = 0; i < sm.nr_deny; i++)
		if (inside(&sm.deny[i], pa))
			return true;
	return in_table(sm.foreign, pa);
}

static enum kind classify(u64 pa)
{
	if (in_list(&sm.own, pa) || in_list(&sm.claims, pa))
		return KIND_SKIP;
	if (denied(pa))
		return KIND_NONE;
	if (in_list(&sm.ro, pa))
		return KIND_RO;
	if (in_list(&sm.plat, pa) || in_table(sm.bars, pa))
		return KIND_RW;
	return KIND_NONE;
}

static void apply(enum kind k, u64 base, u64 end)
{
	int ret = 0;

	if (k == KIND_NONE)
		ret = vm_unmap(sm.vm, base, end - base);
	else if (k == KIND_RO)
		ret = vm_map(sm.vm, base, base, end - base, PT_R);
	else if (k == KIND_RW)
		ret = vm_map(sm.vm, base, base, end - base, PT_RWX);
	if (ret)
		pr_err("service VM: cannot change its map at %llx-%llx (%d)",
		       (unsigned long long)base, (unsigned long long)end, ret);
}

static u32 point(u32 n, u64 p, u64 base, u64 end)
{
	if (n < MAX_POINTS && p > base && p < end)
		sm.points[n++] = p;
	return n;
}

static u32 points_of(const struct pci_span *s, u32 nr, u32 n, u64 base, u64 end)
{
	for (u32 i = 0; i < nr; i++) {
		n = point(n, s[i].base, base, end);
		n = point(n, s[i].end, base, end);
	}
	return n;
}

static void sort(u64 *a, u32 n)
{
	for (u32 i = 1; i < n; i++) { /* insertion sort: a few hundred points */
		u64 x = a[i];
		u32 j = i;

		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* Makes [base, end) what the policy says, in runs of one kind. Under sm.lock. */
static void refresh(u64 base, u64 end)
{
	u32 n = 0;

	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = MIN(ALIGN_UP(end, PAGE_SIZE), sm.limit);
	if (base >= end)
		return;
	sm.points[n++] = base;
	n = points_of(sm.own.s, sm.own.nr, n, base, end);
	n = points_of(sm.plat.s, sm.plat.nr, n, base, end);
	n = points_of(sm.ro.s, sm.ro.nr, n, base, end);
	n = points_of(sm.claims.s, sm.claims.nr, n, base, end);
	n = points_of(sm.deny, sm.nr_deny, n, base, end);
	for (u32 f = 0; f < pci_nr_funcs; f++) {
		n = points_of(sm.bars[f], FN_SPANS, n, base, end);
		n = points_of(sm.foreign[f], FN_SPANS, n, base, end);
	}
	ASSERT(n < MAX_POINTS);
	sort(sm.points, n);
	sm.points[n] = end;
	for (u32 i = 0; i < n;) {
		enum kind k = classify(sm.points[i]);
		u32 j = i + 1;

		while (j < n && classify(sm.points[j]) == k)
			j++;
		if (k != KIND_SKIP && sm.points[i] < sm.points[j])
			apply(k, sm.points[i], sm.points[j]);
		i = j;
	}
}

bool service_map_place_ok(u64 base, u64 size, bool window, char *why, size_t len)
{
	struct pci_span s = page_span(base, size);

	if (!size || base + size < base || s.end > sm.limit) {
		format_snprintf(why, len, "beyond the physical address space");
		return false;
	}
	for (u32 i = 0; i < sm.ram.nr; i++)
		if (overlaps(&sm.ram.s[i], s.base, s.end)) {
			format_snprintf(why, len, "on RAM");
			return false;
		}
	for (u32 i = 0; i < sm.nr_deny; i++)
		if (overlaps(&sm.deny[i], s.base, s.end)) {
			format_snprintf(why, len, "on %s", sm.deny_what[i]);
			return false;
		}
	for (u32 f = 0; !window && f < pci_nr_funcs; f++)
		for (u32 i = 0; i < FN_SPANS; i++)
			if (overlaps(&sm.foreign[f][i], s.base, s.end)) {
				format_snprintf(why, len,
						"on a BAR of %02x:%02x.%x, which is not its",
						PCI_BUS(pci_funcs[f].bdf),
						PCI_DEV(pci_funcs[f].bdf),
						PCI_FN(pci_funcs[f].bdf));
				return false;
			}
	return true;
}

void service_map_claim(u64 base, u64 size)
{
	struct pci_span s = page_span(base, size);
	u64 flags = spin_lock_irqsave(&sm.lock);

	ASSERT(sm.claims.nr < MAX_CLAIMS);
	add(&sm.claims, base, size);
	/* empty for its owner: from now on the policy leaves it alone */
	if (vm_unmap(sm.vm, s.base, MIN(s.end, sm.limit) - s.base))
		pr_err("service VM: cannot clear %llx-%llx for Keel's use",
		       (unsigned long long)s.base, (unsigned long long)s.end);
	spin_unlock_irqrestore(&sm.lock, flags);
}

void service_map_unclaim(u64 base, u64 size)
{
	struct pci_span s = page_span(base, size);
	u64 flags = spin_lock_irqsave(&sm.lock);

	for (u32 i = 0; i < sm.claims.nr; i++) {
		if (sm.claims.s[i].base != s.base || sm.claims.s[i].end != s.end)
			continue;
		sm.claims.s[i] = sm.claims.s[--sm.claims.nr];
		refresh(s.base, s.end);
		break;
	}
	spin_unlock_irqrestore(&sm.lock, flags);
}

void service_map_set_fn(u32 idx, const struct pci_span *spans)
{
	struct pci_span old[FN_SPANS];
	u64 flags = spin_lock_irqsave(&sm.lock);

	for (u32 i = 0; i < FN_SPANS; i++) {
		old[i] = sm.bars[idx][i];
		sm.bars[idx][i] = spans[i].end > spans[i].base ?
					  page_span(spans[i].base, spans[i].end - spans[i].base) :
					  (struct pci_span){ 0, 0 };
	}
	for (u32 i = 0; i < FN_SPANS; i++) {
		refresh(old[i].base, old[i].end);
		refresh(sm.bars[idx][i].base, sm.bars[idx][i].end);
	}
	spin_unlock_irqrestore(&sm.lock, flags);
}

void service_map_set_foreign(u32 idx, const struct pci_span *spans)
{
	u64 flags = spin_lock_irqsave(&sm.lock);

	for (u32 i = 0; i < FN_SPANS; i++) {
		sm.foreign[idx][i] =
			spans[i].end > spans[i].base ?
				page_span(spans[i].base, spans[i].end - spans[i].base) :
				(struct pci_span){ 0, 0 };
		refresh(sm.foreign[idx][i].base, sm.foreign[idx][i].end);
	}
	spin_unlock_irqrestore(&sm.lock, flags);
}

static bool host_ram(u32 type)
{
	return type == MEM_FREE || type == MEM_BOOT_SERVICES || type == MEM_HYPERVISOR ||
	       type == MEM_MODULE;
}

static void collect(const struct service_layout *sl, const struct boot_info *bi,
		    const struct acpi_info *ai)
{
	struct acpi_range iommu[8];
	u32 n = acpi_iommu_blocks(ai, iommu, ARRAY_SIZE(iommu));

	for (u32 i = 0; i < sl->nr_ram; i++)
		add(&sm.own, sl->ram[i].base, sl->ram[i].size);
	add(&sm.own, sl->acpi_page, PAGE_SIZE);
	add(&sm.plat, 0, LOW_MIB);
	for (u32 i = 0; i < bi->map.nr; i++) {
		const struct mem_region *r = &bi->map.r[i];

		if (host_ram(r->type))
			add(&sm.ram, r->base, r->size);
		else if (r->type != MEM_UNUSABLE)
			add(&sm.plat, r->base, r->size); /* reserved, ACPI, persistent memory */
		if (host_ram(r->type) && r->type != MEM_FREE && r->base < LOW_MIB &&
		    r->base != bi->trampoline)
			deny(r->base, MIN(r->size, LOW_MIB - r->base), "Keel's memory");
	}
	if (bi->fb.base)
		add(&sm.plat, bi->fb.base, bi->fb.size);
	add(&sm.ro, ai->hpet_base, PAGE_SIZE);
	deny(APIC_DEFAULT_BASE, PAGE_SIZE, "the local APIC");
	for (u32 i = 0; i < ai->nr_ioapics; i++)
		deny(ai->ioapics[i].address, PAGE_SIZE, "an I/O APIC");
	deny(pci_ecam_base(), pci_ecam_size(), "PCI configuration space");
	for (u32 i = 0; i < n; i++)
		deny(iommu[i].base, iommu[i].size, "an IOMMU's registers");
}

int service_map_init(struct vm *vm, const struct service_layout *sl, const struct boot_info *bi,
		     const struct acpi_info *ai)
{
	u32 bits = MIN(cpuid(CPUID_LEAF_ADDR_SIZES).eax & 0xff, (u32)PAGING_ADDR_BITS);
	u64 table = ALIGN_UP(PCI_MAX_FUNCS * sizeof(*sm.bars), PAGE_SIZE) / PAGE_SIZE;
	int ret = 0;

	sm.vm = vm;
	sm.limit = 1ULL << bits;
	sm.bars = page_alloc_zeroed(table);
	sm.foreign = page_alloc_zeroed(table);
	sm.points = page_alloc_zeroed(ALIGN_UP((MAX_POINTS + 1) * 8, PAGE_SIZE) / PAGE_SIZE);
	if (!sm.bars || !sm.foreign || !sm.points)
		return -ENOMEM;
	collect(sl, bi, ai);
	for (u32 i = 0; !ret && i < sl->nr_ram; i++) /* owned: back to the pool if the VM dies */
		ret = vm_map(vm, sl->ram[i].base, sl->ram[i].base, sl->ram[i].size,
			     PT_RWX | PT_OWNED);
	if (!ret)
		ret = vm_map(vm, sl->acpi_page, sl->acpi_page, PAGE_SIZE, PT_RWX);
	if (!ret) {
		spin_lock(&sm.lock);
		refresh(0, sm.limit);
		spin_unlock(&sm.lock);
	}
	return ret;
}

// SPDX-License-Identifier: MIT
/*
 * The generic IOMMU layer: which driver (by the ACPI table present, never by
 * CPU vendor), the domains and their page tables (a format of the one
 * walker), which function is in which domain, fault logging, and the
 * monitor's `iommu` command. The drivers only adapt the hardware.
 */
#include <arch/x86/apic_regs.h>
#include <arch/x86/tsc.h>
#include <keel/iommu.h>
#include <keel/log.h>
#include <keel/monitor.h>
#include <keel/pci.h>
#include <keel/spinlock.h>
#include <lib/string.h>

#define FAULT_LINES_PER_SEC 10 /* log lines; the rest are counted */
#define FAULT_SEEN 32	       /* (device, page, reason) already logged, most recent */
#define FAULT_RECENT 8	       /* kept for the monitor */

struct attached {
	u16 seg, bdf;
	struct iommu_domain *d;
};

static const struct iommu_driver *drv;
static struct spinlock lock = SPINLOCK_INIT;
static struct iommu_domain domains[IOMMU_MAX_DOMAINS];
static bool domain_used[IOMMU_MAX_DOMAINS];
static struct attached devices[IOMMU_MAX_DEVICES];
static u32 nr_devices;

static struct {
	u64 total, unlogged;
	u64 window_start; /* ns */
	u32 window_lines;
	struct iommu_fault seen[FAULT_SEEN];
	u32 seen_next;
	struct iommu_fault recent[FAULT_RECENT];
	u32 recent_next;
} faults;

/* Fault events by interrupt (else every housekeeping round polls), and one noted, not yet read. */
static bool fault_irq_on;
static u8 fault_vector;
static volatile bool fault_pending;
static u64 fault_irqs;

static void cmd_iommu(const char *args);

static const struct monitor_cmd iommu_cmds[] = {
	{ "iommu", "IOMMU units, DMA domains, their devices and recent faults", cmd_iommu },
};

bool iommu_init(const struct acpi_info *ai)
{
	int n;

	monitor_register(iommu_cmds, ARRAY_SIZE(iommu_cmds));
	if (ai->dmar) {
		drv = &vtd_driver;
	} else if (ai->ivrs) {
		drv = &amd_driver;
	} else {
		pr_warn("iommu: no IOMMU described (no DMAR or IVRS table): device DMA is "
			"unconfined");
		return false;
	}
	n = drv->probe(ai);
	if (n <= 0) {
		pr_warn("iommu: %s unusable (%d): device DMA is unconfined", drv->name, n);
		drv = NULL;
		return false;
	}
	return true;
}

bool iommu_active(void)
{
	return drv;
}

const char *iommu_name(void)
{
	return drv ? drv->name : "none";
}

struct iommu_domain *iommu_domain_create(const char *owner)
{
	struct iommu_domain *d = NULL;

	if (!drv)
		return NULL;
	spin_lock(&lock);
	for (u32 i = 0; i < IOMMU_MAX_DOMAINS && !d; i++) {
		if (domain_used[i])
			continue;
		d = &domains[i];
		memset(d, 0, sizeof(*d));
		if (pt_init(&d->pt, drv->format(), NULL)) {
			d = NULL;
			break;
		}
		d->pt.defer_frees = true; /* table pages wait for the invalidation */
		d->id = (u16)(i + 1);	  /* domain id 0 is left unused (VT-d caching mode) */
		strlcpy(d->owner, owner, sizeof(d->owner));
		domain_used[i] = true;
	}
	spin_unlock(&lock);
	return d;
}

/* Table pages a walker may still hold, forever out of use (linked through their first word). */
static u64 *quarantine;
static u64 quarantined;

static void quarantine_add(u64 *list)
{
	while (list) {
		u64 *next = (u64 *)*list;

		*list = (u64)quarantine;
		quarantine = list;
		quarantined++;
		list = next;
	}
}

static bool has_devices(const struct iommu_domain *d)
{
	for (u32 i = 0; i < nr_devices; i++)
		if (devices[i].d == d)
			return true;
	return false;
}

int iommu_domain_destroy(struct iommu_domain *d)
{
	/* what the root spans: 512 entries of its level's size */
	u64 top = PT_ENTRIES * PT_LEVEL_SIZE(d->pt.fmt->levels);
	int ret;

	spin_lock(&lock);
	if (has_devices(d)) {
		spin_unlock(&lock);
		return -EBUSY;
	}
	ret = pt_unmap(&d->pt, 0, top); /* the emptied tables wait on d->pt.deferred */
	if (drv->destroy(d)) {
		pr_err("iommu: domain %u (%s): its invalidation failed; its tables and id are kept "
		       "out of use",
		       d->id, d->owner);
		quarantine_add(d->pt.deferred);
		d->pt.deferred = NULL;
		d->mapped = 0;
		spin_unlock(&lock);
		return -EIO;
	}
	pt_free_deferred(&d->pt);
	pt_destroy(&d->pt); /* the root, the only table left */
	d->mapped = 0;
	domain_used[d - domains] = false;
	spin_unlock(&lock);
	return ret;
}

/*
 * Table pages that left d's tables go back to the pool only once the
 * invalidation completed; if it did not, they are never reused (a walker may
 * still hold them).
 */
static int flush_then_free(struct iommu_domain *d, u64 iova, u64 size)
{
	if (drv->flush(d, iova, size)) {
		pr_err("iommu: domain %u (%s): an invalidation failed; its freed table pages are "
		       "kept out of use",
		       d->id, d->owner);
		quarantine_add(d->pt.deferred);
		d->pt.deferred = NULL;
		return -EIO;
	}
	pt_free_deferred(&d->pt);
	return 0;
}

int iommu_map(struct iommu_domain *d, u64 iova, hpa_t pa, u64 size, u32 perms)
{
	int ret;

	spin_lock(&lock);
	ret = pt_map(&d->pt, iova, pa, size, perms & (PT_R | PT_W));
	if (!ret)
		d->mapped += size;
	/* replaced entries, and units in caching mode, need the caches invalidated */
	ret = flush_then_free(d, iova, size) ?: ret;
	spin_unlock(&lock);
	return ret;
}

int iommu_unmap(struct iommu_domain *d, u64 iova, u64 size)
{
	int ret;

	spin_lock(&lock);
	ret = pt_unmap(&d->pt, iova, size);
	ret = flush_then_free(d, iova, size) ?: ret;
	d->mapped -= MIN(d->mapped, size);
	spin_unlock(&lock);
	return ret;
}

static struct attached *find_device(u16 seg, u16 bdf)
{
	for (u32 i = 0; i < nr_devices; i++)
		if (devices[i].seg == seg && devices[i].bdf == bdf)
			return &devices[i];
	return NULL;
}

/* Before a function joins d: what the firmware has it use keeps working (USB legacy...). */
static int map_reserved(struct iommu_domain *d, u16 seg, u16 bdf)
{
	struct acpi_range r[4];
	u32 n = drv->reserved(seg, bdf, r, ARRAY_SIZE(r));
	int ret = 0;

	for (u32 i = 0; i < n && !ret; i++) {
		ret = pt_map(&d->pt, r[i].base, r[i].base, r[i].size, PT_R | PT_W);
		if (!ret)
			pr_info("iommu: %04x:%02x:%02x.%x: firmware-reserved %#llx-%#llx mapped in "
				"domain %u (%s)",
				seg, PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf),
				(unsigned long long)r[i].base,
				(unsigned long long)(r[i].base + r[i].size - 1), d->id, d->owner);
	}
	return ret ? ret : flush_then_free(d, 0, 0);
}

int iommu_attach(struct iommu_domain *d, u16 seg, u16 bdf)
{
	struct attached *a;
	int ret;

	if (!drv)
		return -ENODEV;
	spin_lock(&lock);
	a = find_device(seg, bdf);
	if (!a && d && nr_devices == IOMMU_MAX_DEVICES) {
		ret = -ENOSPC;
		goto out;
	}
	ret = d ? map_reserved(d, seg, bdf) : 0;
	if (!ret)
		ret = drv->attach(d, seg, bdf);
	if (ret)
		goto out;
	if (!a && d)
		a = &devices[nr_devices++];
	if (a)
		*a = (struct attached){ seg, bdf, d };
out:
	spin_unlock(&lock);
	return ret;
}

bool iommu_irq_remapping(void)
{
	return drv && drv->irq_remapping && drv->irq_remapping();
}

/* SDM 3A 11.11.1-11.11.2: physical destination, fixed delivery; level messages assert (bit 14). */
static void compat_msi(const struct iommu_irq *irq, struct iommu_msi *msg)
{
	msg->addr = APIC_DEFAULT_BASE | ((u64)(irq->apic_id & 0xff) << MSI_ADDR_DEST_SHIFT);
	msg->data = irq->vector | (irq->level ? MSI_DATA_LEVEL | MSI_DATA_ASSERT : 0);
}

int iommu_irq_compose(const struct iommu_irq *irq, u32 *handle, struct iommu_msi *msg)
{
	int ret;

	if (!iommu_irq_remapping()) {
		compat_msi(irq, msg);
		return 0;
	}
	spin_lock(&lock);
	ret = drv->irq_set(irq, handle, msg);
	spin_unlock(&lock);
	return ret;
}

void iommu_irq_free(u32 *handle)
{
	if (!*handle || !iommu_irq_remapping())
		return;
	spin_lock(&lock);
	drv->irq_free(*handle);
	spin_unlock(&lock);
	*handle = 0;
}

/* The first fault from a device at a page for a reason is logged; repeats are counted. */
static bool seen_before(const struct iommu_fault *f)
{
	for (u32 i = 0; i < FAULT_SEEN; i++) {
		const struct iommu_fault *s = &faults.seen[i];

		if (s->why && s->seg == f->seg && s->bdf == f->bdf && s->addr == f->addr &&
		    s->reason == f->reason && s->write == f->write && s->index == f->index)
			return true;
	}
	faults.seen[faults.seen_next++ % FAULT_SEEN] = *f;
	return false;
}

static bool may_log(void)
{
	u64 now = time_ns();

	if (now - faults.window_start > 1000000000ULL) {
		if (faults.unlogged)
			pr_warn("iommu: %llu more DMA faults not logged",
				(unsigned long long)faults.unlogged);
		faults.window_start = now;
		faults.window_lines = 0;
		faults.unlogged = 0;
	}
	return faults.window_lines++ < FAULT_LINES_PER_SEC;
}

static void fault_log(const struct iommu_fault *f)
{
	struct attached *a = find_device(f->seg, f->bdf);
	const char *owner = a && a->d ? a->d->owner : "no domain: blocked";

	faults.total++;
	if (a && a->d)
		a->d->faults++;
	faults.recent[faults.recent_next++ % FAULT_RECENT] = *f;
	if (seen_before(f))
		return;
	if (!may_log()) {
		faults.unlogged++;
		return;
	}
	if (f->interrupt) {
		pr_warn("iommu: interrupt fault: %04x:%02x:%02x.%x (%s) entry %u: %s (reason %#x)",
			f->seg, PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), owner, f->index,
			f->why, f->reason);
		return;
	}
	pr_warn("iommu: DMA fault: %04x:%02x:%02x.%x (%s) %s %#llx: %s (reason %#x)", f->seg,
		PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), owner,
		f->write ? "write to" : "read of", (unsigned long long)f->addr, f->why, f->reason);
}

/* Reads what the units recorded; false if it stopped with more there (the lock was busy too). */
static bool read_faults(void)
{
	struct iommu_fault f;
	u32 n;

	if (!spin_trylock(&lock))
		return false;
	if (drv->fault_ack)
		drv->fault_ack(); /* before reading: a fault after it raises the interrupt again */
	for (n = 0; n < 64; n++) {
		f = (struct iommu_fault){ 0 }; /* what a driver leaves unset: a DMA fault */
		if (!drv->next_fault(&f))
			break;
		if (f.reason || f.addr || f.bdf)
			fault_log(&f);
		else
			pr_warn("iommu: %s", f.why); /* an overflow: faults were lost */
	}
	spin_unlock(&lock);
	return n < 64;
}

void iommu_fault_irq(void)
{
	fault_irqs++;
	WRITE_ONCE(fault_pending, true);
}

void iommu_poll_faults(void)
{
	if (!drv || (fault_irq_on && !READ_ONCE(fault_pending)))
		return;
	WRITE_ONCE(fault_pending, false);
	if (!read_faults()) /* the rest next round: no interrupt comes for it */
		WRITE_ONCE(fault_pending, true);
}

void iommu_fault_irq_init(u8 vector, u32 apic_id)
{
	struct iommu_irq irq = { .vector = vector, .apic_id = apic_id };
	struct iommu_msi msg;
	int ret = -ENOTSUP;

	if (!drv)
		return;
	/* a unit's own interrupts bypass its remapping (VT-d 5.1.6): compatibility format */
	compat_msi(&irq, &msg);
	if (drv->fault_irq && apic_id <= 0xff)
		ret = drv->fault_irq(&msg);
	if (!ret) {
		fault_irq_on = true;
		fault_vector = vector;
		WRITE_ONCE(fault_pending, true); /* anything recorded before it was on */
		pr_info("iommu: %s faults read on their interrupt (vector %#x, CPU apic %u)",
			drv->name, vector, apic_id);
		return;
	}
	if (drv->fault_irq)
		drv->fault_irq(NULL);
	fault_irq_on = false;
	if (apic_id > 0xff)
		pr_warn("iommu: %s fault interrupt not set up (the CPU's APIC id is above 255): "
			"faults polled by the boot CPU",
			drv->name);
	else
		pr_warn("iommu: %s fault interrupt not available (%s): faults polled by the boot CPU",
			drv->name,
			ret == -ENODEV	? "a unit's PCI function has no MSI capability" :
			ret == -ENOTSUP ? "a unit's PCI function is off segment 0" :
					  "a unit would not take it");
}

static void print_fault(const struct iommu_fault *f)
{
	if (f->interrupt) {
		monitor_print("    %04x:%02x:%02x.%x interrupt entry %u: %s\n", f->seg,
			      PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), f->index, f->why);
		return;
	}
	monitor_print("    %04x:%02x:%02x.%x %s %#llx: %s\n", f->seg, PCI_BUS(f->bdf),
		      PCI_DEV(f->bdf), PCI_FN(f->bdf), f->write ? "write to" : "read of",
		      (unsigned long long)f->addr, f->why);
}

static void cmd_iommu(const char *args)
{
	(void)args;
	if (!drv) {
		monitor_print("  no IOMMU in use: device DMA is unconfined\n");
		return;
	}
	read_faults();
	drv->report();
	if (fault_irq_on)
		monitor_print("  faults read on their interrupt: vector %#x, %llu interrupts\n",
			      fault_vector, (unsigned long long)fault_irqs);
	else
		monitor_print("  faults polled by the boot CPU (no fault interrupt)\n");
	for (u32 i = 0; i < IOMMU_MAX_DOMAINS; i++) {
		const struct iommu_domain *d = &domains[i];

		if (!domain_used[i])
			continue;
		monitor_print("  domain %u (%s): %llu MiB mapped, %llu table pages, %llu faults\n",
			      d->id, d->owner, (unsigned long long)(d->mapped >> 20),
			      (unsigned long long)d->pt.table_pages, (unsigned long long)d->faults);
		for (u32 j = 0; j < nr_devices; j++)
			if (devices[j].d == d)
				monitor_print("    %04x:%02x:%02x.%x\n", devices[j].seg,
					      PCI_BUS(devices[j].bdf), PCI_DEV(devices[j].bdf),
					      PCI_FN(devices[j].bdf));
	}
	if (quarantined)
		monitor_print("  %llu table pages kept out of use after failed invalidations\n",
			      (unsigned long long)quarantined);
	monitor_print("  %llu DMA faults in all; the latest:\n", (unsigned long long)faults.total);
	for (u32 i = 0; i < FAULT_RECENT && i < faults.recent_next; i++)
		print_fault(&faults.recent[(faults.recent_next - 1 - i) % FAULT_RECENT]);
}

#define CACHE_LINE 64 /* every x86-64 CPU's CLFLUSH line size (CPUID.1:EBX[15:8] * 8) */

void iommu_cache_flush(const void *p, u64 len)
{
	uintptr_t a = ALIGN_DOWN((uintptr_t)p, CACHE_LINE), end = (uintptr_t)p + len;

	__asm__ volatile("mfence" ::: "memory"); /* the writes before the flushes (SDM CLFLUSH) */
	for (; a < end; a += CACHE_LINE)
		__asm__ volatile("clflush %0" : "+m"(*(volatile u8 *)a));
	__asm__ volatile("mfence" ::: "memory");
}

u32 iommu_inv_blocks(u64 iova, u64 size, u32 max_order, struct iommu_inv_block *out, u32 max)
{
	u64 page = iova >> PAGE_SHIFT, end = (iova + size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	u32 n = 0;

	if (!size || end <= page)
		return 0;
	while (page < end) {
		/* the largest block aligned at page that ends by end */
		u32 order = page ? (u32)__builtin_ctzll(page) : 63;

		order = MIN(order, 63 - (u32)__builtin_clzll(end - page));
		order = MIN(order, max_order);
		if (n == max)
			return 0;
		out[n++] = (struct iommu_inv_block){ page << PAGE_SHIFT, order };
		page += 1ULL << order;
	}
	return n;
}

// SPDX-License-Identifier: MIT
/*
 * The VT-d driver: each DMAR unit taken over from the firmware (translation,
 * interrupt remapping and queued invalidation it left on are turned off,
 * recorded faults dropped), given an empty root table, queued invalidation
 * and DMA remapping on, so every function is blocked until Keel points its
 * context entry at a domain's second-level tables (VT-d 4.1 ch. 3, 9, 10).
 */
#include <arch/x86/apic.h>
#include <arch/x86/paging.h>
#include <arch/x86/tsc.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/monitor.h>
#include <keel/page_alloc.h>
#include <keel/pci.h>
#include <lib/pci_regs.h>
#include "vtd_regs.h"

#define STATUS_TIMEOUT_NS (1000ULL * 1000 * 1000)

static struct dmar_info dmar;
static struct vtd_unit units[IOMMU_MAX_UNITS];
static u32 nr_units;
static const struct pt_format *format;

/* 10.4.4: one command at a time, the persistent bits as they are; waits for the status. */
int vtd_gcmd(struct vtd_unit *u, u32 bit, bool on)
{
	u32 sts = vtd_read32(u, VTD_GSTS) & VTD_GCMD_PERSISTENT;

	vtd_write32(u, VTD_GCMD, on ? sts | bit : sts & ~bit);
	for (u64 start = time_ns(); !!(vtd_read32(u, VTD_GSTS) & bit) != on;)
		if (time_ns() - start > STATUS_TIMEOUT_NS)
			return -ETIMEDOUT;
	return 0;
}

/* Whatever the firmware left on goes off, translation first (VT-d 10.4.4, 6.5.2). */
static int take_over(struct vtd_unit *u)
{
	u32 sts = vtd_read32(u, VTD_GSTS);
	int ret = 0;

	if (sts & VTD_GCMD_TE)
		ret = vtd_gcmd(u, VTD_GCMD_TE, false);
	if (!ret && (sts & VTD_GCMD_IRE))
		ret = vtd_gcmd(u, VTD_GCMD_IRE, false);
	if (!ret && (sts & VTD_GCMD_QIE)) {
		/* the queue drains before it may be turned off */
		for (u64 start = time_ns(); vtd_read64(u, VTD_IQH) != vtd_read64(u, VTD_IQT);)
			if (time_ns() - start > STATUS_TIMEOUT_NS)
				return -ETIMEDOUT;
		ret = vtd_gcmd(u, VTD_GCMD_QIE, false);
	}
	vtd_write32(u, VTD_FECTL, VTD_FECTL_IM); /* until Keel has its vector (vtd_fault_irq) */
	vtd_fault_clear_all(u);
	if (sts & (VTD_GCMD_TE | VTD_GCMD_IRE | VTD_GCMD_QIE))
		pr_info("iommu: VT-d unit at %#llx: the firmware left%s%s%s on; turned off",
			(unsigned long long)u->acpi->base, sts & VTD_GCMD_TE ? " translation" : "",
			sts & VTD_GCMD_IRE ? " interrupt remapping" : "",
			sts & VTD_GCMD_QIE ? " queued invalidation" : "");
	return ret;
}

/* What Keel needs of a unit; NULL if it has it all. */
static const char *unusable(const struct vtd_unit *u)
{
	if (!(u->ecap & VTD_ECAP_QI))
		return "no queued invalidation";
	if (!(VTD_CAP_SAGAW(u->cap) & (VTD_SAGAW_39 | VTD_SAGAW_48)))
		return "neither 3- nor 4-level tables";
	if (!(VTD_CAP_SLLPS(u->cap) & 1))
		return "no 2 MiB pages";
	return NULL;
}

static int unit_enable(struct vtd_unit *u)
{
	int ret;

	u->root = page_alloc_zeroed(1);
	if (!u->root)
		return -ENOMEM;
	iommu_cache_flush(u->root, PAGE_SIZE);
	ret = take_over(u);
	if (ret)
		return ret;
	vtd_write64(u, VTD_RTADDR, virt_to_phys(u->root)); /* legacy mode (TTM 00) */
	ret = vtd_gcmd(u, VTD_GCMD_SRTP, true);
	if (!ret)
		ret = vtd_qi_enable(u);
	if (!ret)
		ret = vtd_flush_context(u, 0, 0);
	if (!ret)
		ret = vtd_flush_iotlb(u, 0, 0, 0);
	if (!ret)
		ret = vtd_gcmd(u, VTD_GCMD_TE,
			       true); /* every function blocked: no context entries */
	return ret;
}

static int unit_probe(struct vtd_unit *u, const struct dmar_unit *du)
{
	const char *why;
	int ret;

	u->acpi = du;
	if (paging_map_io(du->base, du->size))
		return -ERANGE;
	u->regs = phys_to_virt(du->base);
	u->cap = vtd_read64(u, VTD_CAP);
	u->ecap = vtd_read64(u, VTD_ECAP);
	u->coherent = u->ecap & VTD_ECAP_C;
	why = unusable(u);
	if (why) {
		pr_warn("iommu: VT-d unit at %#llx: %s: not used", (unsigned long long)du->base,
			why);
		return -ENOTSUP;
	}
	ret = unit_enable(u);
	pr_info("iommu: VT-d unit at %#llx: version %x, %u-bit, %s tables, %s walks, %u fault "
		"records, interrupt remapping %s%s: %s",
		(unsigned long long)du->base, vtd_read32(u, VTD_VER), VTD_CAP_MGAW(u->cap),
		VTD_CAP_SAGAW(u->cap) & VTD_SAGAW_48 ? "4-level" : "3-level",
		u->coherent ? "coherent" : "non-coherent", VTD_CAP_NFR(u->cap),
		u->ecap & VTD_ECAP_IR ? "possible" : "absent",
		u->cap & VTD_CAP_CM ? ", caching mode" : "", ret ? "failed" : "DMA remapping on");
	return ret;
}

/* Why interrupts cannot be remapped on these units, or NULL; *x2apic: with 32-bit destinations. */
static const char *ir_unusable(const struct acpi_info *ai, bool *x2apic)
{
	bool eim = true;
	u32 max_apic = 0;

	for (u32 i = 0; i < ai->nr_cpus; i++)
		max_apic = MAX(max_apic, ai->cpus[i].apic_id);
	if (!dmar.intr_remap)
		return "the DMAR table does not offer it";
	for (u32 i = 0; i < nr_units; i++) {
		if (!(units[i].ecap & VTD_ECAP_IR))
			return "a unit has none";
		eim = eim && (units[i].ecap & VTD_ECAP_EIM);
	}
	*x2apic = apic_x2apic() && eim;
	if (max_apic > 0xff && !*x2apic)
		return "APIC ids above 255 need extended interrupt mode (x2APIC), which is not there";
	return NULL;
}

/* Interrupt remapping on every unit or on none: every source's message has the one format. */
static void ir_setup(const struct acpi_info *ai)
{
	bool x2apic = false;
	const char *why = ir_unusable(ai, &x2apic);
	int ret = 0;

	for (u32 i = 0; i < nr_units && !why && !ret; i++)
		ret = vtd_ir_enable(&units[i], x2apic);
	if (ret) {
		vtd_ir_disable_all();
		why = "a unit did not take the table";
	}
	if (why) {
		pr_warn("iommu: VT-d interrupt remapping off (%s): a device can send any interrupt",
			why);
		return;
	}
	pr_info("iommu: VT-d interrupt remapping on: %u entries, %s destinations, requester ids "
		"verified, compatibility format blocked",
		VTD_IRT_ENTRIES, x2apic ? "32-bit" : "8-bit");
}

static int vtd_probe(const struct acpi_info *ai)
{
	int ret =
		dmar_parse(phys_to_virt(ai->dmar), ((const u32 *)phys_to_virt(ai->dmar))[1], &dmar);
	bool four = true;

	if (ret) {
		pr_warn("iommu: the DMAR table is broken (%d): not used", ret);
		return ret;
	}
	for (u32 i = 0; i < dmar.nr_units; i++) {
		struct vtd_unit peek = { .regs = phys_to_virt(dmar.units[i].base) };

		if (paging_map_io(dmar.units[i].base, dmar.units[i].size))
			return -ERANGE;
		four = four && (VTD_CAP_SAGAW(vtd_read64(&peek, VTD_CAP)) & VTD_SAGAW_48);
	}
	/* one table format for all units: 4 levels where every unit has them */
	format = four ? &vtd_format_4level : &vtd_format_3level;
	for (u32 i = 0; i < dmar.nr_units; i++) {
		ret = unit_probe(&units[nr_units], &dmar.units[i]);
		if (ret)
			break;
		nr_units++;
	}
	if (ret) { /* all or none: a unit left as it was would let its devices through anyway */
		for (u32 i = 0; i <= nr_units && i < IOMMU_MAX_UNITS; i++)
			if (units[i].regs)
				vtd_gcmd(&units[i], VTD_GCMD_TE, false);
		nr_units = 0;
		return ret;
	}
	ir_setup(ai);
	return (int)nr_units;
}

static const struct pt_format *vtd_format(void)
{
	return format;
}

/* The bus a scope's path ends on, through the bridges it crosses (8.3.2). */
static u16 scope_bdf(const struct dmar_scope *s)
{
	u8 bus = s->bus;

	for (u32 i = 0; i + 1 < s->path_len; i++)
		bus = (u8)pci_read((u16)(bus << 8 | s->path[i]), PCI_SECONDARY_BUS, 1);
	return (u16)(bus << 8 | (s->path_len ? s->path[s->path_len - 1] : 0));
}

static bool scope_covers(const struct dmar_scope *s, u16 bdf)
{
	u16 at = scope_bdf(s);

	if (s->type == DMAR_SCOPE_ENDPOINT)
		return at == bdf;
	if (s->type == DMAR_SCOPE_BRIDGE)
		return at == bdf || (PCI_BUS(bdf) >= pci_read(at, PCI_SECONDARY_BUS, 1) &&
				     PCI_BUS(bdf) <= pci_read(at, PCI_SUBORDINATE_BUS, 1));
	return false;
}

/* 8.3: the unit whose scopes name the function, else its segment's include-all unit. */
static struct vtd_unit *unit_of(u16 seg, u16 bdf)
{
	struct vtd_unit *all = NULL;

	for (u32 i = 0; i < nr_units; i++) {
		const struct dmar_unit *du = units[i].acpi;

		if (du->segment != seg)
			continue;
		if (du->include_all)
			all = &units[i];
		for (u32 j = 0; j < du->nr_scopes; j++)
			if (scope_covers(&du->scopes[j], bdf))
				return &units[i];
	}
	return all;
}

/* 8.3.1.1: the I/O APIC scope whose enumeration id is the MADT's id for it. */
int vtd_ioapic_sid(u8 ioapic_id, u16 *seg, u16 *sid)
{
	for (u32 i = 0; i < nr_units; i++) {
		const struct dmar_unit *du = units[i].acpi;

		for (u32 j = 0; j < du->nr_scopes; j++) {
			if (du->scopes[j].type == DMAR_SCOPE_IOAPIC &&
			    du->scopes[j].enum_id == ioapic_id) {
				*seg = du->segment;
				*sid = scope_bdf(&du->scopes[j]);
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* 8.4: the RMRRs whose scopes name the function. */
static u32 vtd_reserved(u16 seg, u16 bdf, struct acpi_range *out, u32 max)
{
	u32 n = 0;

	for (u32 i = 0; i < dmar.nr_rmrrs && n < max; i++) {
		const struct dmar_rmrr *r = &dmar.rmrrs[i];

		for (u32 j = 0; j < r->nr_scopes; j++) {
			if (r->segment == seg && scope_covers(&r->scopes[j], bdf)) {
				out[n++] = (struct acpi_range){ r->base, r->limit - r->base + 1 };
				break;
			}
		}
	}
	return n;
}

/* The context entry of a function, its bus's context table made on first use. */
static u64 *context_entry(struct vtd_unit *u, u16 bdf)
{
	u8 bus = PCI_BUS(bdf);

	if (!u->ctx[bus]) {
		u->ctx[bus] = page_alloc_zeroed(1);
		if (!u->ctx[bus])
			return NULL;
		iommu_cache_flush(u->ctx[bus], PAGE_SIZE);
		u->root[2 * bus] = virt_to_phys(u->ctx[bus]) | VTD_ROOT_P;
		iommu_cache_flush(&u->root[2 * bus], 16);
	}
	return &u->ctx[bus][2 * (bdf & 0xff)];
}

/*
 * A present entry is made not present and its caches invalidated before it
 * points anywhere else (6.5.3.3); then the new entry, and the caches again.
 */
static int vtd_attach(struct iommu_domain *d, u16 seg, u16 bdf)
{
	struct vtd_unit *u = unit_of(seg, bdf);
	u64 *ce;
	int ret = 0;

	if (!u)
		return -ENODEV;
	if (d && d->id >= 1u << (4 + 2 * VTD_CAP_ND(u->cap)))
		return -ENOSPC; /* 11.4.2: CAP.ND, the unit's domain ids (16 up to 65536) */
	ce = context_entry(u, bdf);
	if (!ce)
		return -ENOMEM;
	if (ce[0] & VTD_CTX_P) {
		ce[0] = 0;
		iommu_cache_flush(ce, 16);
		ret = vtd_flush_context(u, 0, 0);
		if (!ret)
			ret = vtd_flush_iotlb(u, 0, 0, 0);
	}
	if (ret || !d)
		return ret;
	ce[1] = (format->levels == 4 ? VTD_CTX_AW_48 : VTD_CTX_AW_39) |
		(u64)d->id << VTD_CTX_DID_SHIFT;
	ce[0] = d->pt.root | VTD_CTX_P; /* translation type 00: untranslated requests only */
	iommu_cache_flush(ce, 16);
	ret = vtd_flush_context(u, 0, 0);
	return ret ? ret : vtd_flush_iotlb(u, d->id, 0, 0);
}

static int vtd_flush(struct iommu_domain *d, u64 iova, u64 size)
{
	int ret = 0;

	for (u32 i = 0; i < nr_units; i++)
		ret = vtd_flush_iotlb(&units[i], d->id, iova, size) ?: ret;
	return ret;
}

/* 6.5.2.3: nothing cached under the id outlives the domain (no context entry names it now). */
static int vtd_destroy(struct iommu_domain *d)
{
	int ret = 0;

	for (u32 i = 0; i < nr_units; i++)
		ret = vtd_flush_iotlb(&units[i], d->id, 0, 0) ?: ret;
	return ret;
}

static bool vtd_next_fault(struct iommu_fault *f)
{
	for (u32 i = 0; i < nr_units; i++)
		if (vtd_fault_next(&units[i], f))
			return true;
	return false;
}

static int vtd_fault_irq_all(const struct iommu_msi *msg)
{
	for (u32 i = 0; i < nr_units; i++)
		vtd_fault_irq(&units[i], msg);
	return 0;
}

static void vtd_report(void)
{
	for (u32 i = 0; i < nr_units; i++) {
		struct vtd_unit *u = &units[i];
		u32 sts = vtd_read32(u, VTD_GSTS);

		monitor_print("  VT-d unit %u at %#llx, segment %u, %s%s: translation %s, queued "
			      "invalidation %s, %llu faults\n",
			      i, (unsigned long long)u->acpi->base, u->acpi->segment,
			      u->acpi->include_all ? "all functions" : "listed functions",
			      u->coherent ? "" : ", non-coherent walks",
			      sts & VTD_GCMD_TE ? "on" : "off", sts & VTD_GCMD_QIE ? "on" : "off",
			      (unsigned long long)u->faults);
	}
	vtd_ir_report();
}

static bool vtd_irq_remapping(void)
{
	return vtd_ir_on();
}

const struct iommu_driver vtd_driver = {
	.name = "VT-d",
	.probe = vtd_probe,
	.format = vtd_format,
	.reserved = vtd_reserved,
	.attach = vtd_attach,
	.flush = vtd_flush,
	.destroy = vtd_destroy,
	.next_fault = vtd_next_fault,
	.report = vtd_report,
	.fault_irq = vtd_fault_irq_all,
	.irq_remapping = vtd_irq_remapping,
	.irq_set = vtd_ir_set,
	.irq_free = vtd_ir_free,
};

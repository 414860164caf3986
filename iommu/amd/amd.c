// SPDX-License-Identifier: MIT
/*
 * The AMD-Vi driver: each IOMMU the IVRS lists taken over from the firmware
 * (what it left on turned off, the exclusion range dropped), given a device
 * table whose every entry blocks DMA, a command buffer and an event log, and
 * turned on; a function reaches memory only once Keel points its device
 * table entry at a domain's I/O page tables (AMD IOMMU 3.08 ch. 2, 3.4).
 * Interrupt remapping (amd_ir.c) is decided before the units go on, so the
 * device table starts with every device id's interrupts aborted.
 */
#include <arch/x86/paging.h>
#include <arch/x86/tsc.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/monitor.h>
#include <keel/page_alloc.h>
#include <keel/pci.h>
#include "amd_regs.h"

#define STATUS_TIMEOUT_NS (1000ULL * 1000 * 1000)
#define DEV_TABLE_PAGES (AMD_DTE_ENTRIES * AMD_DTE_WORDS * 8 / PAGE_SIZE)

static struct ivrs_info ivrs;
static struct amd_unit units[IOMMU_MAX_UNITS];
static u32 nr_units;

/* Everything the firmware left on goes off; the command buffer and log stop first. */
static int take_over(struct amd_unit *u)
{
	u64 ctrl = amd_read64(u, AMD_CONTROL);

	if (ctrl & AMD_CTRL_TAKE_OVER) {
		amd_write64(u, AMD_CONTROL, ctrl & ~AMD_CTRL_TAKE_OVER);
		for (u64 start = time_ns();
		     amd_read64(u, AMD_STATUS) & (AMD_STS_CMD_BUF_RUN | AMD_STS_EVENT_LOG_RUN);)
			if (time_ns() - start > STATUS_TIMEOUT_NS)
				return -ETIMEDOUT;
		pr_info("iommu: AMD-Vi unit at %#llx: the firmware left%s%s%s on; turned off",
			(unsigned long long)u->acpi->base,
			ctrl & AMD_CTRL_IOMMU_EN ? " translation" : "",
			ctrl & AMD_CTRL_CMD_BUF_EN ? " the command buffer" : "",
			ctrl & AMD_CTRL_EVENT_LOG_EN ? " the event log" : "");
	}
	amd_write64(u, AMD_STATUS, AMD_STS_CLEAR);
	/* no range bypasses translation: what the firmware needs is in IVMD, mapped per domain */
	amd_write64(u, AMD_EXCL_BASE, 0);
	amd_write64(u, AMD_EXCL_LIMIT, 0);
	return 0;
}

static int unit_enable(struct amd_unit *u)
{
	u64 ctrl;
	int ret;

	u->dev_table = page_alloc_zeroed(DEV_TABLE_PAGES);
	u->cmd_buf = page_alloc_zeroed(1);
	u->event_log = page_alloc_zeroed(1);
	if (!u->dev_table || !u->cmd_buf || !u->event_log)
		return -ENOMEM;
	for (u32 id = 0; id < AMD_DTE_ENTRIES; id++) { /* every device id, listed or not */
		amd_dte_blocked(&u->dev_table[AMD_DTE_WORDS * id]);
		u->dev_table[AMD_DTE_WORDS * id + 2] = amd_ir_dte_unmapped();
	}
	ret = take_over(u);
	if (ret)
		return ret;
	amd_write64(u, AMD_DEV_TABLE_BASE, virt_to_phys(u->dev_table) | AMD_DEV_TABLE_SIZE_MAX);
	amd_cmd_init(u);
	amd_event_init(u);
	__atomic_thread_fence(
		__ATOMIC_SEQ_CST); /* the tables in memory before the unit reads them */
	ctrl = amd_read64(u, AMD_CONTROL) & ~AMD_CTRL_TAKE_OVER;
	if (amd_ir_mode == AMD_IR_XT) /* 128-bit entries, 32-bit destinations (3.4, 2.2.5.2) */
		ctrl |= AMD_CTRL_GA_EN | AMD_CTRL_XT_EN;
	/* one write: QEMU's model runs commands only with translation on */
	amd_write64(u, AMD_CONTROL,
		    ctrl | AMD_CTRL_IOMMU_EN | AMD_CTRL_CMD_BUF_EN | AMD_CTRL_EVENT_LOG_EN |
			    AMD_CTRL_COHERENT);
	return amd_inv_all(u);
}

static u32 device_ids(const struct ivrs_unit *iu)
{
	u32 n = 0;

	for (u32 i = 0; i < iu->nr_ranges; i++)
		n += iu->ranges[i].last - iu->ranges[i].first + 1u;
	return n;
}

/* The unit's registers and features, read before interrupt remapping is decided. */
static int unit_peek(struct amd_unit *u, const struct ivrs_unit *iu)
{
	u->acpi = iu;
	if (paging_map_io(iu->base, AMD_MMIO_SIZE))
		return -ERANGE;
	u->regs = phys_to_virt(iu->base);
	u->efr = iu->efr ? iu->efr : amd_read64(u, AMD_EXT_FEATURES);
	if (u->efr == ~0ULL) {
		pr_warn("iommu: AMD-Vi unit at %#llx: its registers read as all ones: not used",
			(unsigned long long)iu->base);
		return -ENODEV;
	}
	return 0;
}

static int unit_probe(struct amd_unit *u, const struct ivrs_unit *iu)
{
	int ret = unit_enable(u);

	pr_info("iommu: AMD-Vi unit at %#llx (%02x:%02x.%x), segment %u, %u device ids, "
		"features %#llx, 4-level tables, command buffer, event log: %s",
		(unsigned long long)iu->base, PCI_BUS(iu->devid), PCI_DEV(iu->devid),
		PCI_FN(iu->devid), iu->segment, device_ids(iu), (unsigned long long)u->efr,
		ret ? "failed" : "DMA remapping on");
	return ret;
}

static int amd_probe(const struct acpi_info *ai)
{
	int ret =
		ivrs_parse(phys_to_virt(ai->ivrs), ((const u32 *)phys_to_virt(ai->ivrs))[1], &ivrs);
	const char *why;

	if (ret) {
		pr_warn("iommu: the IVRS table is broken (%d): not used", ret);
		return ret;
	}
	if (!ivrs.nr_units)
		return -ENODEV;
	for (u32 i = 0; i < ivrs.nr_units; i++) {
		ret = unit_peek(&units[i], &ivrs.units[i]);
		if (ret)
			return ret;
	}
	why = amd_ir_decide(ai, units, ivrs.nr_units, &amd_ir_mode);
	for (u32 i = 0; i < ivrs.nr_units; i++) {
		ret = unit_probe(&units[nr_units], &ivrs.units[i]);
		if (ret)
			break;
		nr_units++;
	}
	if (ret) { /* all or none: a unit left as it was would let its devices through anyway */
		for (u32 i = 0; i <= nr_units && i < IOMMU_MAX_UNITS; i++)
			if (units[i].regs)
				amd_write64(&units[i], AMD_CONTROL,
					    amd_read64(&units[i], AMD_CONTROL) &
						    ~AMD_CTRL_TAKE_OVER);
		nr_units = 0;
		amd_ir_mode = AMD_IR_OFF;
		return ret;
	}
	if (why)
		pr_warn("iommu: AMD-Vi interrupt remapping off (%s): a device can send any interrupt",
			why);
	else
		pr_info("iommu: AMD-Vi interrupt remapping on: a table of %u entries per device id, "
			"%s destinations, requester ids verified, other device ids' interrupts "
			"aborted",
			AMD_IRT_ENTRIES, amd_ir_mode == AMD_IR_XT ? "32-bit" : "8-bit");
	return (int)nr_units;
}

static const struct pt_format *amd_format_get(void)
{
	return &amd_format;
}

/* The unit whose IVHD lists the device id, and the id its requests carry (an alias, or itself). */
struct amd_unit *amd_unit_of(u16 seg, u16 bdf, u16 *alias)
{
	for (u32 i = 0; i < nr_units; i++) {
		const struct ivrs_unit *iu = units[i].acpi;

		if (iu->segment != seg)
			continue;
		for (u32 j = 0; j < iu->nr_ranges; j++) {
			const struct ivrs_range *r = &iu->ranges[j];

			if (bdf < r->first || bdf > r->last)
				continue;
			*alias = r->alias == IVRS_DEVID_NONE ? bdf : (u16)r->alias;
			return &units[i];
		}
	}
	return NULL;
}

/* 5.2.2.2: the IVHD special device entry of an I/O APIC gives the id its messages carry. */
struct amd_unit *amd_ioapic_unit(u8 ioapic_id, u16 *devid)
{
	for (u32 i = 0; i < ivrs.nr_units; i++) {
		const struct ivrs_unit *iu = &ivrs.units[i];

		for (u32 j = 0; j < iu->nr_specials; j++) {
			if (iu->specials[j].variety == IVHD_SPECIAL_IOAPIC &&
			    iu->specials[j].handle == ioapic_id) {
				*devid = iu->specials[j].devid;
				return &units[i];
			}
		}
	}
	return NULL;
}

/* 5.2.2.3: the IVMD blocks (unity and exclusion ranges) that name the device id. */
static u32 amd_reserved(u16 seg, u16 bdf, struct acpi_range *out, u32 max)
{
	u32 n = 0;

	(void)seg; /* IVMD types 20h-22h do not name a segment */
	for (u32 i = 0; i < ivrs.nr_ivmds && n < max; i++) {
		const struct ivrs_ivmd *m = &ivrs.ivmds[i];

		if (bdf >= m->first && bdf <= m->last &&
		    (m->flags & (IVMD_F_UNITY | IVMD_F_EXCLUSION)))
			out[n++] = (struct acpi_range){ m->base, m->length };
	}
	return n;
}

/*
 * An entry that translates is first made to block and its caches (the
 * entry, and the old domain's translations) invalidated; then the new
 * entry, its first quadword last, and the entry's cache again.
 */
static int set_dte(struct amd_unit *u, u16 devid, const struct iommu_domain *d)
{
	u64 *dte = &u->dev_table[AMD_DTE_WORDS * devid], next[AMD_DTE_WORDS];
	int ret = 0;

	if (d)
		amd_dte_translated(next, d->pt.root, d->pt.fmt->levels, d->id);
	else
		amd_dte_blocked(next);
	next[2] = dte[2]; /* the interrupt fields stay (amd_ir.c) */
	next[3] = dte[3];
	if (dte[0] & AMD_DTE_MODE_MASK) {
		WRITE_ONCE(dte[0], AMD_DTE_V | AMD_DTE_TV); /* blocks; the rest is read with it */
		ret = amd_inv_devtab_entry(u, devid);
		if (!ret)
			ret = amd_inv_domain(u, (u16)(dte[1] & AMD_DTE_DOMAIN_MASK));
		if (ret)
			return ret;
	}
	for (u32 i = AMD_DTE_WORDS; i-- > 0;) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		WRITE_ONCE(dte[i], next[i]);
	}
	return amd_inv_devtab_entry(u, devid);
}

static int amd_attach(struct iommu_domain *d, u16 seg, u16 bdf)
{
	u16 alias;
	struct amd_unit *u = amd_unit_of(seg, bdf, &alias);
	int ret;

	if (!u)
		return -ENODEV;
	ret = set_dte(u, bdf, d);
	if (!ret && alias != bdf) /* its requests arrive with the alias's id */
		ret = set_dte(u, alias, d);
	return ret;
}

static int amd_flush(struct iommu_domain *d, u64 iova, u64 size)
{
	int ret = 0;

	for (u32 i = 0; i < nr_units; i++)
		ret = amd_inv_pages(&units[i], d->id, iova, size) ?: ret;
	return ret;
}

/* 2.4.3: all of the id's pages and page directory entries (no device table entry names it now). */
static int amd_destroy(struct iommu_domain *d)
{
	int ret = 0;

	for (u32 i = 0; i < nr_units; i++)
		ret = amd_inv_domain(&units[i], d->id) ?: ret;
	return ret;
}

static bool amd_next_fault(struct iommu_fault *f)
{
	for (u32 i = 0; i < nr_units; i++)
		if (amd_event_next(&units[i], f))
			return true;
	return false;
}

/* Every unit's event interrupt, or none: the units' faults are read on one path. */
static int amd_fault_irq(const struct iommu_msi *msg)
{
	int ret = 0;

	for (u32 i = 0; i < nr_units && !ret; i++)
		ret = amd_event_irq(&units[i], msg);
	return ret;
}

static void amd_fault_ack(void)
{
	for (u32 i = 0; i < nr_units; i++)
		amd_event_ack(&units[i]);
}

static void amd_report(void)
{
	for (u32 i = 0; i < nr_units; i++) {
		struct amd_unit *u = &units[i];
		u64 ctrl = amd_read64(u, AMD_CONTROL);

		monitor_print(
			"  AMD-Vi unit %u at %#llx, segment %u, %u device ids: translation %s, "
			"command buffer %s, event log %s, %llu events, %llu faults\n",
			i, (unsigned long long)u->acpi->base, u->acpi->segment, device_ids(u->acpi),
			ctrl & AMD_CTRL_IOMMU_EN ? "on" : "off",
			u->broken		   ? "broken" :
			ctrl & AMD_CTRL_CMD_BUF_EN ? "on" :
						     "off",
			ctrl & AMD_CTRL_EVENT_LOG_EN ? "on" : "off", (unsigned long long)u->events,
			(unsigned long long)u->faults);
	}
	amd_ir_report();
}

static bool amd_irq_remapping(void)
{
	return amd_ir_mode != AMD_IR_OFF;
}

const struct iommu_driver amd_driver = {
	.name = "AMD-Vi",
	.probe = amd_probe,
	.format = amd_format_get,
	.reserved = amd_reserved,
	.attach = amd_attach,
	.flush = amd_flush,
	.destroy = amd_destroy,
	.next_fault = amd_next_fault,
	.report = amd_report,
	.fault_irq = amd_fault_irq,
	.fault_ack = amd_fault_ack,
	.irq_remapping = amd_irq_remapping,
	.irq_set = amd_ir_set,
	.irq_free = amd_ir_free,
};

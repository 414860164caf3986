// SPDX-License-Identifier: MIT
/*
 * VT-d interrupt remapping (VT-d 4.1 ch. 5, 9.10): a table of 256 entries
 * per PCI segment, which every unit of that segment points at (a requester
 * id carries no segment, 9.10: one table shared across segments would let
 * a device use the entries of its namesake on another). Each interrupt
 * source Keel programs (an MSI, an MSI-X entry, an I/O APIC pin) gets an
 * entry that names its vector and CPU and the one requester id allowed to
 * use it; the source sends a remappable-format message carrying only the
 * entry's index. Compatibility-format messages are blocked (GSTS.CFIS
 * clear), so a device's DMA write to 0xFEExxxxx reaches at most the entries
 * of its own requester id.
 */
#include <arch/x86/apic_regs.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/monitor.h>
#include <keel/page_alloc.h>
#include <keel/pci.h>
#include "vtd_regs.h"

struct ir_table {
	u16 seg;
	u64 *e; /* VTD_IRT_ENTRIES entries of two words */
	bool used[VTD_IRT_ENTRIES];
	u32 nr_used;
};

static struct ir_table tables[IOMMU_MAX_UNITS];
static u32 nr_tables;
static struct vtd_unit *on[IOMMU_MAX_UNITS]; /* the units remapping */
static u32 nr_on;
static bool eim; /* 32-bit destinations: the CPUs are in x2APIC mode */

/* A handle names the table and the entry: t * VTD_IRT_ENTRIES + index + 1 (0: none). */
static struct ir_table *table_of(u16 seg, bool make)
{
	for (u32 i = 0; i < nr_tables; i++)
		if (tables[i].seg == seg)
			return &tables[i];
	if (!make || nr_tables == IOMMU_MAX_UNITS)
		return NULL;
	tables[nr_tables].e = page_alloc_zeroed(1);
	if (!tables[nr_tables].e)
		return NULL;
	iommu_cache_flush(tables[nr_tables].e, PAGE_SIZE);
	tables[nr_tables].seg = seg;
	return &tables[nr_tables++];
}

/*
 * 10.4.4 and 6.5.2.7: the table's address is latched (SIRTP), the entry cache
 * invalidated globally, compatibility-format interrupts blocked (CFI clear,
 * where the firmware set it), then remapping on (IRE).
 */
int vtd_ir_enable(struct vtd_unit *u, bool x2apic)
{
	struct ir_table *t = table_of(u->acpi->segment, true);
	int ret;

	if (!t)
		return -ENOMEM;
	eim = x2apic;
	vtd_write64(u, VTD_IRTA, virt_to_phys(t->e) | (eim ? VTD_IRTA_EIME : 0) | VTD_IRT_S);
	ret = vtd_gcmd(u, VTD_GCMD_SIRTP, true);
	if (!ret)
		ret = vtd_flush_iec(u, 0, true);
	if (!ret && (vtd_read32(u, VTD_GSTS) & VTD_GCMD_CFI))
		ret = vtd_gcmd(u, VTD_GCMD_CFI, false);
	if (!ret)
		ret = vtd_gcmd(u, VTD_GCMD_IRE, true);
	if (ret)
		return ret;
	u->remapping = true;
	on[nr_on++] = u;
	return 0;
}

/* Turns remapping off on every unit again (a unit failed: all or none). */
void vtd_ir_disable_all(void)
{
	for (u32 i = 0; i < nr_on; i++) {
		vtd_gcmd(on[i], VTD_GCMD_IRE, false);
		on[i]->remapping = false;
	}
	nr_on = 0;
}

bool vtd_ir_on(void)
{
	return nr_on;
}

/* 9.10: the low word (what is delivered) of a remapped interrupt's entry. */
u64 vtd_irte_lo(u8 vector, u32 apic_id, bool level, bool x2apic)
{
	u64 dst = x2apic ? (u64)apic_id << VTD_IRTE_DST_SHIFT :
			   (u64)(apic_id & 0xff) << VTD_IRTE_DST_XAPIC_SHIFT;

	return VTD_IRTE_P | (level ? VTD_IRTE_TM_LEVEL : 0) |
	       (u64)APIC_DM_FIXED << VTD_IRTE_DLM_SHIFT | (u64)vector << VTD_IRTE_VECTOR_SHIFT |
	       dst;
}

/* 9.10: the high word: only requester id sid may use the entry (all 16 bits compared). */
u64 vtd_irte_hi(u16 sid)
{
	return sid | VTD_IRTE_SQ_ALL | VTD_IRTE_SVT_SID;
}

/* 5.1.5.2: the address of a remappable-format message naming entry index. */
u64 vtd_irte_msi_addr(u32 index)
{
	return APIC_DEFAULT_BASE | (u64)(index & 0x7fff) << VTD_MSI_HANDLE_SHIFT |
	       VTD_MSI_REMAPPABLE | ((index & 0x8000) ? VTD_MSI_HANDLE15 : 0);
}

/* The entry's cached copies, on every unit of its table's segment. */
static int invalidate(const struct ir_table *t, u32 index)
{
	int ret = 0;

	for (u32 i = 0; i < nr_on; i++)
		if (on[i]->acpi->segment == t->seg)
			ret = vtd_flush_iec(on[i], index, false) ?: ret;
	return ret;
}

static int alloc(struct ir_table *t)
{
	for (u32 i = 0; i < VTD_IRT_ENTRIES; i++) {
		if (!t->used[i]) {
			t->used[i] = true;
			t->nr_used++;
			return (int)i;
		}
	}
	return -ENOSPC;
}

int vtd_ir_set(const struct iommu_irq *irq, u32 *handle, struct iommu_msi *msg)
{
	u16 seg = irq->seg, sid = irq->bdf;
	struct ir_table *t;
	u64 *e;
	int idx;

	if (irq->ioapic && vtd_ioapic_sid(irq->ioapic_id, &seg, &sid))
		return -ENODEV;
	if (*handle) {
		t = &tables[(*handle - 1) / VTD_IRT_ENTRIES];
		idx = (int)((*handle - 1) % VTD_IRT_ENTRIES);
		if (t->seg != seg)
			return -EINVAL; /* a source does not change segment */
	} else {
		t = table_of(seg, false);
		if (!t)
			return -ENODEV; /* no unit of its segment remaps */
		idx = alloc(t);
		if (idx < 0)
			return idx;
	}
	e = &t->e[2 * idx];
	/* a new entry gets its requester before it is present; a live one changes in one write */
	if (e[1] != vtd_irte_hi(sid)) {
		e[0] = 0;
		e[1] = vtd_irte_hi(sid);
	}
	WRITE_ONCE(e[0], vtd_irte_lo(irq->vector, irq->apic_id, irq->level, eim));
	iommu_cache_flush(e, 16);
	*handle = (u32)(t - tables) * VTD_IRT_ENTRIES + (u32)idx + 1;
	msg->addr = vtd_irte_msi_addr((u32)idx);
	/*
	 * An MSI sets SHV with subhandle 0 in its data (5.1.5.2); an I/O APIC has
	 * no SHV bit, and its vector and trigger mode match the entry's (5.1.5.1).
	 */
	if (irq->ioapic) {
		msg->data = irq->vector | (irq->level ? MSI_DATA_LEVEL : 0);
	} else {
		msg->addr |= VTD_MSI_SHV;
		msg->data = 0;
	}
	return invalidate(t, (u32)idx);
}

/*
 * The entry made not present and its cached copies invalidated before the
 * index can be handed out again; if the invalidation does not complete, a
 * unit may still deliver through a cached copy: the index stays out of use.
 */
void vtd_ir_free(u32 handle)
{
	struct ir_table *t;
	u32 idx = (handle - 1) % VTD_IRT_ENTRIES;

	if (!handle || (handle - 1) / VTD_IRT_ENTRIES >= nr_tables)
		return;
	t = &tables[(handle - 1) / VTD_IRT_ENTRIES];
	if (!t->used[idx])
		return;
	WRITE_ONCE(t->e[2 * idx], 0); /* not present */
	iommu_cache_flush(&t->e[2 * idx], 16);
	if (invalidate(t, idx))
		return;
	t->e[2 * idx + 1] = 0;
	t->used[idx] = false;
	t->nr_used--;
}

void vtd_ir_report(void)
{
	u32 used = 0;

	if (!nr_on) {
		monitor_print("  interrupt remapping off: devices' interrupts are not confined\n");
		return;
	}
	for (u32 i = 0; i < nr_tables; i++)
		used += tables[i].nr_used;
	monitor_print("  interrupt remapping on: %u of %u entries, %s destinations, requester ids "
		      "verified, compatibility format %s\n",
		      used, nr_tables * VTD_IRT_ENTRIES, eim ? "32-bit" : "8-bit",
		      (vtd_read32(on[0], VTD_GSTS) & VTD_GCMD_CFI) ? "passed" : "blocked");
	for (u32 t = 0; t < nr_tables; t++) {
		if (nr_tables > 1)
			monitor_print("    segment %u's table:\n", tables[t].seg);
		for (u32 i = 0; i < VTD_IRT_ENTRIES; i++) {
			u64 lo = tables[t].e[2 * i], hi = tables[t].e[2 * i + 1];
			u32 dst = eim ? (u32)(lo >> VTD_IRTE_DST_SHIFT) :
					(u32)((lo >> VTD_IRTE_DST_XAPIC_SHIFT) & 0xff);

			if (!(lo & VTD_IRTE_P))
				continue;
			monitor_print("    entry %u: %02x:%02x.%x vector %#x -> apic %u, %s\n", i,
				      PCI_BUS((u16)hi), PCI_DEV((u16)hi), PCI_FN((u16)hi),
				      (u32)(lo >> VTD_IRTE_VECTOR_SHIFT) & 0xff, dst,
				      (lo & VTD_IRTE_TM_LEVEL) ? "level" : "edge");
		}
	}
}

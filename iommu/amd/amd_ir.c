// SPDX-License-Identifier: MIT
/*
 * AMD-Vi interrupt remapping (AMD IOMMU 3.08 2.2.5): a table per device id,
 * named by that id's device table entry (IV = 1, IntCtl = 10b, IntTabLen,
 * the root). A source's message carries only an index in the data's bits
 * 10:0, looked up in the table of the requester id it arrives with, so a
 * device's DMA write to 0xFEExxxxx reaches at most its own entries. Every
 * device id Keel gave no table keeps IV = 1 with IntCtl = 00b: its fixed and
 * arbitrated interrupts are target-aborted (IG clear: the unit may log the
 * refusal as an IO_PAGE_FAULT with I set), and with the pass bits clear so
 * are NMI, INIT, ExtInt and LINTn requests (the IVRS's DTE settings unused).
 *
 * An entry's index is its vector. Keel's host vectors are unique on the
 * machine and at least 32, so an index never collides with another source's
 * in a shared table, the message's delivery mode bits (data 10:8) stay 000b
 * (fixed), indices below 32 are never given out, and an I/O APIC pin's
 * redirection entry holds the real vector in its vector field (the index):
 * the local APIC's EOI broadcast, which names the vector, then finds the
 * pin's Remote IRR as without remapping.
 *
 * Entries are 32 bits (GAEn = 0) with 8-bit destinations, or with x2APIC
 * CPUs whose units have XTSup and GASup, 128 bits (GAEn = 1, GuestMode 0:
 * no virtual APIC) with 32-bit destinations (XTEn = 1, 2.2.5.2).
 */
#include <arch/x86/apic.h>
#include <arch/x86/apic_regs.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/monitor.h>
#include <keel/page_alloc.h>
#include <keel/pci.h>
#include "amd_regs.h"

#define AMD_IR_TABLES (IOMMU_MAX_DEVICES + 8) /* functions and I/O APICs */
#define FIRST_INDEX 32			      /* vectors 0-31 are exceptions: never an entry */

enum { FREE, USED, STUCK }; /* STUCK: freed, but its invalidation did not complete */

struct irt {
	struct amd_unit *u;
	u16 devid; /* the requester id whose device table entry names the table */
	u16 bdf;   /* the function (or I/O APIC) that asked for it first */
	bool ioapic;
	u8 ioapic_id;
	void *entries; /* a zeroed page: 256 entries of 4 or 16 bytes */
	u32 nr_used;
	u8 state[AMD_IRT_ENTRIES];
};

enum amd_ir_mode amd_ir_mode;
static struct irt tables[AMD_IR_TABLES];
static u32 nr_tables;

const char *amd_ir_decide(const struct acpi_info *ai, struct amd_unit *units, u32 n,
			  enum amd_ir_mode *mode)
{
	bool xt = true;
	u32 max_apic = 0;
	u16 devid;

	*mode = AMD_IR_OFF;
	for (u32 i = 0; i < ai->nr_cpus; i++)
		max_apic = MAX(max_apic, ai->cpus[i].apic_id);
	for (u32 i = 0; i < n; i++)
		xt = xt && (units[i].efr & AMD_EFR_XT) && (units[i].efr & AMD_EFR_GA);
	xt = xt && apic_x2apic();
	if (max_apic > 0xff && !xt)
		return "APIC ids above 255 need x2APIC-format entries (XTSup and GASup), which are "
		       "not there";
	for (u32 i = 0; i < ai->nr_ioapics; i++)
		if (!amd_ioapic_unit((u8)ai->ioapics[i].id, &devid))
			return "the IVRS gives an I/O APIC no device id";
	*mode = xt ? AMD_IR_XT : AMD_IR_32;
	return NULL;
}

u64 amd_ir_dte_unmapped(void)
{
	if (amd_ir_mode == AMD_IR_OFF)
		return 0; /* IV = 0: passed unmapped, as Keel's messages are then */
	return AMD_DTE_IV | AMD_DTE_INT_CTL_ABORT << AMD_DTE_INT_CTL_SHIFT;
}

u64 amd_ir_dte_remapped(hpa_t root)
{
	return AMD_DTE_IV | (u64)AMD_IRT_LEN << AMD_DTE_INT_TAB_LEN_SHIFT |
	       (root & AMD_DTE_INT_TAB_ROOT) | AMD_DTE_INT_CTL_REMAP << AMD_DTE_INT_CTL_SHIFT;
}

/* 2.2.5.1: fixed delivery (IntType 000b), physical destination, the IOMMU logs refusals. */
u32 amd_irte32(u8 vector, u32 apic_id)
{
	return AMD_IRTE_REMAP_EN | (apic_id & 0xff) << AMD_IRTE_DEST_SHIFT |
	       (u32)vector << AMD_IRTE_VECTOR_SHIFT;
}

/* 2.2.5.2 with GuestMode 0: destination[23:0] in bits 31:8, [31:24] in 127:120, vector 71:64. */
void amd_irte128(u64 e[2], u8 vector, u32 apic_id)
{
	e[0] = AMD_IRTE_REMAP_EN | (u64)(apic_id & 0xffffff) << AMD_IRTE_DEST_SHIFT;
	e[1] = vector | (u64)(apic_id >> 24) << AMD_IRTE_HI_DEST_SHIFT;
}

/* A 128-bit entry changes in one locked write (2.2.5.2: the unit may read it at any time). */
static void write128(u64 *e, u64 lo, u64 hi)
{
	u64 old_lo = e[0], old_hi = e[1];
	bool done;

	do {
		__asm__ volatile("lock cmpxchg16b %1"
				 : "=@ccz"(done), "+m"(*(volatile unsigned __int128 *)e),
				   "+a"(old_lo), "+d"(old_hi)
				 : "b"(lo), "c"(hi)
				 : "memory");
	} while (!done);
}

static void entry_write(struct irt *t, u32 idx, u8 vector, u32 apic_id)
{
	if (amd_ir_mode == AMD_IR_XT) {
		u64 e[2] = { 0, 0 };

		if (vector)
			amd_irte128(e, vector, apic_id);
		write128(&((u64 *)t->entries)[2 * idx], e[0], e[1]);
	} else {
		WRITE_ONCE(((u32 *)t->entries)[idx], vector ? amd_irte32(vector, apic_id) : 0);
	}
}

static bool entry_read(const struct irt *t, u32 idx, u8 *vector, u32 *apic_id)
{
	if (amd_ir_mode == AMD_IR_XT) {
		const u64 *e = &((const u64 *)t->entries)[2 * idx];

		*vector = (u8)e[1];
		*apic_id = (u32)(e[0] >> AMD_IRTE_DEST_SHIFT) & 0xffffff;
		*apic_id |= (u32)(e[1] >> AMD_IRTE_HI_DEST_SHIFT) << 24;
		return e[0] & AMD_IRTE_REMAP_EN;
	}
	u32 e = ((const u32 *)t->entries)[idx];

	*vector = (u8)(e >> AMD_IRTE_VECTOR_SHIFT);
	*apic_id = (e >> AMD_IRTE_DEST_SHIFT) & 0xff;
	return e & AMD_IRTE_REMAP_EN;
}

/* Points devid's device table entry at t (its interrupt quadword alone) and invalidates. */
static int dte_point(struct amd_unit *u, u16 devid, const struct irt *t)
{
	WRITE_ONCE(u->dev_table[AMD_DTE_WORDS * devid + 2],
		   amd_ir_dte_remapped(virt_to_phys(t->entries)));
	return amd_inv_dte_and_int_table(u, devid);
}

/* The table of the requester id irq's source sends with; made on first use. */
static struct irt *table_of(const struct iommu_irq *irq, int *err)
{
	u16 devid = irq->bdf;
	struct amd_unit *u = irq->ioapic ? amd_ioapic_unit(irq->ioapic_id, &devid) :
					   amd_unit_of(irq->seg, irq->bdf, &devid);
	struct irt *t;

	*err = -ENODEV;
	if (!u)
		return NULL;
	for (u32 i = 0; i < nr_tables; i++)
		if (tables[i].u == u && tables[i].devid == devid)
			return &tables[i];
	*err = -ENOSPC;
	if (nr_tables == AMD_IR_TABLES)
		return NULL;
	t = &tables[nr_tables];
	*t = (struct irt){ .u = u,
			   .devid = devid,
			   .bdf = irq->ioapic ? devid : irq->bdf,
			   .ioapic = irq->ioapic,
			   .ioapic_id = irq->ioapic_id };
	t->entries = page_alloc_zeroed(1); /* the rest of the page: entries that abort */
	*err = -ENOMEM;
	if (!t->entries)
		return NULL;
	nr_tables++;
	*err = dte_point(u, devid, t);
	/* a function whose requests carry an alias's id: its own entry names the table too */
	if (!*err && !irq->ioapic && devid != irq->bdf)
		*err = dte_point(u, irq->bdf, t);
	return *err ? NULL : t;
}

static struct irt *handle_table(u32 handle, u32 *idx)
{
	u32 slot = (handle - 1) / AMD_IRT_ENTRIES;

	*idx = (handle - 1) % AMD_IRT_ENTRIES;
	return handle && slot < nr_tables ? &tables[slot] : NULL;
}

int amd_ir_set(const struct iommu_irq *irq, u32 *handle, struct iommu_msi *msg)
{
	u32 idx = irq->vector, old_idx;
	struct irt *t, *old;
	int ret;

	if (idx < FIRST_INDEX)
		return -EINVAL;
	if (amd_ir_mode != AMD_IR_XT && irq->apic_id > 0xff)
		return -ERANGE; /* amd_ir_decide refused such machines; never truncated */
	t = table_of(irq, &ret);
	if (!t)
		return ret;
	old = *handle ? handle_table(*handle, &old_idx) : NULL;
	if (old && (old != t || old_idx != idx)) { /* another vector: another entry */
		amd_ir_free(*handle);
		*handle = 0;
		old = NULL;
	}
	if (!old) {
		if (t->state[idx] != FREE)
			return -EBUSY; /* another source's vector, or an entry still cached */
		t->state[idx] = USED;
		t->nr_used++;
	}
	entry_write(t, idx, irq->vector, irq->apic_id);
	*handle = (u32)(t - tables) * AMD_IRT_ENTRIES + idx + 1;
	/*
	 * 2.2.5: the index in data bits 10:0 with delivery mode 000b; the address
	 * only says "an interrupt" (QEMU 7.2 takes exactly 0xFEE00000). An I/O
	 * APIC's entry keeps its pin's trigger mode, which the IOMMU passes on.
	 */
	msg->addr = APIC_DEFAULT_BASE;
	msg->data = idx | (irq->ioapic && irq->level ? MSI_DATA_LEVEL : 0);
	return amd_inv_int_table(t->u, t->devid);
}

void amd_ir_free(u32 handle)
{
	u32 idx;
	struct irt *t = handle_table(handle, &idx);

	if (!t || t->state[idx] != USED)
		return;
	entry_write(t, idx, 0, 0); /* RemapEn 0: target-aborted */
	t->nr_used--;
	/* a cached copy may live on if the invalidation failed: the index stays out of use */
	t->state[idx] = amd_inv_int_table(t->u, t->devid) ? STUCK : FREE;
}

void amd_ir_report(void)
{
	u32 used = 0;

	if (amd_ir_mode == AMD_IR_OFF) {
		monitor_print("  interrupt remapping off: devices' interrupts are not confined\n");
		return;
	}
	for (u32 i = 0; i < nr_tables; i++)
		used += tables[i].nr_used;
	monitor_print("  interrupt remapping on: %u entries in %u device ids' tables of %u, %s "
		      "destinations, requester ids verified, other device ids' interrupts "
		      "aborted\n",
		      used, nr_tables, AMD_IRT_ENTRIES,
		      amd_ir_mode == AMD_IR_XT ? "32-bit" : "8-bit");
	for (u32 i = 0; i < nr_tables; i++) {
		const struct irt *t = &tables[i];

		for (u32 idx = 0; idx < AMD_IRT_ENTRIES; idx++) {
			u8 vector;
			u32 apic;

			if (!entry_read(t, idx, &vector, &apic))
				continue;
			monitor_print("    entry %u: %02x:%02x.%x", idx, PCI_BUS(t->bdf),
				      PCI_DEV(t->bdf), PCI_FN(t->bdf));
			if (t->ioapic)
				monitor_print(" (I/O APIC %u)", t->ioapic_id);
			else if (t->devid != t->bdf)
				monitor_print(" (as %02x:%02x.%x)", PCI_BUS(t->devid),
					      PCI_DEV(t->devid), PCI_FN(t->devid));
			monitor_print(" vector %#x -> apic %u\n", vector, apic);
		}
	}
}

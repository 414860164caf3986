// SPDX-License-Identifier: MIT
/*
 * VT-d's primary fault log (VT-d 4.1 7.2.1, 11.4.14): the fault recording
 * registers, read in the order the hardware fills them, each cleared once
 * read; an overflow is counted and cleared so recording goes on. DMA
 * requests' faults and interrupt requests' (remapping, 7.1.3) share it.
 * The unit announces faults with its fault event (7.3), an MSI Keel
 * programs: raised when a fault is recorded while none was pending (PPF
 * clear), so every record is read and cleared before the next one can
 * raise it again.
 */
#include "vtd_regs.h"

/* 7.1.3 table 7-1: the reasons of DMA remapping faults in legacy mode. */
static const char *const reasons[] = {
	[0x1] = "root entry not present",      [0x2] = "context entry not present",
	[0x3] = "context entry invalid",       [0x4] = "address beyond the address width",
	[0x5] = "write not allowed",	       [0x6] = "read not allowed",
	[0x7] = "paging entry unreadable",     [0x8] = "root table unreadable",
	[0x9] = "context table unreadable",    [0xa] = "root entry reserved bits",
	[0xb] = "context entry reserved bits", [0xc] = "paging entry reserved bits",
	[0xd] = "translation type blocked",
};

/* 7.1.3 table 7-2: the reasons of interrupt remapping faults (20h and up). */
static const char *const ir_reasons[] = {
	[0x0] = "reserved bits in the interrupt request",
	[0x1] = "index beyond the table",
	[0x2] = "entry not present",
	[0x3] = "table unreadable",
	[0x4] = "entry reserved bits",
	[0x5] = "compatibility-format interrupt blocked",
	[0x6] = "requester id not the entry's",
	[0x7] = "posted-interrupt descriptor unreadable",
	[0x8] = "posted-interrupt descriptor reserved bits",
};

static const char *why(u8 reason)
{
	u32 ir = reason - VTD_FR_IR_FIRST;

	if (reason < ARRAY_SIZE(reasons) && reasons[reason])
		return reasons[reason];
	if (reason >= VTD_FR_IR_FIRST && ir < ARRAY_SIZE(ir_reasons))
		return ir_reasons[ir];
	return "reason not known to Keel";
}

static u32 frcd(const struct vtd_unit *u, u32 i)
{
	return VTD_CAP_FRO(u->cap) + 16 * i;
}

/* Drops every recorded fault and the status bits (taking a unit over from the firmware). */
void vtd_fault_clear_all(struct vtd_unit *u)
{
	for (u32 i = 0; i < VTD_CAP_NFR(u->cap); i++)
		vtd_write32(u, frcd(u, i) + 12, (u32)(VTD_FRCD_F >> 32));
	vtd_write32(u, VTD_FSTS, VTD_FSTS_CLEAR);
	u->next_fault = 0;
}

bool vtd_fault_next(struct vtd_unit *u, struct iommu_fault *f)
{
	u32 fsts = vtd_read32(u, VTD_FSTS), i = u->next_fault;
	u64 hi;

	if (fsts & VTD_FSTS_PFO) { /* faults were lost: say so once, and let recording go on */
		*f = (struct iommu_fault){ .why = "fault log overflow, faults lost" };
		vtd_write32(u, VTD_FSTS, VTD_FSTS_PFO);
		return true;
	}
	if (!(fsts & VTD_FSTS_PPF))
		return false;
	/* the oldest record is at or after the last one read, in ring order */
	for (u32 n = 0;; n++, i = (i + 1) % VTD_CAP_NFR(u->cap)) {
		if (n == VTD_CAP_NFR(u->cap))
			return false;
		hi = vtd_read64(u, frcd(u, i) + 8);
		if (hi & VTD_FRCD_F)
			break;
	}
	*f = (struct iommu_fault){ .seg = u->acpi->segment, .bdf = VTD_FRCD_SID(hi) };
	f->reason = VTD_FRCD_FR(hi);
	f->why = why(f->reason);
	if (f->reason >= VTD_FR_IR_FIRST) { /* 11.4.14: FI[63:48] is the entry's index */
		f->interrupt = true;
		f->write = true; /* an interrupt is a write to 0xFEExxxxx */
		f->index = VTD_FRCD_IR_INDEX(vtd_read64(u, frcd(u, i)));
	} else {
		f->addr = vtd_read64(u, frcd(u, i)) & ~0xfffULL;
		f->write = !(hi & VTD_FRCD_T);
	}
	vtd_write32(u, frcd(u, i) + 12, (u32)(VTD_FRCD_F >> 32)); /* RW1C: the record is free */
	u->next_fault = (i + 1) % VTD_CAP_NFR(u->cap);
	u->faults++;
	return true;
}

/*
 * 7.3.1, 11.4.9.1-11.4.9.4: the fault event's message, then the mask
 * cleared; an event held while it was masked (IP) is sent then. The
 * unit's own message is never remapped (5.1.6): compatibility format.
 */
void vtd_fault_irq(struct vtd_unit *u, const struct iommu_msi *msg)
{
	if (!msg) {
		vtd_write32(u, VTD_FECTL, VTD_FECTL_IM);
		return;
	}
	vtd_write32(u, VTD_FECTL, VTD_FECTL_IM);
	vtd_write32(u, VTD_FEDATA, msg->data);
	vtd_write32(u, VTD_FEADDR, (u32)msg->addr);
	vtd_write32(u, VTD_FEUADDR, (u32)(msg->addr >> 32));
	vtd_write32(u, VTD_FECTL, 0);
}

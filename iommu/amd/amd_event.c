// SPDX-License-Identifier: MIT
/*
 * AMD-Vi's event log (AMD IOMMU 3.08 2.5): one page of 128-bit events the
 * unit writes at its tail; Keel reads from the head and moves it on. The
 * DMA events (I/O page faults, device table errors, requests the unit
 * refused) become faults for the generic layer; the others say what went
 * wrong with the unit itself and are logged here. An overflow stops the
 * log: it is said, and logging restarts with the log empty (2.5, 3.4).
 * The unit announces events with the MSI of its own PCI function
 * (EventIntEn, status EventLogInt), which Keel points at its fault vector.
 */
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/pci.h>
#include <lib/pci_regs.h>
#include "amd_regs.h"

#define LOG_BYTES (AMD_RING_ENTRIES * AMD_RING_ENTRY)

void amd_event_init(struct amd_unit *u)
{
	amd_write64(u, AMD_EVENT_LOG_BASE,
		    virt_to_phys(u->event_log) | AMD_RING_LEN_4K << AMD_RING_LEN_SHIFT);
	amd_write64(u, AMD_EVENT_LOG_HEAD, 0);
	amd_write64(u, AMD_EVENT_LOG_TAIL, 0);
}

/* 2.5.3: what an IO_PAGE_FAULT's flags say went wrong. */
static const char *page_fault_why(u32 flags)
{
	if (flags & AMD_PF_I)
		return "interrupt request refused";
	if (flags & AMD_PF_RZ)
		return "page table entry reserved bits";
	if (!(flags & AMD_PF_PR))
		return "not mapped";
	if (flags & AMD_PF_PE)
		return (flags & AMD_PF_RW) ? "write not allowed" : "read not allowed";
	return "I/O page fault";
}

static const char *const event_names[] = {
	[AMD_EVT_ILLEGAL_DEV_TABLE_ENTRY] = "illegal device table entry",
	[AMD_EVT_IO_PAGE_FAULT] = "I/O page fault",
	[AMD_EVT_DEV_TAB_HW_ERROR] = "device table unreadable",
	[AMD_EVT_PAGE_TAB_HW_ERROR] = "page table unreadable",
	[AMD_EVT_ILLEGAL_COMMAND] = "illegal command",
	[AMD_EVT_COMMAND_HW_ERROR] = "command buffer unreadable",
	[AMD_EVT_IOTLB_INV_TIMEOUT] = "device IOTLB invalidation timed out",
	[AMD_EVT_INVALID_DEVICE_REQUEST] = "invalid device request",
};

static const char *event_name(u8 code)
{
	return code < ARRAY_SIZE(event_names) && event_names[code] ? event_names[code] :
								     "event not known to Keel";
}

/* Events about a device's requests, in the generic layer's terms; false for the unit's own. */
static bool to_fault(const struct amd_unit *u, const u64 e[2], struct iommu_fault *f)
{
	u8 code = AMD_EVT_CODE(e[0]);

	if (code != AMD_EVT_IO_PAGE_FAULT && code != AMD_EVT_ILLEGAL_DEV_TABLE_ENTRY &&
	    code != AMD_EVT_DEV_TAB_HW_ERROR && code != AMD_EVT_PAGE_TAB_HW_ERROR &&
	    code != AMD_EVT_INVALID_DEVICE_REQUEST)
		return false;
	f->seg = u->acpi->segment;
	f->bdf = AMD_EVT_DEVID(e[0]);
	f->addr = e[1] & ~0xfffULL;
	f->write = code == AMD_EVT_IO_PAGE_FAULT && (AMD_EVT_FLAGS(e[0]) & AMD_PF_RW);
	f->reason = code;
	f->why = code == AMD_EVT_IO_PAGE_FAULT ? page_fault_why(AMD_EVT_FLAGS(e[0])) :
						 event_name(code);
	return true;
}

/* 3.4: logging stops at an overflow; off, the flag cleared, the log emptied, on again. */
static void restart(struct amd_unit *u)
{
	u64 ctrl = amd_read64(u, AMD_CONTROL);

	amd_write64(u, AMD_CONTROL, ctrl & ~AMD_CTRL_EVENT_LOG_EN);
	amd_write64(u, AMD_STATUS, AMD_STS_EVENT_OVERFLOW);
	amd_write64(u, AMD_EVENT_LOG_HEAD, 0);
	amd_write64(u, AMD_EVENT_LOG_TAIL, 0);
	amd_write64(u, AMD_CONTROL, ctrl | AMD_CTRL_EVENT_LOG_EN);
}

bool amd_event_next(struct amd_unit *u, struct iommu_fault *f)
{
	/* bounded: one log's worth of the unit's own events at a time */
	for (u32 n = 0; n < AMD_RING_ENTRIES; n++) {
		u64 head = (amd_read64(u, AMD_EVENT_LOG_HEAD) & AMD_RING_PTR_MASK) % LOG_BYTES;
		u64 tail = (amd_read64(u, AMD_EVENT_LOG_TAIL) & AMD_RING_PTR_MASK) % LOG_BYTES;
		u64 e[2];
		bool fault;

		if (head == tail) {
			if (!(amd_read64(u, AMD_STATUS) & AMD_STS_EVENT_OVERFLOW))
				return false;
			restart(u); /* everything logged was read: say the rest was lost */
			*f = (struct iommu_fault){ .why = "event log overflow, faults lost" };
			return true;
		}
		e[0] = READ_ONCE(u->event_log[head / 8]);
		e[1] = READ_ONCE(u->event_log[head / 8 + 1]);
		amd_write64(u, AMD_EVENT_LOG_HEAD, (head + AMD_RING_ENTRY) % LOG_BYTES);
		u->events++;
		fault = to_fault(u, e, f);
		if (fault) {
			u->faults++;
			return true;
		}
		pr_err("iommu: AMD-Vi unit at %#llx: %s (event %#llx %#llx)",
		       (unsigned long long)u->acpi->base, event_name(AMD_EVT_CODE(e[0])),
		       (unsigned long long)e[0], (unsigned long long)e[1]);
	}
	return false;
}

/*
 * 3.4 (Control EventIntEn, Status EventLogInt) and 3.2 (the IOMMU's PCI
 * function carries an MSI capability for its interrupts): the message in
 * the function's MSI registers, then the interrupt on. The unit's own
 * interrupts are not remapped by it: a compatibility-format message.
 * msg NULL turns it off. -ENODEV without an MSI capability; -ENOTSUP off
 * segment 0, whose config space Keel does not reach.
 */
int amd_event_irq(struct amd_unit *u, const struct iommu_msi *msg)
{
	u64 ctrl = amd_read64(u, AMD_CONTROL);
	u16 bdf = u->acpi->devid, mctl;
	u8 cap;

	if (!msg) {
		amd_write64(u, AMD_CONTROL, ctrl & ~AMD_CTRL_EVENT_INT_EN);
		return 0;
	}
	if (u->acpi->segment)
		return -ENOTSUP;
	cap = pci_find_cap(bdf, PCI_CAP_ID_MSI);
	if (!cap)
		return -ENODEV;
	mctl = (u16)pci_read(bdf, cap + PCI_MSI_CTRL, 2) &
	       ~(PCI_MSI_CTRL_ENABLE | PCI_MSI_CTRL_MME); /* one message */
	pci_write(bdf, cap + PCI_MSI_CTRL, 2, mctl);
	pci_write(bdf, cap + PCI_MSI_ADDR_LO, 4, (u32)msg->addr);
	if (mctl & PCI_MSI_CTRL_64BIT)
		pci_write(bdf, cap + PCI_MSI_ADDR_HI, 4, (u32)(msg->addr >> 32));
	pci_write(bdf, cap + ((mctl & PCI_MSI_CTRL_64BIT) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2,
		  msg->data);
	pci_write(bdf, cap + PCI_MSI_CTRL, 2, mctl | PCI_MSI_CTRL_ENABLE);
	amd_write64(u, AMD_STATUS, AMD_STS_EVENT_LOG_INT);
	amd_write64(u, AMD_CONTROL, ctrl | AMD_CTRL_EVENT_INT_EN);
	return 0;
}

/* Before the log is read: EventLogInt cleared (RW1C), so an event written after it raises the MSI again. */
void amd_event_ack(struct amd_unit *u)
{
	amd_write64(u, AMD_STATUS, AMD_STS_EVENT_LOG_INT);
}

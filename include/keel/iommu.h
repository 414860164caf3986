/* SPDX-License-Identifier: MIT */
/* The IOMMU behind one interface: DMA domains, PCI functions attached to them, faults. */
#ifndef KEEL_IOMMU_H
#define KEEL_IOMMU_H

#include <keel/acpi.h>
#include <keel/pagetable.h>

#define IOMMU_MAX_DOMAINS 64 /* one per VM (vm.h's MAX_VMS); AMD-Vi's take-over names each */
#define IOMMU_MAX_DEVICES 64 /* functions attached to any domain */

/*
 * A DMA address space. A PCI function in no domain is blocked (its requests
 * fault); Keel's own memory is mapped in none.
 */
struct iommu_domain {
	u16 id; /* the hardware's domain id: VT-d DID, AMD-Vi DomainID */
	char owner[16];
	struct page_table pt;
	u64 mapped; /* bytes */
	u64 faults;
};

/*
 * Finds the IOMMUs from ACPI (DMAR: VT-d, IVRS: AMD-Vi; never from the CPU
 * vendor), takes them over from the firmware and turns DMA remapping on with
 * every function blocked. Logs one line per unit; false if there is none
 * Keel can use (device DMA then goes where it likes).
 */
bool iommu_init(const struct acpi_info *ai);
bool iommu_active(void);
const char *iommu_name(void);

struct iommu_domain *iommu_domain_create(const char *owner);
/*
 * Unmaps all of d, invalidates what every unit cached under its id and
 * waits, then frees its tables and its id: no device reaches what it mapped
 * once it returns 0. -EBUSY while a function is in d. -EIO if the
 * invalidation failed: its tables and its id are then never reused, nor
 * should the memory it mapped be.
 */
int iommu_domain_destroy(struct iommu_domain *d);
/* Maps [iova, iova + size) to pa, PT_R/PT_W. Holds once it returns. */
int iommu_map(struct iommu_domain *d, u64 iova, hpa_t pa, u64 size, u32 perms);
/*
 * Unmaps; no device reaches the range once it returns 0 (invalidation
 * completed). -EIO if the hardware did not complete it: the table pages are
 * then never reused.
 */
int iommu_unmap(struct iommu_domain *d, u64 iova, u64 size);
/* Moves a function (segment, bus << 8 | devfn) into d, or out of any with d = NULL (blocked). */
int iommu_attach(struct iommu_domain *d, u16 seg, u16 bdf);
/*
 * Has every unit raise its fault events (VT-d's fault event, AMD-Vi's event
 * log interrupt) as a compatibility-format MSI to vector on apic_id; an
 * IOMMU's own messages are never remapped. Logs which: by interrupt, or
 * polled where a unit cannot raise one. The caller registers the vector's
 * handler, iommu_fault_irq.
 */
void iommu_fault_irq_init(u8 vector, u32 apic_id);
/* The fault interrupt's handler: only notes it; the boot CPU's housekeeping reads the faults. */
void iommu_fault_irq(void);
/*
 * From the boot CPU's housekeeping: reads and logs the faults an interrupt
 * announced (each once, rate-limited); on every call where they are polled.
 */
void iommu_poll_faults(void);

/*
 * Interrupt remapping. A source (a PCI function or an I/O APIC pin) gets an
 * entry in a table Keel owns, checked against the source's requester id, and
 * sends a message naming the entry; a device's DMA to 0xFEExxxxx can then
 * reach no other. Without remapping the message is in compatibility format.
 */
struct iommu_msi { /* what the source writes: an MSI, or an I/O APIC entry's bits (ioapic.c) */
	u64 addr;
	u32 data;
};

struct iommu_irq {
	u16 seg, bdf; /* a PCI function's requester id, unless ioapic */
	bool ioapic;  /* an I/O APIC's pin: the driver finds its requester id */
	u8 ioapic_id; /* (MADT) */
	u8 vector;    /* delivered, fixed mode, physical destination */
	u32 apic_id;
	bool level;
};

bool iommu_irq_remapping(void);
/*
 * The message irq's source sends. *handle (0: none yet) names its remapping
 * entry, rewritten in place on the next call and freed by iommu_irq_free;
 * -ENOSPC when the table is full, -ENODEV for an I/O APIC no unit names.
 */
int iommu_irq_compose(const struct iommu_irq *irq, u32 *handle, struct iommu_msi *msg);
/* Frees the entry once the source is masked (its invalidation completed). */
void iommu_irq_free(u32 *handle);

/* --- for the drivers (iommu/vtd/, iommu/amd/) --- */
struct iommu_fault {
	u16 seg, bdf;
	u64 addr;
	bool write;
	u8 reason;
	const char *why; /* the reason's name */
	bool interrupt;	 /* an interrupt request was refused: index, not addr */
	u16 index;
};

struct iommu_driver {
	const char *name;
	/* Takes over every unit the table lists; the number of units ready, or -errno. */
	int (*probe)(const struct acpi_info *ai);
	const struct pt_format *(*format)(void);
	/*
	 * The memory a function uses behind its driver's back (VT-d RMRR, AMD-Vi
	 * IVMD), which its domain maps at the same addresses; count, up to max.
	 */
	u32 (*reserved)(u16 seg, u16 bdf, struct acpi_range *out, u32 max);
	/* Points (seg, bdf) at d's tables, or blocks it (d NULL); completes the invalidation. */
	int (*attach)(struct iommu_domain *d, u16 seg, u16 bdf);
	/* Invalidates d's cached translations of the range and waits for it; -errno if it failed. */
	int (*flush)(struct iommu_domain *d, u64 iova, u64 size);
	/*
	 * d, with no function left in it, is going: everything the units cached
	 * under its id (translations, paging-structure entries) is invalidated
	 * and waited for, so the id may serve another domain.
	 */
	int (*destroy)(struct iommu_domain *d);
	/* The next fault recorded since the last call; false if none. */
	bool (*next_fault)(struct iommu_fault *f);
	void (*report)(void); /* the monitor's lines for the units */
	/*
	 * Fault events as the MSI msg (NULL: none), 0 if every unit raises them;
	 * fault_ack, before the faults are read, rearms the interrupt (optional).
	 */
	int (*fault_irq)(const struct iommu_msi *msg);
	void (*fault_ack)(void);
	/* Interrupt remapping (NULL: none): whether it is on; an entry written and invalidated; freed */
	bool (*irq_remapping)(void);
	int (*irq_set)(const struct iommu_irq *irq, u32 *handle, struct iommu_msi *msg);
	void (*irq_free)(u32 handle);
};

/*
 * For page-range invalidations: [iova, iova + size) as naturally aligned
 * blocks of 2^order pages (order <= max_order), what both vendors'
 * commands name. The number of blocks, or 0 where more than max would be
 * needed (or size is 0): then the whole domain is invalidated instead.
 */
#define IOMMU_INV_BLOCKS 8
struct iommu_inv_block {
	u64 addr;
	u32 order;
};
u32 iommu_inv_blocks(u64 iova, u64 size, u32 max_order, struct iommu_inv_block *out, u32 max);

extern const struct iommu_driver vtd_driver;
extern const struct iommu_driver amd_driver;
/* Writes CPU cache lines of [p, p + len) back to memory (CLFLUSH), for walkers that do not snoop. */
void iommu_cache_flush(const void *p, u64 len);

#endif

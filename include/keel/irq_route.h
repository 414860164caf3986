/* SPDX-License-Identifier: MIT */
/* Physical device interrupts delivered to vCPUs: host vectors, MSI remapping, INTx mirroring. */
#ifndef KEEL_IRQ_ROUTE_H
#define KEEL_IRQ_ROUTE_H

#include <keel/vcpu.h>

/* An interrupt source owned by a VM (an MSI, an MSI-X entry, an I/O APIC pin). */
struct irq_route {
	struct vcpu *vcpu; /* where the guest wants it */
	u8 guest_vector;
	u8 host_vector;			   /* 0: not allocated */
	u32 host_apic;			   /* the physical CPU it arrives on */
	u32 remap;			   /* its interrupt remapping entry (iommu.h); 0: none */
	void (*fire)(struct irq_route *r); /* NULL: raise guest_vector on vcpu */
	void *opaque;
	u64 count;
};

void irq_route_init(void);
/* Gives r a host vector arriving on the CPU vcpu is pinned to; -ENOSPC when none are left. */
int irq_route_bind(struct irq_route *r);
/*
 * Once r's source is masked or disabled: its remapping entry is freed (and
 * invalidated before any reuse), then its host vector.
 */
void irq_route_unbind(struct irq_route *r);
/*
 * The physical MSI address and data that PCI function bdf sends to deliver
 * r's host vector: through r's own interrupt remapping entry where remapping
 * is on. -errno (table full) leaves the source to be kept masked.
 */
int irq_route_msi(struct irq_route *r, u16 bdf, u64 *addr, u32 *data);
/* Decodes a guest's MSI address/data into r (target vCPU, vector); false if it is not deliverable. */
bool irq_route_from_msi(struct irq_route *r, struct vm *vm, u64 addr, u32 data);
/* Number of host vectors in use, for the monitor. */
u32 irq_route_count(void);

#endif

// SPDX-License-Identifier: MIT
/*
 * MSI-X of a VM's PCI functions (PCI 3.0 6.8.2). While the BAR holding the
 * vector table decodes (and so lies where the VM may have it: assign_bars.c),
 * the table's pages are claimed out of the VM's map; its accesses to table
 * entries are kept as the guest's view, and the device's real table gets
 * Keel's address/data for each unmasked entry. Anything else in those pages
 * goes to the device unchanged. While it does not decode, Keel writes
 * nothing there: the address is not known to be the device's.
 */
#include <arch/x86/paging.h>
#include <keel/log.h>
#include <keel/service_vm.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/assign.h>
#include <lib/string.h>
#include <keel/vm.h>

/* Where the table is now: 0 unless its BAR decodes and holds it whole. */
static u64 table_start(const struct assigned_dev *d)
{
	const struct pci_span *b = &d->decoded[d->table_bir];
	u64 t = b->base + d->table_off;

	if (b->end <= b->base || t + (u64)d->msix_n * PCI_MSIX_ENTRY_SIZE > b->end)
		return 0;
	return t;
}

static volatile u32 *phys_entry(struct assigned_dev *d, u32 i)
{
	return phys_to_virt(table_start(d) + (u64)i * PCI_MSIX_ENTRY_SIZE);
}

/* Writes entry i to the device: Keel's vector while the guest's entry is deliverable, else masked. */
static void program(struct assigned_dev *d, u32 i)
{
	struct msix_entry *e = &d->table[i];
	struct irq_route *r = &d->msix_routes[i];
	volatile u32 *p = phys_entry(d, i);
	u64 addr = ((u64)e->addr_hi << 32) | e->addr_lo, host_addr;
	u32 host_data;
	bool ok = !(e->ctrl & PCI_MSIX_ENTRY_MASKED) &&
		  irq_route_from_msi(r, d->vm, addr, e->data) && !irq_route_bind(r);

	if (!d->trap->size)
		return; /* the table is not where the BAR decodes: programmed once it is */
	p[3] = PCI_MSIX_ENTRY_MASKED; /* mask while changing (PCI 3.0 6.8.2.9) */
	if (!ok || irq_route_msi(r, d->f->bdf, &host_addr, &host_data)) {
		irq_route_unbind(r); /* masked: its vector and remapping entry are free again */
		return;
	}
	p[0] = (u32)host_addr;
	p[1] = (u32)(host_addr >> 32);
	p[2] = host_data;
	p[3] = 0;
}

static u64 forward(u64 pa, u8 size, u64 val, bool write)
{
	volatile void *p = phys_to_virt(pa);

	if (write) {
		if (size == 1)
			*(volatile u8 *)p = (u8)val;
		else if (size == 2)
			*(volatile u16 *)p = (u16)val;
		else if (size == 4)
			*(volatile u32 *)p = (u32)val;
		else
			*(volatile u64 *)p = val;
		return 0;
	}
	return size == 1 ? *(volatile u8 *)p :
	       size == 2 ? *(volatile u16 *)p :
	       size == 4 ? *(volatile u32 *)p :
			   *(volatile u64 *)p;
}

static int trap_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	struct assigned_dev *d = opaque;
	u64 pa = d->trap->base + off, t = table_start(d);

	(void)v;
	if (pa >= t && pa + size <= t + (u64)d->msix_n * PCI_MSIX_ENTRY_SIZE) {
		*val = 0;
		memcpy(val, (u8 *)d->table + (pa - t), size);
		return 0;
	}
	*val = forward(pa, size, 0, false);
	return 0;
}

static int trap_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	struct assigned_dev *d = opaque;
	u64 pa = d->trap->base + off, t = table_start(d);

	(void)v;
	if (pa >= t && pa + size <= t + (u64)d->msix_n * PCI_MSIX_ENTRY_SIZE) {
		memcpy((u8 *)d->table + (pa - t), &val, size);
		for (u64 i = (pa - t) / PCI_MSIX_ENTRY_SIZE;
		     i <= (pa - t + size - 1) / PCI_MSIX_ENTRY_SIZE; i++)
			program(d, (u32)i);
		return 0;
	}
	forward(pa, size, val, true);
	return 0;
}

void assign_msix_update_trap(struct assigned_dev *d)
{
	u64 t = d->f->msix_cap ? table_start(d) : 0;
	u64 base = ALIGN_DOWN(t, PAGE_SIZE);
	u64 size = t ? ALIGN_UP(t + (u64)d->msix_n * PCI_MSIX_ENTRY_SIZE, PAGE_SIZE) - base : 0;

	if (!d->f->msix_cap || (d->trap->base == base && d->trap->size == size))
		return;
	if (d->trap->size)
		service_map_unclaim(d->trap->base, d->trap->size); /* back to what the BAR maps */
	d->trap->size = 0;
	d->trap->base = base;
	if (!size || paging_map_io(base, size))
		return;
	service_map_claim(base, size);
	d->trap->size = size;
	for (u32 i = 0; i < d->msix_n; i++) /* the device's table, for where it is now */
		program(d, i);
}

void assign_msix_ctrl_written(struct assigned_dev *d)
{
	for (u32 i = 0; i < d->msix_n; i++)
		if (!(d->table[i].ctrl & PCI_MSIX_ENTRY_MASKED))
			program(d, i);
}

int assign_msix_init(struct assigned_dev *d)
{
	u16 bdf = d->f->bdf;
	u8 cap = d->f->msix_cap;
	u32 tbl = pci_read(bdf, cap + PCI_MSIX_TABLE, 4);
	struct mmio_handler h = { 0, 0, trap_read, trap_write, d, "MSI-X table" };

	d->msix_n = MIN((pci_read(bdf, cap + PCI_MSIX_CTRL, 2) & PCI_MSIX_CTRL_SIZE) + 1,
			MSIX_MAX_ENTRIES);
	d->table_bir = tbl & 7;
	d->table_off = tbl & ~7u;
	d->table =
		page_alloc_zeroed(ALIGN_UP(d->msix_n * sizeof(*d->table), PAGE_SIZE) / PAGE_SIZE);
	d->msix_routes = page_alloc_zeroed(
		ALIGN_UP(d->msix_n * sizeof(*d->msix_routes), PAGE_SIZE) / PAGE_SIZE);
	if (!d->table || !d->msix_routes)
		return -ENOMEM;
	for (u32 i = 0; i < d->msix_n; i++)
		d->table[i].ctrl = PCI_MSIX_ENTRY_MASKED; /* reset state (PCI 3.0 6.8.2.9) */
	d->trap = vm_register_mmio(d->vm, &h);
	if (!d->trap)
		return -ENOSPC;
	assign_msix_update_trap(d);
	return 0;
}

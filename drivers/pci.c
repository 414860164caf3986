// SPDX-License-Identifier: MIT
/*
 * PCI configuration access through ECAM (the MCFG table, PCIe 5.0 7.2.2) or
 * the legacy 0xCF8/0xCFC mechanism (PCI Local Bus 3.0 3.2.2.3.2), and a
 * scan of every bus the firmware configured.
 */
#include <arch/x86/cpu.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/pci.h>
#include <keel/spinlock.h>

#define MULTI_FUNCTION 0x80
#define CAP_WALK_MAX 48

struct pci_func pci_funcs[PCI_MAX_FUNCS];
u32 pci_nr_funcs;
static u64 ecam;
static u8 bus_start, bus_end;
static struct spinlock cf8_lock = SPINLOCK_INIT;

u64 pci_ecam_base(void)
{
	return ecam;
}

u8 pci_ecam_bus_start(void)
{
	return bus_start;
}

u64 pci_ecam_size(void)
{
	return ecam ? (u64)(bus_end - bus_start + 1) << 20 : 0;
}

static volatile void *ecam_ptr(u16 bdf, u32 off)
{
	return (volatile u8 *)phys_to_virt(ecam) +
	       (((u64)(PCI_BUS(bdf) - bus_start) << 20) | ((u64)(bdf & 0xff) << 12) | off);
}

u32 pci_read(u16 bdf, u32 off, u32 size)
{
	u32 v;
	u64 flags;

	if (ecam && PCI_BUS(bdf) >= bus_start && PCI_BUS(bdf) <= bus_end) {
		volatile void *p = ecam_ptr(bdf, off);

		return size == 1 ? *(volatile u8 *)p :
		       size == 2 ? *(volatile u16 *)p :
				   *(volatile u32 *)p;
	}
	if (off >= 256)
		return 0xffffffff;
	flags = spin_lock_irqsave(&cf8_lock);
	outl(PCI_CONF1_ADDR, PCI_CONF1_ENABLE | (u32)bdf << 8 | (off & 0xfc));
	v = size == 1 ? inb(PCI_CONF1_DATA + (off & 3)) :
	    size == 2 ? inw(PCI_CONF1_DATA + (off & 2)) :
			inl(PCI_CONF1_DATA);
	spin_unlock_irqrestore(&cf8_lock, flags);
	return v;
}

void pci_write(u16 bdf, u32 off, u32 size, u32 val)
{
	u64 flags;

	if (ecam && PCI_BUS(bdf) >= bus_start && PCI_BUS(bdf) <= bus_end) {
		volatile void *p = ecam_ptr(bdf, off);

		if (size == 1)
			*(volatile u8 *)p = (u8)val;
		else if (size == 2)
			*(volatile u16 *)p = (u16)val;
		else
			*(volatile u32 *)p = val;
		return;
	}
	if (off >= 256)
		return;
	flags = spin_lock_irqsave(&cf8_lock);
	outl(PCI_CONF1_ADDR, PCI_CONF1_ENABLE | (u32)bdf << 8 | (off & 0xfc));
	if (size == 1)
		outb(PCI_CONF1_DATA + (off & 3), (u8)val);
	else if (size == 2)
		outw(PCI_CONF1_DATA + (off & 2), (u16)val);
	else
		outl(PCI_CONF1_DATA, val);
	spin_unlock_irqrestore(&cf8_lock, flags);
}

u8 pci_find_cap(u16 bdf, u8 id)
{
	u8 off;

	if (!(pci_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	off = (u8)pci_read(bdf, PCI_CAP_PTR, 1) & 0xfc;
	for (int n = 0; off && n < CAP_WALK_MAX; n++) { /* bounded: a broken list cannot loop */
		if ((u8)pci_read(bdf, off, 1) == id)
			return off;
		off = (u8)pci_read(bdf, off + 1, 1) & 0xfc;
	}
	return 0;
}

struct pci_func *pci_find(u16 bdf)
{
	for (u32 i = 0; i < pci_nr_funcs; i++)
		if (pci_funcs[i].bdf == bdf)
			return &pci_funcs[i];
	return NULL;
}

static void add(u16 bdf)
{
	struct pci_func *f;
	u32 id = pci_read(bdf, PCI_VENDOR_ID, 4);

	if (pci_nr_funcs >= PCI_MAX_FUNCS)
		return;
	f = &pci_funcs[pci_nr_funcs++];
	f->bdf = bdf;
	f->vendor = (u16)id;
	f->device = (u16)(id >> 16);
	f->class_rev = pci_read(bdf, PCI_CLASS_REV, 4);
	f->header_type = (u8)pci_read(bdf, PCI_HEADER_TYPE, 1);
	f->msi_cap = pci_find_cap(bdf, PCI_CAP_ID_MSI);
	f->msix_cap = pci_find_cap(bdf, PCI_CAP_ID_MSIX);
	f->owner = "service";
	pci_probe_bars(f);
	if ((f->class_rev >> 8) == PCI_CLASS_IOMMU) { /* AMD-Vi is a PCI function: Keel keeps it */
		f->hidden = true;
		f->owner = "keel";
	}
}

static void scan_bus(u32 bus)
{
	for (u32 dev = 0; dev < 32; dev++) {
		for (u32 fn = 0; fn < 8; fn++) {
			u16 bdf = PCI_BDF(bus, dev, fn);

			if ((u16)pci_read(bdf, PCI_VENDOR_ID, 2) == 0xffff) {
				if (fn == 0)
					break;
				continue;
			}
			add(bdf);
			if (fn == 0 && !(pci_read(bdf, PCI_HEADER_TYPE, 1) & MULTI_FUNCTION))
				break;
		}
	}
}

void pci_init(const struct acpi_info *ai)
{
	u32 last = 255;

	ecam = ai->mcfg_base;
	bus_start = ai->mcfg_bus_start;
	bus_end = ai->mcfg_bus_end;
	if (ecam)
		last = bus_end;
	/* every bus number the firmware may have given a bridge: buses are few, empty ones cost 32 reads */
	for (u32 bus = ecam ? bus_start : 0; bus <= last; bus++)
		scan_bus(bus);
	pr_info("pci: %u functions%s", pci_nr_funcs, ecam ? " (ECAM)" : " (port 0xCF8)");
}

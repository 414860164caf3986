/* SPDX-License-Identifier: MIT */
/* The machine's PCI functions as Keel sees them: config access, enumeration, capabilities. */
#ifndef KEEL_PCI_H
#define KEEL_PCI_H

#include <keel/acpi.h>

#define PCI_MAX_FUNCS 256
#define PCI_BDF(bus, dev, fn) ((u16)((bus) << 8 | (dev) << 3 | (fn)))
#define PCI_BUS(bdf) ((bdf) >> 8)
#define PCI_DEV(bdf) (((bdf) >> 3) & 0x1f)
#define PCI_FN(bdf) ((bdf)&7)

/* Config space registers (PCI Local Bus 3.0 6.2, PCIe 5.0 7.5.1). */
#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CMD_IO BIT(0)
#define PCI_CMD_MEMORY BIT(1)
#define PCI_CMD_MASTER BIT(2)
#define PCI_CMD_INTX_DISABLE BIT(10)
#define PCI_STATUS_INTERRUPT BIT(3)
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CLASS_IOMMU 0x080600 /* base 08 (system peripheral), sub 06 (IOMMU) */

struct pci_func {
	u16 bdf;
	u16 vendor, device;
	u32 class_rev;
	u8 header_type;
	u8 msi_cap, msix_cap; /* config offsets, 0 if none */
	bool hidden;	      /* not the service VM's: reserved in keel.cfg, or Keel's own */
	const char *owner;    /* "service", "keel", or a VM name */
};

extern struct pci_func pci_funcs[PCI_MAX_FUNCS];
extern u32 pci_nr_funcs;

void pci_init(const struct acpi_info *ai);
u32 pci_read(u16 bdf, u32 off, u32 size);
void pci_write(u16 bdf, u32 off, u32 size, u32 val);
struct pci_func *pci_find(u16 bdf);
u8 pci_find_cap(u16 bdf, u8 id);
/* The ECAM window, for trapping the service VM's accesses: base 0 if none. */
u64 pci_ecam_base(void);
u64 pci_ecam_size(void);
u8 pci_ecam_bus_start(void);

#endif

/* SPDX-License-Identifier: MIT */
/* The machine's PCI functions as Keel sees them: config access, enumeration, capabilities. */
#ifndef KEEL_PCI_H
#define KEEL_PCI_H

#include <keel/acpi.h>
#include <lib/pci_regs.h>

#define PCI_MAX_FUNCS 256
#define PCI_BDF(bus, dev, fn) ((u16)((bus) << 8 | (dev) << 3 | (fn)))
#define PCI_BUS(bdf) ((bdf) >> 8)
#define PCI_DEV(bdf) (((bdf) >> 3) & 0x1f)
#define PCI_FN(bdf) ((bdf)&7)

#define PCI_CLASS_IOMMU 0x080600 /* base 08 (system peripheral), sub 06 (IOMMU) */

#define PCI_NR_BARS 6
#define PCI_FN_SPANS 7 /* a function's six BARs and its expansion ROM */
#define PCI_ROM_SPAN 6

struct pci_bar_info {
	u64 size; /* 0: not implemented */
	bool io, mem64;
};

/* A physical address range [base, end). */
struct pci_span {
	u64 base, end;
};

struct pci_func {
	u16 bdf;
	u16 vendor, device;
	u32 class_rev;
	u8 header_type;
	u8 msi_cap, msix_cap; /* config offsets, 0 if none */
	bool hidden;	      /* not the service VM's: reserved in keel.cfg, or Keel's own */
	const char *owner;    /* "service", "keel", or a VM name */
	u8 nr_bars;	      /* 6 (type 0), 2 (bridges) */
	struct pci_bar_info bar[PCI_NR_BARS];
	u64 rom_size;
};

extern struct pci_func pci_funcs[PCI_MAX_FUNCS];
extern u32 pci_nr_funcs;

void pci_init(const struct acpi_info *ai);
u32 pci_read(u16 bdf, u32 off, u32 size);
void pci_write(u16 bdf, u32 off, u32 size, u32 val);
struct pci_func *pci_find(u16 bdf);
u8 pci_find_cap(u16 bdf, u8 id);
/* drivers/pci_bars.c: sizes probed at boot (decoding off), placements read when asked */
void pci_probe_bars(struct pci_func *f);
u64 pci_bar_addr(const struct pci_func *f, u32 bar);
/* Memory BARs and the enabled ROM as programmed (out[PCI_FN_SPANS], empty where none); count. */
u32 pci_mem_spans(const struct pci_func *f, struct pci_span *out);
/* A bridge's memory and prefetchable windows (out[2]); count. */
u32 pci_bridge_windows(const struct pci_func *f, struct pci_span *out);
/* The ECAM window, for trapping the service VM's accesses: base 0 if none. */
u64 pci_ecam_base(void);
u64 pci_ecam_size(void);
u8 pci_ecam_bus_start(void);

#endif

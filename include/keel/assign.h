/* SPDX-License-Identifier: MIT */
/* Host PCI functions owned by a VM (today the service VM): virtual config space, MSI/MSI-X, BAR guards. */
#ifndef KEEL_ASSIGN_H
#define KEEL_ASSIGN_H

#include <keel/boot_info.h>
#include <keel/irq_route.h>
#include <keel/pci.h>

struct vm;

#define MSIX_MAX_ENTRIES 2048

struct msix_entry {
	u32 addr_lo, addr_hi, data, ctrl; /* the guest's view (PCI 3.0 6.8.2.6) */
};

struct assigned_dev {
	struct pci_func *f;
	u32 idx; /* in pci_funcs */
	struct vm *vm;
	/* the memory it decodes, checked and mapped for its VM (empty spans: none) */
	struct pci_span decoded[PCI_FN_SPANS];
	u64 refused; /* the placement last refused (logged once) */
	/* MSI (PCI 3.0 6.8.1) */
	u16 msi_ctrl;
	u32 msi_addr_lo, msi_addr_hi;
	u16 msi_data;
	struct irq_route msi;
	/* MSI-X */
	u32 msix_n;
	u8 table_bir;
	u32 table_off;
	struct msix_entry *table;
	struct irq_route *msix_routes;
	struct mmio_handler *trap; /* the table's pages while its BAR decodes (size 0: not) */
	/* assign_guard.c: a bridge's bus numbers at boot; capability offsets (0: none) */
	u8 boot_bus[3]; /* primary, secondary, subordinate */
	u8 exp_cap;
	u16 ats_cap, pri_cap, pasid_cap;
	u16 guard_logged; /* the refused registers already logged */
};

/* Takes every function keel.cfg does not reserve (and Keel does not keep) for the service VM. */
int assign_init(struct vm *vm, const struct boot_info *bi);
/* Config space as the service VM sees it. */
u32 assign_cfg_read(u16 bdf, u32 off, u32 size);
void assign_cfg_write(u16 bdf, u32 off, u32 size, u32 val);
/* vmm/pci/assign_bars.c: what a function decodes, where its VM may have it */
/* Whether a config write at [off, off + size) can change what the function decodes. */
bool assign_bars_touched(const struct assigned_dev *d, u32 off, u32 size);
/* Carries out such a write with decoding off meanwhile; decoding comes back only where allowed. */
void assign_bars_write(struct assigned_dev *d, u32 off, u32 size, u32 val);
/* Maps what the function decodes now (after a check) into its VM, or nothing. */
void assign_bars_update(struct assigned_dev *d);
/* A function its VM does not own: its BARs and ports are never that VM's. */
void assign_bars_deny(struct vm *vm, u32 idx);
/* vmm/pci/assign_msix.c */
int assign_msix_init(struct assigned_dev *d);
void assign_msix_update_trap(struct assigned_dev *d);
void assign_msix_ctrl_written(struct assigned_dev *d);
/* vmm/pci/assign_guard.c: bus numbers, windows above others' functions, ATS/PRI/PASID */
void assign_guard_init(struct assigned_dev *d);
/* The value to write instead of `val`: the refused bits keep theirs (logged once). */
u32 assign_guard_write(struct assigned_dev *d, u32 off, u32 size, u32 val);
/* The value the VM reads: ATS, PRI and PASID enables clear. */
u32 assign_guard_read(const struct assigned_dev *d, u32 off, u32 size, u32 val);
/* vmm/pci/cfg_trap.c: the port and ECAM traps */
int cfg_trap_init(struct vm *vm);

#endif

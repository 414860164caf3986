// SPDX-License-Identifier: MIT
/*
 * Config space of the functions the service VM drives. Reads and writes go
 * to the device, except: functions it does not own read as absent; the MSI
 * capability is virtual (Keel programs the device with its own vector and
 * forwards each interrupt to the vCPU the guest chose); what can move the
 * memory it decodes goes through assign_bars.c; what it may not change at
 * all (bus numbers, bridge windows above others' functions, ATS/PRI/PASID)
 * is held back by assign_guard.c.
 */
#include <keel/control.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/assign.h>
#include <keel/vm.h>

static struct assigned_dev devs[PCI_MAX_FUNCS];

static struct assigned_dev *dev_of(u16 bdf)
{
	struct pci_func *f = pci_find(bdf);

	return f && !f->hidden ? &devs[f - pci_funcs] : NULL;
}

/* --- MSI --- */

static bool msi_64(const struct assigned_dev *d)
{
	return d->msi_ctrl & PCI_MSI_CTRL_64BIT;
}

static void msi_program(struct assigned_dev *d)
{
	u16 bdf = d->f->bdf;
	u8 cap = d->f->msi_cap;
	u64 addr = ((u64)d->msi_addr_hi << 32) | d->msi_addr_lo, host_addr;
	u32 host_data;
	bool on = (d->msi_ctrl & PCI_MSI_CTRL_ENABLE) &&
		  irq_route_from_msi(&d->msi, d->vm, addr, d->msi_data) &&
		  !irq_route_bind(&d->msi) && !irq_route_msi(&d->msi, bdf, &host_addr, &host_data);
	u16 ctrl = (u16)pci_read(bdf, cap + PCI_MSI_CTRL, 2) &
		   ~(PCI_MSI_CTRL_ENABLE | PCI_MSI_CTRL_MME);

	if (!on) {
		pci_write(bdf, cap + PCI_MSI_CTRL, 2, ctrl);
		irq_route_unbind(&d->msi); /* off: its vector and remapping entry are free again */
		return;
	}
	pci_write(bdf, cap + PCI_MSI_ADDR_LO, 4, (u32)host_addr);
	if (msi_64(d))
		pci_write(bdf, cap + PCI_MSI_ADDR_HI, 4, (u32)(host_addr >> 32));
	pci_write(bdf, cap + (msi_64(d) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, host_data);
	pci_write(bdf, cap + PCI_MSI_CTRL, 2, ctrl | PCI_MSI_CTRL_ENABLE);
}

/* The MSI registers as the guest wrote them; one message only (MMC = 0). */
static bool msi_access(struct assigned_dev *d, u32 off, u32 size, u32 *val, bool write)
{
	bool is64 = msi_64(d);
	u32 rel = off - d->f->msi_cap, data_off = is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
	u32 regs[4];
	u8 *b = (u8 *)regs;

	if (!d->f->msi_cap || off < d->f->msi_cap || rel + size > data_off + 2)
		return false;
	regs[0] = (pci_read(d->f->bdf, d->f->msi_cap, 2) & 0xffff) |
		  (u32)(d->msi_ctrl & ~(PCI_MSI_CTRL_MMC | PCI_MSI_CTRL_MME)) << 16;
	regs[1] = d->msi_addr_lo;
	regs[2] = is64 ? d->msi_addr_hi : d->msi_data;
	regs[3] = d->msi_data;
	if (!write) {
		*val = 0;
		for (u32 i = 0; i < size; i++)
			*val |= (u32)b[rel + i] << (8 * i);
		return true;
	}
	for (u32 i = 0; i < size; i++)
		b[rel + i] = (u8)(*val >> (8 * i));
	/* only Enable is the guest's to change in the control word */
	d->msi_ctrl = (u16)((d->msi_ctrl & ~PCI_MSI_CTRL_ENABLE) |
			    ((regs[0] >> 16) & PCI_MSI_CTRL_ENABLE));
	d->msi_addr_lo = regs[1] & ~3u;
	d->msi_addr_hi = is64 ? regs[2] : 0;
	d->msi_data = (u16)(is64 ? regs[3] : regs[2]);
	msi_program(d);
	return true;
}

u32 assign_cfg_read(u16 bdf, u32 off, u32 size)
{
	struct assigned_dev *d = dev_of(bdf);
	u32 val;

	if (control_cfg_read(bdf, off, size, &val))
		return val;
	if (!d)
		return size == 4 ? 0xffffffff : (1u << (size * 8)) - 1; /* absent */
	if (msi_access(d, off, size, &val, false))
		return val;
	return assign_guard_read(d, off, size, pci_read(bdf, off, size));
}

void assign_cfg_write(u16 bdf, u32 off, u32 size, u32 val)
{
	struct assigned_dev *d = dev_of(bdf);
	u32 msix_ctrl;

	if (control_cfg_write(bdf, off, size, val))
		return;
	if (!d)
		return;
	val = assign_guard_write(d, off, size, val);
	if (msi_access(d, off, size, &val, true))
		return;
	if (assign_bars_touched(d, off, size))
		assign_bars_write(d, off, size, val);
	else
		pci_write(bdf, off, size, val);
	msix_ctrl = d->f->msix_cap + PCI_MSIX_CTRL;
	if (d->f->msix_cap && off <= msix_ctrl && off + size > msix_ctrl)
		assign_msix_ctrl_written(d);
}

static bool reserved(const struct boot_info *bi, u16 bdf)
{
	for (u32 i = 0; i < bi->config.nr_pci_reserved; i++)
		if (bi->config.pci_reserved[i] == bdf)
			return true;
	return false;
}

int assign_init(struct vm *vm, const struct boot_info *bi)
{
	for (u32 i = 0; i < pci_nr_funcs; i++) {
		struct pci_func *f = &pci_funcs[i];
		struct assigned_dev *d = &devs[i];

		if (reserved(bi, f->bdf)) {
			f->hidden = true;
			f->owner = "reserved";
		}
		if (f->hidden) {
			assign_bars_deny(vm, i);
			continue;
		}
		d->f = f;
		d->idx = i;
		d->vm = vm;
		assign_guard_init(d);
		if (f->msi_cap)
			d->msi_ctrl = (u16)pci_read(f->bdf, f->msi_cap + PCI_MSI_CTRL, 2) &
				      PCI_MSI_CTRL_64BIT;
		if (f->msix_cap && assign_msix_init(d))
			return -ENOMEM;
	}
	for (u32 i = 0; i < pci_nr_funcs; i++) /* once every foreign BAR is known */
		if (devs[i].f)
			assign_bars_update(&devs[i]);
	return cfg_trap_init(vm);
}

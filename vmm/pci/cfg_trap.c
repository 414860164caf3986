// SPDX-License-Identifier: MIT
/*
 * The service VM's two ways into PCI configuration space, both trapped and
 * sent through assign_cfg_read/write: the 0xCF8 address latch with the
 * 0xCFC-0xCFF data window (PCI Local Bus 3.0 3.2.2.3.2; byte accesses to
 * 0xCF9, the reset control register, still reach the chipset), and the ECAM
 * window (PCIe 5.0 7.2.2), which its memory map leaves out.
 */
#include <arch/x86/cpu.h>
#include <keel/assign.h>
#include <keel/vm.h>

static u32 latch; /* the service VM's 0xCF8; Keel itself uses ECAM or its own lock */

static int addr_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	(void)v, (void)opaque;
	if (port == PCI_CONF1_ADDR && size == 4)
		*val = latch;
	else
		*val = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
	return 0;
}

static int addr_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)v, (void)opaque;
	if (port == PCI_CONF1_ADDR && size == 4)
		latch = val;
	else if (size == 1)
		outb(port, (u8)val); /* 0xCF9: reset control */
	else if (size == 2)
		outw(port, (u16)val);
	return 0;
}

static int data_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	(void)v, (void)opaque;
	*val = (latch & PCI_CONF1_ENABLE) ?
		       assign_cfg_read((u16)(latch >> 8), (latch & 0xfc) + (port - PCI_CONF1_DATA),
				       size) :
		       0xffffffff;
	return 0;
}

static int data_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)v, (void)opaque;
	if (latch & PCI_CONF1_ENABLE)
		assign_cfg_write((u16)(latch >> 8), (latch & 0xfc) + (port - PCI_CONF1_DATA), size,
				 val);
	return 0;
}

/* ECAM offset -> bus/device/function: bus numbers start at the MCFG's first bus. */
static u16 ecam_bdf(u64 off)
{
	return (u16)((off >> 12) + ((u32)pci_ecam_bus_start() << 8));
}

static int ecam_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	(void)v, (void)opaque;
	if (size == 8) { /* split: config space has no 64-bit registers */
		*val = assign_cfg_read(ecam_bdf(off), off & 0xfff, 4) |
		       (u64)assign_cfg_read(ecam_bdf(off), (off & 0xfff) + 4, 4) << 32;
		return 0;
	}
	*val = assign_cfg_read(ecam_bdf(off), off & 0xfff, size);
	return 0;
}

static int ecam_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	(void)v, (void)opaque;
	if (size == 8) {
		assign_cfg_write(ecam_bdf(off), off & 0xfff, 4, (u32)val);
		assign_cfg_write(ecam_bdf(off), (off & 0xfff) + 4, 4, (u32)(val >> 32));
		return 0;
	}
	assign_cfg_write(ecam_bdf(off), off & 0xfff, size, (u32)val);
	return 0;
}

int cfg_trap_init(struct vm *vm)
{
	struct io_handler a = {
		PCI_CONF1_ADDR, 4, addr_read, addr_write, NULL, "PCI config address"
	};
	struct io_handler d = { PCI_CONF1_DATA, 4, data_read, data_write, NULL, "PCI config data" };
	struct mmio_handler e = { pci_ecam_base(), pci_ecam_size(), ecam_read, ecam_write, NULL,
				  "PCI ECAM" };

	if (vm_register_io(vm, &a) || vm_register_io(vm, &d))
		return -ENOSPC;
	for (u16 p = PCI_CONF1_ADDR; p < PCI_CONF1_DATA + 4; p++)
		vcpu_ops->intercept_io(vm, p, true);
	if (!e.base)
		return 0;
	return vm_register_mmio(vm, &e) ? 0 : -ENOSPC; /* never mapped: service_map.c denies it */
}

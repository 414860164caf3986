// SPDX-License-Identifier: MIT
/*
 * A guest's PCI bus 0: configuration space through ECAM (PCIe 5.0 7.2.2; a
 * 1 MiB window, or 256 MiB for firmware, whose buses 1-255 are empty) and
 * through 0xCF8/0xCFC (PCI Local Bus 3.0 3.2.2.3.2), a host bridge at
 * 00:00.0, and the functions Keel or keel-dm emulate. Empty slots read as
 * all ones. For firmware the bridge is a Q35's (8086:29C0), whose PCIEXBAR
 * register keeps what is written; the ECAM stays where it is whatever that
 * says (OVMF writes exactly GUEST_FW_ECAM_BASE, enabled).
 */
#include <keel/dm.h>
#include <keel/page_alloc.h>
#include <keel/vm.h>
#include <keel/vpci_bus.h>
#include <lib/pci_regs.h>

#define BRIDGE_ID 0x48424b45	 /* vendor 0x4b45 "KE", device 0x4842 "HB" (not PCI-SIG assigned) */
#define BRIDGE_ID_Q35 0x29c08086 /* Intel 82G33 DRAM controller, QEMU's Q35 */
#define BRIDGE_CLASS 0x06000000	 /* host bridge (PCI Code and ID 1.14 table D-7) */
#define Q35_PCIEXBAR 0x60	 /* Intel 316966 5.1.13: 64 bits, kept as written */

struct vpci_bus {
	u32 latch; /* 0xCF8 */
	u32 bridge_id;
	u32 pciexbar[2];
	struct vpci_func *funcs[VPCI_MAX_FUNCS];
	struct vpci_func bridge;
};

static u32 bridge_read(struct vpci_func *f, u32 off, u32 size)
{
	struct vpci_bus *b = f->opaque;
	u32 v = 0;

	if (off < PCI_COMMAND)
		v = b->bridge_id;
	else if (off >= PCI_CLASS_REV && off < PCI_CLASS_REV + 4)
		v = BRIDGE_CLASS;
	else if (b->bridge_id == BRIDGE_ID_Q35 && off >= Q35_PCIEXBAR && off < Q35_PCIEXBAR + 8)
		v = b->pciexbar[(off - Q35_PCIEXBAR) / 4];
	return (v >> ((off & 3) * 8)) & (size == 4 ? 0xffffffff : (1u << (size * 8)) - 1);
}

static void bridge_write(struct vpci_func *f, u32 off, u32 size, u32 val)
{
	struct vpci_bus *b = f->opaque;
	u32 *r, shift = (off & 3) * 8, mask = size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;

	if (b->bridge_id != BRIDGE_ID_Q35 || off < Q35_PCIEXBAR || off >= Q35_PCIEXBAR + 8)
		return; /* nothing else to configure */
	r = &b->pciexbar[(off - Q35_PCIEXBAR) / 4];
	*r = (*r & ~(mask << shift)) | ((val & mask) << shift);
}

static struct vpci_func *find(struct vpci_bus *b, u32 bdf)
{
	if (bdf >> 8 || (bdf & 7)) /* bus 0, function 0 only */
		return NULL;
	return b->funcs[bdf >> 3];
}

static u32 all_ones(u32 size)
{
	return size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;
}

/* keel-dm's functions answer through the vCPU's request slot: 0, -EAGAIN (wait) or -EFAULT. */
static int cfg_read(struct vcpu *v, struct vpci_bus *b, u32 bdf, u32 off, u32 size, u32 *val)
{
	struct vpci_func *f = find(b, bdf);

	*val = all_ones(size);
	if (off + size > 4096 || bdf >> 8)
		return 0;
	if (dm_owns_dev(v->vm, bdf >> 3) && !(bdf & 7)) {
		u64 x = 0;
		int ret = dm_access(v, KCTL_IOREQ_CFG, (u64)bdf << 12 | off, (u8)size, false, &x);

		*val = (u32)x;
		return ret;
	}
	if (f)
		*val = f->cfg_read(f, off, size);
	return 0;
}

static int cfg_write(struct vcpu *v, struct vpci_bus *b, u32 bdf, u32 off, u32 size, u32 val)
{
	struct vpci_func *f = find(b, bdf);

	if (off + size > 4096 || bdf >> 8)
		return 0;
	if (dm_owns_dev(v->vm, bdf >> 3) && !(bdf & 7)) {
		u64 x = val;

		return dm_access(v, KCTL_IOREQ_CFG, (u64)bdf << 12 | off, (u8)size, true, &x);
	}
	if (f)
		f->cfg_write(f, off, size, val);
	return 0;
}

static int ecam_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	u32 x = 0xffffffff;
	int ret = size > 4 ? 0 : cfg_read(v, opaque, (u32)(off >> 12), off & 0xfff, size, &x);

	*val = size > 4 ? ~0ULL : x;
	return ret;
}

static int ecam_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	return size > 4 ? 0 : cfg_write(v, opaque, (u32)(off >> 12), off & 0xfff, size, (u32)val);
}

static int port_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	struct vpci_bus *b = opaque;

	*val = 0xffffffff;
	if (port == PCI_CONF1_ADDR)
		*val = size == 4 ? b->latch : 0xffffffff;
	else if (port >= PCI_CONF1_DATA && (b->latch & PCI_CONF1_ENABLE))
		return cfg_read(v, b, (b->latch >> 8) & 0xffff,
				(b->latch & 0xfc) + (port - PCI_CONF1_DATA), size, val);
	return 0;
}

static int port_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	struct vpci_bus *b = opaque;

	if (port == PCI_CONF1_ADDR && size == 4)
		b->latch = val;
	else if (port >= PCI_CONF1_DATA && (b->latch & PCI_CONF1_ENABLE))
		return cfg_write(v, b, (b->latch >> 8) & 0xffff,
				 (b->latch & 0xfc) + (port - PCI_CONF1_DATA), size, val);
	return 0;
}

static void bus_free(void *opaque)
{
	page_free(opaque, 1);
}

int vpci_bus_create(struct vm *vm, u64 ecam_base, u64 ecam_size, bool q35)
{
	struct vpci_bus *b = page_alloc_zeroed(1);
	struct mmio_handler e = { ecam_base, ecam_size, ecam_read, ecam_write, b, "PCI ECAM" };
	/* the address register alone: 0xCF9 is a Q35's reset control, not the bus's */
	struct io_handler p1 = { PCI_CONF1_ADDR, 1, port_read, port_write, b, "PCI config address" };
	struct io_handler p2 = { PCI_CONF1_DATA, 4, port_read, port_write, b, "PCI config data" };

	BUILD_ASSERT(sizeof(struct vpci_bus) <= PAGE_SIZE, "one page");
	if (!b)
		return -ENOMEM;
	if (vm_add_cleanup(vm, bus_free, b))
		return -ENOSPC;
	b->bridge_id = q35 ? BRIDGE_ID_Q35 : BRIDGE_ID;
	b->bridge = (struct vpci_func){ 0, bridge_read, bridge_write, b };
	b->funcs[0] = &b->bridge;
	vm->pci = b;
	if (!vm_register_mmio(vm, &e) || vm_register_io(vm, &p1) || vm_register_io(vm, &p2))
		return -ENOSPC;
	return 0;
}

int vpci_bus_add(struct vm *vm, struct vpci_func *f)
{
	struct vpci_bus *b = vm->pci;

	if (!b || f->dev >= VPCI_MAX_FUNCS || b->funcs[f->dev])
		return -EBUSY;
	b->funcs[f->dev] = f;
	return 0;
}

int vpci_bus_free_slot(struct vm *vm)
{
	struct vpci_bus *b = vm->pci;

	for (int d = 1; b && d < VPCI_MAX_FUNCS; d++)
		if (!b->funcs[d] && !dm_owns_dev(vm, (u32)d))
			return d;
	return -1;
}

bool vpci_bus_used(struct vm *vm, u32 dev)
{
	return !vm->pci || dev >= VPCI_MAX_FUNCS || vm->pci->funcs[dev];
}

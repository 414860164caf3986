// SPDX-License-Identifier: MIT
/*
 * The firmware flavor's ICH9 LPC bridge at 00:1f.0 (Intel 319973 13.1).
 * OVMF finds the ACPI PM block through its PMBASE and ACPI_CNTL registers
 * on Q35, and enumerates COM1 and the PS/2 keyboard only under a PCI-to-ISA
 * bridge: without this function the firmware has no serial console.
 *
 * It is in Keel, not keel-dm, because the firmware reads it from its first
 * instructions on, before any keel-dm device exists, and it holds nothing
 * but registers. The registers from 0x40 on (PMBASE, ACPI_CNTL, PIRQ
 * routing, RCBA, ...) keep what is written and do nothing: the PM block
 * stays at 0x600 whatever PMBASE says (OVMF writes 0x600), interrupts are
 * routed by the I/O APIC, and no root complex register block exists.
 */
#include <keel/page_alloc.h>
#include <keel/vm.h>
#include <keel/vpci_bus.h>
#include <lib/pci_regs.h>
#include <lib/string.h>

#define LPC_DEV 31
#define LPC_ID 0x29188086	 /* 82801IB (ICH9) LPC interface, QEMU's Q35 */
#define LPC_CLASS_REV 0x06010002 /* ISA bridge (PCI Code and ID 1.14 D-7), revision 2 */
#define LPC_PMBASE 0x40		 /* 319973 13.1.10: bit 0 reads 1, an I/O space address */
#define LPC_CFG_SIZE 256

struct vlpc {
	struct vpci_func f;
	u8 cfg[LPC_CFG_SIZE];
};

static u32 reg_mask(u32 size)
{
	return size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;
}

static u32 lpc_read(struct vpci_func *f, u32 off, u32 size)
{
	struct vlpc *l = f->opaque;
	u32 v = 0;

	if (off + size > LPC_CFG_SIZE)
		return 0; /* extended space: nothing */
	memcpy(&v, &l->cfg[off], size);
	return v & reg_mask(size);
}

/* Writable: the command register and everything after the header. */
static void lpc_write(struct vpci_func *f, u32 off, u32 size, u32 val)
{
	struct vlpc *l = f->opaque;

	for (u32 i = 0; i < size && off + i < LPC_CFG_SIZE; i++)
		if (off + i == PCI_COMMAND || off + i == PCI_COMMAND + 1 ||
		    off + i >= PCI_CAP_START)
			l->cfg[off + i] = (u8)(val >> (8 * i));
	l->cfg[LPC_PMBASE] |= 1;
}

static void lpc_free(void *opaque)
{
	page_free(opaque, 1);
}

int vlpc_attach(struct vm *vm)
{
	struct vlpc *l = page_alloc_zeroed(1);
	u32 id = LPC_ID, class_rev = LPC_CLASS_REV;

	BUILD_ASSERT(sizeof(struct vlpc) <= PAGE_SIZE, "one page");
	if (!l)
		return -ENOMEM;
	if (vm_add_cleanup(vm, lpc_free, l)) /* which frees it when it cannot */
		return -ENOSPC;
	memcpy(&l->cfg[PCI_VENDOR_ID], &id, 4);
	memcpy(&l->cfg[PCI_CLASS_REV], &class_rev, 4);
	l->cfg[LPC_PMBASE] = 1;
	l->f = (struct vpci_func){ LPC_DEV, lpc_read, lpc_write, l };
	return vpci_bus_add(vm, &l->f);
}

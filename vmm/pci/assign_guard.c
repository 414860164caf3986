// SPDX-License-Identifier: MIT
/*
 * Config writes the service VM may not make even to functions it owns:
 * the ones that would let one of its devices take another owner's place on
 * the bus, or reset or cut off a device that is not its.
 *
 * Bus numbers (primary, secondary, subordinate) are fixed at boot on every
 * bridge. Could the service VM renumber a bus so that its function takes a
 * guest's requester id? With a writable secondary bus number, yes: a PCIe
 * function captures its bus number from the configuration writes it is sent
 * (PCIe 5.0 2.2.6.2), so a bridge of its own renumbered to a guest device's
 * bus gives its device that device's requester id, and the IOMMU, which
 * picks the domain by requester id, would translate its DMA with the guest's
 * tables. Keel's own ownership checks (this file's table of functions, the
 * IOMMU's context entries, MSI source ids) are keyed by the bus/device/
 * function found at boot too. So no bridge's bus numbers change, whoever owns
 * what lies behind it; a write that gives the values found at boot (Linux
 * restoring a bridge after a reset) is no change and passes.
 *
 * On a bridge above a function the service VM does not own (reserved,
 * Keel's, a guest's), the I/O, memory and prefetchable windows with their
 * upper halves, secondary bus reset and, on a PCIe downstream port, link
 * disable and slot power (which reset or remove what is below too) keep
 * their values. Where only its
 * own functions lie below, those stay its own to change: assign_bars.c
 * already keeps a window off RAM and Keel's devices, and a reset reaches
 * only its own devices.
 *
 * ATS, PRI and PASID stay off on its functions: Keel's IOMMU domains give
 * no device address translation, and a device with ATS on could send
 * requests marked as translated, which a PCIe switch may route to a peer
 * without the IOMMU seeing them (PCIe 5.0 6.12, ACS Direct Translated
 * P2P).
 *
 * Refused bits keep their value (bus numbers: the boot value; enable bits:
 * clear), the rest of the write goes to the device, and each refusal is
 * logged once per function and register. Reads are the device's, but for
 * the enable bits, which read clear.
 */
#include <keel/assign.h>
#include <keel/log.h>
#include <lib/format.h>
#include <lib/string.h>

/* PCIe 5.0 7.5.1.3 (PCI-to-PCI Bridge 1.2 3.2.5): the type 1 header's registers. */
#define PRIMARY_BUS 0x18
#define IO_WINDOW 0x1c	  /* I/O base and limit: one byte each */
#define IO_WINDOW_HI 0x30 /* their upper 16 bits, base then limit */
/* the address bits of base and limit; bits 3:0 of each say what it decodes (read-only) */
#define WINDOW_IO_BITS 0xf0f0u
#define WINDOW_MEM_BITS 0xfff0fff0u
#define BRIDGE_CTRL 0x3e
#define BRIDGE_CTRL_SBR BIT(6) /* secondary bus reset (PCIe 5.0 7.5.1.3.13) */
/* PCIe 5.0 7.5.3: the PCI Express capability of a downstream or root port. */
#define PCI_CAP_ID_EXP 0x10
#define PCIE_LINK_CTRL 0x10 /* 7.5.3.7 */
#define PCIE_LINK_DISABLE BIT(4)
#define PCIE_SLOT_CTRL 0x18	    /* 7.5.3.10 */
#define PCIE_SLOT_POWER_OFF BIT(10) /* Power Controller Control: 1 turns the slot's power off */
/* PCIe 5.0 7.6.3: extended capabilities from 0x100, header: ID 15:0, next 31:20. */
#define EXT_CAP_START 0x100
#define EXT_CAP_ID_ATS 0x0f   /* 10.5.1 */
#define EXT_CAP_ID_PRI 0x13   /* 10.5.2 */
#define EXT_CAP_ID_PASID 0x1b /* 7.8.9 */
#define ATS_CTRL 0x06	      /* 10.5.1.3: Enable is bit 15 */
#define ATS_CTRL_ENABLE BIT(15)
#define PRI_CTRL 0x04 /* 10.5.2.2: Enable is bit 0 */
#define PRI_CTRL_ENABLE BIT(0)
#define PASID_CTRL 0x06 /* 7.8.9.3: PASID, Execute Permission, Privileged Mode Enable */
#define PASID_CTRL_ENABLES GENMASK(2, 0)

enum keep { KEEP_BOOT, KEEP_NOW, KEEP_CLEAR };
enum where { BRIDGE, EXP_CAP, ATS, PRI, PASID };

struct guarded {
	enum where where; /* the header's (bridges only) or a capability's offset */
	u16 off;
	u8 len;
	u32 bits;
	enum keep keep;
	bool foreign_below; /* only on a bridge above a function it does not own */
	const char *name;
};

static const struct guarded regs[] = {
	{ BRIDGE, PRIMARY_BUS, 1, 0xff, KEEP_BOOT, false, "primary bus number" },
	{ BRIDGE, PCI_SECONDARY_BUS, 1, 0xff, KEEP_BOOT, false, "secondary bus number" },
	{ BRIDGE, PCI_SUBORDINATE_BUS, 1, 0xff, KEEP_BOOT, false, "subordinate bus number" },
	{ BRIDGE, IO_WINDOW, 2, WINDOW_IO_BITS, KEEP_NOW, true, "I/O window" },
	{ BRIDGE, PCI_BRIDGE_MEM, 4, WINDOW_MEM_BITS, KEEP_NOW, true, "memory window" },
	{ BRIDGE, PCI_BRIDGE_PREF, 4, WINDOW_MEM_BITS, KEEP_NOW, true, "prefetchable window" },
	{ BRIDGE, PCI_BRIDGE_PREF_BASE_HI, 4, 0xffffffff, KEEP_NOW, true,
	  "prefetchable window's upper base" },
	{ BRIDGE, PCI_BRIDGE_PREF_LIMIT_HI, 4, 0xffffffff, KEEP_NOW, true,
	  "prefetchable window's upper limit" },
	{ BRIDGE, IO_WINDOW_HI, 4, 0xffffffff, KEEP_NOW, true, "I/O window's upper halves" },
	{ BRIDGE, BRIDGE_CTRL, 2, BRIDGE_CTRL_SBR, KEEP_NOW, true, "secondary bus reset" },
	{ EXP_CAP, PCIE_LINK_CTRL, 2, PCIE_LINK_DISABLE, KEEP_NOW, true, "link disable" },
	{ EXP_CAP, PCIE_SLOT_CTRL, 2, PCIE_SLOT_POWER_OFF, KEEP_NOW, true, "slot power control" },
	{ ATS, ATS_CTRL, 2, ATS_CTRL_ENABLE, KEEP_CLEAR, false, "ATS enable" },
	{ PRI, PRI_CTRL, 2, PRI_CTRL_ENABLE, KEEP_CLEAR, false, "PRI enable" },
	{ PASID, PASID_CTRL, 2, PASID_CTRL_ENABLES, KEEP_CLEAR, false, "PASID enables" },
};
_Static_assert(ARRAY_SIZE(regs) <= 16, "assigned_dev.guard_logged has 16 bits");

static bool bridge(const struct assigned_dev *d)
{
	return (d->f->header_type & 0x7f) == 1;
}

/* The register's offset in this function's config space; 0: it has none. */
static u32 reg_at(const struct assigned_dev *d, const struct guarded *g)
{
	u32 base = g->where == BRIDGE  ? (bridge(d) ? 0 : ~0u) :
		   g->where == EXP_CAP ? (bridge(d) && d->exp_cap ? d->exp_cap : ~0u) :
		   g->where == ATS     ? (d->ats_cap ? d->ats_cap : ~0u) :
		   g->where == PRI     ? (d->pri_cap ? d->pri_cap : ~0u) :
					 (d->pasid_cap ? d->pasid_cap : ~0u);

	return base == ~0u ? 0 : base + g->off;
}

/* The register's bits in the coordinates of an access of `size` bytes at `off`. */
static u32 bits_in(u32 off, u32 size, u32 reg, u32 len, u32 bits)
{
	u32 m = 0;

	for (u32 i = 0; i < size; i++)
		if (off + i >= reg && off + i < reg + len)
			m |= ((bits >> (8 * (off + i - reg))) & 0xff) << (8 * i);
	return m;
}

/* A function it does not own on a bus behind this bridge (bus numbers as at boot); NULL: none. */
static const struct pci_func *foreign_below(const struct assigned_dev *d)
{
	u8 sec = d->boot_bus[1], sub = d->boot_bus[2];

	for (u32 i = 0; sec && i < pci_nr_funcs; i++) {
		const struct pci_func *f = &pci_funcs[i];

		if (PCI_BUS(f->bdf) >= sec && PCI_BUS(f->bdf) <= sub &&
		    (f->hidden || !f->owner || strcmp(f->owner, "service")))
			return f;
	}
	return NULL;
}

static void refuse(struct assigned_dev *d, u32 i, const struct pci_func *below)
{
	u16 bdf = d->f->bdf;
	char why[64];

	if (d->guard_logged & BIT(i))
		return;
	d->guard_logged |= (u16)BIT(i);
	if (below)
		format_snprintf(why, sizeof(why), "above %02x:%02x.%x, which is not its",
				PCI_BUS(below->bdf), PCI_DEV(below->bdf), PCI_FN(below->bdf));
	else
		format_snprintf(why, sizeof(why), "%s",
				regs[i].keep == KEEP_BOOT ? "which requester ids depend on" :
							    "which Keel does not offer");
	pr_err("pci %02x:%02x.%x: the service VM changed the %s, %s: write refused", PCI_BUS(bdf),
	       PCI_DEV(bdf), PCI_FN(bdf), regs[i].name, why);
}

/* What the bits `m` of an access at `off` keep: the boot bus numbers, the device's now, or 0. */
static u32 kept(const struct assigned_dev *d, const struct guarded *g, u32 off, u32 size, u32 m)
{
	u32 boot = d->boot_bus[0] | d->boot_bus[1] << 8 | d->boot_bus[2] << 16;

	if (g->keep == KEEP_CLEAR)
		return 0;
	if (g->keep == KEEP_BOOT)
		return bits_in(off, size, PRIMARY_BUS, 3, boot) & m;
	return pci_read(d->f->bdf, off, size) & m;
}

u32 assign_guard_write(struct assigned_dev *d, u32 off, u32 size, u32 val)
{
	for (u32 i = 0; i < ARRAY_SIZE(regs); i++) {
		const struct guarded *g = &regs[i];
		u32 reg = reg_at(d, g), m = reg ? bits_in(off, size, reg, g->len, g->bits) : 0,
		    keep;
		const struct pci_func *below = NULL;

		if (!m || (g->foreign_below && !(below = foreign_below(d))))
			continue;
		keep = kept(d, g, off, size, m);
		if ((val & m) != keep)
			refuse(d, i, below);
		val = (val & ~m) | keep;
	}
	return val;
}

u32 assign_guard_read(const struct assigned_dev *d, u32 off, u32 size, u32 val)
{
	for (u32 i = 0; i < ARRAY_SIZE(regs); i++) {
		u32 reg = reg_at(d, &regs[i]);

		if (reg && regs[i].keep == KEEP_CLEAR)
			val &= ~bits_in(off, size, reg, regs[i].len, regs[i].bits);
	}
	return val;
}

static u16 find_ext_cap(u16 bdf, u16 id)
{
	u32 off = EXT_CAP_START;

	/* bounded: a broken list cannot loop; all ones or zero (no ECAM, none): the end */
	for (u32 n = 0; n < (4096 - EXT_CAP_START) / 4; n++) {
		u32 hdr = pci_read(bdf, off, 4);

		if (hdr == 0 || hdr == 0xffffffff)
			return 0;
		if ((hdr & 0xffff) == id)
			return (u16)off;
		off = (hdr >> 20) & 0xffc;
		if (off < EXT_CAP_START)
			return 0;
	}
	return 0;
}

void assign_guard_init(struct assigned_dev *d)
{
	u16 bdf = d->f->bdf;

	d->guard_logged = 0;
	if (bridge(d))
		for (u32 i = 0; i < 3; i++)
			d->boot_bus[i] = (u8)pci_read(bdf, PRIMARY_BUS + i, 1);
	d->exp_cap = pci_find_cap(bdf, PCI_CAP_ID_EXP);
	d->ats_cap = find_ext_cap(bdf, EXT_CAP_ID_ATS);
	d->pri_cap = find_ext_cap(bdf, EXT_CAP_ID_PRI);
	d->pasid_cap = find_ext_cap(bdf, EXT_CAP_ID_PASID);
	/* what the firmware left on goes off before the service VM runs */
	for (u32 i = 0; i < ARRAY_SIZE(regs); i++) {
		u32 reg = reg_at(d, &regs[i]), v;

		if (!reg || regs[i].keep != KEEP_CLEAR)
			continue;
		v = pci_read(bdf, reg, regs[i].len);
		if (v & regs[i].bits)
			pci_write(bdf, reg, regs[i].len, v & ~regs[i].bits);
	}
}

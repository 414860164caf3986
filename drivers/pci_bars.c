// SPDX-License-Identifier: MIT
/*
 * A function's BARs and expansion ROM (PCI Local Bus 3.0 6.2.5): their sizes,
 * probed once at boot with decoding off (writing all ones and reading back
 * the address mask), and where they are programmed now.
 */
#include <keel/pci.h>

static u32 rom_reg(const struct pci_func *f)
{
	return (f->header_type & 0x7f) == 1 ? PCI_ROM_TYPE1 : PCI_ROM_TYPE0;
}

/* The writable bits of a register: write all ones, read back, restore. */
static u32 mask_of(u16 bdf, u32 off)
{
	u32 orig = pci_read(bdf, off, 4), m;

	pci_write(bdf, off, 4, 0xffffffff);
	m = pci_read(bdf, off, 4);
	pci_write(bdf, off, 4, orig);
	return m;
}

static void probe_bar(struct pci_func *f, u32 i)
{
	u32 off = PCI_BAR0 + i * 4, lo = pci_read(f->bdf, off, 4), m = mask_of(f->bdf, off);
	struct pci_bar_info *b = &f->bar[i];
	u64 mask;

	if (lo & PCI_BAR_IO) {
		b->io = true;
		b->size = m & PCI_BAR_IO_MASK ? (u16)(~(m & PCI_BAR_IO_MASK) + 1) : 0;
		return;
	}
	b->mem64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_MEM64 && i + 1 < f->nr_bars;
	mask = m & PCI_BAR_MEM_MASK;
	mask |= b->mem64 ? (u64)mask_of(f->bdf, off + 4) << 32 : 0xffffffff00000000ULL;
	b->size = (m & PCI_BAR_MEM_MASK) || b->mem64 ? ~mask + 1 : 0;
}

void pci_probe_bars(struct pci_func *f)
{
	u32 type = f->header_type & 0x7f, cmd = pci_read(f->bdf, PCI_COMMAND, 2), m;

	f->nr_bars = type == 0 ? 6 : type == 1 ? 2 : 0;
	pci_write(f->bdf, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
	for (u32 i = 0; i < f->nr_bars; i++) {
		probe_bar(f, i);
		if (f->bar[i].mem64)
			i++; /* the upper half */
	}
	if (type <= 1) {
		m = mask_of(f->bdf, rom_reg(f)) & PCI_ROM_MASK;
		f->rom_size = m ? (u32)(~m + 1) : 0;
	}
	pci_write(f->bdf, PCI_COMMAND, 2, cmd);
}

u64 pci_bar_addr(const struct pci_func *f, u32 i)
{
	u32 lo = pci_read(f->bdf, PCI_BAR0 + i * 4, 4);

	if (f->bar[i].io)
		return lo & PCI_BAR_IO_MASK & 0xffff;
	return (lo & PCI_BAR_MEM_MASK) |
	       (f->bar[i].mem64 ? (u64)pci_read(f->bdf, PCI_BAR0 + i * 4 + 4, 4) << 32 : 0);
}

u32 pci_mem_spans(const struct pci_func *f, struct pci_span *out)
{
	u32 rom = pci_read(f->bdf, rom_reg(f), 4), n = 0;

	for (u32 i = 0; i < PCI_FN_SPANS; i++)
		out[i] = (struct pci_span){ 0, 0 };
	for (u32 i = 0; i < f->nr_bars; i++) {
		u64 a = f->bar[i].size && !f->bar[i].io ? pci_bar_addr(f, i) : 0;

		if (a) {
			out[i] = (struct pci_span){ a, a + f->bar[i].size };
			n++;
		}
		if (f->bar[i].mem64)
			i++;
	}
	if (f->rom_size && (rom & PCI_ROM_ENABLE) && (rom & PCI_ROM_MASK)) {
		out[PCI_ROM_SPAN] =
			(struct pci_span){ rom & PCI_ROM_MASK, (rom & PCI_ROM_MASK) + f->rom_size };
		n++;
	}
	return n;
}

u32 pci_bridge_windows(const struct pci_func *f, struct pci_span *out)
{
	u32 mem = pci_read(f->bdf, PCI_BRIDGE_MEM, 4), pf = pci_read(f->bdf, PCI_BRIDGE_PREF, 4);
	u64 pf_base = (u64)pci_read(f->bdf, PCI_BRIDGE_PREF_BASE_HI, 4) << 32 | (pf & 0xfff0) << 16;
	u64 pf_limit = (u64)pci_read(f->bdf, PCI_BRIDGE_PREF_LIMIT_HI, 4) << 32 |
		       ((pf >> 16) & 0xfff0) << 16 | 0xfffff;
	u64 m_base = (u64)(mem & 0xfff0) << 16,
	    m_limit = (u64)((mem >> 16) & 0xfff0) << 16 | 0xfffff;
	u32 n = 0;

	/* PCI-to-PCI Bridge 1.2 3.2.5.8-3.2.5.10: 1 MiB granules, empty when limit < base */
	if ((f->header_type & 0x7f) != 1)
		return 0;
	if (m_limit >= m_base)
		out[n++] = (struct pci_span){ m_base, m_limit + 1 };
	if (pf_limit >= pf_base)
		out[n++] = (struct pci_span){ pf_base, pf_limit + 1 };
	return n;
}

// SPDX-License-Identifier: MIT
/*
 * What a VM's PCI function decodes, and where the VM may have it. Every
 * write that can move a BAR, the expansion ROM or a bridge window, or turn
 * memory decoding on, is carried out with decoding off; decoding comes back
 * only when every span lies where the VM may map it (not on RAM, Keel's
 * devices or another owner's BARs: service_map_place_ok), and then exactly
 * those spans are mapped into the VM. So a BAR moved over memory that is not
 * the VM's is never decoded, never mapped, and Keel never writes an MSI-X
 * table there.
 */
#include <arch/x86/paging.h>
#include <keel/assign.h>
#include <keel/log.h>
#include <keel/service_vm.h>
#include <keel/vm.h>
#include <lib/string.h>

#define BRIDGE_WINDOWS_END 0x30 /* type 1: 0x20-0x2f hold the memory windows */

static bool covers(u32 off, u32 size, u32 reg, u32 len)
{
	return off < reg + len && reg < off + size;
}

bool assign_bars_touched(const struct assigned_dev *d, u32 off, u32 size)
{
	bool bridge = (d->f->header_type & 0x7f) == 1;

	return covers(off, size, PCI_COMMAND, 2) ||
	       covers(off, size, PCI_BAR0, d->f->nr_bars * 4) ||
	       covers(off, size, bridge ? PCI_ROM_TYPE1 : PCI_ROM_TYPE0, 4) ||
	       (bridge && covers(off, size, PCI_BRIDGE_MEM, BRIDGE_WINDOWS_END - PCI_BRIDGE_MEM));
}

/* Every span it would decode, and a bridge's windows, where its VM may have them? */
static bool placement_ok(struct assigned_dev *d, struct pci_span *spans, char *why, size_t len)
{
	struct pci_span win[2];
	u32 n = pci_bridge_windows(d->f, win);

	pci_mem_spans(d->f, spans);
	for (u32 i = 0; i < PCI_FN_SPANS; i++)
		if (spans[i].end > spans[i].base &&
		    !service_map_place_ok(spans[i].base, spans[i].end - spans[i].base, false, why,
					  len))
			return false;
	/* a window may hold another owner's BARs (behind it), never RAM or Keel's */
	for (u32 i = 0; i < n; i++)
		if (!service_map_place_ok(win[i].base, win[i].end - win[i].base, true, why, len))
			return false;
	return true;
}

static void refuse(struct assigned_dev *d, const struct pci_span *spans, const char *why)
{
	u64 at = spans[0].base ^ spans[1].base ^ spans[2].base ^ spans[PCI_ROM_SPAN].base;

	if (d->refused == at + 1)
		return;
	d->refused = at + 1;
	pr_err("pci %02x:%02x.%x: the service VM placed its memory %s: decoding refused",
	       PCI_BUS(d->f->bdf), PCI_DEV(d->f->bdf), PCI_FN(d->f->bdf), why);
}

void assign_bars_update(struct assigned_dev *d)
{
	struct pci_span want[PCI_FN_SPANS];
	u16 cmd = (u16)pci_read(d->f->bdf, PCI_COMMAND, 2);
	char why[96];

	memset(want, 0, sizeof(want));
	if ((cmd & PCI_CMD_MEMORY) && !placement_ok(d, want, why, sizeof(why))) {
		pci_write(d->f->bdf, PCI_COMMAND, 2, cmd & ~PCI_CMD_MEMORY);
		refuse(d, want, why);
		memset(want, 0, sizeof(want));
	}
	if (!(cmd & PCI_CMD_MEMORY))
		memset(want, 0, sizeof(want));
	if (memcmp(want, d->decoded, sizeof(want))) {
		memcpy(d->decoded, want, sizeof(want));
		service_map_set_fn(d->idx, want);
	}
	assign_msix_update_trap(d);
}

void assign_bars_write(struct assigned_dev *d, u32 off, u32 size, u32 val)
{
	u16 bdf = d->f->bdf, cmd = (u16)pci_read(bdf, PCI_COMMAND, 2);
	u32 shift = covers(off, size, PCI_COMMAND, 2) ? (PCI_COMMAND - off) * 8 : 32;
	if (shift < 32)
		cmd = (u16)(val >> shift); /* what the VM asks for */
	struct pci_span spans[PCI_FN_SPANS];
	char why[96];

	pci_write(bdf, PCI_COMMAND, 2, (u16)pci_read(bdf, PCI_COMMAND, 2) & ~PCI_CMD_MEMORY);
	pci_write(bdf, off, size, shift < 32 ? val & ~((u32)PCI_CMD_MEMORY << shift) : val);
	if (cmd & PCI_CMD_MEMORY) { /* back on only where allowed, checked with it still off */
		if (placement_ok(d, spans, why, sizeof(why)))
			pci_write(bdf, PCI_COMMAND, 2,
				  (u16)pci_read(bdf, PCI_COMMAND, 2) | PCI_CMD_MEMORY);
		else
			refuse(d, spans, why);
	}
	assign_bars_update(d);
}

void assign_bars_deny(struct vm *vm, u32 idx)
{
	const struct pci_func *f = &pci_funcs[idx];
	struct pci_span spans[PCI_FN_SPANS];

	pci_mem_spans(f, spans);
	service_map_set_foreign(idx, spans);
	for (u32 i = 0; i < f->nr_bars; i++) {
		u64 port = f->bar[i].io ? pci_bar_addr(f, i) : 0;

		for (u64 p = port; port && p < port + f->bar[i].size && p < 0x10000; p++)
			vcpu_ops->intercept_io(vm, (u16)p, true); /* nothing there: all-ones */
	}
}

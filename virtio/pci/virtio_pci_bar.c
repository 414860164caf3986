// SPDX-License-Identifier: MIT
/* virtio-pci BAR decoding: common cfg, ISR, device cfg, notify (BAR0) and MSI-X (BAR2). */
#include <virtio/pci.h>
#include "virtio_pci_priv.h"

u64 virtio_pci_bar_size(u32 bar)
{
	if (bar == VIRTIO_PCI_BAR_CFG)
		return VIRTIO_PCI_CFG_BAR_SIZE;
	if (bar == VIRTIO_PCI_BAR_MSIX)
		return VIRTIO_PCI_MSIX_BAR_SIZE;
	return 0;
}

u64 virtio_pci_bar_addr(const struct virtio_pci *vp, u32 bar)
{
	u32 reg = PCI_BAR0 + 4 * bar;

	if (!virtio_pci_bar_size(bar) || !(virtio_pci_cfg16(vp, PCI_COMMAND) & PCI_CMD_MEMORY))
		return 0;
	return (virtio_get_le64(&vp->cfg[reg]) & ~0xfULL) & ~(virtio_pci_bar_size(bar) - 1);
}

static bool virtio_pci_access_ok(u64 off, u32 size, u64 limit)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && off < limit &&
	       size <= limit - off && !(off & (size - 1));
}

/*
 * Device-specific config: 64-bit accesses split into two 32-bit halves;
 * bytes past the structure read as 0 and ignore writes, like the rest
 * of the 4 KiB window.
 */
static void virtio_pci_devcfg_read(struct virtio_pci *vp, u32 off, u32 size, u64 *val)
{
	u32 lo = 0, hi = 0;

	if (size == 8) {
		virtio_dev_config_read(vp->dev, off, 4, &lo);
		virtio_dev_config_read(vp->dev, off + 4, 4, &hi);
	} else {
		virtio_dev_config_read(vp->dev, off, size, &lo);
	}
	*val = (u64)hi << 32 | lo;
}

static void virtio_pci_devcfg_write(struct virtio_pci *vp, u32 off, u32 size, u64 val)
{
	if (size != 8) {
		virtio_dev_config_write(vp->dev, off, size, (u32)val);
		return;
	}
	virtio_dev_config_write(vp->dev, off, 4, (u32)val);
	virtio_dev_config_write(vp->dev, off + 4, 4, (u32)(val >> 32));
}

static int virtio_pci_cfgbar_read(struct virtio_pci *vp, u32 off, u32 size, u64 *val)
{
	switch (off & ~0xfffu) {
	case VIRTIO_PCI_COMMON_OFF:
		return virtio_pci_common_read(vp, off, size, val);
	case VIRTIO_PCI_ISR_OFF:
		/* virtio 1.2 4.1.4.5: reading ISR status clears it. */
		if (off == VIRTIO_PCI_ISR_OFF)
			*val = virtio_pci_msix_isr_read(vp);
		return 0;
	case VIRTIO_PCI_DEVICE_OFF:
		virtio_pci_devcfg_read(vp, off - VIRTIO_PCI_DEVICE_OFF, size, val);
		return 0;
	default:
		return 0; /* notify area reads as 0 */
	}
}

static int virtio_pci_cfgbar_write(struct virtio_pci *vp, u32 off, u32 size, u64 val)
{
	switch (off & ~0xfffu) {
	case VIRTIO_PCI_COMMON_OFF:
		virtio_pci_common_write(vp, off, size, val);
		return 0;
	case VIRTIO_PCI_DEVICE_OFF:
		virtio_pci_devcfg_write(vp, off - VIRTIO_PCI_DEVICE_OFF, size, val);
		return 0;
	case VIRTIO_PCI_NOTIFY_OFF:
		/* virtio 1.2 4.1.4.4: the address, not the data, names the queue. */
		off -= VIRTIO_PCI_NOTIFY_OFF;
		if (!(off % VIRTIO_PCI_NOTIFY_MULT))
			virtio_pci_notify(vp, (u16)(off / VIRTIO_PCI_NOTIFY_MULT));
		return 0;
	default:
		return 0; /* ISR is read-only */
	}
}

int virtio_pci_bar_read(struct virtio_pci *vp, u32 bar, u64 off, u32 size, u64 *val)
{
	*val = 0;
	if (!virtio_pci_access_ok(off, size, virtio_pci_bar_size(bar)))
		return -EINVAL;
	if (bar == VIRTIO_PCI_BAR_CFG)
		return virtio_pci_cfgbar_read(vp, (u32)off, size, val);
	return virtio_pci_msix_read(vp, (u32)off, size, val);
}

int virtio_pci_bar_write(struct virtio_pci *vp, u32 bar, u64 off, u32 size, u64 val)
{
	if (!virtio_pci_access_ok(off, size, virtio_pci_bar_size(bar)))
		return -EINVAL;
	if (bar == VIRTIO_PCI_BAR_CFG)
		return virtio_pci_cfgbar_write(vp, (u32)off, size, val);
	return virtio_pci_msix_write(vp, (u32)off, size, val);
}

// SPDX-License-Identifier: MIT
/* virtio-pci function: configuration space, capability list, BAR decoding (virtio 1.2 4.1). */
#include <virtio/gpu.h>
#include <virtio/pci.h>
#include <lib/string.h>
#include "virtio_pci_priv.h"

static void virtio_pci_put(struct virtio_pci *vp, u32 off, u32 size, u32 val, u32 wmask)
{
	for (u32 i = 0; i < size; i++) {
		vp->cfg[off + i] = (u8)(val >> (8 * i));
		vp->wmask[off + i] = (u8)(wmask >> (8 * i));
	}
}

/* Append a capability of len bytes to the list; returns its offset. */
static u8 virtio_pci_add_cap(struct virtio_pci *vp, u8 *prev, u8 *next, u8 id, u8 len)
{
	u8 at = *next;

	vp->cfg[at] = id;
	vp->cfg[at + 1] = 0;
	if (*prev)
		vp->cfg[*prev + 1] = at;
	else
		vp->cfg[PCI_CAP_PTR] = at;
	*prev = at;
	*next = (u8)ALIGN_UP(at + len, 4);
	return at;
}

/* virtio 1.2 4.1.4: one struct virtio_pci_cap pointing into BAR0. */
static u8 virtio_pci_add_vcap(struct virtio_pci *vp, u8 *prev, u8 *next, u8 type, u32 off, u32 len,
			      u8 cap_len)
{
	u8 at = virtio_pci_add_cap(vp, prev, next, PCI_CAP_ID_VNDR, cap_len);

	vp->cfg[at + 2] = cap_len;
	vp->cfg[at + 3] = type;
	vp->cfg[at + 4] = VIRTIO_PCI_BAR_CFG;
	virtio_pci_put(vp, at + 8, 4, off, 0);
	virtio_pci_put(vp, at + 12, 4, len, 0);
	return at;
}

static void virtio_pci_build_caps(struct virtio_pci *vp)
{
	const struct virtio_dev *dev = vp->dev;
	u8 prev = 0, next = PCI_CAP_START, at;

	virtio_pci_add_vcap(vp, &prev, &next, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
			    VIRTIO_PCI_COMMON_LEN, 16);
	at = virtio_pci_add_vcap(vp, &prev, &next, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
				 dev->num_queues * VIRTIO_PCI_NOTIFY_MULT,
				 VIRTIO_PCI_NOTIFY_CAP_LEN);
	virtio_pci_put(vp, at + 16, 4, VIRTIO_PCI_NOTIFY_MULT, 0);
	virtio_pci_add_vcap(vp, &prev, &next, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF,
			    VIRTIO_PCI_ISR_LEN, 16);
	if (dev->config_len)
		virtio_pci_add_vcap(vp, &prev, &next, VIRTIO_PCI_CAP_DEVICE_CFG,
				    VIRTIO_PCI_DEVICE_OFF, ALIGN_UP(dev->config_len, 4), 16);
	/* virtio 1.2 4.1.4.9: bar, offset, length and data are driver-writable. */
	at = virtio_pci_add_vcap(vp, &prev, &next, VIRTIO_PCI_CAP_PCI_CFG, 0, 0,
				 VIRTIO_PCI_CFG_CAP_LEN);
	vp->wmask[at + 4] = 0xff;
	virtio_pci_put(vp, at + 8, 4, 0, 0xffffffff);
	virtio_pci_put(vp, at + 12, 4, 0, 0xffffffff);
	vp->cap_pci_cfg = at;
	/* PCI LB 3.0 6.8.2: MSI-X, table and PBA in BAR2. */
	at = virtio_pci_add_cap(vp, &prev, &next, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_LEN);
	virtio_pci_put(vp, at + PCI_MSIX_CTRL, 2, vp->nvec - 1u,
		       PCI_MSIX_CTRL_MASKALL | PCI_MSIX_CTRL_ENABLE);
	virtio_pci_put(vp, at + PCI_MSIX_TABLE, 4, VIRTIO_PCI_MSIX_TABLE_OFF | VIRTIO_PCI_BAR_MSIX,
		       0);
	virtio_pci_put(vp, at + PCI_MSIX_PBA, 4, VIRTIO_PCI_MSIX_PBA_OFF | VIRTIO_PCI_BAR_MSIX, 0);
	vp->cap_msix = at;
}

/* A 64-bit memory BAR: the size shows through the writable address bits. */
static void virtio_pci_build_bar(struct virtio_pci *vp, u32 bar, u32 size)
{
	virtio_pci_put(vp, PCI_BAR0 + 4 * bar, 4, PCI_BAR_MEM64, ~(size - 1));
	virtio_pci_put(vp, PCI_BAR0 + 4 * bar + 4, 4, 0, 0xffffffff);
}

/* virtio 1.2 4.1.2: IDs; PCI LB 3.0 6.2: the rest of the type 0 header. */
static void virtio_pci_build(struct virtio_pci *vp)
{
	const struct virtio_pci_params *p = &vp->params;

	memset(vp->cfg, 0, sizeof(vp->cfg));
	memset(vp->wmask, 0, sizeof(vp->wmask));
	virtio_pci_put(vp, PCI_VENDOR_ID, 2, VIRTIO_PCI_VENDOR, 0);
	virtio_pci_put(vp, PCI_DEVICE_ID, 2, VIRTIO_PCI_DEVICE_BASE + vp->dev->device_id, 0);
	virtio_pci_put(vp, PCI_COMMAND, 2, 0,
		       PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
	virtio_pci_put(vp, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
	/* Revision 1: a non-transitional device (virtio 1.2 4.1.2.1). */
	virtio_pci_put(vp, PCI_CLASS_REV, 4, p->class_code << 8 | 1, 0);
	virtio_pci_build_bar(vp, VIRTIO_PCI_BAR_CFG, VIRTIO_PCI_CFG_BAR_SIZE);
	virtio_pci_build_bar(vp, VIRTIO_PCI_BAR_MSIX, VIRTIO_PCI_MSIX_BAR_SIZE);
	virtio_pci_put(vp, PCI_SUBSYS_VENDOR, 2, p->subsys_vendor, 0);
	virtio_pci_put(vp, PCI_SUBSYS_ID, 2, p->subsys_id, 0);
	virtio_pci_put(vp, PCI_INTERRUPT_LINE, 1, 0, 0xff);
	virtio_pci_put(vp, PCI_INTERRUPT_PIN, 1, 1, 0); /* INTA# */
	virtio_pci_build_caps(vp);
}

static u32 virtio_pci_default_class(u32 device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000; /* network, ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x010000; /* mass storage, SCSI */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* communication, other */
	case VIRTIO_ID_GPU:
		return 0x038000; /* display, other (PCI Code and ID 1.14 D.4): OVMF puts its console there */
	default:
		return 0xff0000; /* unassigned class */
	}
}

int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *dev,
		    const struct virtio_pci_params *params)
{
	struct virtio_pci_params *p;

	if (!vp || !dev || !params || !params->mem || !params->notify_msi)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	vp->dev = dev;
	vp->params = *params;
	p = &vp->params;
	vp->nvec = p->msix_vectors ? p->msix_vectors : dev->num_queues + 1;
	vp->nvec = MIN(vp->nvec, VIRTIO_PCI_MSIX_MAX);
	if (!p->class_code)
		p->class_code = virtio_pci_default_class(dev->device_id);
	p->class_code &= 0xffffff;
	if (!p->subsys_vendor)
		p->subsys_vendor = VIRTIO_PCI_VENDOR;
	if (!p->subsys_id)
		p->subsys_id = (u16)(VIRTIO_PCI_DEVICE_BASE + dev->device_id);
	dev->mem = p->mem;
	dev->transport = &virtio_pci_msix_transport;
	dev->transport_priv = vp;
	dev->on_fault = p->on_fault;
	dev->fault_ctx = p->ctx;
	virtio_pci_reset(vp);
	return 0;
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	virtio_pci_build(vp);
	virtio_pci_msix_reset(vp);
	virtio_dev_reset(vp->dev);
	virtio_pci_common_reset(vp);
}

void virtio_pci_notify(struct virtio_pci *vp, u16 queue)
{
	/* A function without bus mastering cannot touch the rings. */
	if (virtio_pci_cfg16(vp, PCI_COMMAND) & PCI_CMD_MASTER)
		virtio_dev_queue_notify(vp->dev, queue);
}

/*
 * virtio 1.2 4.1.4.9: pci_cfg_data is a window of cap.length bytes at
 * cap.offset of BAR cap.bar; every access to it performs one BAR access.
 */
static void virtio_pci_cfg_window(struct virtio_pci *vp, u32 off, u32 size, u32 *val, bool write)
{
	u8 *cap = &vp->cfg[vp->cap_pci_cfg];
	u8 *data = cap + VIRTIO_PCI_CFG_CAP_DATA;
	u32 shift = off - (vp->cap_pci_cfg + VIRTIO_PCI_CFG_CAP_DATA);
	u32 len = virtio_get_le32(cap + 12);
	u64 bar_val = 0;

	if (write) {
		for (u32 i = 0; i < size; i++)
			data[shift + i] = (u8)(*val >> (8 * i));
	}
	if (len == 1 || len == 2 || len == 4) {
		if (write) {
			virtio_pci_bar_write(vp, cap[4], virtio_get_le32(cap + 8), len,
					     virtio_get_le32(data));
		} else {
			virtio_pci_bar_read(vp, cap[4], virtio_get_le32(cap + 8), len, &bar_val);
			virtio_put_le32(data, (u32)bar_val);
		}
	}
	if (write)
		return;
	*val = 0;
	for (u32 i = 0; i < size; i++)
		*val |= (u32)data[shift + i] << (8 * i);
}

static bool virtio_pci_in_window(const struct virtio_pci *vp, u32 off)
{
	u32 data = vp->cap_pci_cfg + VIRTIO_PCI_CFG_CAP_DATA;

	return off >= data && off < data + 4;
}

static bool virtio_pci_cfg_ok(u32 off, u32 size)
{
	return (size == 1 || size == 2 || size == 4) && off < 256 && size <= 256 - off &&
	       !(off & (size - 1));
}

int virtio_pci_cfg_read(struct virtio_pci *vp, u32 off, u32 size, u32 *val)
{
	*val = 0;
	if (!virtio_pci_cfg_ok(off, size))
		return -EINVAL;
	if (virtio_pci_in_window(vp, off)) {
		virtio_pci_cfg_window(vp, off, size, val, false);
		return 0;
	}
	for (u32 i = 0; i < size; i++) {
		u8 b = vp->cfg[off + i];

		/* virtio 1.2 4.1.4.5.1: Interrupt Status mirrors ISR under INTx. */
		if (off + i == PCI_STATUS && vp->isr && !virtio_pci_msix_enabled(vp))
			b |= PCI_STATUS_INTERRUPT;
		*val |= (u32)b << (8 * i);
	}
	return 0;
}

int virtio_pci_cfg_write(struct virtio_pci *vp, u32 off, u32 size, u32 val)
{
	if (!virtio_pci_cfg_ok(off, size))
		return -EINVAL;
	if (virtio_pci_in_window(vp, off)) {
		virtio_pci_cfg_window(vp, off, size, &val, true);
		return 0;
	}
	for (u32 i = 0; i < size; i++) {
		u8 m = vp->wmask[off + i];

		vp->cfg[off + i] = (u8)((vp->cfg[off + i] & ~m) | ((val >> (8 * i)) & m));
	}
	/* Command (INTx disable) or MSI-X control may have changed. */
	virtio_pci_msix_update(vp);
	return 0;
}

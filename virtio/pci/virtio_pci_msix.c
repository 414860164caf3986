// SPDX-License-Identifier: MIT
/* virtio-pci interrupts: MSI-X table, PBA and masking, or INTx and the ISR (virtio 1.2 4.1.5). */
#include <virtio/pci.h>
#include "virtio_pci_priv.h"

BUILD_ASSERT(VIRTIO_PCI_MSIX_MAX * sizeof(struct virtio_pci_msix_entry) <= VIRTIO_PCI_MSIX_PBA_OFF,
	     "the table must end before the PBA");
BUILD_ASSERT(VIRTIO_PCI_MSIX_MAX <= 64, "the PBA is one u64");

static u16 virtio_pci_msix_ctrl(const struct virtio_pci *vp)
{
	return virtio_pci_cfg16(vp, vp->cap_msix + PCI_MSIX_CTRL);
}

bool virtio_pci_msix_enabled(const struct virtio_pci *vp)
{
	return virtio_pci_msix_ctrl(vp) & PCI_MSIX_CTRL_ENABLE;
}

static bool virtio_pci_msix_masked(const struct virtio_pci *vp, u16 v)
{
	return (virtio_pci_msix_ctrl(vp) & PCI_MSIX_CTRL_MASKALL) ||
	       (vp->msix[v].ctrl & PCI_MSIX_ENTRY_MASKED);
}

static void virtio_pci_msix_fire(struct virtio_pci *vp, u16 v)
{
	const struct virtio_pci_msix_entry *e = &vp->msix[v];

	vp->params.notify_msi(vp->params.ctx, (u64)e->addr_hi << 32 | e->addr_lo, e->data);
}

/* PCI LB 3.0 6.8.3.5: a masked vector's message waits in the PBA. */
static void virtio_pci_msix_signal(struct virtio_pci *vp, u16 v)
{
	if (v >= vp->nvec)
		return; /* NO_VECTOR: this event is unmapped */
	if (virtio_pci_msix_masked(vp, v))
		vp->pba |= BIT(v);
	else
		virtio_pci_msix_fire(vp, v);
}

/* Re-evaluate the INTx level and deliver what unmasking released. */
void virtio_pci_msix_update(struct virtio_pci *vp)
{
	bool level = vp->isr && !virtio_pci_msix_enabled(vp) &&
		     !(virtio_pci_cfg16(vp, PCI_COMMAND) & PCI_CMD_INTX_DISABLE);

	if (level != vp->intx) {
		vp->intx = level;
		if (vp->params.set_intx)
			vp->params.set_intx(vp->params.ctx, level);
	}
	if (!vp->pba || !virtio_pci_msix_enabled(vp))
		return;
	for (u16 v = 0; v < vp->nvec; v++) {
		if ((vp->pba & BIT(v)) && !virtio_pci_msix_masked(vp, v)) {
			vp->pba &= ~BIT(v);
			virtio_pci_msix_fire(vp, v);
		}
	}
}

void virtio_pci_msix_reset(struct virtio_pci *vp)
{
	for (u16 v = 0; v < VIRTIO_PCI_MSIX_MAX; v++) {
		vp->msix[v].addr_lo = vp->msix[v].addr_hi = vp->msix[v].data = 0;
		vp->msix[v].ctrl = PCI_MSIX_ENTRY_MASKED;
	}
	vp->pba = 0;
}

u8 virtio_pci_msix_isr_read(struct virtio_pci *vp)
{
	u8 isr = vp->isr;

	vp->isr = 0;
	virtio_pci_msix_update(vp);
	return isr;
}

/* virtio 1.2 4.1.5.3: a used-buffer notification for one queue. */
static void virtio_pci_msix_queue_irq(struct virtio_dev *dev, u16 queue)
{
	struct virtio_pci *vp = dev->transport_priv;

	if (virtio_pci_msix_enabled(vp)) {
		virtio_pci_msix_signal(vp, vp->queue_vector[queue]);
		return;
	}
	vp->isr |= VIRTIO_PCI_ISR_QUEUE;
	virtio_pci_msix_update(vp);
}

/* virtio 1.2 4.1.5.4: the ISR config bit is set whichever way we signal. */
static void virtio_pci_msix_config_irq(struct virtio_dev *dev)
{
	struct virtio_pci *vp = dev->transport_priv;

	vp->isr |= VIRTIO_PCI_ISR_CONFIG;
	if (virtio_pci_msix_enabled(vp))
		virtio_pci_msix_signal(vp, vp->config_vector);
	else
		virtio_pci_msix_update(vp);
}

const struct virtio_transport_ops virtio_pci_msix_transport = {
	.queue_interrupt = virtio_pci_msix_queue_irq,
	.config_interrupt = virtio_pci_msix_config_irq,
};

static u32 *virtio_pci_msix_word(struct virtio_pci *vp, u32 off)
{
	struct virtio_pci_msix_entry *e = &vp->msix[off / sizeof(*e)];

	switch (off % sizeof(*e)) {
	case 0x0:
		return &e->addr_lo;
	case 0x4:
		return &e->addr_hi;
	case 0x8:
		return &e->data;
	default:
		return &e->ctrl;
	}
}

/* PCI LB 3.0 6.8.2: table and PBA take DWORD and QWORD accesses. */
int virtio_pci_msix_read(struct virtio_pci *vp, u32 off, u32 size, u64 *val)
{
	u32 table_end = vp->nvec * sizeof(struct virtio_pci_msix_entry);

	*val = 0;
	if (size != 4 && size != 8)
		return -EINVAL;
	if (off >= VIRTIO_PCI_MSIX_PBA_OFF) {
		if (off - VIRTIO_PCI_MSIX_PBA_OFF < sizeof(vp->pba))
			*val = vp->pba >> (8 * (off - VIRTIO_PCI_MSIX_PBA_OFF));
		if (size == 4)
			*val &= 0xffffffff;
		return 0;
	}
	if (off >= table_end)
		return 0;
	*val = *virtio_pci_msix_word(vp, off);
	if (size == 8)
		*val |= (u64)*virtio_pci_msix_word(vp, off + 4) << 32;
	return 0;
}

int virtio_pci_msix_write(struct virtio_pci *vp, u32 off, u32 size, u64 val)
{
	u32 table_end = vp->nvec * sizeof(struct virtio_pci_msix_entry);

	if (size != 4 && size != 8)
		return -EINVAL;
	if (off >= table_end)
		return 0; /* PBA and unused table space are read-only */
	*virtio_pci_msix_word(vp, off) = (u32)val;
	if (size == 8)
		*virtio_pci_msix_word(vp, off + 4) = (u32)(val >> 32);
	vp->msix[off / sizeof(vp->msix[0])].ctrl &= PCI_MSIX_ENTRY_MASKED;
	virtio_pci_msix_update(vp);
	return 0;
}

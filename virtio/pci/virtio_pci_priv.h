/* SPDX-License-Identifier: MIT */
/* Private to virtio/: the pieces of the virtio-pci transport. */
#ifndef KEEL_VIRTIO_PCI_PRIV_H
#define KEEL_VIRTIO_PCI_PRIV_H

#include <lib/pci_regs.h>
#include <virtio/pci.h>

/* virtio 1.2 4.1.4.4, 4.1.4.9: bytes after struct virtio_pci_cap. */
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20
#define VIRTIO_PCI_CFG_CAP_LEN 20
#define VIRTIO_PCI_CFG_CAP_DATA 16

static inline u16 virtio_pci_cfg16(const struct virtio_pci *vp, u32 off)
{
	return virtio_get_le16(&vp->cfg[off]);
}

/* virtio_pci_common.c */
int virtio_pci_common_read(struct virtio_pci *vp, u32 off, u32 size, u64 *val);
void virtio_pci_common_write(struct virtio_pci *vp, u32 off, u32 size, u64 val);
void virtio_pci_common_reset(struct virtio_pci *vp);

/* virtio_pci_msix.c */
extern const struct virtio_transport_ops virtio_pci_msix_transport;
bool virtio_pci_msix_enabled(const struct virtio_pci *vp);
void virtio_pci_msix_reset(struct virtio_pci *vp);
void virtio_pci_msix_update(struct virtio_pci *vp);
u8 virtio_pci_msix_isr_read(struct virtio_pci *vp);
int virtio_pci_msix_read(struct virtio_pci *vp, u32 off, u32 size, u64 *val);
int virtio_pci_msix_write(struct virtio_pci *vp, u32 off, u32 size, u64 val);

#endif

/* SPDX-License-Identifier: MIT */
/* Private to virtio/: PCI header offsets and the pieces of the virtio-pci transport. */
#ifndef KEEL_VIRTIO_PCI_PRIV_H
#define KEEL_VIRTIO_PCI_PRIV_H

#include <virtio/pci.h>

/* PCI LB 3.0 6.2: type 0 configuration header. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d
#define PCI_CAP_START 0x40

/* PCI LB 3.0 6.2.2, 6.2.3, 6.2.5.1: command, status and BAR bits. */
#define PCI_COMMAND_MEMORY BIT(1)
#define PCI_COMMAND_MASTER BIT(2)
#define PCI_COMMAND_INTX_DISABLE BIT(10)
#define PCI_STATUS_INTERRUPT BIT(3)
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_BAR_MEM64 0x4

/* PCI LB 3.0 6.7, 6.8.2: capability IDs and MSI-X message control. */
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09
#define PCI_MSIX_CTRL 2
#define PCI_MSIX_TABLE 4
#define PCI_MSIX_PBA 8
#define PCI_MSIX_CAP_LEN 12
#define PCI_MSIX_CTRL_MASKALL BIT(14)
#define PCI_MSIX_CTRL_ENABLE BIT(15)
#define PCI_MSIX_ENTRY_MASKED BIT(0)

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

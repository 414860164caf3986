/* SPDX-License-Identifier: MIT */
/* Modern virtio-pci transport (virtio 1.2 4.1): config space, BARs, MSI-X, interrupts. */
#ifndef KEEL_VIRTIO_PCI_H
#define KEEL_VIRTIO_PCI_H

#include <virtio/virtio.h>

/* virtio 1.2 4.1.2: vendor, and device ID = 0x1040 + virtio device ID. */
#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

/* virtio 1.2 4.1.4: vendor-specific capability types. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* virtio 1.2 4.1.4.5: ISR status bits. */
#define VIRTIO_PCI_ISR_QUEUE BIT(0)
#define VIRTIO_PCI_ISR_CONFIG BIT(1)

/* virtio 1.2 4.1.5.1.2: "no MSI-X vector". */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/*
 * The BARs this function presents:
 *
 *   BAR0/1 (64-bit memory, 16 KiB)     BAR2/3 (64-bit memory, 4 KiB)
 *   0x0000 common cfg (0x40)           0x000 MSI-X table (16 B a vector)
 *   0x1000 ISR status                  0x800 MSI-X PBA
 *   0x2000 device-specific cfg
 *   0x3000 notify: queue q at q * 4
 */
#define VIRTIO_PCI_BAR_CFG 0
#define VIRTIO_PCI_BAR_MSIX 2
#define VIRTIO_PCI_CFG_BAR_SIZE 0x4000
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_COMMON_LEN 0x40
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_ISR_LEN 4
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_DEVICE_LEN 0x1000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x000
#define VIRTIO_PCI_MSIX_PBA_OFF 0x800
#define VIRTIO_PCI_MSIX_MAX 64

/* virtio 1.2 4.1.4: struct virtio_pci_cap. */
struct virtio_pci_cap {
	u8 cap_vndr;   /* 0x0: 0x09, vendor-specific */
	u8 cap_next;   /* 0x1 */
	u8 cap_len;    /* 0x2 */
	u8 cfg_type;   /* 0x3 */
	u8 bar;	       /* 0x4 */
	u8 id;	       /* 0x5 */
	u8 padding[2]; /* 0x6 */
	u32 offset;    /* 0x8 */
	u32 length;    /* 0xc */
};
BUILD_ASSERT(offsetof(struct virtio_pci_cap, bar) == 0x4, "virtio 1.2 4.1.4");
BUILD_ASSERT(offsetof(struct virtio_pci_cap, offset) == 0x8, "virtio 1.2 4.1.4");
BUILD_ASSERT(offsetof(struct virtio_pci_cap, length) == 0xc, "virtio 1.2 4.1.4");
BUILD_ASSERT(sizeof(struct virtio_pci_cap) == 16, "virtio 1.2 4.1.4");

/* virtio 1.2 4.1.4.3: the common configuration structure. */
struct virtio_pci_common_cfg {
	u32 device_feature_select; /* 0x00 */
	u32 device_feature;	   /* 0x04 */
	u32 driver_feature_select; /* 0x08 */
	u32 driver_feature;	   /* 0x0c */
	u16 config_msix_vector;	   /* 0x10 */
	u16 num_queues;		   /* 0x12 */
	u8 device_status;	   /* 0x14 */
	u8 config_generation;	   /* 0x15 */
	u16 queue_select;	   /* 0x16 */
	u16 queue_size;		   /* 0x18 */
	u16 queue_msix_vector;	   /* 0x1a */
	u16 queue_enable;	   /* 0x1c */
	u16 queue_notify_off;	   /* 0x1e */
	u64 queue_desc;		   /* 0x20 */
	u64 queue_driver;	   /* 0x28 */
	u64 queue_device;	   /* 0x30 */
	u16 queue_notify_data;	   /* 0x38 */
	u16 queue_reset;	   /* 0x3a */
} __packed;
BUILD_ASSERT(offsetof(struct virtio_pci_common_cfg, config_msix_vector) == 0x10,
	     "virtio 1.2 4.1.4.3");
BUILD_ASSERT(offsetof(struct virtio_pci_common_cfg, device_status) == 0x14, "virtio 1.2 4.1.4.3");
BUILD_ASSERT(offsetof(struct virtio_pci_common_cfg, queue_select) == 0x16, "virtio 1.2 4.1.4.3");
BUILD_ASSERT(offsetof(struct virtio_pci_common_cfg, queue_enable) == 0x1c, "virtio 1.2 4.1.4.3");
BUILD_ASSERT(offsetof(struct virtio_pci_common_cfg, queue_desc) == 0x20, "virtio 1.2 4.1.4.3");
BUILD_ASSERT(offsetof(struct virtio_pci_common_cfg, queue_device) == 0x30, "virtio 1.2 4.1.4.3");
BUILD_ASSERT(offsetof(struct virtio_pci_common_cfg, queue_reset) == 0x3a, "virtio 1.2 4.1.4.3");
BUILD_ASSERT(sizeof(struct virtio_pci_common_cfg) == 0x3c, "virtio 1.2 4.1.4.3");

/* What the embedder (keel-dm, a test) supplies. Zero fields take defaults. */
struct virtio_pci_params {
	const struct guest_mem *mem;
	u16 msix_vectors;	      /* 0: one per queue plus one for config */
	u32 class_code;		      /* 0: by device type */
	u16 subsys_vendor, subsys_id; /* 0: 0x1af4, 0x1040 + device ID */
	/* An MSI-X message to inject into the guest (required). */
	void (*notify_msi)(void *ctx, u64 addr, u32 data);
	/* The INTx line level when MSI-X is off (optional). */
	void (*set_intx)(void *ctx, bool level);
	/* The device entered NEEDS_RESET; reason is for the log (optional). */
	void (*on_fault)(void *ctx, const char *reason);
	void *ctx;
};

/* PCI LB 3.0 6.8.2.6: one MSI-X table entry. */
struct virtio_pci_msix_entry {
	u32 addr_lo; /* 0x0 */
	u32 addr_hi; /* 0x4 */
	u32 data;    /* 0x8 */
	u32 ctrl;    /* 0xc: bit 0 masks the vector */
};
BUILD_ASSERT(sizeof(struct virtio_pci_msix_entry) == 16, "PCI LB 3.0 6.8.2.6");

struct virtio_pci {
	struct virtio_dev *dev;
	struct virtio_pci_params params;
	u8 cfg[256];		  /* PCI configuration space image */
	u8 wmask[256];		  /* bits a plain config write may change */
	u8 cap_pci_cfg, cap_msix; /* capability offsets */
	u16 nvec;
	u32 dfselect, gfselect;
	u16 queue_select;
	u16 config_vector;
	u16 queue_vector[VIRTIO_DEV_MAX_QUEUES];
	u8 isr;
	bool intx;
	struct virtio_pci_msix_entry msix[VIRTIO_PCI_MSIX_MAX];
	u64 pba;
};

/*
 * How keel-dm (or a test) drives one device:
 *
 *   virtio_blk_init(&blk, &params, &disk_ops, disk);     the device model
 *   virtio_pci_init(&vp, &blk.dev, &pci_params);          its PCI function
 *   forwarded config access  -> virtio_pci_cfg_read/write(&vp, off, size, ...)
 *   forwarded BAR access     -> virtio_pci_bar_read/write(&vp, bar, off, ...)
 *       (bar and off relative to virtio_pci_bar_addr(); doorbells are
 *        writes to BAR0 + VIRTIO_PCI_NOTIFY_OFF and may be posted)
 *   interrupts               <- params.notify_msi / params.set_intx
 *   a misbehaving driver     <- params.on_fault(ctx, reason), and
 *                               virtio_dev_fault(&blk.dev) until reset
 *
 * Nothing here locks: the embedder serialises all calls for one device
 * (accesses, doorbells, virtio_net_rx, virtio_console_input, ...).
 */

/* Bind a device model (already initialised) to a PCI function, power-on state. */
int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *dev,
		    const struct virtio_pci_params *params);
/* PCI function reset: config space, MSI-X and the virtio device. */
void virtio_pci_reset(struct virtio_pci *vp);

/* Forwarded guest accesses; size 1, 2, 4 (and 8 for BARs). -EINVAL if refused. */
int virtio_pci_cfg_read(struct virtio_pci *vp, u32 off, u32 size, u32 *val);
int virtio_pci_cfg_write(struct virtio_pci *vp, u32 off, u32 size, u32 val);
int virtio_pci_bar_read(struct virtio_pci *vp, u32 bar, u64 off, u32 size, u64 *val);
int virtio_pci_bar_write(struct virtio_pci *vp, u32 bar, u64 off, u32 size, u64 val);
/* A doorbell that bypassed BAR decoding (e.g. an eventfd per queue). */
void virtio_pci_notify(struct virtio_pci *vp, u16 queue);

/* Where the guest placed a BAR (0 if unassigned) and how big it is. */
u64 virtio_pci_bar_addr(const struct virtio_pci *vp, u32 bar);
u64 virtio_pci_bar_size(u32 bar);

#endif

/* SPDX-License-Identifier: MIT */
/* A running virtio-pci device as plain structs: saved by one device model, loaded by its restarted successor. */
#ifndef KEEL_VIRTIO_STATE_H
#define KEEL_VIRTIO_STATE_H

#include <virtio/pci.h>

/*
 * What changes only when the driver configures the device (and at a
 * fault). Ring positions change with every request and live apart, in
 * each queue's struct vq_journal (virtio_queue.h), which virtio/ keeps
 * up to date itself. Save produces the same bytes for the same state,
 * so an embedder can memcmp to see whether anything changed.
 */

/* One queue as the driver set it up (virtio 1.2 4.1.4.3). */
struct virtio_queue_state {
	u64 desc, driver, device; /* 0x00: queue_desc, _driver, _device */
	u16 size;		  /* 0x18 */
	u8 enabled;		  /* 0x1a */
	u8 started;		  /* 0x1b: the device checked and mapped the rings */
	u8 packed;		  /* 0x1c: VIRTIO_F_RING_PACKED, while started */
	u8 reserved[3];		  /* 0x1d */
};
BUILD_ASSERT(sizeof(struct virtio_queue_state) == 0x20, "a file layout");

/* The transport-neutral device (virtio 1.2 2.1, 2.2, 2.5). */
struct virtio_dev_state {
	u64 device_features;  /* 0x00: what was offered; another offer is another device */
	u64 driver_features;  /* 0x08 */
	u32 device_id;	      /* 0x10 */
	u16 num_queues;	      /* 0x14 */
	u8 status;	      /* 0x16 */
	u8 config_generation; /* 0x17 */
	u8 broken;	      /* 0x18: in NEEDS_RESET, fault says why */
	u8 model_len;	      /* 0x19 */
	u8 reserved[6];	      /* 0x1a */
	u8 model[VIRTIO_MODEL_STATE_MAX];		     /* 0x20 */
	char fault[VIRTIO_FAULT_LEN];			     /* 0x30 */
	struct virtio_queue_state vq[VIRTIO_DEV_MAX_QUEUES]; /* 0xb0 */
};
BUILD_ASSERT(offsetof(struct virtio_dev_state, vq) == 0xb0, "a file layout");

/* The PCI function around it (virtio 1.2 4.1): config space, MSI-X, common cfg. */
struct virtio_pci_state {
	struct virtio_dev_state dev;
	u8 cfg[256]; /* only the bits a config write may change are loaded */
	struct virtio_pci_msix_entry msix[VIRTIO_PCI_MSIX_MAX];
	u64 pba;
	u32 dfselect, gfselect;
	u16 nvec;
	u16 queue_select;
	u16 config_vector;
	u16 queue_vector[VIRTIO_DEV_MAX_QUEUES];
};

/* virtio_dev_state.c */
void virtio_dev_state_save(struct virtio_dev *dev, struct virtio_dev_state *s);
/* NULL if s fits dev (the same kind of device, sane, journals that fit); else why not. */
const char *virtio_dev_state_check(const struct virtio_dev *dev, const struct virtio_dev_state *s,
				   const struct vq_journal *j);
/* On a checked s and a device at power-on: -EINVAL if the model refuses its bytes. */
int virtio_dev_state_apply(struct virtio_dev *dev, const struct virtio_dev_state *s,
			   const struct vq_journal *j);

/* virtio_pci_state.c */
void virtio_pci_state_save(const struct virtio_pci *vp, struct virtio_pci_state *s);
/*
 * Makes vp (built as the saved one was: same model and parameters) what
 * was saved, queues where the journals j[VIRTIO_DEV_MAX_QUEUES] say, and
 * keeps j from then on. -EINVAL and why if refused: vp is at power-on.
 */
int virtio_pci_state_load(struct virtio_pci *vp, const struct virtio_pci_state *s,
			  struct vq_journal *j, const char **why);
/*
 * Then: what the driver may have missed while nobody served the device.
 * Each running queue's interrupt once (a used buffer whose notification
 * was lost still reaches the driver; a spurious one is allowed, virtio
 * 1.2 2.7.7.1), and each running queue served once (its doorbells may
 * have gone unheard).
 */
void virtio_pci_state_resume(struct virtio_pci *vp);

#endif

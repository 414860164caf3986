/* SPDX-License-Identifier: MIT */
/* A simulated virtio-pci driver for host tests: fake guest RAM, init, split and packed rings. */
#ifndef KEEL_TEST_VIRTIO_DRIVER_SIM_H
#define KEEL_TEST_VIRTIO_DRIVER_SIM_H

#include <virtio/pci.h>

#define VSIM_MSI_ADDR 0xfee00000ULL
#define VSIM_MSI_DATA_BASE 0x40	     /* MSI data = base + vector */
#define VSIM_BAR0_ADDR 0xe0000000ULL /* where vsim_probe places the BARs */
#define VSIM_BAR2_ADDR 0xe0004000ULL

/*
 * How the driver reaches its PCI function when not straight through
 * s->vp: an embedder's test routes the accesses its own way (cfg: a
 * config access at off; else BAR bar at off).
 */
struct vsim_bus {
	u64 (*read)(void *ctx, bool cfg, u32 bar, u64 off, u32 size);
	void (*write)(void *ctx, bool cfg, u32 bar, u64 off, u32 size, u64 val);
	void *ctx;
};

/* One guest buffer segment for vsim_post. */
struct vsim_seg {
	gpa_t addr;
	u32 len;
};

/* The driver's view of one queue. */
struct vsim_queue {
	u16 size;
	bool packed;
	gpa_t desc, driver, device;
	/* split */
	u16 avail_idx, last_used;
	u16 free[VIRTIO_QUEUE_SIZE_MAX];
	u16 nfree;
	/* packed */
	u16 next_avail, next_used, slots_free;
	bool avail_wrap, used_wrap;
	u16 ids[VIRTIO_QUEUE_SIZE_MAX];
	u16 nids;
	u16 id_slots[VIRTIO_QUEUE_SIZE_MAX];
	u16 id_head[VIRTIO_QUEUE_SIZE_MAX]; /* split: head of each chain */
};

struct vsim {
	const struct vsim_bus *bus; /* NULL: s->vp */
	bool own_ram;
	u8 *ram;
	u64 ram_size;
	u64 brk; /* bump allocator for guest RAM */
	struct guest_mem mem;
	struct virtio_pci vp;
	struct virtio_dev *dev;
	/* found by walking the capability list */
	u32 common, notify, isr, device, notify_mult;
	u8 msix_cap;
	u64 features;
	struct vsim_queue q[VIRTIO_DEV_MAX_QUEUES];
	/* what the device did to us */
	u32 msi_count;
	u32 msi_vec[VIRTIO_PCI_MSIX_MAX];
	u32 msi_bad; /* messages with an address/data we never programmed */
	bool intx;
	u32 faults;
	char fault[VIRTIO_FAULT_LEN];
};

/* Fresh RAM (zeroed, 0x10000 reserved at 0) and a PCI function around dev. */
int vsim_init(struct vsim *s, struct virtio_dev *dev, u64 ram_size);
/* A driver of a function someone else serves, in their guest RAM, reached through bus. */
void vsim_init_bus(struct vsim *s, u8 *ram, u64 ram_size, const struct vsim_bus *bus);
/* A new device model (at power-on) behind the same guest, as after a restart. */
int vsim_replace(struct vsim *s, struct virtio_dev *dev);
void vsim_free(struct vsim *s);
gpa_t vsim_alloc(struct vsim *s, u64 len, u64 align);
void *vsim_ptr(struct vsim *s, gpa_t gpa);
gpa_t vsim_alloc_copy(struct vsim *s, const void *data, u32 len);

/* Raw PCI access, as the hypervisor would forward it. */
u32 vsim_cfg_read(struct vsim *s, u32 off, u32 size);
void vsim_cfg_write(struct vsim *s, u32 off, u32 size, u32 val);
u64 vsim_bar_read(struct vsim *s, u32 bar, u64 off, u32 size);
void vsim_bar_write(struct vsim *s, u32 bar, u64 off, u32 size, u64 val);
/* Common-config field access by offset (BAR0 + common). */
u64 vsim_common_read(struct vsim *s, u32 off, u32 size);
void vsim_common_write(struct vsim *s, u32 off, u32 size, u64 val);
u8 vsim_status(struct vsim *s);

/* Walk capabilities, place BARs, enable memory + bus master, set up MSI-X. */
int vsim_probe(struct vsim *s);
/* virtio 1.2 3.1.1 up to FEATURES_OK; returns the negotiated set or 0. */
u64 vsim_negotiate(struct vsim *s, u64 wanted);
/* Allocate rings and enable queue q with size (0: device maximum). */
int vsim_setup_queue(struct vsim *s, u16 q, u16 size);
/* Everything: probe, negotiate, nq queues, DRIVER_OK. */
int vsim_start(struct vsim *s, u64 wanted, u16 nq);

/* Post out readable then in writable segments; returns the buffer id or <0. */
int vsim_post(struct vsim *s, u16 q, const struct vsim_seg *segs, u32 nout, u32 nin, bool indirect);
void vsim_kick(struct vsim *s, u16 q);
/* 1 and the id/len of the next used buffer, or 0 if none. */
int vsim_used(struct vsim *s, u16 q, u32 *id, u32 *len);

/* Hostile helpers: raw descriptors and avail entries (split). */
struct virtq_desc *vsim_desc(struct vsim *s, u16 q, u16 i);
void vsim_avail_push(struct vsim *s, u16 q, u16 head);
struct pvirtq_desc *vsim_pdesc(struct vsim *s, u16 q, u16 i);

#endif

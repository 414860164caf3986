/* SPDX-License-Identifier: MIT */
/* A minimal virtio-pci driver for the test guests: find a device, negotiate, one virtqueue. */
#ifndef TEST_VPCI_H
#define TEST_VPCI_H

#include "guest.h"
#include <lib/string.h>
#include <virtio/queue.h>

/* virtio 1.2 2.1: device status bits. */
#define ST_ACKNOWLEDGE 0x01
#define ST_DRIVER 0x02
#define ST_DRIVER_OK 0x04
#define ST_FEATURES_OK 0x08
#define ST_NEEDS_RESET 0x40
#define VPCI_QSIZE 8

#define VPCI_TIMEOUT_TSC 5000000000ULL /* "a few seconds" at 1-5 GHz */

/* virtio 1.2 2.7.5, 2.7.6, 2.7.8: split virtqueue layout; 4 KiB aligned here. */
struct vdesc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

struct vqueue {
	struct vdesc desc[VPCI_QSIZE] __attribute__((aligned(4096)));
	struct {
		u16 flags, idx, ring[VPCI_QSIZE], used_event;
	} avail __attribute__((aligned(4096)));
	struct {
		u16 flags, idx;
		struct {
			u32 id, len;
		} ring[VPCI_QSIZE];
		u16 avail_event;
	} used __attribute__((aligned(4096)));
	u16 index, size, notify_off;
};

struct vpci {
	u32 dev; /* device number on bus 0 */
	u64 common, notify_base;
	u32 notify_mult;
};

/*
 * Finds virtio device type `type` on bus 0, places its BARs 0 and 2 at
 * bar_base and bar_base + 1 MiB, enables it, finds its capabilities and
 * negotiates VIRTIO_F_VERSION_1 alone. Fails the test on any error.
 */
void vpci_open(struct vpci *v, u16 type, u64 bar_base);
u8 vpci_status(const struct vpci *v);
/* Word `word` (bits 32*word up) of the features the device offers. */
u32 vpci_device_features(const struct vpci *v, u32 word);
/* Writes 0 and waits for device_status to read 0; returns the last status read. */
u8 vpci_reset(const struct vpci *v);
/* Sets up queue `index` (size at most VPCI_QSIZE) while the device is not yet live. */
void vpci_queue(const struct vpci *v, struct vqueue *q, u16 index);
void vpci_driver_ok(const struct vpci *v);
/* Publishes descriptor head `head` in the available ring and notifies the device. */
void vpci_kick(const struct vpci *v, struct vqueue *q, u16 head);
/* Waits for the used ring to reach idx; false after VPCI_TIMEOUT_TSC. */
bool vpci_wait_used(const struct vqueue *q, u16 idx);

#endif

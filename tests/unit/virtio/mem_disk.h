/* SPDX-License-Identifier: MIT */
/* A virtio-blk backend over a buffer in the test's memory. */
#ifndef KEEL_TEST_MEM_DISK_H
#define KEEL_TEST_MEM_DISK_H

#include <virtio/blk.h>

/* The ctx of mem_disk_ops; a transfer past size fails with -EIO. */
struct mem_disk {
	u8 *bytes;
	u64 size;
};

extern const struct virtio_blk_ops mem_disk_ops;

#endif

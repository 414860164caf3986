// SPDX-License-Identifier: MIT
/* A virtio-blk backend over a buffer in the test's memory: reads and writes only. */
#include <string.h>
#include "mem_disk.h"

static int mem_disk_rw(struct mem_disk *d, u64 off, const struct virtio_iov *iov, u32 n, bool write)
{
	for (u32 i = 0; i < n; off += iov[i].len, i++) {
		if (off > d->size || iov[i].len > d->size - off)
			return -EIO;
		if (write)
			memcpy(d->bytes + off, iov[i].base, iov[i].len);
		else
			memcpy(iov[i].base, d->bytes + off, iov[i].len);
	}
	return 0;
}

static int mem_disk_read(void *ctx, u64 off, const struct virtio_iov *iov, u32 n)
{
	return mem_disk_rw(ctx, off, iov, n, false);
}

static int mem_disk_write(void *ctx, u64 off, const struct virtio_iov *iov, u32 n)
{
	return mem_disk_rw(ctx, off, iov, n, true);
}

const struct virtio_blk_ops mem_disk_ops = { .read = mem_disk_read, .write = mem_disk_write };

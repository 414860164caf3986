// SPDX-License-Identifier: MIT
/* keel-dm disk: a virtio-blk device over a file or block device of the service VM. */
#define _GNU_SOURCE /* fallocate's FALLOC_FL_* */
#include "dm.h"
#include <virtio/blk.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DISK_ZERO_CHUNK (64 * 1024)
#define DISK_BOUNCE (1024 * 1024) /* O_DIRECT's staging buffer: a larger request goes in pieces */
#define DISK_FILE_ALIGN 4096 /* O_DIRECT granule of a file: safe on 512-byte and 4 KiB sectors */

struct dm_disk {
	struct virtio_blk blk;
	int fd;	    /* buffered: flushes, discards, zeroes, and requests O_DIRECT cannot take */
	int dfd;    /* O_DIRECT, or -1 where the backing refuses it (tmpfs) */
	u32 align;  /* dfd's offset and length granule */
	u8 *bounce; /* DISK_BOUNCE bytes, aligned */
	struct iovec iov[VIRTIO_QUEUE_SIZE_MAX];
};

/* All of v at off through the page cache: a short transfer goes on where it stopped. */
static int dm_disk_cached(struct dm_disk *k, u64 off, const struct virtio_iov *v, u32 n, int write)
{
	struct iovec *iov = k->iov;
	int cnt = (int)n;

	for (u32 i = 0; i < n; i++)
		iov[i] = (struct iovec){ v[i].base, v[i].len };
	while (cnt > 0) {
		ssize_t r = write ? pwritev(k->fd, iov, cnt, (off_t)off) :
				    preadv(k->fd, iov, cnt, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) /* 0: the file shrank under the guest */
			return r ? -errno : -EIO;
		off += (u64)r;
		for (; cnt > 0 && (size_t)r >= iov->iov_len; cnt--, iov++)
			r -= (ssize_t)iov->iov_len;
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/* Copies len bytes between buf and the guest buffers v from (*i, *at) on, moving that cursor. */
static void dm_disk_copy(u8 *buf, size_t len, const struct virtio_iov *v, u32 *i, size_t *at,
			 int to_guest)
{
	while (len) {
		size_t n = v[*i].len - *at < len ? v[*i].len - *at : len;
		u8 *g = (u8 *)v[*i].base + *at;

		memcpy(to_guest ? g : buf, to_guest ? buf : g, n);
		buf += n;
		len -= n;
		*at += n;
		if (*at == v[*i].len) {
			(*i)++;
			*at = 0;
		}
	}
}

/*
 * All of v at off with O_DIRECT, through the bounce buffer: the guest's
 * buffers are in the BAR2 window, a PFN mapping, which O_DIRECT cannot pin
 * (get_user_pages refuses it). The copy takes the place of the page
 * cache's; the service VM caches nothing and a completed write is on the
 * backing, not in its memory.
 */
static int dm_disk_direct(struct dm_disk *k, u64 off, const struct virtio_iov *v, u64 total,
			  int write)
{
	size_t at = 0;
	u32 i = 0;

	while (total) {
		size_t chunk = total < DISK_BOUNCE ? (size_t)total : DISK_BOUNCE, done = 0;

		if (write)
			dm_disk_copy(k->bounce, chunk, v, &i, &at, 0);
		while (done < chunk) {
			ssize_t r = write ? pwrite(k->dfd, k->bounce + done, chunk - done,
						   (off_t)(off + done)) :
					    pread(k->dfd, k->bounce + done, chunk - done,
						  (off_t)(off + done));

			if (r < 0 && errno == EINTR)
				continue;
			/* 0: the file shrank; unaligned: cannot go on */
			if (r <= 0 || r % k->align)
				return r < 0 ? -errno : -EIO;
			done += (size_t)r;
		}
		if (!write)
			dm_disk_copy(k->bounce, chunk, v, &i, &at, 1);
		off += chunk;
		total -= chunk;
	}
	return 0;
}

/* O_DIRECT when the backing takes it and the request is aligned to its granule. */
static int dm_disk_rw(struct dm_disk *k, u64 off, const struct virtio_iov *v, u32 n, int write)
{
	u64 total = 0;

	for (u32 i = 0; i < n; i++)
		total += v[i].len;
	if (k->dfd >= 0 && !(off % k->align) && !(total % k->align))
		return dm_disk_direct(k, off, v, total, write);
	return dm_disk_cached(k, off, v, n, write);
}

static int dm_disk_read(void *ctx, u64 off, const struct virtio_iov *iov, u32 niov)
{
	return dm_disk_rw(ctx, off, iov, niov, 0);
}

static int dm_disk_write(void *ctx, u64 off, const struct virtio_iov *iov, u32 niov)
{
	return dm_disk_rw(ctx, off, iov, niov, 1);
}

/* The backing's own write cache too: O_DIRECT bypasses only the service VM's. */
static int dm_disk_flush(void *ctx)
{
	struct dm_disk *k = ctx;

	return fdatasync(k->fd) ? -errno : 0;
}

/* A hint: where the file system cannot punch holes, the data just stays. */
static int dm_disk_discard(void *ctx, u64 off, u64 len)
{
	struct dm_disk *k = ctx;

	fallocate(k->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	return 0;
}

static int dm_disk_write_zeroes(void *ctx, u64 off, u64 len, bool unmap)
{
	static const char zeroes[DISK_ZERO_CHUNK];
	struct dm_disk *k = ctx;
	int mode = unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;

	if (!fallocate(k->fd, mode, (off_t)off, (off_t)len))
		return 0;
	while (len) {
		size_t n = len < DISK_ZERO_CHUNK ? (size_t)len : DISK_ZERO_CHUNK;
		ssize_t w = pwrite(k->fd, zeroes, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w ? -errno : -EIO;
		off += (u64)w;
		len -= (u64)w;
	}
	return 0;
}

static const struct virtio_blk_ops dm_disk_ops = {
	.read = dm_disk_read,
	.write = dm_disk_write,
	.flush = dm_disk_flush,
	.discard = dm_disk_discard,
	.write_zeroes = dm_disk_write_zeroes,
};

/* Bytes in a regular file or block device; 0 with msg if there are none to use. */
static u64 dm_disk_size(int fd, const char *path, char *msg, size_t len)
{
	struct stat st;
	u64 size = 0;

	if (fstat(fd, &st)) {
		snprintf(msg, len, "cannot stat '%s': %s", path, strerror(errno));
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		size = (u64)st.st_size;
	} else if (!S_ISBLK(st.st_mode)) {
		snprintf(msg, len, "'%s' is neither a file nor a block device", path);
		return 0;
	} else if (ioctl(fd, BLKGETSIZE64, &size)) {
		snprintf(msg, len, "cannot get the size of '%s': %s", path, strerror(errno));
		return 0;
	}
	if (size < VIRTIO_BLK_SECTOR_SIZE)
		snprintf(msg, len, "'%s' is smaller than one 512-byte sector", path);
	return size;
}

/* A block device written by a guest must not be mounted here: O_EXCL refuses one in use. */
static int dm_disk_flags(const char *path, bool ro)
{
	struct stat st;

	if (ro)
		return O_RDONLY | O_CLOEXEC;
	return O_RDWR | O_CLOEXEC | (!stat(path, &st) && S_ISBLK(st.st_mode) ? O_EXCL : 0);
}

/*
 * A second descriptor of the same file, with O_DIRECT (the first one's
 * lock covers it: flock locks belong to the open file, and this one is
 * only ever used next to it). Left -1 where the backing refuses it.
 */
static void dm_disk_open_direct(struct dm_disk *k, const char *path, bool ro)
{
	struct stat st;
	int sector;

	k->dfd = -1;
	if (fstat(k->fd, &st) || posix_memalign((void **)&k->bounce, DISK_FILE_ALIGN, DISK_BOUNCE))
		return;
	k->align = DISK_FILE_ALIGN;
	if (S_ISBLK(st.st_mode) && !ioctl(k->fd, BLKSSZGET, &sector) && sector >= 512 &&
	    sector <= 4096)
		k->align = (u32)sector;
	/* Without O_EXCL: the first descriptor holds the claim, a second exclusive open would fail. */
	k->dfd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT);
}

static void dm_disk_free(struct dm_disk *k)
{
	if (k->dfd >= 0)
		close(k->dfd);
	close(k->fd);
	free(k->bounce);
	free(k);
}

/* disk PATH [ro] */
static int dm_disk_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	struct virtio_blk_params p = { .num_queues = 1 };
	const char *path = argc > 0 ? argv[0] : NULL, *base;
	struct dm_disk *k;

	p.read_only = argc == 2 && !strcmp(argv[1], "ro");
	if (!path || path[0] != '/' || argc > 2 || (argc == 2 && !p.read_only)) {
		snprintf(msg, len, "usage: disk /ABSOLUTE/PATH [ro]");
		return -1;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	k->dfd = -1;
	k->fd = open(path, dm_disk_flags(path, p.read_only));
	if (k->fd < 0) {
		snprintf(msg, len, "cannot open '%s': %s", path, strerror(errno));
		goto out_free;
	}
	/* Two writers of one image corrupt it: one read-write user, or any number of readers. */
	if (flock(k->fd, (p.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		snprintf(msg, len, "'%s' is in use by another disk%s", path,
			 p.read_only ? " (read-write)" : "");
		goto out_close;
	}
	p.capacity = dm_disk_size(k->fd, path, msg, len);
	if (p.capacity < VIRTIO_BLK_SECTOR_SIZE)
		goto out_close;
	dm_disk_open_direct(k, path, p.read_only);
	/* virtio 1.2 5.2.4: the guest then aligns its requests to what O_DIRECT takes */
	if (k->dfd >= 0)
		p.physical_block_exp = (u8)__builtin_ctz(k->align / VIRTIO_BLK_SECTOR_SIZE);
	p.num_queues =
		(u16)(d->vm->vcpus < VIRTIO_BLK_MAX_QUEUES ? d->vm->vcpus : VIRTIO_BLK_MAX_QUEUES);
	base = strrchr(path, '/') + 1;
	p.serial = base; /* up to 20 bytes of it */
	if (virtio_blk_init(&k->blk, &p, &dm_disk_ops, k)) {
		snprintf(msg, len, "cannot build the disk model of '%s'", path);
		goto out_close;
	}
	d->be = k;
	d->vdev = &k->blk.dev;
	return 0;
out_close:
	dm_disk_free(k);
	return -1;
out_free:
	free(k);
	return -1;
}

static void dm_disk_close(struct dm_dev *d)
{
	struct dm_disk *k = d->be;

	if (fdatasync(k->fd) && errno != EINVAL && errno != EROFS)
		dm_log("%s: 00:%02x.0 %s: flush on close failed: %s", d->vm->name, d->number,
		       d->args, strerror(errno));
	dm_disk_free(k);
}

/* "PATH [ro] (O_DIRECT)" or "(page cache)": what the operator can expect of a crash of the service VM. */
static void dm_disk_describe(struct dm_dev *d, char *buf, size_t len)
{
	struct dm_disk *k = d->be;

	snprintf(buf, len, "%s (%s)", d->args, k->dfd >= 0 ? "O_DIRECT" : "page cache");
}

const struct dm_kind dm_disk_kind = {
	.name = "disk",
	.open = dm_disk_open,
	.close = dm_disk_close,
	.describe = dm_disk_describe,
};

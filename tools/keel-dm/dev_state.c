// SPDX-License-Identifier: MIT
/* /run/keel-dm/<vm>.<NN>.state: a device's virtio-pci state and queue journals, mapped shared so they outlive keel-dm. */
#include "dm.h"
#include <virtio/state.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DM_DEV_STATE_MAGIC 0x5453444bu /* "KDST" */
#define DM_DEV_STATE_VERSION 2
#define DM_DEV_STATE_SUFFIX "state"

/*
 * The file, mapped MAP_SHARED: tmpfs pages that outlive the process, so
 * keeping it current costs stores, not system calls.
 *
 *   header     magic, version, size (another build's layout is refused),
 *              VM id, name, RAM size and window offset, device number,
 *              attach arguments: a restarted keel-dm takes it only for the
 *              same device of the same VM
 *   current    which of pci[] is whole; the other is written, then current
 *              flips, so a death mid-copy leaves the previous state whole
 *   pci[2]     the transport state (virtio_state.h): config space, MSI-X,
 *              status, features, queue setup. Re-saved after every access
 *              that may change it, before the access is answered: a death
 *              before the answer has Keel's request still PENDING, and the
 *              new keel-dm answers it again
 *   journal[]  each queue's used position, which virtio/ itself writes
 *              around every publish (virtio/queue/vq_journal.c)
 */
struct dm_dev_state {
	uint32_t magic, version, size, vm_id;
	uint64_t vm_serial;	       /* the VM, where ids and names are reused */
	uint64_t vm_memory, vm_window; /* the ring addresses mean this RAM */
	char vm[KCTL_NAME_MAX];
	uint32_t number;
	uint32_t current;
	char args[DM_ARGS_MAX];
	struct virtio_pci_state pci[2];
	struct vq_journal journal[VIRTIO_DEV_MAX_QUEUES];
};

static void dm_dev_state_path(struct dm *dm, const char *vm, unsigned number, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.%02x.%s", dm->state_dir, vm, number, DM_DEV_STATE_SUFFIX);
}

/* The file mapped; create: made anew at its full size. NULL with why. */
static struct dm_dev_state *dm_dev_state_map(const char *path, int create, char *why, size_t len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0600);
	struct dm_dev_state *st = MAP_FAILED;
	struct stat sb;

	if (fd < 0) {
		snprintf(why, len, "%s", strerror(errno));
		return NULL;
	}
	if ((create && ftruncate(fd, sizeof(*st))) || fstat(fd, &sb))
		snprintf(why, len, "%s", strerror(errno));
	else if (sb.st_size != (off_t)sizeof(*st))
		snprintf(why, len, "it is %lld bytes, not %zu", (long long)sb.st_size, sizeof(*st));
	else if ((st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
		 MAP_FAILED)
		snprintf(why, len, "%s", strerror(errno));
	close(fd);
	return st == MAP_FAILED ? NULL : st;
}

/* The header names this device of this VM, as the devices file re-created it. */
static const char *dm_dev_state_foreign(const struct dm_dev *d, const struct dm_dev_state *st)
{
	if (st->magic != DM_DEV_STATE_MAGIC)
		return "it is not a keel-dm state file";
	if (st->version != DM_DEV_STATE_VERSION || st->size != sizeof(*st))
		return "it is of another keel-dm version";
	if (st->vm_id != d->vm->id || st->vm_serial != d->vm->serial ||
	    strncmp(st->vm, d->vm->name, sizeof(st->vm)) || st->vm_memory != d->vm->memory ||
	    st->vm_window != d->vm->window_offset)
		return "it is of another VM";
	if (st->number != d->number || strncmp(st->args, d->args, sizeof(st->args)))
		return "it is of another device";
	return NULL;
}

static void dm_dev_state_fresh(struct dm_dev *d, struct dm_dev_state *st)
{
	memset(st, 0, sizeof(*st));
	st->magic = DM_DEV_STATE_MAGIC;
	st->version = DM_DEV_STATE_VERSION;
	st->size = sizeof(*st);
	st->vm_id = d->vm->id;
	st->vm_serial = d->vm->serial;
	st->vm_memory = d->vm->memory;
	st->vm_window = d->vm->window_offset;
	snprintf(st->vm, sizeof(st->vm), "%s", d->vm->name);
	st->number = d->number;
	snprintf(st->args, sizeof(st->args), "%s", d->args);
	virtio_pci_state_save(&d->vp, &st->pci[0]);
	virtio_dev_journal(d->vdev, st->journal);
}

/* 1: the state a dead keel-dm left is back on d; 0: d stays at power-on, logged why. */
static int dm_dev_state_load(struct dm_dev *d, const char *path)
{
	char why[160];
	const char *bad;
	struct dm_dev_state *st = dm_dev_state_map(path, 0, why, sizeof(why));

	bad = st ? dm_dev_state_foreign(d, st) : why;
	if (!bad && !virtio_pci_state_load(&d->vp, &st->pci[st->current & 1], st->journal, &bad)) {
		d->state = st;
		return 1;
	}
	if (st)
		munmap(st, sizeof(*st));
	dm_log("%s: 00:%02x.0 %s: cannot restore its state from %s: %s; it is at power-on state",
	       d->vm->name, d->number, d->kind->name, path, bad);
	return 0;
}

int dm_dev_state_open(struct dm_dev *d, int restore)
{
	char path[300], why[160];
	struct dm_dev_state *st;

	if (!d->vm->dm->state_dir)
		return 0;
	mkdir(d->vm->dm->state_dir, 0700);
	dm_dev_state_path(d->vm->dm, d->vm->name, d->number, path, sizeof(path));
	if (restore && dm_dev_state_load(d, path))
		return 1;
	st = dm_dev_state_map(path, 1, why, sizeof(why));
	if (!st) {
		dm_log("%s: 00:%02x.0 %s: cannot keep its state in %s (%s): a restart puts it at power-on",
		       d->vm->name, d->number, d->kind->name, path, why);
		return 0;
	}
	dm_dev_state_fresh(d, st);
	d->state = st;
	return 0;
}

/*
 * After anything that may have changed the transport state. Mostly
 * nothing did: a save to scratch and a compare, no system call.
 */
void dm_dev_state_sync(struct dm_dev *d)
{
	static struct virtio_pci_state now;
	struct dm_dev_state *st = d->state;
	uint32_t cur;

	if (!st)
		return;
	cur = st->current & 1;
	virtio_pci_state_save(&d->vp, &now);
	if (!memcmp(&now, &st->pci[cur], sizeof(now)))
		return;
	memcpy(&st->pci[!cur], &now, sizeof(now));
	__atomic_store_n(&st->current, !cur, __ATOMIC_RELEASE); /* the copy, then the switch */
}

void dm_dev_state_resume(struct dm_dev *d)
{
	dm_dev_doorbell_update(d); /* where BAR0 is: d->doorbell starts at none */
	virtio_pci_state_resume(&d->vp);
	dm_dev_state_sync(d);
}

/* The file stays: a keel-dm stopping or dying is not the device going away. */
void dm_dev_state_close(struct dm_dev *d)
{
	if (!d->state)
		return;
	virtio_dev_journal(d->vdev, NULL);
	munmap(d->state, sizeof(*d->state));
	d->state = NULL;
}

void dm_dev_state_forget(struct dm *dm, const char *vm)
{
	char path[300];

	for (unsigned n = 1; n < KCTL_DM_DEVS; n++) {
		dm_dev_state_path(dm, vm, n, path, sizeof(path));
		unlink(path);
	}
}

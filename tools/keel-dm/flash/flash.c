// SPDX-License-Identifier: MIT
/*
 * A firmware VM's variable store (keelctl create --vars FILE): the CFI flash
 * state machine (cfi.c) over FILE. Keel forwards the store's writes, and its
 * reads while it is in a command mode, one byte each; the answer's
 * kctl_ioreq.flash tells Keel what changed, so its read-only copy the guest
 * reads as memory stays the same as FILE. FILE is written before the answer,
 * so an acknowledged write is in it. /run/keel-dm/<vm>.flash.state keeps the
 * command state and the last answer, so a restarted keel-dm neither takes a
 * data byte for a command nor programs twice.
 */
#include "cfi.h"
#include "../dm.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a restarted keel-dm needs (the state file's bytes). */
struct dm_flash_state {
	uint32_t vcpu, seq; /* the last request answered */
	uint32_t flash;	    /* and its answer */
	uint32_t data;
	uint32_t answered; /* 1: vcpu, seq, flash and data hold an answer */
	struct cfi cfi;
};

struct dm_flash {
	int fd, state_fd;
	uint64_t base, size; /* where the store is in the guest, and FILE's size */
	struct dm_flash_state st;
	unsigned long long programs, erases;
	int told; /* an unknown command or odd access logged */
};

static void dm_flash_state_path(struct dm *dm, const char *vm, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.flash.state", dm->state_dir, vm);
}

/* The state file: the one a dead keel-dm left (restore), or a new one at power-on. */
static void dm_flash_state_open(struct dm_vm *vm, struct dm_flash *f, int restore)
{
	char path[300];

	cfi_reset(&f->st.cfi);
	f->state_fd = -1;
	if (!vm->dm->state_dir)
		return;
	mkdir(vm->dm->state_dir, 0700);
	dm_flash_state_path(vm->dm, vm->name, path, sizeof(path));
	f->state_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (restore ? 0 : O_TRUNC), 0600);
	if (f->state_fd < 0) {
		dm_log("%s: cannot keep %s: %s", vm->name, path, strerror(errno));
		return;
	}
	if (restore && pread(f->state_fd, &f->st, sizeof(f->st), 0) == (ssize_t)sizeof(f->st) &&
	    f->st.cfi.mode <= CFI_ERASE)
		return;
	memset(&f->st, 0, sizeof(f->st));
	cfi_reset(&f->st.cfi);
	if (pwrite(f->state_fd, &f->st, sizeof(f->st), 0) != (ssize_t)sizeof(f->st))
		dm_log("%s: cannot write %s", vm->name, path);
}

int dm_flash_attach(struct dm_vm *vm, int argc, char **argv, int restore, char *msg, size_t len)
{
	struct dm_flash *f;
	unsigned long long base;
	struct stat st;
	char *end;
	int fd;

	if (vm->flash) {
		snprintf(msg, len, "'%s' has its variable store already", vm->name);
		return -1;
	}
	if (argc != 3 || argv[1][0] != '/' || (base = strtoull(argv[2], &end, 0), *end)) {
		snprintf(msg, len, "flash takes an absolute path and the store's guest address");
		return -1;
	}
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size ||
	    st.st_size % CFI_BLOCK || (uint64_t)st.st_size > (1ULL << 32) ||
	    base > (1ULL << 32) - (uint64_t)st.st_size) {
		snprintf(msg, len, "%s: %s", argv[1],
			 fd < 0 ? strerror(errno) :
				  "not a variable store of whole 4 KiB blocks "
				  "below 4 GiB");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		snprintf(msg, len, "out of memory");
		return -1;
	}
	f->fd = fd;
	f->base = base;
	f->size = (uint64_t)st.st_size;
	dm_flash_state_open(vm, f, restore);
	vm->flash = f;
	snprintf(vm->flash_args, sizeof(vm->flash_args), "flash %s %#llx", argv[1], base);
	return 0;
}

void dm_flash_close(struct dm_vm *vm)
{
	struct dm_flash *f = vm->flash;

	if (!f)
		return;
	if (fdatasync(f->fd))
		dm_log("%s: the variable store: %s", vm->name, strerror(errno));
	dm_log("%s: variable store %s closed: %llu bytes programmed, %llu blocks erased", vm->name,
	       vm->flash_args + 6, f->programs, f->erases);
	close(f->fd);
	if (f->state_fd >= 0)
		close(f->state_fd);
	free(f);
	vm->flash = NULL;
}

void dm_flash_forget(struct dm *dm, const char *vm)
{
	char path[300];

	if (!dm->state_dir)
		return;
	dm_flash_state_path(dm, vm, path, sizeof(path));
	unlink(path);
}

/* A 4 KiB block of 0xFF at off's block. */
static int dm_flash_erase(struct dm_flash *f, uint64_t off)
{
	static uint8_t ones[CFI_BLOCK];

	if (!ones[0])
		memset(ones, 0xff, sizeof(ones));
	off &= ~(uint64_t)(CFI_BLOCK - 1);
	return pwrite(f->fd, ones, CFI_BLOCK, (off_t)off) == CFI_BLOCK ? 0 : -1;
}

/* One write: the file first, then the state, then (the caller) the answer. */
static int dm_flash_write(struct dm_vm *vm, struct dm_flash *f, uint64_t off, uint8_t val,
			  uint32_t *flash)
{
	struct cfi_result r = cfi_write(&f->st.cfi, off, val);
	int bad = 0;

	if (r.op == CFI_OP_PROGRAM) {
		bad = pwrite(f->fd, &val, 1, (off_t)off) != 1;
		*flash |= KCTL_FLASH_PROGRAM;
		f->programs++;
	} else if (r.op == CFI_OP_ERASE) {
		bad = dm_flash_erase(f, off);
		*flash |= KCTL_FLASH_ERASE;
		f->erases++;
	}
	if (bad) /* the guest is told nothing was written: SR.4 or SR.5, as a worn flash */
		f->st.cfi.status |= r.op == CFI_OP_ERASE ? CFI_STATUS_ERASE_ERR :
							   CFI_STATUS_PROG_ERR,
			*flash &= ~(KCTL_FLASH_PROGRAM | KCTL_FLASH_ERASE);
	if (bad && !f->told++)
		dm_log("%s: cannot write its variable store: %s", vm->name, strerror(errno));
	if (r.unknown && !f->told++)
		dm_log("%s: flash command %#x at %#llx is not one OVMF uses: read array", vm->name,
		       val, (unsigned long long)(f->base + off));
	if (r.array && val == 0xff && fdatasync(f->fd) && !f->told++)
		dm_log("%s: the variable store: %s", vm->name, strerror(errno));
	*flash |= r.array ? KCTL_FLASH_ARRAY : KCTL_FLASH_COMMAND;
	return 0;
}

int dm_flash_access(struct dm_vm *vm, unsigned vcpu, unsigned seq, uint64_t addr, unsigned size,
		    unsigned write, uint64_t *data, uint32_t *flash)
{
	struct dm_flash *f = vm ? vm->flash : NULL;
	struct dm_flash_state *st;
	uint64_t off;
	uint8_t b;
	int v;

	if (!f || addr < f->base || addr - f->base >= f->size)
		return 1; /* not the store */
	st = &f->st;
	off = addr - f->base;
	*flash = 0;
	if (size != 1)
		return -1; /* Keel sends bytes only */
	if (st->answered && st->vcpu == vcpu && st->seq == seq) {
		/* a restarted keel-dm: this one was done, its answer lost */
		*flash = st->flash;
		*data = st->data;
		return 0;
	}
	if (write) {
		dm_flash_write(vm, f, off, (uint8_t)*data, flash);
	} else {
		v = cfi_read(&st->cfi);
		if (v < 0 && pread(f->fd, &b, 1, (off_t)off) != 1)
			b = 0xff;
		*data = v < 0 ? b : (uint64_t)v;
		*flash = v < 0 ? KCTL_FLASH_ARRAY : 0;
	}
	st->vcpu = vcpu, st->seq = seq, st->flash = *flash, st->data = (uint32_t)*data;
	st->answered = 1;
	if (f->state_fd >= 0 && pwrite(f->state_fd, st, sizeof(*st), 0) != (ssize_t)sizeof(*st) &&
	    !f->told++)
		dm_log("%s: cannot keep the flash state: %s", vm->name, strerror(errno));
	return 0;
}

void dm_flash_describe(const struct dm_vm *vm, char *buf, size_t len)
{
	const struct dm_flash *f = vm->flash;

	snprintf(buf, len, "%s (%llu bytes programmed, %llu blocks erased)", vm->flash_args + 6,
		 f->programs, f->erases);
}

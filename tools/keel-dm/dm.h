/* SPDX-License-Identifier: MIT */
/* keel-dm's shared types: the VMs it serves, their devices, the device kinds, the daemon. */
#ifndef KEEL_DM_TOOL_H
#define KEEL_DM_TOOL_H

#include "ctl.h"
#include <virtio/pci.h>
#include <poll.h>

#define DM_ARGS_MAX 320	   /* "disk /root/a.img ro": what re-creates a device */
#define DM_PCI_MMIO_BARS 2 /* BAR0 (virtio structures) and BAR2 (MSI-X) */

struct dm;
struct dm_vm;
struct dm_dev;

/* A kind of device and its backend in the service VM. */
struct dm_kind {
	const char *name; /* "disk", "net", "console", "rng", "gpu" */
	/* Opens the backend from the attach arguments (after the kind) and sets d->be, d->vdev. */
	int (*open)(struct dm_dev *d, int argc, char **argv, char *msg, size_t len);
	/* Flushes and frees everything open() made. */
	void (*close)(struct dm_dev *d);
	/* Optional: what `devices` shows after "00:02.0 " (else the attach arguments). */
	void (*describe)(struct dm_dev *d, char *buf, size_t len);
	/* Optional: does deferred work, then sets the fd (or -1) and events to poll. */
	void (*prepare)(struct dm_dev *d, struct pollfd *p);
	/* Optional: that fd is ready. */
	void (*ready)(struct dm_dev *d, short revents);
};

struct dm_dev {
	struct dm_vm *vm;
	unsigned number; /* PCI device number on the guest's bus 0 */
	const struct dm_kind *kind;
	void *be;		 /* the backend's state */
	struct virtio_dev *vdev; /* the device model inside be */
	struct virtio_pci vp;
	uint64_t doorbell;	    /* where the doorbell range is registered (0: none) */
	char args[DM_ARGS_MAX];	    /* the attach arguments, from the kind on */
	int msi_failed;		    /* Keel refused an MSI: logged once */
	struct dm_dev_state *state; /* its state file, mapped (NULL: none kept) */
};

/* A guest VM that has keel-dm devices. */
struct dm_vm {
	struct dm *dm;
	char name[KCTL_NAME_MAX];
	unsigned id, vcpus;
	uint64_t serial; /* Keel never reuses it: the VM, where ids and names are reused */
	uint64_t memory, window_offset;
	struct guest_mem mem;
	void *low, *high; /* the window mappings: GPA 0 and GPA 4 GiB */
	uint64_t low_len, high_len;
	struct dm_dev *devs[KCTL_DM_DEVS];
	struct dm_flash *flash;	      /* its variable store (flash/flash.c), or NULL */
	struct dm_kbc *kbc;	      /* its PS/2 keyboard controller (kbc/kbc.c), or NULL */
	char flash_args[DM_ARGS_MAX]; /* "flash PATH BASE": what re-creates it */
};

struct dm {
	struct ctl *ctl;
	struct dm_vm *vms[KCTL_MAX_VMS]; /* by VM id */
	const char *state_dir;		 /* devices files; NULL keeps none (tests) */
	/* the program serving each display over VNC (keel-vnc); NULL: none (tests) */
	const char *vnc;
};

/* log.c: "keel-dm: " lines on stderr (the log file when a daemon). */
void dm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* dev.c: one device of one VM. */
const struct dm_kind *dm_kind_find(const char *name);
/* Splits line at blanks into at most max words (in place); -1 if there are more. */
int dm_args_split(char *line, char **argv, int max);
/*
 * Opens the backend, claims a device number (number 0: the first one
 * KCTL_OP_DM_ATTACH gives, and a new state file; else that one, already
 * Keel's for keel-dm, on a restart: dm_dev_state_open is the caller's)
 * and builds its PCI function. NULL with msg on failure, and nothing
 * left behind.
 */
struct dm_dev *dm_dev_attach(struct dm_vm *vm, int argc, char **argv, unsigned number, char *msg,
			     size_t len);
void dm_dev_close(struct dm_dev *d);
/* After a config write: (re-)register the notify region where BAR0 now is. */
void dm_dev_doorbell_update(struct dm_dev *d);
/* "00:02.0 disk /root/a.img ro[ FAILED: reason]" */
void dm_dev_describe(struct dm_dev *d, char *buf, size_t len);
/* Runs op (for VM name, or none) in keel-dm's command slot; status, cmd->msg says why. */
int dm_cmd(struct dm *dm, unsigned op, const char *name, const uint64_t args[4],
	   struct kctl_cmd *cmd);

/* ioreq.c: answering forwarded accesses and doorbells. */
/* Answers the PENDING slots of VM id (vm NULL: one keel-dm does not serve); returns how many. */
int dm_ioreq_serve(struct dm *dm, unsigned id, unsigned vcpus, struct dm_vm *vm);
void dm_doorbells_take(struct dm *dm, struct dm_vm *vm);

/* vm.c: the served VMs. */
struct dm_vm *dm_vm_find(struct dm *dm, const char *name);
/* The served VM of info, or a new one with its RAM mapped; NULL with msg. */
struct dm_vm *dm_vm_get(struct dm *dm, const struct kctl_vm_info *info, char *msg, size_t len);
int dm_vm_info(struct dm *dm, const char *name, struct kctl_vm_info *out, char *msg, size_t len);
const char *dm_vm_state_name(unsigned state);
/* Closes every device (logging why, if given) and unmaps RAM; the devices file stays. */
void dm_vm_close(struct dm_vm *vm, const char *why);
/* Drops VMs that are gone, stopped or dead (and their devices files); answers requests of running VMs it does not serve. */
void dm_vm_refresh(struct dm *dm);
int dm_vm_ndevs(const struct dm_vm *vm);
/* vm's first device of that kind (vm NULL, or none: NULL). */
struct dm_dev *dm_vm_dev(const struct dm_vm *vm, const struct dm_kind *kind);

/* dev_state.c: /run/keel-dm/<vm>.<NN>.state, a device's state kept current for a restarted keel-dm. */
/* A new state file for d (restore 0), or the one a dead keel-dm left loaded into d: 1 if it was. */
int dm_dev_state_open(struct dm_dev *d, int restore);
/* After an access, doorbells or backend work that may have changed d's transport state. */
void dm_dev_state_sync(struct dm_dev *d);
/* A restored d: doorbells where BAR0 is, each running queue's interrupt once and served once. */
void dm_dev_state_resume(struct dm_dev *d);
void dm_dev_state_close(struct dm_dev *d);
void dm_dev_state_forget(struct dm *dm, const char *vm);

/*
 * flash/flash.c: a firmware VM's variable store, a CFI flash over a file. argv:
 * "flash" PATH BASE (the store's guest-physical address). restore: carry on
 * from the state a dead keel-dm left. 0, or -1 with msg.
 */
int dm_flash_attach(struct dm_vm *vm, int argc, char **argv, int restore, char *msg, size_t len);
void dm_flash_close(struct dm_vm *vm);
void dm_flash_forget(struct dm *dm, const char *vm);
/*
 * An MMIO request of vCPU vcpu (its slot's seq) at addr: 1 if not the
 * store's; else 0 with *data (a read) and *flash (KCTL_FLASH_*), or -1.
 */
int dm_flash_access(struct dm_vm *vm, unsigned vcpu, unsigned seq, uint64_t addr, unsigned size,
		    unsigned write, uint64_t *data, uint32_t *flash);
/* "PATH BASE (N bytes programmed, N blocks erased)" */
void dm_flash_describe(const struct dm_vm *vm, char *buf, size_t len);

/*
 * kbc/kbc.c: a firmware VM's PS/2 keyboard controller. argv: "kbc". restore:
 * carry on from the state a dead keel-dm left (Keel forwards its ports still).
 */
int dm_kbc_attach(struct dm_vm *vm, int argc, char **argv, int restore, char *msg, size_t len);
void dm_kbc_close(struct dm_vm *vm);
void dm_kbc_forget(struct dm *dm, const char *vm);
/* A PIO request of vCPU vcpu (its slot's seq): -1 if not the controller's port, else 0 and *data. */
int dm_kbc_access(struct dm_vm *vm, unsigned vcpu, unsigned seq, uint64_t port, unsigned size,
		  unsigned write, uint64_t *data);
/* A key of the VM's display: to the keyboard too (nothing without a controller). */
void dm_kbc_key(struct dm_vm *vm, unsigned code, int down);
void dm_kbc_answered(struct dm_vm *vm);
void dm_kbc_describe(const struct dm_vm *vm, char *buf, size_t len);

/* state.c: /run/keel-dm/<vm>.devices, to re-create devices after a restart. */
void dm_state_save(struct dm_vm *vm);
void dm_state_forget(struct dm *dm, const char *name);
void dm_state_restore(struct dm *dm);

/* server.c: the unix socket. */
int dm_server_open(const char *path);
void dm_server_accept(struct dm *dm, int listen_fd);

/* console.c: hands a client socket the VM's virtio console (after its "ok"). */
int dm_console_client(struct dm_dev *d, int fd);

extern const struct dm_kind dm_disk_kind, dm_net_kind, dm_console_kind, dm_rng_kind, dm_gpu_kind,
	dm_keyboard_kind, dm_tablet_kind;

/* gpu.c: the path of a gpu device's screen file (screen.h), "" when it has none. */
const char *dm_gpu_screen(struct dm_dev *d);
/* display.c: the machine's own display (/dev/fb0), the service VM's console or one guest's screen. */
struct screen;
/* d's screen onto the display from now on; 0, or -1 with msg (the display is unchanged). */
int dm_display_show(struct dm_dev *d, const struct screen *s, char *msg, size_t len);
/* The service VM's console back on the display (nothing if it is there). */
void dm_display_service(void);
bool dm_display_shows(const struct dm_dev *d);
/* At start: a display a dead keel-dm held (the console left in KD_GRAPHICS) goes back to the console. */
void dm_display_reset(void);
/* d's screen changed in x, y, w, h (whole: its size changed); nothing unless it is shown. */
void dm_display_update(struct dm_dev *d, const struct screen *s, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h, bool whole);
/* gpu.c: shows d (a gpu device) on the display; 0, or -1 with msg. */
int dm_gpu_display(struct dm_dev *d, char *msg, size_t len);
/*
 * input.c: a stream of "key CODE 0|1" and "pointer X Y BUTTONS [WHEEL]"
 * lines for a VM's keyboard and tablet. A display owns one: keel-vnc's.
 */
struct dm_input_stream {
	int fd; /* -1: none */
	char line[64];
	uint32_t len;
};
/* fd becomes the stream (the one before is closed); -1 if it cannot be made non-blocking. */
int dm_input_stream_attach(struct dm_input_stream *s, int fd);
void dm_input_stream_close(struct dm_input_stream *s);
/* The stream's fd polled revents: whole lines go to vm's keyboard and tablet. */
void dm_input_stream_read(struct dm_vm *vm, struct dm_input_stream *s, short revents);
/* gpu.c: fd becomes the input stream of d (a gpu device); 0, or -1. */
int dm_gpu_input(struct dm_dev *d, int fd);

#endif

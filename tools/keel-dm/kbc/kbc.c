// SPDX-License-Identifier: MIT
/*
 * A firmware VM's PS/2 keyboard controller (keelctl create --firmware --gpu):
 * the i8042 state machine (i8042.c) at ports 0x60 and 0x64, which Keel
 * forwards here (KCTL_OP_DM_PORTS), its IRQ 1 raised through Keel
 * (KCTL_OP_DM_IRQ), fed with the keys of the VM's display input stream. OVMF
 * has no virtio keyboard driver; its Ps2KeyboardDxe finds this controller
 * under the LPC bridge, and the boot loaders read keys through the firmware.
 * /run/keel-dm/<vm>.kbc.state keeps the state and the last answer, so a
 * restarted keel-dm carries on and a repeated data read gets the same byte.
 */
#include "i8042.h"
#include "../dm.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KBC_DATA 0x60 /* IBM PC/AT: the 8042's data port, and command/status 4 above */
#define KBC_STATUS 0x64
#define KBC_IRQ 1

/* What a restarted keel-dm needs (the state file's bytes). */
struct dm_kbc_state {
	uint32_t vcpu, seq, data, answered; /* the last request answered, and its answer */
	uint32_t irq, loads;		    /* the IRQ level Keel has, and the loads it saw */
	struct i8042 k;
};

struct dm_kbc {
	int state_fd;
	struct dm_kbc_state st;
	int reset; /* the guest pulsed the reset line: reboot once its request is answered */
	unsigned long long keys;
};

static void dm_kbc_state_path(struct dm *dm, const char *vm, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.kbc.state", dm->state_dir, vm);
}

static void dm_kbc_save(struct dm_vm *vm)
{
	struct dm_kbc *c = vm->kbc;

	if (c->state_fd >= 0 &&
	    pwrite(c->state_fd, &c->st, sizeof(c->st), 0) != (ssize_t)sizeof(c->st))
		dm_log("%s: cannot write the keyboard controller's state", vm->name);
}

/* The state a dead keel-dm left (restore), or power-on. */
static void dm_kbc_state_open(struct dm_vm *vm, struct dm_kbc *c, int restore)
{
	char path[300];

	c->state_fd = -1;
	i8042_reset(&c->st.k);
	if (!vm->dm->state_dir)
		return;
	mkdir(vm->dm->state_dir, 0700);
	dm_kbc_state_path(vm->dm, vm->name, path, sizeof(path));
	c->state_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (restore ? 0 : O_TRUNC), 0600);
	if (c->state_fd < 0) {
		dm_log("%s: cannot keep %s: %s", vm->name, path, strerror(errno));
		return;
	}
	if (restore && pread(c->state_fd, &c->st, sizeof(c->st), 0) == (ssize_t)sizeof(c->st) &&
	    c->st.k.qhead < I8042_QUEUE && c->st.k.qlen <= I8042_QUEUE &&
	    c->st.k.ctl_len <= sizeof(c->st.k.ctl))
		return;
	memset(&c->st, 0, sizeof(c->st));
	i8042_reset(&c->st.k);
}

/* IRQ 1 as the controller has it: each byte loaded while interrupts are on is a rising edge. */
static void dm_kbc_irq(struct dm_vm *vm)
{
	struct dm_kbc *c = vm->kbc;
	int level = i8042_irq(&c->st.k), edge = level && c->st.k.loads != c->st.loads;
	uint64_t args[4] = { KBC_IRQ, 0 };
	struct kctl_cmd cmd;

	c->st.loads = c->st.k.loads;
	if (c->st.irq && (!level || edge) &&
	    dm_cmd(vm->dm, KCTL_OP_DM_IRQ, vm->name, args, &cmd) == 0)
		c->st.irq = 0;
	args[1] = 1;
	if (!c->st.irq && level && dm_cmd(vm->dm, KCTL_OP_DM_IRQ, vm->name, args, &cmd) == 0)
		c->st.irq = 1;
}

int dm_kbc_attach(struct dm_vm *vm, int argc, char **argv, int restore, char *msg, size_t len)
{
	uint64_t data[4] = { KBC_DATA, 1, KBC_IRQ }, status[4] = { KBC_STATUS, 1, KCTL_DM_NO_IRQ };
	struct kctl_cmd cmd;
	struct dm_kbc *c;

	(void)argv;
	if (vm->kbc || argc != 1) {
		snprintf(msg, len,
			 vm->kbc ? "'%s' has its keyboard controller already" :
				   "kbc takes no arguments",
			 vm->name);
		return -1;
	}
	/* Keel forwards the ports from now on, for the VM's life: a restart does not ask again */
	if (!restore && (dm_cmd(vm->dm, KCTL_OP_DM_PORTS, vm->name, data, &cmd) ||
			 dm_cmd(vm->dm, KCTL_OP_DM_PORTS, vm->name, status, &cmd))) {
		snprintf(msg, len, "Keel refused the keyboard controller's ports: %s", cmd.msg);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	vm->kbc = c;
	dm_kbc_state_open(vm, c, restore);
	dm_kbc_save(vm);
	return 0;
}

void dm_kbc_close(struct dm_vm *vm)
{
	struct dm_kbc *c = vm->kbc;

	if (!c)
		return;
	if (c->state_fd >= 0)
		close(c->state_fd);
	free(c);
	vm->kbc = NULL;
}

void dm_kbc_forget(struct dm *dm, const char *vm)
{
	char path[300];

	if (!dm->state_dir)
		return;
	dm_kbc_state_path(dm, vm, path, sizeof(path));
	unlink(path);
}

int dm_kbc_access(struct dm_vm *vm, unsigned vcpu, unsigned seq, uint64_t port, unsigned size,
		  unsigned write, uint64_t *data)
{
	struct dm_kbc *c = vm ? vm->kbc : NULL;
	struct dm_kbc_state *st = c ? &c->st : NULL;

	if (!c || (port != KBC_DATA && port != KBC_STATUS))
		return -1;
	if (st->answered && st->vcpu == vcpu && st->seq == seq) { /* asked again after a restart */
		if (!write)
			*data = st->data;
		return 0;
	}
	if (write && i8042_write(&st->k, (unsigned)(port - KBC_DATA), (uint8_t)*data))
		c->reset = 1;
	if (!write) /* a wider read: the byte, and nothing in the ports above */
		*data = i8042_read(&st->k, (unsigned)(port - KBC_DATA)) |
			(size > 1 ? ~0ULL << 8 : 0);
	st->vcpu = vcpu, st->seq = seq, st->data = (uint32_t)*data, st->answered = 1;
	dm_kbc_irq(vm);
	dm_kbc_save(vm);
	return 0;
}

/*
 * After keel-dm answered the VM's requests: a pulse of the reset line (0xFE,
 * OVMF's warm reset and Linux's reboot=k) resets the VM as `keelctl reboot`
 * does; the vCPU that asked has its answer and spins until then.
 */
void dm_kbc_answered(struct dm_vm *vm)
{
	struct kctl_cmd cmd;

	if (!vm->kbc || !vm->kbc->reset)
		return;
	vm->kbc->reset = 0;
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_REBOOT;
	snprintf(cmd.name, sizeof(cmd.name), "%s", vm->name);
	snprintf(cmd.text, sizeof(cmd.text), "by the guest (keyboard controller)");
	if (ctl_run_slot(vm->dm->ctl, KCTL_DM_SLOT, &cmd))
		dm_log("%s: the guest pulsed the keyboard controller's reset line; Keel did not "
		       "reset it: %s",
		       vm->name, cmd.msg);
}

void dm_kbc_key(struct dm_vm *vm, unsigned code, int down)
{
	if (!vm->kbc)
		return;
	vm->kbc->keys++;
	i8042_key(&vm->kbc->st.k, code, down);
	dm_kbc_irq(vm);
	dm_kbc_save(vm);
}

void dm_kbc_describe(const struct dm_vm *vm, char *buf, size_t len)
{
	const struct i8042 *k = &vm->kbc->st.k;

	snprintf(buf, len, "ports 0x60 0x64 IRQ 1, command byte %#04x, %llu key events", k->cmd,
		 vm->kbc->keys);
}

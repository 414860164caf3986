// SPDX-License-Identifier: MIT
/* One keel-dm device: its backend, its PCI device number in Keel, its virtio-pci function. */
#include "dm.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct dm_kind *const dm_kinds[] = { &dm_disk_kind,  &dm_net_kind, &dm_console_kind,
						  &dm_rng_kind,	  &dm_gpu_kind, &dm_keyboard_kind,
						  &dm_tablet_kind };

const struct dm_kind *dm_kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(dm_kinds) / sizeof(dm_kinds[0]); i++)
		if (!strcmp(dm_kinds[i]->name, name))
			return dm_kinds[i];
	return NULL;
}

int dm_cmd(struct dm *dm, unsigned op, const char *name, const uint64_t args[4],
	   struct kctl_cmd *cmd)
{
	memset(cmd, 0, offsetof(struct kctl_cmd, text) + 1);
	cmd->op = op;
	if (name)
		snprintf(cmd->name, sizeof(cmd->name), "%s", name);
	for (int i = 0; args && i < 4; i++)
		cmd->args[i] = args[i];
	return ctl_run_slot(dm->ctl, KCTL_DM_SLOT, cmd);
}

static void dm_dev_msi(void *ctx, u64 addr, u32 data)
{
	struct dm_dev *d = ctx;
	uint64_t args[4] = { addr, data };
	struct kctl_cmd cmd;

	if (dm_cmd(d->vm->dm, KCTL_OP_DM_MSI, d->vm->name, args, &cmd) && !d->msi_failed++)
		dm_log("%s: 00:%02x.0 %s: Keel refused an MSI (address %#llx data %#x): %s",
		       d->vm->name, d->number, d->kind->name, (unsigned long long)addr, data,
		       cmd.msg);
}

/*
 * The guest's driver broke the virtio rules (the device is in NEEDS_RESET
 * already): a driver that does so is buggy or hostile, so the guest is
 * switched off, with the reason in `keelctl info`. Its devices go at the
 * next refresh, which sees it stopped.
 */
static void dm_dev_fault(void *ctx, const char *reason)
{
	struct dm_dev *d = ctx;
	static struct kctl_cmd cmd;

	dm_log("%s: 00:%02x.0 %s: %s: the VM stops", d->vm->name, d->number, d->kind->name, reason);
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_STOP;
	cmd.flags = KCTL_STOP_FORCE;
	snprintf(cmd.name, sizeof(cmd.name), "%s", d->vm->name);
	snprintf(cmd.text, sizeof(cmd.text), "its virtio %s 00:%02x.0 misbehaved: %s",
		 d->kind->name, d->number, reason);
	if (ctl_run_slot(d->vm->dm->ctl, KCTL_DM_SLOT, &cmd))
		dm_log("%s: Keel did not stop it: %s", d->vm->name, cmd.msg);
}

void dm_dev_doorbell_update(struct dm_dev *d)
{
	uint64_t bar = virtio_pci_bar_addr(&d->vp, VIRTIO_PCI_BAR_CFG);
	uint64_t args[4] = { d->number, 0, 0, VIRTIO_PCI_NOTIFY_MULT };
	struct kctl_cmd cmd;

	if (bar == d->doorbell)
		return;
	if (bar) {
		args[1] = bar + VIRTIO_PCI_NOTIFY_OFF;
		args[2] = (uint64_t)d->vdev->num_queues * VIRTIO_PCI_NOTIFY_MULT;
	}
	/* Refused, the notify writes still arrive as (slower) MMIO requests. */
	if (dm_cmd(d->vm->dm, KCTL_OP_DM_DOORBELL, d->vm->name, args, &cmd))
		dm_log("%s: 00:%02x.0 %s: doorbells at %#llx refused: %s", d->vm->name, d->number,
		       d->kind->name, (unsigned long long)args[1], cmd.msg);
	d->doorbell = bar;
}

int dm_args_split(char *line, char **argv, int max)
{
	char *save = NULL, *t = strtok_r(line, " \t\r", &save);
	int n = 0;

	for (; t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == max)
			return -1;
		argv[n++] = t;
	}
	return n;
}

/* Joins the arguments into d->args; 0 if they fit and hold no line breaks. */
static int dm_dev_set_args(struct dm_dev *d, int argc, char **argv)
{
	size_t at = 0;

	for (int i = 0; i < argc; i++) {
		int n = snprintf(d->args + at, sizeof(d->args) - at, "%s%s", i ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(d->args) - at || strpbrk(argv[i], "\n\r"))
			return -1;
		at += (size_t)n;
	}
	return 0;
}

/* Opens the backend as device number n and builds its PCI function. */
static int dm_dev_open(struct dm_dev *d, unsigned n, int argc, char **argv, char *msg, size_t len)
{
	struct virtio_pci_params p = {
		.mem = &d->vm->mem, .notify_msi = dm_dev_msi, .on_fault = dm_dev_fault, .ctx = d
	};

	d->number = n;
	if (d->kind->open(d, argc - 1, argv + 1, msg, len))
		return -1;
	if (virtio_pci_init(&d->vp, d->vdev, &p)) {
		d->kind->close(d);
		snprintf(msg, len, "cannot build the PCI function of the %s", d->kind->name);
		return -1;
	}
	return 0;
}

/*
 * Keel has no way to give a device number back, so the backend opens
 * first (as the number it will likely get) and a number is claimed only
 * for a device that works. A number Keel has in use (-EEXIST): the next.
 */
static int dm_dev_claim(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	struct dm_vm *vm = d->vm;
	struct kctl_cmd cmd;
	int err;

	snprintf(msg, len, "'%s' has no free PCI device number", vm->name);
	for (unsigned n = 1; n < KCTL_DM_DEVS; n++) {
		uint64_t args[4] = { n };

		if (vm->devs[n])
			continue;
		if (dm_dev_open(d, n, argc, argv, msg, len))
			return -1;
		err = dm_cmd(vm->dm, KCTL_OP_DM_ATTACH, vm->name, args, &cmd);
		if (!err)
			return 0;
		d->kind->close(d);
		snprintf(msg, len, "%s", cmd.msg[0] ? cmd.msg : "Keel refused the device");
		if (err != -EEXIST)
			return -1;
	}
	return -1;
}

struct dm_dev *dm_dev_attach(struct dm_vm *vm, int argc, char **argv, unsigned number, char *msg,
			     size_t len)
{
	const struct dm_kind *k = argc > 0 ? dm_kind_find(argv[0]) : NULL;
	struct dm_dev *d;
	int err;

	if (!k) {
		snprintf(msg, len, "unknown device kind '%s': disk, net, console, rng or gpu",
			 argc > 0 ? argv[0] : "");
		return NULL;
	}
	if (number >= KCTL_DM_DEVS || (number && vm->devs[number])) {
		snprintf(msg, len, "device number %u is not free", number);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	d->vm = vm;
	d->kind = k;
	if (dm_dev_set_args(d, argc, argv)) {
		snprintf(msg, len, "the arguments are too long or hold a line break");
		free(d);
		return NULL;
	}
	err = number ? dm_dev_open(d, number, argc, argv, msg, len) :
		       dm_dev_claim(d, argc, argv, msg, len);
	if (err) {
		free(d);
		return NULL;
	}
	vm->devs[d->number] = d;
	dm_log("%s: 00:%02x.0 %s", vm->name, d->number, d->args);
	if (!number)
		dm_dev_state_open(d, 0);
	return d;
}

void dm_dev_close(struct dm_dev *d)
{
	d->vm->devs[d->number] = NULL;
	dm_dev_state_close(d);
	d->kind->close(d);
	free(d);
}

void dm_dev_describe(struct dm_dev *d, char *buf, size_t len)
{
	const char *fault = virtio_dev_fault(d->vdev);
	int n = snprintf(buf, len, "00:%02x.0 ", d->number);

	if (n < 0 || (size_t)n >= len)
		return;
	if (d->kind->describe)
		d->kind->describe(d, buf + n, len - (size_t)n);
	else
		snprintf(buf + n, len - (size_t)n, "%s", d->args);
	if (fault) {
		n = (int)strlen(buf);
		snprintf(buf + n, len - (size_t)n, " FAILED: %s", fault);
	}
}

// SPDX-License-Identifier: MIT
/* /run/keel-dm/<vm>.devices: how each device was made, so a restarted keel-dm re-creates it. */
#include "dm.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DM_STATE_SUFFIX ".devices"
#define DM_STATE_WORDS 8

/*
 * The file:
 *   vm <id> <serial> <name>
 *   <device number> <kind> <arguments>...
 *   flash <path> <guest address>   (a firmware VM's variable store, flash/flash.c)
 *   kbc                            (a firmware VM's PS/2 keyboard controller, kbc/kbc.c)
 * It records how each device was made; each device's virtio state is in
 * <name>.<NN>.state beside it (dev_state.c).
 */
static void dm_state_path(struct dm *dm, const char *name, const char *suffix, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%s/%s%s", dm->state_dir, name, suffix);
}

void dm_state_save(struct dm_vm *vm)
{
	struct dm *dm = vm->dm;
	char path[256], tmp[264];
	FILE *f;
	int bad;

	if (!dm->state_dir)
		return;
	mkdir(dm->state_dir, 0700);
	dm_state_path(dm, vm->name, DM_STATE_SUFFIX, path, sizeof(path));
	dm_state_path(dm, vm->name, DM_STATE_SUFFIX ".new", tmp, sizeof(tmp));
	f = fopen(tmp, "w");
	if (!f) {
		dm_log("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "vm %u %llu %s\n", vm->id, (unsigned long long)vm->serial, vm->name);
	for (unsigned n = 0; n < KCTL_DM_DEVS; n++)
		if (vm->devs[n])
			fprintf(f, "%u %s\n", n, vm->devs[n]->args);
	if (vm->flash)
		fprintf(f, "%s\n", vm->flash_args);
	if (vm->kbc)
		fprintf(f, "kbc\n");
	bad = ferror(f);
	if (fclose(f) || bad || rename(tmp, path))
		dm_log("cannot write %s: %s", path, strerror(errno));
}

/* The devices file and every device's state file. */
void dm_state_forget(struct dm *dm, const char *name)
{
	char path[300];

	if (!dm->state_dir)
		return;
	dm_state_path(dm, name, DM_STATE_SUFFIX, path, sizeof(path));
	unlink(path);
	dm_dev_state_forget(dm, name);
	dm_flash_forget(dm, name);
	dm_kbc_forget(dm, name);
}

/*
 * Re-creates the devices in f of VM vm, as the device numbers Keel
 * already routes to keel-dm, each as its state file says the guest left
 * it (else at power-on). Returns how many came back with their state.
 */
static int dm_state_devices(struct dm_vm *vm, FILE *f)
{
	char line[DM_ARGS_MAX + 16], msg[KCTL_MSG_MAX + 64], *argv[DM_STATE_WORDS];
	struct dm_dev *d;
	int argc, restored = 0;
	unsigned n;

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		argc = dm_args_split(line, argv, DM_STATE_WORDS);
		if (argc >= 1 &&
		    !strcmp(argv[0], "flash")) { /* the variable store: its own state */
			if (dm_flash_attach(vm, argc, argv, 1, msg, sizeof(msg)))
				dm_log("%s: its variable store cannot be re-opened: %s", vm->name,
				       msg);
			else
				restored++;
			continue;
		}
		if (argc == 1 &&
		    !strcmp(argv[0], "kbc")) { /* the keyboard controller: its own state */
			if (dm_kbc_attach(vm, argc, argv, 1, msg, sizeof(msg)))
				dm_log("%s: its keyboard controller cannot be re-made: %s",
				       vm->name, msg);
			else
				restored++;
			continue;
		}
		if (argc < 2 || sscanf(argv[0], "%u", &n) != 1 || !n) {
			dm_log("%s: a bad line in its devices file is skipped", vm->name);
			continue;
		}
		d = dm_dev_attach(vm, argc - 1, argv + 1, n, msg, sizeof(msg));
		if (!d) {
			dm_log("%s: 00:%02x.0 cannot be re-created: %s", vm->name, n, msg);
		} else if (dm_dev_state_open(d, 1)) {
			dm_dev_state_resume(d);
			restored++;
		}
	}
	return restored;
}

/* One devices file: a VM still there (same id, serial and name, not ended) gets its devices back. */
static void dm_state_load(struct dm *dm, const char *file)
{
	char path[300], base[256], line[64], name[KCTL_NAME_MAX], msg[KCTL_MSG_MAX + 64];
	struct kctl_vm_info info;
	struct dm_vm *vm = NULL;
	unsigned long long serial;
	int restored;
	unsigned id;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dm->state_dir, file);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) &&
	    sscanf(line, "vm %u %llu %15s", &id, &serial, name) == 3 &&
	    !dm_vm_info(dm, name, &info, msg, sizeof(msg)) && info.id == id &&
	    info.serial == serial &&
	    (info.state == KCTL_VM_CREATED || info.state == KCTL_VM_RUNNING)) {
		vm = dm_vm_get(dm, &info, msg, sizeof(msg));
		if (!vm)
			dm_log("%s: its devices cannot be re-created: %s", name, msg);
	}
	if (vm) {
		restored = dm_state_devices(vm, f);
		if (restored == dm_vm_ndevs(vm))
			dm_log("%s: %d device(s) restored after a restart", vm->name, restored);
		else
			dm_log("%s: %d device(s) restored after a restart, %d at power-on state",
			       vm->name, restored, dm_vm_ndevs(vm) - restored);
	}
	fclose(f);
	if (!vm || !dm_vm_ndevs(vm)) {
		if (vm)
			dm_vm_close(vm, NULL);
		snprintf(base, sizeof(base), "%.*s", (int)(strlen(file) - strlen(DM_STATE_SUFFIX)),
			 file);
		dm_state_forget(dm, base); /* by the file's name: its first line may be bad */
	}
}

void dm_state_restore(struct dm *dm)
{
	size_t slen = strlen(DM_STATE_SUFFIX);
	DIR *d = dm->state_dir ? opendir(dm->state_dir) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > slen && !strcmp(e->d_name + len - slen, DM_STATE_SUFFIX))
			dm_state_load(dm, e->d_name);
	}
	if (d)
		closedir(d);
}

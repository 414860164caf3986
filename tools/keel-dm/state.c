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
 *   vm <id> <name>
 *   <device number> <kind> <arguments>...
 * It records how each device was made, not its virtio state.
 */
static void dm_state_path(struct dm *dm, const char *name, const char *suffix, char *buf, size_t len)
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
	fprintf(f, "vm %u %s\n", vm->id, vm->name);
	for (unsigned n = 0; n < KCTL_DM_DEVS; n++)
		if (vm->devs[n])
			fprintf(f, "%u %s\n", n, vm->devs[n]->args);
	bad = ferror(f);
	if (fclose(f) || bad || rename(tmp, path))
		dm_log("cannot write %s: %s", path, strerror(errno));
}

void dm_state_forget(struct dm *dm, const char *name)
{
	char path[256];

	if (!dm->state_dir)
		return;
	dm_state_path(dm, name, DM_STATE_SUFFIX, path, sizeof(path));
	unlink(path);
}

/* Re-creates the devices in f of VM vm, as the device numbers Keel already routes to keel-dm. */
static void dm_state_devices(struct dm_vm *vm, FILE *f)
{
	char line[DM_ARGS_MAX + 16], msg[KCTL_MSG_MAX + 64], *argv[DM_STATE_WORDS];
	unsigned n;
	int argc;

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		argc = dm_args_split(line, argv, DM_STATE_WORDS);
		if (argc < 2 || sscanf(argv[0], "%u", &n) != 1 || !n) {
			dm_log("%s: a bad line in its devices file is skipped", vm->name);
			continue;
		}
		if (!dm_dev_attach(vm, argc - 1, argv + 1, n, msg, sizeof(msg)))
			dm_log("%s: 00:%02x.0 cannot be re-created: %s", vm->name, n, msg);
	}
}

/* One devices file: a VM still there (same id and name, not ended) gets its devices back. */
static void dm_state_load(struct dm *dm, const char *file)
{
	char path[300], line[64], name[KCTL_NAME_MAX], msg[KCTL_MSG_MAX + 64];
	struct kctl_vm_info info;
	struct dm_vm *vm = NULL;
	unsigned id;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dm->state_dir, file);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && sscanf(line, "vm %u %15s", &id, name) == 2 &&
	    !dm_vm_info(dm, name, &info, msg, sizeof(msg)) && info.id == id &&
	    (info.state == KCTL_VM_CREATED || info.state == KCTL_VM_RUNNING)) {
		vm = dm_vm_get(dm, &info, msg, sizeof(msg));
		if (!vm)
			dm_log("%s: its devices cannot be re-created: %s", name, msg);
	}
	if (vm) {
		dm_state_devices(vm, f);
		dm_log("%s: %d device(s) re-created after a restart%s", vm->name, dm_vm_ndevs(vm),
		       info.state == KCTL_VM_RUNNING ? " at power-on state: the running guest's drivers do not expect that"
						     : "");
	}
	fclose(f);
	if (!vm || !dm_vm_ndevs(vm)) {
		if (vm)
			dm_vm_close(vm, NULL);
		unlink(path);
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

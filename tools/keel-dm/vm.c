// SPDX-License-Identifier: MIT
/* The VMs keel-dm serves: found through Keel's INFO and LIST, RAM mapped, dropped when gone. */
#include "dm.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LOW_RAM_MAX (3ULL << 30)  /* GPA [0, 3 GiB) is at window offset + 0 */
#define HIGH_RAM_GPA (4ULL << 30) /* the rest at GPA 4 GiB, window offset + 4 GiB */

static const char *const dm_state_names[] = { "created", "running",	    "stopped",
					      "dead",	 "being destroyed", "resetting" };

struct dm_vm *dm_vm_find(struct dm *dm, const char *name)
{
	for (unsigned i = 0; i < KCTL_MAX_VMS; i++)
		if (dm->vms[i] && !strcmp(dm->vms[i]->name, name))
			return dm->vms[i];
	return NULL;
}

struct dm_dev *dm_vm_dev(const struct dm_vm *vm, const struct dm_kind *kind)
{
	for (unsigned n = 0; vm && n < KCTL_DM_DEVS; n++)
		if (vm->devs[n] && vm->devs[n]->kind == kind)
			return vm->devs[n];
	return NULL;
}

int dm_vm_ndevs(const struct dm_vm *vm)
{
	int n = 0;

	for (unsigned i = 0; i < KCTL_DM_DEVS; i++)
		n += vm->devs[i] != NULL;
	return n + (vm->flash != NULL) + (vm->kbc != NULL);
}

int dm_vm_info(struct dm *dm, const char *name, struct kctl_vm_info *out, char *msg, size_t len)
{
	static struct kctl_cmd cmd;

	if (strlen(name) >= KCTL_NAME_MAX) {
		snprintf(msg, len, "no VM called '%s'", name);
		return -1;
	}
	if (dm_cmd(dm, KCTL_OP_INFO, name, NULL, &cmd)) {
		snprintf(msg, len, "%s", cmd.msg[0] ? cmd.msg : "Keel refused INFO");
		return -1;
	}
	memcpy(out, cmd.text, sizeof(*out));
	out->name[KCTL_NAME_MAX - 1] = 0;
	if (strcmp(out->name, name)) {
		snprintf(msg, len, "Keel answered INFO %s with VM '%s'", name, out->name);
		return -1;
	}
	return 0;
}

const char *dm_vm_state_name(unsigned state)
{
	return state < sizeof(dm_state_names) / sizeof(dm_state_names[0]) ? dm_state_names[state] :
									    "?";
}

static void dm_vm_unmap(struct dm_vm *vm)
{
	if (vm->low)
		munmap(vm->low, vm->low_len);
	if (vm->high)
		munmap(vm->high, vm->high_len);
	vm->low = vm->high = NULL;
}

/* The guest's RAM for the device models: one or two runs of the window. */
static int dm_vm_map(struct dm_vm *vm, char *msg, size_t len)
{
	struct ctl *c = vm->dm->ctl;

	vm->low_len = vm->memory < LOW_RAM_MAX ? vm->memory : LOW_RAM_MAX;
	vm->high_len = vm->memory - vm->low_len;
	vm->low = ctl_window_map(c, vm->window_offset, vm->low_len);
	if (vm->low && vm->high_len)
		vm->high = ctl_window_map(c, vm->window_offset + HIGH_RAM_GPA, vm->high_len);
	if (!vm->low || (vm->high_len && !vm->high)) {
		snprintf(msg, len, "cannot map the RAM of '%s' (window offset %#llx): %s", vm->name,
			 (unsigned long long)vm->window_offset, strerror(errno));
		dm_vm_unmap(vm);
		return -1;
	}
	guest_mem_init(&vm->mem);
	guest_mem_add_region(&vm->mem, 0, vm->low_len, vm->low);
	if (vm->high)
		guest_mem_add_region(&vm->mem, HIGH_RAM_GPA, vm->high_len, vm->high);
	return 0;
}

struct dm_vm *dm_vm_get(struct dm *dm, const struct kctl_vm_info *info, char *msg, size_t len)
{
	struct dm_vm *vm;

	if (info->id >= KCTL_MAX_VMS || info->service || !info->memory) {
		snprintf(msg, len, "'%s' cannot have keel-dm devices", info->name);
		return NULL;
	}
	vm = dm->vms[info->id];
	if (vm && vm->serial == info->serial)
		return vm;
	if (vm) /* an earlier VM with this id */
		dm_vm_close(vm, "is gone");
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	vm->dm = dm;
	snprintf(vm->name, sizeof(vm->name), "%s", info->name);
	vm->id = info->id;
	vm->serial = info->serial;
	vm->vcpus = info->vcpus;
	vm->memory = info->memory;
	vm->window_offset = info->window_offset;
	if (dm_vm_map(vm, msg, len)) {
		free(vm);
		return NULL;
	}
	dm->vms[vm->id] = vm;
	return vm;
}

void dm_vm_close(struct dm_vm *vm, const char *why)
{
	if (why && dm_vm_ndevs(vm))
		dm_log("%s %s: closing its devices", vm->name, why);
	for (unsigned n = 0; n < KCTL_DM_DEVS; n++)
		if (vm->devs[n])
			dm_dev_close(vm->devs[n]);
	dm_flash_close(vm);
	dm_kbc_close(vm);
	dm_vm_unmap(vm);
	vm->dm->vms[vm->id] = NULL;
	free(vm);
}

static const struct kctl_vm_info *dm_vm_listed(const struct kctl_cmd *cmd, unsigned id)
{
	const struct kctl_vm_info *v = (const struct kctl_vm_info *)cmd->text;
	uint64_t n = cmd->args[0];

	if (n > KCTL_TEXT_MAX / sizeof(*v))
		n = KCTL_TEXT_MAX / sizeof(*v);
	for (uint64_t i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

/* Why a served VM's devices must close now, or NULL while it may still use them. */
static const char *dm_vm_ended(const struct dm_vm *vm, const struct kctl_vm_info *i)
{
	if (!i || i->serial != vm->serial)
		return "is gone";
	if (i->state == KCTL_VM_STOPPED)
		return "stopped";
	if (i->state == KCTL_VM_DEAD)
		return "died";
	if (i->state == KCTL_VM_DESTROYING)
		return "is being destroyed";
	return NULL;
}

/* Nothing of keel-dm touches that VM's RAM any more: Keel may take it back. */
static void dm_vm_release(struct dm *dm, const struct kctl_vm_info *i)
{
	static struct kctl_cmd cmd;
	uint64_t args[4] = { i->serial, 0, 0, 0 };

	if (dm_cmd(dm, KCTL_OP_DM_RELEASE, NULL, args, &cmd))
		dm_log("%.15s: Keel refused its release: %s", i->name, cmd.msg);
}

void dm_vm_refresh(struct dm *dm)
{
	static struct kctl_cmd cmd;
	static int failed;

	if (dm_cmd(dm, KCTL_OP_LIST, NULL, NULL, &cmd)) {
		if (!failed++)
			dm_log("Keel refused LIST: %s", cmd.msg);
		return;
	}
	for (unsigned id = 0; id < KCTL_MAX_VMS; id++) {
		const struct kctl_vm_info *i = dm_vm_listed(&cmd, id);
		struct dm_vm *vm = dm->vms[id];
		const char *why;

		if (vm && (why = dm_vm_ended(vm, i))) {
			char name[KCTL_NAME_MAX];

			snprintf(name, sizeof(name), "%s", vm->name);
			dm_vm_close(vm, why);
			dm_state_forget(dm, name);
		} else if (!vm && i && !i->service && i->state == KCTL_VM_RUNNING) {
			dm_ioreq_serve(dm, id, i->vcpus, NULL); /* requests a lost keel-dm left */
		}
		if (i && i->release_pending && !dm->vms[id])
			dm_vm_release(dm, i); /* after its devices closed and its RAM is unmapped */
	}
}

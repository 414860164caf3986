// SPDX-License-Identifier: MIT
/*
 * Control commands from the service VM (struct kctl_cmd, keelctl_abi.h).
 * Each is parsed and checked first; on any error the slot says why in
 * words and nothing has changed.
 */
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/config.h>
#include <keel/control.h>
#include <keel/dm.h>
#include <keel/flash.h>
#include <lib/format.h>
#include <keel/guest.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <lib/string.h>
#include <keel/vm.h>

#define MIN_MEMORY (16 * MiB)
#define MAX_IMAGE (512 * MiB)

static int fail(struct kctl_cmd *c, int err, const char *fmt, ...) __printf(3, 4);
static int fail(struct kctl_cmd *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return err;
}

static bool valid_name(const char *n)
{
	size_t len = strnlen(n, KCTL_NAME_MAX);

	if (!len || len >= KCTL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-' ||
		      n[i] == '_'))
			return false;
	return true;
}

/* The named guest (not the service VM), or NULL with the reason set. */
static struct vm *guest_named(struct kctl_cmd *c, int *err)
{
	struct vm *vm;

	c->name[KCTL_NAME_MAX - 1] = 0;
	vm = vm_find(c->name);
	if (!vm) {
		*err = fail(c, -ENOENT, "no VM called '%s'", c->name);
		return NULL;
	}
	if (vm->id == 0) {
		*err = fail(c, -EPERM,
			    "'%s' is the service VM: it is managed from the Keel monitor", c->name);
		return NULL;
	}
	return vm;
}

static u64 free_bytes(void)
{
	return page_alloc_free_pages() * PAGE_SIZE;
}

static int cmd_create(struct kctl_cmd *c)
{
	u64 mem = c->args[0], offset;
	u32 vcpus = (u32)c->args[1];
	struct guest_config gc = { .name = c->name,
				   .memory = mem,
				   .vcpus = vcpus,
				   .first_cpu = nr_cpus > 1 ? 1 : 0,
				   .firmware = c->flags & KCTL_CREATE_FIRMWARE,
				   .console = control_console_out };
	char err[GUEST_ERR_MAX];
	struct vm *vm;

	c->name[KCTL_NAME_MAX - 1] = 0;
	if (!valid_name(c->name))
		return fail(c, -EINVAL, "'%s' is not a VM name: use 1 to 15 of a-z 0-9 - _",
			    c->name);
	if (vm_find(c->name))
		return fail(c, -EEXIST, "a VM called '%s' exists already", c->name);
	if (mem < MIN_MEMORY || mem % (2 * MiB))
		return fail(c, -EINVAL, "memory must be a multiple of 2 MiB, at least 16 MiB");
	if (gc.firmware && mem < CONFIG_MIN_FW_MEMORY)
		return fail(c, -EINVAL, "firmware needs at least %llu MiB of memory",
			    (unsigned long long)(CONFIG_MIN_FW_MEMORY / MiB));
	if (!vcpus || vcpus > VM_MAX_VCPUS)
		return fail(c, -EINVAL, "vCPUs must be between 1 and %d", VM_MAX_VCPUS);
	if (mem > free_bytes() ||
	    free_bytes() - mem < KEEL_POOL_RESERVE) /* no wrap past the reserve */
		return fail(c, -ENOMEM, "not enough free memory: %llu MiB asked, %llu MiB free",
			    (unsigned long long)(mem / MiB),
			    (unsigned long long)(free_bytes() / MiB));
	vm = guest_create(&gc, err);
	if (!vm)
		return fail(c, -ENOMEM, "%s", err);
	vm->on_crash_reset = c->flags & KCTL_CREATE_ON_CRASH_RESET;
	control_console_reset(vm->id);
	dm_vm_init(vm);
	if (control_window_map(vm, &offset)) {
		vm_destroy(vm);
		return fail(c, -ENOSPC, "the guest RAM window has no room for %llu MiB more",
			    (unsigned long long)(mem / MiB));
	}
	c->vm_id = vm->id;
	c->args[2] = offset;
	return 0;
}

/*
 * Moves len bytes of guest memory to fresh pool pages (the images the tool
 * staged there) and clears them in the guest: it starts with clean RAM.
 */
static u8 *copy_out(struct vm *vm, gpa_t gpa, u64 len, u64 *pages)
{
	u8 *buf;

	*pages = ALIGN_UP(len ?: 1, PAGE_SIZE) / PAGE_SIZE;
	buf = page_alloc_zeroed(*pages);
	if (buf && (vm_read(vm, gpa, buf, len) || vm_zero(vm, gpa, len))) {
		page_free(buf, *pages);
		return NULL;
	}
	return buf;
}

/* The firmware and its variable store, moved to pages the VM's flash maps. */
static int load_firmware(struct kctl_cmd *c, struct vm *vm)
{
	u64 cp = 0, vp = 0;
	u8 *code, *vars = NULL;
	char why[GUEST_ERR_MAX];

	if (!vm->firmware)
		return fail(c, -EINVAL, "'%s' was not created for firmware", c->name);
	if (vm->loaded)
		return fail(c, -EBUSY, "'%s' has its firmware already", c->name);
	if (!c->args[1] || c->args[1] > GUEST_FW_MAX || c->args[3] > GUEST_FW_MAX)
		return fail(c, -EINVAL, "firmware or variable store size out of range");
	if ((c->flags & KCTL_LOAD_VARS_DM) && !c->args[3])
		return fail(c, -EINVAL, "keel-dm's variable store needs a store to start from");
	code = copy_out(vm, c->args[0], c->args[1], &cp);
	if (code && c->args[3])
		vars = copy_out(vm, c->args[2], c->args[3], &vp);
	if (!code || (c->args[3] && !vars)) {
		if (code)
			page_free(code, cp);
		return fail(c, -ENOMEM,
			    "cannot read the staged images (outside the VM's RAM, or no memory)");
	}
	if (guest_firmware_check(code, c->args[1], vars, c->args[3], why)) {
		page_free(code, cp);
		if (vars)
			page_free(vars, vp);
		return fail(c, -EINVAL, "%s", why);
	}
	/* the pages are the VM's now */
	if (flash_attach(vm, code, cp, vars, vp, c->flags & KCTL_LOAD_VARS_DM))
		return fail(c, -ENOMEM, "no room to map the firmware");
	vm->loaded = true;
	return 0;
}

static int cmd_load(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);
	u64 kp = 0, ip = 0;
	u8 *k, *rd = NULL;
	char why[GUEST_ERR_MAX];
	struct guest_images im;
	size_t n;

	if (!vm)
		return err;
	if (vm->state != VM_CREATED)
		return fail(c, -EBUSY, "'%s' has been started already", c->name);
	if (c->flags & KCTL_LOAD_FIRMWARE)
		return load_firmware(c, vm);
	if (vm->firmware)
		return fail(c, -EINVAL, "'%s' boots its firmware, not a kernel", c->name);
	if (!c->args[1] || c->args[1] > MAX_IMAGE || c->args[3] > MAX_IMAGE)
		return fail(c, -EINVAL, "kernel or initrd size out of range");
	c->text[KCTL_TEXT_MAX - 1] = 0;
	k = copy_out(vm, c->args[0], c->args[1], &kp);
	if (k && c->args[3])
		rd = copy_out(vm, c->args[2], c->args[3], &ip);
	/* text: the kernel's command line, a NUL, then module 0's (within text, NUL-ended) */
	n = strlen(c->text);
	im = (struct guest_images){ k,	     c->args[1],
				    rd,	     c->args[3],
				    c->text, n + 1 < KCTL_TEXT_MAX ? c->text + n + 1 : "" };
	if (!k || (c->args[3] && !rd))
		err = fail(c, -ENOMEM,
			   "cannot read the staged images (outside the VM's RAM, or no memory)");
	else if (guest_load(vm, &im, why))
		err = fail(c, -ENOEXEC, "%s", why);
	else
		vm->loaded = true;
	if (k)
		page_free(k, kp);
	if (rd)
		page_free(rd, ip);
	return err;
}

static int cmd_start(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	if (!vm)
		return err;
	if (vm->state != VM_CREATED || !vm->loaded)
		return fail(c, -EINVAL, "'%s' is %s", c->name,
			    vm->state != VM_CREATED ? vm_state_name(vm->state) : "not loaded");
	vm_start(vm);
	control_raise(KCTL_IRQ_VM_STATE);
	return 0;
}

static int cmd_stop(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	if (!vm)
		return err;
	if (vm->state != VM_RUNNING && !(vm->state == VM_RESETTING && (c->flags & KCTL_STOP_FORCE)))
		return fail(c, -EINVAL, "'%s' is not running (%s)", c->name,
			    vm_state_name(vm->state));
	c->text[sizeof(c->text) - 1] = 0;
	for (char *p = c->text; *p; p++) /* it goes to Keel's log */
		if (*p < ' ' || *p > '~')
			*p = '?';
	if (c->flags & KCTL_STOP_FORCE)
		vm_stop(vm, "%s", c->text[0] ? c->text : "switched off by keelctl stop --force");
	else
		guest_power_button(vm);
	return 0;
}

static int cmd_reboot(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	if (!vm)
		return err;
	if (vm->state != VM_RUNNING)
		return fail(c, -EINVAL, "'%s' is not running (%s)", c->name,
			    vm_state_name(vm->state));
	c->text[KCTL_TEXT_MAX - 1] = 0; /* keel-dm says which of its devices asked */
	vm_reset(vm, "%s", c->text[0] ? c->text : "by keelctl reboot");
	return 0;
}

static int cmd_destroy(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	if (!vm)
		return err;
	vm_destroy(vm); /* the reaper frees it once keel-dm let go of its RAM */
	control_raise(KCTL_IRQ_VM_STATE);
	return 0;
}

BUILD_ASSERT(ARRAY_SIZE(((struct vm_unknown *)0)->msrs) == KCTL_UNKNOWN_LISTED &&
		     ARRAY_SIZE(((struct vm_unknown *)0)->port_list) == KCTL_UNKNOWN_LISTED,
	     "vm.unknown lists what kctl_vm_info has room for");

/* The unknown MSRs and ports the exit handlers counted (vmm/exit/msr.c, io.c). */
static void unknown_of(const struct vm_unknown *u, struct kctl_vm_info *r)
{
	r->unknown_msr_reads = __atomic_load_n(&u->msr_reads, __ATOMIC_RELAXED);
	r->unknown_msr_writes = __atomic_load_n(&u->msr_writes, __ATOMIC_RELAXED);
	r->unknown_ports = __atomic_load_n(&u->ports, __ATOMIC_RELAXED);
	for (u32 i = 0; i < KCTL_UNKNOWN_LISTED; i++) {
		u32 msr = __atomic_load_n(&u->msrs[i], __ATOMIC_RELAXED);
		u32 port = __atomic_load_n(&u->port_list[i], __ATOMIC_RELAXED);

		if (msr)
			r->unknown_msr[r->unknown_msrs_listed++] = msr - 1;
		if (port)
			r->unknown_port[r->unknown_ports_listed++] = (u16)(port - 1);
	}
}

static void info_of(struct vm *vm, struct kctl_vm_info *r)
{
	u64 exits = vm->exits_retired;

	memset(r, 0, sizeof(*r));
	strlcpy(r->name, vm->name, sizeof(r->name));
	r->id = vm->id;
	r->state = vm->destroy_pending	     ? KCTL_VM_DESTROYING :
		   vm->state == VM_RESETTING ? KCTL_VM_RESETTING :
					       (u32)vm->state;
	r->vcpus = vm->nr_vcpus;
	r->service = vm->id == 0;
	r->memory = vm->ram_size;
	r->uptime_ms = vm->start_ns && (vm->state == VM_RUNNING || vm->state == VM_RESETTING) ?
			       (time_ns() - vm->start_ns) / 1000000 :
			       0;
	for (u32 i = 0; i < vm->nr_vcpus && !vm->resources_freed; i++)
		exits += vm->vcpus[i]->exits_total;
	r->exits = exits;
	r->window_offset = vm->id ? control_window_offset(vm) : 0;
	r->serial = vm->serial;
	r->release_pending = control_release_pending(vm);
	strlcpy(r->why, vm->why, sizeof(r->why));
	unknown_of(&vm->unknown, r);
	r->flags = vm->on_crash_reset ? KCTL_INFO_ON_CRASH_RESET : 0;
	r->resets = (u32)vm->resets;
}

static int cmd_list(struct kctl_cmd *c)
{
	struct kctl_vm_info *r = (struct kctl_vm_info *)c->text;
	u32 n = 0;

	/* destroyed VMs too, until they are gone: keel-dm must see one wait for its release */
	for (u32 i = 0; i < nr_vms_created && (n + 1) * sizeof(*r) <= sizeof(c->text); i++)
		if (vms[i])
			info_of(vms[i], &r[n++]);
	c->args[0] = n;
	c->args[1] = free_bytes();
	c->args[2] = page_alloc_total_pages() * PAGE_SIZE;
	return 0;
}

static int cmd_info(struct kctl_cmd *c)
{
	struct vm *vm;

	c->name[KCTL_NAME_MAX - 1] = 0;
	vm = vm_find(c->name);
	for (u32 i = 0; !vm && i < nr_vms_created; i++) /* else one still being destroyed */
		if (vms[i] && !strcmp(vms[i]->name, c->name))
			vm = vms[i];
	if (!vm)
		return fail(c, -ENOENT, "no VM called '%s'", c->name);
	info_of(vm, (struct kctl_vm_info *)c->text);
	return 0;
}

static int cmd_dm_attach(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	return vm ? dm_attach(vm, c->args[0], c->msg, sizeof(c->msg)) : err;
}

static int cmd_dm_doorbell(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	return vm ? dm_set_doorbell(vm, c->args[0], c->args[1], c->args[2], c->args[3], c->msg,
				    sizeof(c->msg)) :
		    err;
}

static int cmd_dm_msi(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	return vm ? dm_msi(vm, c->args[0], c->args[1], c->msg, sizeof(c->msg)) : err;
}

static int cmd_dm_ports(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	return vm ? dm_ports(vm, c->args[0], c->args[1], c->args[2], c->msg, sizeof(c->msg)) : err;
}

static int cmd_dm_irq(struct kctl_cmd *c)
{
	int err = 0;
	struct vm *vm = guest_named(c, &err);

	return vm ? dm_irq(vm, c->args[0], c->args[1], c->msg, sizeof(c->msg)) : err;
}

static int cmd_dm_release(struct kctl_cmd *c)
{
	for (u32 i = 1; i < nr_vms_created; i++)
		if (vms[i] && vms[i]->serial == c->args[0] && !control_release(vms[i]))
			return 0;
	return fail(c, -ENOENT, "no VM with serial %llu waits for keel-dm to let go of it",
		    (unsigned long long)c->args[0]);
}

static int cmd_exits(struct kctl_cmd *c)
{
	struct vm *vm;

	c->name[KCTL_NAME_MAX - 1] = 0;
	vm = vm_find(c->name);
	if (!vm)
		return fail(c, -ENOENT, "no VM called '%s'", c->name);
	return control_cmd_exits(c, vm);
}

static u64 op_counts[KCTL_OP_COUNT]; /* under vm_admin_lock */

u64 control_op_count(u32 op)
{
	return op < KCTL_OP_COUNT ? READ_ONCE(op_counts[op]) : 0;
}

void control_execute(struct kctl_cmd *c)
{
	static int (*const ops[KCTL_OP_COUNT])(struct kctl_cmd *) = {
		[KCTL_OP_CREATE] = cmd_create,
		[KCTL_OP_LOAD] = cmd_load,
		[KCTL_OP_START] = cmd_start,
		[KCTL_OP_STOP] = cmd_stop,
		[KCTL_OP_DESTROY] = cmd_destroy,
		[KCTL_OP_LIST] = cmd_list,
		[KCTL_OP_INFO] = cmd_info,
		[KCTL_OP_DM_ATTACH] = cmd_dm_attach,
		[KCTL_OP_DM_DOORBELL] = cmd_dm_doorbell,
		[KCTL_OP_DM_MSI] = cmd_dm_msi,
		[KCTL_OP_DM_RELEASE] = cmd_dm_release,
		[KCTL_OP_DM_PORTS] = cmd_dm_ports,
		[KCTL_OP_DM_IRQ] = cmd_dm_irq,
		[KCTL_OP_REBOOT] = cmd_reboot,
		[KCTL_OP_EXITS] = cmd_exits,
	};
	static struct kctl_cmd copy; /* the service VM could change its slot while we work */
	u32 op;

	vm_admin_lock();
	memcpy(&copy, c, sizeof(copy));
	op = copy.op;
	copy.msg[0] = 0;
	if (op < KCTL_OP_COUNT)
		op_counts[op]++;
	copy.status = op < KCTL_OP_COUNT && ops[op] ?
			      ops[op](&copy) :
			      fail(&copy, -ENOSYS, "unknown command %u", op);
	memcpy(c, &copy, sizeof(copy));
	vm_admin_unlock();
}

// SPDX-License-Identifier: MIT
/* Host tests of the control commands' checks: what a hostile or mistaken service VM may ask. */
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/control.h>
#include <keel/dm.h>
#include <keel/guest.h>
#include <keel/page_alloc.h>
#include <keel/vm.h>
#include "test.h"
#include <stdlib.h>

/* --- stand-ins: a pool of 512 MiB free, and a record of what was created --- */
u32 nr_cpus = 2;
struct vm *vms[KCTL_MAX_VMS];
u32 nr_vms_created;
static u64 free_pages = 512 * MiB / PAGE_SIZE;
static u32 guests_created;
static struct vm created;

u64 time_ns(void)
{
	return 0;
}

u64 page_alloc_free_pages(void)
{
	return free_pages;
}

u64 page_alloc_total_pages(void)
{
	return 1024 * MiB / PAGE_SIZE;
}

void *page_alloc_zeroed(u64 pages)
{
	return calloc(pages, PAGE_SIZE);
}

void page_free(void *p, u64 pages)
{
	(void)pages;
	free(p);
}

struct vm *vm_find(const char *name)
{
	return created.id && !strcmp(created.name, name) ? &created : NULL;
}

struct vm *guest_create(const struct guest_config *gc, char *err)
{
	(void)err;
	guests_created++;
	memset(&created, 0, sizeof(created));
	strcpy(created.name, gc->name);
	created.id = 1;
	created.ram_size = gc->memory;
	return &created;
}

static char loaded_cmdline[KCTL_TEXT_MAX], loaded_initrd_cmdline[KCTL_TEXT_MAX];
static u64 loaded_initrd_size;

int guest_load(struct vm *vm, const struct guest_images *im, char *err)
{
	(void)vm, (void)err;
	strcpy(loaded_cmdline, im->cmdline);
	strcpy(loaded_initrd_cmdline, im->initrd_cmdline);
	loaded_initrd_size = im->initrd ? im->initrd_size : 0;
	return 0;
}

void guest_power_button(struct vm *vm)
{
	(void)vm;
}

void control_console_reset(u32 vm_id)
{
	(void)vm_id;
}

void control_console_out(struct vuart *u, void *ctx, u8 byte)
{
	(void)u, (void)ctx, (void)byte;
}

void control_raise(u32 irq)
{
	(void)irq;
}

int control_window_map(struct vm *vm, u64 *offset)
{
	(void)vm;
	*offset = 0;
	return 0;
}

bool control_release_pending(const struct vm *vm)
{
	return vm->destroy_pending; /* as the window does for a guest keel-dm serves */
}

int control_release(struct vm *vm)
{
	(void)vm;
	return -EINVAL;
}

u64 control_window_offset(const struct vm *vm)
{
	(void)vm;
	return 0;
}

void dm_vm_init(struct vm *vm)
{
	(void)vm;
}

int dm_attach(struct vm *vm, u64 dev, char *msg, u32 msg_len)
{
	(void)vm, (void)dev, (void)msg, (void)msg_len;
	return 0;
}

int dm_set_doorbell(struct vm *vm, u64 dev, u64 gpa, u64 len, u64 stride, char *msg, u32 msg_len)
{
	(void)vm, (void)dev, (void)gpa, (void)len, (void)stride, (void)msg, (void)msg_len;
	return 0;
}

int dm_msi(struct vm *vm, u64 addr, u64 data, char *msg, u32 msg_len)
{
	(void)vm, (void)addr, (void)data, (void)msg, (void)msg_len;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	vm->destroy_pending = true;
}

void vm_start(struct vm *vm)
{
	vm->state = VM_RUNNING;
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	(void)fmt;
	vm->state = VM_STOPPED;
}

const char *vm_state_name(enum vm_state s)
{
	return s == VM_RUNNING ? "running" : "other";
}

int vm_read(struct vm *vm, gpa_t gpa, void *buf, size_t len)
{
	(void)vm, (void)gpa;
	memset(buf, 0, len);
	return 0;
}

int vm_zero(struct vm *vm, gpa_t gpa, size_t len)
{
	(void)vm, (void)gpa, (void)len;
	return 0;
}

void vm_admin_lock(void)
{
}

void vm_admin_unlock(void)
{
}

static struct kctl_cmd cmd;

static int run(u32 op, const char *name, u64 a0, u64 a1)
{
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = op;
	strcpy(cmd.name, name);
	cmd.args[0] = a0;
	cmd.args[1] = a1;
	control_execute(&cmd);
	return cmd.status;
}

/* Keel keeps 64 MiB free for itself; a size near 2^64 must not wrap past that check. */
TEST(create_refuses_memory_that_wraps_the_reserve)
{
	guests_created = 0;
	memset(&created, 0, sizeof(created));
	CHECK_EQ(run(KCTL_OP_CREATE, "big", ~0ULL - 32 * MiB + 1, 1), -ENOMEM);
	CHECK(strstr(cmd.msg, "not enough free memory") != NULL);
	CHECK_EQ(guests_created, 0);
	CHECK_EQ(run(KCTL_OP_CREATE, "big", 512 * MiB - 62 * MiB, 1), -ENOMEM);
	CHECK_EQ(guests_created, 0);
	CHECK_EQ(run(KCTL_OP_CREATE, "fits", 512 * MiB - 64 * MiB, 1), 0);
	CHECK_EQ(guests_created, 1);
}

/* A destroyed guest stays listed, as destroying and waiting for keel-dm, until it is gone: else
 * keel-dm never sees the release it must give and the VM is never freed. */
TEST(list_shows_a_destroyed_vm_until_it_is_gone)
{
	struct kctl_vm_info *r = (struct kctl_vm_info *)cmd.text;

	memset(&created, 0, sizeof(created));
	CHECK_EQ(run(KCTL_OP_CREATE, "g3", 32 * MiB, 1), 0);
	vms[1] = &created;
	nr_vms_created = 2;
	CHECK_EQ(run(KCTL_OP_DESTROY, "g3", 0, 0), 0);
	CHECK_EQ(run(KCTL_OP_LIST, "", 0, 0), 0);
	CHECK_EQ(cmd.args[0], 1);
	CHECK(!strcmp(r[0].name, "g3"));
	CHECK_EQ(r[0].state, KCTL_VM_DESTROYING);
	CHECK(r[0].release_pending);
	vms[1] = NULL;
	nr_vms_created = 0;
}

/* INFO carries what the guest tried that Keel has not: counts, and the first MSRs and ports. */
TEST(info_shows_unknown_msrs_and_ports)
{
	struct kctl_vm_info *r = (struct kctl_vm_info *)cmd.text;

	memset(&created, 0, sizeof(created));
	CHECK_EQ(run(KCTL_OP_CREATE, "probe", 32 * MiB, 1), 0);
	vms[1] = &created;
	nr_vms_created = 2;
	created.unknown.msr_reads = 5;
	created.unknown.msr_writes = 2;
	created.unknown.ports = 7;
	created.unknown.msrs[0] = 0x12345678 + 1;
	created.unknown.msrs[1] = 0xc0011030 + 1;
	created.unknown.port_list[0] = 0x80 + 1;
	CHECK_EQ(run(KCTL_OP_INFO, "probe", 0, 0), 0);
	CHECK_EQ(r->unknown_msr_reads, 5);
	CHECK_EQ(r->unknown_msr_writes, 2);
	CHECK_EQ(r->unknown_ports, 7);
	CHECK_EQ(r->unknown_msrs_listed, 2);
	CHECK_EQ(r->unknown_msr[0], 0x12345678);
	CHECK_EQ(r->unknown_msr[1], 0xc0011030);
	CHECK_EQ(r->unknown_ports_listed, 1);
	CHECK_EQ(r->unknown_port[0], 0x80);
	memset(&created.unknown, 0, sizeof(created.unknown)); /* none: nothing listed */
	CHECK_EQ(run(KCTL_OP_INFO, "probe", 0, 0), 0);
	CHECK_EQ(r->unknown_msr_reads + r->unknown_ports + r->unknown_msrs_listed, 0);
	vms[1] = NULL;
	nr_vms_created = 0;
}

/* LOAD's text: the kernel's command line, then after its NUL module 0's (issue 18 item 1). */
TEST(load_passes_the_module_command_line_after_the_kernels)
{
	memset(&created, 0, sizeof(created));
	CHECK_EQ(run(KCTL_OP_CREATE, "mb", 32 * MiB, 1), 0);
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_LOAD;
	strcpy(cmd.name, "mb");
	cmd.args[0] = 8 * MiB, cmd.args[1] = 4096, cmd.args[2] = 16 * MiB, cmd.args[3] = 100;
	strcpy(cmd.text, "console=ttyS0");
	strcpy(cmd.text + strlen("console=ttyS0") + 1, "/mnt/mod.bin tag=7");
	control_execute(&cmd);
	CHECK_EQ(cmd.status, 0);
	CHECK(!strcmp(loaded_cmdline, "console=ttyS0"));
	CHECK(!strcmp(loaded_initrd_cmdline, "/mnt/mod.bin tag=7"));
	CHECK_EQ(loaded_initrd_size, 100);
	/* a command line filling the whole text leaves no room: the module's is empty */
	created.state = VM_CREATED;
	memset(cmd.text, 'x', KCTL_TEXT_MAX);
	cmd.status = 0;
	control_execute(&cmd);
	CHECK_EQ(cmd.status, 0);
	CHECK_EQ(strlen(loaded_cmdline), KCTL_TEXT_MAX - 1);
	CHECK(!strcmp(loaded_initrd_cmdline, ""));
}

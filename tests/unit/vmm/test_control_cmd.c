// SPDX-License-Identifier: MIT
/* Host tests of the control commands' checks: what a hostile or mistaken service VM may ask. */
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/control.h>
#include <keel/dm.h>
#include <keel/flash.h>
#include <keel/guest.h>
#include <keel/page_alloc.h>
#include <keel/vcpu_run.h>
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
	created.firmware = gc->firmware;
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

int dm_ports(struct vm *vm, u64 base, u64 count, u64 irq, char *msg, u32 msg_len)
{
	(void)vm, (void)base, (void)count, (void)irq, (void)msg, (void)msg_len;
	return 0;
}

int dm_irq(struct vm *vm, u64 irq, u64 level, char *msg, u32 msg_len)
{
	(void)vm, (void)irq, (void)level, (void)msg, (void)msg_len;
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

static u32 resets_asked;

void vm_reset(struct vm *vm, const char *fmt, ...)
{
	(void)fmt;
	resets_asked++;
	vm->state = VM_RESETTING;
}

const char *vm_state_name(enum vm_state s)
{
	return s == VM_RUNNING ? "running" : "other";
}

/* Guest RAM as the tool staged it: staged[] at staged_gpa, zeros elsewhere. */
static const u8 *staged;
static u64 staged_gpa, staged_len;

int vm_read(struct vm *vm, gpa_t gpa, void *buf, size_t len)
{
	(void)vm;
	memset(buf, 0, len);
	if (staged && gpa >= staged_gpa && gpa + len <= staged_gpa + staged_len)
		memcpy(buf, staged + (gpa - staged_gpa), len);
	return 0;
}

/* What the VM's flash was given: it frees the pages, as the VM would when it goes. */
static u32 flash_attached;
static u64 flash_code_pages, flash_vars_pages;
static u8 flash_code_first;
static bool flash_vars_dm;

int flash_attach(struct vm *vm, u8 *code, u64 code_pages, u8 *vars, u64 vars_pages, bool vars_dm)
{
	(void)vm;
	flash_attached++;
	flash_vars_dm = vars_dm;
	flash_code_pages = code_pages;
	flash_vars_pages = vars ? vars_pages : 0;
	flash_code_first = code[0];
	free(code);
	free(vars);
	return 0;
}

int vm_zero(struct vm *vm, gpa_t gpa, size_t len)
{
	(void)vm, (void)gpa, (void)len;
	return 0;
}

const char *const exit_names[EXIT_COUNT] = {
	[EXIT_IO] = "port I/O", [EXIT_HLT] = "HLT", [EXIT_NPF] = "nested page fault"
};

u64 control_reg_hits(bool write, u32 reg)
{
	return write && reg == KCTL_REG_IOREQ_DONE / 4 ? 9 : 0;
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

/*
 * --on-crash reset is the VM's (INFO shows it, and the resets); REBOOT resets
 * a running VM only; a resetting one is listed as RESETTING, not DESTROYING.
 */
TEST(on_crash_and_reboot)
{
	struct kctl_vm_info *r = (struct kctl_vm_info *)cmd.text;

	memset(&created, 0, sizeof(created));
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_CREATE;
	strcpy(cmd.name, "crashy");
	cmd.args[0] = 32 * MiB, cmd.args[1] = 1;
	cmd.flags = KCTL_CREATE_ON_CRASH_RESET;
	control_execute(&cmd);
	CHECK_EQ(cmd.status, 0);
	CHECK(created.on_crash_reset);
	vms[1] = &created;
	nr_vms_created = 2;
	resets_asked = 0;
	CHECK_EQ(run(KCTL_OP_REBOOT, "crashy", 0, 0), -EINVAL); /* created, not running */
	CHECK(strstr(cmd.msg, "not running") != NULL);
	CHECK_EQ(resets_asked, 0);
	created.state = VM_RUNNING;
	created.resets = 3;
	CHECK_EQ(run(KCTL_OP_REBOOT, "crashy", 0, 0), 0);
	CHECK_EQ(resets_asked, 1);
	CHECK_EQ(run(KCTL_OP_INFO, "crashy", 0, 0), 0);
	CHECK_EQ(r->state, KCTL_VM_RESETTING);
	CHECK_EQ(r->flags, KCTL_INFO_ON_CRASH_RESET);
	CHECK_EQ(r->resets, 3);
	CHECK_EQ(run(KCTL_OP_REBOOT, "crashy", 0, 0), -EINVAL); /* resetting already */
	CHECK_EQ(resets_asked, 1);
	CHECK_EQ(run(KCTL_OP_REBOOT, "nosuch", 0, 0), -ENOENT);
	memset(&created, 0, sizeof(created));
	CHECK_EQ(run(KCTL_OP_CREATE, "calm", 32 * MiB, 1), 0); /* default: stop */
	CHECK(!created.on_crash_reset);
	vms[1] = NULL;
	nr_vms_created = 0;
}

/* EXITS: counts summed over the vCPUs, by reason and by the handler each went to, 0s left out. */
TEST(exits_sums_the_vcpus_by_reason_and_device)
{
	static struct vcpu v0, v1;

	memset(&created, 0, sizeof(created));
	CHECK_EQ(run(KCTL_OP_CREATE, "ex", 32 * MiB, 1), 0);
	created.vcpus[0] = &v0, created.vcpus[1] = &v1, created.nr_vcpus = 2;
	created.io[0] = (struct io_handler){ 0x3f8, 8, NULL, NULL, NULL, "UART" };
	created.io[1] = (struct io_handler){ 0x70, 2, NULL, NULL, NULL, NULL };
	created.nr_io = 2;
	created.mmio[0] = (struct mmio_handler){ 0xfee00000, 4096, NULL, NULL, NULL, "local APIC" };
	created.nr_mmio = 1;
	v0.exits[EXIT_IO] = 3, v1.exits[EXIT_IO] = 4, v0.exits[EXIT_HLT] = 1;
	v0.io_exits[0] = 2, v1.io_exits[0] = 3, v1.io_exits[1] = 1, v1.io_exits[VM_MAX_IO] = 1;
	v0.mmio_exits[0] = 5, v1.mmio_exits[VM_MAX_MMIO] = 6, v1.dm_doorbells = 2;
	CHECK_EQ(run(KCTL_OP_EXITS, "ex", 0, 0), 0);
	CHECK_EQ(cmd.args[0], 8);
	CHECK_EQ(cmd.args[1], 0);
	CHECK(!strcmp(cmd.text, "7 exit port I/O\n1 exit HLT\n5 port UART\n1 port 0x70-0x71\n"
				"1 port none of Keel's\n5 mmio local APIC\n"
				"6 mmio none of Keel's (keel-dm's)\n2 keel-dm doorbell writes\n"));
	CHECK_EQ(run(KCTL_OP_EXITS, "nobody", 0, 0), -ENOENT);
	CHECK(strstr(cmd.msg, "no VM called 'nobody'") != NULL);
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

/* --- firmware VMs (issue 21) --- */

/*
 * Firmware volumes of these lengths end to end, each a header with FvLength
 * and "_FVH" (PI 1.8 vol. 3 3.2.1), then zeros: 16 MiB of room.
 */
static u8 *fv_image(const u64 *lens, u32 n)
{
	u8 *img = calloc(1, 16 * MiB);
	u64 off = 0;

	for (u32 i = 0; i < n; off += lens[i++]) {
		memcpy(img + off + 0x20, &lens[i], sizeof(lens[i]));
		memcpy(img + off + 0x28, "_FVH", 4);
		img[off] = 0x5a;
	}
	return img;
}

/* OVMF_CODE_4M.fd's volumes (FVMAIN_COMPACT, SECFV), then OVMF_VARS_4M.fd's one. */
static const u64 ovmf_4m[] = { 0x348000, 0x34000, 0x84000 };

static int load_fw_flags(const char *name, u8 *img, u64 code, u64 vars, u32 flags)
{
	staged = img, staged_gpa = 64 * MiB, staged_len = code + vars;
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_LOAD;
	cmd.flags = flags;
	strcpy(cmd.name, name);
	cmd.args[0] = 64 * MiB, cmd.args[1] = code;
	cmd.args[2] = 64 * MiB + code, cmd.args[3] = vars;
	control_execute(&cmd);
	staged = NULL;
	return cmd.status;
}

static int load_fw(const char *name, u8 *img, u64 code, u64 vars)
{
	return load_fw_flags(name, img, code, vars, KCTL_LOAD_FIRMWARE);
}

/* CREATE picks the flavor; firmware needs 128 MiB (OVMF's fixed-address use of low RAM). */
TEST(create_firmware_flavor_and_its_minimum)
{
	memset(&created, 0, sizeof(created));
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_CREATE, cmd.flags = KCTL_CREATE_FIRMWARE;
	strcpy(cmd.name, "fw"), cmd.args[0] = 64 * MiB, cmd.args[1] = 1;
	control_execute(&cmd);
	CHECK_EQ(cmd.status, -EINVAL);
	CHECK(strstr(cmd.msg, "firmware needs at least 128 MiB") != NULL);
	cmd.status = 0, cmd.args[0] = 128 * MiB;
	control_execute(&cmd);
	CHECK_EQ(cmd.status, 0);
	CHECK(created.firmware);
	CHECK_EQ(run(KCTL_OP_CREATE, "kernel", 32 * MiB, 1), 0);
	CHECK(!created.firmware);
}

/* The firmware and vars template go to the flash whole; the VM can then start, once. */
TEST(load_firmware_maps_code_and_vars)
{
	u8 *img = fv_image(ovmf_4m, 3);

	memset(&created, 0, sizeof(created));
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_CREATE, cmd.flags = KCTL_CREATE_FIRMWARE;
	strcpy(cmd.name, "fw"), cmd.args[0] = 256 * MiB, cmd.args[1] = 1;
	control_execute(&cmd);
	CHECK_EQ(cmd.status, 0);
	flash_attached = 0;
	CHECK_EQ(load_fw("fw", img, 0x37c000, 0x84000), 0);
	CHECK_EQ(flash_attached, 1);
	CHECK_EQ(flash_code_pages, 0x37c000 / PAGE_SIZE);
	CHECK_EQ(flash_vars_pages, 0x84000 / PAGE_SIZE);
	CHECK_EQ(flash_code_first, 0x5a);
	CHECK(!flash_vars_dm);
	CHECK(created.loaded);
	CHECK_EQ(load_fw("fw", img, 0x37c000, 0x84000), -EBUSY);
	CHECK_EQ(flash_attached, 1);
	CHECK_EQ(run(KCTL_OP_START, "fw", 0, 0), 0);
	free(img);
}

/* --vars: the store is keel-dm's; it needs one to start from. */
TEST(load_firmware_with_keel_dm_vars)
{
	u8 *img = fv_image(ovmf_4m, 3);

	memset(&created, 0, sizeof(created));
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_CREATE, cmd.flags = KCTL_CREATE_FIRMWARE;
	strcpy(cmd.name, "fw"), cmd.args[0] = 256 * MiB, cmd.args[1] = 1;
	control_execute(&cmd);
	flash_attached = 0;
	CHECK_EQ(load_fw_flags("fw", img, 0x37c000, 0, KCTL_LOAD_FIRMWARE | KCTL_LOAD_VARS_DM),
		 -EINVAL);
	CHECK(strstr(cmd.msg, "needs a store") != NULL);
	CHECK_EQ(flash_attached, 0);
	CHECK_EQ(load_fw_flags("fw", img, 0x37c000, 0x84000,
			       KCTL_LOAD_FIRMWARE | KCTL_LOAD_VARS_DM),
		 0);
	CHECK_EQ(flash_attached, 1);
	CHECK(flash_vars_dm);
	CHECK_EQ(flash_vars_pages, 0x84000 / PAGE_SIZE);
	free(img);
}

/* Each bad image says why, and nothing is mapped (ASan's leak check sees the pages go back). */
TEST(load_firmware_refuses_bad_images)
{
	u8 *img = fv_image(ovmf_4m, 2), *junk = calloc(1, 0x100000);

	memset(&created, 0, sizeof(created));
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = KCTL_OP_CREATE, cmd.flags = KCTL_CREATE_FIRMWARE;
	strcpy(cmd.name, "fw"), cmd.args[0] = 256 * MiB, cmd.args[1] = 1;
	control_execute(&cmd);
	flash_attached = 0;
	CHECK_EQ(load_fw("fw", img, 0x100000, 0), -EINVAL); /* cut inside the first volume */
	CHECK(strstr(cmd.msg, "not UEFI firmware volumes up to its end") != NULL);
	CHECK_EQ(load_fw("fw", img, 0x37b800, 0), -EINVAL);
	CHECK(strstr(cmd.msg, "whole 4 KiB pages") != NULL);
	CHECK_EQ(load_fw("fw", junk, 0x100000, 0), -EINVAL);
	CHECK_EQ(load_fw("fw", img, 0x37c000, 0x1000), -EINVAL); /* vars without a volume */
	CHECK(strstr(cmd.msg, "variable store") != NULL);
	CHECK_EQ(load_fw("fw", img, 0x37c000, 5 * MiB), -EINVAL);
	CHECK(strstr(cmd.msg, "64 KiB to 8 MiB") != NULL);
	CHECK_EQ(load_fw("fw", img, 0, 0), -EINVAL);
	CHECK_EQ(flash_attached, 0);
	CHECK(!created.loaded);
	CHECK_EQ(run(KCTL_OP_START, "fw", 0, 0), -EINVAL);
	/* a kernel into a firmware VM, firmware into a kernel VM */
	CHECK_EQ(run(KCTL_OP_LOAD, "fw", 8 * MiB, 4096), -EINVAL);
	CHECK(strstr(cmd.msg, "boots its firmware") != NULL);
	CHECK_EQ(run(KCTL_OP_CREATE, "kernel", 32 * MiB, 1), 0);
	CHECK_EQ(load_fw("kernel", img, 0x37c000, 0), -EINVAL);
	CHECK(strstr(cmd.msg, "not created for firmware") != NULL);
	CHECK_EQ(flash_attached, 0);
	free(img);
	free(junk);
}

// SPDX-License-Identifier: MIT
/* KCTL_OP_EXITS: a VM's exit counts by reason and by the device each went to, as text lines. */
#include <keel/control.h>
#include <lib/format.h>
#include <lib/string.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

/* The control device's registers by offset / 4, as keelctl_abi.h names them. */
static const char *const reg_names[CONTROL_REGS] = {
	"MAGIC",      "VERSION", "DOORBELL",	 "IRQ_STATUS",	"IRQ_ACK",
	"IRQ_ENABLE", "IRQ_GSI", "CONSOLE_KICK", "WINDOW_SIZE", "IOREQ_DONE",
};

static const char *const op_names[KCTL_OP_COUNT] = {
	[KCTL_OP_NONE] = "NONE",	   [KCTL_OP_CREATE] = "CREATE",
	[KCTL_OP_LOAD] = "LOAD",	   [KCTL_OP_START] = "START",
	[KCTL_OP_STOP] = "STOP",	   [KCTL_OP_DESTROY] = "DESTROY",
	[KCTL_OP_LIST] = "LIST",	   [KCTL_OP_INFO] = "INFO",
	[KCTL_OP_DM_ATTACH] = "DM_ATTACH", [KCTL_OP_DM_DOORBELL] = "DM_DOORBELL",
	[KCTL_OP_DM_MSI] = "DM_MSI",	   [KCTL_OP_DM_RELEASE] = "DM_RELEASE",
	[KCTL_OP_DM_PORTS] = "DM_PORTS",   [KCTL_OP_DM_IRQ] = "DM_IRQ",
	[KCTL_OP_EXITS] = "EXITS",
};
BUILD_ASSERT(ARRAY_SIZE(op_names) == KCTL_OP_COUNT, "a name for every command");

struct lines {
	char *buf;
	u32 len, size, n;
	bool full;
};

/* One line "COUNT LABEL"; counts of 0 are left out. */
static void line(struct lines *l, u64 count, const char *fmt, ...) __printf(3, 4);
static void line(struct lines *l, u64 count, const char *fmt, ...)
{
	char label[64];
	va_list ap;
	int n;

	if (!count)
		return;
	va_start(ap, fmt);
	format_vsnprintf(label, sizeof(label), fmt, ap);
	va_end(ap);
	n = format_snprintf(l->buf + l->len, l->size - l->len, "%llu %s\n",
			    (unsigned long long)count, label);
	if (n < 0 || (u32)n >= l->size - l->len) {
		l->buf[l->len] = 0; /* whole lines only */
		l->full = true;
		return;
	}
	l->len += (u32)n;
	l->n++;
}

static u64 sum(struct vm *vm, size_t field, u32 i)
{
	u64 n = 0;

	for (u32 j = 0; j < vm->nr_vcpus; j++)
		n += READ_ONCE(((const u64 *)((const u8 *)vm->vcpus[j] + field))[i]);
	return n;
}

#define SUM(vm, f, i) sum(vm, offsetof(struct vcpu, f), i)

/* The service VM's accesses to the control device, by register, and its commands. */
static void control_lines(struct lines *l)
{
	for (u32 r = 0; r < CONTROL_REGS; r++) {
		line(l, control_reg_hits(false, r), "control read %s", reg_names[r]);
		line(l, control_reg_hits(true, r), "control write %s", reg_names[r]);
	}
	for (u32 op = 0; op < KCTL_OP_COUNT; op++)
		line(l, control_op_count(op), "control command %s",
		     op_names[op] ? op_names[op] : "?");
}

int control_cmd_exits(struct kctl_cmd *c, struct vm *vm)
{
	struct lines l = { c->text, 0, sizeof(c->text), 0, false };

	c->text[0] = 0;
	if (vm->resources_freed)
		return 0;
	for (u32 r = 0; r < EXIT_COUNT; r++)
		line(&l, SUM(vm, exits, r), "exit %s", exit_names[r]);
	for (u32 i = 0; i < vm->nr_io; i++)
		if (vm->io[i].name)
			line(&l, SUM(vm, io_exits, i), "port %s", vm->io[i].name);
		else
			line(&l, SUM(vm, io_exits, i), "port 0x%x-0x%x", vm->io[i].base,
			     vm->io[i].base + vm->io[i].count - 1);
	line(&l, SUM(vm, io_exits, VM_MAX_IO), "port none of Keel's");
	for (u32 i = 0; i < vm->nr_mmio; i++)
		if (vm->mmio[i].name)
			line(&l, SUM(vm, mmio_exits, i), "mmio %s", vm->mmio[i].name);
		else
			line(&l, SUM(vm, mmio_exits, i), "mmio 0x%llx",
			     (unsigned long long)vm->mmio[i].base);
	line(&l, SUM(vm, mmio_exits, VM_MAX_MMIO), "mmio none of Keel's (keel-dm's)");
	line(&l, SUM(vm, dm_doorbells, 0), "keel-dm doorbell writes");
	line(&l, SUM(vm, dm_requests, 0), "keel-dm requests answered");
	if (!vm->id)
		control_lines(&l);
	c->args[0] = l.n;
	c->args[1] = l.full;
	return 0;
}

// SPDX-License-Identifier: MIT
/* keelctl: create, start, stop, destroy, list and reach guest VMs from the service VM. */
#include "keelctl.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1ULL << 20)

static const char *const state_names[] = { "created", "running",    "stopped",
					   "dead",    "destroying", "resetting" };

const char keelctl_usage[] =
	"usage: keelctl create NAME --mem SIZE --vcpus N --kernel FILE [--initrd 'FILE [ARGS]'] [--cmdline STR]\n"
	"                      [--disk FILE[,ro]]... [--net BRIDGE]... [--console virtio] [--rng]\n"
	"                      [--gpu [WIDTHxHEIGHT]] [--on-crash stop|reset]\n"
	"       keelctl create NAME --mem SIZE --vcpus N --firmware [FILE] [--vars FILE] [devices as above]\n"
	"       keelctl start NAME\n"
	"       keelctl stop NAME [--force]\n"
	"       keelctl reboot NAME\n"
	"       keelctl destroy NAME\n"
	"       keelctl list\n"
	"       keelctl info NAME\n"
	"       keelctl exits NAME        (exit counts by reason and device, since it was made)\n"
	"       keelctl console NAME      (Ctrl-] detaches)\n"
	"       keelctl screenshot NAME FILE.png\n"
	"       keelctl display NAME | --service   (the machine's own screen)\n"
	"  --disk, --net, --console virtio, --rng and --gpu are virtio devices served by keel-dm, which\n"
	"  must be running; --console virtio makes the default command line console=ttyS0 console=hvc0;\n"
	"  --gpu's display prefers 1024x768 unless told (640x480 to 1920x1080); it comes with a virtio\n"
	"  keyboard and tablet (with --firmware, a PS/2 keyboard too), and keel-vnc serves it over VNC\n"
	"  on port 5900 + the VM's id (keelctl info).\n"
	"  A multiboot kernel gets --initrd as module 0, with all of 'FILE ARGS' as its command line.\n"
	"  --firmware boots UEFI firmware instead of a kernel (default " KEELCTL_FIRMWARE "); its\n"
	"  variable store template is the file of the same name with VARS for CODE, if there is one,\n"
	"  and variables stay in the VM's RAM. --vars FILE keeps them in FILE (made from the template\n"
	"  when it is not there), a flash keel-dm serves: they outlive reboots, stop and start.\n"
	"  --on-crash: what a triple fault does, stop the VM (the default) or reset it.\n"
	"  reboot resets a running VM in place, as its own reset does. start of a stopped (or dead) VM\n"
	"  creates it again as it was created (same files, devices and --vars) and starts it.\n";

struct kctl_cmd *new_cmd(enum kctl_op op, const char *name)
{
	static struct kctl_cmd c;

	memset(&c, 0, sizeof(c));
	c.op = op;
	if (name) {
		if (strlen(name) >= KCTL_NAME_MAX)
			die("'%s': VM names have at most %d characters", name, KCTL_NAME_MAX - 1);
		strcpy(c.name, name);
	}
	return &c;
}

void check(struct ctl *c, struct kctl_cmd *cmd, const char *what)
{
	if (ctl_run(c, cmd))
		die("%s: %s", what, cmd->msg[0] ? cmd->msg : strerror(-cmd->status));
}

static int find_vm(struct ctl *c, const char *name, struct kctl_vm_info *out)
{
	struct kctl_cmd *cmd = new_cmd(KCTL_OP_INFO, name);

	if (ctl_run(c, cmd))
		return -1;
	memcpy(out, cmd->text, sizeof(*out));
	return 0;
}

static int cmd_simple(struct ctl *c, enum kctl_op op, const char *name, const char *done)
{
	check(c, new_cmd(op, name), done);
	printf("%s %s\n", done, name);
	return 0;
}

static int cmd_stop(struct ctl *c, int argc, char **argv)
{
	struct kctl_cmd *cmd = new_cmd(KCTL_OP_STOP, argv[0]);
	struct kctl_vm_info vm;
	int force = argc > 1 && !strcmp(argv[1], "--force");

	cmd->flags = force ? KCTL_STOP_FORCE : 0;
	check(c, cmd, "stop");
	for (int i = 0; i < 300; i++) { /* 30 s for the guest to power off */
		if (find_vm(c, argv[0], &vm) || vm.state != KCTL_VM_RUNNING) {
			printf("stopped %s%s\n", argv[0], force ? " (forced)" : "");
			return 0;
		}
		usleep(100000);
	}
	die("%s did not power off within 30 s after the power button; use 'keelctl stop %s --force'",
	    argv[0], argv[0]);
}

void destroy_wait(struct ctl *c, const char *name)
{
	struct kctl_vm_info vm;

	check(c, new_cmd(KCTL_OP_DESTROY, name), "destroy");
	for (int i = 0; i < 300; i++) { /* Keel frees it once its vCPUs are off their CPUs */
		if (find_vm(c, name, &vm) || vm.state != KCTL_VM_DESTROYING)
			return;
		usleep(100000);
	}
	die("%s is still being destroyed after 30 s (its memory is not back yet)", name);
}

static int cmd_destroy(struct ctl *c, const char *name)
{
	destroy_wait(c, name);
	record_forget(name);
	printf("destroyed %s\n", name);
	return 0;
}

/* A stopped or dead VM starts again from power-on: created again as it was (restart.c). */
static int cmd_start(struct ctl *c, const char *name)
{
	struct kctl_vm_info vm;

	if (!find_vm(c, name, &vm) && !vm.service &&
	    (vm.state == KCTL_VM_STOPPED || vm.state == KCTL_VM_DEAD))
		recreate(c, name, vm.state == KCTL_VM_STOPPED ? "stopped" : "dead");
	return cmd_simple(c, KCTL_OP_START, name, "started");
}

static const char *state_name(unsigned s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static const char *on_crash(const struct kctl_vm_info *v)
{
	return v->service ? "-" : v->flags & KCTL_INFO_ON_CRASH_RESET ? "reset" : "stop";
}

static int cmd_list(struct ctl *c)
{
	struct kctl_cmd *cmd = new_cmd(KCTL_OP_LIST, NULL);
	struct kctl_vm_info *v = (struct kctl_vm_info *)cmd->text;

	check(c, cmd, "list");
	printf("%-15s %-10s %5s %9s %10s %10s %6s %s\n", "NAME", "STATE", "VCPUS", "MEMORY",
	       "UPTIME", "EXITS", "RESETS", "ON-CRASH");
	for (unsigned long long i = 0; i < cmd->args[0]; i++)
		printf("%-15s %-10s %5u %6llu MiB %8llu s %10llu %6u %s\n", v[i].name,
		       state_name(v[i].state), v[i].vcpus, v[i].memory / MiB, v[i].uptime_ms / 1000,
		       v[i].exits, v[i].resets, on_crash(&v[i]));
	printf("memory: %llu KiB free of %llu KiB\n", cmd->args[1] >> 10, cmd->args[2] >> 10);
	return 0;
}

static void info_device(const char *line)
{
	static int first = 1;

	printf("%s%s\n", first ? "devices: " : "         ", line);
	first = 0;
}

/* What the guest tried that Keel has not: "unknown: 3 MSR reads (0x140, 0x1a2), 1 port access (0x80)". */
static void info_unknown(const struct kctl_vm_info *v)
{
	unsigned i;

	printf("unknown: %llu MSR reads, %llu MSR writes", v->unknown_msr_reads,
	       v->unknown_msr_writes);
	for (i = 0; i < v->unknown_msrs_listed && i < KCTL_UNKNOWN_LISTED; i++)
		printf("%s%#x", i ? " " : " (", v->unknown_msr[i]);
	printf("%s, %llu port accesses", i ? ")" : "", v->unknown_ports);
	for (i = 0; i < v->unknown_ports_listed && i < KCTL_UNKNOWN_LISTED; i++)
		printf("%s%#x", i ? " " : " (", v->unknown_port[i]);
	printf("%s\n", i ? ")" : "");
}

/* The VM's exit counts as Keel gives them: "COUNT LABEL" lines, the count right-aligned. */
static int cmd_exits(struct ctl *c, const char *name)
{
	struct kctl_cmd *cmd = new_cmd(KCTL_OP_EXITS, name);
	char *p;

	check(c, cmd, "exits");
	cmd->text[sizeof(cmd->text) - 1] = 0;
	for (p = cmd->text; *p;) {
		char *end = strchr(p, '\n'), *sp = strchr(p, ' ');

		if (!end || !sp || sp > end)
			die("exits: a line from Keel is not 'COUNT LABEL': %.40s", p);
		printf("%12.*s %.*s\n", (int)(sp - p), p, (int)(end - sp - 1), sp + 1);
		p = end + 1;
	}
	if (cmd->args[1])
		printf("(more counts than fit in one answer)\n");
	return 0;
}

static int cmd_info(struct ctl *c, const char *name)
{
	struct kctl_cmd *cmd = new_cmd(KCTL_OP_INFO, name);
	struct kctl_vm_info *v = (struct kctl_vm_info *)cmd->text;
	char req[64], msg[512];

	check(c, cmd, "info");
	printf("name:    %s%s\nid:      %u\nstate:   %s%s%s\nvcpus:   %u\nmemory:  %llu MiB\n"
	       "uptime:  %llu s\nexits:   %llu\nresets:  %u\non-crash: %s\n"
	       "console: keelctl console %s\n",
	       v->name, v->service ? " (the service VM)" : "", v->id, state_name(v->state),
	       v->why[0] ? ": " : "", v->why, v->vcpus, v->memory / MiB, v->uptime_ms / 1000,
	       v->exits, v->resets, on_crash(v), v->name);
	info_unknown(v);
	snprintf(req, sizeof(req), "devices %s", name);
	if (dm_client_call(req, info_device, msg, sizeof(msg)) && access(KEEL_DM_SOCKET, F_OK) == 0)
		printf("devices: unknown (%s)\n", msg);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl c;
	struct kctl_vm_info vm;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(keelctl_usage, argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (strcmp(argv[1], "list") && argc < 3)
		die("%s needs a VM name\n%s", argv[1], keelctl_usage);
	ctl_open(&c);
	if (!strcmp(argv[1], "create"))
		return cmd_create(&c, argc - 2, argv + 2);
	if (!strcmp(argv[1], "start"))
		return cmd_start(&c, argv[2]);
	if (!strcmp(argv[1], "stop"))
		return cmd_stop(&c, argc - 2, argv + 2);
	if (!strcmp(argv[1], "destroy"))
		return cmd_destroy(&c, argv[2]);
	if (!strcmp(argv[1], "reboot"))
		return cmd_simple(&c, KCTL_OP_REBOOT, argv[2], "rebooted");
	if (!strcmp(argv[1], "list"))
		return cmd_list(&c);
	if (!strcmp(argv[1], "info"))
		return cmd_info(&c, argv[2]);
	if (!strcmp(argv[1], "exits"))
		return cmd_exits(&c, argv[2]);
	if (!strcmp(argv[1], "display")) {
		char req[64], msg[300];

		if (argc != 3)
			die("display needs a VM name or --service\n%s", keelctl_usage);
		snprintf(req, sizeof(req), "display %s", argv[2]);
		if (dm_client_call(req, NULL, msg, sizeof(msg)))
			die("display: %s", msg);
		if (!strcmp(argv[2], "--service"))
			printf("the local display shows the service VM's console\n");
		else
			printf("the local display shows %s\n", argv[2]);
		return 0;
	}
	if (!strcmp(argv[1], "screenshot")) {
		if (argc != 4)
			die("screenshot needs a VM name and a file\n%s", keelctl_usage);
		return cmd_screenshot(argv[2], argv[3]);
	}
	if (!strcmp(argv[1], "console")) {
		if (find_vm(&c, argv[2], &vm))
			die("console: no VM called '%s'", argv[2]);
		return console_run(&c, argv[2], vm.id);
	}
	die("unknown command '%s'\n%s", argv[1], keelctl_usage);
}

// SPDX-License-Identifier: MIT
/* keelctl: create, start, stop, destroy, list and reach guest VMs from the service VM. */
#include "ctl.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MiB (1ULL << 20)
#define STAGE_TOP (3ULL << 30) /* staged images stay below the hole under 4 GiB */

static const char *const state_names[] = { "created", "running", "stopped", "dead", "destroying" };

static const char usage[] =
	"usage: keelctl create NAME --mem SIZE --vcpus N --kernel FILE [--initrd FILE] [--cmdline STR]\n"
	"       keelctl start NAME\n"
	"       keelctl stop NAME [--force]\n"
	"       keelctl destroy NAME\n"
	"       keelctl list\n"
	"       keelctl info NAME\n"
	"       keelctl console NAME      (Ctrl-] detaches)\n";

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (end == s)
		die("'%s' is not a size (like 512M or 2G)", s);
	switch (*end) {
	case 'G': case 'g': return v << 30;
	case 'M': case 'm': return v << 20;
	case 'K': case 'k': return v << 10;
	case 0: return v;
	}
	die("'%s' is not a size (like 512M or 2G)", s);
}

/* Reads a whole file, or says why it cannot. */
static void *slurp(const char *path, uint64_t *size)
{
	struct stat st;
	void *buf;
	FILE *f = fopen(path, "rb");

	if (!f)
		die("cannot read '%s': %s", path, strerror(errno));
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || !st.st_size)
		die("cannot read '%s': not a non-empty regular file", path);
	*size = (uint64_t)st.st_size;
	buf = malloc(*size);
	if (!buf || fread(buf, 1, *size, f) != *size)
		die("cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	return buf;
}

static struct kctl_cmd *new_cmd(enum kctl_op op, const char *name)
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

static void check(struct ctl *c, struct kctl_cmd *cmd, const char *what)
{
	if (ctl_run(c, cmd))
		die("%s: %s", what, cmd->msg[0] ? cmd->msg : strerror(-cmd->status));
}

static int cmd_create(struct ctl *c, int argc, char **argv)
{
	uint64_t mem = 0, ksize, isize = 0, top, kgpa, igpa = 0;
	const char *kernel = NULL, *initrd = NULL, *cmdline = "console=ttyS0", *name = argv[0];
	unsigned vcpus = 1;
	void *k, *rd = NULL;
	uint8_t *win;
	struct kctl_cmd *cmd;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mem")) mem = parse_size(argv[i + 1]);
		else if (!strcmp(argv[i], "--vcpus")) vcpus = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--kernel")) kernel = argv[i + 1];
		else if (!strcmp(argv[i], "--initrd")) initrd = argv[i + 1];
		else if (!strcmp(argv[i], "--cmdline")) cmdline = argv[i + 1];
		else die("unknown option '%s'\n%s", argv[i], usage);
	}
	if (!mem || !kernel)
		die("create needs --mem and --kernel\n%s", usage);
	if (strlen(cmdline) >= KCTL_TEXT_MAX)
		die("the command line is longer than %d characters", KCTL_TEXT_MAX - 1);
	k = slurp(kernel, &ksize); /* before anything changes */
	if (initrd)
		rd = slurp(initrd, &isize);
	top = mem < STAGE_TOP ? mem : STAGE_TOP;
	if (ksize + isize + MiB > top) /* staged above the first MiB; Keel copies them out */
		die("%llu MiB of memory is too little for these images", (unsigned long long)(mem / MiB));
	cmd = new_cmd(KCTL_OP_CREATE, name);
	cmd->args[0] = mem;
	cmd->args[1] = vcpus;
	check(c, cmd, "create");
	win = ctl_window(c, cmd->args[2], top);
	igpa = (top - isize) & ~0xfffULL;
	kgpa = (igpa - ksize) & ~0xfffULL;
	memcpy(win + kgpa, k, ksize);
	if (rd)
		memcpy(win + igpa, rd, isize);
	cmd = new_cmd(KCTL_OP_LOAD, name);
	cmd->args[0] = kgpa, cmd->args[1] = ksize, cmd->args[2] = igpa, cmd->args[3] = isize;
	strcpy(cmd->text, cmdline);
	if (ctl_run(c, cmd)) {
		char why[KCTL_MSG_MAX];

		snprintf(why, sizeof(why), "%s", cmd->msg);
		ctl_run(c, new_cmd(KCTL_OP_DESTROY, name)); /* leave nothing behind */
		die("cannot load '%s': %s", kernel, why);
	}
	printf("created %s: %llu MiB, %u vCPU(s)\n", name, (unsigned long long)(mem / MiB), vcpus);
	return 0;
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

static int cmd_destroy(struct ctl *c, const char *name)
{
	struct kctl_vm_info vm;

	check(c, new_cmd(KCTL_OP_DESTROY, name), "destroy");
	for (int i = 0; i < 300; i++) { /* Keel frees it once its vCPUs are off their CPUs */
		if (find_vm(c, name, &vm) || vm.state != KCTL_VM_DESTROYING) {
			printf("destroyed %s\n", name);
			return 0;
		}
		usleep(100000);
	}
	die("%s is still being destroyed after 30 s (its memory is not back yet)", name);
}

static const char *state_name(unsigned s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static int cmd_list(struct ctl *c)
{
	struct kctl_cmd *cmd = new_cmd(KCTL_OP_LIST, NULL);
	struct kctl_vm_info *v = (struct kctl_vm_info *)cmd->text;

	check(c, cmd, "list");
	printf("%-15s %-8s %5s %9s %10s %10s\n", "NAME", "STATE", "VCPUS", "MEMORY", "UPTIME", "EXITS");
	for (unsigned long long i = 0; i < cmd->args[0]; i++)
		printf("%-15s %-8s %5u %6llu MiB %8llu s %10llu\n", v[i].name, state_name(v[i].state),
		       v[i].vcpus, v[i].memory / MiB, v[i].uptime_ms / 1000, v[i].exits);
	printf("memory: %llu KiB free of %llu KiB\n", cmd->args[1] >> 10, cmd->args[2] >> 10);
	return 0;
}

static int cmd_info(struct ctl *c, const char *name)
{
	struct kctl_cmd *cmd = new_cmd(KCTL_OP_INFO, name);
	struct kctl_vm_info *v = (struct kctl_vm_info *)cmd->text;

	check(c, cmd, "info");
	printf("name:    %s%s\nid:      %u\nstate:   %s%s%s\nvcpus:   %u\nmemory:  %llu MiB\n"
	       "uptime:  %llu s\nexits:   %llu\nconsole: keelctl console %s\n",
	       v->name, v->service ? " (the service VM)" : "", v->id, state_name(v->state),
	       v->why[0] ? ": " : "", v->why, v->vcpus, v->memory / MiB, v->uptime_ms / 1000,
	       v->exits, v->name);
	return 0;
}

int console_run(struct ctl *c, const char *name, unsigned vm_id);

int main(int argc, char **argv)
{
	struct ctl c;
	struct kctl_vm_info vm;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (strcmp(argv[1], "list") && argc < 3)
		die("%s needs a VM name\n%s", argv[1], usage);
	ctl_open(&c);
	if (!strcmp(argv[1], "create"))
		return cmd_create(&c, argc - 2, argv + 2);
	if (!strcmp(argv[1], "start"))
		return cmd_simple(&c, KCTL_OP_START, argv[2], "started");
	if (!strcmp(argv[1], "stop"))
		return cmd_stop(&c, argc - 2, argv + 2);
	if (!strcmp(argv[1], "destroy"))
		return cmd_destroy(&c, argv[2]);
	if (!strcmp(argv[1], "list"))
		return cmd_list(&c);
	if (!strcmp(argv[1], "info"))
		return cmd_info(&c, argv[2]);
	if (!strcmp(argv[1], "console")) {
		if (find_vm(&c, argv[2], &vm))
			die("console: no VM called '%s'", argv[2]);
		return console_run(&c, argv[2], vm.id);
	}
	die("unknown command '%s'\n%s", argv[1], usage);
}

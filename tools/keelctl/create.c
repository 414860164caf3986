// SPDX-License-Identifier: MIT
/*
 * keelctl create: a VM with its kernel (or its firmware) staged in its RAM,
 * and its keel-dm devices attached.
 */
#include "keelctl.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1ULL << 20)
#define STAGE_TOP (3ULL << 30)	  /* staged images stay below the hole under 4 GiB */
#define STAGE_TOP_FW (2ULL << 30) /* the firmware flavor's low RAM (GUEST_FW_LOW_SPLIT) */
#define MAX_DEVICES 16
#define DEVICE_LINE 320

struct create_opts {
	/* initrd: --initrd "FILE ARGS", as QEMU's -initrd: FILE is read, all of it is module 0's command line */
	const char *name, *kernel, *initrd, *cmdline;
	const char *firmware; /* --firmware [FILE]: UEFI firmware instead of a kernel */
	const char *vars;     /* --vars FILE: the firmware's variables, kept in FILE by keel-dm */
	char vars_path[PATH_MAX];
	char initrd_file[PATH_MAX];
	uint64_t mem;
	unsigned vcpus;
	int on_crash_reset; /* --on-crash reset: a triple fault resets the VM (default stop) */
	int virtio_console, gpu;
	int ndevs;
	char devs[MAX_DEVICES][DEVICE_LINE]; /* keel-dm attach arguments after the VM name */
};

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (end == s)
		die("'%s' is not a size (like 512M or 2G)", s);
	switch (*end) {
	case 'G':
	case 'g':
		return v << 30;
	case 'M':
	case 'm':
		return v << 20;
	case 'K':
	case 'k':
		return v << 10;
	case 0:
		return v;
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

static void add_device(struct create_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_device(struct create_opts *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->ndevs == MAX_DEVICES)
		die("at most %d devices a VM", MAX_DEVICES);
	va_start(ap, fmt);
	n = vsnprintf(o->devs[o->ndevs], DEVICE_LINE, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= DEVICE_LINE)
		die("device arguments too long: %s", o->devs[o->ndevs]);
	o->ndevs++;
}

/* --disk FILE[,ro]: it must exist now, and keel-dm gets its absolute path. */
static void add_disk(struct create_opts *o, const char *spec)
{
	const char *comma = strrchr(spec, ',');
	int ro = comma && !strcmp(comma, ",ro");
	char file[PATH_MAX], path[PATH_MAX];
	struct stat st;

	snprintf(file, sizeof(file), "%.*s", ro ? (int)(comma - spec) : (int)strlen(spec), spec);
	if (!realpath(file, path) || stat(path, &st))
		die("--disk %s: %s", file, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		die("--disk %s: neither a file nor a block device", file);
	if (access(path, ro ? R_OK : R_OK | W_OK))
		die("--disk %s: %s%s", file, strerror(errno),
		    ro ? "" : " (add ,ro for a read-only disk)");
	if (strpbrk(path, " \t\n"))
		die("--disk %s: keel-dm takes paths without blanks", path);
	add_device(o, "disk %s%s", path, ro ? " ro" : "");
}

static void add_net(struct create_opts *o, const char *bridge)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", bridge);
	if (strchr(bridge, '/') || stat(path, &st))
		die("--net %s: no bridge called '%s' (make one: ip link add %s type bridge; ip link set %s up)",
		    bridge, bridge, bridge, bridge);
	add_device(o, "net %s", bridge);
}

/* --console serial: the UART only (the default); virtio: hvc0 through keel-dm too. */
static void set_console(struct create_opts *o, const char *val)
{
	if (strcmp(val, "virtio") && strcmp(val, "serial"))
		die("--console takes virtio or serial, not '%s'", val);
	o->virtio_console = !strcmp(val, "virtio");
}

static void parse_opts(struct create_opts *o, int argc, char **argv)
{
	o->name = argv[0];
	o->vcpus = 1;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = argv[i + 1];

		if (!strcmp(opt, "--rng")) {
			add_device(o, "rng");
			continue;
		}
		if (!strcmp(opt, "--gpu")) { /* a mode may follow; a screen comes with its input */
			unsigned w, h;
			char end;

			if (val && sscanf(val, "%ux%u%c", &w, &h, &end) == 2)
				add_device(o, "gpu %ux%u", w, h), i++;
			else
				add_device(o, "gpu");
			add_device(o, "keyboard");
			add_device(o, "tablet");
			o->gpu = 1;
			continue;
		}
		if (!strcmp(opt, "--firmware")) { /* a file may follow */
			o->firmware = val && val[0] != '-' ? argv[++i] : KEELCTL_FIRMWARE;
			continue;
		}
		if (++i == argc)
			die("%s needs a value\n%s", opt, keelctl_usage);
		if (!strcmp(opt, "--mem"))
			o->mem = parse_size(val);
		else if (!strcmp(opt, "--vcpus"))
			o->vcpus = (unsigned)atoi(val);
		else if (!strcmp(opt, "--kernel"))
			o->kernel = val;
		else if (!strcmp(opt, "--initrd"))
			o->initrd = val;
		else if (!strcmp(opt, "--vars"))
			o->vars = val;
		else if (!strcmp(opt, "--cmdline"))
			o->cmdline = val;
		else if (!strcmp(opt, "--disk"))
			add_disk(o, val);
		else if (!strcmp(opt, "--net"))
			add_net(o, val);
		else if (!strcmp(opt, "--console"))
			set_console(o, val);
		else if (!strcmp(opt, "--on-crash") &&
			 (!strcmp(val, "stop") || !strcmp(val, "reset")))
			o->on_crash_reset = !strcmp(val, "reset");
		else if (!strcmp(opt, "--on-crash"))
			die("--on-crash takes stop or reset, not '%s'", val);
		else
			die("unknown option '%s'\n%s", opt, keelctl_usage);
	}
	if (o->virtio_console)
		add_device(o, "console");
	/* firmware has no virtio keyboard driver: its keys come through a PS/2 keyboard */
	if (o->gpu && o->firmware)
		add_device(o, "kbc");
	/* Boot messages on the UART until hvc0 exists; the last console= gets the shell. */
	if (!o->cmdline)
		o->cmdline = o->virtio_console ? "console=ttyS0 console=hvc0" : "console=ttyS0";
}

/* One attach per device; on any failure the VM goes again and nothing has changed. */
static void attach_devices(struct ctl *c, const struct create_opts *o, char (*addr)[32])
{
	char req[DEVICE_LINE + 64], msg[512];

	for (int i = 0; i < o->ndevs; i++) {
		snprintf(req, sizeof(req), "attach %s %s", o->name, o->devs[i]);
		if (dm_client_call(req, NULL, msg, sizeof(msg))) {
			ctl_run(c, new_cmd(KCTL_OP_DESTROY, o->name));
			die("cannot attach %s: %s (%s was not created)", o->devs[i], msg, o->name);
		}
		snprintf(addr[i], sizeof(addr[i]), "%.*s", (int)sizeof(addr[i]) - 1, msg);
	}
}

/* The kernel and initrd (or firmware code and variable store), read before anything changes. */
struct images {
	void *kernel, *initrd;
	uint64_t ksize, isize;
};

static uint64_t stage_top(const struct create_opts *o)
{
	uint64_t top = o->firmware ? STAGE_TOP_FW : STAGE_TOP;

	return o->mem < top ? o->mem : top;
}

/* Kernel and initrd at the top of low RAM, where Keel copies them from. */
static void stage_and_load(struct ctl *c, const struct create_opts *o, uint64_t window,
			   const struct images *im)
{
	uint64_t top = stage_top(o), kgpa, igpa;
	uint8_t *win = ctl_window(c, window, top);
	struct kctl_cmd *cmd;

	igpa = (top - im->isize) & ~0xfffULL;
	kgpa = (igpa - im->ksize) & ~0xfffULL;
	memcpy(win + kgpa, im->kernel, im->ksize);
	if (im->initrd)
		memcpy(win + igpa, im->initrd, im->isize);
	cmd = new_cmd(KCTL_OP_LOAD, o->name);
	cmd->args[0] = kgpa, cmd->args[1] = im->ksize, cmd->args[2] = igpa,
	cmd->args[3] = im->isize;
	if (o->firmware)
		cmd->flags = KCTL_LOAD_FIRMWARE | (o->vars ? KCTL_LOAD_VARS_DM : 0);
	strcpy(cmd->text, o->cmdline);
	if (o->initrd) /* after the kernel's command line and its NUL */
		strcpy(cmd->text + strlen(o->cmdline) + 1, o->initrd);
	if (ctl_run(c, cmd)) {
		char why[KCTL_MSG_MAX];

		snprintf(why, sizeof(why), "%s", cmd->msg);
		ctl_run(c, new_cmd(KCTL_OP_DESTROY, o->name)); /* leave nothing behind */
		die("cannot load '%s': %s", o->firmware ? o->firmware : o->kernel, why);
	}
}

/* Writes all of buf to a new file path (not there before); 0, or -1 with errno. */
static int write_new(const char *path, const void *buf, uint64_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ssize_t n = fd < 0 ? -1 : write(fd, buf, len);
	int err = errno;

	if (fd >= 0 && (n != (ssize_t)len || fsync(fd))) {
		err = n < 0 ? errno : EIO;
		unlink(path);
	}
	if (fd >= 0)
		close(fd);
	errno = err;
	return fd >= 0 && n == (ssize_t)len ? 0 : -1;
}

/*
 * --vars FILE: the VM's own variable store, which keel-dm keeps up to date.
 * Made from the firmware's template when it is not there yet; one there must
 * have the template's size (another firmware's store does not fit its flash).
 */
static void read_vars(struct create_opts *o, struct images *im, const char *template)
{
	uint64_t size;
	void *own;

	if (access(o->vars, F_OK)) {
		if (!im->initrd)
			die("--vars %s: it is not there and there is no template to make it from "
			    "(%s beside the firmware)",
			    o->vars, template ? template : "a VARS file");
		if (write_new(o->vars, im->initrd, im->isize))
			die("--vars %s: cannot create it from %s: %s", o->vars, template,
			    strerror(errno));
		printf("made %s from %s\n", o->vars, template);
	}
	own = slurp(o->vars, &size);
	if (im->initrd && size != im->isize)
		die("--vars %s: %llu bytes, but this firmware's variable store is %llu bytes "
		    "(%s): the file is not one of this firmware's; nothing was created",
		    o->vars, (unsigned long long)size, (unsigned long long)im->isize, template);
	if (access(o->vars, R_OK | W_OK))
		die("--vars %s: %s (keel-dm writes the firmware's variables there)", o->vars,
		    strerror(errno));
	if (!realpath(o->vars, o->vars_path) || strpbrk(o->vars_path, " \t\n"))
		die("--vars %s: keel-dm takes an absolute path without blanks", o->vars);
	free(im->initrd);
	im->initrd = own;
	im->isize = size;
	/* QEMU's layout (pc_sysfw.c): the store right under the code, which ends at 4 GiB */
	add_device(o, "flash %s %#llx", o->vars_path,
		   (unsigned long long)((4ULL << 30) - im->ksize - im->isize));
}

/*
 * The firmware, and its variable store template: the file of the same name
 * with VARS for CODE (OVMF_CODE_4M.fd, OVMF_VARS_4M.fd), if there is one.
 */
static void read_firmware(struct create_opts *o, struct images *im)
{
	char vars[PATH_MAX];
	const char *base = strrchr(o->firmware, '/'), *code;

	im->kernel = slurp(o->firmware, &im->ksize);
	snprintf(vars, sizeof(vars), "%s", o->firmware);
	code = strstr(base ? base : o->firmware, "CODE");
	if (code) {
		memcpy(vars + (code - o->firmware), "VARS", 4);
		if (!access(vars, R_OK))
			im->initrd = slurp(vars, &im->isize);
	}
	if (o->vars)
		read_vars(o, im, code ? vars : NULL);
}

static void read_images(struct create_opts *o, struct images *im)
{
	if (o->vars && !o->firmware)
		die("--vars keeps the firmware's variables: it needs --firmware");
	if (o->firmware && (o->kernel || o->initrd))
		die("--firmware boots the firmware: no --kernel or --initrd with it");
	if (o->firmware)
		return read_firmware(o, im);
	if (!o->kernel)
		die("create needs --mem and --kernel (or --firmware)\n%s", keelctl_usage);
	im->kernel = slurp(o->kernel, &im->ksize);
	if (o->initrd) {
		snprintf(o->initrd_file, sizeof(o->initrd_file), "%.*s",
			 (int)strcspn(o->initrd, " \t"), o->initrd);
		im->initrd = slurp(o->initrd_file, &im->isize);
	}
}

int cmd_create(struct ctl *c, int argc, char **argv)
{
	static struct create_opts o;
	struct images im = { NULL, NULL, 0, 0 };
	char addr[MAX_DEVICES][32], msg[512], probe[64];
	struct kctl_cmd *cmd;

	parse_opts(&o, argc, argv);
	if (!o.mem)
		die("create needs --mem\n%s", keelctl_usage);
	if (strlen(o.cmdline) + (o.initrd ? strlen(o.initrd) + 1 : 0) >= KCTL_TEXT_MAX)
		die("the command lines are longer than %d characters", KCTL_TEXT_MAX - 1);
	read_images(&o, &im);
	/* staged above the first MiB */
	if (im.ksize + im.isize + MiB > stage_top(&o))
		die("%llu MiB of memory is too little for these images",
		    (unsigned long long)(o.mem / MiB));
	snprintf(probe, sizeof(probe), "devices %s", o.name);
	if (o.ndevs && dm_client_call(probe, NULL, msg, sizeof(msg)))
		die("%s", msg);
	cmd = new_cmd(KCTL_OP_CREATE, o.name);
	cmd->args[0] = o.mem;
	cmd->args[1] = o.vcpus;
	cmd->flags = (o.firmware ? KCTL_CREATE_FIRMWARE : 0) |
		     (o.on_crash_reset ? KCTL_CREATE_ON_CRASH_RESET : 0);
	check(c, cmd, "create");
	stage_and_load(c, &o, cmd->args[2], &im);
	attach_devices(c, &o, addr);
	printf("created %s: %llu MiB, %u vCPU(s)%s%s\n", o.name, (unsigned long long)(o.mem / MiB),
	       o.vcpus, o.firmware ? ", firmware " : "", o.firmware ? o.firmware : "");
	for (int i = 0; i < o.ndevs; i++)
		printf("  %s %s\n", addr[i], o.devs[i]);
	record_create(argc, argv);
	return 0;
}

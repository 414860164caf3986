// SPDX-License-Identifier: MIT
/* keel-dm's unix socket: a request line per connection; answer lines, "ok ..." or "error ..." last. */
#define _GNU_SOURCE /* accept4 */
#include "dm.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DM_LINE_MAX 512
#define DM_WORDS 8

/*
 * Requests, one line each, words separated by blanks:
 *   attach VM disk /PATH [ro] | attach VM net BRIDGE | attach VM console | attach VM rng |
 *   attach VM gpu [WIDTHxHEIGHT] | attach VM keyboard | attach VM tablet
 *                 -> "ok 00:NN.0" (its PCI address in the guest)
 *   attach VM flash /PATH BASE -> "ok flash": a firmware VM's variable store (flash/flash.c)
 *   attach VM kbc -> "ok kbc": a firmware VM's PS/2 keyboard controller (kbc/kbc.c)
 *   devices VM    -> "00:NN.0 <kind> <arguments>[ FAILED: <why>]" a device, then "ok"
 *   console VM    -> "ok", then the connection is the VM's hvc0, both ways, backlog first
 *   screen VM     -> "ok PATH": the VM's screen file (tools/lib/screen.h)
 *   display VM    -> "ok": VM's screen on the machine's display (tools/keel-dm/display.c)
 *   display --service -> "ok": the service VM's console back on it
 *   input VM      -> "ok", then the connection is the VM's display's input stream (one at
 *                    a time, the newest wins): lines "key CODE 0|1" and "pointer X Y
 *                    BUTTONS [WHEEL]" for its keyboard and tablet (tools/keel-dm/input.c)
 * Any failure answers "error <what to tell the operator>" instead.
 */

int dm_server_open(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t mask;

	if (fd < 0 || strlen(path) >= sizeof(a.sun_path))
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path); /* the caller holds the lock: a socket file left is a dead keel-dm's */
	mask = umask(077);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
		umask(mask);
		close(fd);
		return -1;
	}
	umask(mask);
	return fd;
}

static void dm_reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dm_reply(int fd, const char *fmt, ...)
{
	char line[DM_LINE_MAX + KCTL_MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		errno = 0; /* a client that went away */
}

/* The request line, byte by byte: a console client's stream starts right after it. */
static int dm_read_line(int fd, char *buf, size_t len)
{
	for (size_t n = 0; n + 1 < len; n++) {
		if (read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return 0;
		}
	}
	return -1;
}

/* The device, or NULL with msg; a VM left with no devices is not kept. */
static struct dm_dev *dm_attach(struct dm *dm, int argc, char **argv, char *msg, size_t len)
{
	struct kctl_vm_info info;
	struct dm_vm *vm;
	struct dm_dev *d;

	dm_vm_refresh(dm); /* an earlier VM of this name or id may have just gone */
	if (dm_vm_info(dm, argv[1], &info, msg, len))
		return NULL;
	if (info.service || info.state != KCTL_VM_CREATED) {
		snprintf(msg, len, "'%s' is %s: devices are attached between create and start",
			 argv[1], info.service ? "the service VM" : dm_vm_state_name(info.state));
		return NULL;
	}
	vm = dm_vm_get(dm, &info, msg, len);
	if (!vm)
		return NULL;
	if (!strcmp(argv[2], "flash") || !strcmp(argv[2], "kbc")) { /* the VM's, not PCI */
		int ret = !strcmp(argv[2], "flash") ?
				  dm_flash_attach(vm, argc - 2, argv + 2, 0, msg, len) :
				  dm_kbc_attach(vm, argc - 2, argv + 2, 0, msg, len);

		if (!ret) {
			dm_state_save(vm);
			snprintf(msg, len, "%s", argv[2]);
		} else if (!dm_vm_ndevs(vm)) {
			dm_vm_close(vm, NULL);
		}
		return NULL;
	}
	d = dm_dev_attach(vm, argc - 2, argv + 2, 0, msg, len);
	if (d)
		dm_state_save(vm);
	else if (!dm_vm_ndevs(vm))
		dm_vm_close(vm, NULL);
	return d;
}

static void dm_do_devices(struct dm *dm, int fd, const char *name)
{
	struct dm_vm *vm = dm_vm_find(dm, name);
	char line[DM_LINE_MAX];

	for (unsigned n = 0; vm && n < KCTL_DM_DEVS; n++) {
		if (!vm->devs[n])
			continue;
		dm_dev_describe(vm->devs[n], line, sizeof(line));
		dm_reply(fd, "%s", line);
	}
	if (vm && vm->flash) {
		dm_flash_describe(vm, line, sizeof(line));
		dm_reply(fd, "flash %s", line);
	}
	if (vm && vm->kbc) {
		dm_kbc_describe(vm, line, sizeof(line));
		dm_reply(fd, "kbc %s", line);
	}
	dm_reply(fd, "ok");
}

/* 1 if fd now belongs to the console. */
static int dm_do_console(struct dm *dm, int fd, const char *name)
{
	struct dm_dev *d = dm_vm_dev(dm_vm_find(dm, name), &dm_console_kind);

	if (!d) {
		dm_reply(fd, "error '%s' has no virtio console", name);
		return 0;
	}
	dm_reply(fd, "ok");
	return !dm_console_client(d, fd);
}

/* The VM's display, if it has one. */
static struct dm_dev *dm_gpu_of(struct dm *dm, const char *name)
{
	return dm_vm_dev(dm_vm_find(dm, name), &dm_gpu_kind);
}

static void dm_do_screen(struct dm *dm, int fd, const char *name)
{
	struct dm_dev *d = dm_gpu_of(dm, name);

	if (d && dm_gpu_screen(d)[0])
		dm_reply(fd, "ok %s", dm_gpu_screen(d));
	else
		dm_reply(fd, "error '%s' has no display (create it with --gpu)", name);
}

/* "display VM" puts its screen on the machine's display; "display --service" takes it back. */
static void dm_do_display(struct dm *dm, int fd, const char *name)
{
	struct dm_dev *d = dm_gpu_of(dm, name);
	char msg[200];

	if (!strcmp(name, "--service")) {
		dm_display_service();
		dm_reply(fd, "ok");
	} else if (!d) {
		dm_reply(fd, "error '%s' has no display (create it with --gpu)", name);
	} else if (dm_gpu_display(d, msg, sizeof(msg))) {
		dm_reply(fd, "error %s", msg);
	} else {
		dm_reply(fd, "ok");
	}
}

/* 1 if fd now belongs to the VM's display as its input stream. */
static int dm_do_input(struct dm *dm, int fd, const char *name)
{
	struct dm_dev *d = dm_gpu_of(dm, name);

	if (d && !dm_gpu_input(d, fd)) {
		dm_reply(fd, "ok");
		return 1;
	}
	dm_reply(fd, "error '%s' has no display (create it with --gpu)", name);
	return 0;
}

static void dm_do_attach(struct dm *dm, int fd, int argc, char **argv)
{
	char msg[KCTL_MSG_MAX + 64];
	struct dm_dev *d = dm_attach(dm, argc, argv, msg, sizeof(msg));

	if (!d && (!strcmp(msg, "flash") || !strcmp(msg, "kbc"))) {
		dm_reply(fd, "ok %s", msg);
		return;
	}
	if (d) {
		dm_reply(fd, "ok 00:%02x.0", d->number);
		return;
	}
	dm_log("%s: attach %s: %s", argv[1], argv[2], msg);
	dm_reply(fd, "error %s", msg);
}

/* 1 if fd now belongs to a console. */
static int dm_serve(struct dm *dm, int fd, char *line)
{
	char *argv[DM_WORDS];
	int argc = dm_args_split(line, argv, DM_WORDS);

	if (argc >= 3 && !strcmp(argv[0], "attach"))
		dm_do_attach(dm, fd, argc, argv);
	else if (argc == 2 && !strcmp(argv[0], "devices"))
		dm_do_devices(dm, fd, argv[1]);
	else if (argc == 2 && !strcmp(argv[0], "console"))
		return dm_do_console(dm, fd, argv[1]);
	else if (argc == 2 && !strcmp(argv[0], "screen"))
		dm_do_screen(dm, fd, argv[1]);
	else if (argc == 2 && !strcmp(argv[0], "display"))
		dm_do_display(dm, fd, argv[1]);
	else if (argc == 2 && !strcmp(argv[0], "input"))
		return dm_do_input(dm, fd, argv[1]);
	else
		dm_reply(
			fd,
			"error requests: attach VM disk PATH [ro] | attach VM net BRIDGE | "
			"attach VM console | attach VM rng | attach VM gpu [WxH] | "
			"attach VM keyboard | attach VM tablet | attach VM flash PATH BASE | attach VM kbc | devices VM | console VM | "
			"screen VM | input VM | display VM | display --service");
	return 0;
}

void dm_server_accept(struct dm *dm, int listen_fd)
{
	/* a stuck client must not stop the guests' devices */
	struct timeval limit = { .tv_sec = 1 };
	char line[DM_LINE_MAX];
	int fd;

	while ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
		if (dm_read_line(fd, line, sizeof(line)))
			dm_reply(fd, "error send one request line of at most %d bytes",
				 DM_LINE_MAX - 1);
		else if (dm_serve(dm, fd, line))
			continue;
		close(fd);
	}
}

// SPDX-License-Identifier: MIT
/* keel-dm's socket requests end to end over a fake control device: attach, devices, console, restart. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "test.h"
#include "tools/keel-dm/dm.h"

#define VM_ID 3
#define WINDOW (64 << 20) /* a sparse file stands for BAR2 */

static struct ctl ctl;
static struct dm dm = { .ctl = &ctl };
static char dir[64], sock[96], state[96], disk[96], window[96];
static int listen_fd;

static void file(const char *path, const char *text, off_t size)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && !ftruncate(fd, size));
	close(fd);
}

/* The one guest the fake Keel has, and the device numbers it holds. */
static struct {
	char name[KCTL_NAME_MAX];
	unsigned state;
	u32 taken;
} guest;

static void keel_knows(const char *name, unsigned state_)
{
	snprintf(guest.name, sizeof(guest.name), "%s", name);
	guest.state = state_;
}

static void fake_keel(struct kctl_cmd *c)
{
	struct kctl_vm_info *v = (struct kctl_vm_info *)c->text;
	int found = !strcmp(c->name, guest.name);

	c->status = 0;
	if (c->op == KCTL_OP_INFO || c->op == KCTL_OP_LIST) {
		*v = (struct kctl_vm_info){ .id = VM_ID, .state = guest.state, .vcpus = 1, .memory = 16 << 20 };
		snprintf(v->name, sizeof(v->name), "%s", guest.name);
		c->args[0] = guest.name[0] != 0;
	}
	if ((c->op == KCTL_OP_INFO || c->op == KCTL_OP_DM_ATTACH) && !found) {
		c->status = -ENOENT;
		snprintf(c->msg, sizeof(c->msg), "no VM called '%s'", c->name);
	} else if (c->op == KCTL_OP_DM_ATTACH && guest.state != KCTL_VM_CREATED) {
		c->status = -EBUSY;
		snprintf(c->msg, sizeof(c->msg), "'%s' has been started", c->name);
	} else if (c->op == KCTL_OP_DM_ATTACH && (guest.taken & (1u << c->args[0]))) {
		c->status = -EEXIST;
		snprintf(c->msg, sizeof(c->msg), "00:%02llx.0 is taken", c->args[0]);
	} else if (c->op == KCTL_OP_DM_ATTACH) {
		guest.taken |= 1u << c->args[0];
	}
}

static void slurp(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(out, 1, len - 1, f) : 0;

	out[n] = 0;
	if (f)
		fclose(f);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/keel-dm-server-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(ctl.dev, sizeof(ctl.dev), "%s", dir);
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	snprintf(window, sizeof(window), "%s/resource2", dir);
	file(disk, "", 1 << 20);
	file(window, "", WINDOW);
	ctl.bar0 = calloc(1, KCTL_BAR0_SIZE);
	ctl.uio_fd = -1;
	ctl.keel = fake_keel;
	guest.taken = 1u << 1; /* Keel has a device of its own at 00:01.0 */
	dm.state_dir = state;
	listen_fd = dm_server_open(sock);
	CHECK(listen_fd >= 0);
	keel_knows("web", KCTL_VM_CREATED);
}

static void teardown(void)
{
	char cmd[160];

	for (unsigned i = 0; i < KCTL_MAX_VMS; i++)
		if (dm.vms[i])
			dm_vm_close(dm.vms[i], NULL);
	close(listen_fd);
	free((void *)ctl.bar0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* Connects, sends the request, lets keel-dm serve it; the client's end of the connection. */
static int ask(const char *request)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	CHECK(!connect(fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK(write(fd, request, strlen(request)) == (ssize_t)strlen(request));
	dm_server_accept(&dm, listen_fd);
	return fd;
}

/* What arrives on fd until it closes or stays quiet for 100 ms. */
static void answer(int fd, char *out, size_t len)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t n = 0;
	ssize_t r = 1;

	while (r > 0 && n + 1 < len && poll(&p, 1, 100) > 0) {
		r = read(fd, out + n, len - 1 - n);
		n += r > 0 ? (size_t)r : 0;
	}
	out[n] = 0;
}

static void call(const char *request, char *out, size_t len)
{
	int fd = ask(request);

	answer(fd, out, len);
	close(fd);
}

TEST(keel_dm_server_attach_and_devices)
{
	char req[200], out[512], expect[300];

	setup();
	snprintf(req, sizeof(req), "attach web disk %s ro\n", disk);
	call(req, out, sizeof(out));
	CHECK_STR(out, "ok 00:02.0\n");
	call("attach web rng\n", out, sizeof(out));
	CHECK_STR(out, "ok 00:03.0\n");
	call("devices web\n", out, sizeof(out));
	snprintf(expect, sizeof(expect), "00:02.0 disk %s ro\n00:03.0 rng\nok\n", disk);
	CHECK_STR(out, expect);
	call("devices other\n", out, sizeof(out));
	CHECK_STR(out, "ok\n");
	snprintf(req, sizeof(req), "%s/web.devices", state);
	slurp(req, out, sizeof(out));
	snprintf(expect, sizeof(expect), "vm 3 web\n2 disk %s ro\n3 rng\n", disk);
	CHECK_STR(out, expect);
	teardown();
}

TEST(keel_dm_server_errors)
{
	char out[512];

	setup();
	call("attach web disk /nonexistent.img\n", out, sizeof(out));
	CHECK(!strncmp(out, "error cannot open '/nonexistent.img'", 36));
	CHECK(dm.vms[VM_ID] == NULL); /* nothing left behind */
	call("attach web disk relative.img\n", out, sizeof(out));
	CHECK_STR(out, "error usage: disk /ABSOLUTE/PATH [ro]\n");
	call("attach web floppy\n", out, sizeof(out));
	CHECK(!strncmp(out, "error unknown device kind 'floppy'", 34));
	call("attach other rng\n", out, sizeof(out));
	CHECK_STR(out, "error no VM called 'other'\n");
	call("console web\n", out, sizeof(out));
	CHECK_STR(out, "error 'web' has no virtio console\n");
	call("hello\n", out, sizeof(out));
	CHECK(!strncmp(out, "error requests: ", 16));
	keel_knows("web", KCTL_VM_RUNNING);
	call("attach web rng\n", out, sizeof(out));
	CHECK_STR(out, "error 'web' is running: devices are attached between create and start\n");
	CHECK(dm.vms[VM_ID] == NULL);
	teardown();
}

TEST(keel_dm_server_console_stream)
{
	char out[512];
	struct dm_dev *d;
	int fd;

	setup();
	call("attach web console\n", out, sizeof(out));
	CHECK_STR(out, "ok 00:02.0\n");
	call("attach web console\n", out, sizeof(out));
	CHECK_STR(out, "error 'web' has a virtio console already (00:02.0)\n");
	d = dm.vms[VM_ID] ? dm.vms[VM_ID]->devs[2] : NULL;
	CHECK(d != NULL);
	if (!d) {
		teardown();
		return;
	}
	/* Output before anyone attached is the backlog: an emergency write (virtio 1.2 5.3.4). */
	virtio_pci_bar_write(&d->vp, VIRTIO_PCI_BAR_CFG, VIRTIO_PCI_DEVICE_OFF + 8, 4, 'A');
	fd = ask("console web\n");
	answer(fd, out, sizeof(out));
	CHECK_STR(out, "ok\nA");
	virtio_pci_bar_write(&d->vp, VIRTIO_PCI_BAR_CFG, VIRTIO_PCI_DEVICE_OFF + 8, 4, 'B');
	answer(fd, out, sizeof(out));
	CHECK_STR(out, "B");
	dm_vm_close(dm.vms[VM_ID], "is gone"); /* the client sees the end */
	answer(fd, out, sizeof(out));
	CHECK_STR(out, "");
	close(fd);
	teardown();
}

TEST(keel_dm_server_restart_recreates_devices)
{
	char out[512], path[128];

	setup();
	call("attach web console\n", out, sizeof(out));
	call("attach web rng\n", out, sizeof(out));
	dm_vm_close(dm.vms[VM_ID], NULL); /* keel-dm stops; the devices file stays */
	snprintf(path, sizeof(path), "%s/old.devices", state);
	file(path, "vm 7 old\n1 rng\n", 15); /* a VM that is gone */
	keel_knows("web", KCTL_VM_RUNNING);
	dm_state_restore(&dm);
	CHECK(dm.vms[VM_ID] != NULL);
	if (dm.vms[VM_ID]) {
		CHECK(dm.vms[VM_ID]->devs[2] && dm.vms[VM_ID]->devs[2]->kind == &dm_console_kind);
		CHECK(dm.vms[VM_ID]->devs[3] && dm.vms[VM_ID]->devs[3]->kind == &dm_rng_kind);
	}
	CHECK(access(path, F_OK) != 0);
	teardown();
}

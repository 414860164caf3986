// SPDX-License-Identifier: MIT
/* keel-dm's socket requests end to end over a fake control device: attach, devices, console, restart. */
#define _GNU_SOURCE /* O_DIRECT */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include <virtio/input.h>
#include "tools/keel-dm/dm.h"
#include "virtio_driver_sim.h"
#include <virtio/blk.h>

#define VM_ID 3
#define WINDOW (64 << 20)   /* a sparse file stands for BAR2 */
#define RAM_SIZE (16 << 20) /* what the fake Keel says the guest has */

static struct ctl ctl;
static struct dm dm = { .ctl = &ctl };
static char dir[64], sock[96], state[96], disk[96], window[96];
static int listen_fd;

/* What the fake Keel saw, in memory shared with a keel-dm child that gets killed. */
static struct seen {
	u32 msi_vec[VIRTIO_PCI_MSIX_MAX]; /* MSIs by the vector their data names */
	u32 msis;
	int die_at_msi;	 /* the child's keel-dm dies (SIGKILL) when it asks for an MSI */
	u64 doorbell[4]; /* the last KCTL_OP_DM_DOORBELL */
	int b_id;	 /* the guest's request in flight when keel-dm died, and its status byte */
	u64 b_status;
} * seen;

static void file(const char *path, const char *text, off_t size)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) &&
	      !ftruncate(fd, size));
	close(fd);
}

/* Whether the file system under path takes O_DIRECT (tmpfs does not): what keel-dm should say. */
static int direct_ok(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECT);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* The one guest the fake Keel has, and the device numbers it holds. */
static struct {
	char name[KCTL_NAME_MAX];
	unsigned state;
	u64 serial; /* what makes it this VM: ids and names are reused */
	u32 taken;
} guest = { .serial = 7 };

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
		*v = (struct kctl_vm_info){ .id = VM_ID,
					    .state = guest.state,
					    .vcpus = 1,
					    .memory = 16 << 20,
					    .serial = guest.serial };
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
	} else if (c->op == KCTL_OP_DM_DOORBELL) {
		memcpy(seen->doorbell, c->args, sizeof(seen->doorbell));
	} else if (c->op == KCTL_OP_DM_MSI) {
		if (seen->die_at_msi)
			raise(SIGKILL);
		seen->msis++;
		if (c->args[1] - VSIM_MSI_DATA_BASE < VIRTIO_PCI_MSIX_MAX)
			seen->msi_vec[c->args[1] - VSIM_MSI_DATA_BASE]++;
	}
}

/* Zeroed memory a forked keel-dm shares with the test. */
static void *shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED);
	return p;
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
	ctl.bar0 = shared(KCTL_BAR0_SIZE);
	seen = shared(sizeof(*seen));
	ctl.uio_fd = ctl.cfg_fd = -1;
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
	munmap((void *)ctl.bar0, KCTL_BAR0_SIZE);
	munmap(seen, sizeof(*seen));
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
	snprintf(expect, sizeof(expect), "00:02.0 disk %s ro (%s)\n00:03.0 rng\nok\n", disk,
		 direct_ok(disk) ? "O_DIRECT" : "page cache");
	CHECK_STR(out, expect);
	call("devices other\n", out, sizeof(out));
	CHECK_STR(out, "ok\n");
	snprintf(req, sizeof(req), "%s/web.devices", state);
	slurp(req, out, sizeof(out));
	snprintf(expect, sizeof(expect), "vm 3 7 web\n2 disk %s ro\n3 rng\n", disk);
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
	char out[512], path[128], old_state[128], web_state[128];

	setup();
	call("attach web console\n", out, sizeof(out));
	call("attach web rng\n", out, sizeof(out));
	dm_vm_close(dm.vms[VM_ID], NULL); /* keel-dm stops; the devices and state files stay */
	snprintf(path, sizeof(path), "%s/old.devices", state);
	file(path, "vm 7 old\n1 rng\n", 15); /* a VM that is gone */
	snprintf(old_state, sizeof(old_state), "%s/old.01.state", state);
	file(old_state, "", 100);
	keel_knows("web", KCTL_VM_RUNNING);
	dm_state_restore(&dm);
	CHECK(dm.vms[VM_ID] != NULL);
	if (dm.vms[VM_ID]) {
		CHECK(dm.vms[VM_ID]->devs[2] && dm.vms[VM_ID]->devs[2]->kind == &dm_console_kind);
		CHECK(dm.vms[VM_ID]->devs[3] && dm.vms[VM_ID]->devs[3]->kind == &dm_rng_kind);
	}
	CHECK(access(path, F_OK) != 0);
	CHECK(access(old_state, F_OK) != 0);
	snprintf(web_state, sizeof(web_state), "%s/web.03.state", state);
	CHECK(access(web_state, F_OK) == 0);
	keel_knows("", KCTL_VM_RUNNING); /* web is gone: so are its files */
	dm_vm_refresh(&dm);
	CHECK(dm.vms[VM_ID] == NULL);
	CHECK(access(web_state, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/web.devices", state);
	CHECK(access(path, F_OK) != 0);
	teardown();
}

/*
 * A guest driver (virtio_driver_sim) of the disk at 00:02.0, in the
 * window's RAM, reaching it as the guest's vCPU 0 would: each config or
 * BAR access a request in its I/O slot, answered by whichever keel-dm
 * lives now; doorbells as bits in the VM's doorbell page.
 */
#define DISK_DEV 2
#define QUEUE_VECTOR 1 /* vsim_setup_queue gives queue q vector q + 1 */
#define SECTOR VIRTIO_BLK_SECTOR_SIZE
#define MSIX_ENABLE 0x8000 /* PCI LB 3.0 6.8.2.3: MSI-X message control */
#define MSIX_MASKALL 0x4000

/* Events keel-dm holds for an input device whose driver is not up yet. */
static u32 held(struct dm_dev *d)
{
	return container_of(d->vdev, struct virtio_input, dev)->count;
}

TEST(keel_dm_server_input_stream)
{
	char out[512];
	struct dm_dev *gpu, *kbd, *tab;
	int fd, old;

	setup();
	call("input web\n", out, sizeof(out));
	CHECK_STR(out, "error 'web' has no display (create it with --gpu)\n");
	call("attach web gpu\n", out, sizeof(out));
	CHECK_STR(out, "ok 00:02.0\n");
	call("attach web keyboard\n", out, sizeof(out));
	CHECK_STR(out, "ok 00:03.0\n");
	call("attach web tablet\n", out, sizeof(out));
	CHECK_STR(out, "ok 00:04.0\n");
	call("attach web keyboard\n", out, sizeof(out));
	CHECK_STR(out, "error 'web' has a keyboard already\n");
	gpu = dm.vms[VM_ID]->devs[2];
	kbd = dm.vms[VM_ID]->devs[3];
	tab = dm.vms[VM_ID]->devs[4];
	old = ask("input web\n");
	answer(old, out, sizeof(out));
	CHECK_STR(out, "ok\n");
	fd = ask("input web\n"); /* the newest client takes over */
	answer(fd, out, sizeof(out));
	CHECK_STR(out, "ok\n");
	answer(old, out, sizeof(out));
	CHECK_STR(out, ""); /* closed */
	close(old);
	CHECK(write(fd, "key 30 1\npointer 100 200 1 0\nkey 9999 1\nbogus\npoi", 49) == 49);
	gpu->kind->ready(gpu, POLLIN);
	CHECK_EQ(held(kbd), 2); /* KEY_A down, SYN_REPORT; code 9999 is no key */
	CHECK_EQ(held(tab), 4); /* ABS_X, ABS_Y, BTN_LEFT down, SYN_REPORT */
	CHECK(write(fd, "nter 5 5 0\n", 11) == 11); /* the rest of a split line */
	gpu->kind->ready(gpu, POLLIN);
	CHECK_EQ(held(tab), 8); /* ABS_X, ABS_Y, BTN_LEFT up, SYN_REPORT */
	close(fd);		/* a hang-up ends the stream; a new client may come */
	gpu->kind->ready(gpu, POLLIN | POLLHUP);
	fd = ask("input web\n");
	answer(fd, out, sizeof(out));
	CHECK_STR(out, "ok\n");
	CHECK(write(fd, "key 2 1\n", 8) == 8);
	gpu->kind->ready(gpu, POLLIN);
	CHECK_EQ(held(kbd), 4);
	close(fd);
	teardown();
}

static struct vsim *drv; /* shared: the guest outlives the keel-dm child */

static u64 guest_access(bool cfg, u32 bar, u64 off, u32 size, int write, u64 val)
{
	struct kctl_ioreq *s =
		(struct kctl_ioreq *)(ctl.bar0 + KCTL_IOREQ_BASE + VM_ID * KCTL_IOREQ_VM_SIZE);
	u64 addr = cfg ? (u64)DISK_DEV << 15 | off : (bar ? VSIM_BAR2_ADDR : VSIM_BAR0_ADDR) + off;

	*s = (struct kctl_ioreq){ .type = cfg ? KCTL_IOREQ_CFG : KCTL_IOREQ_MMIO,
				  .size = size,
				  .write = (unsigned)write,
				  .addr = addr,
				  .data = val };
	__atomic_store_n(&s->state, KCTL_IOREQ_PENDING, __ATOMIC_RELEASE);
	CHECK_EQ(dm_ioreq_serve(&dm, VM_ID, 1, dm.vms[VM_ID]), 1);
	CHECK_EQ(s->state, KCTL_IOREQ_DONE);
	CHECK_EQ(s->result, 0);
	return s->data;
}

static u64 bus_read(void *ctx, bool cfg, u32 bar, u64 off, u32 size)
{
	(void)ctx;
	return guest_access(cfg, bar, off, size, 0, 0);
}

static void bus_write(void *ctx, bool cfg, u32 bar, u64 off, u32 size, u64 val)
{
	(void)ctx;
	guest_access(cfg, bar, off, size, 1, val);
}

static const struct vsim_bus bus = { .read = bus_read, .write = bus_write };

static void guest_init(void)
{
	int fd = open(window, O_RDWR);
	u8 *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	CHECK(fd >= 0 && ram != MAP_FAILED);
	close(fd);
	drv = shared(sizeof(*drv));
	vsim_init_bus(drv, ram, RAM_SIZE, &bus);
}

static void guest_done(void)
{
	munmap(drv->ram, RAM_SIZE);
	munmap(drv, sizeof(*drv));
}

/* Keel posting the queue's doorbell, and keel-dm taking it. */
static void doorbell(void)
{
	struct kctl_doorbells *db = (struct kctl_doorbells *)(ctl.bar0 + KCTL_DOORBELL_BASE +
							      VM_ID * KCTL_DOORBELL_VM_SIZE);

	__atomic_fetch_or(&db->pending[DISK_DEV], 1u, __ATOMIC_RELEASE);
	dm_doorbells_take(&dm, dm.vms[VM_ID]);
}

/* A read or write of n sectors at sector, posted; buf is the data's guest address. */
static gpa_t post_rw(int write, u64 sector, u32 n, u8 fill, gpa_t *buf, int *id)
{
	struct virtio_blk_req_hdr h = { write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 0, sector };
	struct vsim_seg seg[3];
	gpa_t st = vsim_alloc(drv, 1, 1);

	*buf = vsim_alloc(drv, n * SECTOR, 8);
	memset(vsim_ptr(drv, *buf), fill, n * SECTOR);
	*(u8 *)vsim_ptr(drv, st) = 0xee;
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(drv, &h, sizeof(h)), sizeof(h) };
	seg[1] = (struct vsim_seg){ *buf, n * SECTOR };
	seg[2] = (struct vsim_seg){ st, 1 };
	*id = vsim_post(drv, 0, seg, write ? 2 : 1, write ? 1 : 2, false);
	CHECK(*id >= 0);
	return st;
}

static void reap(int id, gpa_t st)
{
	u32 got = 0xffff, len = 0;

	CHECK_EQ(vsim_used(drv, 0, &got, &len), 1);
	CHECK_EQ(got, id);
	CHECK_EQ(*(u8 *)vsim_ptr(drv, st), VIRTIO_BLK_S_OK);
}

static int filled(const u8 *p, u8 fill, u32 len)
{
	for (u32 i = 0; i < len; i++)
		if (p[i] != fill)
			return 0;
	return 1;
}

/* dm_state_restore, with what keel-dm logged meanwhile in out. */
static void restore_logged(char *out, size_t len)
{
	char path[128];
	int fd, err = dup(2);

	snprintf(path, sizeof(path), "%s/log", dir);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	CHECK(fd >= 0 && err >= 0);
	dup2(fd, 2);
	dm_state_restore(&dm);
	dup2(err, 2);
	close(err);
	close(fd);
	slurp(path, out, len);
	fputs(out, stderr);
}

/* The child: keel-dm as the guest meets it, the disk attached and brought up by the driver. */
static void first_life_start(u64 features)
{
	char req[160], out[128];

	snprintf(req, sizeof(req), "attach web disk %s\n", disk);
	call(req, out, sizeof(out));
	CHECK_STR(out, "ok 00:02.0\n");
	keel_knows("web", KCTL_VM_RUNNING);
	CHECK_EQ(vsim_start(drv, features, 1), 0);
}

/*
 * Sector 1 written, then sector 2: keel-dm completes it and dies (SIGKILL)
 * asking Keel for its MSI. Exits otherwise, with 1 if a check failed.
 */
static void first_life_dies_at_msi(u64 features)
{
	gpa_t st, buf;
	int id;

	first_life_start(features);
	st = post_rw(1, 1, 1, 'A', &buf, &id);
	doorbell();
	reap(id, st);
	CHECK_EQ(seen->msi_vec[QUEUE_VECTOR], 1);
	seen->b_status = post_rw(1, 2, 1, 'B', &buf, &seen->b_id);
	if (test_failed_checks)
		_exit(1);
	seen->die_at_msi = 1;
	doorbell();
	_exit(2);
}

/* keel-dm dies just after answering a config write: the driver's mask on all MSI-X vectors. */
static void first_life_dies_after_config(u64 features)
{
	first_life_start(features);
	vsim_cfg_write(drv, drv->msix_cap + 2, 2, MSIX_ENABLE | MSIX_MASKALL);
	if (test_failed_checks)
		_exit(1);
	raise(SIGKILL);
}

/* The first keel-dm, in a child that must die by SIGKILL. */
static void first_life(void (*life)(u64 features), u64 features)
{
	int status = 0;
	pid_t pid;

	fflush(stderr);
	pid = fork();
	if (!pid)
		life(features);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	seen->die_at_msi = 0;
}

static void restart_resumes_io(u64 features, u32 msis_restored)
{
	char out[1024];
	gpa_t st3, buf3, st4, buf4;
	int id3, id4, fd;
	u8 on_disk[3 * SECTOR];

	setup();
	guest_init();
	first_life(first_life_dies_at_msi, features);
	CHECK_EQ(seen->msis, 1); /* sector 2's completion went out, its interrupt did not */
	/* The guest goes on: a read of sectors 1-2, its doorbell taken by the dead keel-dm. */
	st3 = post_rw(0, 1, 2, 0, &buf3, &id3);
	keel_knows("web", KCTL_VM_RUNNING);
	restore_logged(out, sizeof(out));
	CHECK(strstr(out, "keel-dm: web: 1 device(s) restored after a restart\n") != NULL);
	CHECK_EQ(seen->doorbell[0], DISK_DEV); /* doorbells back where BAR0 is */
	CHECK_EQ(seen->doorbell[1], VSIM_BAR0_ADDR + VIRTIO_PCI_NOTIFY_OFF);
	CHECK_EQ(seen->msi_vec[QUEUE_VECTOR], msis_restored); /* the lost one too, same vector */
	CHECK_EQ(seen->msis, seen->msi_vec[QUEUE_VECTOR]);
	reap(seen->b_id, seen->b_status); /* sector 2's write */
	reap(id3, st3);
	CHECK(filled(vsim_ptr(drv, buf3), 'A', SECTOR) &&
	      filled(vsim_ptr(drv, buf3) + SECTOR, 'B', SECTOR));
	/* The driver's next request, its doorbell heard by the new keel-dm. */
	st4 = post_rw(1, 3, 1, 'C', &buf4, &id4);
	doorbell();
	reap(id4, st4);
	CHECK_EQ(seen->msi_vec[QUEUE_VECTOR], msis_restored + 1);
	CHECK_EQ(vsim_status(drv), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	fd = open(disk, O_RDONLY);
	CHECK(pread(fd, on_disk, sizeof(on_disk), SECTOR) == (ssize_t)sizeof(on_disk));
	close(fd);
	CHECK(filled(on_disk, 'A', SECTOR) && filled(on_disk + SECTOR, 'B', SECTOR) &&
	      filled(on_disk + 2 * SECTOR, 'C', SECTOR));
	guest_done();
	teardown();
}

/*
 * Split with EVENT_IDX: the driver asked for an interrupt past sector 2's
 * write, whose MSI died with keel-dm. Only the restart's one interrupt
 * (2) tells it about that write and the read done since; none other comes.
 */
TEST(keel_dm_server_restart_resumes_split_ring_io)
{
	restart_resumes_io(VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX, 2);
}

/* Packed, every used buffer interrupts: the restart's one, then the read's. */
TEST(keel_dm_server_restart_resumes_packed_ring_io)
{
	restart_resumes_io(VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | VIRTIO_F_RING_PACKED, 3);
}

/*
 * What the driver wrote last before keel-dm died is there after the
 * restart: with every vector masked, the restart's interrupt and the new
 * completion wait in the PBA, and go out when the driver unmasks.
 */
TEST(keel_dm_server_restart_keeps_the_last_config_write)
{
	char out[1024];
	gpa_t st, buf;
	int id;

	setup();
	guest_init();
	first_life(first_life_dies_after_config, VIRTIO_F_VERSION_1);
	st = post_rw(1, 1, 1, 'A', &buf, &id);
	keel_knows("web", KCTL_VM_RUNNING);
	restore_logged(out, sizeof(out));
	CHECK(strstr(out, "keel-dm: web: 1 device(s) restored after a restart\n") != NULL);
	CHECK_EQ(seen->msis, 0);
	CHECK(vsim_bar_read(drv, VIRTIO_PCI_BAR_MSIX, VIRTIO_PCI_MSIX_PBA_OFF, 8) &
	      BIT(QUEUE_VECTOR));
	vsim_cfg_write(drv, drv->msix_cap + 2, 2, MSIX_ENABLE);
	CHECK_EQ(seen->msi_vec[QUEUE_VECTOR], 1);
	reap(id, st);
	guest_done();
	teardown();
}

static void state_file(unsigned number, char *buf, size_t len)
{
	snprintf(buf, len, "%s/web.%02x.state", state, number);
}

/*
 * keel-dm was down while its VM was destroyed and another made with the same
 * id, name, memory and window offset: the new VM's devices (none yet) must not
 * come back from the old VM's files, queues and all. Only the serial tells.
 */
TEST(keel_dm_server_restart_ignores_a_vm_made_anew)
{
	char out[1024], path[256];

	setup();
	guest_init();
	first_life(first_life_dies_after_config, VIRTIO_F_VERSION_1);
	keel_knows("web", KCTL_VM_RUNNING);
	guest.serial++; /* destroyed and made again meanwhile */
	restore_logged(out, sizeof(out));
	CHECK(strstr(out, "restored after a restart") == NULL);
	CHECK(dm.vms[VM_ID] == NULL);
	snprintf(path, sizeof(path), "%s/web.devices", state);
	CHECK(access(path, F_OK) != 0); /* the old VM's files are gone */
	state_file(2, path, sizeof(path));
	CHECK(access(path, F_OK) != 0);
	guest.serial--;
	guest_done();
	teardown();
}

/*
 * A state file that is another device's, cut short, or not one at all is
 * refused with a log line: that device comes back at power-on, and works.
 */
TEST(keel_dm_server_restart_refuses_bad_state_files)
{
	char req[160], out[2048], two[128], three[128], four[128];
	gpa_t st, buf;
	int id, fd;

	setup();
	guest_init();
	snprintf(req, sizeof(req), "attach web disk %s\n", disk);
	call(req, out, sizeof(out));
	call("attach web rng\n", out, sizeof(out));
	call("attach web console\n", out, sizeof(out));
	CHECK_STR(out, "ok 00:04.0\n");
	keel_knows("web", KCTL_VM_RUNNING);
	CHECK_EQ(vsim_start(drv, VIRTIO_F_VERSION_1, 1), 0);
	dm_vm_close(dm.vms[VM_ID], NULL); /* keel-dm stops; its files stay */
	state_file(2, two, sizeof(two));
	state_file(3, three, sizeof(three));
	state_file(4, four, sizeof(four));
	CHECK(!rename(three, two)); /* the disk's file is now the rng's */
	file(three, "", 100);
	fd = open(four, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "XXXX", 4, 0) == 4); /* the magic */
	close(fd);
	restore_logged(out, sizeof(out));
	CHECK(strstr(out, "web: 00:02.0 disk: cannot restore its state from") != NULL);
	CHECK(strstr(out, "it is of another device; it is at power-on state\n") != NULL);
	CHECK(strstr(out, "web: 00:03.0 rng: cannot restore its state from") != NULL);
	CHECK(strstr(out, "it is 100 bytes, not ") != NULL);
	CHECK(strstr(out, "web: 00:04.0 console: cannot restore its state from") != NULL);
	CHECK(strstr(out, "it is not a keel-dm state file") != NULL);
	CHECK(strstr(out, "web: 0 device(s) restored after a restart, 3 at power-on state\n") !=
	      NULL);
	CHECK_EQ(vsim_cfg_read(drv, 0x04, 2), 0); /* the disk: decoding off, BAR0 unassigned */
	CHECK_EQ(vsim_cfg_read(drv, 0x10, 4), 0x4);
	/* a driver starting over finds it working */
	CHECK_EQ(vsim_start(drv, VIRTIO_F_VERSION_1, 1), 0);
	st = post_rw(1, 1, 1, 'A', &buf, &id);
	doorbell();
	reap(id, st);
	guest_done();
	teardown();
}

/* n sectors at sector filled with fill, through the guest's driver; then read back intact. */
static void disk_round_trip(u64 sector, u32 n, u8 fill)
{
	gpa_t st, buf;
	int id;

	st = post_rw(1, sector, n, fill, &buf, &id);
	doorbell();
	reap(id, st);
	st = post_rw(0, sector, n, 0, &buf, &id);
	doorbell();
	reap(id, st);
	CHECK(filled(vsim_ptr(drv, buf), fill, n * SECTOR));
}

/*
 * Where the file system takes O_DIRECT, 4 KiB-aligned requests go through
 * the bounce buffer (a 2 MiB + 4 KiB one in three pieces) and others
 * through the page cache; both land where they should, and read back.
 */
TEST(keel_dm_server_disk_direct_and_cached_requests)
{
	static u8 on_disk[(2 << 20) + 4096];
	u32 big = (u32)(sizeof(on_disk) / SECTOR);
	int fd;

	setup();
	CHECK(!truncate(disk, 4 << 20));
	guest_init();
	first_life_start(VIRTIO_F_VERSION_1);
	disk_round_trip(8, 8, 'D');    /* aligned: O_DIRECT */
	disk_round_trip(3, 1, 'E');    /* one sector: cached */
	disk_round_trip(24, big, 'F'); /* aligned, larger than the bounce buffer */
	disk_round_trip(17, 2, 'G');   /* cached again, just before it */
	fd = open(disk, O_RDONLY);
	CHECK(pread(fd, on_disk, 8 * SECTOR, 8 * SECTOR) == 8 * SECTOR &&
	      filled(on_disk, 'D', 8 * SECTOR));
	CHECK(pread(fd, on_disk, SECTOR, 3 * SECTOR) == SECTOR && filled(on_disk, 'E', SECTOR));
	CHECK(pread(fd, on_disk, 2 * SECTOR, 17 * SECTOR) == 2 * SECTOR &&
	      filled(on_disk, 'G', 2 * SECTOR));
	CHECK(pread(fd, on_disk, sizeof(on_disk), 24 * SECTOR) == (ssize_t)sizeof(on_disk) &&
	      filled(on_disk, 'F', sizeof(on_disk)));
	close(fd);
	guest_done();
	teardown();
}

// SPDX-License-Identifier: MIT
/* keel-dm: the service VM's device-model daemon: virtio disks, networks, consoles, entropy. */
#define _GNU_SOURCE /* pipe2 */
#include "dm.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define DM_LOCK "/run/keel-dm.lock"
#define DM_LOG "/run/keel-dm.log"
#define DM_STATE_DIR "/run/keel-dm"
#define DM_POLL_MS 20	   /* the safety net for a lost interrupt */
#define DM_REFRESH_MS 1000 /* how often Keel's VM list is read without a VM_STATE interrupt */
#define DM_POLL_MAX (2 + KCTL_MAX_VMS * KCTL_DM_DEVS)

static volatile sig_atomic_t dm_stopping;

static void dm_on_signal(int sig)
{
	(void)sig;
	dm_stopping = 1;
}

static uint64_t dm_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* One keel-dm at a time: it alone uses command slot KCTL_DM_SLOT. */
static int dm_lock(void)
{
	int fd = open(DM_LOCK, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	char pid[16] = "";

	if (fd < 0)
		die("cannot open %s: %s", DM_LOCK, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (read(fd, pid, sizeof(pid) - 1) < 0)
			pid[0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		die("keel-dm is running already (pid %s)", pid[0] ? pid : "?");
	}
	return fd;
}

/*
 * The parent returns once the child is ready (socket open, devices of
 * running VMs back), so a script can use keel-dm right after starting it.
 */
static int dm_daemonize(void)
{
	int ready[2], fd;
	pid_t pid;
	char c;

	if (pipe2(ready, O_CLOEXEC) || (pid = fork()) < 0)
		die("cannot start the daemon: %s", strerror(errno));
	if (pid) {
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1)
			die("the daemon did not start: see %s", DM_LOG);
		printf("keel-dm: running (pid %d), log in %s\n", (int)pid, DM_LOG);
		exit(0);
	}
	close(ready[0]);
	setsid();
	fd = open(DM_LOG, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	return ready[1];
}

/*
 * keel-dm acknowledges every status bit, CONSOLE too: uio wakes every
 * process that has the device open, so that steals no wake-up from a
 * keelctl console, and a bit nobody acknowledges would keep INTx high.
 * Also now and then without an interrupt: INTx may have been left masked
 * (a keelctl console does not re-arm while others' bits are pending).
 */
static uint32_t dm_irq(struct dm *dm, const struct pollfd *uio, int anyway)
{
	uint32_t count, status;
	int fired = dm->ctl->uio_fd >= 0 && (uio->revents & POLLIN);

	if (dm->ctl->uio_fd >= 0 && !fired && !anyway)
		return 0;
	if (fired && read(dm->ctl->uio_fd, &count, 4) != 4)
		errno = 0;
	/* before the scan: later requests raise it again */
	status = ctl_irq_take(dm->ctl, KCTL_IRQ_ALL);
	ctl_irq_rearm(dm->ctl, fired);
	return status;
}

static void dm_serve_vms(struct dm *dm)
{
	for (unsigned id = 0; id < KCTL_MAX_VMS; id++) {
		if (!dm->vms[id])
			continue;
		dm_ioreq_serve(dm, id, dm->vms[id]->vcpus, dm->vms[id]);
		dm_doorbells_take(dm, dm->vms[id]);
	}
}

/* The pollfds: the socket, the control device, then each device's fd. */
static int dm_poll_set(struct dm *dm, int listen_fd, struct pollfd *p, struct dm_dev **owner)
{
	int n = 2;

	p[0] = (struct pollfd){ listen_fd, POLLIN, 0 };
	p[1] = (struct pollfd){ dm->ctl->uio_fd, POLLIN, 0 };
	for (unsigned id = 0; id < KCTL_MAX_VMS; id++) {
		for (unsigned i = 0; dm->vms[id] && i < KCTL_DM_DEVS; i++) {
			struct dm_dev *d = dm->vms[id]->devs[i];

			if (!d || !d->kind->prepare)
				continue;
			p[n] = (struct pollfd){ -1, 0, 0 };
			d->kind->prepare(d, &p[n]);
			dm_dev_state_sync(d);
			owner[n] = d;
			n += p[n].fd >= 0;
		}
	}
	return n;
}

/* Device fds before the socket and the VM list: those may close devices. */
static void dm_loop(struct dm *dm, int listen_fd)
{
	static struct pollfd p[DM_POLL_MAX];
	static struct dm_dev *owner[DM_POLL_MAX];
	uint64_t refreshed = 0;

	while (!dm_stopping) {
		int n = dm_poll_set(dm, listen_fd, p, owner), tick;
		uint32_t status;

		if (poll(p, (nfds_t)n, DM_POLL_MS) < 0) {
			if (errno != EINTR)
				die("poll: %s", strerror(errno));
			continue; /* a signal: maybe time to stop */
		}
		tick = dm_now_ms() - refreshed >= DM_REFRESH_MS;
		status = dm_irq(dm, &p[1], tick);
		dm_serve_vms(dm);
		for (int i = 2; i < n; i++) {
			if (!p[i].revents)
				continue;
			owner[i]->kind->ready(owner[i], p[i].revents);
			/* frames and input into the guest may fail the device */
			dm_dev_state_sync(owner[i]);
		}
		if (p[0].revents & POLLIN)
			dm_server_accept(dm, listen_fd);
		if ((status & KCTL_IRQ_VM_STATE) || tick) {
			dm_vm_refresh(dm);
			refreshed = dm_now_ms();
		}
	}
}

/*
 * Disks flushed, TAPs gone; the devices and state files stay for the next
 * keel-dm. The lock file says "stopped" instead of a pid: service-init's
 * watcher leaves a keel-dm stopped on purpose alone.
 */
static void dm_shutdown(struct dm *dm, int lock)
{
	for (unsigned id = 0; id < KCTL_MAX_VMS; id++)
		if (dm->vms[id])
			dm_vm_close(dm->vms[id], NULL);
	unlink(KEEL_DM_SOCKET);
	if (ftruncate(lock, 0) || pwrite(lock, "stopped\n", 8, 0) != 8)
		errno = 0;
	dm_log("stopped");
}

int main(int argc, char **argv)
{
	static struct ctl c;
	static struct dm dm = { .ctl = &c, .state_dir = DM_STATE_DIR, .vnc = "keel-vnc" };
	struct sigaction sa = { .sa_handler = dm_on_signal };
	int foreground = argc == 2 && !strcmp(argv[1], "--foreground"), ready = -1, lock, listen_fd;

	if (argc > 2 || (argc == 2 && !foreground)) {
		fprintf(stderr,
			"usage: keel-dm [--foreground]\n"
			"  serves the virtio devices 'keelctl create --disk/--net/--console/--rng' attach;\n"
			"  socket %s, log %s\n",
			KEEL_DM_SOCKET, DM_LOG);
		return 2;
	}
	ctl_open(&c);
	lock = dm_lock();
	listen_fd = dm_server_open(KEEL_DM_SOCKET);
	if (listen_fd < 0)
		die("cannot listen on %s: %s", KEEL_DM_SOCKET, strerror(errno));
	if (!foreground)
		ready = dm_daemonize();
	if (ftruncate(lock, 0) || dprintf(lock, "%d\n", (int)getpid()) < 0)
		errno = 0;
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	dm_log("started (pid %d)", (int)getpid());
	dm_display_reset();
	dm_state_restore(&dm);
	dm_vm_refresh(&dm); /* and requests left PENDING by an earlier keel-dm */
	if (ready >= 0 && (write(ready, "", 1) != 1 || close(ready)))
		errno = 0;
	dm_loop(&dm, listen_fd);
	dm_shutdown(&dm, lock);
	return 0;
}

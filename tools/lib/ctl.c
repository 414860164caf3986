// SPDX-License-Identifier: MIT
/* Finding the Keel control device through sysfs, mapping its BARs, and running commands. */
#define _GNU_SOURCE /* program_invocation_short_name: keelctl or keel-dm */
#include "ctl.h"
#include <lib/pci_regs.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#define SYSFS_PCI "/sys/bus/pci/devices"

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static unsigned long read_hex(const char *dir, const char *file)
{
	char path[400], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 0);
}

static int find_device(char *out, size_t len)
{
	DIR *d = opendir(SYSFS_PCI);
	struct dirent *e;
	int found = 0;

	while (d && (e = readdir(d)) && !found) {
		char dir[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), SYSFS_PCI "/%s", e->d_name);
		if (read_hex(dir, "vendor") == KCTL_VENDOR &&
		    read_hex(dir, "device") == KCTL_DEVICE) {
			snprintf(out, len, "%s", dir);
			found = 1;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void open_uio(struct ctl *c)
{
	char dir[400], dev[300];
	DIR *d;
	struct dirent *e;

	c->uio_fd = c->cfg_fd = -1;
	snprintf(dir, sizeof(dir), "%s/uio", c->dev);
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "uio", 3)) {
			snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
			c->uio_fd = open(dev, O_RDWR | O_CLOEXEC);
		}
	if (d)
		closedir(d);
	if (c->uio_fd >= 0) {
		snprintf(dir, sizeof(dir), "%s/config", c->dev);
		c->cfg_fd = open(dir, O_RDWR | O_CLOEXEC);
	}
}

/* Tells Keel the IRQ Linux gave the function's INTx, and which events should raise it. */
static void setup_irq(struct ctl *c)
{
	unsigned long irq = read_hex(c->dev, "irq");

	if (c->uio_fd < 0 || !irq)
		return;
	ctl_set_reg(c, KCTL_REG_IRQ_GSI, (uint32_t)irq);
	ctl_set_reg(c, KCTL_REG_IRQ_ENABLE, KCTL_IRQ_ALL);
}

void ctl_open(struct ctl *c)
{
	char path[400];
	int fd;

	memset(c, 0, sizeof(*c));
	if (geteuid() != 0)
		die("must be run as root: the control device is mapped through sysfs");
	if (!find_device(c->dev, sizeof(c->dev)))
		die("the Keel control device is missing (no PCI function %04x:%04x): is this the service VM of a Keel machine?",
		    KCTL_VENDOR, KCTL_DEVICE);
	snprintf(path, sizeof(path), "%s/enable", c->dev);
	fd = open(path, O_WRONLY);
	if (fd >= 0) { /* memory decoding on, if no driver did it */
		if (write(fd, "1", 1) < 0 && errno != EBUSY)
			errno = 0;
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/resource0", c->dev);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	c->bar0 = mmap(NULL, KCTL_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (c->bar0 == MAP_FAILED)
		die("cannot map the control device's registers: %s", strerror(errno));
	if (ctl_reg(c, KCTL_REG_MAGIC) != KCTL_MAGIC)
		die("the control device does not answer (BAR0 unassigned?)");
	if (ctl_reg(c, KCTL_REG_VERSION) != KCTL_ABI_VERSION)
		die("control device ABI %u, keelctl speaks %u: use the keelctl of this Keel",
		    ctl_reg(c, KCTL_REG_VERSION), KCTL_ABI_VERSION);
	c->window_size = (uint64_t)ctl_reg(c, KCTL_REG_WINDOW_SIZE) << 20;
	open_uio(c);
	setup_irq(c);
}

uint32_t ctl_reg(struct ctl *c, uint32_t reg)
{
	return *(volatile uint32_t *)(c->bar0 + KCTL_REGS + reg);
}

void ctl_set_reg(struct ctl *c, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(c->bar0 + KCTL_REGS + reg) = val;
}

/* Records come back in text only for these. */
static int ctl_text_out(unsigned op)
{
	return op == KCTL_OP_LIST || op == KCTL_OP_INFO || op == KCTL_OP_EXITS;
}

int ctl_run_slot(struct ctl *c, unsigned slot, struct kctl_cmd *cmd)
{
	struct kctl_cmd *s =
		(struct kctl_cmd *)(c->bar0 + KCTL_CMD_BASE + (size_t)slot * KCTL_CMD_SIZE);
	size_t head = offsetof(struct kctl_cmd, text), text = strnlen(cmd->text, KCTL_TEXT_MAX - 1);

	memcpy(s, cmd, head);
	/* at least the NUL: an earlier answer's text is not ours */
	memcpy(s->text, cmd->text, text + 1);
	__sync_synchronize();
	if (c->keel)
		c->keel(s);
	else
		/* Keel runs it before this store completes */
		ctl_set_reg(c, KCTL_REG_DOORBELL, slot);
	__sync_synchronize();
	memcpy(cmd, s, head);
	if (ctl_text_out(cmd->op))
		memcpy(cmd->text, s->text, sizeof(cmd->text));
	return cmd->status;
}

int ctl_run(struct ctl *c, struct kctl_cmd *cmd)
{
	int lock = open(KCTL_LOCK_FILE, O_CREAT | O_RDWR | O_CLOEXEC, 0600), status;

	if (lock < 0 || flock(lock, LOCK_EX))
		die("cannot lock %s: %s", KCTL_LOCK_FILE, strerror(errno));
	status = ctl_run_slot(c, 0, cmd);
	close(lock);
	return status;
}

void *ctl_window_map(struct ctl *c, uint64_t offset, uint64_t len)
{
	char path[400];
	void *p;
	int fd, err;

	snprintf(path, sizeof(path), "%s/resource2", c->dev);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	err = errno;
	close(fd);
	errno = err;
	return p == MAP_FAILED ? NULL : p;
}

void *ctl_window(struct ctl *c, uint64_t offset, uint64_t len)
{
	void *p = ctl_window_map(c, offset, len);

	if (!p)
		die("cannot map the guest RAM window (%s): was BAR2 assigned? see dmesg",
		    strerror(errno));
	return p;
}

struct kctl_ring_hdr *ctl_ring(struct ctl *c, uint32_t vm_id, uint32_t which)
{
	return (struct kctl_ring_hdr *)(c->bar0 + KCTL_CONSOLE_BASE +
					(uint64_t)vm_id * KCTL_CONSOLE_SIZE + which);
}

uint32_t ctl_irq_take(struct ctl *c, uint32_t ack)
{
	uint32_t status = ctl_reg(c, KCTL_REG_IRQ_STATUS);

	if (status & ack)
		ctl_set_reg(c, KCTL_REG_IRQ_ACK, status & ack);
	return status;
}

void ctl_irq_rearm(struct ctl *c, int masked)
{
	uint16_t cmd;

	if (c->cfg_fd < 0)
		return;
	/*
	 * Each config access is two exits (Linux reaches registers below 256
	 * through ports 0xCF8/0xCFC): after an interrupt uio_pci_generic has
	 * masked INTx for sure, so the command register we read before is
	 * written back without reading it again.
	 */
	if (masked && c->command) {
		cmd = c->command;
	} else {
		if (pread(c->cfg_fd, &cmd, 2, PCI_COMMAND) != 2 || !(cmd & PCI_CMD_INTX_DISABLE))
			return;
		cmd = (uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE);
		c->command = cmd;
	}
	if (pwrite(c->cfg_fd, &cmd, 2, PCI_COMMAND) != 2)
		errno = 0; /* INTx stays masked: callers poll as well */
}

uint32_t ctl_wait(struct ctl *c, int ms, uint32_t ack)
{
	struct pollfd p = { c->uio_fd, POLLIN, 0 };
	uint32_t count, status;
	int fired;

	if (c->uio_fd < 0) {
		usleep((useconds_t)ms * 1000);
		return ctl_irq_take(c, ack);
	}
	fired = poll(&p, 1, ms) > 0;
	if (fired && read(c->uio_fd, &count, 4) != 4)
		errno = 0;
	status = ctl_irq_take(c, ack);
	/* bits of ours taken, none of others': else their owner (keel-dm) re-arms */
	if ((status & ack) && !(status & ~ack))
		ctl_irq_rearm(c, fired);
	return status;
}

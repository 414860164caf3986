// SPDX-License-Identifier: MIT
/*
 * nvmedma PCI-ADDRESS TARGET [dword [LOG]]: takes an NVMe controller from
 * its driver, and makes it write a 4 KiB Identify Controller structure to
 * physical address TARGET (NVMe 1.4 5.15), with admin queues in this
 * process's own memory; with "dword", one 4-byte write there, as an MSI is
 * (Get Log Page of the first dword of log LOG, 5.14: the SMART log, 2, by
 * default; the Error Information log, 1, of a controller without errors
 * writes 0, an MSI's data that AMD-Vi reads as entry 0). For the IOMMU tests:
 * the write must not land outside the service VM's RAM, and a message to
 * 0xFEExxxxx must not become an interrupt Keel did not give the device.
 * Prints the completion's status, or that none came in 5 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NVME_CAP 0x00 /* NVMe 1.4 3.1: controller registers */
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28
#define NVME_ACQ 0x30
#define NVME_SQ0TDBL 0x1000
#define NVME_CC_EN 1u
#define NVME_CC_IOSQES (6u << 16) /* 64-byte submission entries */
#define NVME_CC_IOCQES (4u << 20) /* 16-byte completion entries */
#define NVME_CSTS_RDY 1u
#define NVME_ADMIN_GET_LOG_PAGE 0x02
#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_LOG_SMART 0x02
#define NVME_NSID_ALL 0xffffffffu
#define NVME_CNS_CONTROLLER 1
#define PCI_COMMAND 4
#define PCI_CMD_MEMORY 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_CMD_INTX_DISABLE 0x400

static void die(const char *what)
{
	fprintf(stderr, "nvmedma: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		close(fd);
	}
}

/*
 * Memory decoding and bus mastering on: the driver's unbind turned them off.
 * INTx off: nothing here acknowledges the completion, and its level would
 * stay asserted on a line another driver (uio_pci_generic's) may share.
 */
static void enable(const char *dev)
{
	char path[256];
	uint16_t cmd;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", dev);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, PCI_COMMAND) != 2)
		die(path);
	cmd |= PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE;
	if (pwrite(fd, &cmd, 2, PCI_COMMAND) != 2)
		die("command register");
	close(fd);
}

/* The physical address of a locked page of ours (/proc/self/pagemap: bits 54:0 the frame). */
static uint64_t phys_of(void *p)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)p / 4096 * 8)) != 8)
		die("pagemap");
	close(fd);
	if (!(e >> 63) || !(e & ((1ULL << 55) - 1)))
		die("page not present");
	return (e & ((1ULL << 55) - 1)) * 4096;
}

static int wait_rdy(volatile uint32_t *r, uint32_t want)
{
	for (int i = 0; i < 5000; i++) {
		if ((r[NVME_CSTS / 4] & NVME_CSTS_RDY) == want)
			return 0;
		usleep(1000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	char path[256];
	volatile uint32_t *r;
	uint8_t *q;
	uint32_t *sq, *cq;
	uint64_t target, asq, acq;
	int fd;

	bool dword = (argc == 4 || argc == 5) && !strcmp(argv[3], "dword");
	uint32_t log = argc == 5 ? (uint32_t)strtoul(argv[4], NULL, 0) & 0xff : NVME_LOG_SMART;

	if (argc != 3 && !dword) {
		fprintf(stderr,
			"usage: nvmedma PCI-ADDRESS TARGET-PHYSICAL-ADDRESS [dword [LOG-ID]]\n");
		return 2;
	}
	target = strtoull(argv[2], NULL, 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", argv[1]);
	sysfs_write(path, argv[1]);
	enable(argv[1]);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", argv[1]);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		die(path);
	r = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1,
		 0);
	if (r == MAP_FAILED || q == MAP_FAILED)
		die("mmap");
	memset(q, 0, 8192);
	sq = (uint32_t *)q;
	cq = (uint32_t *)(q + 4096);
	asq = phys_of(sq);
	acq = phys_of(cq);
	r[NVME_CC / 4] = 0;
	if (wait_rdy(r, 0))
		die("controller does not stop");
	r[NVME_AQA / 4] = 1u << 16 | 1u; /* two entries each way (0-based) */
	r[NVME_ASQ / 4] = (uint32_t)asq;
	r[NVME_ASQ / 4 + 1] = (uint32_t)(asq >> 32);
	r[NVME_ACQ / 4] = (uint32_t)acq;
	r[NVME_ACQ / 4 + 1] = (uint32_t)(acq >> 32);
	r[NVME_CC / 4] = NVME_CC_EN | NVME_CC_IOSQES | NVME_CC_IOCQES;
	if (wait_rdy(r, 1))
		die("controller does not start");
	sq[0] = (dword ? NVME_ADMIN_GET_LOG_PAGE : NVME_ADMIN_IDENTIFY) | 1u << 16; /* id 1 */
	sq[6] = (uint32_t)target; /* PRP entry 1 (a dword-aligned offset is allowed) */
	sq[7] = (uint32_t)(target >> 32);
	if (dword) {
		sq[1] = NVME_NSID_ALL;
		sq[10] = log; /* NUMDL (bits 31:16) 0: one dword */
	} else {
		sq[10] = NVME_CNS_CONTROLLER;
	}
	__sync_synchronize();
	r[NVME_SQ0TDBL / 4] = 1;
	for (int i = 0; i < 5000; i++) {
		uint32_t dw3 = ((volatile uint32_t *)cq)[3];

		if (dw3 & (1u << 16)) { /* phase tag */
			printf("nvmedma: %s to %#" PRIx64 " completed, status %#x\n",
			       dword ? "dword" : "identify", target, dw3 >> 17);
			return 0;
		}
		usleep(1000);
	}
	printf("nvmedma: %s to %#" PRIx64 ": no completion in 5 s\n", dword ? "dword" : "identify",
	       target);
	return 0;
}

// SPDX-License-Identifier: MIT
/* keel-dm's dispatch against a fake control device: config, MMIO and port requests, doorbells, MSIs. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "test.h"
#include "tools/keel-dm/dm.h"

#define VM_ID 3
#define RAM_SIZE (1 << 20)
#define BAR0_AT 0xc0000000ULL /* where Linux would place them, in the PCI MMIO window */
#define BAR2_AT 0xc0004000ULL
#define CFG(dev, fn, reg) ((u64)(dev) << 15 | (u64)(fn) << 12 | (reg))
#define COMMON(f) (BAR0_AT + VIRTIO_PCI_COMMON_OFF + offsetof(struct virtio_pci_common_cfg, f))
/* PCI LB 3.0 6.2: header offsets and command bits */
#define CFG_COMMAND 0x04
#define CFG_BAR0 0x10
#define CMD_MEMORY 0x2
#define CMD_MASTER 0x4
#define MSIX_ENABLE 0x8000 /* PCI LB 3.0 6.8.2.3 */
#define RING_DESC 0x1000
#define RING_AVAIL 0x2000
#define RING_USED 0x3000
#define RNG_BUF 0x8000

static struct ctl ctl;
static struct dm dm = { .ctl = &ctl };
static struct dm_vm vm;
static u8 *ram;

static void setup(void)
{
	ctl.bar0 = calloc(1, KCTL_BAR0_SIZE);
	ctl.uio_fd = ctl.cfg_fd = -1;
	ram = calloc(1, RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	vm.dm = &dm;
	strcpy(vm.name, "t");
	vm.id = VM_ID;
	vm.vcpus = 2;
	vm.memory = RAM_SIZE;
	guest_mem_init(&vm.mem);
	guest_mem_add_region(&vm.mem, 0, RAM_SIZE, ram);
	dm.vms[VM_ID] = &vm;
}

static void teardown(void)
{
	for (unsigned n = 0; n < KCTL_DM_DEVS; n++)
		if (vm.devs[n])
			dm_dev_close(vm.devs[n]);
	dm.vms[VM_ID] = NULL;
	free((void *)ctl.bar0);
	free(ram);
}

/* What keel-dm last asked Keel, in its command slot. */
static struct kctl_cmd *last_cmd(void)
{
	return (struct kctl_cmd *)(ctl.bar0 + KCTL_CMD_BASE + KCTL_DM_SLOT * KCTL_CMD_SIZE);
}

static struct kctl_ioreq *slot(unsigned id, unsigned vcpu)
{
	return (struct kctl_ioreq *)(ctl.bar0 + KCTL_IOREQ_BASE + id * KCTL_IOREQ_VM_SIZE) + vcpu;
}

/* A request in slot s, as Keel posts it. */
static void post(struct kctl_ioreq *s, unsigned type, u64 addr, unsigned size, int write, u64 data)
{
	*s = (struct kctl_ioreq){ .type = type,
				  .size = size,
				  .write = (unsigned)write,
				  .addr = addr,
				  .data = data,
				  .result = 12345 };
	__atomic_store_n(&s->state, KCTL_IOREQ_PENDING, __ATOMIC_RELEASE);
}

/* One access of vCPU 1; the answer's data, its result in *result. */
static u64 request(unsigned type, u64 addr, unsigned size, int write, u64 data, int *result)
{
	struct kctl_ioreq *s = slot(VM_ID, 1);

	post(s, type, addr, size, write, data);
	CHECK_EQ(dm_ioreq_serve(&dm, VM_ID, vm.vcpus, &vm), 1);
	CHECK_EQ(s->state, KCTL_IOREQ_DONE);
	CHECK_EQ(*(u32 *)(ctl.bar0 + KCTL_REG_IOREQ_DONE), VM_ID);
	if (result)
		*result = s->result;
	else
		CHECK_EQ(s->result, 0);
	return s->data;
}

static u64 cfg_read(unsigned dev, unsigned reg, unsigned size)
{
	return request(KCTL_IOREQ_CFG, CFG(dev, 0, reg), size, 0, 0, NULL);
}

static void cfg_write(unsigned dev, unsigned reg, unsigned size, u64 val)
{
	request(KCTL_IOREQ_CFG, CFG(dev, 0, reg), size, 1, val, NULL);
}

static u64 mmio_read(u64 addr, unsigned size)
{
	return request(KCTL_IOREQ_MMIO, addr, size, 0, 0, NULL);
}

static void mmio_write(u64 addr, unsigned size, u64 val)
{
	request(KCTL_IOREQ_MMIO, addr, size, 1, val, NULL);
}

static struct dm_dev *attach(const char *line, char *msg, size_t len)
{
	char buf[256], *argv[8];
	int argc;

	snprintf(buf, sizeof(buf), "%s", line);
	argc = dm_args_split(buf, argv, 8);
	return dm_dev_attach(&vm, argc, argv, 0, msg, len);
}

static void place_bars(unsigned dev)
{
	cfg_write(dev, CFG_BAR0, 4, (u32)BAR0_AT);
	cfg_write(dev, CFG_BAR0 + 4, 4, 0);
	cfg_write(dev, CFG_BAR0 + 8, 4, (u32)BAR2_AT);
	cfg_write(dev, CFG_BAR0 + 12, 4, 0);
	cfg_write(dev, CFG_COMMAND, 2, CMD_MEMORY | CMD_MASTER);
}

TEST(keel_dm_disk_config_and_bars)
{
	char path[] = "/tmp/keel-dm-test-XXXXXX", line[300], msg[300];
	int fd = mkstemp(path);
	struct dm_dev *d;
	int result;

	setup();
	CHECK(fd >= 0 && !ftruncate(fd, 1 << 20));
	snprintf(line, sizeof(line), "disk %s ro", path);
	d = attach(line, msg, sizeof(msg));
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(d->number, 1);
		CHECK_EQ(last_cmd()->op, KCTL_OP_DM_ATTACH);
		CHECK_EQ(last_cmd()->args[0], 1);
		CHECK_STR(last_cmd()->name, "t");
		CHECK_EQ(cfg_read(1, 0, 2), VIRTIO_PCI_VENDOR);
		CHECK_EQ(cfg_read(1, 2, 2), VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK);
		/* function 1 */
		CHECK_EQ(request(KCTL_IOREQ_CFG, CFG(1, 1, 0), 4, 0, 0, NULL), 0xffffffff);
		CHECK_EQ(cfg_read(5, 0, 2), 0xffff); /* not keel-dm's */
		CHECK_EQ(cfg_read(1, 0x100, 4), 0);  /* extended space */
		place_bars(1);
		CHECK_EQ(last_cmd()->op, KCTL_OP_DM_DOORBELL);
		CHECK_EQ(last_cmd()->args[0], 1);
		CHECK_EQ(last_cmd()->args[1], BAR0_AT + VIRTIO_PCI_NOTIFY_OFF);
		/* a queue per vCPU */
		CHECK_EQ(last_cmd()->args[2], vm.vcpus * VIRTIO_PCI_NOTIFY_MULT);
		CHECK_EQ(last_cmd()->args[3], VIRTIO_PCI_NOTIFY_MULT);
		CHECK_EQ(mmio_read(COMMON(num_queues), 2), vm.vcpus);
		/* capacity */
		CHECK_EQ(mmio_read(BAR0_AT + VIRTIO_PCI_DEVICE_OFF, 8), (1 << 20) / 512);
		request(KCTL_IOREQ_MMIO, 0xd0000000, 4, 0, 0, &result);
		CHECK_EQ(result, -1);
		cfg_write(1, CFG_COMMAND, 2, 0); /* decoding off: no doorbells */
		CHECK_EQ(last_cmd()->op, KCTL_OP_DM_DOORBELL);
		CHECK_EQ(last_cmd()->args[2], 0);
		request(KCTL_IOREQ_MMIO, COMMON(num_queues), 2, 0, 0, &result);
		CHECK_EQ(result, -1);
		dm_dev_describe(d, line, sizeof(line));
		CHECK(!strncmp(line, "00:01.0 disk /tmp/keel-dm-test-", 31));
		CHECK(strstr(line, " ro") != NULL);
	}
	teardown();
	unlink(path);
	close(fd);
}

TEST(keel_dm_attach_failure_leaves_nothing)
{
	char msg[300];

	setup();
	CHECK(attach("disk /nonexistent/disk.img", msg, sizeof(msg)) == NULL);
	CHECK(strstr(msg, "cannot open '/nonexistent/disk.img'") != NULL);
	CHECK(attach("floppy /a", msg, sizeof(msg)) == NULL);
	CHECK(attach("rng extra", msg, sizeof(msg)) == NULL);
	CHECK_EQ(last_cmd()->op, 0); /* Keel was never asked */
	for (unsigned n = 0; n < KCTL_DM_DEVS; n++)
		CHECK(vm.devs[n] == NULL);
	teardown();
}

/* An entropy device brought up through forwarded accesses only, as Linux would. */
static void rng_bring_up(struct dm_dev *d)
{
	place_bars(d->number);
	cfg_write(d->number, d->vp.cap_msix + 2, 2, MSIX_ENABLE);
	mmio_write(BAR2_AT + 0, 4, 0xfee00000); /* vector 0: address, data, unmasked */
	mmio_write(BAR2_AT + 8, 4, 0x41);
	mmio_write(BAR2_AT + 12, 4, 0);
	mmio_write(COMMON(device_status), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_write(COMMON(driver_feature_select), 4, 1);
	mmio_write(COMMON(driver_feature), 4, VIRTIO_F_VERSION_1 >> 32);
	mmio_write(COMMON(device_status), 1, 0xb); /* + FEATURES_OK */
	mmio_write(COMMON(queue_select), 2, 0);
	mmio_write(COMMON(queue_size), 2, 8);
	mmio_write(COMMON(queue_msix_vector), 2, 0);
	mmio_write(COMMON(queue_desc), 8, RING_DESC);
	mmio_write(COMMON(queue_driver), 8, RING_AVAIL);
	mmio_write(COMMON(queue_device), 8, RING_USED);
	mmio_write(COMMON(queue_enable), 2, 1);
	mmio_write(COMMON(device_status), 1, 0xf); /* + DRIVER_OK */
}

/* Buffer i: one device-writable descriptor, made available. */
static void rng_post(u16 i, u64 addr)
{
	struct virtq_desc *desc = (struct virtq_desc *)(ram + RING_DESC);
	struct virtq_avail *avail = (struct virtq_avail *)(ram + RING_AVAIL);

	desc[i] = (struct virtq_desc){ addr, 16, VIRTQ_DESC_F_WRITE, 0 };
	avail->ring[i] = i;
	avail->idx = (u16)(i + 1);
}

TEST(keel_dm_rng_doorbell_and_msi)
{
	struct kctl_doorbells *db;
	struct virtq_used *used;
	struct dm_dev *d;
	char msg[300];
	u8 zero[16] = { 0 };

	setup();
	db = (struct kctl_doorbells *)(ctl.bar0 + KCTL_DOORBELL_BASE +
				       VM_ID * KCTL_DOORBELL_VM_SIZE);
	used = (struct virtq_used *)(ram + RING_USED);
	d = attach("rng", msg, sizeof(msg));
	CHECK(d != NULL);
	if (d) {
		rng_bring_up(d);
		CHECK_EQ(mmio_read(COMMON(device_status), 1), 0xf);
		rng_post(0, RNG_BUF);
		db->pending[d->number] = 1; /* queue 0, as Keel sets it */
		dm_doorbells_take(&dm, &vm);
		CHECK_EQ(db->pending[d->number], 0);
		CHECK_EQ(used->idx, 1);
		CHECK_EQ(used->ring[0].len, 16);
		CHECK(memcmp(ram + RNG_BUF, zero, 16) != 0);
		CHECK_EQ(last_cmd()->op, KCTL_OP_DM_MSI);
		CHECK_EQ(last_cmd()->args[0], 0xfee00000);
		CHECK_EQ(last_cmd()->args[1], 0x41);
		rng_post(1, RNG_BUF + 16); /* a notify that came as an MMIO write */
		mmio_write(BAR0_AT + VIRTIO_PCI_NOTIFY_OFF, 2, 0);
		CHECK_EQ(used->idx, 2);
		/* outside guest RAM: the device fails, keel-dm does not */
		rng_post(2, RAM_SIZE + 0x1000);
		db->pending[d->number] = 1;
		dm_doorbells_take(&dm, &vm);
		dm_dev_describe(d, msg, sizeof(msg));
		CHECK(!strncmp(msg, "00:01.0 rng FAILED: ", 20));
		CHECK(mmio_read(COMMON(device_status), 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
		/* and the guest is switched off, saying why */
		CHECK_EQ(last_cmd()->op, KCTL_OP_STOP);
		CHECK_EQ(last_cmd()->flags, KCTL_STOP_FORCE);
		CHECK_STR(last_cmd()->name, "t");
		CHECK(!strncmp(last_cmd()->text,
			       "its virtio rng 00:01.0 misbehaved: queue 0: descriptor buffer",
			       61));
	}
	teardown();
}

TEST(keel_dm_hostile_and_orphan_requests)
{
	struct kctl_ioreq *s;
	int result;

	setup();
	request(KCTL_IOREQ_MMIO, BAR0_AT, 3, 0, 0, &result); /* no such size */
	CHECK_EQ(result, -1);
	request(7, BAR0_AT, 4, 0, 0, &result); /* no such type */
	CHECK_EQ(result, -1);
	request(KCTL_IOREQ_CFG, CFG(1, 0, 0), 8, 0, 0, &result); /* config is at most 4 bytes */
	CHECK_EQ(result, -1);
	CHECK_EQ(dm_ioreq_serve(&dm, KCTL_MAX_VMS, 1, NULL), 0);
	s = slot(9, 0); /* a VM keel-dm does not serve (a restart lost its devices) */
	post(s, KCTL_IOREQ_CFG, CFG(2, 0, 0), 4, 0, 0);
	CHECK_EQ(dm_ioreq_serve(&dm, 9, 1, NULL), 1);
	CHECK_EQ(s->data, 0xffffffff);
	CHECK_EQ(s->result, 0);
	post(s, KCTL_IOREQ_MMIO, BAR0_AT, 4, 0, 0);
	CHECK_EQ(dm_ioreq_serve(&dm, 9, 1, NULL), 1);
	CHECK_EQ(s->result, -1);
	CHECK_EQ(dm_ioreq_serve(&dm, 9, 1, NULL), 0); /* DONE is not answered twice */
	teardown();
}

/* --- a firmware VM's variable store (flash.c), at QEMU's place for OVMF_VARS_4M.fd --- */
#define STORE_AT 0xffc00000ULL
#define STORE_SIZE (2 * 4096)

static char store_path[64];
static unsigned store_seq;

/* A store file of a known pattern, attached to vm (restore: after a restart). */
static void store_attach(int restore)
{
	char base[32], msg[200], *argv[3] = { "flash", store_path, base };

	snprintf(base, sizeof(base), "%#llx", STORE_AT);
	CHECK_EQ(dm_flash_attach(&vm, 3, argv, restore, msg, sizeof(msg)), 0);
	CHECK(vm.flash != NULL);
}

static void store_make(void)
{
	u8 buf[STORE_SIZE];
	int fd;

	strcpy(store_path, "/tmp/keel-dm-vars-XXXXXX");
	fd = mkstemp(store_path);
	CHECK(fd >= 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 3);
	CHECK_EQ(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	store_attach(0);
}

static u8 store_byte(u64 off)
{
	u8 b = 0;
	int fd = open(store_path, O_RDONLY);

	CHECK_EQ(pread(fd, &b, 1, (off_t)off), 1);
	close(fd);
	return b;
}

/* A byte access of vCPU 1 with the slot's next seq (seq: 0 takes the next); the answer's action. */
static u32 store_access(u64 off, int write, u64 data, u64 *out, unsigned seq)
{
	struct kctl_ioreq *s = slot(VM_ID, 1);

	post(s, KCTL_IOREQ_MMIO, STORE_AT + off, 1, write, data);
	s->seq = seq ? seq : ++store_seq;
	CHECK_EQ(dm_ioreq_serve(&dm, VM_ID, vm.vcpus, &vm), 1);
	CHECK_EQ(s->result, 0);
	if (out)
		*out = s->data;
	return s->flash;
}

TEST(keel_dm_flash_programs_and_erases_its_file)
{
	u64 v = 0;
	int result;

	setup();
	store_make();
	/* QemuFlashWrite: 0x10, the byte; reads trap meanwhile and are the status */
	CHECK_EQ(store_access(0x20, 1, 0x10, NULL, 0), KCTL_FLASH_COMMAND);
	CHECK_EQ(store_access(0x20, 1, 0xab, NULL, 0), KCTL_FLASH_PROGRAM | KCTL_FLASH_COMMAND);
	CHECK_EQ(store_byte(0x20), 0xab); /* in the file before the answer */
	CHECK_EQ(store_access(0x20, 0, 0, &v, 0), 0);
	CHECK_EQ(v, 0x80);
	CHECK_EQ(store_access(0x20, 1, 0xff, NULL, 0), KCTL_FLASH_ARRAY);
	CHECK_EQ(store_byte(0x21), (u8)(0x21 * 3));
	/* QemuFlashEraseBlock: the second block only */
	CHECK_EQ(store_access(4096 + 8, 1, 0x20, NULL, 0), KCTL_FLASH_COMMAND);
	CHECK_EQ(store_access(4096 + 8, 1, 0xd0, NULL, 0), KCTL_FLASH_ERASE | KCTL_FLASH_COMMAND);
	for (u64 i = 0; i < 4096; i += 511)
		CHECK_EQ(store_byte(4096 + i), 0xff);
	CHECK_EQ(store_byte(4095), (u8)(4095 * 3));
	/* past the store: not the store's, and nothing else there */
	request(KCTL_IOREQ_MMIO, STORE_AT + STORE_SIZE, 1, 1, 0x10, &result);
	CHECK_EQ(result, -1);
	dm_flash_close(&vm);
	unlink(store_path);
	teardown();
}

TEST(keel_dm_flash_restart_keeps_command_and_answer)
{
	char dir[] = "/tmp/keel-dm-flash-XXXXXX", path[128];

	setup();
	CHECK(mkdtemp(dir) != NULL);
	dm.state_dir = dir;
	store_make();
	CHECK_EQ(store_access(0x40, 1, 0x10, NULL, 0), KCTL_FLASH_COMMAND);
	/* keel-dm dies after the answer went out; the next one carries on from the state file */
	dm_flash_close(&vm);
	store_attach(1);
	CHECK_EQ(store_access(0x40, 1, 0x50, NULL, 0), KCTL_FLASH_PROGRAM | KCTL_FLASH_COMMAND);
	CHECK_EQ(store_byte(0x40), 0x50); /* data, not "clear status" */
	/* keel-dm dies before its answer reached Keel: the same request again is not done twice */
	dm_flash_close(&vm);
	store_attach(1);
	CHECK_EQ(store_access(0x40, 1, 0x50, NULL, store_seq),
		 KCTL_FLASH_PROGRAM | KCTL_FLASH_COMMAND);
	CHECK_EQ(vm.flash != NULL, 1);
	CHECK_EQ(store_access(0x40, 1, 0xff, NULL, 0), KCTL_FLASH_ARRAY);
	/* a new VM (attach, not restore) starts at power-on */
	dm_flash_close(&vm);
	store_attach(0);
	CHECK_EQ(store_access(0x41, 1, 0x50, NULL, 0), KCTL_FLASH_ARRAY); /* clear status */
	CHECK_EQ(store_byte(0x41), (u8)(0x41 * 3));
	dm_flash_close(&vm);
	dm_flash_forget(&dm, vm.name);
	snprintf(path, sizeof(path), "%s/t.flash.state", dir);
	CHECK(access(path, F_OK) != 0);
	rmdir(dir);
	dm.state_dir = NULL;
	unlink(store_path);
	teardown();
}

/* A firmware VM's PS/2 keyboard controller: port requests, IRQ 1 through Keel, a restart. */
static unsigned kbc_seq;

/* One port access of vCPU 1, numbered as Keel numbers them (a repeated number is a replay). */
static u64 kbc_port(u64 port, int write, u64 data)
{
	struct kctl_ioreq *s = slot(VM_ID, 1);

	post(s, KCTL_IOREQ_PIO, port, 1, write, data);
	s->seq = ++kbc_seq;
	CHECK_EQ(dm_ioreq_serve(&dm, VM_ID, vm.vcpus, &vm), 1);
	CHECK_EQ(s->result, 0);
	return s->data;
}

TEST(keel_dm_kbc_ports_irq_and_restart)
{
	char dir[] = "/tmp/keel-dm-kbc-XXXXXX", msg[128], word[] = "kbc", *argv[] = { word };
	int result;

	setup();
	CHECK(mkdtemp(dir) != NULL);
	dm.state_dir = dir;
	CHECK_EQ(dm_kbc_attach(&vm, 1, argv, 0, msg, sizeof(msg)), 0);
	CHECK_EQ(last_cmd()->op, KCTL_OP_DM_PORTS); /* 0x64 last: 0x60 with IRQ 1 before it */
	CHECK_EQ(last_cmd()->args[0], 0x64);
	CHECK_EQ(dm_kbc_attach(&vm, 1, argv, 0, msg, sizeof(msg)), -1); /* one per VM */
	CHECK_EQ(kbc_port(0x64, 0, 0) & 0x05, 0); /* no byte, no system flag yet */
	kbc_port(0x64, 1, 0xaa);		  /* self-test */
	CHECK_EQ(kbc_port(0x64, 0, 0) & 0x05, 0x05);
	CHECK_EQ(kbc_port(0x60, 0, 0), 0x55);
	kbc_port(0x64, 1, 0x60);
	kbc_port(0x60, 1, 0x67);
	dm_kbc_key(&vm, 30, 1); /* KEY_A: set 1 0x1E, and IRQ 1 rises */
	CHECK_EQ(last_cmd()->op, KCTL_OP_DM_IRQ);
	CHECK_EQ(last_cmd()->args[0], 1);
	CHECK_EQ(last_cmd()->args[1], 1);
	dm_kbc_key(&vm, 30, 0);
	CHECK_EQ(kbc_port(0x60, 0, 0), 0x1e); /* the next byte loads: IRQ 1 low, then high */
	CHECK_EQ(last_cmd()->op, KCTL_OP_DM_IRQ);
	CHECK_EQ(last_cmd()->args[1], 1);
	/* keel-dm dies before its answer reached Keel: the same request again gets the same byte */
	dm_kbc_close(&vm);
	CHECK_EQ(dm_kbc_attach(&vm, 1, argv, 1, msg, sizeof(msg)), 0);
	kbc_seq--;
	CHECK_EQ(kbc_port(0x60, 0, 0), 0x1e);
	/* and carries on from the state file */
	CHECK_EQ(kbc_port(0x60, 0, 0), 0x9e);
	CHECK_EQ(last_cmd()->args[1], 0); /* empty: IRQ 1 low */
	/* a port that is not the controller's: nothing answers */
	request(KCTL_IOREQ_PIO, 0x61, 1, 0, 0, &result);
	CHECK_EQ(result, -1);
	dm_kbc_close(&vm);
	dm_kbc_forget(&dm, vm.name);
	snprintf(msg, sizeof(msg), "%s/t.kbc.state", dir);
	CHECK(access(msg, F_OK) != 0);
	rmdir(dir);
	dm.state_dir = NULL;
	teardown();
}

// SPDX-License-Identifier: MIT
/* libFuzzer: arbitrary bytes become guest RAM with split or packed rings that devices process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <virtio/pci.h>
#include <virtio/net.h>
#include <virtio/console.h>
#include <virtio/rng.h>

/*
 * Input: flags, queue size, rounds, device (bit 7: skew the ring
 * areas by bits 6:2), then an image of the first
 * half of guest RAM; whatever follows is a list of patches (le16 offset,
 * length, bytes) applied between rounds, as a running driver would.
 *
 * Queue q's rings sit at q * 0x2000: descriptors +0, driver area
 * +0x1000, device area +0x1800.
 *
 * The oracles: ASan; a fault always shows as NEEDS_RESET; and guest RAM,
 * compared before and after each step (the driver's set-up, each round of
 * notifications and device input), changed only where a device may write:
 * its used rings (split: the device area; packed: the id, len and flags of
 * ring slots, never an address, and the device event area) and buffers
 * some descriptor marks device-writable (in the queues' tables or the
 * indirect tables they name, before or after the step). A step whose
 * writable buffers overlap descriptors or driver areas rewrites its own
 * rings: it is left out of that oracle.
 */
#define RAM_SIZE 0x8000u
#define F_PACKED 0x01
#define F_EVENT_IDX 0x02
#define F_INDIRECT 0x04
#define F_MRG_RXBUF 0x08
#define F_MSIX_OFF 0x10
#define COMMON(f) (VIRTIO_PCI_COMMON_OFF + offsetof(struct virtio_pci_common_cfg, f))

static u8 *ram;
static u8 before[RAM_SIZE];
static bool used_area[RAM_SIZE], writable[RAM_SIZE], ring_mem[RAM_SIZE];
static u64 selfmod_steps;
static struct guest_mem mem;
static struct virtio_pci vp;
static struct virtio_net net;
static struct virtio_console con;
static struct virtio_rng rng;
static u8 sink[64];

static int net_tx(void *ctx, u16 pair, const struct virtio_net_hdr *hdr,
		  const struct virtio_iov *iov, u32 n)
{
	(void)ctx;
	(void)pair;
	(void)hdr;
	for (u32 i = 0; i < n; i++) /* touch every byte the device handed out */
		sink[i % sizeof(sink)] ^= ((u8 *)iov[i].base)[iov[i].len - 1];
	return 0;
}

static void con_out(void *ctx, const void *buf, u32 len)
{
	(void)ctx;
	if (len)
		sink[0] ^= ((const u8 *)buf)[len - 1];
}

static int rng_fill(void *ctx, void *buf, u32 len)
{
	(void)ctx;
	memset(buf, 0x42, len);
	return (int)len;
}

static void msi(void *ctx, u64 addr, u32 data)
{
	(void)ctx;
	sink[1] ^= (u8)(addr ^ data);
}

static const struct virtio_net_ops net_ops = { .transmit = net_tx };
static const struct virtio_console_ops con_ops = { .output = con_out };
static const struct virtio_rng_ops rng_ops = { .fill = rng_fill };

static void common_write(u32 off, u32 size, u64 val)
{
	virtio_pci_bar_write(&vp, VIRTIO_PCI_BAR_CFG, off, size, val);
}

static struct virtio_dev *make_device(u8 kind, u16 qsize)
{
	struct virtio_net_params np = { .max_pairs = 1, .queue_size = qsize };
	struct virtio_console_params cp = { .queue_size = qsize };

	switch (kind % 3) {
	case 0:
		np.offloads = VIRTIO_NET_OFFLOADS;
		return virtio_net_init(&net, &np, &net_ops, NULL) ? NULL : &net.dev;
	case 1:
		return virtio_console_init(&con, &cp, &con_ops, NULL) ? NULL : &con.dev;
	default:
		return virtio_rng_init(&rng, qsize, &rng_ops, NULL) ? NULL : &rng.dev;
	}
}

/* The init sequence of virtio 1.2 3.1.1 through BAR accesses. */
static void driver_init(struct virtio_dev *dev, u8 flags, u16 qsize, u32 skew)
{
	u64 f = VIRTIO_F_VERSION_1;
	struct virtio_pci_params p = { .mem = &mem, .notify_msi = msi };

	if (virtio_pci_init(&vp, dev, &p))
		abort();
	virtio_pci_cfg_write(&vp, 0x04, 2, 0x6);
	if (!(flags & F_MSIX_OFF))
		virtio_pci_cfg_write(&vp, vp.cap_msix + 2, 2, 0x8000);
	f |= flags & F_PACKED ? VIRTIO_F_RING_PACKED : 0;
	f |= flags & F_EVENT_IDX ? VIRTIO_F_EVENT_IDX : 0;
	f |= flags & F_INDIRECT ? VIRTIO_F_INDIRECT_DESC : 0;
	f |= flags & F_MRG_RXBUF ? VIRTIO_NET_F_MRG_RXBUF : 0;
	common_write(COMMON(device_status), 1, 3);
	common_write(COMMON(driver_feature_select), 4, 0);
	common_write(COMMON(driver_feature), 4, (u32)f);
	common_write(COMMON(driver_feature_select), 4, 1);
	common_write(COMMON(driver_feature), 4, (u32)(f >> 32));
	common_write(COMMON(device_status), 1, 0xb);
	common_write(COMMON(config_msix_vector), 2, 0);
	for (u16 q = 0; q < dev->num_queues; q++) {
		common_write(COMMON(queue_select), 2, q);
		common_write(COMMON(queue_size), 2, qsize);
		common_write(COMMON(queue_desc), 8, q * 0x2000u);
		common_write(COMMON(queue_driver), 8, q * 0x2000u + 0x1000 + skew);
		common_write(COMMON(queue_device), 8, q * 0x2000u + 0x1800 + skew);
		common_write(COMMON(queue_msix_vector), 2, q + 1u);
		common_write(COMMON(queue_enable), 2, 1);
	}
	common_write(COMMON(device_status), 1, 0xf);
}

static u64 common_read(u32 off, u32 size)
{
	u64 v = 0;

	virtio_pci_bar_read(&vp, VIRTIO_PCI_BAR_CFG, off, size, &v);
	return v;
}

static void mark(bool *map, u64 addr, u64 len)
{
	if (addr >= RAM_SIZE)
		return;
	memset(map + addr, true, MIN(len, RAM_SIZE - addr));
}

static u64 ram_le(const u8 *mem, u64 at, u32 size)
{
	u64 v = 0;

	for (u32 i = 0; i < size; i++)
		v |= (u64)mem[at + i] << (8 * i);
	return v;
}

/*
 * Every descriptor of the table at [at, at + n * 16) in mem: device-writable
 * buffers into writable[], indirect tables (of the same format, which
 * packed and split keep their flags in different places) into ring_mem[]
 * and walked once.
 */
static void scan_table(const u8 *mem, u64 at, u32 n, bool packed, bool nested)
{
	u32 fl_off = packed ? offsetof(struct pvirtq_desc, flags) :
			      offsetof(struct virtq_desc, flags);

	for (u32 i = 0; i < n && at + 16ULL * (i + 1) <= RAM_SIZE; i++) {
		u64 d = at + 16ULL * i, addr = ram_le(mem, d, 8), len = ram_le(mem, d + 8, 4);
		u16 flags = (u16)ram_le(mem, d + fl_off, 2);

		if ((flags & VIRTQ_DESC_F_INDIRECT) && !nested) {
			mark(ring_mem, addr, len);
			/* a longer table is refused (vq_chain_indirect): its tail is never read */
			if (addr < RAM_SIZE)
				scan_table(mem, addr,
					   (u32)MIN(MIN(len, RAM_SIZE - addr) / 16,
						    VIRTIO_QUEUE_SIZE_MAX),
					   packed, true);
		} else if (flags & VIRTQ_DESC_F_WRITE) {
			mark(writable, addr, len);
		}
	}
}

/*
 * The queues as the driver set them up (sizes and features read back, as a
 * driver would): their used areas, their descriptor and driver memory, and
 * the writable buffers their descriptors name in mem.
 */
static void layout(struct virtio_dev *dev, const u8 *mem)
{
	bool event_idx;
	u64 offered;

	common_write(COMMON(device_feature_select), 4, 1);
	offered = common_read(COMMON(device_feature), 4) << 32;
	common_write(COMMON(device_feature_select), 4, 0);
	offered |= common_read(COMMON(device_feature), 4);
	for (u16 q = 0; q < dev->num_queues; q++) {
		u64 desc = q * 0x2000u, drv, devarea;
		bool packed;
		u16 size;

		common_write(COMMON(queue_select), 2, q);
		size = (u16)common_read(COMMON(queue_size), 2);
		drv = common_read(COMMON(queue_driver), 8);
		devarea = common_read(COMMON(queue_device), 8);
		if (!common_read(COMMON(queue_enable), 2) || !size)
			continue;
		packed = dev->vqs[q].packed;
		event_idx = (offered & VIRTIO_F_EVENT_IDX) && dev->vqs[q].event_idx;
		if (packed) {
			for (u16 i = 0; i < size; i++) /* len, id, flags of each slot */
				mark(used_area, desc + 16u * i + 8, 8);
			mark(used_area, devarea, sizeof(struct pvirtq_event_suppress));
			mark(ring_mem, drv, sizeof(struct pvirtq_event_suppress));
		} else {
			mark(used_area, devarea, 4 + 8u * size + (event_idx ? 2 : 0));
			mark(ring_mem, drv, 4 + 2u * size + (event_idx ? 2 : 0));
		}
		mark(ring_mem, desc, 16u * size);
		scan_table(mem, desc, size, packed, false);
	}
}

static u64 word(const void *p, u32 i)
{
	u64 w;

	memcpy(&w, (const u8 *)p + i, 8);
	return w;
}

/* After a step: only used areas and writable buffers (before or after it) changed. */
static void check_writes(struct virtio_dev *dev)
{
	if (!memcmp(before, ram, RAM_SIZE))
		return;
	memset(used_area, 0, sizeof(used_area));
	memset(writable, 0, sizeof(writable));
	memset(ring_mem, 0, sizeof(ring_mem));
	layout(dev, before);
	layout(dev, ram);
	/* a word at a time: the bools are bytes of 0 or 1 */
	for (u32 i = 0; i < RAM_SIZE; i += 8) {
		if (word(writable, i) & word(ring_mem, i)) {
			selfmod_steps++;
			return;
		}
	}
	for (u32 i = 0; i < RAM_SIZE; i += 8) {
		if (word(ram, i) == word(before, i))
			continue;
		for (u32 j = i; j < i + 8; j++)
			if (ram[j] != before[j] && !used_area[j] && !writable[j])
				abort(); /* the device wrote where no descriptor let it */
	}
}

/* One patch from the input: le16 offset, length byte, bytes. */
static size_t apply_patch(const u8 *d, size_t n)
{
	u32 off, len;

	if (n < 3)
		return n;
	off = (d[0] | d[1] << 8) % RAM_SIZE;
	len = MIN((u32)d[2], (u32)(n - 3));
	len = MIN(len, RAM_SIZE - off);
	memcpy(ram + off, d + 3, len);
	return 3 + len;
}

static void round_trip(struct virtio_dev *dev, u8 kind, const u8 *d, size_t n)
{
	static const u8 frame[1600];

	for (u16 q = 0; q < dev->num_queues; q++)
		virtio_pci_bar_write(&vp, VIRTIO_PCI_BAR_CFG, VIRTIO_PCI_NOTIFY_OFF + 4u * q, 2, q);
	if (kind % 3 == 0)
		virtio_net_rx(&net, 0, NULL, frame, n ? d[0] * 6u : 60);
	else if (kind % 3 == 1)
		virtio_console_input(&con, frame, n ? d[0] : 1);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct virtio_dev *dev;
	u8 flags, kind, rounds;
	u16 qsize;
	size_t img;

	if (size < 4)
		return 0;
	if (!ram) {
		ram = malloc(RAM_SIZE);
		guest_mem_init(&mem);
		guest_mem_add_region(&mem, 0, RAM_SIZE, ram);
	}
	flags = data[0];
	qsize = data[1] ? data[1] : 256;
	rounds = data[2] % 8 + 1;
	kind = data[3];
	data += 4;
	size -= 4;
	img = MIN(size, (size_t)RAM_SIZE / 2);
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data, img);
	data += img;
	size -= img;
	dev = make_device(kind, qsize > 128 ? 128 : qsize);
	if (!dev)
		return 0;
	/* Bit 7 of the device byte shifts the ring areas, misaligning most. */
	memcpy(before, ram, RAM_SIZE);
	driver_init(dev, flags, qsize, kind & 0x80 ? (kind >> 2) & 0x1f : 0);
	check_writes(dev);
	while (rounds--) {
		memcpy(before, ram, RAM_SIZE);
		round_trip(dev, kind, data, size);
		check_writes(dev);
		img = apply_patch(data, size);
		data += img;
		size -= img;
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr,
			"kind %u status 0x%x fault: %s; steps left out (self-rewriting): %llu\n",
			kind % 3, dev->status, virtio_dev_fault(dev) ?: "none",
			(unsigned long long)selfmod_steps);
	if (virtio_dev_fault(dev) && !(dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		abort(); /* a fault must always show in the status */
	return 0;
}

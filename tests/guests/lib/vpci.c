// SPDX-License-Identifier: MIT
/* A minimal virtio-pci driver for the test guests: find a device, negotiate, one virtqueue. */
#include "vpci.h"
#include <lib/pci_regs.h>

/* PCIe 5.0 7.2.2: ECAM, bus 0 at the base; offset = device << 15 | function << 12 | register. */
#define ECAM 0xe0000000ULL
/* a dword read at PCI_COMMAND: command in bits 15:0, status in 31:16 */
#define CMD_STATUS_CAP_LIST ((u32)PCI_STATUS_CAP_LIST << 16)
#define PCI_BAR(i) (PCI_BAR0 + 4 * (i))

/* virtio 1.2 4.1.2.1: vendor, and device ID 0x1040 + the virtio device type. */
#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_PCI_ID_BASE 0x1040
/* virtio 1.2 4.1.4: cfg_type values of struct virtio_pci_cap. */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
/* virtio 1.2 4.1.4.3: struct virtio_pci_common_cfg field offsets. */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOTIFY_OFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_DRIVER 0x28
#define CC_Q_DEVICE 0x30
/* virtio 1.2 6: VIRTIO_F_VERSION_1 is feature bit 32, bit 0 of feature word 1. */
#define F_VERSION_1_WORD 1
#define F_VERSION_1_BIT 0x1

/* MMIO: one plain mov of the access width each; never a read-modify-write instruction. */
#define MMIO_RD(name, type, mov)                                                 \
	static type name(u64 a)                                                  \
	{                                                                        \
		type v;                                                          \
		__asm__ volatile(mov " (%1), %0" : "=r"(v) : "r"(a) : "memory"); \
		return v;                                                        \
	}
#define MMIO_WR(name, type, mov)                                                 \
	static void name(u64 a, type v)                                          \
	{                                                                        \
		__asm__ volatile(mov " %0, (%1)" : : "r"(v), "r"(a) : "memory"); \
	}
MMIO_RD(rd8, u8, "movb")
MMIO_RD(rd16, u16, "movw")
MMIO_RD(rd32, u32, "movl")
MMIO_WR(wr8, u8, "movb")
MMIO_WR(wr16, u16, "movw")
MMIO_WR(wr32, u32, "movl")
/* virtio 1.2 4.1.3.1: a 64-bit field may be written as two 32-bit halves (low first here). */
static void wr64(u64 a, u64 v)
{
	wr32(a, (u32)v);
	wr32(a + 4, (u32)(v >> 32));
}

static u64 cfg(u32 dev, u32 reg)
{
	return ECAM | (u64)dev << 15 | reg;
} /* function 0 */

u8 vpci_status(const struct vpci *v)
{
	return rd8(v->common + CC_STATUS);
}

u32 vpci_device_features(const struct vpci *v, u32 word)
{
	wr32(v->common + CC_DFSELECT, word);
	return rd32(v->common + CC_DF);
}

/* virtio 1.2 4.1.4.3.2: after writing 0 the driver waits for device_status to read 0. */
u8 vpci_reset(const struct vpci *v)
{
	u64 t0 = rdtsc();
	u8 s;

	wr8(v->common + CC_STATUS, 0);
	while ((s = vpci_status(v)) != 0 && rdtsc() - t0 < VPCI_TIMEOUT_TSC)
		;
	return s;
}

/* Size a memory BAR (PCI LB 3.0 6.2.5.1) and place it at addr; returns addr, or 0 if absent. */
static u64 assign_bar(u32 dev, u32 i, u64 addr)
{
	u32 lo = rd32(cfg(dev, PCI_BAR(i))), m_lo, m_hi = 0xffffffff;
	bool is64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_MEM64;
	u64 size;

	if (lo & PCI_BAR_IO)
		return 0;
	wr32(cfg(dev, PCI_BAR(i)), 0xffffffff);
	m_lo = rd32(cfg(dev, PCI_BAR(i))) & ~0xfu;
	if (is64) {
		wr32(cfg(dev, PCI_BAR(i + 1)), 0xffffffff);
		m_hi = rd32(cfg(dev, PCI_BAR(i + 1)));
	}
	size = ~(((u64)m_hi << 32) | m_lo) + 1;
	if (!m_lo && (!is64 || !m_hi))
		return 0; /* no such BAR: it reads back 0 (PCI LB 3.0 6.2.5.1) */
	if (addr & (size - 1))
		fail_at(__LINE__, "BAR%u size %llx does not fit at %llx", i,
			(unsigned long long)size, (unsigned long long)addr);
	wr32(cfg(dev, PCI_BAR(i)), (u32)addr);
	if (is64)
		wr32(cfg(dev, PCI_BAR(i + 1)), (u32)(addr >> 32));
	return addr;
}

/* virtio 1.2 4.1.4: the first common and notify capabilities, located in their BARs. */
static void find_caps(struct vpci *v, const u64 bars[6])
{
	u32 p = rd32(cfg(v->dev, PCI_CAP_PTR)) & 0xfc;

	CHECK(rd32(cfg(v->dev, PCI_COMMAND)) & CMD_STATUS_CAP_LIST);
	for (int n = 0; p && n < 48; n++) {
		u32 hdr = rd32(cfg(v->dev, p)), bar = rd32(cfg(v->dev, p + 4)) & 0xff;
		u32 type = hdr >> 24, off = rd32(cfg(v->dev, p + 8));

		if ((hdr & 0xff) == PCI_CAP_ID_VNDR && bar < 6 && bars[bar]) {
			if (type == CAP_COMMON && !v->common)
				v->common = bars[bar] + off;
			if (type == CAP_NOTIFY && !v->notify_base) {
				v->notify_base = bars[bar] + off;
				v->notify_mult = rd32(cfg(v->dev, p + 16)); /* 4.1.4.4 */
			}
		}
		p = (hdr >> 8) & 0xfc;
	}
	if (!v->common || !v->notify_base)
		fail_at(__LINE__, "no common or notify capability in an assigned BAR");
}

void vpci_open(struct vpci *v, u16 type, u64 bar_base)
{
	u64 bars[6] = { 0 };
	u32 cs;
	u8 s;

	*v = (struct vpci){ 0 };
	for (u32 dev = 1; dev < 32 && !v->dev; dev++)
		if (rd32(cfg(dev, PCI_VENDOR_ID)) ==
		    ((u32)(VIRTIO_PCI_ID_BASE + type) << 16 | VIRTIO_VENDOR))
			v->dev = dev;
	if (!v->dev)
		fail_at(__LINE__, "no virtio device of type %u", type);
	bars[0] = assign_bar(v->dev, 0, bar_base);
	bars[2] = assign_bar(v->dev, 2, bar_base + 0x100000);
	cs = rd32(cfg(v->dev, PCI_COMMAND));
	/* Status half written as 0: its error bits are write-1-to-clear (PCI LB 3.0 6.2.3). */
	wr32(cfg(v->dev, PCI_COMMAND), (cs & 0xffff) | PCI_CMD_MEMORY | PCI_CMD_MASTER);
	find_caps(v, bars);

	/* virtio 1.2 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
	s = vpci_reset(v);
	if (s)
		fail_at(__LINE__, "initial reset: status 0x%02x", s);
	wr8(v->common + CC_STATUS, ST_ACKNOWLEDGE);
	wr8(v->common + CC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
	wr32(v->common + CC_DFSELECT, F_VERSION_1_WORD);
	if (!(rd32(v->common + CC_DF) & F_VERSION_1_BIT))
		fail_at(__LINE__, "device does not offer VIRTIO_F_VERSION_1");
	wr32(v->common + CC_GFSELECT, 0);
	wr32(v->common + CC_GF, 0);
	wr32(v->common + CC_GFSELECT, F_VERSION_1_WORD);
	wr32(v->common + CC_GF, F_VERSION_1_BIT);
	wr8(v->common + CC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	s = vpci_status(v);
	if (!(s & ST_FEATURES_OK))
		fail_at(__LINE__, "FEATURES_OK not accepted: status 0x%02x", s);
}

/* virtio 1.2 4.1.5.1.3: a queue is set up while disabled. */
void vpci_queue(const struct vpci *v, struct vqueue *q, u16 index)
{
	wr16(v->common + CC_Q_SELECT, index);
	q->index = index;
	q->size = rd16(v->common + CC_Q_SIZE);
	if (!q->size)
		fail_at(__LINE__, "queue %u not available", index);
	if (q->size > VPCI_QSIZE)
		q->size = VPCI_QSIZE;
	wr16(v->common + CC_Q_SIZE, q->size);
	q->notify_off = rd16(v->common + CC_Q_NOTIFY_OFF);
	q->avail.flags = 0, q->avail.idx = 0, q->used.flags = 0, q->used.idx = 0;
	wr64(v->common + CC_Q_DESC, (u64)q->desc);
	wr64(v->common + CC_Q_DRIVER, (u64)&q->avail);
	wr64(v->common + CC_Q_DEVICE, (u64)&q->used);
	wr16(v->common + CC_Q_ENABLE, 1);
}

void vpci_driver_ok(const struct vpci *v)
{
	wr8(v->common + CC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
}

void vpci_kick(const struct vpci *v, struct vqueue *q, u16 head)
{
	u16 idx = *(volatile u16 *)&q->avail.idx;

	q->avail.ring[idx % q->size] = head;
	__asm__ volatile("" ::: "memory"); /* x86 keeps stores in order; so must the compiler */
	*(volatile u16 *)&q->avail.idx = (u16)(idx + 1);
	__asm__ volatile("mfence" ::: "memory");
	/* virtio 1.2 4.1.4.4, 4.1.5.2: offset + queue_notify_off * multiplier gets the queue index. */
	wr16(v->notify_base + (u64)q->notify_off * v->notify_mult, q->index);
}

bool vpci_wait_used(const struct vqueue *q, u16 idx)
{
	u64 t0 = rdtsc();

	while (*(volatile u16 *)&q->used.idx != idx)
		if (rdtsc() - t0 > VPCI_TIMEOUT_TSC)
			return false;
	return true;
}

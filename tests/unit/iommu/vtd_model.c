// SPDX-License-Identifier: MIT
/* The model of a VT-d unit the VT-d unit tests run the driver against (tests/unit/iommu/vtd_model.h). */
#include "test.h"
#include "vtd_model.h"
#include <keel/monitor.h>

struct vtd_model hw, hw1;

static u8 regs[4096] __attribute__((aligned(4096)));
static u8 regs1[4096] __attribute__((aligned(4096))); /* a second unit's (load_dmar_two_segments) */

/* The model behind a unit's registers. */
static struct vtd_model *model_of(const struct vtd_unit *u)
{
	return u->regs == regs1 ? &hw1 : &hw;
}
u64 now_ns;

u64 time_ns(void)
{
	return now_ns += 1000000; /* every look at the clock is 1 ms later */
}

bool x2apic;

bool apic_x2apic(void)
{
	return x2apic;
}

int paging_map_io(u64 base, u64 size)
{
	(void)base;
	(void)size;
	return 0;
}

u32 pci_read(u16 bdf, u32 off, u32 size)
{
	(void)bdf;
	(void)off;
	(void)size;
	return 0;
}

/* The AMD-Vi driver, linked beside, programs its function's MSI; the VT-d tests never get there. */
void pci_write(u16 bdf, u32 off, u32 size, u32 val)
{
	(void)bdf;
	(void)off;
	(void)size;
	(void)val;
}

u8 pci_find_cap(u16 bdf, u8 id)
{
	(void)bdf;
	(void)id;
	return 0;
}

const struct monitor_cmd *monitor_cmds;

void monitor_register(const struct monitor_cmd *cmds, u32 n)
{
	(void)n;
	monitor_cmds = cmds; /* the generic layer's one: `iommu` */
}

char monitor_out[4096];

void monitor_print(const char *fmt, ...)
{
	size_t used = strlen(monitor_out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(monitor_out + used, sizeof(monitor_out) - used, fmt, ap);
	va_end(ap);
}

void hw_reset(void)
{
	memset(&hw, 0, sizeof(hw));
	memset(&hw1, 0, sizeof(hw1));
	/* QEMU 7.2's: 39-bit, SAGAW 39, 2M+1G pages, FRO 0x220, NFR 1 (here 2), drains, PSI, MAMV 18 */
	hw.cap = (38ULL << 16) | (2ULL << 8) | ((u64)(FRO / 16) << 24) | (3ULL << 34) |
		 ((u64)(NFR - 1) << 40) | VTD_CAP_DWD | VTD_CAP_DRD | VTD_CAP_PSI | 18ULL << 48 | 2;
	hw.ecap = VTD_ECAP_QI | VTD_ECAP_IR; /* C = 0: non-coherent */
}

static void run_queue(struct vtd_model *m)
{
	while (!m->stall && m->iqh != m->iqt) {
		u64 *d = (u64 *)(uintptr_t)((m->iqa & ~0xfffULL) + m->iqh);

		if (m->nr_desc < 256) {
			m->desc[m->nr_desc][0] = d[0];
			m->desc[m->nr_desc++][1] = d[1];
		}
		if ((d[0] & 0xf) == VTD_INV_IEC && !(d[0] & VTD_INV_IEC_INDEX))
			m->iec_flushed = true;
		if ((d[0] & 0xf) == VTD_INV_WAIT && (d[0] & VTD_INV_WAIT_SW))
			*(u32 *)(uintptr_t)d[1] = (u32)(d[0] >> 32);
		m->iqh = (m->iqh + 16) % 4096;
	}
}

void queue_run(void)
{
	run_queue(&hw);
	run_queue(&hw1);
}

static void gcmd_write(struct vtd_model *m, u32 v)
{
	u32 changed = (v ^ m->gsts) & VTD_GCMD_PERSISTENT;

	m->gcmds[m->nr_gcmds++ % 32] = v;
	if (__builtin_popcount(changed) + !!(v & VTD_GCMD_SRTP) + !!(v & VTD_GCMD_SIRTP) > 1)
		m->errors++; /* 10.4.4: one command at a time */
	if (v & VTD_GCMD_SIRTP) {
		m->irt = m->irta;
		m->iec_flushed = false;
		m->gsts |= VTD_GCMD_SIRTP;
	}
	if ((changed & VTD_GCMD_IRE) && (v & VTD_GCMD_IRE) &&
	    (!(m->gsts & VTD_GCMD_SIRTP) || !m->iec_flushed || (v & VTD_GCMD_CFI)))
		m->errors++; /* remapping without a table, a stale entry cache, or CFI set */
	if (v & VTD_GCMD_SRTP) {
		m->root = m->rtaddr;
		m->gsts |= VTD_GCMD_SRTP;
	}
	if (changed & VTD_GCMD_QIE) {
		if ((v & VTD_GCMD_QIE) ? m->iqt != 0 : m->iqh != m->iqt)
			m->errors++; /* enabled with a tail, or disabled undrained */
		m->iqh = 0;
	}
	if ((changed & VTD_GCMD_TE) && (v & VTD_GCMD_TE) && !(m->gsts & VTD_GCMD_SRTP))
		m->errors++; /* translation without a root table */
	m->gsts = (m->gsts & ~VTD_GCMD_PERSISTENT) | (v & VTD_GCMD_PERSISTENT);
}

u32 vtd_read32(const struct vtd_unit *u, u32 off)
{
	struct vtd_model *m = model_of(u);

	if (off == VTD_GSTS)
		return m->gsts;
	if (off == VTD_FSTS)
		return m->fsts;
	if (off == VTD_VER)
		return 0x10;
	return 0;
}

u64 vtd_read64(const struct vtd_unit *u, u32 off)
{
	struct vtd_model *m = model_of(u);

	if (off >= FRO && off < FRO + 16 * NFR)
		return m->frcd[(off - FRO) / 16][(off % 16) / 8];
	switch (off) {
	case VTD_CAP:
		return m->cap;
	case VTD_ECAP:
		return m->ecap;
	case VTD_IQH:
		return m->iqh;
	case VTD_IQT:
		return m->iqt;
	default:
		return 0;
	}
}

static void ppf_of(struct vtd_model *m)
{
	m->fsts &= ~VTD_FSTS_PPF;
	for (u32 i = 0; i < NFR; i++)
		if (m->frcd[i][1] & VTD_FRCD_F)
			m->fsts |= VTD_FSTS_PPF;
}

void update_ppf(void)
{
	ppf_of(&hw);
}

void vtd_write32(struct vtd_unit *u, u32 off, u32 v)
{
	struct vtd_model *m = model_of(u);

	if (off >= FRO && off < FRO + 16 * NFR && off % 16 == 12) {
		if (v & BIT(31)) /* RW1C F */
			m->frcd[(off - FRO) / 16][1] &= ~VTD_FRCD_F;
		ppf_of(m);
	} else if (off == VTD_GCMD) {
		gcmd_write(m, v);
	} else if (off == VTD_FSTS) {
		m->fsts &= ~(v & VTD_FSTS_CLEAR);
	} else if (off == VTD_FECTL) {
		m->fectl = (m->fectl & VTD_FECTL_IP) | (v & VTD_FECTL_IM);
		if ((m->fectl & VTD_FECTL_IP) && !(v & VTD_FECTL_IM)) { /* the held event is sent */
			m->fault_events++;
			m->fectl &= ~VTD_FECTL_IP;
		}
	} else if (off == VTD_FEDATA) {
		m->fedata = v;
	} else if (off == VTD_FEADDR) {
		m->feaddr = v;
	} else if (off == VTD_FEUADDR) {
		m->feuaddr = v;
	}
}

void vtd_write64(struct vtd_unit *u, u32 off, u64 v)
{
	struct vtd_model *m = model_of(u);

	if (off == VTD_RTADDR)
		m->rtaddr = v;
	else if (off == VTD_IRTA)
		m->irta = v;
	else if (off == VTD_IQA)
		m->iqa = v;
	else if (off == VTD_IQT) {
		m->iqt = v;
		run_queue(m);
	}
}

/* --- QEMU's DMAR, its unit moved to the model's registers --- */
static u8 dmar_table[256];
struct acpi_info ai;

void load_dmar(void)
{
	FILE *f = fopen("tests/data/acpi/q35-smp4-vtd/DMAR.bin", "rb");
	u64 base = (u64)(uintptr_t)regs;

	CHECK(f && fread(dmar_table, 1, sizeof(dmar_table), f) == 120);
	if (f)
		fclose(f);
	static const u8 rmrr[40] = {
		1, 0, 40, 0, 0,	   0,	 0,    0,    0, 0, 0, 0x7d,
		0, 0, 0,  0, 0xff, 0xff, 0x01, 0x7d, 0, 0, 0, 0, /* 0x7d000000-0x7d01ffff */
		1, 8, 0,  0, 0,	   0,	 2,    0,		 /* 00:02.0 */
		1, 8, 0,  0, 0,	   0,	 3,    0
	};
	u32 len = 120 + sizeof(rmrr);

	memcpy(dmar_table + 48 + 8, &base, 8); /* the DRHD's register base */
	memcpy(dmar_table + 120, rmrr, sizeof(rmrr));
	memcpy(dmar_table + 4, &len, 4);
	ai.dmar = (u64)(uintptr_t)dmar_table;
}

void load_dmar_two_segments(void)
{
	/* 8.3: a DRHD for all of segment 1's functions, no scopes, at the second model */
	u8 drhd[16] = { 0, 0, 16, 0, DMAR_DRHD_INCLUDE_PCI_ALL, 0, 1, 0 };
	u64 base = (u64)(uintptr_t)regs1;
	u32 len;

	load_dmar();
	memcpy(&len, dmar_table + 4, 4);
	memcpy(drhd + 8, &base, 8);
	memcpy(dmar_table + len, drhd, sizeof(drhd));
	len += sizeof(drhd);
	memcpy(dmar_table + 4, &len, 4);
}

u32 count_desc(u32 from, u64 type)
{
	u32 n = 0;

	for (u32 i = from; i < hw.nr_desc; i++)
		n += (hw.desc[i][0] & 0xf) == type;
	return n;
}

void record(u32 i, u64 addr, u16 sid, u8 reason, bool read)
{
	/* 7.3.1: an event only where software has nothing pending (QEMU: PPF, PFO, IQE) */
	if (!(hw.fsts & (VTD_FSTS_PPF | VTD_FSTS_PFO | VTD_FSTS_IQE))) {
		hw.fectl |= VTD_FECTL_IP;
		if (!(hw.fectl & VTD_FECTL_IM)) {
			hw.fault_events++;
			hw.fectl &= ~VTD_FECTL_IP;
		}
	}
	hw.frcd[i][0] = addr;
	hw.frcd[i][1] = VTD_FRCD_F | (read ? VTD_FRCD_T : 0) | (u64)reason << 32 | sid;
	update_ppf();
}

// SPDX-License-Identifier: MIT
/* ACPI table discovery and parsing of MADT, FADT, HPET and MCFG (ACPI 6.5 chapter 5). */
#include <keel/acpi.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <lib/string.h>

#define MCFG_ENTRIES_OFFSET 44

bool acpi_checksum_ok(const void *p, u32 len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (u32 i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

static const struct acpi_rsdp *rsdp_get(u64 pa)
{
	const struct acpi_rsdp *r = phys_to_virt(pa);

	if (!pa || memcmp(r->signature, "RSD PTR ", 8) || !acpi_checksum_ok(r, 20))
		return NULL;
	if (r->revision >= 2 && (r->length < sizeof(*r) || !acpi_checksum_ok(r, sizeof(*r))))
		return NULL;
	return r;
}

static const struct acpi_header *table_at(u64 pa)
{
	const struct acpi_header *h = phys_to_virt(pa);

	if (!pa || h->length < sizeof(*h) || !acpi_checksum_ok(h, h->length))
		return NULL;
	return h;
}

u32 acpi_tables(u64 rsdp_pa, u64 *out, u32 max)
{
	const struct acpi_rsdp *r = rsdp_get(rsdp_pa);
	const struct acpi_header *root;
	u32 n, got = 0;
	bool x;

	if (!r)
		return 0;
	x = r->revision >= 2 && r->xsdt;
	root = table_at(x ? r->xsdt : r->rsdt);
	if (!root)
		return 0;
	n = (root->length - sizeof(*root)) / (x ? 8 : 4);
	for (u32 i = 0; i < n && got < max; i++) {
		u64 pa = 0;

		memcpy(&pa, (const u8 *)(root + 1) + i * (x ? 8 : 4), x ? 8 : 4);
		if (pa)
			out[got++] = pa;
	}
	return got;
}

const struct acpi_header *acpi_find(u64 rsdp_pa, const char *sig, u32 idx)
{
	u64 tables[ACPI_MAX_TABLES];
	u32 n = acpi_tables(rsdp_pa, tables, ACPI_MAX_TABLES);

	for (u32 i = 0; i < n; i++) {
		const struct acpi_header *h = phys_to_virt(tables[i]);

		if (memcmp(h->signature, sig, 4))
			continue;
		if (idx-- == 0)
			return table_at(tables[i]);
	}
	return NULL;
}

static void madt_entry(struct acpi_info *ai, const u8 *e)
{
	u32 flags, id, uid;

	switch (e[0]) {
	case MADT_LAPIC:
	case MADT_X2APIC:
		if (e[0] == MADT_LAPIC) {
			memcpy(&flags, e + 4, 4);
			id = e[3];
			uid = e[2];
		} else {
			memcpy(&id, e + 4, 4);
			memcpy(&flags, e + 8, 4);
			memcpy(&uid, e + 12, 4);
		}
		if (!(flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)) || id == 0xffffffff ||
		    ai->nr_cpus >= ACPI_MAX_CPUS)
			return;
		ai->cpus[ai->nr_cpus++] = (struct acpi_cpu){ id, uid, flags & MADT_CPU_ENABLED };
		return;
	case MADT_IOAPIC:
		if (ai->nr_ioapics >= ACPI_MAX_IOAPICS)
			return;
		ai->ioapics[ai->nr_ioapics].id = e[2];
		memcpy(&ai->ioapics[ai->nr_ioapics].address, e + 4, 4);
		memcpy(&ai->ioapics[ai->nr_ioapics].gsi_base, e + 8, 4);
		ai->nr_ioapics++;
		return;
	case MADT_OVERRIDE:
		if (ai->nr_overrides >= ACPI_MAX_OVERRIDES)
			return;
		ai->overrides[ai->nr_overrides].source = e[3];
		memcpy(&ai->overrides[ai->nr_overrides].gsi, e + 4, 4);
		memcpy(&ai->overrides[ai->nr_overrides].flags, e + 8, 2);
		ai->nr_overrides++;
		return;
	case MADT_LAPIC_ADDRESS:
		memcpy(&ai->lapic_base, e + 4, 8);
		return;
	}
}

static int parse_madt(const struct acpi_header *h, struct acpi_info *ai)
{
	const u8 *p = (const u8 *)h, *end = p + h->length;
	u32 base, flags;

	if (h->length < MADT_ENTRIES_OFFSET)
		return -EINVAL;
	memcpy(&base, p + 36, 4);
	memcpy(&flags, p + 40, 4);
	ai->lapic_base = base;
	ai->pcat_compat = flags & MADT_PCAT_COMPAT;
	for (p += MADT_ENTRIES_OFFSET; p + 2 <= end; p += p[1]) {
		if (p[1] < 2 || p + p[1] > end) {
			pr_err("acpi: MADT entry of type %u has a bad length %u", p[0], p[1]);
			return -EINVAL;
		}
		madt_entry(ai, p);
	}
	return 0;
}

static u16 io_port(const struct acpi_gas *g, u32 legacy, bool use_x)
{
	if (use_x && g->address && g->space == ACPI_GAS_IO)
		return (u16)g->address;
	return (u16)legacy;
}

static void parse_fadt(const struct acpi_header *h, struct acpi_info *ai)
{
	struct acpi_fadt f;
	bool x;

	memset(&f, 0, sizeof(f));
	memcpy(&f, h, MIN(h->length, sizeof(f)));
	x = h->length >= offsetof(struct acpi_fadt, x_pm_tmr_blk) + sizeof(struct acpi_gas);
	ai->fadt = virt_to_phys(h);
	ai->dsdt = (h->length >= offsetof(struct acpi_fadt, x_dsdt) + 8 && f.x_dsdt) ? f.x_dsdt :
										       f.dsdt;
	ai->hw_reduced = f.flags & FADT_HW_REDUCED;
	ai->sci_irq = f.sci_int;
	ai->pm_timer_port = f.pm_tmr_len == 4 || f.x_pm_tmr_blk.address ?
				    io_port(&f.x_pm_tmr_blk, f.pm_tmr_blk, x) :
				    0;
	ai->pm_timer_32bit = f.flags & FADT_TMR_VAL_EXT;
	ai->pm1a_cnt = io_port(&f.x_pm1a_cnt_blk, f.pm1a_cnt_blk, x);
	ai->pm1b_cnt = io_port(&f.x_pm1b_cnt_blk, f.pm1b_cnt_blk, x);
	ai->reset_supported = (f.flags & FADT_RESET_REG_SUP) && h->length > 128;
	ai->reset_reg = f.reset_reg;
	ai->reset_value = f.reset_value;
	ai->century = f.century;
	ai->boot_arch = f.iapc_boot_arch;
}

static void parse_mcfg(const struct acpi_header *h, struct acpi_info *ai)
{
	const u8 *p = (const u8 *)h;

	if (h->length < MCFG_ENTRIES_OFFSET + 16)
		return;
	memcpy(&ai->mcfg_base, p + MCFG_ENTRIES_OFFSET, 8);
	memcpy(&ai->mcfg_segment, p + MCFG_ENTRIES_OFFSET + 8, 2);
	ai->mcfg_bus_start = p[MCFG_ENTRIES_OFFSET + 10];
	ai->mcfg_bus_end = p[MCFG_ENTRIES_OFFSET + 11];
}

int acpi_parse(u64 rsdp_pa, struct acpi_info *ai)
{
	const struct acpi_header *h;

	memset(ai, 0, sizeof(*ai));
	ai->rsdp = rsdp_pa;
	if (!rsdp_get(rsdp_pa)) {
		pr_err("acpi: no valid RSDP at %llx", (unsigned long long)rsdp_pa);
		return -EINVAL;
	}
	h = acpi_find(rsdp_pa, "APIC", 0);
	if (!h || parse_madt(h, ai) || !ai->nr_cpus) {
		pr_err("acpi: no usable MADT: cannot find the CPUs");
		return -EINVAL;
	}
	h = acpi_find(rsdp_pa, "FACP", 0);
	if (h)
		parse_fadt(h, ai);
	h = acpi_find(rsdp_pa, "HPET", 0);
	if (h && h->length >= 56)
		memcpy(&ai->hpet_base, (const u8 *)h + 44, 8);
	h = acpi_find(rsdp_pa, "MCFG", 0);
	if (h)
		parse_mcfg(h, ai);
	h = acpi_find(rsdp_pa, "DMAR", 0);
	ai->dmar = h ? virt_to_phys(h) : 0;
	h = acpi_find(rsdp_pa, "IVRS", 0);
	ai->ivrs = h ? virt_to_phys(h) : 0;
	return 0;
}

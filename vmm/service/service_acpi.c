// SPDX-License-Identifier: MIT
/*
 * The service VM's ACPI tables: the machine's own, found through a new RSDP
 * and XSDT that list every host table except the MADT (replaced by one
 * describing the service VM's vCPUs, Keel's virtual I/O APIC and no legacy
 * PIC), the IOMMU tables (DMAR, IVRS: the IOMMU is Keel's) and the HPET
 * table (its interrupts would need the physical I/O APIC; the registers
 * stay readable for the DSDT's HPET device). DSDT, FADT and the rest are
 * unchanged, so Linux meets the real platform.
 */
#include <arch/x86/apic_regs.h>
#include <keel/memory.h>
#include <keel/service_vm.h>
#include <lib/string.h>

#define OFF_RSDP 0
#define OFF_XSDT 64
#define OFF_MADT 1024
#define XSDT_MAX ((OFF_MADT - OFF_XSDT - 36) / 8)
#define LINT1 1
#define ALL_PROCESSORS 0xff

static const char *const hidden[] = { "APIC", "DMAR", "IVRS", "HPET" };

static void checksum(void *p, u32 len, u8 *field)
{
	u8 sum = 0;

	*field = 0;
	for (u32 i = 0; i < len; i++)
		sum += ((u8 *)p)[i];
	*field = (u8)-sum;
}

static void header(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "KEEL  ", 6);
	memcpy(h->oem_table_id, "KEELSVC ", 8);
	h->oem_revision = 1;
	memcpy(&h->creator_id, "KEEL", 4);
	h->creator_revision = 1;
}

static u8 *put(u8 *p, const void *entry, u32 len)
{
	memcpy(p, entry, len);
	return p + len;
}

static u32 build_madt(u8 *base, const struct acpi_info *ai, u32 vcpus)
{
	u8 *p = base + sizeof(struct acpi_header);
	u32 lapic = APIC_DEFAULT_BASE, flags = 0; /* no PCAT_COMPAT: there are no 8259 PICs */

	p = put(p, &lapic, 4);
	p = put(p, &flags, 4);
	for (u32 i = 0; i < vcpus; i++) {
		u8 e[8] = { MADT_LAPIC, 8, (u8)ai->cpus[i].uid, (u8)i, 1, 0, 0, 0 };

		p = put(p, e, sizeof(e));
	}
	if (ai->nr_ioapics) { /* Keel emulates the first I/O APIC where the real one is */
		u8 e[12] = { MADT_IOAPIC, 12, (u8)ai->ioapics[0].id, 0 };

		memcpy(e + 4, &ai->ioapics[0].address, 4);
		memcpy(e + 8, &ai->ioapics[0].gsi_base, 4);
		p = put(p, e, sizeof(e));
	}
	for (u32 i = 0; i < ai->nr_overrides; i++) {
		u8 e[10] = { MADT_OVERRIDE, 10, 0, ai->overrides[i].source };

		memcpy(e + 4, &ai->overrides[i].gsi, 4);
		memcpy(e + 8, &ai->overrides[i].flags, 2);
		p = put(p, e, sizeof(e));
	}
	{
		u8 e[6] = { MADT_LAPIC_NMI, 6, ALL_PROCESSORS, 0, 0, LINT1 };

		p = put(p, e, sizeof(e));
	}
	header((struct acpi_header *)base, "APIC", (u32)(p - base), 5);
	checksum(base, (u32)(p - base), &((struct acpi_header *)base)->checksum);
	return (u32)(p - base);
}

static bool is_hidden(const struct acpi_header *h)
{
	for (u32 i = 0; i < ARRAY_SIZE(hidden); i++)
		if (!memcmp(h->signature, hidden[i], 4))
			return true;
	return false;
}

u64 service_acpi_build(const struct service_layout *sl, const struct acpi_info *ai, u32 vcpus)
{
	u8 *page = phys_to_virt(sl->acpi_page);
	struct acpi_rsdp *r = (struct acpi_rsdp *)(page + OFF_RSDP);
	struct acpi_header *x = (struct acpi_header *)(page + OFF_XSDT);
	u64 tables[ACPI_MAX_TABLES], *entry = (u64 *)(x + 1);
	u32 n = acpi_tables(ai->rsdp, tables, ACPI_MAX_TABLES), count = 0;

	memset(page, 0, PAGE_SIZE);
	build_madt(page + OFF_MADT, ai, vcpus);
	entry[count++] = sl->acpi_page + OFF_MADT;
	for (u32 i = 0; i < n && count < XSDT_MAX; i++)
		if (!is_hidden(phys_to_virt(tables[i])))
			entry[count++] = tables[i];
	header(x, "XSDT", (u32)(sizeof(*x) + count * 8), 1);
	checksum(x, x->length, &x->checksum);
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, "KEEL  ", 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt = sl->acpi_page + OFF_XSDT;
	checksum(r, 20, &r->checksum);
	checksum(r, sizeof(*r), &r->ext_checksum);
	return sl->acpi_page + OFF_RSDP;
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for drivers/acpi.c and the \_S5_ lookup in drivers/platform.c,
 * over ACPI tables captured from QEMU (scripts/capture_acpi.py). Host
 * pointers stand in for physical addresses: the core identity-maps memory.
 */
#include "test.h"
#include <keel/acpi.h>
#include <keel/platform.h>
#include <stdlib.h>
#include <sys/mman.h>

#define DATA "tests/data/acpi/"

extern char fake_log_last[];
extern char fake_log_all[];
void fake_log_clear(void);

/* Tables live in one static arena: nothing to free, nothing leaks. */
static u8 arena[256 * 1024] __attribute__((aligned(16)));
static size_t arena_used;

static void *arena_alloc(size_t n)
{
	void *p;

	if (arena_used + n > sizeof(arena))
		arena_used = 0; /* tests are independent: start over */
	p = arena + arena_used;
	memset(p, 0, n);
	arena_used += (n + 15) & ~(size_t)15;
	return p;
}

static void *load(const char *machine, const char *sig)
{
	char path[256];
	FILE *f;
	long n;
	void *p;

	snprintf(path, sizeof(path), DATA "%s/%s.bin", machine, sig);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = arena_alloc((size_t)n);
	if (fread(p, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	return p;
}

static void fix_checksum(void *p, u32 len, u32 at)
{
	u8 *b = p, sum = 0;

	b[at] = 0;
	for (u32 i = 0; i < len; i++)
		sum += b[i];
	b[at] = (u8)-sum;
}

/* An RSDP (revision 2) and XSDT pointing at the given tables. */
static u64 make_rsdp(void **tables, int n)
{
	struct acpi_rsdp *r = arena_alloc(sizeof(*r));
	struct acpi_header *x = arena_alloc(sizeof(*x) + 8 * (size_t)n);
	u8 *entries = (u8 *)(x + 1); /* 8-byte entries at offset 36: unaligned */

	memcpy(x->signature, "XSDT", 4);
	x->length = (u32)(sizeof(*x) + 8 * (size_t)n);
	x->revision = 1;
	for (int i = 0; i < n; i++) {
		u64 pa = (u64)(uintptr_t)tables[i];

		memcpy(entries + 8 * i, &pa, 8);
	}
	fix_checksum(x, x->length, offsetof(struct acpi_header, checksum));
	memcpy(r->signature, "RSD PTR ", 8);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt = (u64)(uintptr_t)x;
	fix_checksum(r, 20, offsetof(struct acpi_rsdp, checksum));
	fix_checksum(r, sizeof(*r), offsetof(struct acpi_rsdp, ext_checksum));
	return (u64)(uintptr_t)r;
}

static u64 machine_rsdp(const char *machine)
{
	static const char *const sigs[] = { "FACP", "APIC", "HPET", "MCFG", "WAET", "DMAR", "IVRS" };
	void *t[8];
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		void *p = load(machine, sigs[i]);

		if (p)
			t[n++] = p;
	}
	return make_rsdp(t, n);
}

static struct acpi_info ai;

TEST(q35_with_vtd)
{
	CHECK_EQ(acpi_parse(machine_rsdp("q35-smp4-vtd"), &ai), 0);
	CHECK_EQ(ai.nr_cpus, 4);
	for (u32 i = 0; i < 4; i++) {
		CHECK_EQ(ai.cpus[i].apic_id, i);
		CHECK(ai.cpus[i].enabled);
	}
	CHECK_EQ(ai.lapic_base, 0xfee00000);
	CHECK(ai.pcat_compat);
	CHECK_EQ(ai.nr_ioapics, 1);
	CHECK_EQ(ai.ioapics[0].address, 0xfec00000);
	CHECK_EQ(ai.ioapics[0].gsi_base, 0);
	CHECK(ai.nr_overrides >= 1);
	CHECK_EQ(ai.overrides[0].source, 0); /* the PIT's IRQ 0 arrives on GSI 2 */
	CHECK_EQ(ai.overrides[0].gsi, 2);
	CHECK_EQ(ai.pm_timer_port, 0x608); /* ICH9 PMBASE 0x600 + 8 */
	CHECK_EQ(ai.pm1a_cnt, 0x604);
	CHECK_EQ(ai.sci_irq, 9);
	CHECK(!ai.hw_reduced);
	CHECK(ai.reset_supported);
	CHECK_EQ(ai.reset_reg.space, ACPI_GAS_IO);
	CHECK_EQ(ai.reset_reg.address, 0xcf9);
	CHECK_EQ(ai.reset_value, 0xf); /* ICH9: full reset through 0xCF9 */
	CHECK_EQ(ai.hpet_base, 0xfed00000);
	CHECK_EQ(ai.mcfg_base, 0xb0000000);
	CHECK_EQ(ai.mcfg_bus_start, 0);
	CHECK_EQ(ai.mcfg_bus_end, 0xff);
	CHECK(ai.dmar != 0);
	CHECK_EQ(ai.ivrs, 0);
	CHECK(ai.dsdt != 0);
}

TEST(q35_with_amd_iommu)
{
	CHECK_EQ(acpi_parse(machine_rsdp("q35-smp2-amdvi"), &ai), 0);
	CHECK_EQ(ai.nr_cpus, 2);
	CHECK(ai.ivrs != 0);
	CHECK_EQ(ai.dmar, 0);
}

TEST(find_by_signature_and_index)
{
	u64 rsdp = machine_rsdp("q35-smp4-vtd");
	const struct acpi_header *h = acpi_find(rsdp, "HPET", 0);

	CHECK(h && !memcmp(h->signature, "HPET", 4));
	CHECK(acpi_find(rsdp, "HPET", 1) == NULL);
	CHECK(acpi_find(rsdp, "SSDT", 0) == NULL);
}

TEST(bad_checksum_hides_a_table)
{
	void *t[2] = { load("q35-smp4-vtd", "APIC"), load("q35-smp4-vtd", "HPET") };
	u64 rsdp;

	((u8 *)t[1])[40] ^= 0xff; /* corrupt the HPET table */
	rsdp = make_rsdp(t, 2);
	CHECK(acpi_find(rsdp, "HPET", 0) == NULL);
	CHECK_EQ(acpi_parse(rsdp, &ai), 0);
	CHECK_EQ(ai.hpet_base, 0);
	CHECK_EQ(ai.nr_cpus, 4);
}

TEST(broken_madt_is_refused)
{
	struct acpi_header *madt = load("q35-smp4-vtd", "APIC");
	void *t[1] = { madt };

	((u8 *)madt)[44 + 1] = 0; /* first entry claims length 0: would loop forever */
	fix_checksum(madt, madt->length, offsetof(struct acpi_header, checksum));
	fake_log_clear();
	CHECK_EQ(acpi_parse(make_rsdp(t, 1), &ai), -22);
	/* the entry's own complaint, then the verdict: both, in this order, and nothing else */
	CHECK_STR(fake_log_all, "acpi: MADT entry of type 0 has a bad length 0\n"
				"acpi: no usable MADT: cannot find the CPUs\n");
	((u8 *)madt)[44 + 1] = 200; /* runs past the table */
	fix_checksum(madt, madt->length, offsetof(struct acpi_header, checksum));
	fake_log_clear();
	CHECK_EQ(acpi_parse(make_rsdp(t, 1), &ai), -22);
	CHECK_STR(fake_log_all, "acpi: MADT entry of type 0 has a bad length 200\n"
				"acpi: no usable MADT: cannot find the CPUs\n");
}

TEST(no_rsdp)
{
	struct acpi_rsdp r;

	memset(&r, 0, sizeof(r));
	CHECK_EQ(acpi_parse((u64)(uintptr_t)&r, &ai), -22);
	CHECK_EQ(acpi_parse(0, &ai), -22);
	CHECK(strstr(fake_log_last, "no valid RSDP"));
}

TEST(rsdt_for_acpi_1)
{
	/* ACPI 1.0 firmware: revision 0 RSDP and a 32-bit RSDT, both below 4 GiB. */
	u8 *low = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	struct acpi_header *madt = load("q35-smp2-amdvi", "APIC");
	struct acpi_rsdp *r = (struct acpi_rsdp *)low;
	struct acpi_header *rsdt = (struct acpi_header *)(low + 64);
	u8 *copy = low + 256;

	CHECK(low != MAP_FAILED);
	memcpy(copy, madt, madt->length);
	memcpy(rsdt->signature, "RSDT", 4);
	rsdt->length = sizeof(*rsdt) + 4;
	{
		u32 pa = (u32)(uintptr_t)copy;

		memcpy(rsdt + 1, &pa, 4);
	}
	fix_checksum(rsdt, rsdt->length, offsetof(struct acpi_header, checksum));
	memcpy(r->signature, "RSD PTR ", 8);
	r->revision = 0;
	r->rsdt = (u32)(uintptr_t)rsdt;
	fix_checksum(r, 20, offsetof(struct acpi_rsdp, checksum));
	CHECK_EQ(acpi_parse((u64)(uintptr_t)r, &ai), 0);
	CHECK_EQ(ai.nr_cpus, 2);
	munmap(low, 1 << 16);
}

TEST(s5_sleep_type_from_dsdt)
{
	struct acpi_header *dsdt = load("q35-smp4-vtd", "DSDT");
	u8 typ = 0xff;
	static const u8 byte_form[] = {
		'_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a, 0x05, 0x0a, 0x05
	};
	static const u8 truncated[] = { 'x', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a };

	CHECK_EQ(acpi_s5_slp_typ((const u8 *)(dsdt + 1), dsdt->length - sizeof(*dsdt), &typ), 0);
	CHECK_EQ(typ, 0); /* QEMU's ICH9 sleep type for S5 */
	CHECK_EQ(acpi_s5_slp_typ(byte_form, sizeof(byte_form), &typ), 0);
	CHECK_EQ(typ, 5);
	CHECK_EQ(acpi_s5_slp_typ(truncated, sizeof(truncated), &typ), -2);
	CHECK_EQ(acpi_s5_slp_typ((const u8 *)"nothing here", 12, &typ), -2);
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/guest/acpi_build.c and vmm/guest/aml.c: the guest's ACPI tables
 * checked field by field, read back with Keel's own parser (drivers/acpi.c;
 * host pointers stand in for guest-physical addresses), and disassembled
 * with iasl from Debian's acpica-tools, whose ASL must name every device
 * and resource and compile back to the very same AML.
 */
#include "test.h"
#include <keel/acpi.h>
#include <keel/aml.h>
#include <keel/guest_acpi.h>
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#define FADT_FLAGS 112
#define FADT_HW_REDUCED BIT(20)
#define FADT_PWR_BUTTON BIT(4)
#define FADT_SLP_BUTTON BIT(5)
#define FADT_TMR_VAL_EXT BIT(8)
#define FADT_RESET_REG_SUP BIT(10)
#define FIXED_GPA 0xe0000 /* for tests that only look at bytes */

static u8 tables[64 * 1024] __attribute__((aligned(16)));
static struct acpi_info ai;

/* Roughly what a Keel guest gets: Cloud Hypervisor's port numbers. */
static const struct guest_platform plat = {
	.nr_vcpus = 4,
	.ioapic_base = 0xfec00000,
	.ioapic_id = 1,
	.ioapic_gsi_base = 0,
	.ecam_base = 0xb0000000,
	.bus_end = 0xff,
	.mmio32_base = 0xc0000000,
	.mmio32_size = 0x3ec00000,
	.mmio64_base = 0x10000000000ull,
	.mmio64_size = 0x1000000000ull,
	.io_base = 0x0800,
	.io_size = 0x1000,
	.pm_timer_port = 0x608,
	.sleep_ctl_port = 0x3c0,
	.sleep_sts_port = 0x3c1,
	.reset_port = 0x3c2,
	.reset_value = 1,
	.ged_gsi = 9,
	.com1_port = 0x3f8,
	.com1_gsi = 4,
};

static u64 gpa(const void *p)
{
	return (u64)(uintptr_t)p;
}

static int build(const struct guest_platform *p)
{
	memset(tables, 0xa5, sizeof(tables)); /* padding must come out zero anyway */
	return guest_acpi_build(p, gpa(tables), tables, sizeof(tables));
}

static u64 rd(const void *table, u32 off, u32 n)
{
	u64 v = 0;

	memcpy(&v, (const u8 *)table + off, n);
	return v;
}

static bool all_zero(const void *table, u32 from, u32 to)
{
	for (u32 i = from; i < to; i++)
		if (((const u8 *)table)[i])
			return false;
	return true;
}

static const u8 *find_bytes(const u8 *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

/* Through the FADT's X_DSDT; an empty stand-in (and a failed check) if that is broken. */
static const struct acpi_header *dsdt(void)
{
	static const struct acpi_header missing = { .length = sizeof(struct acpi_header) };
	const struct acpi_header *f = acpi_find(gpa(tables), "FACP", 0);

	CHECK(f != NULL);
	return f ? (const struct acpi_header *)(uintptr_t)rd(f, 140, 8) : &missing;
}

TEST(rsdp_and_xsdt)
{
	const struct acpi_rsdp *r = (const void *)tables;
	const struct acpi_header *x;
	int len = build(&plat);
	static const char *const sigs[] = { "FACP", "MCFG", "APIC" }; /* the FADT comes first */

	CHECK(len > 0 && len < 2048);
	CHECK(!memcmp(r->signature, "RSD PTR ", 8));
	CHECK_EQ(r->revision, 2);
	CHECK(acpi_checksum_ok(r, 20));
	CHECK(acpi_checksum_ok(r, sizeof(*r)));
	CHECK_EQ(r->length, 36);
	CHECK_EQ(r->rsdt, 0);
	x = (const struct acpi_header *)(uintptr_t)r->xsdt;
	CHECK(x == (const void *)(tables + 0x30));
	CHECK(!memcmp(x->signature, "XSDT", 4) && x->revision == 1 && x->length == 36 + 3 * 8);
	CHECK(acpi_checksum_ok(x, x->length));
	for (u32 i = 0; i < 3; i++) {
		const struct acpi_header *t = (const void *)(uintptr_t)rd(x, 36 + 8 * i, 8);

		CHECK((const u8 *)t > tables && (const u8 *)t + t->length <= tables + len);
		CHECK(!memcmp(t->signature, sigs[i], 4));
		CHECK(acpi_checksum_ok(t, t->length));
		CHECK(!memcmp(t->oem_table_id, x->oem_table_id, 8));
		CHECK_EQ(gpa(t) % 16, 0);
	}
	CHECK((const u8 *)dsdt() + dsdt()->length == tables + len);
	CHECK(acpi_checksum_ok(dsdt(), dsdt()->length));
	CHECK_EQ(dsdt()->revision, 2); /* 64-bit AML integers for the QWord window */
}

TEST(fadt_is_hw_reduced)
{
	const struct acpi_header *f;
	u32 flags;

	build(&plat);
	f = acpi_find(gpa(tables), "FACP", 0);
	CHECK(f && f->length == 276 && f->revision == 6);
	if (!f)
		return;
	CHECK_EQ(rd(f, 131, 1), 5); /* FADT minor version: ACPI 6.5 */
	flags = (u32)rd(f, FADT_FLAGS, 4);
	CHECK_EQ(flags, FADT_HW_REDUCED | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_TMR_VAL_EXT |
				FADT_RESET_REG_SUP);
	CHECK(all_zero(f, 36, 91)); /* FACS, DSDT, SCI, SMI, PM1/PM2/PM_TMR/GPE blocks */
	CHECK_EQ(rd(f, 91, 1), 4);  /* PM_TMR_LEN */
	CHECK(all_zero(f, 92, 109));
	CHECK_EQ(rd(f, 109, 2), 4);   /* IAPC_BOOT_ARCH: VGA not present */
	CHECK(all_zero(f, 148, 208)); /* X_PM1a/b_EVT, X_PM1a/b_CNT, X_PM2_CNT */
	CHECK(all_zero(f, 220, 244)); /* X_GPE0, X_GPE1 */
	/* GAS: space 1 (I/O), width, offset, access size, address */
	CHECK_EQ(rd(f, 208, 4), 0x03002001);
	CHECK_EQ(rd(f, 212, 8), 0x608);
	CHECK_EQ(rd(f, 244, 4), 0x01000801);
	CHECK_EQ(rd(f, 248, 8), 0x3c0);
	CHECK_EQ(rd(f, 256, 4), 0x01000801);
	CHECK_EQ(rd(f, 260, 8), 0x3c1);
	CHECK_EQ(rd(f, 116, 4), 0x01000801);
	CHECK_EQ(rd(f, 120, 8), 0x3c2);
	CHECK_EQ(rd(f, 128, 1), 1);
	CHECK(!memcmp(dsdt()->signature, "DSDT", 4));
	CHECK(!memcmp((const u8 *)f + 268, "KEEL", 4));
}

TEST(madt_lists_x2apics_then_the_ioapic)
{
	const struct acpi_header *m;
	const u8 *e;

	build(&plat);
	m = acpi_find(gpa(tables), "APIC", 0);
	CHECK(m && m->revision == 6 && m->length == 44 + 4 * 16 + 12);
	if (!m)
		return;
	CHECK_EQ(rd(m, 36, 4), 0xfee00000);
	CHECK_EQ(rd(m, 40, 4), 0); /* no PCAT_COMPAT */
	e = (const u8 *)m + 44;
	for (u32 i = 0; i < 4; i++, e += 16) {
		CHECK(e[0] == 9 && e[1] == 16);
		CHECK_EQ(rd(e, 4, 4), i);  /* x2APIC ID */
		CHECK_EQ(rd(e, 8, 4), 1);  /* enabled */
		CHECK_EQ(rd(e, 12, 4), i); /* ACPI processor UID */
	}
	CHECK(e[0] == 1 && e[1] == 12 && e[2] == 1);
	CHECK_EQ(rd(e, 4, 4), 0xfec00000);
	CHECK_EQ(rd(e, 8, 4), 0);
}

TEST(mcfg_covers_buses_0_to_bus_end)
{
	const struct acpi_header *m;

	build(&plat);
	m = acpi_find(gpa(tables), "MCFG", 0);
	CHECK(m && m->revision == 1 && m->length == 60);
	if (!m)
		return;
	CHECK_EQ(rd(m, 44, 8), 0xb0000000);
	CHECK_EQ(rd(m, 52, 2), 0);
	CHECK_EQ(rd(m, 54, 1), 0);
	CHECK_EQ(rd(m, 55, 1), 0xff);
}

TEST(keel_parser_reads_the_tables)
{
	const struct acpi_header *d;
	u8 typ = 0;

	build(&plat);
	CHECK_EQ(acpi_parse(gpa(tables), &ai), 0);
	CHECK_EQ(ai.nr_cpus, 4);
	for (u32 i = 0; i < 4; i++)
		CHECK(ai.cpus[i].apic_id == i && ai.cpus[i].uid == i && ai.cpus[i].enabled);
	CHECK_EQ(ai.lapic_base, 0xfee00000);
	CHECK(!ai.pcat_compat);
	CHECK_EQ(ai.nr_ioapics, 1);
	CHECK(ai.ioapics[0].id == 1 && ai.ioapics[0].address == 0xfec00000);
	CHECK_EQ(ai.ioapics[0].gsi_base, 0);
	CHECK_EQ(ai.nr_overrides, 0);
	CHECK(ai.hw_reduced);
	CHECK_EQ(ai.pm_timer_port, 0x608);
	CHECK(ai.pm_timer_32bit);
	CHECK(ai.pm1a_cnt == 0 && ai.pm1b_cnt == 0 && ai.sci_irq == 0);
	CHECK(ai.reset_supported);
	CHECK(ai.reset_reg.space == ACPI_GAS_IO && ai.reset_reg.address == 0x3c2);
	CHECK_EQ(ai.reset_value, 1);
	CHECK(ai.mcfg_base == 0xb0000000 && ai.mcfg_segment == 0);
	CHECK(ai.mcfg_bus_start == 0 && ai.mcfg_bus_end == 0xff);
	CHECK(ai.hpet_base == 0 && ai.dmar == 0 && ai.ivrs == 0);
	d = dsdt();
	CHECK_EQ(ai.dsdt, gpa(d));
	CHECK_EQ(acpi_s5_slp_typ((const u8 *)(d + 1), d->length - sizeof(*d), &typ), 0);
	CHECK_EQ(typ, GUEST_ACPI_S5_SLP_TYP);
}

TEST(many_vcpus)
{
	struct guest_platform p = plat;
	const struct acpi_header *m;

	p.nr_vcpus = 300; /* past 255: only x2APIC entries can hold these IDs */
	CHECK(build(&p) > 0);
	m = acpi_find(gpa(tables), "APIC", 0);
	CHECK(m && m->length == 44 + 300 * 16 + 12);
	if (!m)
		return;
	CHECK_EQ(rd(m, 44 + 299 * 16 + 4, 4), 299);
	CHECK(find_bytes((const u8 *)dsdt(), dsdt()->length, "C12B", 4)); /* its processor device */
	CHECK_EQ(acpi_parse(gpa(tables), &ai), 0);
	CHECK_EQ(ai.nr_cpus, ACPI_MAX_CPUS); /* the parser's own limit */
	CHECK_EQ(ai.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
}

TEST(absent_registers_and_devices_are_left_out)
{
	struct guest_platform p = plat;
	const struct acpi_header *f, *d;
	u8 typ = 0;

	p.pm_timer_port = p.reset_port = p.sleep_ctl_port = p.sleep_sts_port = 0;
	p.com1_port = 0;
	p.io_size = 0;
	p.mmio32_size = p.mmio64_size = 0;
	CHECK(build(&p) > 0);
	f = acpi_find(gpa(tables), "FACP", 0);
	CHECK(f && rd(f, FADT_FLAGS, 4) == (FADT_HW_REDUCED | FADT_PWR_BUTTON | FADT_SLP_BUTTON));
	CHECK(f && all_zero(f, 116, 129) && all_zero(f, 208, 220) && all_zero(f, 244, 268));
	CHECK(f && rd(f, 91, 1) == 0);
	CHECK_EQ(acpi_parse(gpa(tables), &ai), 0);
	CHECK(ai.pm_timer_port == 0 && !ai.reset_supported && ai.hw_reduced);
	d = dsdt();
	CHECK(!find_bytes((const u8 *)d, d->length, "COM1", 4));
	CHECK(find_bytes((const u8 *)d, d->length, "PCI0", 4));
	CHECK(!find_bytes((const u8 *)d, d->length, "\x88\x0d\x00\x01", 4));	 /* no WordIO */
	CHECK(!find_bytes((const u8 *)d, d->length, "\x87\x17\x00\x00\x0c", 5)); /* no window */
	CHECK_EQ(acpi_s5_slp_typ((const u8 *)(d + 1), d->length - sizeof(*d), &typ), 0);
	CHECK_EQ(typ, 5);
}

TEST(bad_platforms_are_refused)
{
	struct guest_platform p;

	p = plat, p.nr_vcpus = 0;
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.nr_vcpus = GUEST_ACPI_MAX_VCPUS + 1; /* no names left for processor devices */
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.ioapic_base = 0x100000000ull; /* the MADT field is 32 bits */
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.io_base = 0xf000, p.io_size = 0x2000;
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.mmio32_base = 0xf0000000, p.mmio32_size = 0x20000000;
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.mmio64_base = ~0ull - 0xfff, p.mmio64_size = 0x2000;
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.ecam_base = ~0ull - 0xfffff;
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.sleep_sts_port = 0; /* Linux needs both sleep registers to power off */
	CHECK_EQ(build(&p), -EINVAL);
	p = plat, p.mmio32_base = 0xf0000000, p.mmio32_size = 0x10000000; /* up to 4 GiB is fine */
	CHECK(build(&p) > 0);
}

/* Every size short of the need fails cleanly, with no write past the end (ASan). */
TEST(every_short_buffer_is_refused)
{
	int need = guest_acpi_build(&plat, FIXED_GPA, tables, sizeof(tables));

	CHECK(need > 0);
	for (int size = 0; size <= need; size++) {
		u8 *buf = malloc((size_t)size);
		int ret = guest_acpi_build(&plat, FIXED_GPA, buf, (size_t)size);

		if (size < need)
			CHECK_EQ(ret, -ENOSPC);
		else
			CHECK(ret == need && !memcmp(buf, tables, (size_t)need));
		free(buf);
	}
}

/* The WordIO descriptor for [min, max] (ACPI 6.5 6.4.3.5.3), as iasl would write it. */
static bool has_word_io(const struct acpi_header *d, u16 min, u16 max)
{
	u16 len = (u16)(max - min + 1);
	u8 want[16] = { 0x88, 0x0d, 0x00,    0x01,	     0x0c,    0x03,
			0,    0,    (u8)min, (u8)(min >> 8), (u8)max, (u8)(max >> 8),
			0,    0,    (u8)len, (u8)(len >> 8) };

	return find_bytes((const u8 *)d, d->length, want, sizeof(want));
}

static u32 count_word_io(const struct acpi_header *d)
{
	const u8 *p = (const u8 *)d, *end = p + d->length;
	u32 n = 0;

	while ((p = find_bytes(p, (size_t)(end - p), "\x88\x0d\x00\x01", 4))) {
		n++;
		p++;
	}
	return n;
}

TEST(pci_io_window_skips_the_config_ports)
{
	struct guest_platform p = plat;

	build(&p); /* 0x800-0x17ff straddles 0xcf8-0xcff */
	CHECK(has_word_io(dsdt(), 0x800, 0xcf7) && has_word_io(dsdt(), 0xd00, 0x17ff));
	CHECK_EQ(count_word_io(dsdt()), 2);
	p.io_base = 0xc000, p.io_size = 0x4000;
	build(&p);
	CHECK(has_word_io(dsdt(), 0xc000, 0xffff) && count_word_io(dsdt()) == 1);
	p.io_base = 0x100, p.io_size = 0xbf8; /* ends right below */
	build(&p);
	CHECK(has_word_io(dsdt(), 0x100, 0xcf7) && count_word_io(dsdt()) == 1);
	p.io_base = 0xcf8, p.io_size = 8; /* nothing left */
	build(&p);
	CHECK_EQ(count_word_io(dsdt()), 0);
}

TEST(com1_on_a_high_gsi_gets_an_extended_interrupt)
{
	struct guest_platform p = plat;
	static const u8 irq4[] = { 0x22, 0x10, 0x00 };
	static const u8 gsi20[] = { 0x89, 0x06, 0x00, 0x03, 0x01, 20, 0, 0, 0 };

	build(&p);
	CHECK(find_bytes((const u8 *)dsdt(), dsdt()->length, irq4, sizeof(irq4)));
	p.com1_gsi = 20;
	build(&p);
	CHECK(!find_bytes((const u8 *)dsdt(), dsdt()->length, irq4, sizeof(irq4)));
	CHECK(find_bytes((const u8 *)dsdt(), dsdt()->length, gsi20, sizeof(gsi20)));
}

/* --- the AML writer on its own --- */

static u8 amlbuf[8192];
static struct aml a;

static bool aml_is(const void *want, int n)
{
	int len = aml_finish(&a);

	if (len != n || memcmp(amlbuf, want, (size_t)n)) {
		fprintf(stderr, "  got %d bytes:", len);
		for (int i = 0; i < len && i < 24; i++)
			fprintf(stderr, " %02x", amlbuf[i]);
		fprintf(stderr, "\n");
		return false;
	}
	return true;
}

TEST(aml_integers_take_the_shortest_form)
{
	static const struct {
		u64 v;
		u8 enc[9];
		int n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0a, 0x02 }, 2 },
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0x10000, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0xffffffff, { 0x0c, 0xff, 0xff, 0xff, 0xff }, 5 },
		{ 0x100000000ull, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		aml_init(&a, amlbuf, sizeof(amlbuf));
		aml_integer(&a, cases[i].v);
		CHECK(aml_is(cases[i].enc, cases[i].n));
	}
}

/* A Scope whose contents are a 4-byte name and a string of k characters (k + 2 bytes). */
static void scope_of(u32 k)
{
	char s[6000];

	memset(s, 'x', k);
	s[k] = 0;
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_scope(&a, "X");
	aml_string(&a, s);
	aml_close(&a);
}

TEST(aml_pkglength_grows_with_its_contents)
{
	scope_of(56); /* 62 bytes of contents: 63 with the PkgLength, one byte */
	CHECK_EQ(aml_finish(&a), 1 + 1 + 62);
	CHECK(amlbuf[0] == 0x10 && amlbuf[1] == 63 && !memcmp(amlbuf + 2, "X___", 4));
	scope_of(57); /* 63 + 2 = 65 = 0x41: lead byte 0x40 | 1, then 0x04 */
	CHECK_EQ(aml_finish(&a), 1 + 2 + 63);
	CHECK(amlbuf[1] == 0x41 && amlbuf[2] == 0x04 && !memcmp(amlbuf + 3, "X___", 4));
	scope_of(4994); /* 5000 + 3 = 0x138b: 0x80 | 0xb, 0x38, 0x01 */
	CHECK_EQ(aml_finish(&a), 1 + 3 + 5000);
	CHECK(amlbuf[1] == 0x8b && amlbuf[2] == 0x38 && amlbuf[3] == 0x01);
	CHECK_EQ(amlbuf[4 + 4 + 1 + 4994], 0); /* the string's NUL survived the move */
}

TEST(aml_name_strings)
{
	static const char *const bad[] = { "ab", "TOOLONG", "1ABC", "", "A..B", "\\" };

	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_name_string(&a, "\\_SB.PWRB");
	CHECK(aml_is("\\\x2e_SB_PWRB", 10));
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_name_string(&a, "^A.B2.C");
	CHECK(aml_is("^\x2f\x03"
		     "A___B2__C___",
		     15));
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_name(&a, "_S5");
	CHECK(aml_is("\x08_S5_", 5));
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_eisa_id(&a, "PNP0A03");
	CHECK(aml_is("\x0c\x41\xd0\x0a\x03", 5));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		aml_init(&a, amlbuf, sizeof(amlbuf));
		aml_name_string(&a, bad[i]);
		CHECK_EQ(aml_finish(&a), -EINVAL);
	}
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_eisa_id(&a, "pnp0a03");
	CHECK_EQ(aml_finish(&a), -EINVAL);
}

TEST(aml_resource_template_gets_its_buffer_size_and_end_tag)
{
	static const u8 want[] = { 0x11, 0x0d, 0x0a, 0x0a, 0x47, 0x01, 0xf8,
				   0x03, 0xf8, 0x03, 0x01, 0x08, 0x79, 0x00 };

	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_resource_template(&a);
	aml_res_io(&a, 0x3f8, 8);
	aml_resource_template_end(&a);
	CHECK(aml_is(want, sizeof(want)));
}

TEST(aml_misuse_is_reported)
{
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_close(&a);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_device(&a, "DEV0");
	CHECK_EQ(aml_finish(&a), -EINVAL); /* never closed */
	aml_init(&a, amlbuf, sizeof(amlbuf));
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope(&a, "S");
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_close(&a);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_method(&a, "_EVT", 8);
	aml_close(&a);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_init(&a, amlbuf, sizeof(amlbuf));
	aml_res_irq_no_flags(&a, 16);
	CHECK_EQ(aml_finish(&a), -EINVAL);
}

/* Out of room at every point, including while a close makes room for its PkgLength. */
TEST(aml_never_writes_past_its_buffer)
{
	int need;

	scope_of(100);
	need = aml_finish(&a);
	for (int size = 0; size < need; size++) {
		u8 *buf = malloc((size_t)size);
		char s[101];

		memset(s, 'x', 100);
		s[100] = 0;
		aml_init(&a, buf, (u32)size);
		aml_scope(&a, "X");
		aml_string(&a, s);
		aml_close(&a);
		CHECK_EQ(aml_finish(&a), -ENOSPC);
		free(buf);
	}
}

/* --- iasl, the ACPICA disassembler and compiler (Debian acpica-tools) --- */

static char dir[] = "/tmp/keel-acpi-XXXXXX";

static int sh(const char *fmt, const char *arg)
{
	char cmd[512], part[256];

	snprintf(part, sizeof(part), fmt, arg);
	snprintf(cmd, sizeof(cmd), "cd %s && %s", dir, part);
	return system(cmd);
}

static void write_table(const char *name, const void *t, u32 len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	CHECK(f && fwrite(t, 1, len, f) == len);
	if (f)
		fclose(f);
}

/* The whole file, NUL-ended (an empty string if it is missing). */
static char *read_all(const char *name, size_t *len)
{
	char path[128], *s = calloc(1, 1 << 20);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	*len = f ? fread(s, 1, (1 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	return s;
}

/* A text file with every run of white space made one space: layout varies by iasl version. */
static char *slurp(const char *name)
{
	size_t n, out = 0;
	char *s = read_all(name, &n);

	for (size_t i = 0; i < n; i++) {
		bool space = s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r';

		if (!space || (out && s[out - 1] != ' '))
			s[out++] = space ? ' ' : s[i];
	}
	s[out] = 0;
	return s;
}

static bool has(const char *text, const char *want)
{
	if (strstr(text, want))
		return true;
	fprintf(stderr, "  iasl output lacks: %s\n", want);
	return false;
}

static u32 count(const char *text, const char *want)
{
	u32 n = 0;

	for (const char *p = text; (p = strstr(p, want)); p++)
		n++;
	return n;
}

static const char *const dsdt_asl[] = {
	"Scope (\\_SB) { Device (PCI0) {",
	"Name (_HID, EisaId (\"PNP0A08\")",
	"Name (_CID, EisaId (\"PNP0A03\")",
	"Name (_SEG, Zero)",
	"Name (_BBN, Zero)",
	"WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, // Granularity "
	"0x0000, // Range Minimum 0x00FF, // Range Maximum",
	"WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0x0000, "
	"// Granularity 0x0800, // Range Minimum 0x0CF7, // Range Maximum",
	"0x0D00, // Range Minimum 0x17FF, // Range Maximum",
	"DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, "
	"0x00000000, // Granularity 0xC0000000, // Range Minimum 0xFEBFFFFF, // Range Maximum",
	"QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, "
	"0x0000000000000000, // Granularity 0x0000010000000000, // Range Minimum "
	"0x0000010FFFFFFFFF, // Range Maximum",
	"Device (MBRD) { Name (_HID, EisaId (\"PNP0C02\")",
	"DWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, "
	"0x00000000, // Granularity 0xB0000000, // Range Minimum 0xBFFFFFFF, // Range Maximum",
	"Device (COM1) { Name (_HID, EisaId (\"PNP0501\")",
	"IO (Decode16, 0x03F8, // Range Minimum 0x03F8, // Range Maximum 0x01, // Alignment "
	"0x08, // Length )",
	"IRQNoFlags () {4}",
	"Device (PWRB) { Name (_HID, EisaId (\"PNP0C0C\")",
	"Device (GED0) { Name (_HID, \"ACPI0013\"",
	"Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x00000009, }",
	"Method (_EVT, 1, NotSerialized) // _EVT: Event { If ((Arg0 == 0x09)) { "
	"Notify (\\_SB.PWRB, 0x80)",
	"Device (C000) { Name (_HID, \"ACPI0007\"",
	"Device (C003) { Name (_HID, \"ACPI0007\" /* Processor Device */) // _HID: Hardware ID "
	"Name (_UID, 0x03) // _UID: Unique ID } } "
	"Name (_S5, Package (0x02) // _S5_: S5 System State { 0x05, Zero }) }",
};

static void check_dsdt_asl(void)
{
	char *asl = slurp("dsdt.dsl");

	for (size_t i = 0; i < ARRAY_SIZE(dsdt_asl); i++)
		CHECK(has(asl, dsdt_asl[i]));
	CHECK_EQ(count(asl, "Name (_UID, Zero)"), 6);
	CHECK_EQ(count(asl, "\"ACPI0007\""), 4);
	free(asl);
}

static void check_data_tables_asl(void)
{
	char *fadt = slurp("facp.dsl"), *madt = slurp("apic.dsl");
	char *mcfg = slurp("mcfg.dsl"), want[64];

	CHECK(has(fadt, "Revision : 06") && has(fadt, "FADT Minor Revision : 05"));
	CHECK(has(fadt, "Hardware Reduced (V5) : 1") && has(fadt, "32-bit PM Timer (V1) : 1"));
	CHECK(has(fadt, "Control Method Power Button (V1) : 1"));
	CHECK(has(fadt, "Reset Register Supported (V2) : 1"));
	CHECK(has(fadt, "Value to cause reset : 01"));
	CHECK(has(fadt, "Sleep Control Register : [Generic Address Structure]"));
	CHECK(has(fadt, "Address : 00000000000003C0") && has(fadt, "Address : 00000000000003C1"));
	CHECK(has(fadt, "Address : 00000000000003C2") && has(fadt, "Address : 0000000000000608"));
	snprintf(want, sizeof(want), "DSDT Address : %016llX", (unsigned long long)gpa(dsdt()));
	CHECK(has(fadt, want));
	CHECK_EQ(count(madt, "Subtable Type : 09 [Processor Local x2APIC]"), 4);
	CHECK(has(madt, "Subtable Type : 01 [I/O APIC]") && has(madt, "Address : FEC00000"));
	CHECK(has(madt, "Local Apic Address : FEE00000") && has(madt, "PC-AT Compatibility : 0"));
	CHECK(has(mcfg, "Base Address : 00000000B0000000") && has(mcfg, "End Bus Number : FF"));
	free(fadt);
	free(madt);
	free(mcfg);
}

/* iasl compiles its own disassembly back to our AML, byte for byte (-oa: as written). */
static void check_round_trip(void)
{
	const struct acpi_header *d = dsdt();
	size_t n = 0;
	char *log, *aml;

	CHECK_EQ(sh("iasl -oa -p rt %s >rt.log 2>&1", "dsdt.dsl"), 0);
	log = slurp("rt.log");
	CHECK(has(log, "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks"));
	free(log);
	aml = read_all("rt.aml", &n);
	CHECK_EQ(n, d->length);
	CHECK(n == d->length && !memcmp(aml + sizeof(*d), d + 1, n - sizeof(*d)));
	free(aml);
}

static void remove_dir(void)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char path[sizeof(dir) + sizeof(e->d_name) + 1];

	while (dp && (e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (dp)
		closedir(dp);
	rmdir(dir);
}

TEST(iasl_disassembles_and_recompiles_the_tables)
{
	static const char *const sigs[] = { "FACP", "APIC", "MCFG" };
	static const char *const files[] = { "facp", "apic", "mcfg", "dsdt" }; /* .dat, .dsl */
	int before = test_failed_checks;
	char *log;

	if (system("command -v iasl >/dev/null 2>&1")) {
		fprintf(stderr,
			"  iasl not found: install acpica-tools (scripts/install-deps.sh)\n");
		CHECK(!"iasl");
		return;
	}
	build(&plat);
	CHECK(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		const struct acpi_header *t =
			i < ARRAY_SIZE(sigs) ? acpi_find(gpa(tables), sigs[i], 0) : dsdt();

		CHECK(t != NULL);
		if (!t)
			continue;
		write_table(files[i], t, t->length);
		CHECK_EQ(sh("iasl -d %s.dat >>iasl.log 2>&1", files[i]), 0);
	}
	log = slurp("iasl.log");
	CHECK(!strstr(log, "Error") && !strstr(log, "Warning") && !strstr(log, "Incorrect"));
	free(log);
	check_dsdt_asl();
	check_data_tables_asl();
	check_round_trip();
	if (test_failed_checks == before)
		remove_dir();
	else
		fprintf(stderr, "  iasl files kept in %s\n", dir);
}

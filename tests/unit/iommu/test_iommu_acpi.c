// SPDX-License-Identifier: MIT
/*
 * Unit tests for iommu/dmar.c and iommu/ivrs.c: QEMU's own tables (captured by
 * scripts/capture_acpi.py), hand-made ones with what QEMU never emits (RMRRs,
 * include-all units, multi-hop paths, ranges, aliases, IVMDs, 10h beside 11h),
 * broken ones, and every truncation of the captured tables.
 */
#include "test.h"
#include <keel/iommu_acpi.h>
#include <stdlib.h>

#define DATA "tests/data/acpi/"

static u8 file_buf[4096];

static u32 load(const char *machine, const char *sig)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), DATA "%s/%s.bin", machine, sig);
	f = fopen(path, "rb");
	if (!f)
		abort();
	n = fread(file_buf, 1, sizeof(file_buf), f);
	fclose(f);
	return (u32)n;
}

/* --- a table builder: a header, then bytes appended, then the length patched --- */
static u8 tb[4096];
static u32 tb_len;

static void tb_start(const char *sig, u8 b36, u8 b37)
{
	memset(tb, 0, sizeof(tb));
	memcpy(tb, sig, 4);
	tb[36] = b36;
	tb[37] = b37;
	tb_len = IOMMU_ACPI_BODY;
}

static u32 tb_put(const u8 *b, u32 n)
{
	u32 at = tb_len;

	memcpy(tb + tb_len, b, n);
	tb_len += n;
	return at;
}

static void tb_put16(u32 at, u16 v)
{
	memcpy(tb + at, &v, 2);
}

static void tb_put64(u32 at, u64 v)
{
	memcpy(tb + at, &v, 8);
}

static void tb_finish(void)
{
	memcpy(tb + 4, &tb_len, 4);
}

static struct dmar_info di;
static struct ivrs_info ii;

static void check_scope(const struct dmar_scope *s, u8 type, u8 bus, u8 devfn)
{
	CHECK_EQ(s->type, type);
	CHECK_EQ(s->bus, bus);
	CHECK_EQ(s->path_len, 1);
	CHECK_EQ(s->path[0], devfn);
}

TEST(qemu_dmar)
{
	u32 len = load("q35-smp4-vtd", "DMAR");

	CHECK_EQ(dmar_parse(file_buf, len, &di), 0);
	CHECK_EQ(di.haw, 39);
	CHECK(di.intr_remap);
	CHECK(!di.x2apic_opt_out);
	CHECK_EQ(di.nr_units, 1);
	CHECK_EQ(di.units[0].base, 0xfed90000);
	CHECK_EQ(di.units[0].size, 4096);
	CHECK_EQ(di.units[0].segment, 0);
	CHECK(!di.units[0].include_all); /* QEMU lists every function of bus 0 instead */
	CHECK_EQ(di.units[0].nr_scopes, 7);
	check_scope(&di.units[0].scopes[0], DMAR_SCOPE_IOAPIC, 0xff, 0); /* q35's IOAPIC: ff:00.0 */
	CHECK_EQ(di.units[0].scopes[0].enum_id, 0);
	check_scope(&di.units[0].scopes[1], DMAR_SCOPE_ENDPOINT, 0, 0x00);
	check_scope(&di.units[0].scopes[2], DMAR_SCOPE_ENDPOINT, 0, 0x08);
	check_scope(&di.units[0].scopes[3], DMAR_SCOPE_ENDPOINT, 0, 0x10);
	check_scope(&di.units[0].scopes[4], DMAR_SCOPE_ENDPOINT, 0, 0xf8);
	check_scope(&di.units[0].scopes[5], DMAR_SCOPE_ENDPOINT, 0, 0xfa);
	check_scope(&di.units[0].scopes[6], DMAR_SCOPE_ENDPOINT, 0, 0xfb);
	CHECK_EQ(di.nr_rmrrs, 0);
	CHECK_EQ(di.nr_other, 0);
}

TEST(qemu_ivrs)
{
	u32 len = load("q35-smp2-amdvi", "IVRS");
	static const u16 selected[] = { 0x00, 0x08, 0x10, 0x18, 0xf8, 0xfa, 0xfb };
	const struct ivrs_unit *u = &ii.units[0];

	CHECK_EQ(ivrs_parse(file_buf, len, &ii), 0);
	CHECK_EQ(IVRS_IVINFO_PASIZE(ii.ivinfo), 40);
	CHECK_EQ(ii.nr_units, 1);
	CHECK_EQ(u->type, IVRS_TYPE_IVHD_10);
	CHECK_EQ(u->flags, 0xd1);
	CHECK_EQ(u->devid, 0x18); /* the IOMMU's PCI function, 00:03.0 in that capture */
	CHECK_EQ(u->cap_offset, 0x40);
	CHECK_EQ(u->base, 0xfed80000);
	CHECK_EQ(u->segment, 0);
	CHECK_EQ(u->efr, 0);
	CHECK_EQ(u->nr_ranges, ARRAY_SIZE(selected));
	for (u32 i = 0; i < ARRAY_SIZE(selected) && i < u->nr_ranges; i++) {
		CHECK_EQ(u->ranges[i].first, selected[i]);
		CHECK_EQ(u->ranges[i].last, selected[i]);
		CHECK_EQ(u->ranges[i].alias, IVRS_DEVID_NONE);
	}
	CHECK_EQ(u->nr_specials, 1);
	CHECK_EQ(u->specials[0].variety, IVHD_SPECIAL_IOAPIC);
	CHECK_EQ(u->specials[0].handle, 0);
	CHECK_EQ(u->specials[0].devid, 0xa0); /* 00:14.0 */
	CHECK_EQ(ii.nr_ivmds, 0);
}

/* A DRHD for one device (multi-hop) and a second, include-all one; an RMRR; an ATSR. */
static void dmar_handmade(void)
{
	static const u8 drhd1[] = { 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0xd0, 0xfe, 0, 0, 0, 0,
				    /* endpoint 00:1c.0 -> 00.0 (two hops) */
				    1, 10, 0, 0, 0, 0, 0x1c, 0, 0, 0 };
	static const u8 drhd2[] = { 0, 0, 0, 0, DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0, 0, 0, 0xd1,
				    0xfe, 0, 0, 0, 0,
				    /* IOAPIC id 8 at f0:1f.0, HPET 0 at 00:1f.7 */
				    3, 8, 0, 0, 8, 0xf0, 0x1f, 0, 4, 8, 0, 0, 0, 0, 0x1f, 7 };
	static const u8 rmrr[] = {
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0, 0, 0, 0, 0, 0, 0, 0,    0,
		0, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x14, 0, 1, 8, 0, 0, 0, 0, 0x1a, 0
	};
	static const u8 atsr[] = { 2, 0, 8, 0, 0, 0, 0, 0 };
	u32 at;

	tb_start("DMAR", 45, DMAR_F_INTR_REMAP | DMAR_F_X2APIC_OPT_OUT);
	at = tb_put(drhd1, sizeof(drhd1));
	tb_put16(at + 2, sizeof(drhd1));
	at = tb_put(drhd2, sizeof(drhd2));
	tb_put16(at + 2, sizeof(drhd2));
	at = tb_put(rmrr, sizeof(rmrr));
	tb_put16(at + 2, sizeof(rmrr));
	tb_put64(at + 8, 0x7d000000);  /* base */
	tb_put64(at + 16, 0x7d01ffff); /* limit: its last byte */
	tb_put(atsr, sizeof(atsr));
	tb_finish();
}

TEST(dmar_units_rmrr_and_paths)
{
	dmar_handmade();
	CHECK_EQ(dmar_parse(tb, tb_len, &di), 0);
	CHECK_EQ(di.haw, 46);
	CHECK(di.intr_remap && di.x2apic_opt_out);
	CHECK_EQ(di.nr_units, 2);
	CHECK_EQ(di.units[0].base, 0xfed00000);
	CHECK_EQ(di.units[0].size, 8192);
	CHECK_EQ(di.units[0].segment, 1);
	CHECK(!di.units[0].include_all);
	CHECK_EQ(di.units[0].nr_scopes, 1);
	CHECK_EQ(di.units[0].scopes[0].path_len, 2);
	CHECK_EQ(di.units[0].scopes[0].path[0], 0x1c << 3);
	CHECK_EQ(di.units[0].scopes[0].path[1], 0);
	CHECK(di.units[1].include_all);
	CHECK_EQ(di.units[1].nr_scopes, 2);
	check_scope(&di.units[1].scopes[0], DMAR_SCOPE_IOAPIC, 0xf0, 0xf8);
	CHECK_EQ(di.units[1].scopes[0].enum_id, 8);
	check_scope(&di.units[1].scopes[1], DMAR_SCOPE_HPET, 0, 0xff);
	CHECK_EQ(di.nr_rmrrs, 1);
	CHECK_EQ(di.rmrrs[0].base, 0x7d000000);
	CHECK_EQ(di.rmrrs[0].limit, 0x7d01ffff);
	CHECK_EQ(di.rmrrs[0].nr_scopes, 2);
	check_scope(&di.rmrrs[0].scopes[0], DMAR_SCOPE_ENDPOINT, 0, 0xa0);
	check_scope(&di.rmrrs[0].scopes[1], DMAR_SCOPE_ENDPOINT, 0, 0xd0);
	CHECK_EQ(di.nr_other, 1);
}

/* Each corruption of the hand-made table, at a byte offset from its start, is refused. */
TEST(broken_dmar_is_refused)
{
	static const struct {
		u32 at;
		u8 value;
		int err;
	} cases[] = {
		{ 50, 3, -EINVAL },    /* DRHD length below 4 */
		{ 50, 15, -EINVAL },   /* DRHD shorter than its fixed part */
		{ 50, 200, -EINVAL },  /* DRHD past the table's end */
		{ 65, 11, -EINVAL },   /* scope length odd */
		{ 65, 4, -EINVAL },    /* scope shorter than its header */
		{ 65, 12, -EINVAL },   /* scope past its DRHD */
		{ 70, 32, -EINVAL },   /* device 32 in a path */
		{ 71, 8, -EINVAL },    /* function 8 */
		{ 56, 0x10, -EINVAL }, /* register base not page aligned */
		{ 0, 'X', -EINVAL },   /* signature */
	};

	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		dmar_handmade();
		tb[cases[i].at] = cases[i].value;
		CHECK_EQ(dmar_parse(tb, tb_len, &di), cases[i].err);
	}
	dmar_handmade();
	CHECK_EQ(dmar_parse(tb, tb_len - 1, &di), -EINVAL); /* the header says more than there is */
	dmar_handmade();
	tb_put64(tb_len - 8 - 40 + 16, 0x7d01fffe); /* RMRR limit + 1 not page aligned */
	CHECK_EQ(dmar_parse(tb, tb_len, &di), -EINVAL);
}

TEST(dmar_limits)
{
	static const u8 drhd[] = { 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0xd0, 0xfe, 0, 0, 0, 0 };
	static const u8 scope[] = { 1, 8, 0, 0, 0, 0, 0, 0 };
	u32 at;

	tb_start("DMAR", 38, 0);
	for (int i = 0; i <= IOMMU_MAX_UNITS; i++)
		tb_put(drhd, sizeof(drhd));
	tb_finish();
	CHECK_EQ(dmar_parse(tb, tb_len, &di), -E2BIG);
	tb_start("DMAR", 38, 0);
	at = tb_put(drhd, sizeof(drhd));
	for (int i = 0; i <= DMAR_MAX_SCOPES; i++)
		tb_put(scope, sizeof(scope));
	tb_put16(at + 2, (u16)(tb_len - at));
	tb_finish();
	CHECK_EQ(dmar_parse(tb, tb_len, &di), -E2BIG);
}

/* An IVHD 10h and an 11h for the same IOMMU, with every kind of device entry, and three IVMDs. */
static void ivrs_handmade(void)
{
	static const u8 ivhd10[] = { 0x10, 0xd1, 0, 0, 2, 0, 0x40, 0, 0, 0, 0xd8, 0xfe, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0,
				     /* select 00:01.0: the 10h's view, which 11h replaces */
				     2, 8, 0, 0 };
	static const u8 ivhd11[] = {
		0x11, 0x10, 0,	  0,	2,   0,	   0x40, 0,    0,   0,	 0xd8, 0xfe, 0, 0, 0, 0, 0,
		0,    0x13, 0,	  0,	0,   0,	   0,	 0xa5, 0,   0,	 0,    0,    0, 0, 0, /* EFR image 0xa5 */
		0,    0,    0,	  0,	0,   0,	   0,	 0,    0,   0,	 0,    0, /* padding */
		1,    0,    0,	  0xd7,			       /* all devices, DTE setting d7 */
		3,    0x00, 0x01, 0,			       /* range 01:00.0 .. */
		4,    0xff, 0x01, 0,			       /* .. 01:1f.7 */
		0x43, 0x00, 0x02, 0,	0,   0x10, 0x00, 0,    /* 02:00.0 .. as 00:02.0 */
		4,    0x07, 0x02, 0,			       /* .. 02:00.7 */
		0x42, 0x00, 0x05, 0,	0,   0x08, 0x03, 0,    /* 05:00.0 as 03:01.0 */
		0x46, 0x00, 0x06, 0,	0,   0,	   0,	 0x80, /* extended select 06:00.0 */
		0x48, 0,    0,	  0xd7, 9,   0xa0, 0x00, 1,    /* IOAPIC 9 at 00:14.0 */
		0x48, 0,    0,	  0,	0,   0xa8, 0x00, 2,    /* HPET 0 at 00:15.0 */
		0xf0, 0x00, 0x01, 0,	'A', 'M',  'D',	 'I',  '0', '0', '4',  '0',  0, 0, 0, 0, 0,
		0,    0,    0,	  2,	2,   'S',  '0' /* ACPI HID device, UID "S0" */
	};
	static const u8 ivmd[] = { 0x20, IVMD_F_UNITY | IVMD_F_READ | IVMD_F_WRITE,
				   32,	 0,
				   0,	 0,
				   0,	 0,
				   0,	 0,
				   0,	 0,
				   0,	 0,
				   0,	 0,
				   0,	 0x10,
				   0xfd, 0,
				   0,	 0,
				   0,	 0,
				   0x80, 0,
				   0,	 0,
				   0,	 0,
				   0,	 0 };
	u32 at;

	tb_start("IVRS", 0, 0);
	tb[IVRS_IVINFO_OFFSET + 1] = 48; /* PAsize */
	at = tb_put(ivhd10, sizeof(ivhd10));
	tb_put16(at + 2, sizeof(ivhd10));
	at = tb_put(ivhd11, sizeof(ivhd11));
	tb_put16(at + 2, sizeof(ivhd11));
	tb_put(ivmd, sizeof(ivmd)); /* all devices, 0xfd1000 + 0x80: rounded out to a page */
	at = tb_put(ivmd, sizeof(ivmd));
	tb[at] = 0x21;
	tb_put16(at + 4, 0x0300);
	tb_put64(at + 16, 0x20000000);
	tb_put64(at + 24, 0x200000);
	at = tb_put(ivmd, sizeof(ivmd));
	tb[at] = 0x22;
	tb_put16(at + 4, 0x0400);
	tb_put16(at + 6, 0x04ff);
	tb_finish();
}

TEST(ivrs_ranges_aliases_specials_ivmd)
{
	const struct ivrs_unit *u = &ii.units[0];

	ivrs_handmade();
	CHECK_EQ(ivrs_parse(tb, tb_len, &ii), 0);
	CHECK_EQ(IVRS_IVINFO_PASIZE(ii.ivinfo), 48);
	CHECK_EQ(ii.nr_units, 1);
	CHECK_EQ(u->type, IVRS_TYPE_IVHD_11);
	CHECK_EQ(u->efr, 0xa5);
	CHECK_EQ(u->info, 0x13);
	CHECK_EQ(u->nr_ranges, 5);
	CHECK_EQ(u->ranges[0].first, 0);
	CHECK_EQ(u->ranges[0].last, 0xffff);
	CHECK_EQ(u->ranges[0].dte, 0xd7);
	CHECK_EQ(u->ranges[1].first, 0x100);
	CHECK_EQ(u->ranges[1].last, 0x1ff);
	CHECK_EQ(u->ranges[1].alias, IVRS_DEVID_NONE);
	CHECK_EQ(u->ranges[2].first, 0x200);
	CHECK_EQ(u->ranges[2].last, 0x207);
	CHECK_EQ(u->ranges[2].alias, 0x10);
	CHECK_EQ(u->ranges[3].first, 0x500);
	CHECK_EQ(u->ranges[3].last, 0x500);
	CHECK_EQ(u->ranges[3].alias, 0x308);
	CHECK_EQ(u->ranges[4].first, 0x600);
	CHECK_EQ(u->nr_specials, 2);
	CHECK_EQ(u->specials[0].variety, IVHD_SPECIAL_IOAPIC);
	CHECK_EQ(u->specials[0].handle, 9);
	CHECK_EQ(u->specials[0].devid, 0xa0);
	CHECK_EQ(u->specials[0].dte, 0xd7);
	CHECK_EQ(u->specials[1].variety, IVHD_SPECIAL_HPET);
	CHECK_EQ(u->specials[1].devid, 0xa8);
	CHECK_EQ(u->nr_acpi, 1);
	CHECK_EQ(ii.nr_ivmds, 3);
	CHECK_EQ(ii.ivmds[0].first, 0);
	CHECK_EQ(ii.ivmds[0].last, 0xffff);
	CHECK_EQ(ii.ivmds[0].base, 0xfd1000);
	CHECK_EQ(ii.ivmds[0].length, 0x1000);
	CHECK_EQ(ii.ivmds[0].flags, IVMD_F_UNITY | IVMD_F_READ | IVMD_F_WRITE);
	CHECK_EQ(ii.ivmds[1].first, 0x300);
	CHECK_EQ(ii.ivmds[1].last, 0x300);
	CHECK_EQ(ii.ivmds[1].base, 0x20000000);
	CHECK_EQ(ii.ivmds[1].length, 0x200000);
	CHECK_EQ(ii.ivmds[2].first, 0x400);
	CHECK_EQ(ii.ivmds[2].last, 0x4ff);
}

TEST(broken_ivrs_is_refused)
{
	/* offsets into the 11h block, which starts at 48 + 28 */
	static const struct {
		u32 at;
		u8 value;
	} cases[] = {
		{ 76 + 48, 4 },	    /* the range start becomes an end without a start */
		{ 76 + 52, 3 },	    /* its end becomes a start inside the range */
		{ 76 + 64, 3 },	    /* the alias range's end too */
		{ 76 + 100, 0x81 }, /* a variable-length type of unknown length */
		{ 76 + 50, 0x02 },  /* range 02:00.0 .. 01:1f.7 runs backwards */
		{ 76 + 121, 100 },  /* the ACPI HID's UID runs past its IVHD */
		{ 76 + 2, 39 },	    /* 11h shorter than its header */
		{ 76 + 8, 0x10 },   /* register base not 16 KiB aligned */
		{ 76 + 2, 0xff },   /* 11h past the table's end */
	};

	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		ivrs_handmade();
		tb[cases[i].at] = cases[i].value;
		CHECK_EQ(ivrs_parse(tb, tb_len, &ii), -EINVAL);
	}
	ivrs_handmade();
	tb[tb_len - 32 + 7] = 0x03; /* the last IVMD: devices 04:00.0 .. 03:ff.7 */
	CHECK_EQ(ivrs_parse(tb, tb_len, &ii), -EINVAL);
	ivrs_handmade();
	tb_put64(tb_len - 8, ~0ULL - 0x100); /* an IVMD that wraps */
	CHECK_EQ(ivrs_parse(tb, tb_len, &ii), -EINVAL);
}

/* Every prefix of the captured tables, as a table of that length: refused or read, never overrun. */
TEST(truncations_stay_inside)
{
	static const char *const files[][2] = { { "q35-smp4-vtd", "DMAR" },
						{ "q35-smp2-amdvi", "IVRS" } };

	for (u32 f = 0; f < 2; f++) {
		u32 len = load(files[f][0], files[f][1]);

		for (u32 n = 0; n <= len; n++) {
			u8 *copy = malloc(n ? n : 1);
			int ret;

			memcpy(copy, file_buf, n);
			if (n >= 8)
				memcpy(copy + 4, &n, 4);
			ret = f ? ivrs_parse(copy, n, &ii) : dmar_parse(copy, n, &di);
			CHECK(ret == 0 || ret == -EINVAL);
			if (n == len)
				CHECK_EQ(ret, 0);
			free(copy);
		}
	}
}

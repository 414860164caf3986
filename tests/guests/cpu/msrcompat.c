// SPDX-License-Identifier: MIT
/*
 * Test guest (issue 18 items 7-9): what CPUID offers works, performance
 * counters read 0 without a PMU, and the MSRs an OS touches at boot
 * (PLATFORM_INFO, SYSCFG, TSC_ADJUST, MTRRs) behave as on a CPU. Every check
 * holds on bare QEMU too; the few a TCG CPU does not make (reserved-bit #GPs)
 * run under Keel only, and each part says what it checked.
 */
#include "../lib/guest.h"

const char test_name[] = "msrcompat";

#define GP 13
static bool on_keel, amd;

static void skip_insn(struct gframe *f)
{
	f->rip += 2; /* RDMSR and WRMSR are 0F 32 / 0F 30 */
}

/* RDMSR; false if it raised #GP. */
static bool rd(u32 msr, u64 *val)
{
	u64 before = trap_count[GP];
	u32 lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr));
	*val = ((u64)hi << 32) | lo;
	return trap_count[GP] == before;
}

static bool wr(u32 msr, u64 val)
{
	u64 before = trap_count[GP];

	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return trap_count[GP] == before;
}

static u64 rd_ok(u32 msr)
{
	u64 v;

	if (!rd(msr, &v))
		fail_at(__LINE__, "RDMSR 0x%x: #GP", msr);
	return v;
}

static struct cpuid_regs_g {
	u32 a, b, c, d;
} leaf(u32 l, u32 sub)
{
	struct cpuid_regs_g r;

	cpuid(l, sub, &r.a, &r.b, &r.c, &r.d);
	return r;
}

static u32 maxphyaddr(void)
{
	return leaf(0x80000000, 0).a >= 0x80000008 ? leaf(0x80000008, 0).a & 0xff : 36;
}

/* --- item 8: no PMU, counters read 0 --- */
static void check_pmu(void)
{
	static const struct {
		u32 first, n;
	} ranges[] = { { 0xc1, 8 },  { 0x186, 8 },	{ 0x309, 4 },
		       { 0x38d, 4 }, { 0xc0010000, 8 }, { 0xc0010200, 12 } };
	u32 n = 0;
	u64 v;

	if (leaf(0, 0).a >= 0xa)
		CHECK_EQ(leaf(0xa, 0).a & 0xff, 0); /* SDM 3B 20.2.1: version 0, no PMU */
	for (u32 i = 0; i < ARRAY_SIZE(ranges); i++)
		for (u32 m = ranges[i].first; m < ranges[i].first + ranges[i].n; m++, n++) {
			if (!wr(m, 0x1234))
				fail_at(__LINE__, "WRMSR 0x%x: #GP", m);
			if (!rd(m, &v) || v != 0)
				fail_at(__LINE__, "RDMSR 0x%x: #GP or %llx", m,
					(unsigned long long)v);
		}
	gprintf("pmu: leaf 0Ah version 0, %u counter MSRs read 0 after a write\n", n);
}

/* --- item 9 --- */
static void check_platform_info(void)
{
	u64 v = rd_ok(0xce);

	if (on_keel) {
		u32 khz = leaf(0x40000010, 0).a; /* Keel's timing leaf */

		CHECK_EQ((v >> 8) & 0xff, ((u64)khz + 50000) / 100000);
		CHECK(!wr(0xce, v)); /* read-only */
		gprintf("platform_info: ratio %u for a %u kHz TSC, read-only\n",
			(u32)(v >> 8) & 0xff, khz);
	}
	if (amd) {
		rd_ok(0xc0010010); /* SYSCFG */
		gprintf("syscfg: read on AMD\n");
	} else if (on_keel) {
		CHECK(!rd(0xc0010010, &v));
		gprintf("syscfg: #GP on Intel\n");
	}
}

static bool near(u64 a, u64 b)
{
	return a - b < 20000000000ULL; /* a is b or later, by at most some seconds */
}

/* SDM 3B 17.17.3: TSC_ADJUST and the TSC move each other. */
static void check_tsc_adjust(void)
{
	const u64 step = 1ULL << 40;
	u64 t0, t1, adj;

	if (!(leaf(7, 0).b & BIT(1))) {
		gprintf("tsc_adjust: not offered\n");
		return;
	}
	CHECK_EQ(rd_ok(0x3b), 0);
	t0 = rdtsc();
	CHECK(wr(0x3b, step));
	t1 = rdtsc();
	CHECK_EQ(rd_ok(0x3b), step);
	CHECK(near(t1, t0 + step)); /* RDTSC moved with it */
	t0 = rdtsc();
	CHECK(wr(0x10, t0 - step)); /* the TSC back by about 2 * step: TSC_ADJUST too */
	adj = rd_ok(0x3b);
	CHECK(near(step, adj + step) || near(adj + step, step)); /* about 0 */
	CHECK(wr(0x3b, 0));
	t1 = rdtsc();
	CHECK(near(t1, t0 - step - adj)); /* moved by -adj */
	gprintf("tsc_adjust: a write moves RDTSC, a TSC write moves it back\n");
}

static void check_mtrrs(void)
{
	static const u32 fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
				     0x26b, 0x26c, 0x26d, 0x26e, 0x26f };
	u64 cap, def, above = ~0ULL << maxphyaddr(), mask = ~0xfffULL & ~above;
	u32 vcnt, gps = 0;

	if (!(leaf(1, 0).d & BIT(12))) {
		gprintf("mtrr: not offered\n");
		return;
	}
	cap = rd_ok(0xfe);
	vcnt = cap & 0xff;
	CHECK(vcnt >= 1);
	def = rd_ok(0x2ff);
	for (u32 i = 0; i < vcnt; i++) {
		u64 base = ((u64)(i + 1) << 30) | (i % 2 ? 1 : 6); /* WC or WB */
		u64 m = (mask & ~((1ULL << 30) - 1)) | BIT(11);

		CHECK(wr(0x200 + 2 * i, base));
		CHECK(wr(0x201 + 2 * i, m));
		CHECK_EQ(rd_ok(0x200 + 2 * i), base);
		CHECK_EQ(rd_ok(0x201 + 2 * i), m);
	}
	for (u32 i = 0; (cap & BIT(8)) && i < ARRAY_SIZE(fixed); i++) {
		CHECK(wr(fixed[i], 0x0605040106050401ULL));
		CHECK_EQ(rd_ok(fixed[i]), 0x0605040106050401ULL);
		CHECK(wr(fixed[i], 0x0606060606060606ULL));
	}
	CHECK(wr(0x2ff, 0x800));
	CHECK_EQ(rd_ok(0x2ff), 0x800);
	if (on_keel) { /* SDM 3A 12.11: reserved bits and undefined types #GP (TCG does not check) */
		gps += !wr(0x200, 0x100 | 6);
		gps += !wr(0x200, 2);
		gps += !wr(0x200, above | 6);
		gps += !wr(0x201, 0x801);
		gps += !wr(0x2ff, 0x200);
		gps += !wr(0x250, 0x0700000000000000ULL);
		CHECK_EQ(gps, 6);
		CHECK_EQ(rd_ok(0x200), (1ULL << 30) | 6);
	}
	for (u32 i = 0; i < vcnt; i++) {
		CHECK(wr(0x201 + 2 * i, 0));
		CHECK(wr(0x200 + 2 * i, 0));
	}
	CHECK(wr(0x2ff, def));
	gprintf("mtrr: cap %llx, %u variable and %u fixed ranges read back, %u reserved-bit #GPs\n",
		(unsigned long long)cap, vcnt, (cap & BIT(8)) ? (u32)ARRAY_SIZE(fixed) : 0, gps);
}

/* --- item 7: each feature CPUID offers, its MSRs and instructions --- */
struct feature {
	u32 leaf, sub;
	u8 reg, bit;
	const char *name;
	u32 msr; /* read, then written back */
};

static const struct feature features[] = {
	{ 1, 0, 3, 14, "MCA", 0x17a },
	{ 1, 0, 3, 16, "PAT", 0x277 },
	{ 1, 0, 2, 15, "PDCM", 0x345 },
	{ 7, 0, 1, 1, "TSC_ADJUST", 0x3b },
	{ 7, 0, 1, 14, "MPX", 0xd90 },
	{ 7, 0, 2, 5, "WAITPKG", 0xe1 },
	{ 7, 0, 2, 7, "CET_SS", 0x6a0 },
	{ 7, 0, 2, 31, "PKS", 0x6e1 },
	{ 7, 0, 3, 20, "CET_IBT", 0x6a0 },
	{ 0xd, 1, 0, 3, "XSAVES", 0xda0 },
	{ 0xd, 1, 0, 4, "XFD", 0x1c4 },
	{ 0x80000001, 0, 2, 9, "OSVW", 0xc0010140 },
	{ 0x80000001, 0, 3, 27, "RDTSCP", 0xc0000103 },
};

static u32 reg_of(struct cpuid_regs_g r, u8 reg)
{
	return reg == 0 ? r.a : reg == 1 ? r.b : reg == 2 ? r.c : r.d;
}

static void check_instructions(u32 *n)
{
	u32 aux, lo, hi;
	u64 cr4;

	if (leaf(0x80000001, 0).d & BIT(27)) { /* RDTSCP reads TSC_AUX */
		CHECK(wr(0xc0000103, 0x1234));
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
		CHECK_EQ(aux, 0x1234);
		++*n;
	}
	if (leaf(7, 0).b & BIT(10)) { /* INVPCID, all contexts */
		struct {
			u64 pcid, addr;
		} desc = { 0, 0 };

		__asm__ volatile("invpcid %0, %1" ::"m"(desc), "r"(2ULL) : "memory");
		++*n;
	}
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	if (leaf(7, 0).c & BIT(3)) { /* PKU: OSPKE follows CR4.PKE; RDPKRU/WRPKRU run */
		CHECK(!(leaf(7, 0).c & BIT(4)));
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | BIT(22)));
		CHECK(leaf(7, 0).c & BIT(4));
		__asm__ volatile("wrpkru" ::"a"(0x4), "c"(0), "d"(0));
		__asm__ volatile("rdpkru" : "=a"(lo), "=d"(hi) : "c"(0));
		CHECK_EQ(lo, 0x4);
		__asm__ volatile("wrpkru" ::"a"(0), "c"(0), "d"(0));
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
		CHECK(!(leaf(7, 0).c & BIT(4)));
		++*n;
	}
}

static void check_features(void)
{
	u32 n = 0;

	for (u32 i = 0; i < ARRAY_SIZE(features); i++) {
		const struct feature *f = &features[i];
		u64 v;

		if (!(reg_of(leaf(f->leaf, f->sub), f->reg) & BIT(f->bit)))
			continue;
		if (!rd(f->msr, &v) || !wr(f->msr, v))
			fail_at(__LINE__, "%s offered, but MSR 0x%x takes #GP", f->name, f->msr);
		n++;
	}
	check_instructions(&n);
	gprintf("cpuid: %u offered features checked, their MSRs and instructions work\n", n);
}

/* What keelctl info counts: an unknown MSR each way, and a port nothing answers. */
static void touch_unknown(void)
{
	u64 v;
	bool gp_rd = !rd(0x12345678, &v), gp_wr = !wr(0xc0011030, 0);

	CHECK(gp_rd == on_keel && gp_wr == on_keel); /* QEMU's TCG drops them silently */
	(void)inb(0x2e0);
	outb(0x2e4, 1);
}

void test_main(void)
{
	u32 max_hv, sig[3];
	struct cpuid_regs_g v = leaf(0, 0);

	trap_set(GP, skip_insn);
	cpuid(0x40000000, 0, &max_hv, &sig[0], &sig[1], &sig[2]);
	on_keel = sig[0] == 0x6c65654b && sig[1] == 0x6c65654b && sig[2] == 0x6c65654b;
	amd = v.b == 0x68747541; /* AuthenticAMD */
	gprintf("msrcompat: on %s, %s\n", on_keel ? "Keel" : "no Keel", amd ? "AMD" : "Intel");
	check_features();
	check_pmu();
	check_platform_info();
	check_tsc_adjust();
	check_mtrrs();
	touch_unknown();
}

// SPDX-License-Identifier: MIT
/* Host tests of RDMSR/WRMSR exits: each MSR the handler claims, its values and its refusals (#GP). */
#include <arch/x86/cpu.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include "fake_clock.h"
#include "fake_exit.h"
#include "test.h"

#define MSR_TSC 0x10
#define MSR_TSC_ADJUST 0x3b
#define MSR_PLATFORM_INFO 0xce
#define MSR_AMD_SYSCFG 0xc0010010
#define MSR_BIOS_SIGN_ID 0x8b
#define MSR_PLATFORM_ID 0x17
#define MSR_MTRR_CAP 0xfe
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_AMD_HWCR 0xc0010015
#define MSR_AMD_VM_CR 0xc0010114
#define MSR_AMD_OSVW_LEN 0xc0010140
#define MSR_AMD_OSVW_STATUS 0xc0010141
#define EFER_FFXSR BIT(14)

extern char fake_log_last[512];

/* --- the vLAPIC's MSRs, as the handler passes them on --- */
static u32 lapic_msr;
static u64 lapic_val;
static int lapic_result;
static u32 lapic_reads, lapic_writes;

bool vlapic_owns_msr(u32 msr)
{
	return msr == 0x1b || msr == 0x6e0 || (msr >= 0x800 && msr <= 0x8ff);
}

int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v;
	lapic_reads++;
	lapic_msr = msr;
	*val = lapic_val;
	return lapic_result;
}

int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	(void)v;
	lapic_writes++;
	lapic_msr = msr;
	lapic_val = val;
	return lapic_result;
}

/* --- helpers --- */
static struct vm vm;
static struct vcpu vcpu;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	strcpy(vm.name, "msr");
	vcpu.vm = &vm;
	mtrr_reset(&vcpu);
	fake_exit_reset();
	fake_tsc = 1000000;
	fake_tsc_hz = 2800000000ULL;
	lapic_reads = lapic_writes = 0;
	lapic_result = 0;
	lapic_val = 0;
}

/* RDMSR in the guest; true if it completed (RIP moved past it), false on #GP. */
static bool rd(u32 msr, u64 *val)
{
	struct vm_exit e = { .reason = EXIT_MSR_READ, .msr = { msr } };
	u32 gps = fake_gps;
	u64 skipped = fake_skipped;

	vcpu.gpr[RCX] = 0xabcd000000000000ULL | msr; /* ECX only */
	vcpu.gpr[RAX] = vcpu.gpr[RDX] = ~0ULL;
	CHECK_EQ(exit_msr_read(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(fake_insn_opcode[0], 0x0f);
	CHECK_EQ(fake_insn_opcode[1], 0x32);
	if (fake_gps != gps) {
		CHECK_EQ(fake_skipped, skipped); /* a fault leaves RIP on the instruction */
		CHECK_EQ(vcpu.gpr[RAX], ~0ULL);
		return false;
	}
	CHECK_EQ(fake_skipped - skipped, 2);
	CHECK_EQ(vcpu.gpr[RAX] >> 32, 0); /* EDX:EAX, the upper halves cleared */
	CHECK_EQ(vcpu.gpr[RDX] >> 32, 0);
	*val = vcpu.gpr[RDX] << 32 | vcpu.gpr[RAX];
	return true;
}

static u64 rd_ok(u32 msr)
{
	u64 val = 0;

	CHECK(rd(msr, &val));
	return val;
}

/* WRMSR of EDX:EAX in the guest; true if it completed, false on #GP. */
static bool wr(u32 msr, u64 val)
{
	struct vm_exit e = { .reason = EXIT_MSR_WRITE, .msr = { msr } };
	u32 gps = fake_gps;
	u64 skipped = fake_skipped;

	vcpu.gpr[RCX] = msr;
	vcpu.gpr[RAX] = 0x5555555500000000ULL | (u32)val; /* the upper half is not the value */
	vcpu.gpr[RDX] = 0x6666666600000000ULL | val >> 32;
	CHECK_EQ(exit_msr_write(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(fake_insn_opcode[1], 0x30);
	if (fake_gps != gps) {
		CHECK_EQ(fake_skipped, skipped);
		return false;
	}
	CHECK_EQ(fake_skipped - skipped, 2);
	return true;
}

/* --- the table --- */

TEST(constant_msrs_read_their_value)
{
	static const struct {
		u32 msr;
		u64 val;
	} cases[] = {
		{ MSR_BIOS_SIGN_ID, 0 }, /* no microcode loaded */
		{ MSR_PLATFORM_ID, 0 },	 /* platform 0 */
		{ MSR_MTRR_CAP, 0x508 }, /* 8 variable ranges, fixed ranges, WC; no SMRR */
		{ MSR_MCG_CAP, 0 },	 /* no machine-check banks */
		{ MSR_MCG_STATUS, 0 },
		{ MSR_MISC_ENABLE, 0x1801 },  /* fast strings; BTS and PEBS unavailable */
		{ MSR_MTRR_DEF_TYPE, 0xc06 }, /* MTRRs on, default write-back */
		{ MSR_AMD_HWCR, 0 },
		{ MSR_AMD_VM_CR, 0x18 }, /* SVM disabled, and locked */
		{ MSR_AMD_OSVW_LEN, 0 }, /* no OS-visible workarounds */
		{ MSR_AMD_OSVW_STATUS, 0 },
		{ MSR_TSC_ADJUST, 0 },
		{ MSR_PLATFORM_INFO, 28 << 8 }, /* the 2.8 GHz TSC in 100 MHz */
	};

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_EQ(rd_ok(cases[i].msr), cases[i].val);
	CHECK_EQ(fake_gps, 0);
	CHECK_EQ(lapic_reads, 0);
}

TEST(tsc_reads_the_host_tsc)
{
	setup();
	CHECK_EQ(rd_ok(MSR_TSC), 1000000);
	fake_tsc += 5;
	CHECK_EQ(rd_ok(MSR_TSC), 1000005);
	CHECK_EQ(vcpu.tsc_offset, 0);
}

/* SDM 3B 17.17.3: writes to the TSC and to IA32_TSC_ADJUST move each other, and the TSC the guest runs. */
TEST(tsc_adjust_and_the_tsc_move_together)
{
	setup();
	CHECK(wr(MSR_TSC_ADJUST, 1000));
	CHECK_EQ(rd_ok(MSR_TSC_ADJUST), 1000);
	CHECK_EQ(rd_ok(MSR_TSC), 1001000); /* the TSC moved by what the write added */
	CHECK_EQ(vcpu.tsc_offset, 1000);   /* and so does RDTSC in the guest */
	fake_tsc += 500;
	CHECK_EQ(rd_ok(MSR_TSC), 1001500);
	CHECK(wr(MSR_TSC, 1000000)); /* back by 1500: TSC_ADJUST too */
	CHECK_EQ(rd_ok(MSR_TSC_ADJUST), (u64)-500);
	CHECK_EQ(vcpu.tsc_offset, (u64)-500);
	fake_tsc += 7;
	CHECK_EQ(rd_ok(MSR_TSC), 1000007);
	CHECK(wr(MSR_TSC_ADJUST, 0));
	CHECK_EQ(vcpu.tsc_offset, 0);
	CHECK_EQ(rd_ok(MSR_TSC), fake_tsc);
	CHECK_EQ(fake_gps, 0);
}

TEST(performance_counters_read_0_and_drop_writes)
{
	/* SDM 3B 20.2.1-20.2.2 (Intel), APM2 13.2.1-13.2.2 (AMD legacy and extended) */
	static const struct {
		u32 first, n;
	} ranges[] = { { 0xc1, 8 },  { 0x186, 8 },	{ 0x309, 4 },
		       { 0x38d, 4 }, { 0xc0010000, 8 }, { 0xc0010200, 12 } };
	static const u32 outside[] = { 0xc0,  0xc9,  0x185,	 0x18e,	     0x308,	0x30d,
				       0x38c, 0x391, 0xc0010008, 0xc00101ff, 0xc001020c };
	u64 val;

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(ranges); i++)
		for (u32 m = ranges[i].first; m < ranges[i].first + ranges[i].n; m++) {
			CHECK(wr(m, 0x12345678abcdULL));
			CHECK_EQ(rd_ok(m), 0);
		}
	CHECK_EQ(fake_gps, 0);
	for (u32 i = 0; i < ARRAY_SIZE(outside); i++)
		CHECK(!rd(outside[i], &val));
	CHECK_EQ(fake_gps, ARRAY_SIZE(outside));
}

TEST(platform_info_is_the_tsc_ratio_and_read_only)
{
	/* SDM 4 table 2-25: bits 15:8 the maximum non-turbo ratio, in 100 MHz; no CPUID faulting */
	setup();
	fake_tsc_hz = 3192000000ULL;
	CHECK_EQ(rd_ok(MSR_PLATFORM_INFO), 32 << 8);
	CHECK(!wr(MSR_PLATFORM_INFO, 32 << 8));
}

static struct cpuid_regs cpu_vendor_ebx;
static struct cpuid_regs vendor_cpu(u32 leaf, u32 sub)
{
	(void)sub;
	return leaf == 0 ? cpu_vendor_ebx : (struct cpuid_regs){ 0, 0, 0, 0 };
}

TEST(syscfg_only_on_amd)
{
	u64 val;

	setup();
	fake_cpuid = vendor_cpu;
	cpu_vendor_ebx = (struct cpuid_regs){ 0xd, 0x68747541, 0x444d4163, 0x69746e65 };
	CHECK_EQ(rd_ok(MSR_AMD_SYSCFG), 0); /* APM2 7.9.1: no TOM2, no SME */
	CHECK(wr(MSR_AMD_SYSCFG, 0));
	cpu_vendor_ebx = (struct cpuid_regs){ 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 };
	CHECK(!rd(MSR_AMD_SYSCFG, &val)); /* GenuineIntel has none */
	CHECK(!wr(MSR_AMD_SYSCFG, 0));
	CHECK_EQ(vm.unknown.msr_reads, 1);
	CHECK_EQ(vm.unknown.msr_writes, 1);
}

/* --- MTRRs (SDM 3A 12.11) --- */

static struct cpuid_regs phys40_cpu(u32 leaf, u32 sub)
{
	(void)sub;
	if (leaf == 0x80000000)
		return (struct cpuid_regs){ 0x80000008, 0, 0, 0 };
	return (struct cpuid_regs){ leaf == 0x80000008 ? 0x3028 : 0, 0, 0, 0 };
}

TEST(mtrr_cap_and_default_type)
{
	setup();
	CHECK_EQ(rd_ok(0xfe), 0x508);
	CHECK(!wr(0xfe, 0x508));
	CHECK_EQ(rd_ok(0x2ff), 0xc06); /* enabled, fixed ranges on, write-back */
	CHECK(wr(0x2ff, 0x800));       /* E, UC default, fixed ranges off */
	CHECK_EQ(rd_ok(0x2ff), 0x800);
	/* 12.11.2.1: bits 9:8 and 63:12 reserved; types 2, 3, 7 and up undefined */
	CHECK(!wr(0x2ff, 0x100));
	CHECK(!wr(0x2ff, 0x1000));
	CHECK(!wr(0x2ff, 0xc02));
	CHECK(!wr(0x2ff, 0xc07));
	CHECK_EQ(rd_ok(0x2ff), 0x800);
	CHECK_EQ(fake_gps, 5);
}

TEST(mtrr_variable_ranges_read_back_and_check_reserved_bits)
{
	u64 val;

	setup();
	fake_cpuid = phys40_cpu; /* MAXPHYADDR 40 */
	for (u32 n = 0; n < 8; n++) {
		CHECK_EQ(rd_ok(0x200 + 2 * n), 0);
		CHECK_EQ(rd_ok(0x201 + 2 * n), 0);
		CHECK(wr(0x200 + 2 * n, 0x80000000ULL | n % 2)); /* UC or WC */
		CHECK(wr(0x201 + 2 * n, 0xffc0000800ULL));	 /* 1 GiB, valid */
	}
	for (u32 n = 0; n < 8; n++) {
		CHECK_EQ(rd_ok(0x200 + 2 * n), 0x80000000ULL | n % 2);
		CHECK_EQ(rd_ok(0x201 + 2 * n), 0xffc0000800ULL);
	}
	/* PhysBase: bits 11:8 and from MAXPHYADDR up reserved, the type defined */
	CHECK(!wr(0x200, 0x100));
	CHECK(!wr(0x200, 0x10000000000ULL));
	CHECK(!wr(0x200, 0x2));
	CHECK(!wr(0x200, 0x7));
	/* PhysMask: bits 10:0 and from MAXPHYADDR up reserved */
	CHECK(!wr(0x201, 0x801));
	CHECK(!wr(0x201, 0x10000000800ULL));
	CHECK_EQ(rd_ok(0x200), 0x80000000ULL);
	CHECK_EQ(rd_ok(0x201), 0xffc0000800ULL);
	CHECK_EQ(fake_gps, 6);
	CHECK(!rd(0x210, &val)); /* past the 8 ranges MTRRCAP names */
}

TEST(mtrr_fixed_ranges_take_a_type_per_byte)
{
	static const u32 fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
				     0x26b, 0x26c, 0x26d, 0x26e, 0x26f };
	static const u8 types[] = { 0, 1, 4, 5, 6 };
	u64 val;

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(fixed); i++) {
		CHECK_EQ(rd_ok(fixed[i]), 0x0606060606060606ULL); /* write-back until written */
		CHECK(wr(fixed[i], 0x0001040506000100ULL | types[i % 5]));
	}
	for (u32 i = 0; i < ARRAY_SIZE(fixed); i++)
		CHECK_EQ(rd_ok(fixed[i]), 0x0001040506000100ULL | types[i % 5]);
	CHECK(!wr(0x250, 0x0200000000000000ULL)); /* one undefined type in any byte */
	CHECK(!wr(0x26f, 0x0000000000000700ULL));
	CHECK_EQ(rd_ok(0x250), 0x0001040506000100ULL);
	CHECK(!rd(0x251, &val)); /* between the fixed-range MSRs: none */
	CHECK(!rd(0x267, &val));
}

TEST(mtrrs_are_each_vcpus_own)
{
	struct vcpu other = { .vm = &vm };

	setup();
	mtrr_reset(&other);
	CHECK(wr(0x2ff, 0xc00));
	CHECK(wr(0x202, 0x1000006));
	CHECK_EQ(other.mtrr.def_type, 0xc06);
	CHECK_EQ(other.mtrr.var[2], 0);
	CHECK_EQ(vcpu.mtrr.var[2], 0x1000006);
}

TEST(writes_that_are_taken_and_dropped)
{
	static const u32 ignored[] = { MSR_BIOS_SIGN_ID, MSR_MCG_STATUS,   MSR_MISC_ENABLE,
				       MSR_AMD_HWCR,	 MSR_AMD_OSVW_LEN, MSR_AMD_OSVW_STATUS };

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(ignored); i++)
		CHECK(wr(ignored[i], 0x1234));
	CHECK_EQ(fake_gps, 0);
	CHECK_EQ(rd_ok(MSR_MISC_ENABLE), 0x1801);
	CHECK_EQ(rd_ok(MSR_BIOS_SIGN_ID), 0);
}

TEST(read_only_msrs_refuse_writes)
{
	static const u32 read_only[] = { MSR_MTRR_CAP, MSR_MCG_CAP, MSR_AMD_VM_CR };

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(read_only); i++)
		CHECK(!wr(read_only[i], 0));
	CHECK_EQ(fake_gps, ARRAY_SIZE(read_only));
	CHECK_EQ(rd_ok(MSR_AMD_VM_CR), 0x18);
}

TEST(unknown_msrs_are_a_gp_both_ways)
{
	/* a CPU without them: IA32_FEATURE_CONTROL, an unassigned index, VM_HSAVE_PA, garbage */
	static const u32 unknown[] = { 0x3a, 0x9, 0xc0010117, 0x12345678, 0x7ff, 0x900 };
	u64 val;

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(unknown); i++) {
		CHECK(!rd(unknown[i], &val));
		CHECK(!wr(unknown[i], 0));
	}
	CHECK_EQ(fake_gps, 2 * ARRAY_SIZE(unknown));
	CHECK_EQ(lapic_reads + lapic_writes, 0);
	CHECK_STR(fake_log_last, "vm msr: write of MSR 0x900 refused with #GP");
}

TEST(unknown_msrs_are_counted_with_the_first_four)
{
	u64 val;

	setup();
	CHECK(!rd(0x12345678, &val));
	CHECK(!rd(0x12345678, &val));
	CHECK(!wr(0x3a, 1));
	CHECK(!rd(0x9, &val));
	CHECK(!wr(0x900, 0));
	CHECK(!rd(0xc0010117, &val)); /* a fifth distinct one: counted, not listed */
	CHECK(!wr(MSR_PAT, 2));	      /* refused, but Keel knows it: not counted */
	CHECK(!wr(MSR_MTRR_CAP, 0));  /* read-only: likewise */
	CHECK_EQ(vm.unknown.msr_reads, 4);
	CHECK_EQ(vm.unknown.msr_writes, 2);
	CHECK_EQ(vm.unknown.msrs[0], 0x12345679);
	CHECK_EQ(vm.unknown.msrs[1], 0x3b);
	CHECK_EQ(vm.unknown.msrs[2], 0xa);
	CHECK_EQ(vm.unknown.msrs[3], 0x901);
	CHECK_EQ(vm.unknown.ports, 0);
}

/* --- MSRs with state --- */

TEST(pat_takes_only_memory_types)
{
	/* SDM 3A 12.12.2: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-; 2, 3 and 8 and up are reserved */
	setup();
	fake_regs[VCPU_PAT] = 0x0007040600070406ULL; /* the reset value */
	CHECK_EQ(rd_ok(MSR_PAT), 0x0007040600070406ULL);
	CHECK(wr(MSR_PAT, 0x0705040601000706ULL));
	CHECK_EQ(fake_regs[VCPU_PAT], 0x0705040601000706ULL);
	CHECK(!wr(MSR_PAT, 0x0000000000000002ULL));
	CHECK(!wr(MSR_PAT, 0x0300000000000000ULL));
	CHECK(!wr(MSR_PAT, 0x0000000000080000ULL));
	CHECK_EQ(fake_regs[VCPU_PAT], 0x0705040601000706ULL);
}

TEST(efer_takes_its_writable_bits_and_keeps_lma)
{
	setup();
	fake_regs[VCPU_EFER] = EFER_LME | EFER_LMA;
	fake_regs[VCPU_CR0] = CR0_PG;
	CHECK_EQ(rd_ok(MSR_EFER), EFER_LME | EFER_LMA);
	/* SCE, NXE and FFXSR are writable; LMA is the CPU's: a write neither sets nor clears it */
	CHECK(wr(MSR_EFER, EFER_SCE | EFER_LME | EFER_NXE | EFER_FFXSR));
	CHECK_EQ(fake_regs[VCPU_EFER], EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_FFXSR);
	fake_regs[VCPU_EFER] = EFER_LME;
	CHECK(wr(MSR_EFER, EFER_LME | EFER_LMA));
	CHECK_EQ(fake_regs[VCPU_EFER], EFER_LME);
	/* reserved bits, and SVME on a virtual CPU without SVM */
	CHECK(!wr(MSR_EFER, EFER_LME | BIT(1)));
	CHECK(!wr(MSR_EFER, EFER_LME | EFER_SVME));
	CHECK(!wr(MSR_EFER, EFER_LME | BIT(32)));
	/* APM2 3.1.7: LME cannot change while paging is on */
	CHECK(!wr(MSR_EFER, 0));
	CHECK_EQ(fake_regs[VCPU_EFER], EFER_LME);
	fake_regs[VCPU_CR0] = 0;
	CHECK(wr(MSR_EFER, 0));
	CHECK_EQ(fake_regs[VCPU_EFER], 0);
	CHECK(wr(MSR_EFER, EFER_LME));
	CHECK_EQ(fake_regs[VCPU_EFER], EFER_LME);
	CHECK_EQ(fake_gps, 4);
}

TEST(tsc_aux_holds_32_bits)
{
	/* SDM 2B RDTSCP: IA32_TSC_AUX bits 63:32 are reserved */
	setup();
	CHECK(wr(MSR_TSC_AUX, 0xfedcba98));
	CHECK_EQ(vcpu.tsc_aux, 0xfedcba98);
	CHECK_EQ(rd_ok(MSR_TSC_AUX), 0xfedcba98);
	CHECK(!wr(MSR_TSC_AUX, 0x100000000ULL));
	CHECK_EQ(vcpu.tsc_aux, 0xfedcba98);
}

TEST(wrmsr_takes_edx_eax)
{
	setup();
	CHECK(wr(MSR_PAT, 0x0000000700000006ULL)); /* EDX 7, EAX 6: the upper halves dropped */
	CHECK_EQ(fake_regs[VCPU_PAT], 0x0000000700000006ULL);
}

/* --- the vLAPIC's MSRs --- */

TEST(apic_msrs_go_to_the_vlapic)
{
	static const u32 apic[] = { 0x1b, 0x6e0, 0x800, 0x830, 0x8ff };

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(apic); i++) {
		lapic_val = 0x1122334455667788ULL + i;
		CHECK_EQ(rd_ok(apic[i]), 0x1122334455667788ULL + i);
		CHECK_EQ(lapic_msr, apic[i]);
		CHECK(wr(apic[i], 0xaabbccdd00000000ULL | i));
		CHECK_EQ(lapic_msr, apic[i]);
		CHECK_EQ(lapic_val, 0xaabbccdd00000000ULL | i);
	}
	CHECK_EQ(lapic_reads, ARRAY_SIZE(apic));
	CHECK_EQ(lapic_writes, ARRAY_SIZE(apic));
}

TEST(a_vlapic_refusal_is_a_gp)
{
	u64 val;

	setup();
	lapic_result = -EPERM;
	CHECK(!rd(0x80b, &val));
	CHECK(!wr(0x802, 0));
	CHECK_EQ(fake_gps, 2);
}

/* --- the instruction --- */

TEST(no_rdmsr_at_rip_kills_the_vm)
{
	struct vm_exit e = { .reason = EXIT_MSR_READ };

	setup();
	fake_insn_len = 0;
	vcpu.gpr[RCX] = MSR_PAT;
	CHECK_EQ(exit_msr_read(&vcpu, &e), ACT_STOP);
	CHECK_EQ(exit_msr_write(&vcpu, &e), ACT_STOP);
	CHECK_EQ(fake_kills, 2);
	CHECK_EQ(fake_skipped, 0);
	CHECK_EQ(fake_gps, 0);
}

TEST(a_longer_instruction_is_skipped_whole)
{
	setup();
	fake_insn_len = 3; /* a prefix before 0f 32 */
	fake_regs[VCPU_RIP] = 0x1000;
	vcpu.gpr[RCX] = MSR_MCG_CAP;
	CHECK_EQ(exit_msr_read(&vcpu, &(struct vm_exit){ .reason = EXIT_MSR_READ }), ACT_RESUME);
	CHECK_EQ(fake_regs[VCPU_RIP], 0x1003);
}

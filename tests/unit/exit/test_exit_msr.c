// SPDX-License-Identifier: MIT
/* Host tests of RDMSR/WRMSR exits: each MSR the handler claims, its values and its refusals (#GP). */
#include <arch/x86/cpu.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include "fake_exit.h"
#include "test.h"

#define MSR_TSC 0x10
#define MSR_BIOS_SIGN_ID 0x8b
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
	fake_exit_reset();
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
		{ MSR_MTRR_CAP, 0 },	 /* no variable or fixed MTRRs */
		{ MSR_MCG_CAP, 0 },	 /* no machine-check banks */
		{ MSR_MCG_STATUS, 0 },
		{ MSR_MISC_ENABLE, 0 },
		{ MSR_MTRR_DEF_TYPE, 0xc06 }, /* MTRRs on, default write-back */
		{ MSR_AMD_HWCR, 0 },
		{ MSR_AMD_VM_CR, 0x18 }, /* SVM disabled, and locked */
		{ MSR_AMD_OSVW_LEN, 0 }, /* no OS-visible workarounds */
		{ MSR_AMD_OSVW_STATUS, 0 },
	};

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_EQ(rd_ok(cases[i].msr), cases[i].val);
	CHECK_EQ(fake_gps, 0);
	CHECK_EQ(lapic_reads, 0);
}

TEST(tsc_reads_the_host_tsc)
{
	u64 before, after, val;

	setup();
	before = rdtsc();
	val = rd_ok(MSR_TSC);
	after = rdtsc();
	CHECK(val >= before && val <= after);
	CHECK(wr(MSR_TSC, 0)); /* accepted, and nothing changes */
}

TEST(writes_that_are_taken_and_dropped)
{
	static const u32 ignored[] = { MSR_TSC,		 MSR_BIOS_SIGN_ID,   MSR_MCG_STATUS,
				       MSR_MISC_ENABLE,	 MSR_MTRR_DEF_TYPE,  MSR_AMD_HWCR,
				       MSR_AMD_OSVW_LEN, MSR_AMD_OSVW_STATUS };

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(ignored); i++)
		CHECK(wr(ignored[i], 0x1234));
	CHECK_EQ(fake_gps, 0);
	CHECK_EQ(rd_ok(MSR_MTRR_DEF_TYPE), 0xc06);
	CHECK_EQ(rd_ok(MSR_MISC_ENABLE), 0);
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

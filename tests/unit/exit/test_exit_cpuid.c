// SPDX-License-Identifier: MIT
/*
 * Host tests of CPUID exits: the leaves Keel answers itself, the ones it
 * filters and the ones it passes through, against this machine's own CPUID
 * and against a CPU that has every feature; a table of what each feature
 * offered implies (SDM 2A CPUID, APM3 appendix E), walked against msr.c.
 */
#include <arch/x86/cpu.h>
#include <keel/vm.h>
#include "fake_clock.h"
#include "fake_exit.h"
#include "test.h"

/* CPUID.1 (SDM 2A tables 3-10, 3-11) and the bits Keel changes elsewhere */
#define C1_ECX_MONITOR BIT(3)
#define C1_ECX_SMX BIT(6)
#define C1_ECX_OSXSAVE BIT(27)
#define C1_EDX_APIC BIT(9)
#define C1_EDX_ACPI BIT(22)
#define C7_ECX_WAITPKG BIT(5)
#define CR4_OSXSAVE BIT(18)
#define CR4_PKE BIT(22)

static struct vm vm;
static struct vcpu vcpus[4];

static void setup(u32 nr)
{
	memset(&vm, 0, sizeof(vm));
	memset(vcpus, 0, sizeof(vcpus));
	vm.nr_vcpus = nr;
	for (u32 i = 0; i < nr; i++) {
		vcpus[i].vm = &vm;
		vcpus[i].id = i;
		vm.vcpus[i] = &vcpus[i];
	}
	fake_exit_reset();
	fake_tsc_hz = 2800000000ULL;
}

/* CPUID in the guest on vCPU id. */
static struct cpuid_regs guest(u32 id, u32 leaf, u32 sub)
{
	struct vcpu *v = &vcpus[id];
	struct vm_exit e = { .reason = EXIT_CPUID };
	u64 skipped = fake_skipped;

	v->gpr[RAX] = 0xffffffff00000000ULL | leaf; /* EAX and ECX only */
	v->gpr[RCX] = 0xffffffff00000000ULL | sub;
	v->gpr[RBX] = v->gpr[RDX] = ~0ULL;
	CHECK_EQ(exit_cpuid(v, &e), ACT_RESUME);
	CHECK_EQ(fake_insn_opcode[0], 0x0f);
	CHECK_EQ(fake_insn_opcode[1], 0xa2);
	CHECK_EQ(fake_skipped - skipped, 2);
	CHECK_EQ((v->gpr[RAX] | v->gpr[RBX] | v->gpr[RCX] | v->gpr[RDX]) >> 32, 0);
	return (struct cpuid_regs){ (u32)v->gpr[RAX], (u32)v->gpr[RBX], (u32)v->gpr[RCX],
				    (u32)v->gpr[RDX] };
}

static void check_regs(struct cpuid_regs got, struct cpuid_regs want, u32 leaf, u32 sub)
{
	if (got.eax != want.eax || got.ebx != want.ebx || got.ecx != want.ecx ||
	    got.edx != want.edx) {
		fprintf(stderr, "  leaf %#x.%u: %08x %08x %08x %08x, want %08x %08x %08x %08x\n",
			leaf, sub, got.eax, got.ebx, got.ecx, got.edx, want.eax, want.ebx, want.ecx,
			want.edx);
		test_failed_checks++;
	}
}

static const struct cpuid_regs zero = { 0, 0, 0, 0 };

typedef struct cpuid_regs (*fake_cpu_fn)(u32 leaf, u32 sub);

/* --- Keel's own leaves --- */

TEST(hypervisor_leaves_name_keel_and_its_clocks)
{
	static const u32 empty[] = { 0x40000001, 0x4000000f, 0x40000011, 0x40000100, 0x4000ffff };
	struct cpuid_regs r;
	char sig[13] = { 0 };

	setup(1);
	r = guest(0, 0x40000000, 0);
	CHECK_EQ(r.eax, 0x40000010); /* the highest hypervisor leaf */
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	CHECK_STR(sig, "KeelKeelKeel");
	/* the timing leaf: TSC and APIC bus in kHz */
	check_regs(guest(0, 0x40000010, 0), (struct cpuid_regs){ 2800000, 1000000, 0, 0 },
		   0x40000010, 0);
	for (u32 i = 0; i < ARRAY_SIZE(empty); i++)
		check_regs(guest(0, empty[i], 0), zero, empty[i], 0);
	/* past Keel's range: no leaf */
	check_regs(guest(0, 0x40010000, 0), zero, 0x40010000, 0);
}

/* --- a CPU with every feature --- */

/* Every feature bit set; leaf 0 names AuthenticAMD and 24h basic leaves, 80000026h extended. */
static struct cpuid_regs every_feature(u32 leaf, u32 sub)
{
	(void)sub;
	if (leaf == 0)
		return (struct cpuid_regs){ 0x24, 0x68747541, 0x444d4163, 0x69746e65 };
	if (leaf == 0x80000000)
		return (struct cpuid_regs){ 0x80000026, 0, 0, 0 };
	if (leaf == 0x80000008)
		return (struct cpuid_regs){ 0x3030, ~0u, ~0u, ~0u }; /* MAXPHYADDR 48 */
	return (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
}

static struct cpuid_regs no_feature(u32 leaf, u32 sub)
{
	(void)sub;
	if (leaf == 0)
		return (struct cpuid_regs){ 0x24, 0x68747541, 0x444d4163, 0x69746e65 };
	if (leaf == 0x80000000)
		return (struct cpuid_regs){ 0x80000026, 0, 0, 0 };
	return zero;
}

/* --- filtered leaves --- */

TEST(leaf_1_topology_and_features)
{
	/* hidden (SDM 2A table 3-10): DTES64 MONITOR DS-CPL VMX SMX EIST TM2 CNXT-ID SDBG xTPR PDCM
	 * bit 16, DCA, and OSXSAVE while CR4.OSXSAVE is clear */
	const u32 ecx_hidden = BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) |
			       BIT(10) | BIT(11) | BIT(14) | BIT(15) | BIT(16) | BIT(18) | BIT(27);
	/* table 3-11: bit 10, PSN, bit 20, DS, ACPI, TM, bit 30, PBE */
	const u32 edx_hidden = BIT(10) | BIT(18) | BIT(20) | BIT(21) | BIT(22) | BIT(29) | BIT(30) |
			       BIT(31);
	struct cpuid_regs host = cpuid_count(1, 0), r;

	setup(3);
	r = guest(2, 1, 0);
	CHECK_EQ(r.eax, host.eax); /* family, model, stepping */
	/* SDM 2A table 3-8: EBX[31:24] APIC ID, [23:16] logical processors */
	CHECK_EQ(r.ebx, (host.ebx & 0xffff) | 3u << 16 | 2u << 24);
	CHECK_EQ(guest(0, 1, 0).ebx >> 24, 0);
	fake_cpuid = every_feature;
	r = guest(2, 1, 0);
	CHECK_EQ(r.ecx, ~ecx_hidden);
	CHECK_EQ(r.edx, ~edx_hidden);
	fake_cpuid = no_feature; /* the vLAPIC's x2APIC and TSC deadline, and a hypervisor */
	r = guest(0, 1, 0);
	CHECK_EQ(r.ecx, CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE);
	CHECK_EQ(r.edx, C1_EDX_APIC);
}

TEST(leaf_1_osxsave_mirrors_the_guest_cr4)
{
	setup(1);
	fake_regs[VCPU_CR4] = CR4_OSXSAVE;
	CHECK(guest(0, 1, 0).ecx & C1_ECX_OSXSAVE);
	fake_regs[VCPU_CR4] = 0;
	CHECK_EQ(guest(0, 1, 0).ecx & C1_ECX_OSXSAVE, 0);
}

TEST(leaf_7_ospke_mirrors_the_guest_cr4)
{
	setup(1);
	fake_cpuid = every_feature;
	fake_regs[VCPU_CR4] = CR4_PKE;
	CHECK(guest(0, 7, 0).ecx & BIT(4));
	fake_regs[VCPU_CR4] = 0;
	CHECK_EQ(guest(0, 7, 0).ecx & BIT(4), 0);
	fake_cpuid = no_feature;
	fake_regs[VCPU_CR4] = CR4_PKE;
	CHECK_EQ(guest(0, 7, 0).ecx & BIT(4), 0); /* no PKU: no OSPKE */
}

TEST(monitor_power_and_pmu_leaves_are_empty)
{
	/* 5 MONITOR, 6 power, 0Ah the architectural PMU (SDM 3B 20.2.1: version 0 = none), 0Fh/10h
	 * RDT, 12h SGX, 14h PT, 19h Key Locker, 1Bh PCONFIG, 1Ch arch LBR, 23h PMU extensions;
	 * AMD 8000000Ah SVM, 1Bh IBS, 1Ch LWP, 1Eh/1Fh topology and SEV, 20h PQoS, 22h PerfMonV2 */
	static const u32 empty[] = { 3,		 5,	     6,		 8,	     9,
				     0xa,	 0xc,	     0xe,	 0xf,	     0x10,
				     0x11,	 0x12,	     0x13,	 0x14,	     0x17,
				     0x19,	 0x1a,	     0x1b,	 0x1c,	     0x20,
				     0x21,	 0x22,	     0x23,	 0x8000000a, 0x8000001b,
				     0x8000001c, 0x8000001e, 0x8000001f, 0x80000020, 0x80000022,
				     0x80000023, 0x80000026 };

	setup(1);
	fake_cpuid = every_feature;
	for (u32 i = 0; i < ARRAY_SIZE(empty); i++)
		for (u32 sub = 0; sub < 3; sub++)
			check_regs(guest(0, empty[i], sub), zero, empty[i], sub);
	fake_cpuid = NULL;
	check_regs(guest(0, 0xa, 0), zero, 0xa, 0); /* whatever this machine has */
}

TEST(clock_leaves_are_empty)
{
	/* 15h (TSC/crystal ratio, crystal Hz) and 16h (base, max and bus MHz) describe the host's
	 * clocks, not the vLAPIC's 1 GHz bus or the TSC rate Keel measured (leaf 40000010h): a CPU
	 * that has them, as Bochs' tigerlake (15h: 2, 126, 38.4 MHz; 16h: 2400, 4200, 100 MHz) */
	setup(1);
	fake_cpuid = every_feature;
	check_regs(guest(0, 0x15, 0), zero, 0x15, 0);
	check_regs(guest(0, 0x16, 0), zero, 0x16, 0);
	check_regs(guest(0, 0x40000010, 0), (struct cpuid_regs){ 2800000, 1000000, 0, 0 },
		   0x40000010, 0);
}

TEST(leaf_7_hides_waitpkg_and_pks)
{
	struct cpuid_regs r;

	setup(1);
	fake_cpuid = every_feature;
	r = guest(0, 7, 0);
	CHECK_EQ(r.ecx & (C7_ECX_WAITPKG | BIT(31)), 0); /* WAITPKG, PKS */
	CHECK_EQ(r.eax, ~0u);				 /* the subleaf count is the CPU's */
	check_regs(guest(0, 7, 3), zero, 7, 3);		 /* subleaves past 2 */
}

/* Bochs' tigerlake, as far as it matters here: FSRM; ERMS or not */
static bool fake_erms;

static struct cpuid_regs fsrm_cpu(u32 leaf, u32 sub)
{
	struct cpuid_regs r = no_feature(leaf, sub);

	if (leaf == 7 && sub == 0) {
		r.ebx = fake_erms ? BIT(9) : 0;
		r.edx = BIT(4);
	}
	return r;
}

/*
 * FSRM refines ERMS, and Linux 6.1's memmove trusts that: patched for FSRM
 * it drops its under-32-bytes check and expects ERMS's REP MOVSB to take
 * every length, so FSRM alone sends a short copy round the 32-byte loop
 * until it faults. A guest also clears ERMS itself when IA32_MISC_ENABLE
 * says fast strings are off (early_init_intel), keeping FSRM: what stopped
 * the service VM on VT-x at its first short printk after the alternatives.
 */
TEST(fast_short_rep_mov_comes_only_with_erms_and_fast_strings)
{
	struct cpuid_regs r;
	u64 misc;

	setup(1);
	fake_cpuid = fsrm_cpu;
	fake_erms = false;
	r = guest(0, 7, 0);
	CHECK_EQ(r.ebx & BIT(9), 0);
	CHECK_EQ(r.edx & BIT(4), 0);
	fake_erms = true;
	r = guest(0, 7, 0);
	CHECK(r.ebx & BIT(9));
	CHECK(r.edx & BIT(4));
	vcpus[0].gpr[RCX] = 0x1a0; /* IA32_MISC_ENABLE */
	CHECK_EQ(exit_msr_read(&vcpus[0], &(struct vm_exit){ .reason = EXIT_MSR_READ }),
		 ACT_RESUME);
	misc = (vcpus[0].gpr[RDX] << 32) | (u32)vcpus[0].gpr[RAX];
	CHECK(misc & BIT(0)); /* fast strings on: the guest keeps the ERMS it is offered */
}

TEST(xsave_offers_no_supervisor_state)
{
	struct cpuid_regs r;

	setup(1);
	fake_cpuid = every_feature;
	check_regs(guest(0, 0xd, 0), every_feature(0xd, 0), 0xd, 0); /* XCR0's bits: XSETBV's */
	r = guest(0, 0xd, 1);
	CHECK_EQ(r.eax, 7); /* XSAVEOPT XSAVEC XGETBV1; not XSAVES (IA32_XSS), XFD (IA32_XFD) */
	CHECK_EQ(r.ecx, 0); /* IA32_XSS components */
	CHECK_EQ(r.edx, 0);
	check_regs(guest(0, 0xd, 8), zero, 0xd, 8); /* PT: a supervisor component */
	check_regs(guest(0, 0xd, 12), zero, 0xd, 12);
}

TEST(backend_controls_limit_rdtscp_and_invpcid)
{
	setup(1);
	fake_cpuid = every_feature;
	CHECK(guest(0, 0x80000001, 0).edx & CPUID_80000001_EDX_RDTSCP);
	CHECK(guest(0, 7, 0).ebx & BIT(10));
	vcpu_guest_insns = 0; /* VT-x without "enable RDTSCP" and "enable INVPCID" */
	CHECK_EQ(guest(0, 0x80000001, 0).edx & CPUID_80000001_EDX_RDTSCP, 0);
	CHECK_EQ(guest(0, 7, 0).ebx & BIT(10), 0);
}

TEST(tsc_adjust_is_offered_on_any_cpu)
{
	setup(1);
	fake_cpuid = no_feature;
	CHECK_EQ(guest(0, 7, 0).ebx, BIT(1)); /* Keel keeps IA32_TSC_ADJUST itself */
}

TEST(x2apic_topology_is_one_thread_per_core)
{
	/* SDM 2A leaf 0BH: ECX[15:8] level type (1 SMT, 2 core), EDX the x2APIC ID */
	static const u32 leaves[] = { 0xb, 0x1f };

	setup(3);
	for (u32 i = 0; i < ARRAY_SIZE(leaves); i++) {
		u32 leaf = leaves[i];

		check_regs(guest(2, leaf, 0), (struct cpuid_regs){ 0, 1, 0x100, 2 }, leaf, 0);
		check_regs(guest(2, leaf, 1), (struct cpuid_regs){ 2, 3, 0x201, 2 }, leaf, 1);
		check_regs(guest(1, leaf, 2), (struct cpuid_regs){ 0, 0, 2, 1 }, leaf, 2);
	}
	/* the shift is the fewest bits that number every x2APIC ID: QEMU's, and what Linux sizes by */
	setup(1);
	check_regs(guest(0, 0xb, 1), (struct cpuid_regs){ 0, 1, 0x201, 0 }, 0xb, 1);
	setup(2);
	CHECK_EQ(guest(1, 0xb, 1).eax, 1);
	setup(4);
	CHECK_EQ(guest(3, 0xb, 1).eax, 2);
}

/* Intel leaf 4 EAX[31:26]: core IDs in the package - 1, as many as the x2APIC shift allows. */
TEST(cache_leaf_counts_the_vms_cores)
{
	static const u32 cores[] = { 0, 1, 3, 3 }; /* for 1, 2, 3, 4 vCPUs */
	struct cpuid_regs host = cpuid_count(4, 0);

	if (!(host.eax & 0x1f))
		return; /* no leaf 4 on this CPU (AMD): passed through as zeroes */
	for (u32 n = 1; n <= 4; n++) {
		struct cpuid_regs got;

		setup(n);
		got = guest(0, 4, 0);
		CHECK_EQ(got.eax >> 26, cores[n - 1]);
		CHECK_EQ(got.eax & 0x03ffffff, host.eax & 0x03ffffff);
		CHECK_EQ(got.ebx, host.ebx);
	}
}

TEST(extended_leaves_hide_svm_and_count_cores)
{
	struct cpuid_regs r;

	setup(3);
	fake_cpuid = every_feature;
	r = guest(0, 0x80000001, 0);
	/* APM3 E.4.2: SVM ExtApicSpace IBS SKINIT WDT bit 14 LWP TCE bit 18 NodeId bit 20
	 * PerfCtrExtCore/NB DataBreakpointExt PerfTsc PerfCtrExtLLC MONITORX AddrMaskExt bit 31 */
	CHECK_EQ(r.ecx, ~(u32)(BIT(2) | BIT(3) | BIT(10) | BIT(12) | BIT(13) | BIT(14) | BIT(15) |
			       BIT(17) | BIT(18) | BIT(19) | BIT(20) | GENMASK(31, 23)));
	CHECK_EQ(r.edx, ~(u32)(BIT(10) | BIT(18) | BIT(19) | BIT(21) | BIT(28)));
	r = guest(0, 0x80000008, 0); /* AMD: ECX[7:0] = cores - 1, ECX[15:12] their ID bits */
	CHECK_EQ(r.ecx & 0xf0ff, 2 << 12 | 2);
	CHECK_EQ(r.edx, 0);
	check_regs(guest(0, 0x80000007, 0),
		   (struct cpuid_regs){ ~0u, 0, 0, CPUID_80000007_EDX_INVARIANT_TSC }, 0x80000007,
		   0);
}

/* --- the rest passes through --- */

TEST(other_leaves_are_the_cpus)
{
	static const struct {
		u32 leaf, sub;
	} same[] = { { 0, 0 },		{ 2, 0 },	   { 0xd, 0 },	      { 0x80000000, 0 },
		     { 0x80000002, 0 }, { 0x80000003, 0 }, { 0x80000004, 0 }, { 0x80000006, 0 } };

	setup(2);
	for (u32 i = 0; i < ARRAY_SIZE(same); i++)
		check_regs(guest(1, same[i].leaf, same[i].sub),
			   cpuid_count(same[i].leaf, same[i].sub), same[i].leaf, same[i].sub);
}

/* --- what CPUID offers works: each feature against the MSRs it brings --- */

/* The vLAPIC's MSRs (APIC base, TSC deadline, x2APIC) as test_vlapic knows them: taken. */
bool vlapic_owns_msr(u32 msr)
{
	return msr == 0x1b || msr == 0x6e0 || (msr >= 0x800 && msr <= 0x8ff);
}

int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = 0;
	return 0;
}

int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	(void)v, (void)msr, (void)val;
	return 0;
}

enum { EAX, EBX, ECX, EDX };

struct word {
	u32 leaf, sub;
	u8 reg;
	/* features that are instructions, CR4 bits or facts (SDM 2A CPUID, APM3 E) */
	u32 plain;
	/* the speculation controls' (security issue item 15, test_spec) */
	u32 spec;
};

/* Every feature word Keel passes on; a bit it offers must be plain, spec or in implies[]. */
static const struct word words[] = {
	/* SSE3 PCLMULQDQ SSSE3 FMA CX16 PCID SSE4.1/4.2 MOVBE POPCNT AES XSAVE OSXSAVE AVX F16C
	 * RDRAND, the hypervisor bit */
	{ 1, 0, ECX,
	  BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | BIT(17) | BIT(19) | BIT(20) | BIT(22) |
		  BIT(23) | BIT(25) | BIT(26) | BIT(27) | BIT(28) | BIT(29) | BIT(30) | BIT(31),
	  0 },
	/* FPU VME DE PSE MSR PAE MCE CX8 SEP PGE CMOV PSE-36 CLFSH MMX FXSR SSE SSE2 SS HTT
	 * (SEP: the SYSENTER MSRs go to the CPU, svm.c/vmx.c) */
	{ 1, 0, EDX,
	  BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(11) |
		  BIT(13) | BIT(15) | BIT(17) | BIT(19) | BIT(23) | BIT(24) | BIT(25) | BIT(26) |
		  BIT(27) | BIT(28),
	  0 },
	/* FSGSBASE BMI1 HLE AVX2 FDP_EXCPTN_ONLY SMEP BMI2 ERMS INVPCID RTM FPU-CS/DS AVX512F
	 * AVX512DQ RDSEED ADX SMAP AVX512_IFMA CLFLUSHOPT CLWB AVX512PF/ER/CD SHA AVX512BW/VL */
	{ 7, 0, EBX,
	  (GENMASK(11, 3) & ~BIT(2)) | BIT(0) | BIT(13) | GENMASK(21, 16) | BIT(23) | BIT(24) |
		  GENMASK(31, 26),
	  0 },
	/* PREFETCHWT1 AVX512_VBMI UMIP PKU OSPKE AVX512_VBMI2 GFNI VAES VPCLMULQDQ AVX512_VNNI
	 * AVX512_BITALG AVX512_VPOPCNTDQ LA57 CLDEMOTE MOVDIRI MOVDIR64B */
	{ 7, 0, ECX,
	  GENMASK(4, 0) | BIT(6) | GENMASK(12, 8) | BIT(14) | BIT(16) | BIT(25) | BIT(27) | BIT(28),
	  0 },
	/* AVX512_4VNNIW/4FMAPS FSRM VP2INTERSECT MD_CLEAR RTM_ALWAYS_ABORT SERIALIZE hybrid
	 * TSXLDTRK AMX-BF16 AVX512_FP16 AMX-TILE AMX-INT8 */
	{ 7, 0, EDX,
	  BIT(2) | BIT(3) | BIT(4) | BIT(8) | BIT(10) | BIT(11) | BIT(14) | BIT(15) | BIT(16) |
		  GENMASK(25, 22),
	  GENMASK(31, 26) },
	{ 7, 1, EAX,
	  BIT(4) | BIT(5) | BIT(7) | BIT(10) | BIT(11) | BIT(12) | BIT(19) | BIT(21) | BIT(23), 0 },
	{ 7, 1, EBX, 0, 0 },
	{ 7, 1, ECX, 0, 0 },
	{ 7, 1, EDX, BIT(4) | BIT(5) | BIT(8) | BIT(10) | BIT(14) | BIT(19), 0 },
	{ 7, 2, EDX, 0, ~0u },
	{ 0xd, 1, EAX, BIT(0) | BIT(1) | BIT(2), 0 }, /* XSAVEOPT XSAVEC XGETBV1 */
	{ 0xd, 1, ECX, 0, 0 },
	{ 0xd, 1, EDX, 0, 0 },
	/* LAHF CmpLegacy AltMovCr8 ABM SSE4A MisAlignSse 3DNowPrefetch XOP FMA4 TBM TopoExt */
	{ 0x80000001, 0, ECX,
	  BIT(0) | BIT(1) | GENMASK(8, 4) | BIT(11) | BIT(16) | BIT(21) | BIT(22), 0 },
	/* leaf 1's plain EDX bits again, SYSCALL (STAR.. go to the CPU) MmxExt 3DNowExt 3DNow */
	{ 0x80000001, 0, EDX,
	  BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(11) |
		  BIT(13) | BIT(15) | BIT(17) | BIT(22) | BIT(23) | BIT(24) | BIT(26) | BIT(30) |
		  BIT(31),
	  0 },
	{ 0x80000007, 0, EBX, 0, 0 },
	{ 0x80000007, 0, ECX, 0, 0 },
	{ 0x80000007, 0, EDX, BIT(8), 0 }, /* invariant TSC */
	/* CLZERO RstrFpErrPtrs WBNOINVD EferLmsleUnsupported */
	{ 0x80000008, 0, EBX, BIT(0) | BIT(2) | BIT(9) | BIT(20),
	  GENMASK(19, 12) | GENMASK(26, 24) | GENMASK(30, 28) },
	{ 0x80000008, 0, EDX, 0, 0 },
	{ 0x80000021, 0, EAX, BIT(0) | BIT(1) | BIT(2) | BIT(6) | BIT(9),
	  BIT(8) | GENMASK(31, 27) },
	{ 0x80000021, 0, EBX, 0, 0 },
	{ 0x80000021, 0, ECX, 0, 0 },
};

/* MSRs a feature brings; RO: reads only (a write is a #GP on the CPU too). */
#define RO BIT(32)
#define MTRRS 0xfe | RO, 0x2ff, 0x200, 0x201, 0x20e, 0x20f, 0x250, 0x258, 0x259, 0x268, 0x26f
#define EFER 0xc0000080
#define TSC_AUX 0xc0000103

static const struct implies {
	u32 leaf, sub;
	u8 reg, bit;
	const char *name;
	u64 msrs[12];
} implies[] = {
	{ 1, 0, ECX, 21, "x2APIC", { 0x802 | RO, 0x808, 0x80b, 0x830 } },
	{ 1, 0, ECX, 24, "TSC-deadline", { 0x6e0 } },
	{ 1, 0, EDX, 4, "TSC", { 0x10 } },
	{ 1, 0, EDX, 9, "APIC", { 0x1b } },
	{ 1, 0, EDX, 12, "MTRR", { MTRRS } },
	{ 1, 0, EDX, 14, "MCA", { 0x179 | RO, 0x17a } },
	{ 1, 0, EDX, 16, "PAT", { 0x277 } },
	{ 7, 0, EBX, 1, "TSC_ADJUST", { 0x3b } },
	{ 7, 0, ECX, 22, "RDPID", { TSC_AUX } },
	{ 0x80000001, 0, ECX, 9, "OSVW", { 0xc0010140, 0xc0010141 } },
	{ 0x80000001, 0, EDX, 9, "APIC", { 0x1b } },
	{ 0x80000001, 0, EDX, 4, "TSC", { 0x10 } },
	{ 0x80000001, 0, EDX, 12, "MTRR", { MTRRS } },
	{ 0x80000001, 0, EDX, 14, "MCA", { 0x179 | RO, 0x17a } },
	{ 0x80000001, 0, EDX, 16, "PAT", { 0x277 } },
	{ 0x80000001, 0, EDX, 20, "NX (EFER.NXE)", { EFER } },
	{ 0x80000001, 0, EDX, 25, "FFXSR (EFER.FFXSR)", { EFER } },
	{ 0x80000001, 0, EDX, 27, "RDTSCP", { TSC_AUX } },
	{ 0x80000001, 0, EDX, 29, "LM (EFER.LME)", { EFER } },
};

static u32 reg_value(struct cpuid_regs r, u8 reg)
{
	return reg == EAX ? r.eax : reg == EBX ? r.ebx : reg == ECX ? r.ecx : r.edx;
}

/* RDMSR, then WRMSR of what it read, in the guest: 0 if both complete (the write only if not RO). */
static int msr_works(u64 m)
{
	struct vcpu *v = &vcpus[0];
	u32 msr = (u32)m, gps = fake_gps;

	v->gpr[RCX] = msr;
	CHECK_EQ(exit_msr_read(v, &(struct vm_exit){ .reason = EXIT_MSR_READ }), ACT_RESUME);
	if (fake_gps != gps)
		return -1;
	if (m & RO)
		return 0;
	CHECK_EQ(exit_msr_write(v, &(struct vm_exit){ .reason = EXIT_MSR_WRITE }), ACT_RESUME);
	return fake_gps != gps ? -2 : 0;
}

static bool feature_checked(u32 leaf, u32 sub, u8 reg, u32 bit)
{
	bool any = false;

	for (u32 i = 0; i < ARRAY_SIZE(implies); i++) {
		const struct implies *f = &implies[i];

		if (f->leaf != leaf || f->sub != sub || f->reg != reg || f->bit != bit)
			continue;
		any = true;
		for (u32 j = 0; j < ARRAY_SIZE(f->msrs) && f->msrs[j]; j++) {
			int err = msr_works(f->msrs[j]);

			if (err) {
				fprintf(stderr, "  %s offered, but %s MSR %#x is a #GP\n", f->name,
					err == -1 ? "RDMSR of" : "WRMSR to", (u32)f->msrs[j]);
				test_failed_checks++;
			}
		}
	}
	return any;
}

TEST(every_offered_feature_has_its_msrs)
{
	static const fake_cpu_fn cpus[] = { every_feature, NULL };

	for (u32 c = 0; c < ARRAY_SIZE(cpus); c++) {
		setup(1);
		mtrr_reset(&vcpus[0]);
		fake_cpuid = cpus[c];
		for (u32 i = 0; i < ARRAY_SIZE(words); i++) {
			const struct word *w = &words[i];
			u32 got = reg_value(guest(0, w->leaf, w->sub), w->reg);

			for (u32 bit = 0; bit < 32; bit++) {
				if (!(got & BIT(bit)) || ((w->plain | w->spec) & BIT(bit)))
					continue;
				if (!feature_checked(w->leaf, w->sub, w->reg, (u8)bit)) {
					fprintf(stderr,
						"  leaf %#x.%u reg %u bit %u: offered, but "
						"nothing says what it brings\n",
						w->leaf, w->sub, w->reg, bit);
					test_failed_checks++;
				}
			}
		}
	}
}

/* Features whose MSRs Keel does not have: hidden, and their MSRs #GP as on a CPU without them. */
TEST(features_keel_cannot_back_are_hidden)
{
	static const struct implies hidden[] = {
		{ 1, 0, ECX, 2, "DTES64", { 0x600 } },		   /* IA32_DS_AREA */
		{ 1, 0, ECX, 7, "EIST", { 0x199 } },		   /* IA32_PERF_CTL */
		{ 1, 0, ECX, 15, "PDCM", { 0x345 } },		   /* IA32_PERF_CAPABILITIES */
		{ 1, 0, ECX, 18, "DCA", { 0x1f8 } },		   /* IA32_PLATFORM_DCA_CAP */
		{ 1, 0, EDX, 22, "ACPI thermal", { 0x19a } },	   /* IA32_CLOCK_MODULATION */
		{ 7, 0, EBX, 12, "RDT-M", { 0xc8f } },		   /* IA32_PQR_ASSOC */
		{ 7, 0, EBX, 14, "MPX", { 0xd90 } },		   /* IA32_BNDCFGS */
		{ 7, 0, EBX, 25, "Intel PT", { 0x570 } },	   /* IA32_RTIT_CTL */
		{ 7, 0, ECX, 5, "WAITPKG", { 0xe1 } },		   /* IA32_UMWAIT_CONTROL */
		{ 7, 0, ECX, 7, "CET_SS", { 0x6a0 } },		   /* IA32_U_CET */
		{ 7, 0, ECX, 29, "ENQCMD", { 0xd93 } },		   /* IA32_PASID */
		{ 7, 0, ECX, 31, "PKS", { 0x6e1 } },		   /* IA32_PKRS */
		{ 7, 0, EDX, 5, "UINTR", { 0x985 } },		   /* IA32_UINTR_RR */
		{ 7, 0, EDX, 19, "arch LBR", { 0x14ce } },	   /* IA32_LBR_CTL */
		{ 7, 1, EAX, 22, "HRESET", { 0x17da } },	   /* IA32_HRESET_ENABLE */
		{ 7, 1, EBX, 0, "PPIN", { 0x4e } },		   /* IA32_PPIN_CTL */
		{ 0xd, 1, EAX, 3, "XSAVES", { 0xda0 } },	   /* IA32_XSS */
		{ 0xd, 1, EAX, 4, "XFD", { 0x1c4 } },		   /* IA32_XFD */
		{ 0x80000001, 0, ECX, 10, "IBS", { 0xc0011030 } }, /* IBS_FETCH_CTL */
		{ 0x80000001, 0, ECX, 15, "LWP", { 0xc0000105 } }, /* LWP_CFG */
		{ 0x80000001, 0, ECX, 23, "PerfCtrExtCore", { 0 } },
		{ 0x80000008, 0, EBX, 1, "IRPERF", { 0xc00000e9 } },
	};

	setup(1);
	fake_cpuid = every_feature;
	for (u32 i = 0; i < ARRAY_SIZE(hidden); i++) {
		const struct implies *f = &hidden[i];

		if (reg_value(guest(0, f->leaf, f->sub), f->reg) & BIT(f->bit)) {
			fprintf(stderr, "  %s is offered, but Keel does not back it\n", f->name);
			test_failed_checks++;
		}
		if (f->msrs[0]) {
			u32 gps = fake_gps;

			vcpus[0].gpr[RCX] = f->msrs[0];
			exit_msr_read(&vcpus[0], &(struct vm_exit){ .reason = EXIT_MSR_READ });
			CHECK_EQ(fake_gps, gps + 1); /* no such MSR here */
		}
	}
}

TEST(no_cpuid_at_rip_kills_the_vm)
{
	setup(1);
	fake_insn_len = 0;
	vcpus[0].gpr[RAX] = 0x40000000;
	vcpus[0].gpr[RBX] = 0x1234;
	CHECK_EQ(exit_cpuid(&vcpus[0], &(struct vm_exit){ .reason = EXIT_CPUID }), ACT_STOP);
	CHECK_EQ(fake_kills, 1);
	CHECK_EQ(fake_skipped, 0);
	CHECK_EQ(vcpus[0].gpr[RBX], 0x1234); /* registers untouched */
}

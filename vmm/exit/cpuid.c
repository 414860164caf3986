// SPDX-License-Identifier: MIT
/* CPUID exits: the host's answers, filtered to what the virtual platform provides, plus Keel's leaves. */
#include <arch/x86/cpu.h>
#include <arch/x86/tsc.h>
#include <keel/guest_walk.h>
#include <keel/spec.h>
#include <lib/string.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define LEAF_HV_BASE 0x40000000 /* hypervisor leaves, as Linux's detect_hypervisor reads them */
#define LEAF_HV_FEATURES 0x40000001
/* The de facto hypervisor timing leaf (VMware's, also read by FreeBSD): EAX TSC kHz, EBX APIC bus kHz. */
#define LEAF_HV_TIMING 0x40000010
#define VLAPIC_BUS_KHZ 1000000 /* vlapic.c's 1 GHz virtual bus */
#define KEEL_SIGNATURE "KeelKeelKeel"
#define C7_EBX_TSC_ADJUST BIT(1)
#define C7_EBX_ERMS BIT(9)
#define C7_EBX_INVPCID BIT(10)
#define C7_EDX_FSRM BIT(4)
#define C7_ECX_PKU BIT(3)
#define C7_ECX_OSPKE BIT(4)
#define LEAF_XSAVE 0xd
#define ANY_SUB 0xffffffffu

enum { EAX, EBX, ECX, EDX };

/*
 * The feature words Keel passes on from the host, and in each the bits it
 * offers: features whose instructions run in a guest as they are, or whose
 * MSRs and control bits Keel handles (msr.c, mtrr.c, the vLAPIC). Every other
 * bit of these words is cleared: a feature Keel cannot back (its MSRs would
 * #GP, its instructions #UD or reach the host's state) is not offered. Bit
 * names from SDM 2A CPUID (table 3-8 and the leaf 07H tables) and APM3
 * appendix E. "spec" bits are the speculation controls' (vmm/exit/spec.c,
 * security issue item 15): this table leaves them as they are.
 * tests/unit/vmm/test_exit_cpuid.c walks every offered bit against the MSRs
 * it implies.
 */
static const struct feature_word {
	u32 leaf, sub;
	u8 reg;
	u32 offered, spec;
} words[] = {
	/* SSE3 PCLMULQDQ SSSE3 FMA CX16 PCID SSE4.1 SSE4.2 x2APIC MOVBE POPCNT TSC-deadline
	 * AES XSAVE OSXSAVE AVX F16C RDRAND hypervisor; not: DTES64 MONITOR DS-CPL VMX SMX
	 * EIST TM2 CNXT-ID SDBG xTPR PDCM (IA32_PERF_CAPABILITIES) DCA */
	{ 1, ANY_SUB, ECX, BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | BIT(17) | GENMASK(31, 19),
	  0 },
	/* FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE-36 CLFSH MMX
	 * FXSR SSE SSE2 SS HTT; not: PSN DS ACPI (thermal MSRs) TM PBE */
	{ 1, ANY_SUB, EDX, GENMASK(9, 0) | GENMASK(17, 11) | BIT(19) | GENMASK(28, 23), 0 },
	/* FSGSBASE TSC_ADJUST BMI1 HLE AVX2 FDP_EXCPTN_ONLY SMEP BMI2 ERMS INVPCID RTM
	 * FPU CS/DS deprecated, AVX-512 F DQ IFMA PF ER CD BW VL, RDSEED ADX SMAP CLFLUSHOPT
	 * CLWB SHA; not: SGX, RDT-M (PQR MSRs), MPX (BNDCFGS), RDT-A, Intel PT */
	{ 7, 0, EBX,
	  (GENMASK(11, 0) & ~BIT(2)) | BIT(13) | (GENMASK(24, 16) & ~BIT(22)) | GENMASK(31, 26),
	  0 },
	/* PREFETCHWT1 AVX512_VBMI UMIP PKU OSPKE AVX512_VBMI2 GFNI VAES VPCLMULQDQ AVX512_VNNI
	 * AVX512_BITALG AVX512_VPOPCNTDQ LA57 RDPID CLDEMOTE MOVDIRI MOVDIR64B; not: WAITPKG
	 * (UMWAIT_CONTROL), CET_SS, TME, MAWAU, Key Locker, bus-lock detect, ENQCMD (PASID),
	 * SGX_LC, PKS (IA32_PKRS) */
	{ 7, 0, ECX,
	  GENMASK(4, 0) | (GENMASK(12, 6) & ~BIT(7)) | BIT(14) | BIT(16) | BIT(22) | BIT(25) |
		  BIT(27) | BIT(28),
	  0 },
	/* AVX512_4VNNIW AVX512_4FMAPS FSRM VP2INTERSECT MD_CLEAR RTM_ALWAYS_ABORT SERIALIZE
	 * hybrid TSXLDTRK AMX-BF16 AVX512_FP16 AMX-TILE AMX-INT8; not: SGX-KEYS, UINTR,
	 * SRBDS_CTRL (MCU_OPT_CTRL), TSX_FORCE_ABORT, PCONFIG, arch LBR, CET_IBT */
	{ 7, 0, EDX, GENMASK(4, 2) | BIT(8) | BIT(10) | BIT(11) | GENMASK(16, 14) | GENMASK(25, 22),
	  GENMASK(31, 26) },
	/* AVX-VNNI AVX512_BF16 CMPCCXADD fast zero MOVSB, short STOSB, short CMPSB WRMSRNS
	 * AMX-FP16 AVX-IFMA; not: FRED, LKGS, HRESET, LAM, MSRLIST */
	{ 7, 1, EAX, BIT(4) | BIT(5) | BIT(7) | GENMASK(12, 10) | BIT(19) | BIT(21) | BIT(23), 0 },
	{ 7, 1, EBX, 0, 0 }, /* not: PPIN */
	{ 7, 1, ECX, 0, 0 },
	/* AVX-VNNI-INT8 AVX-NE-CONVERT AMX-COMPLEX AVX-VNNI-INT16 PREFETCHI AVX10;
	 * not: UIRET_UIF, CET_SSS */
	{ 7, 1, EDX, BIT(4) | BIT(5) | BIT(8) | BIT(10) | BIT(14) | BIT(19), 0 },
	{ 7, 2, EDX, 0, ~0u },
	/* XSAVEOPT XSAVEC XGETBV with ECX 1; not: XSAVES (IA32_XSS), XFD (IA32_XFD) */
	{ LEAF_XSAVE, 1, EAX, GENMASK(2, 0), 0 },
	{ LEAF_XSAVE, 1, ECX, 0, 0 }, /* no supervisor state components */
	{ LEAF_XSAVE, 1, EDX, 0, 0 },
	/* LAHF CmpLegacy AltMovCr8 ABM SSE4A MisAlignSse 3DNowPrefetch OSVW XOP FMA4 TBM
	 * TopologyExtensions; not: SVM, ExtApicSpace, IBS, SKINIT, WDT, LWP, TCE (EFER.TCE),
	 * NodeId, the core, NB and LLC counters, DataBreakpointExtension, PerfTsc, MONITORX */
	{ 0x80000001, ANY_SUB, ECX,
	  BIT(0) | BIT(1) | GENMASK(9, 4) | BIT(11) | BIT(16) | BIT(21) | BIT(22), 0 },
	/* leaf 1's EDX bits again, SYSCALL NX MmxExt FFXSR Page1GB RDTSCP LM 3DNowExt 3DNow */
	{ 0x80000001, ANY_SUB, EDX,
	  GENMASK(9, 0) | GENMASK(17, 11) | BIT(20) | GENMASK(27, 22) | GENMASK(31, 29), 0 },
	/* invariant TSC only: no RAS, no power or frequency controls */
	{ 0x80000007, ANY_SUB, EBX, 0, 0 },
	{ 0x80000007, ANY_SUB, ECX, 0, 0 },
	{ 0x80000007, ANY_SUB, EDX, CPUID_80000007_EDX_INVARIANT_TSC, 0 },
	/* CLZERO RstrFpErrPtrs WBNOINVD EferLmsleUnsupported; not: IRPERF, INVLPGB, RDPRU,
	 * MBE, MCOMMIT, PPIN, CPPC */
	{ 0x80000008, ANY_SUB, EBX, BIT(0) | BIT(2) | BIT(9) | BIT(20),
	  GENMASK(19, 12) | (GENMASK(30, 24) & ~BIT(27)) },
	{ 0x80000008, ANY_SUB, EDX, 0, 0 }, /* INVLPGB and RDPRU limits */
	/* NoNestedDataBp, FsGsKernelGsBaseNonSerializing, LFENCE serializing,
	 * NullSelectClearsBase, NoSmmCtlMSR; not: SmmPgCfgLock, UpperAddressIgnore
	 * (EFER.UAIE), PrefetchCtlMsr, CpuidUserDis */
	{ 0x80000021, ANY_SUB, EAX, GENMASK(2, 0) | BIT(6) | BIT(9), BIT(8) | GENMASK(31, 27) },
	{ 0x80000021, ANY_SUB, EBX, 0, 0 },
	{ 0x80000021, ANY_SUB, ECX, 0, 0 },
};

/*
 * Leaves passed on from the host (through the table above and filter());
 * any other leaf below the host's maximum reads 0: topology, power, PMU
 * (0Ah: no virtual PMU, SDM 3B 20.2.1), RDT, SGX, PT, LBR, IBS, LWP... are
 * not virtualized. Nor are the clock leaves 15h and 16h (SDM 2A CPUID): they
 * describe the host's crystal and base frequency, while a vCPU's APIC timer
 * counts the vLAPIC's 1 GHz bus and its TSC runs at the rate Keel measured
 * (leaf 40000010h). Linux takes 15h as the TSC's known rate and never
 * checks it: Bochs' tigerlake says 2419.2 MHz for a TSC of about 100 MHz,
 * and set every TSC-deadline timer of the service VM 24 times too late.
 */
static const u32 host_leaves[] = {
	0,	    1,		2,	    4,		7,	    0xb,	0xd,
	0x18,	    0x1d,	0x1e,	    0x1f,	0x24,	    0x80000000, 0x80000001,
	0x80000002, 0x80000003, 0x80000004, 0x80000005, 0x80000006, 0x80000007, 0x80000008,
	0x80000019, 0x8000001a, 0x8000001d, 0x80000021,
};

static bool host_leaf(u32 leaf)
{
	for (u32 i = 0; i < ARRAY_SIZE(host_leaves); i++)
		if (host_leaves[i] == leaf)
			return true;
	return false;
}

static u32 *reg_of(struct cpuid_regs *r, u8 reg)
{
	return reg == EAX ? &r->eax : reg == EBX ? &r->ebx : reg == ECX ? &r->ecx : &r->edx;
}

static void mask_features(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	for (u32 i = 0; i < ARRAY_SIZE(words); i++) {
		const struct feature_word *w = &words[i];

		if (w->leaf == leaf && (w->sub == ANY_SUB || w->sub == sub))
			*reg_of(r, w->reg) &= w->offered | w->spec;
	}
}
#define LEAF4_CACHE_TYPE 0x1fu	  /* SDM 2A table 3-8: 0 = no more caches */
#define LEAF4_CORES (0x3fu << 26) /* EAX[31:26] */

static void leaf_1(struct vcpu *v, struct cpuid_regs *r)
{
	r->ebx = (r->ebx & 0xffff) | (v->vm->nr_vcpus << CPUID_1_EBX_COUNT_SHIFT) |
		 (v->id << CPUID_1_EBX_APIC_ID_SHIFT);
	r->ecx &= ~(u32)CPUID_1_ECX_OSXSAVE;
	/* the virtual LAPIC emulates x2APIC and the TSC-deadline timer whatever the CPU has */
	r->ecx |= CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE;
	if (vcpu_ops->get_reg(v, VCPU_CR4) & CR4_OSXSAVE)
		r->ecx |= CPUID_1_ECX_OSXSAVE; /* mirrors the guest's CR4, not the host's */
	r->edx |= CPUID_1_EDX_APIC;
}

static void leaf_7(struct vcpu *v, u32 sub, struct cpuid_regs *r)
{
	if (sub > 2) {
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	} else if (sub == 0) {
		r->ebx |= C7_EBX_TSC_ADJUST; /* msr.c keeps it, with the TSC offset */
		if (!(vcpu_guest_insns & GUEST_INSN_INVPCID))
			r->ebx &= ~(u32)C7_EBX_INVPCID;
		r->ecx &= ~(u32)C7_ECX_OSPKE;
		if ((r->ecx & C7_ECX_PKU) && (vcpu_ops->get_reg(v, VCPU_CR4) & CR4_PKE))
			r->ecx |= C7_ECX_OSPKE; /* the guest's CR4.PKE, as OSXSAVE */
		/* fast short REP MOV refines ERMS: Linux's memmove takes the one for the other */
		if (!(r->ebx & C7_EBX_ERMS))
			r->edx &= ~(u32)C7_EDX_FSRM;
	}
}

/* XSAVE components: the supervisor ones (IA32_XSS) are not offered (leaf 0Dh subleaf 1). */
static void leaf_xsave(u32 sub, struct cpuid_regs *r)
{
	struct cpuid_regs sup;

	if (sub < 2 || sub > 63)
		return;
	sup = host_cpuid(LEAF_XSAVE, 1);
	if ((sub < 32 ? sup.ecx >> sub : sup.edx >> (sub - 32)) & 1)
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
}

/* Bits of APIC ID that number the VM's vCPUs (IDs 0..n-1): ceil(log2(n)). */
static u32 id_bits(const struct vm *vm)
{
	return vm->nr_vcpus > 1 ? 32 - (u32)__builtin_clz(vm->nr_vcpus - 1) : 0;
}

/* x2APIC topology (SDM 2A CPUID leaf 0Bh): one thread per core, nr_vcpus cores. */
static void leaf_topology(struct vcpu *v, u32 sub, struct cpuid_regs *r)
{
	r->edx = v->id;
	if (sub == 0) {
		r->eax = 0;
		r->ebx = 1;
		r->ecx = 0x100;
	} else if (sub == 1) {
		r->eax = id_bits(v->vm);
		r->ebx = v->vm->nr_vcpus;
		r->ecx = 0x200 | sub;
	} else {
		r->eax = r->ebx = 0;
		r->ecx = sub;
	}
}

static void filter(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	if (!host_leaf(leaf)) {
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		return;
	}
	mask_features(leaf, sub, r);
	spec_cpuid(leaf, sub, r); /* of the speculation controls, those Keel backs */
	switch (leaf) {
	case 1:
		leaf_1(v, r);
		break;
	case 4: /* Intel: EAX[31:26] = addressable core IDs in the package - 1 */
		if (r->eax & LEAF4_CACHE_TYPE)
			r->eax = (r->eax & ~LEAF4_CORES) | (((1u << id_bits(v->vm)) - 1) << 26);
		break;
	case 7:
		leaf_7(v, sub, r);
		break;
	case LEAF_XSAVE:
		leaf_xsave(sub, r);
		break;
	case 0xb:
	case 0x1f:
		leaf_topology(v, sub, r);
		break;
	case 0x80000001:
		if (!(vcpu_guest_insns & GUEST_INSN_RDTSCP))
			r->edx &= ~(u32)CPUID_80000001_EDX_RDTSCP;
		break;
	case CPUID_LEAF_ADDR_SIZES: /* AMD: ECX[7:0] = cores - 1, ECX[15:12] = their APIC ID bits */
		r->ecx = (r->ecx & ~0xf0ffu) | id_bits(v->vm) << 12 | (v->vm->nr_vcpus - 1);
		break;
	}
}

enum exit_action exit_cpuid(struct vcpu *v, struct vm_exit *e)
{
	static const u8 op[] = { 0x0f, 0xa2 };
	u32 leaf = (u32)v->gpr[RAX], sub = (u32)v->gpr[RCX];
	u32 len = guest_insn_len(v, e, op, sizeof(op));
	struct cpuid_regs r;

	if (!len)
		return vcpu_kill(v, "CPUID exit, but no CPUID instruction at RIP");
	if (leaf == LEAF_HV_BASE) {
		r.eax = LEAF_HV_TIMING;
		memcpy(&r.ebx, KEEL_SIGNATURE, 4);
		memcpy(&r.ecx, KEEL_SIGNATURE + 4, 4);
		memcpy(&r.edx, KEEL_SIGNATURE + 8, 4);
	} else if (leaf == LEAF_HV_TIMING) {
		r = (struct cpuid_regs){ (u32)(tsc_hz() / 1000), VLAPIC_BUS_KHZ, 0, 0 };
	} else if (leaf >= LEAF_HV_FEATURES && leaf < 0x40010000) {
		r = (struct cpuid_regs){ 0, 0, 0, 0 };
	} else {
		r = host_cpuid(leaf, sub);
		filter(v, leaf, sub, &r);
	}
	v->gpr[RAX] = r.eax;
	v->gpr[RBX] = r.ebx;
	v->gpr[RCX] = r.ecx;
	v->gpr[RDX] = r.edx;
	vcpu_skip(v, len);
	return ACT_RESUME;
}

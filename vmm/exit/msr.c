// SPDX-License-Identifier: MIT
/*
 * RDMSR/WRMSR exits for the MSRs the permission map intercepts. Each MSR the
 * virtual platform knows has a handler; any other gets #GP, as on a CPU
 * without it, and is counted in its VM (keelctl info). MSRs that need no
 * virtualization (syscall, FS/GS bases, SYSENTER) are never intercepted and
 * do not come here. README.md, "What guests get", lists them all.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/tsc.h>
#include <keel/guest_walk.h>
#include <keel/log.h>
#include <keel/spec.h>
#include <keel/vcpu_run.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

#define MSR_TSC 0x10
#define MSR_PLATFORM_ID 0x17  /* SDM 4 table 2-2: read-only; bits 52:50 pick microcode, 0 here */
#define MSR_TSC_ADJUST 0x3b   /* SDM 3B 17.17.3 */
#define MSR_BIOS_SIGN_ID 0x8b /* SDM 4 table 2-2: microcode revision, 0 = none loaded */
#define MSR_PLATFORM_INFO 0xce
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MISC_ENABLE 0x1a0
/* SDM 4 table 2-2 IA32_MISC_ENABLE: fast-string operations enabled (the firmware's default), and
 * no BTS or PEBS (CPUID.1 hides DS) */
#define MISC_ENABLE_FAST_STRING BIT(0)
#define MISC_ENABLE_BTS_UNAVAILABLE BIT(11)
#define MISC_ENABLE_PEBS_UNAVAILABLE BIT(12)
#define MSR_AMD_SYSCFG 0xc0010010 /* APM2 7.9.1 */
#define MSR_AMD_HWCR 0xc0010015
#define MSR_AMD_OSVW_LEN 0xc0010140
#define MSR_AMD_OSVW_STATUS 0xc0010141
/*
 * Performance counters. Guests get no PMU (CPUID leaf 0Ah reads 0, AMD's
 * PerfCtrExtCore is clear), but OSes and test kernels touch the counters
 * anyway: like other hypervisors without a virtual PMU, Keel reads them as 0
 * and drops writes instead of a #GP.
 * Intel, SDM 3B 20.2.1-20.2.2: IA32_PMC0-7, IA32_PERFEVTSEL0-7,
 * IA32_FIXED_CTR0-3, IA32_FIXED_CTR_CTRL, IA32_PERF_GLOBAL_STATUS, _CTRL and
 * _OVF_CTRL. AMD, APM2 13.2.1-13.2.2: the legacy PerfEvtSel0-3 and
 * PerfCtr0-3, and the six extended PerfEvtSel/PerfCtr pairs.
 */
#define MSR_IA32_PMC0 0xc1
#define MSR_PERFEVTSEL0 0x186
#define MSR_FIXED_CTR0 0x309
#define MSR_FIXED_CTR_CTRL 0x38d /* then PERF_GLOBAL_STATUS, _CTRL, _OVF_CTRL */
#define MSR_AMD_PERF_LEGACY 0xc0010000
#define MSR_AMD_PERF_EXT 0xc0010200
#define PLATFORM_INFO_RATIO_SHIFT 8 /* SDM 4 table 2-25: max non-turbo ratio, 15:8, of 100 MHz */
#define BUS_100MHZ 100000000ULL
#define VENDOR_AUTH 0x68747541 /* "Auth"enticAMD */
#define VENDOR_HYGO 0x6f677948 /* "Hygo"nGenuine */

struct msr_handler {
	u32 msr, count; /* count MSRs from msr on (0: one) */
	int (*read)(struct vcpu *v, u32 msr, u64 *val);
	int (*write)(struct vcpu *v, u32 msr, u64 val);
};

static int read_zero(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = 0;
	return 0;
}

static int write_ignore(struct vcpu *v, u32 msr, u64 val)
{
	(void)v, (void)msr, (void)val;
	return 0;
}

/*
 * The guest's TSC is the host's plus tsc_offset. SDM 3B 17.17.3: a write to
 * the TSC adds what it moved the TSC by to IA32_TSC_ADJUST, and a write to
 * IA32_TSC_ADJUST moves the TSC by what it added.
 */
static int read_tsc(struct vcpu *v, u32 msr, u64 *val)
{
	*val = msr == MSR_TSC ? tsc_now() + v->tsc_offset : v->tsc_adjust;
	return 0;
}

static int write_tsc(struct vcpu *v, u32 msr, u64 val)
{
	u64 moved = msr == MSR_TSC ? val - (tsc_now() + v->tsc_offset) : val - v->tsc_adjust;

	v->tsc_offset += moved;
	v->tsc_adjust += moved;
	return 0;
}

/* SDM 4 table 2-25 MSR_PLATFORM_INFO: the TSC's rate in 100 MHz; no CPUID faulting, no turbo. */
static int read_platform_info(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = ((tsc_hz() + BUS_100MHZ / 2) / BUS_100MHZ & 0xff) << PLATFORM_INFO_RATIO_SHIFT;
	return 0;
}

/*
 * IA32_MISC_ENABLE as firmware leaves it, fast strings on. Read as off, Linux
 * (early_init_intel) clears ERMS but keeps FSRM, and its memmove, patched for
 * FSRM, has dropped the check for copies under 32 bytes in favour of ERMS's
 * REP MOVSB: such a copy went round the 32-byte loop until it ran off the end
 * of the kernel's mapping (the service VM on VT-x, at its first short printk
 * after the alternatives). The bit only says which copy routine pays; a
 * guest's REP MOVS runs as fast as the host's own setting allows.
 */
static int read_misc_enable(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAILABLE | MISC_ENABLE_PEBS_UNAVAILABLE;
	return 0;
}

/* SYSCFG (APM2 7.9.1) exists on AMD only: 0 there (no TOM2, no SME), and firmware's to set. */
static int read_syscfg(struct vcpu *v, u32 msr, u64 *val)
{
	u32 vendor = host_cpuid(0, 0).ebx;

	(void)v, (void)msr;
	if (vendor != VENDOR_AUTH && vendor != VENDOR_HYGO)
		return -ENOENT;
	*val = 0;
	return 0;
}

static int write_syscfg(struct vcpu *v, u32 msr, u64 val)
{
	u64 now;

	(void)val;
	return read_syscfg(v, msr, &now);
}

static int read_reg(struct vcpu *v, u32 msr, u64 *val)
{
	*val = vcpu_ops->get_reg(v, msr == MSR_EFER ? VCPU_EFER : VCPU_PAT);
	return 0;
}

/* SDM 3A 12.12.2: each PAT entry must name a memory type. */
static bool pat_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (u8)(pat >> (i * 8));

		if (!memtype_valid(t) && t != MEMTYPE_UC_MINUS)
			return false;
	}
	return true;
}

/* APM2 3.1.7: SCE, LME, NXE, FFXSR writable; LMA is read-only; LME fixed while paging. */
static bool efer_valid(struct vcpu *v, u64 val)
{
	u64 old = vcpu_ops->get_reg(v, VCPU_EFER);

	if (val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | BIT(14)))
		return false;
	if (((val ^ old) & EFER_LME) && (vcpu_ops->get_reg(v, VCPU_CR0) & CR0_PG))
		return false;
	return true;
}

static int write_reg(struct vcpu *v, u32 msr, u64 val)
{
	if (msr == MSR_PAT) {
		if (!pat_valid(val))
			return -EINVAL;
		vcpu_ops->set_reg(v, VCPU_PAT, val);
		return 0;
	}
	if (!efer_valid(v, val))
		return -EINVAL;
	val = (val & ~EFER_LMA) | (vcpu_ops->get_reg(v, VCPU_EFER) & EFER_LMA);
	vcpu_ops->set_reg(v, VCPU_EFER, val);
	return 0;
}

static int read_tsc_aux(struct vcpu *v, u32 msr, u64 *val)
{
	(void)msr;
	*val = v->tsc_aux;
	return 0;
}

static int write_tsc_aux(struct vcpu *v, u32 msr, u64 val)
{
	(void)msr;
	if (val >> 32)
		return -EINVAL; /* SDM 2B RDTSCP: bits 63:32 are reserved */
	v->tsc_aux = val;	/* loaded into the CPU before the next entry */
	return 0;
}

static int read_vm_cr(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = VM_CR_LOCK | VM_CR_SVMDIS; /* SVM: disabled, and firmware locked it */
	return 0;
}

static const struct msr_handler msrs[] = {
	{ MSR_TSC, 0, read_tsc, write_tsc },
	{ MSR_PLATFORM_ID, 0, read_zero, NULL }, /* OVMF's microcode lookup reads it on Intel */
	{ MSR_TSC_ADJUST, 0, read_tsc, write_tsc },
	{ MSR_BIOS_SIGN_ID, 0, read_zero, write_ignore }, /* Linux's early_init_intel writes it */
	{ MSR_IA32_PMC0, 8, read_zero, write_ignore },
	{ MSR_PLATFORM_INFO, 0, read_platform_info, NULL },
	{ MSR_MCG_CAP, 0, read_zero, NULL },
	{ MSR_MCG_STATUS, 0, read_zero, write_ignore },
	{ MSR_PERFEVTSEL0, 8, read_zero, write_ignore },
	/* IA32_MISC_ENABLE: Linux's verify_cpu and early_init_intel read it on Intel */
	{ MSR_MISC_ENABLE, 0, read_misc_enable, write_ignore },
	{ MSR_PAT, 0, read_reg, write_reg },
	{ MSR_FIXED_CTR0, 4, read_zero, write_ignore },
	{ MSR_FIXED_CTR_CTRL, 4, read_zero, write_ignore },
	{ MSR_EFER, 0, read_reg, write_reg },
	{ MSR_TSC_AUX, 0, read_tsc_aux, write_tsc_aux },
	{ MSR_AMD_PERF_LEGACY, 8, read_zero, write_ignore },
	{ MSR_AMD_SYSCFG, 0, read_syscfg, write_syscfg },
	{ MSR_AMD_HWCR, 0, read_zero, write_ignore },
	{ MSR_VM_CR, 0, read_vm_cr, NULL },
	{ MSR_AMD_OSVW_LEN, 0, read_zero, write_ignore },
	{ MSR_AMD_OSVW_STATUS, 0, read_zero, write_ignore },
	{ MSR_AMD_PERF_EXT, 12, read_zero, write_ignore },
};

/* The MSRs and ports a guest tried that Keel has not (keelctl info): counts and the first few. */
static void note_unknown(struct vm *vm, u32 msr, bool write)
{
	__atomic_fetch_add(write ? &vm->unknown.msr_writes : &vm->unknown.msr_reads, 1,
			   __ATOMIC_RELAXED);
	vm_note_first(vm->unknown.msrs, ARRAY_SIZE(vm->unknown.msrs), msr);
}

static int msr_access(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	int ret = spec_msr(v, msr, write, val);

	if (ret != -ENOENT)
		return ret;
	for (u32 i = 0; i < ARRAY_SIZE(msrs); i++) {
		if (msr - msrs[i].msr >= (msrs[i].count ? msrs[i].count : 1))
			continue;
		if (write)
			return msrs[i].write ? msrs[i].write(v, msr, *val) : -EPERM;
		return msrs[i].read(v, msr, val);
	}
	if (mtrr_owns_msr(msr))
		return write ? mtrr_write(v, msr, *val) : mtrr_read(v, msr, val);
	if (vlapic_owns_msr(msr))
		return write ? vlapic_msr_write(v, msr, *val) : vlapic_msr_read(v, msr, val);
	return -ENOENT;
}

static enum exit_action msr_exit(struct vcpu *v, struct vm_exit *e, bool write)
{
	static const u8 rd[] = { 0x0f, 0x32 }, wr[] = { 0x0f, 0x30 };
	u32 msr = (u32)v->gpr[RCX];
	u32 len = guest_insn_len(v, e, write ? wr : rd, 2);
	u64 val = (v->gpr[RDX] << 32) | (u32)v->gpr[RAX];
	int ret;

	if (!len)
		return vcpu_kill(v, "MSR exit, but no RDMSR/WRMSR at RIP");
	ret = msr_access(v, msr, write, &val);
	if (ret == -ENOENT)
		note_unknown(v->vm, msr, write);
	if (ret) {
		pr_debug("vm %s: %s of MSR 0x%x refused with #GP", v->vm->name,
			 write ? "write" : "read", msr);
		vcpu_inject_gp(v);
		return ACT_RESUME;
	}
	if (!write) {
		v->gpr[RAX] = (u32)val;
		v->gpr[RDX] = val >> 32;
	}
	vcpu_skip(v, len);
	return ACT_RESUME;
}

enum exit_action exit_msr_read(struct vcpu *v, struct vm_exit *e)
{
	return msr_exit(v, e, false);
}

enum exit_action exit_msr_write(struct vcpu *v, struct vm_exit *e)
{
	return msr_exit(v, e, true);
}

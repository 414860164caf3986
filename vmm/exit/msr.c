// SPDX-License-Identifier: MIT
/*
 * RDMSR/WRMSR exits for the MSRs the permission map intercepts. Each MSR the
 * virtual platform knows has a handler; any other gets #GP, as on a CPU
 * without it. MSRs that need no virtualization (syscall, FS/GS bases,
 * SYSENTER) are never intercepted and do not come here.
 */
#include <arch/x86/cpu.h>
#include <keel/guest_walk.h>
#include <keel/log.h>
#include <keel/spec.h>
#include <keel/vcpu_run.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

#define MSR_TSC 0x10
#define MSR_BIOS_SIGN_ID 0x8b /* SDM 4 table 2-2: microcode revision, 0 = none loaded */
#define MSR_MTRR_CAP 0xfe
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_AMD_HWCR 0xc0010015
#define MSR_AMD_OSVW_LEN 0xc0010140
#define MSR_AMD_OSVW_STATUS 0xc0010141
#define MTRR_DEF_TYPE_FE BIT(10) /* SDM 3A 12.11.2.1 */
#define MTRR_DEF_TYPE_E BIT(11)

struct msr_handler {
	u32 msr;
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

static int read_tsc(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = rdtsc();
	return 0;
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

static int read_mtrr_def(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = MTRR_DEF_TYPE_E | MTRR_DEF_TYPE_FE | MEMTYPE_WB;
	return 0;
}

static int read_vm_cr(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr;
	*val = VM_CR_LOCK | VM_CR_SVMDIS; /* SVM: disabled, and firmware locked it */
	return 0;
}

static const struct msr_handler msrs[] = {
	{ MSR_TSC, read_tsc, write_ignore },
	{ MSR_BIOS_SIGN_ID, read_zero, write_ignore }, /* Linux's early_init_intel writes it */
	{ MSR_MTRR_CAP, read_zero, NULL },
	{ MSR_MCG_CAP, read_zero, NULL },
	{ MSR_MCG_STATUS, read_zero, write_ignore },
	/* IA32_MISC_ENABLE: Linux's verify_cpu reads it on Intel */
	{ 0x1a0, read_zero, write_ignore },
	{ MSR_PAT, read_reg, write_reg },
	{ MSR_MTRR_DEF_TYPE, read_mtrr_def, write_ignore },
	{ MSR_EFER, read_reg, write_reg },
	{ MSR_TSC_AUX, read_tsc_aux, write_tsc_aux },
	{ MSR_AMD_HWCR, read_zero, write_ignore },
	{ MSR_VM_CR, read_vm_cr, NULL },
	{ MSR_AMD_OSVW_LEN, read_zero, write_ignore },
	{ MSR_AMD_OSVW_STATUS, read_zero, write_ignore },
};

static int msr_access(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	int ret = spec_msr(v, msr, write, val);

	if (ret != -ENOENT)
		return ret;
	for (u32 i = 0; i < ARRAY_SIZE(msrs); i++) {
		if (msrs[i].msr != msr)
			continue;
		if (write)
			return msrs[i].write ? msrs[i].write(v, msr, *val) : -EPERM;
		return msrs[i].read(v, msr, val);
	}
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

	if (!len)
		return vcpu_kill(v, "MSR exit, but no RDMSR/WRMSR at RIP");
	if (msr_access(v, msr, write, &val)) {
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

// SPDX-License-Identifier: MIT
/*
 * The MTRRs a guest programs (SDM 3A 12.11): IA32_MTRRCAP, the default type,
 * eight variable ranges and the eleven fixed-range MSRs, each vCPU's own.
 * Writes are checked as the CPU checks them (an undefined memory type or a
 * reserved bit is a #GP) and read back as written. They describe memory to
 * the guest only: Keel maps guest RAM write-back whatever they say, as the
 * guest's PAT and page tables still choose the type it gets.
 */
#include <arch/x86/cpu.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define MSR_MTRR_CAP 0xfe
#define MSR_MTRR_PHYS_BASE0 0x200 /* PhysBase n at 0x200 + 2n, PhysMask n at 0x201 + 2n */
#define MSR_MTRR_FIX_64K 0x250
#define MSR_MTRR_FIX_16K 0x258 /* 0x258, 0x259 */
#define MSR_MTRR_FIX_4K 0x268  /* 0x268 - 0x26f */
#define MSR_MTRR_DEF_TYPE 0x2ff
/* IA32_MTRRCAP (SDM 3A 12.11.1): VCNT in 7:0, FIX bit 8, WC bit 10; no SMRR */
#define MTRR_CAP_FIX BIT(8)
#define MTRR_CAP_WC BIT(10)
#define MTRR_CAP (VCPU_MTRR_VAR | MTRR_CAP_FIX | MTRR_CAP_WC)
/* IA32_MTRR_DEF_TYPE (12.11.2.1): type 7:0, FE bit 10, E bit 11, the rest reserved */
#define MTRR_DEF_FE BIT(10)
#define MTRR_DEF_E BIT(11)
#define MTRR_DEF_RESERVED (~0xffULL & ~(u64)(MTRR_DEF_FE | MTRR_DEF_E))
#define MTRR_TYPE_WB 6
/* Until the guest writes them: MTRRs on, write-back below and above 1 MiB (what firmware sets). */
#define MTRR_DEF_RESET (MTRR_DEF_E | MTRR_DEF_FE | MTRR_TYPE_WB)
#define MTRR_FIXED_RESET 0x0606060606060606ULL
/* IA32_MTRR_PHYSBASEn bits 11:8 and IA32_MTRR_PHYSMASKn bits 10:0 are reserved (12.11.2.3) */
#define MTRR_BASE_RESERVED 0xf00ULL
#define MTRR_MASK_RESERVED 0x7ffULL
#define CPUID_EXT_MAX 0x80000000
#define CPUID_ADDR_SIZES 0x80000008
#define MAXPHYADDR_DEFAULT 36 /* SDM 3A 4.1.4: without leaf 80000008h */

void mtrr_reset(struct vcpu *v)
{
	v->mtrr.def_type = MTRR_DEF_RESET;
	for (u32 i = 0; i < ARRAY_SIZE(v->mtrr.fixed); i++)
		v->mtrr.fixed[i] = MTRR_FIXED_RESET;
	for (u32 i = 0; i < ARRAY_SIZE(v->mtrr.var); i++)
		v->mtrr.var[i] = 0;
}

/* SDM 3A table 12-8: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB; 2, 3 and 7 and up are undefined (#GP). */
static bool type_valid(u64 t)
{
	return t == 0 || t == 1 || (t >= 4 && t <= 6);
}

/* Bits at or above MAXPHYADDR, as the guest sees it in CPUID 80000008h. */
static u64 above_maxphyaddr(void)
{
	u32 bits = MAXPHYADDR_DEFAULT;

	if (host_cpuid(CPUID_EXT_MAX, 0).eax >= CPUID_ADDR_SIZES)
		bits = host_cpuid(CPUID_ADDR_SIZES, 0).eax & 0xff;
	return bits >= 64 ? 0 : ~0ULL << bits;
}

/* The fixed-range MSR's index in vcpu_mtrr.fixed, or -1. */
static int fixed_index(u32 msr)
{
	if (msr == MSR_MTRR_FIX_64K)
		return 0;
	if (msr - MSR_MTRR_FIX_16K < 2)
		return 1 + (int)(msr - MSR_MTRR_FIX_16K);
	if (msr - MSR_MTRR_FIX_4K < 8)
		return 3 + (int)(msr - MSR_MTRR_FIX_4K);
	return -1;
}

bool mtrr_owns_msr(u32 msr)
{
	return msr == MSR_MTRR_CAP || msr == MSR_MTRR_DEF_TYPE ||
	       msr - MSR_MTRR_PHYS_BASE0 < 2 * VCPU_MTRR_VAR || fixed_index(msr) >= 0;
}

int mtrr_read(struct vcpu *v, u32 msr, u64 *val)
{
	int fixed = fixed_index(msr);

	if (msr == MSR_MTRR_CAP)
		*val = MTRR_CAP;
	else if (msr == MSR_MTRR_DEF_TYPE)
		*val = v->mtrr.def_type;
	else if (fixed >= 0)
		*val = v->mtrr.fixed[fixed];
	else
		*val = v->mtrr.var[msr - MSR_MTRR_PHYS_BASE0];
	return 0;
}

static bool fixed_valid(u64 val)
{
	for (u32 i = 0; i < 8; i++)
		if (!type_valid((val >> (i * 8)) & 0xff))
			return false;
	return true;
}

int mtrr_write(struct vcpu *v, u32 msr, u64 val)
{
	int fixed = fixed_index(msr);
	u32 var = msr - MSR_MTRR_PHYS_BASE0;

	if (msr == MSR_MTRR_CAP)
		return -EPERM; /* read-only */
	if (msr == MSR_MTRR_DEF_TYPE) {
		if ((val & MTRR_DEF_RESERVED) || !type_valid(val & 0xff))
			return -EINVAL;
		v->mtrr.def_type = val;
	} else if (fixed >= 0) {
		if (!fixed_valid(val))
			return -EINVAL;
		v->mtrr.fixed[fixed] = val;
	} else if (var % 2 == 0) { /* PhysBase */
		if ((val & (MTRR_BASE_RESERVED | above_maxphyaddr())) || !type_valid(val & 0xff))
			return -EINVAL;
		v->mtrr.var[var] = val;
	} else { /* PhysMask */
		if (val & (MTRR_MASK_RESERVED | above_maxphyaddr()))
			return -EINVAL;
		v->mtrr.var[var] = val;
	}
	return 0;
}

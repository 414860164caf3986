// SPDX-License-Identifier: MIT
/*
 * Speculation controls. A guest sees a CPUID speculation bit only where the
 * host has it and Keel backs what it promises: IA32_SPEC_CTRL is the
 * vCPU's own (written through an exit, loaded on its CPU before it runs,
 * read directly where the host has the MSR), its IBPB, SBPB and L1D flush
 * commands reach the CPU, IA32_ARCH_CAPABILITIES reads as the host's
 * "not affected" facts. Between vCPUs of two VMs a CPU gets an IBPB; the
 * return stack is refilled after every exit (RSB_FILL, arch/x86/rsb.h).
 */
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <keel/spec.h>
#include <keel/vcpu.h>

/* IA32_SPEC_CTRL bits (SDM 4 table 2-2; AMD's IBRS, STIBP, SSBD, PSFD are the same bits) */
#define SPEC_CTRL_IBRS BIT(0)
#define SPEC_CTRL_STIBP BIT(1)
#define SPEC_CTRL_SSBD BIT(2)
#define SPEC_CTRL_IPRED_DIS (BIT(3) | BIT(4)) /* user, supervisor */
#define SPEC_CTRL_RRSBA_DIS (BIT(5) | BIT(6))
#define SPEC_CTRL_PSFD BIT(7)
#define SPEC_CTRL_DDPD_U BIT(8)
#define SPEC_CTRL_BHI_DIS_S BIT(10)

/*
 * IA32_ARCH_CAPABILITIES bits that state a fact about the CPU ("not
 * affected by...", "VERW clears..."), passed on; the others name an MSR
 * Keel does not give guests (TSX_CTRL, MCU and package controls, DOITM,
 * GDS_CTRL...) or promise an L1D flush on VM entry Keel does not make.
 */
#define ARCH_CAPS_FACTS                                                                           \
	(BIT(0) /* RDCL_NO */ | BIT(1) /* IBRS_ALL */ | BIT(2) /* RSBA */ | BIT(4) /* SSB_NO */ | \
	 BIT(5) /* MDS_NO */ | BIT(6) /* IF_PSCHANGE_MC_NO */ | BIT(8) /* TAA_NO */ |             \
	 BIT(13) /* SBDR_SSDP_NO */ | BIT(14) /* FBSDP_NO */ | BIT(15) /* PSDP_NO */ |            \
	 BIT(17) /* FB_CLEAR */ | BIT(19) /* RRSBA */ | BIT(20) /* BHI_NO */ |                    \
	 BIT(24) /* PBRSB_NO */ | BIT(26) /* GDS_NO */ | BIT(27) /* RFDS_NO */ |                  \
	 BIT(28) /* RFDS_CLEAR */)

enum spec_word { LEAF7_EDX, LEAF7_2_EDX, EXT8_EBX, EXT21_EAX, SPEC_WORDS };

/*
 * The speculation bits of each CPUID word (SDM 2A table 3-8, APM3 appendix
 * E): Keel decides about these; the other bits of the word pass as they are.
 */
static const u32 spec_bits[SPEC_WORDS] = {
	[LEAF7_EDX] = GENMASK(31, 26), /* IBRS_IBPB .. SSBD */
	[LEAF7_2_EDX] = GENMASK(4, 0), /* PSFD, IPRED, RRSBA, DDPD_U, BHI_CTRL */
	[EXT8_EBX] = BIT(12) | BIT(14) | BIT(15) | BIT(24) | BIT(25) | BIT(28),
	[EXT21_EAX] = BIT(8) | BIT(27) | BIT(31), /* AutoIBRS, SBPB, SRSO_MSR_FIX */
};

/* What each bit Keel can back brings with it. */
static const struct spec_feature {
	u8 word, bit;
	u64 spec_ctrl, pred_cmd;
} features[] = {
	{ LEAF7_EDX, 26, SPEC_CTRL_IBRS, PRED_CMD_IBPB },
	{ LEAF7_EDX, 27, SPEC_CTRL_STIBP, 0 },
	{ LEAF7_EDX, 31, SPEC_CTRL_SSBD, 0 },
	{ LEAF7_2_EDX, 0, SPEC_CTRL_PSFD, 0 },
	{ LEAF7_2_EDX, 1, SPEC_CTRL_IPRED_DIS, 0 },
	{ LEAF7_2_EDX, 2, SPEC_CTRL_RRSBA_DIS, 0 },
	{ LEAF7_2_EDX, 3, SPEC_CTRL_DDPD_U, 0 },
	{ LEAF7_2_EDX, 4, SPEC_CTRL_BHI_DIS_S, 0 },
	{ EXT8_EBX, 12, 0, PRED_CMD_IBPB },
	{ EXT8_EBX, 14, SPEC_CTRL_IBRS, 0 },
	{ EXT8_EBX, 15, SPEC_CTRL_STIBP, 0 },
	{ EXT8_EBX, 24, SPEC_CTRL_SSBD, 0 },
	{ EXT8_EBX, 28, SPEC_CTRL_PSFD, 0 },
	{ EXT21_EAX, 27, 0, PRED_CMD_SBPB },
};
#define LEAF7_L1D_FLUSH BIT(28)
#define LEAF7_ARCH_CAPS BIT(29)

struct spec_host spec_host;

static void host_words(u32 w[SPEC_WORDS])
{
	u32 max = host_cpuid(0, 0).eax, ext_max = host_cpuid(0x80000000, 0).eax;
	struct cpuid_regs l7 = max >= 7 ? host_cpuid(7, 0) : (struct cpuid_regs){ 0, 0, 0, 0 };

	w[LEAF7_EDX] = l7.edx;
	w[LEAF7_2_EDX] = l7.eax >= 2 ? host_cpuid(7, 2).edx : 0;
	w[EXT8_EBX] = ext_max >= 0x80000008 ? host_cpuid(0x80000008, 0).ebx : 0;
	w[EXT21_EAX] = ext_max >= 0x80000021 ? host_cpuid(0x80000021, 0).eax : 0;
}

void spec_init(void)
{
	struct spec_host h = { 0 };
	u32 w[SPEC_WORDS], offer[SPEC_WORDS] = { 0 };

	host_words(w);
	for (u32 i = 0; i < ARRAY_SIZE(features); i++) {
		const struct spec_feature *f = &features[i];

		if (!(w[f->word] & BIT(f->bit)))
			continue;
		h.spec_ctrl |= f->spec_ctrl;
		h.pred_cmd |= f->pred_cmd;
		offer[f->word] |= BIT(f->bit);
	}
	h.flush_l1d = w[LEAF7_EDX] & LEAF7_L1D_FLUSH;
	h.arch_caps = w[LEAF7_EDX] & LEAF7_ARCH_CAPS;
	offer[LEAF7_EDX] |= w[LEAF7_EDX] & (LEAF7_L1D_FLUSH | LEAF7_ARCH_CAPS);
	if (h.arch_caps)
		h.arch_caps_value = host_rdmsr(MSR_ARCH_CAPABILITIES) & ARCH_CAPS_FACTS;
	h.leaf7_edx = offer[LEAF7_EDX];
	h.leaf7_2_edx = offer[LEAF7_2_EDX];
	h.ext8_ebx = offer[EXT8_EBX];
	h.ext21_eax = offer[EXT21_EAX];
	spec_host = h;
}

void spec_cpuid(u32 leaf, u32 subleaf, struct cpuid_regs *r)
{
	if (leaf == 7 && subleaf == 0)
		r->edx &= ~spec_bits[LEAF7_EDX] | spec_host.leaf7_edx;
	else if (leaf == 7 && subleaf == 2)
		r->edx &= ~spec_bits[LEAF7_2_EDX] | spec_host.leaf7_2_edx;
	else if (leaf == 0x80000008)
		r->ebx &= ~spec_bits[EXT8_EBX] | spec_host.ext8_ebx;
	else if (leaf == 0x80000021)
		r->eax &= ~spec_bits[EXT21_EAX] | spec_host.ext21_eax;
}

/* A write-only command MSR: the bits the host takes go to the CPU at once. */
static int command(u32 msr, u64 allowed, bool write, u64 val)
{
	if (!write || !allowed)
		return -EPERM; /* reading a command MSR faults, as on the CPU */
	if (val & ~allowed)
		return -EINVAL;
	if (val)
		host_wrmsr(msr, val);
	return 0;
}

int spec_msr(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	switch (msr) {
	case MSR_SPEC_CTRL:
		if (!spec_host.spec_ctrl)
			return -EPERM;
		if (!write) {
			*val = v->spec_ctrl;
			return 0;
		}
		if (*val & ~spec_host.spec_ctrl)
			return -EINVAL;
		v->spec_ctrl = *val; /* in the CPU before the next entry: spec_enter() */
		return 0;
	case MSR_PRED_CMD:
		return command(MSR_PRED_CMD, spec_host.pred_cmd, write, *val);
	case MSR_FLUSH_CMD:
		return command(MSR_FLUSH_CMD, spec_host.flush_l1d ? FLUSH_CMD_L1D : 0, write, *val);
	case MSR_ARCH_CAPABILITIES:
		if (write || !spec_host.arch_caps)
			return -EPERM;
		*val = spec_host.arch_caps_value;
		return 0;
	default:
		return -ENOENT;
	}
}

void spec_enter(struct vcpu *v, struct percpu *pc)
{
	/* another VM's branch predictions must not steer this one (nor the other way) */
	if (pc->spec_last_vm != v->vm) {
		if (spec_host.pred_cmd & PRED_CMD_IBPB)
			host_wrmsr(MSR_PRED_CMD, PRED_CMD_IBPB);
		pc->spec_last_vm = v->vm;
	}
	/* Keel's own code needs none of its bits: a guest's value stays until the next guest's */
	if (spec_host.spec_ctrl && (!pc->spec_ctrl_known || pc->spec_ctrl != v->spec_ctrl)) {
		host_wrmsr(MSR_SPEC_CTRL, v->spec_ctrl);
		pc->spec_ctrl = v->spec_ctrl;
		pc->spec_ctrl_known = true;
	}
}

void spec_forget_vm(struct vm *vm)
{
	for (u32 c = 0; c < nr_cpus; c++)
		if (cpus[c])
			__atomic_compare_exchange_n(&cpus[c]->spec_last_vm, &(void *){ vm }, NULL,
						    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

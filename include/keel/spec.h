/* SPDX-License-Identifier: MIT */
/* Speculation controls: what guests see of them (CPUID, MSRs) and what Keel does between guests. */
#ifndef KEEL_SPEC_H
#define KEEL_SPEC_H

#include <lib/types.h>

struct cpuid_regs;
struct percpu;
struct vcpu;
struct vm;

/* SDM 4 table 2-2; AMD, "Indirect Branch Control Extension" and APM2 appendix A */
#define MSR_SPEC_CTRL 0x48
#define MSR_PRED_CMD 0x49
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_FLUSH_CMD 0x10b
#define PRED_CMD_IBPB BIT(0)
#define PRED_CMD_SBPB BIT(7) /* AMD: IBPB without the return predictions */
#define FLUSH_CMD_L1D BIT(0)

/* What the host CPU has, found once at boot from its CPUID (and IA32_ARCH_CAPABILITIES). */
struct spec_host {
	u64 spec_ctrl;	/* the bits of IA32_SPEC_CTRL it has; 0: no such MSR */
	u64 pred_cmd;	/* the commands of IA32_PRED_CMD it takes; 0: no such MSR */
	bool flush_l1d; /* IA32_FLUSH_CMD */
	bool arch_caps; /* IA32_ARCH_CAPABILITIES, which guests read as arch_caps_value */
	u64 arch_caps_value;
	/* the speculation bits guests see in each CPUID word Keel filters: those it backs */
	u32 leaf7_edx, leaf7_2_edx, ext8_ebx, ext21_eax;
};
extern struct spec_host spec_host;

/* Reads the host's controls; before any vCPU runs. */
void spec_init(void);
/* Clears the speculation bits of a host CPUID answer that Keel does not back. */
void spec_cpuid(u32 leaf, u32 subleaf, struct cpuid_regs *r);
/* IA32_SPEC_CTRL, PRED_CMD, FLUSH_CMD, ARCH_CAPABILITIES; -ENOENT for any other MSR, <0: #GP. */
int spec_msr(struct vcpu *v, u32 msr, bool write, u64 *val);
/* Before each entry of v on CPU pc: IBPB if the CPU last ran another VM, v's own SPEC_CTRL. */
void spec_enter(struct vcpu *v, struct percpu *pc);
/* vm's memory goes: a VM made later at its address is another VM (its first entry gets an IBPB). */
void spec_forget_vm(struct vm *vm);

#endif

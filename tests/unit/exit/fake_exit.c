// SPDX-License-Identifier: MIT
/* Host stand-ins for what an exit handler reaches: the backend's registers, RIP's instruction, #GP. */
#include <arch/x86/cpu.h>
#include <keel/guest_walk.h>
#include <keel/spec.h>
#include "fake_exit.h"
#include "test.h"

u64 fake_regs[VCPU_REG_COUNT];
struct vcpu_segment fake_segs[SEG_IDTR + 1];
u32 fake_insn_len;
u8 fake_insn_opcode[2];
u32 fake_gps, fake_kills;
u64 fake_skipped;
struct cpuid_regs (*fake_cpuid)(u32 leaf, u32 subleaf);
u32 vcpu_guest_insns;

/* The host CPU's CPUID: this machine's unless a test plays another (arch/x86/host_cpu.c in Keel). */
struct cpuid_regs host_cpuid(u32 leaf, u32 subleaf)
{
	return fake_cpuid ? fake_cpuid(leaf, subleaf) : cpuid_count(leaf, subleaf);
}

static u64 get_reg(struct vcpu *v, enum vcpu_reg r)
{
	(void)v;
	return fake_regs[r];
}

static void set_reg(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	(void)v;
	fake_regs[r] = val;
}

static void get_seg(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *out)
{
	(void)v;
	*out = fake_segs[s];
}

static const struct vcpu_ops fake_ops = {
	.name = "fake", .get_reg = get_reg, .set_reg = set_reg, .get_seg = get_seg
};
const struct vcpu_ops *vcpu_ops = &fake_ops;

void fake_exit_reset(void)
{
	memset(fake_regs, 0, sizeof(fake_regs));
	memset(fake_segs, 0, sizeof(fake_segs));
	memset(fake_insn_opcode, 0, sizeof(fake_insn_opcode));
	fake_insn_len = 2;
	fake_gps = fake_kills = 0;
	fake_skipped = 0;
	fake_cpuid = NULL;
	vcpu_guest_insns = GUEST_INSN_RDTSCP | GUEST_INSN_INVPCID;
}

u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen)
{
	(void)v, (void)e;
	CHECK_EQ(oplen, 2);
	memcpy(fake_insn_opcode, opcode, 2);
	return fake_insn_len;
}

enum exit_action vcpu_kill(struct vcpu *v, const char *fmt, ...)
{
	(void)v, (void)fmt;
	fake_kills++;
	return ACT_STOP;
}

void vcpu_inject_gp(struct vcpu *v)
{
	(void)v;
	fake_gps++;
}

void vcpu_skip(struct vcpu *v, u32 len)
{
	(void)v;
	fake_skipped += len;
	fake_regs[VCPU_RIP] += len;
}

/* The speculation controls (vmm/exit/spec.c) are test_spec's: here they change no CPUID word and claim no MSR. */
void spec_cpuid(u32 leaf, u32 subleaf, struct cpuid_regs *r)
{
	(void)leaf, (void)subleaf, (void)r;
}

int spec_msr(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	(void)v, (void)msr, (void)write, (void)val;
	return -ENOENT;
}

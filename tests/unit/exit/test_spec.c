// SPDX-License-Identifier: MIT
/*
 * Unit tests for the speculation controls guests see (vmm/exit/spec.c through
 * the CPUID and MSR exits of vmm/exit/cpuid.c and msr.c) and for what Keel
 * does between guests. The test plays the host CPU: its CPUID answers, and
 * which MSR writes it would take or fault on. A table says which MSR access
 * each CPUID speculation bit promises; for every host the test builds, every
 * bit Keel offers must be one the host has, and the access it promises must
 * work in the guest. So a bit Keel cannot back must be cleared.
 */
#include "test.h"
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <keel/guest_walk.h>
#include <keel/spec.h>
#include <keel/vcpu_run.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <stdlib.h>

enum reg { EAX, EBX, ECX, EDX };

/* --- the host CPU --- */

static struct {
	u32 l7_edx, l7_2_edx, e8_ebx, e21_eax; /* the speculation words of its CPUID */
	u64 arch_caps;			       /* IA32_ARCH_CAPABILITIES */
	u64 spec_ctrl;			       /* IA32_SPEC_CTRL as it holds it now */
	int ibpb, sbpb, l1d_flush, spec_ctrl_writes;
	char bad[200]; /* an MSR access this CPU would have faulted on, in the hypervisor */
} cpu;

/* Which bits of IA32_SPEC_CTRL and IA32_PRED_CMD this CPU has (SDM 4 table 2-2, AMD's IBC white paper). */
static u64 cpu_spec_ctrl_bits(void)
{
	u64 b = 0;

	b |= (cpu.l7_edx & BIT(26)) || (cpu.e8_ebx & BIT(14)) ? BIT(0) : 0;  /* IBRS */
	b |= (cpu.l7_edx & BIT(27)) || (cpu.e8_ebx & BIT(15)) ? BIT(1) : 0;  /* STIBP */
	b |= (cpu.l7_edx & BIT(31)) || (cpu.e8_ebx & BIT(24)) ? BIT(2) : 0;  /* SSBD */
	b |= (cpu.l7_2_edx & BIT(1)) ? BIT(3) | BIT(4) : 0;		     /* IPRED_DIS_U/S */
	b |= (cpu.l7_2_edx & BIT(2)) ? BIT(5) | BIT(6) : 0;		     /* RRSBA_DIS_U/S */
	b |= (cpu.l7_2_edx & BIT(0)) || (cpu.e8_ebx & BIT(28)) ? BIT(7) : 0; /* PSFD */
	b |= (cpu.l7_2_edx & BIT(3)) ? BIT(8) : 0;			     /* DDPD_U */
	b |= (cpu.l7_2_edx & BIT(4)) ? BIT(10) : 0;			     /* BHI_DIS_S */
	return b;
}

static u64 cpu_pred_cmd_bits(void)
{
	return ((cpu.l7_edx & BIT(26)) || (cpu.e8_ebx & BIT(12)) ? BIT(0) : 0) |
	       ((cpu.e21_eax & BIT(27)) ? BIT(7) : 0);
}

struct cpuid_regs host_cpuid(u32 leaf, u32 sub)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (leaf == 0)
		r.eax = 0x20;
	else if (leaf == 7 && sub == 0)
		r = (struct cpuid_regs){ 2, 0xffffffff, 0xffffffff, cpu.l7_edx };
	else if (leaf == 7 && sub == 2)
		r.edx = cpu.l7_2_edx;
	else if (leaf == 0x80000000)
		r.eax = 0x80000021;
	else if (leaf == 0x80000008)
		r = (struct cpuid_regs){ 0x3030, cpu.e8_ebx, 0, 0 };
	else if (leaf == 0x80000021)
		r.eax = cpu.e21_eax;
	return r;
}

static void cpu_fault(const char *what, u32 msr, u64 val)
{
	if (!cpu.bad[0])
		snprintf(cpu.bad, sizeof(cpu.bad), "%s of MSR %#x (%#llx) faults on this CPU", what,
			 msr, (unsigned long long)val);
}

u64 host_rdmsr(u32 msr)
{
	if (msr == MSR_ARCH_CAPABILITIES && (cpu.l7_edx & BIT(29)))
		return cpu.arch_caps;
	if (msr == MSR_SPEC_CTRL && cpu_spec_ctrl_bits())
		return cpu.spec_ctrl;
	cpu_fault("RDMSR", msr, 0);
	return 0;
}

void host_wrmsr(u32 msr, u64 val)
{
	if (msr == MSR_SPEC_CTRL && cpu_spec_ctrl_bits() && !(val & ~cpu_spec_ctrl_bits())) {
		cpu.spec_ctrl = val;
		cpu.spec_ctrl_writes++;
	} else if (msr == MSR_PRED_CMD && val && !(val & ~cpu_pred_cmd_bits())) {
		cpu.ibpb += (val & BIT(0)) ? 1 : 0;
		cpu.sbpb += (val & BIT(7)) ? 1 : 0;
	} else if (msr == MSR_FLUSH_CMD && val == 1 && (cpu.l7_edx & BIT(28))) {
		cpu.l1d_flush++;
	} else {
		cpu_fault("WRMSR", msr, val);
	}
}

/* --- the rest of the hypervisor, faked --- */

static struct {
	int gp;
	u64 efer, rip;
} gst;

u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen)
{
	(void)v, (void)e, (void)opcode;
	return oplen;
}

enum exit_action vcpu_kill(struct vcpu *v, const char *fmt, ...)
{
	(void)v;
	fprintf(stderr, "  vcpu_kill: %s\n", fmt);
	CHECK(false);
	return ACT_STOP;
}

void vcpu_inject_gp(struct vcpu *v)
{
	(void)v;
	gst.gp++;
}

void vcpu_skip(struct vcpu *v, u32 len)
{
	(void)v;
	gst.rip += len;
}

u64 tsc_hz(void)
{
	return 1000000000;
}

u64 tsc_now(void)
{
	return 0; /* the TSC MSRs msr.c keeps are not this test's */
}

u32 vcpu_guest_insns = GUEST_INSN_RDTSCP | GUEST_INSN_INVPCID;

bool vlapic_owns_msr(u32 msr)
{
	(void)msr;
	return false;
}

int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v, (void)msr, (void)val;
	return -ENOENT;
}

int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	(void)v, (void)msr, (void)val;
	return -ENOENT;
}

static u64 f_get_reg(struct vcpu *v, enum vcpu_reg r)
{
	(void)v;
	if (r == VCPU_EFER)
		return gst.efer;
	if (r == VCPU_CR0)
		return CR0_PG | CR0_PE;
	if (r == VCPU_RIP)
		return gst.rip;
	return 0;
}

static void f_set_reg(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	(void)v;
	if (r == VCPU_EFER)
		gst.efer = val;
}

static const struct vcpu_ops fake_ops = { .name = "fake",
					  .get_reg = f_get_reg,
					  .set_reg = f_set_reg };
const struct vcpu_ops *vcpu_ops = &fake_ops;
struct percpu *cpus[MAX_CPUS];
u32 nr_cpus;

static struct vm vm_a = { .name = "a", .nr_vcpus = 1 }, vm_b = { .name = "b", .nr_vcpus = 1 };

static u32 guest_cpuid(struct vcpu *v, u32 leaf, u32 sub, enum reg reg)
{
	struct vm_exit e = { .reason = EXIT_CPUID, .insn_len = 2 };

	v->gpr[RAX] = leaf;
	v->gpr[RCX] = sub;
	CHECK_EQ(exit_cpuid(v, &e), ACT_RESUME);
	return (u32)v->gpr[reg == EAX ? RAX : reg == EBX ? RBX : reg == ECX ? RCX : RDX];
}

/* 0: done; 1: #GP in the guest */
static int guest_msr(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	struct vm_exit e = { .reason = write ? EXIT_MSR_WRITE : EXIT_MSR_READ, .insn_len = 2 };
	int gp = gst.gp;

	v->gpr[RCX] = msr;
	v->gpr[RAX] = (u32)*val;
	v->gpr[RDX] = *val >> 32;
	CHECK_EQ(write ? exit_msr_write(v, &e) : exit_msr_read(v, &e), ACT_RESUME);
	if (!write)
		*val = (v->gpr[RDX] << 32) | (u32)v->gpr[RAX];
	return gst.gp != gp;
}

/* --- what each speculation bit promises --- */

enum access { RD, WR };

struct promise {
	const char *name;
	u32 leaf, sub;
	enum reg reg;
	u32 bit;
	u32 msr;
	enum access access;
	u64 val;	/* written, or the IA32_ARCH_CAPABILITIES bit for rows with arch_caps set */
	bool arch_caps; /* the bit is in IA32_ARCH_CAPABILITIES, behind CPUID.7.0:EDX[29] */
};

#define EFER_AIBRSE BIT(21) /* AMD automatic IBRS (APM2 3.1.7) */

static const struct promise promises[] = {
	/* Intel, CPUID.(EAX=7,ECX=0):EDX (SDM 2A table 3-8) */
	{ "IBRS", 7, 0, EDX, 26, MSR_SPEC_CTRL, WR, BIT(0), false },
	{ "IBPB", 7, 0, EDX, 26, MSR_PRED_CMD, WR, BIT(0), false },
	{ "STIBP", 7, 0, EDX, 27, MSR_SPEC_CTRL, WR, BIT(1), false },
	{ "L1D_FLUSH", 7, 0, EDX, 28, MSR_FLUSH_CMD, WR, BIT(0), false },
	{ "ARCH_CAPABILITIES", 7, 0, EDX, 29, MSR_ARCH_CAPABILITIES, RD, 0, false },
	{ "CORE_CAPABILITIES", 7, 0, EDX, 30, 0xcf, RD, 0, false },
	{ "SSBD", 7, 0, EDX, 31, MSR_SPEC_CTRL, WR, BIT(2), false },
	/* CPUID.(EAX=7,ECX=2):EDX */
	{ "PSFD", 7, 2, EDX, 0, MSR_SPEC_CTRL, WR, BIT(7), false },
	{ "IPRED_CTRL (user)", 7, 2, EDX, 1, MSR_SPEC_CTRL, WR, BIT(3), false },
	{ "IPRED_CTRL (supervisor)", 7, 2, EDX, 1, MSR_SPEC_CTRL, WR, BIT(4), false },
	{ "RRSBA_CTRL (user)", 7, 2, EDX, 2, MSR_SPEC_CTRL, WR, BIT(5), false },
	{ "RRSBA_CTRL (supervisor)", 7, 2, EDX, 2, MSR_SPEC_CTRL, WR, BIT(6), false },
	{ "DDPD_U", 7, 2, EDX, 3, MSR_SPEC_CTRL, WR, BIT(8), false },
	{ "BHI_CTRL", 7, 2, EDX, 4, MSR_SPEC_CTRL, WR, BIT(10), false },
	/* IA32_ARCH_CAPABILITIES bits that name an MSR (SDM 4 table 2-2) */
	{ "TSX_CTRL", 7, 0, EDX, 29, 0x122, RD, BIT(7), true },
	{ "MCU_CONTROL", 7, 0, EDX, 29, 0x1406, RD, BIT(9), true },
	{ "MISC_PACKAGE_CTLS", 7, 0, EDX, 29, 0xbc, RD, BIT(10), true },
	{ "ENERGY_FILTERING_CTL", 7, 0, EDX, 29, 0xbc, RD, BIT(11), true },
	{ "DOITM", 7, 0, EDX, 29, 0x1b01, RD, BIT(12), true },
	{ "FB_CLEAR_CTRL", 7, 0, EDX, 29, 0x123, RD, BIT(18), true },
	{ "XAPIC_DISABLE_STATUS", 7, 0, EDX, 29, 0xbd, RD, BIT(21), true },
	{ "OVERCLOCKING_STATUS", 7, 0, EDX, 29, 0x195, RD, BIT(23), true },
	{ "GDS_CTRL", 7, 0, EDX, 29, 0x123, RD, BIT(25), true },
	/* AMD, CPUID Fn8000_0008_EBX and Fn8000_0021_EAX (APM3 appendix E) */
	{ "IBPB", 0x80000008, 0, EBX, 12, MSR_PRED_CMD, WR, BIT(0), false },
	{ "IBRS", 0x80000008, 0, EBX, 14, MSR_SPEC_CTRL, WR, BIT(0), false },
	{ "STIBP", 0x80000008, 0, EBX, 15, MSR_SPEC_CTRL, WR, BIT(1), false },
	{ "SSBD", 0x80000008, 0, EBX, 24, MSR_SPEC_CTRL, WR, BIT(2), false },
	{ "VIRT_SSBD", 0x80000008, 0, EBX, 25, 0xc001011f, WR, BIT(2), false },
	{ "PSFD", 0x80000008, 0, EBX, 28, MSR_SPEC_CTRL, WR, BIT(7), false },
	{ "AutoIBRS", 0x80000021, 0, EAX, 8, MSR_EFER, WR, EFER_AIBRSE, false },
	{ "SBPB", 0x80000021, 0, EAX, 27, MSR_PRED_CMD, WR, BIT(7), false },
	{ "SRSO_MSR_FIX", 0x80000021, 0, EAX, 31, 0xc001102e, RD, 0, false },
};

/* The host words a promise's bit lives in, to build hosts with it. */
static u32 *host_word(u32 leaf, u32 sub)
{
	if (leaf == 7)
		return sub == 0 ? &cpu.l7_edx : &cpu.l7_2_edx;
	return leaf == 0x80000008 ? &cpu.e8_ebx : &cpu.e21_eax;
}

static void new_vcpu(struct vcpu *v, struct vm *vm)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
}

/* Checks every promise against the current host; returns how many bits were offered. */
static int check_host(const char *host)
{
	struct vcpu v;
	int offered = 0;

	new_vcpu(&v, &vm_a);
	spec_init();
	for (size_t i = 0; i < ARRAY_SIZE(promises); i++) {
		const struct promise *p = &promises[i];
		u32 word = guest_cpuid(&v, p->leaf, p->sub, p->reg);
		u64 val = p->access == WR ? p->val : 0;
		bool has = *host_word(p->leaf, p->sub) & BIT(p->bit);
		u64 caps = 0;

		if (!(word & BIT(p->bit)))
			continue;
		if (!has) {
			fprintf(stderr,
				"  %s host: %s (CPUID %#x.%u E%cX[%u]) offered, the host lacks it\n",
				host, p->name, p->leaf, p->sub, "ABCD"[p->reg], p -> bit);
			CHECK(has);
		}
		if (p->arch_caps) {
			CHECK_EQ(guest_msr(&v, MSR_ARCH_CAPABILITIES, false, &caps), 0);
			if (!(caps & p->val))
				continue;
		}
		offered++;
		if (p->msr == MSR_EFER)
			val |= gst.efer;
		cpu.bad[0] = 0;
		if (guest_msr(&v, p->msr, p->access == WR, &val) || cpu.bad[0]) {
			fprintf(stderr,
				"  %s host: %s offered (CPUID %#x.%u E%cX[%u]%s), but %s of MSR %#x%s%s\n",
				host, p->name, p->leaf, p->sub, "ABCD"[p->reg], p -> bit,
				p -> arch_caps ? ", IA32_ARCH_CAPABILITIES" : "",
				p->access == WR ? "WRMSR" : "RDMSR", p->msr,
				cpu.bad[0] ? ": " : " gets #GP", cpu.bad);
			CHECK(false);
		}
	}
	return offered;
}

static void host_reset(void)
{
	memset(&cpu, 0, sizeof(cpu));
	memset(&gst, 0, sizeof(gst));
	gst.efer = EFER_LME | EFER_LMA | EFER_SCE;
}

static void host_all(int vendor)
{
	host_reset();
	for (size_t i = 0; i < ARRAY_SIZE(promises); i++)
		if ((promises[i].leaf == 7) == (vendor == 'I'))
			*host_word(promises[i].leaf, promises[i].sub) |= BIT(promises[i].bit);
	cpu.arch_caps = vendor == 'I' ? ~0ULL : 0;
}

TEST(intel_host_with_every_control)
{
	host_all('I');
	CHECK(check_host("Intel") >= 10);
}

TEST(amd_host_with_every_control)
{
	host_all('A');
	CHECK(check_host("AMD") >= 5);
}

TEST(host_without_controls)
{
	host_reset();
	CHECK_EQ(check_host("bare"), 0);
}

/* Hosts with some of the bits: a CPU with STIBP but not IBRS, SSBD alone... */
TEST(hosts_with_some_controls)
{
	srand(26);
	for (int round = 0; round < 500; round++) {
		host_reset();
		for (size_t i = 0; i < ARRAY_SIZE(promises); i++)
			if (rand() & 1)
				*host_word(promises[i].leaf, promises[i].sub) |=
					BIT(promises[i].bit);
		cpu.arch_caps = ((u64)rand() << 32) | (u64)rand();
		check_host("mixed");
	}
}

/* The guest's SPEC_CTRL is its own: loaded on its CPU before it runs, read back as written. */
TEST(spec_ctrl_per_vcpu)
{
	struct percpu pc = { 0 };
	struct vcpu a, b;
	u64 val;

	host_all('I');
	spec_init();
	new_vcpu(&a, &vm_a);
	new_vcpu(&b, &vm_b);
	val = BIT(0) | BIT(2);
	CHECK_EQ(guest_msr(&a, MSR_SPEC_CTRL, true, &val), 0);
	val = BIT(1);
	CHECK_EQ(guest_msr(&b, MSR_SPEC_CTRL, true, &val), 0);
	val = BIT(9); /* reserved */
	CHECK_EQ(guest_msr(&b, MSR_SPEC_CTRL, true, &val), 1);
	spec_enter(&a, &pc);
	CHECK_EQ(cpu.spec_ctrl, BIT(0) | BIT(2));
	CHECK_EQ(guest_msr(&a, MSR_SPEC_CTRL, false, &val), 0);
	CHECK_EQ(val, BIT(0) | BIT(2));
	spec_enter(&b, &pc);
	CHECK_EQ(cpu.spec_ctrl, BIT(1));
	CHECK_EQ(guest_msr(&b, MSR_SPEC_CTRL, false, &val), 0);
	CHECK_EQ(val, BIT(1));
	/* the same vCPU again: nothing to write */
	val = cpu.spec_ctrl_writes;
	spec_enter(&b, &pc);
	CHECK_EQ(cpu.spec_ctrl_writes, val);
	CHECK(!cpu.bad[0]);
}

/* IBPB when a CPU goes from one VM's vCPU to another VM's, not between vCPUs of one VM. */
TEST(ibpb_between_vms)
{
	struct percpu pc = { 0 };
	struct vcpu a0, a1, b0;

	host_all('A');
	spec_init();
	new_vcpu(&a0, &vm_a);
	new_vcpu(&a1, &vm_a);
	new_vcpu(&b0, &vm_b);
	spec_enter(&a0, &pc);
	CHECK_EQ(cpu.ibpb, 1); /* whatever ran before */
	spec_enter(&a1, &pc);
	spec_enter(&a0, &pc);
	CHECK_EQ(cpu.ibpb, 1);
	spec_enter(&b0, &pc);
	CHECK_EQ(cpu.ibpb, 2);
	spec_enter(&a1, &pc);
	CHECK_EQ(cpu.ibpb, 3);
	/* a VM freed and another made at the same address is another VM */
	nr_cpus = 1;
	cpus[0] = &pc;
	spec_forget_vm(&vm_a);
	spec_enter(&a0, &pc);
	CHECK_EQ(cpu.ibpb, 4);
	nr_cpus = 0;
	cpus[0] = NULL;
	/* a host without IBPB: nothing to issue, nothing faults */
	host_reset();
	spec_init();
	spec_enter(&b0, &pc);
	CHECK(!cpu.bad[0]);
}

/* The guest's own barrier and flush commands reach the CPU. */
TEST(guest_commands_reach_the_cpu)
{
	struct vcpu v;
	u64 val = 1;

	host_all('I');
	spec_init();
	new_vcpu(&v, &vm_a);
	CHECK_EQ(guest_msr(&v, MSR_PRED_CMD, true, &val), 0);
	CHECK_EQ(cpu.ibpb, 1);
	CHECK_EQ(guest_msr(&v, MSR_FLUSH_CMD, true, &val), 0);
	CHECK_EQ(cpu.l1d_flush, 1);
	val = 2;
	CHECK_EQ(guest_msr(&v, MSR_FLUSH_CMD, true, &val), 1);
	CHECK_EQ(guest_msr(&v, MSR_PRED_CMD, false, &val), 1); /* write-only */
	host_reset();
	spec_init();
	val = 1;
	CHECK_EQ(guest_msr(&v, MSR_PRED_CMD, true, &val), 1);
	CHECK_EQ(guest_msr(&v, MSR_SPEC_CTRL, false, &val), 1);
	CHECK(!cpu.bad[0]);
}

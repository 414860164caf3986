// SPDX-License-Identifier: MIT
/* CPUID exits: the host's answers, filtered to what the virtual platform provides, plus Keel's leaves. */
#include <arch/x86/cpu.h>
#include <arch/x86/tsc.h>
#include <keel/guest_walk.h>
#include <lib/string.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define LEAF_HV_BASE 0x40000000 /* hypervisor leaves, as Linux's detect_hypervisor reads them */
#define LEAF_HV_FEATURES 0x40000001
/* The de facto hypervisor timing leaf (VMware's, also read by FreeBSD): EAX TSC kHz, EBX APIC bus kHz. */
#define LEAF_HV_TIMING 0x40000010
#define VLAPIC_BUS_KHZ 1000000 /* vlapic.c's 1 GHz virtual bus */
#define KEEL_SIGNATURE "KeelKeelKeel"
/* CPUID.1 (SDM 2A table 3-10/3-11) */
#define C1_ECX_MONITOR BIT(3)
#define C1_ECX_VMX BIT(5)
#define C1_ECX_SMX BIT(6)
#define C1_ECX_OSXSAVE BIT(27)
#define C1_EDX_APIC BIT(9)
#define C1_EDX_ACPI_THERMAL BIT(22)
#define C1_EBX_COUNT_SHIFT 16
#define C1_EBX_APIC_ID_SHIFT 24
#define C7_ECX_WAITPKG BIT(5)
#define LEAF4_CACHE_TYPE 0x1fu	  /* SDM 2A table 3-8: 0 = no more caches */
#define LEAF4_CORES (0x3fu << 26) /* EAX[31:26] */
#define CR4_OSXSAVE_BIT BIT(18)

static void leaf_1(struct vcpu *v, struct cpuid_regs *r)
{
	r->ebx = (r->ebx & 0xffff) | (v->vm->nr_vcpus << C1_EBX_COUNT_SHIFT) |
		 (v->id << C1_EBX_APIC_ID_SHIFT);
	r->ecx &= ~(u32)(C1_ECX_MONITOR | C1_ECX_VMX | C1_ECX_SMX | C1_ECX_OSXSAVE);
	/* the virtual LAPIC emulates x2APIC and the TSC-deadline timer whatever the CPU has */
	r->ecx |= CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE;
	if (vcpu_ops->get_reg(v, VCPU_CR4) & CR4_OSXSAVE_BIT)
		r->ecx |= C1_ECX_OSXSAVE; /* mirrors the guest's CR4, not the host's */
	r->edx |= C1_EDX_APIC;
	r->edx &= ~(u32)C1_EDX_ACPI_THERMAL;
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
	switch (leaf) {
	case 1:
		leaf_1(v, r);
		break;
	case 5: /* MONITOR/MWAIT: hidden */
	case 6: /* thermal and power management */
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case 7:
		if (sub == 0)
			r->ecx &= ~(u32)C7_ECX_WAITPKG;
		break;
	case 0xb:
	case 0x1f:
		leaf_topology(v, sub, r);
		break;
	case 0x80000001:
		r->ecx &= ~(u32)CPUID_80000001_ECX_SVM;
		break;
	case 4: /* Intel: EAX[31:26] = addressable core IDs in the package - 1 */
		if (r->eax & LEAF4_CACHE_TYPE)
			r->eax = (r->eax & ~LEAF4_CORES) | (((1u << id_bits(v->vm)) - 1) << 26);
		break;
	case 0x80000008: /* AMD: ECX[7:0] = cores - 1, ECX[15:12] = their APIC ID bits */
		r->ecx = (r->ecx & ~0xf0ffu) | id_bits(v->vm) << 12 | (v->vm->nr_vcpus - 1);
		break;
	case 0x8000000a: /* SVM features: no nested virtualization */
	case 0x8000001e:
	case 0x8000001f:
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
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
		r = cpuid_count(leaf, sub);
		filter(v, leaf, sub, &r);
	}
	v->gpr[RAX] = r.eax;
	v->gpr[RBX] = r.ebx;
	v->gpr[RCX] = r.ecx;
	v->gpr[RDX] = r.edx;
	vcpu_skip(v, len);
	return ACT_RESUME;
}

// SPDX-License-Identifier: MIT
/*
 * A vCPU's own page tables, read as its CPU reads them: the paging state
 * (control registers, CPL, EFLAGS.AC, PKRU) handed to the walk of
 * vmm/emul/x86_paging.c, which applies every check of SDM 3A 4.6; the
 * instruction stream fetched as instruction fetches; the faults raised back
 * into the guest with their error code and CR2. Used to decode and emulate
 * MMIO accesses and to find the length of exiting instructions.
 */
#include <arch/x86/cpu.h>
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

#define MAXPHYADDR_DEFAULT 36	/* without leaf 8000_0008h (SDM 3A 4.1.4) */
#define VENDOR_AMD 0x68747541	/* "Auth" in EBX of leaf 0 */
#define VENDOR_HYGON 0x6f677948 /* "Hygo": AMD's paging */

/* What the guest's CPUID says about paging: the host's, which exit/cpuid.c passes through. */
static struct {
	bool known;
	u8 maxphyaddr;
	bool pse36, gbpages, amd;
} walk_caps;

static void walk_caps_init(void)
{
	u32 vendor = cpuid(0).ebx;

	walk_caps.maxphyaddr = cpuid(0x80000000).eax >= CPUID_LEAF_ADDR_SIZES ?
				       (u8)cpuid(CPUID_LEAF_ADDR_SIZES).eax :
				       MAXPHYADDR_DEFAULT;
	walk_caps.pse36 = cpuid(1).edx & CPUID_1_EDX_PSE36;
	walk_caps.gbpages = cpuid(0x80000001).edx & CPUID_80000001_EDX_PDPE1GB;
	walk_caps.amd = vendor == VENDOR_AMD || vendor == VENDOR_HYGON;
	__atomic_store_n(&walk_caps.known, true, __ATOMIC_RELEASE); /* any CPU may get here first */
}

/* CPL is SS.DPL (SDM 3A 5.5; svm_get_seg reports the VMCB's CPL there); 3 in virtual-8086 mode. */
static u8 guest_cpl(struct vcpu *v, u64 cr0, u64 rflags)
{
	struct vcpu_segment ss;

	if (!(cr0 & CR0_PE))
		return 0;
	if (rflags & RFLAGS_VM)
		return 3;
	vcpu_ops->get_seg(v, SEG_SS, &ss);
	return (ss.attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT;
}

/*
 * The guest's PKRU, which the walk asks for only for a data access to a user
 * page under CR4.PKE: live in the CPU during the exit (neither SVM nor VMX
 * switches it, and Keel never uses it). RDPKRU needs CR4.PKE, which Keel sets
 * for the read only; the guest has CR4.PKE, so the CPU has PKU.
 */
static u32 walk_pkru(void *ctx)
{
	u64 cr4 = read_cr4();
	u32 eax, edx;

	(void)ctx;
	write_cr4(cr4 | CR4_PKE);
	__asm__ volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
	write_cr4(cr4);
	return eax;
}

void guest_paging(struct vcpu *v, struct x86_paging *p)
{
	if (!__atomic_load_n(&walk_caps.known, __ATOMIC_ACQUIRE))
		walk_caps_init();
	*p = (struct x86_paging){
		.cr0 = vcpu_ops->get_reg(v, VCPU_CR0),
		.cr3 = vcpu_ops->get_reg(v, VCPU_CR3),
		.cr4 = vcpu_ops->get_reg(v, VCPU_CR4),
		.efer = vcpu_ops->get_reg(v, VCPU_EFER),
		.rflags = vcpu_ops->get_reg(v, VCPU_RFLAGS),
		.maxphyaddr = walk_caps.maxphyaddr,
		.pse36 = walk_caps.pse36,
		.gbpages = walk_caps.gbpages,
		.amd = walk_caps.amd,
		/* IA32_PKRS keeps its reset value 0: msr.c gives guests #GP for it */
		.pkrs = 0,
	};
	p->cpl = guest_cpl(v, p->cr0, p->rflags);
}

/* Entries read with one load and A/D flags set with locked operations, as the CPU does (4.8). */
static int walk_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	return vm_read_entry(ctx, gpa, size, val);
}

static int walk_cmpxchg(void *ctx, gpa_t gpa, unsigned int size, u64 old, u64 new_val)
{
	return vm_cmpxchg_entry(ctx, gpa, size, old, new_val);
}

static const struct x86_paging_ops walk_ops = { walk_read, walk_cmpxchg, walk_pkru };

int guest_translate(struct vcpu *v, const struct x86_paging *p, u64 linear, u32 access, gpa_t *gpa,
		    struct x86_fault *f)
{
	return x86_paging_walk(p, linear, access, &walk_ops, v->vm, gpa, f);
}

/*
 * #PF, #GP and #SS are faults: the CPU delivers them with RF set in the
 * RFLAGS it pushes (SDM vol. 3, debug chapter: instruction-breakpoint
 * exception condition), so
 * a breakpoint on the instruction does not fire again when it restarts.
 * Event injection does not set it: Keel does, as the CPU would have.
 */
void guest_raise(struct vcpu *v, const struct x86_fault *f)
{
	if (f->vector == X86_EXC_PF)
		vcpu_ops->set_reg(v, VCPU_CR2, f->address);
	vcpu_ops->set_reg(v, VCPU_RFLAGS, vcpu_ops->get_reg(v, VCPU_RFLAGS) | RFLAGS_RF);
	vcpu_inject_exception(v, f->vector, true, f->error);
}

enum x86_mode guest_mode(struct vcpu *v)
{
	struct vcpu_segment cs;

	if (!(vcpu_ops->get_reg(v, VCPU_CR0) & CR0_PE))
		return X86_MODE_REAL;
	vcpu_ops->get_seg(v, SEG_CS, &cs);
	if ((vcpu_ops->get_reg(v, VCPU_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L))
		return X86_MODE_LONG64;
	return (cs.attr & SEG_ATTR_DB) ? X86_MODE_PROT32 : X86_MODE_PROT16;
}

int guest_fetch(struct vcpu *v, const struct x86_paging *p, u8 *buf, size_t len, size_t *got,
		struct x86_fault *f)
{
	struct vcpu_segment cs;
	u64 lin;
	int rc = 0;

	vcpu_ops->get_seg(v, SEG_CS, &cs);
	lin = vcpu_ops->get_reg(v, VCPU_RIP);
	if (guest_mode(v) != X86_MODE_LONG64)
		lin = (lin + cs.base) & 0xffffffff;
	*got = 0;
	while (*got < len) {
		size_t n = MIN(len - *got, PAGE_SIZE - ((lin + *got) & (PAGE_SIZE - 1)));
		gpa_t gpa;

		rc = guest_translate(v, p, lin + *got, X86_ACC_FETCH, &gpa, f);
		if (!rc)
			rc = vm_read(v->vm, gpa, buf + *got, n);
		if (rc)
			break;
		*got += n;
	}
	return rc;
}

static bool is_prefix(u8 b, bool long_mode)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3:
		return true;
	default:
		return long_mode && (b & 0xf0) == 0x40;
	}
}

u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen)
{
	u8 buf[X86_MAX_INSN_LEN];
	struct x86_paging p;
	struct x86_fault f;
	size_t n, i = 0;
	bool lm;

	if (e->insn_len)
		return e->insn_len;
	guest_paging(v, &p);
	guest_fetch(v, &p, buf, sizeof(buf), &n, &f);
	lm = guest_mode(v) == X86_MODE_LONG64;
	while (i < n && is_prefix(buf[i], lm))
		i++;
	if (i + oplen > n)
		return 0;
	for (u32 k = 0; k < oplen; k++)
		if (buf[i + k] != opcode[k])
			return 0;
	return (u32)(i + oplen);
}

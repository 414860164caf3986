// SPDX-License-Identifier: MIT
/*
 * Enables VT-x on one CPU: IA32_FEATURE_CONTROL set and locked if the
 * firmware left it open, CR0/CR4 fixed bits, VMXON; and reads the VMX
 * capability MSRs once into vmx_caps, adjusting every control Keel wants
 * to what the CPU allows (SDM 3C A.3-A.5: a control may be 1 only if its
 * allowed-1 bit is set and must be 1 if its allowed-0 bit is set; the
 * TRUE_ MSRs apply when IA32_VMX_BASIC[55] says so).
 */
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <arch/x86/virt.h>
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx.h>
#include <lib/format.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>

struct vmx_caps vmx_caps;

struct control {
	const char *name;
	u32 msr, want, need;
	u32 *out;
};

static const char *yn(u64 v, u64 bit)
{
	return (v & bit) ? "yes" : "no";
}

/* Returns the name of a needed control the CPU cannot set, or NULL. */
static const char *adjust(const struct control *c, bool true_ctls)
{
	u32 msr = c->msr;
	u64 allowed;

	if (true_ctls && msr != MSR_VMX_PROC2)
		msr += MSR_VMX_TRUE_OFFSET;
	allowed = rdmsr(msr);
	*c->out = (c->want | (u32)allowed) & (u32)(allowed >> 32);
	return (*c->out & c->need) == c->need ? NULL : c->name;
}

/* SDM 3D A.7, A.8: the CR0/CR4 bits VMX fixes, and the guest/host masks that hide them. */
static void read_fixed_bits(struct vmx_caps *k)
{
	k->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	k->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	k->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	k->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	/* unrestricted guest frees PE and PG, unless PG must trap to keep EFER.LMA right */
	k->cr0_mask = ((k->cr0_fixed0 & ~(CR0_PE | CR0_PG)) | ~k->cr0_fixed1) & 0xffffffffULL;
	if (!(k->misc & VMX_MISC_STORE_LMA))
		k->cr0_mask |= CR0_PG;
	k->cr4_mask = k->cr4_fixed0 | ~k->cr4_fixed1;
	k->maxphyaddr = cpuid(CPUID_LEAF_ADDR_SIZES).eax & 0xff;
}

static const char *read_caps(struct vmx_caps *k)
{
	u64 basic = rdmsr(MSR_VMX_BASIC);
	bool tc = basic & VMX_BASIC_TRUE_CTLS;
	const u32 pin_need = PIN_EXTINT_EXITING | PIN_NMI_EXITING;
	const u32 proc_need = PROC_HLT_EXITING | PROC_IO_BITMAPS | PROC_MSR_BITMAPS |
			      PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_SECONDARY;
	const u32 exit_need = EXIT_HOST_64BIT | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER |
			      EXIT_LOAD_EFER | EXIT_SAVE_DEBUG;
	/* DR7 per vCPU */
	const u32 entry_need = ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG;
	u32 window = 0;
	const struct control ctls[] = {
		{ "external-interrupt/NMI exiting", MSR_VMX_PIN, pin_need | PIN_VIRTUAL_NMIS,
		  pin_need, &k->pin },
		{ "HLT/MWAIT exiting, I/O and MSR bitmaps", MSR_VMX_PROC,
		  proc_need | PROC_TSC_OFFSETTING, proc_need, &k->proc },
		{ "interrupt-window exiting", MSR_VMX_PROC, PROC_INTR_WINDOW | PROC_NMI_WINDOW,
		  PROC_INTR_WINDOW, &window },
		{ "EPT and unrestricted guest", MSR_VMX_PROC2,
		  PROC2_EPT | PROC2_UNRESTRICTED | PROC2_VPID | PROC2_RDTSCP | PROC2_INVPCID |
			  PROC2_XSAVES | PROC2_PAUSE_LOOP,
		  PROC2_EPT | PROC2_UNRESTRICTED, &k->proc2 },
		{ "64-bit host, EFER/PAT/DR7 switching on exit", MSR_VMX_EXIT, exit_need, exit_need,
		  &k->exit },
		{ "EFER/PAT/DR7 loading on entry", MSR_VMX_ENTRY, entry_need, entry_need,
		  &k->entry },
	};

	k->revision = VMX_BASIC_REVISION(basic);
	k->ins_outs_info = basic & VMX_BASIC_INS_OUTS_INFO;
	for (u32 i = 0; i < ARRAY_SIZE(ctls); i++) {
		const char *missing = adjust(&ctls[i], tc);

		if (missing)
			return missing;
	}
	/* the window bits are switched on only when needed; ack-on-exit stays off (see vmx_run.c) */
	k->nmi_window = (k->pin & PIN_VIRTUAL_NMIS) && (window & PROC_NMI_WINDOW);
	k->exit &= ~EXIT_ACK_INTR;
	k->ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
	k->misc = rdmsr(MSR_VMX_MISC);
	if (!(k->ept_vpid & EPT_CAP_WALK4) || !(k->ept_vpid & EPT_CAP_2M) ||
	    !(k->ept_vpid & EPT_CAP_INVEPT))
		return "4-level EPT with 2 MiB pages and INVEPT";
	if (!(k->ept_vpid & VPID_CAP_INVVPID))
		k->proc2 &= ~PROC2_VPID;
	/* without these controls RDTSCP and INVPCID are #UD in the guest: CPUID hides them */
	if (!(k->proc2 & PROC2_RDTSCP))
		vcpu_guest_insns &= ~(u32)GUEST_INSN_RDTSCP;
	if (!(k->proc2 & PROC2_INVPCID))
		vcpu_guest_insns &= ~(u32)GUEST_INSN_INVPCID;
	read_fixed_bits(k);
	return NULL;
}

/*
 * Before VMXON, from the UEFI stub too: the first thing Keel needs that this
 * CPU's VT-x lacks, or NULL. Unrestricted guest is among them: it runs a
 * guest's real mode and its switches to and from protected mode natively.
 */
const char *vmx_missing(void)
{
	struct vmx_caps k;
	u32 insns = vcpu_guest_insns;
	const char *missing = read_caps(&k);

	vcpu_guest_insns = insns; /* vmx_cpu_enable decides those */
	return missing;
}

static int vmxon(u64 region)
{
	u8 fail;

	__asm__ volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(region) : "cc", "memory");
	return fail ? -EIO : 0;
}

static void report(struct percpu *pc, u64 fc_before)
{
	const struct vmx_caps *k = &vmx_caps;

	format_snprintf(pc->virt_report, sizeof(pc->virt_report),
			"VT-x rev %u, EPT (2M %s, 1G %s, A/D %s), VPID %s, unrestricted guest, "
			"virtual NMIs %s, PLE %s, feature control %s: enabled",
			k->revision, yn(k->ept_vpid, EPT_CAP_2M), yn(k->ept_vpid, EPT_CAP_1G),
			yn(k->ept_vpid, EPT_CAP_AD), yn(k->proc2, PROC2_VPID),
			yn(k->pin, PIN_VIRTUAL_NMIS), yn(k->proc2, PROC2_PAUSE_LOOP),
			(fc_before & FEATURE_CONTROL_LOCKED) ? "locked by firmware" :
							       "locked by Keel");
}

int vmx_cpu_enable(struct percpu *pc)
{
	u64 fc = rdmsr(MSR_FEATURE_CONTROL);
	const char *missing = read_caps(&vmx_caps); /* the same on every CPU */
	u32 *region;

	if (missing) {
		format_snprintf(pc->virt_report, sizeof(pc->virt_report),
				"VT-x without %s: Keel needs it", missing);
		return -ENOTSUP;
	}
	region = page_alloc_zeroed(1);
	if (!region)
		return -ENOMEM;
	/* OVMF leaves the MSR unlocked; allow VMX outside SMX and lock it (SDM 3C 24.7) */
	if (!(fc & FEATURE_CONTROL_LOCKED))
		wrmsr(MSR_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
	write_cr0((read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	write_cr4((read_cr4() | vmx_caps.cr4_fixed0 | CR4_VMXE) & vmx_caps.cr4_fixed1);
	/* XSETBV always exits under VMX and vmm/ carries it out here: that needs CR4.OSXSAVE */
	if (cpuid(1).ecx & CPUID_1_ECX_XSAVE)
		write_cr4(read_cr4() | CR4_OSXSAVE);
	region[0] = vmx_caps.revision; /* SDM 3C 25.11.5 */
	pc->virt_area = virt_to_phys(region);
	if (vmxon(pc->virt_area)) {
		format_snprintf(pc->virt_report, sizeof(pc->virt_report),
				"VT-x: VMXON failed (feature control %llx)",
				(unsigned long long)rdmsr(MSR_FEATURE_CONTROL));
		return -EIO;
	}
	report(pc, fc);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Entering a VT-x guest and turning its VM exit into a struct vm_exit.
 * Before an entry: TLB flushes (INVEPT when the VM's EPT lost mappings or
 * the vCPU is new, INVVPID when a VPID gets a new owner), CR2, the cached
 * guest state, PAE PDPTEs. After an exit: an event whose delivery it
 * interrupted goes back into the VM-entry fields (SDM 3C 28.2.4, 27.6),
 * MOV to CR0/CR4 of the bits VMX keeps for itself is emulated here, and
 * the rest maps onto the shared exit reasons. A failed entry is explained:
 * the VM-instruction error, or Keel's own checks of the guest state.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx.h>
#include <arch/x86/vmx/vmx_check.h>
#include <lib/format.h>
#include <keel/vm.h>

#define CR0_RESERVED_HIGH GENMASK(63, 32)

/* Exits whose VM-exit instruction length is defined (SDM 3C 28.2.5): caused by an instruction. */
static const u64 insn_exits =
	BIT(VMX_EXIT_CPUID) | BIT(VMX_EXIT_GETSEC) | BIT(VMX_EXIT_HLT) | BIT(VMX_EXIT_INVD) |
	BIT(VMX_EXIT_INVLPG) | BIT(VMX_EXIT_RDPMC) | BIT(VMX_EXIT_RDTSC) | BIT(VMX_EXIT_RSM) |
	GENMASK(VMX_EXIT_VMXON, VMX_EXIT_VMCALL) | BIT(VMX_EXIT_CR_ACCESS) |
	BIT(VMX_EXIT_DR_ACCESS) | BIT(VMX_EXIT_IO) | BIT(VMX_EXIT_RDMSR) | BIT(VMX_EXIT_WRMSR) |
	BIT(VMX_EXIT_MWAIT) | BIT(VMX_EXIT_MONITOR) | BIT(VMX_EXIT_PAUSE) |
	BIT(VMX_EXIT_GDTR_IDTR) | BIT(VMX_EXIT_LDTR_TR) | BIT(VMX_EXIT_INVEPT) |
	BIT(VMX_EXIT_RDTSCP) | BIT(VMX_EXIT_INVVPID) | BIT(VMX_EXIT_WBINVD) | BIT(VMX_EXIT_XSETBV) |
	BIT(VMX_EXIT_RDRAND) | BIT(VMX_EXIT_INVPCID) | BIT(VMX_EXIT_VMFUNC) | BIT(VMX_EXIT_ENCLS) |
	BIT(VMX_EXIT_RDSEED) | BIT(VMX_EXIT_XSAVES);
/* (XRSTORS, 64, would exit only through the XSS-exiting bitmap, which stays 0) */

/* Exits that need no more than their name; EXIT_NONE here means "not expected". */
static const u8 simple_exits[VMX_EXIT_MAX + 1] = {
	[VMX_EXIT_EXTINT] = EXIT_EXTINT,
	[VMX_EXIT_TRIPLE_FAULT] = EXIT_SHUTDOWN,
	[VMX_EXIT_INIT] = EXIT_INIT,
	[VMX_EXIT_SIPI] = EXIT_INIT,
	[VMX_EXIT_INTR_WINDOW] = EXIT_IRQ_WINDOW,
	[VMX_EXIT_NMI_WINDOW] = EXIT_NMI_WINDOW,
	[VMX_EXIT_TASK_SWITCH] = EXIT_TASK_SWITCH,
	[VMX_EXIT_CPUID] = EXIT_CPUID,
	[VMX_EXIT_GETSEC] = EXIT_UD,
	[VMX_EXIT_HLT] = EXIT_HLT,
	[VMX_EXIT_INVD] = EXIT_UD,
	[VMX_EXIT_VMCALL] = EXIT_HYPERCALL,
	[VMX_EXIT_VMCLEAR... VMX_EXIT_VMXON] = EXIT_UD,
	[VMX_EXIT_RDMSR] = EXIT_MSR_READ,
	[VMX_EXIT_WRMSR] = EXIT_MSR_WRITE,
	[VMX_EXIT_MWAIT] = EXIT_UD,
	[VMX_EXIT_MONITOR] = EXIT_UD,
	[VMX_EXIT_PAUSE] = EXIT_PAUSE,
	[VMX_EXIT_INVEPT] = EXIT_UD,
	[VMX_EXIT_INVVPID] = EXIT_UD,
	[VMX_EXIT_VMFUNC] = EXIT_UD,
	[VMX_EXIT_XSETBV] = EXIT_XSETBV,
};

/* --- before the entry --- */

/* A new VPID or EPTP, or guest-physical mappings removed since the last entry (vmm/vm_gpa.c). */
static void flush_tlb(struct vcpu *v, struct vmx_vcpu *x)
{
	u32 gen = __atomic_load_n(&v->vm->flush_gen, __ATOMIC_ACQUIRE);

	if (!x->flush && gen == x->seen_flush_gen)
		return;
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE, x->vm->eptp);
	else
		invept(INVEPT_ALL, 0);
	if (x->flush && x->vpid)
		invvpid((vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE) ? INVVPID_SINGLE :
									INVVPID_ALL,
			x->vpid);
	x->seen_flush_gen = gen;
	x->flush = false;
}

/* With EPT, entries into PAE paging load the PDPTEs from the VMCS (SDM 3C 27.3.2.4). */
static void load_pdptes(struct vcpu *v, struct vmx_vcpu *x)
{
	u64 pdpte[4] = { 0 };

	x->reload_pdptes = false;
	if (!(vmx_get(x, SLOT_CR0) & CR0_PG) || !(vmx_get(x, SLOT_CR4) & CR4_PAE) ||
	    (vmx_get(x, SLOT_EFER) & EFER_LMA))
		return;
	vm_read(v->vm, vmx_get(x, SLOT_CR3) & 0xffffffe0, pdpte, sizeof(pdpte));
	for (u32 i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

static void prepare(struct vcpu *v, struct vmx_vcpu *x)
{
	flush_tlb(v, x);
	if (x->reload_pdptes)
		load_pdptes(v, x);
	vmx_cache_flush(x);
	if (x->tsc_offset != v->tsc_offset) { /* the guest wrote its TSC or TSC_ADJUST */
		vmcs_write(VMCS_TSC_OFFSET, v->tsc_offset);
		x->tsc_offset = v->tsc_offset;
	}
	vmcs_write(VMCS_GUEST_RSP, v->gpr[RSP]);
	if (read_cr2() != x->cr2)
		write_cr2(x->cr2);
}

/* --- explaining a failed entry --- */

static void snapshot(struct vmx_vcpu *x, struct vmx_guest_state *g)
{
	vmx_cache_fill(x);
	*g = (struct vmx_guest_state){
		.cr0 = x->slot[SLOT_CR0],
		.cr3 = x->slot[SLOT_CR3],
		.cr4 = x->slot[SLOT_CR4],
		.dr7 = x->slot[SLOT_DR7],
		.rflags = x->slot[SLOT_RFLAGS],
		.rip = x->slot[SLOT_RIP],
		.efer = x->slot[SLOT_EFER],
		.pat = x->slot[SLOT_PAT],
		.sysenter_esp = vmcs_read(VMCS_GUEST_SYSENTER_ESP),
		.sysenter_eip = vmcs_read(VMCS_GUEST_SYSENTER_EIP),
		.link_pointer = vmcs_read(VMCS_LINK_POINTER),
		.pending_dbg = vmcs_read(VMCS_GUEST_PENDING_DBG),
		.entry_ctls = (u32)x->slot[SLOT_ENTRY_CTLS],
		.proc2 = (u32)vmcs_read(VMCS_PROC2_CONTROLS),
		.intr_state = (u32)x->slot[SLOT_INTR_STATE],
		.activity = (u32)vmcs_read(VMCS_GUEST_ACTIVITY),
		.entry_info = (u32)x->slot[SLOT_ENTRY_INFO],
		.entry_error = (u32)x->slot[SLOT_ENTRY_ERROR],
		.entry_len = (u32)x->slot[SLOT_ENTRY_LEN],
		.gdtr_base = x->slot[SLOT_BASE + SEG_GDTR],
		.idtr_base = x->slot[SLOT_BASE + SEG_IDTR],
		.gdtr_limit = (u32)x->slot[SLOT_LIMIT + SEG_GDTR],
		.idtr_limit = (u32)x->slot[SLOT_LIMIT + SEG_IDTR],
		.cr0_fixed0 = vmx_caps.cr0_fixed0,
		.cr0_fixed1 = vmx_caps.cr0_fixed1,
		.cr4_fixed0 = vmx_caps.cr4_fixed0,
		.cr4_fixed1 = vmx_caps.cr4_fixed1,
		.maxphyaddr = vmx_caps.maxphyaddr,
	};
	for (u32 i = 0; i < 8; i++)
		g->seg[i] = (struct vmx_seg_state){ (u16)x->slot[SLOT_SEL + i],
						    (u32)x->slot[SLOT_LIMIT + i],
						    (u32)x->slot[SLOT_AR + i],
						    x->slot[SLOT_BASE + i] };
	for (u32 i = 0; i < 4; i++)
		g->pdpte[i] = vmcs_read(VMCS_GUEST_PDPTE0 + 2 * i);
}

/* VMLAUNCH/VMRESUME returned: the VM-instruction error says which class of check failed. */
static void insn_failed(struct vmx_vcpu *x, struct vm_exit *e)
{
	struct vmx_guest_state g;
	char detail[160];
	const char *why = NULL;
	u64 err = vmcs_read(VMCS_INSN_ERROR);

	snapshot(x, &g);
	if (err == VMX_INSN_ERR_ENTRY_CONTROLS)
		why = vmx_check_event(&g, detail, sizeof(detail));
	format_snprintf(x->why, sizeof(x->why), "%s error %llu (%s)%s%s",
			x->launched ? "VMRESUME" : "VMLAUNCH", (unsigned long long)err,
			vmx_insn_error_name(err), why ? ": " : "", why ? why : "");
	*e = (struct vm_exit){ .reason = EXIT_INVALID, .code = err, .invalid.why = x->why };
}

/* Exit reasons 33, 34, 41: the entry failed after the checks on controls and host state. */
static void entry_failed(struct vmx_vcpu *x, u32 reason, struct vm_exit *e)
{
	u64 qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	struct vmx_guest_state g;
	char detail[160];
	const char *why;

	*e = (struct vm_exit){ .reason = EXIT_INVALID, .code = reason, .invalid.why = x->why };
	if (EXIT_REASON_BASIC(reason) == VMX_EXIT_MSR_LOADING) {
		format_snprintf(x->why, sizeof(x->why), "VM entry failed loading MSR entry %llu",
				(unsigned long long)qual);
		return;
	}
	if (EXIT_REASON_BASIC(reason) != VMX_EXIT_BAD_GUEST_STATE) {
		format_snprintf(x->why, sizeof(x->why), "VM entry failed with exit reason %u",
				EXIT_REASON_BASIC(reason));
		return;
	}
	snapshot(x, &g);
	why = vmx_check_guest(&g, detail, sizeof(detail));
	format_snprintf(x->why, sizeof(x->why), "exit 33, qualification %llu%s: %s",
			(unsigned long long)qual,
			qual == ENTRY_QUAL_PDPTE	? " (PDPTEs)" :
			qual == ENTRY_QUAL_LINK_POINTER ? " (link pointer)" :
							  "",
			why ? why : "a check Keel does not know failed");
}

/* --- after the exit --- */

/* An event the exit interrupted is delivered again on the next entry (SDM 3C 28.2.4). */
static void requeue_event(struct vmx_vcpu *x)
{
	u32 info = (u32)vmcs_read(VMCS_IDT_VECTORING_INFO);
	u32 type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

	if (!(info & INTR_INFO_VALID))
		return;
	if (info & INTR_INFO_ERROR_VALID)
		vmx_set(x, SLOT_ENTRY_ERROR, vmcs_read(VMCS_IDT_VECTORING_ERROR));
	if (type == EVENT_SOFTINT || type == EVENT_PRIV_SOFT_EXCEPTION ||
	    type == EVENT_SOFT_EXCEPTION)
		vmx_set(x, SLOT_ENTRY_LEN, vmcs_read(VMCS_EXIT_INSN_LEN));
	vmx_set(x, SLOT_ENTRY_INFO, info & ~(u32)INTR_INFO_RESERVED);
}

/* An IRET that unblocked NMIs faulted before it completed: NMIs are blocked again (28.2.3). */
static void nmi_reblock(struct vmx_vcpu *x, u64 bit12_set)
{
	u32 idt = (u32)vmcs_read(VMCS_IDT_VECTORING_INFO);

	if (bit12_set && !(idt & INTR_INFO_VALID) && (vmx_caps.pin & PIN_VIRTUAL_NMIS))
		vmx_set(x, SLOT_INTR_STATE, vmx_get(x, SLOT_INTR_STATE) | INTR_STATE_NMI);
}

static void inject_gp(struct vmx_vcpu *x)
{
	vmx_set(x, SLOT_ENTRY_ERROR, 0);
	vmx_set(x, SLOT_ENTRY_INFO,
		X86_EXC_GP | (EVENT_EXCEPTION << INTR_INFO_TYPE_SHIFT) | INTR_INFO_ERROR_VALID |
			INTR_INFO_VALID);
}

/* MOV to CR0: what the CPU would check (SDM 2B MOV CR), then the shadow and EFER.LMA. */
static bool mov_cr0(struct vmx_vcpu *x, u64 val)
{
	u64 efer = vmx_get(x, SLOT_EFER);

	if ((val & CR0_RESERVED_HIGH) || ((val & CR0_NW) && !(val & CR0_CD)) ||
	    ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_PG) && (efer & EFER_LME) && !(vmx_guest_cr4(x) & CR4_PAE)))
		return false;
	vmx_set_cr0(x, val);
	return true;
}

static bool mov_cr4(struct vmx_vcpu *x, u64 val)
{
	u64 allowed = vmx_caps.cr4_fixed1 & ~(u64)CR4_VMXE; /* no VMX inside (CPUID hides it) */

	if ((val & ~allowed) || ((vmx_get(x, SLOT_EFER) & EFER_LMA) && !(val & CR4_PAE)))
		return false;
	vmx_set_cr4(x, val);
	return true;
}

/* CR accesses that exit: the masked CR0/CR4 bits, and CR3 where the CPU forces its exiting. */
static enum exit_reason cr_access(struct vcpu *v, struct vmx_vcpu *x, u64 q, u32 len)
{
	u32 cr = CR_QUAL_CR(q), reg = CR_QUAL_GPR(q);
	u64 cr0 = vmx_guest_cr0(x);
	bool ok = true;

	switch (CR_QUAL_TYPE(q)) {
	case CR_TYPE_MOV_TO:
		if (cr == 0)
			ok = mov_cr0(x, v->gpr[reg]);
		else if (cr == 4)
			ok = mov_cr4(x, v->gpr[reg]);
		else if (cr == 3)
			vmx_set_reg(v, VCPU_CR3, v->gpr[reg]);
		else
			return EXIT_UNKNOWN;
		break;
	case CR_TYPE_MOV_FROM:
		if (cr != 3)
			return EXIT_UNKNOWN;
		v->gpr[reg] = vmx_get(x, SLOT_CR3);
		break;
	case CR_TYPE_CLTS:
		ok = mov_cr0(x, cr0 & ~(u64)CR0_TS);
		break;
	default: /* LMSW: bits 3:0; it can set PE but not clear it */
		ok = mov_cr0(x, (cr0 & ~0xfULL) | (CR_QUAL_LMSW_DATA(q) & 0xf) | (cr0 & CR0_PE));
		break;
	}
	if (!ok)
		inject_gp(x);
	else
		vmx_set_reg(v, VCPU_RIP, vmx_get(x, SLOT_RIP) + len);
	return EXIT_CR_ACCESS;
}

static void decode_io(struct vm_exit *e, u64 q)
{
	e->reason = EXIT_IO;
	e->io.port = IO_QUAL_PORT(q);
	e->io.size = (u8)IO_QUAL_SIZE(q);
	e->io.in = q & IO_QUAL_IN;
	e->io.string = q & IO_QUAL_STRING;
	e->io.rep = q & IO_QUAL_REP;
	if (e->io.string && vmx_caps.ins_outs_info) {
		u32 info = (u32)vmcs_read(VMCS_EXIT_INSN_INFO);

		e->io.addr_size = (u8)IO_INFO_ADDR_SIZE(info);
		e->io.seg_valid = !e->io.in; /* INS always writes ES:rDI; the field is undefined */
		e->io.seg = (u8)IO_INFO_SEG(info);
	}
}

static void ept_violation(struct vmx_vcpu *x, struct vm_exit *e, u64 q)
{
	e->reason = EXIT_NPF;
	e->npf.gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
	e->npf.write = q & EPT_QUAL_WRITE;
	e->npf.fetch = q & EPT_QUAL_FETCH;
	e->npf.present = q & EPT_QUAL_PERMS;
	e->npf.vectoring = vmcs_read(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID;
	nmi_reblock(x, q & EPT_QUAL_NMI_UNBLOCKED);
}

static void ept_misconfig(struct vcpu *v, struct vmx_vcpu *x, struct vm_exit *e)
{
	u64 gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
	char detail[128];

	ept_explain_misconfig(v->vm->gpa.root, gpa, detail, sizeof(detail));
	format_snprintf(x->why, sizeof(x->why), "EPT misconfiguration at guest-physical %llx: %s",
			(unsigned long long)gpa, detail);
	e->reason = EXIT_INVALID;
	e->invalid.why = x->why;
}

/*
 * Exit 0: with no exception intercepted, an NMI for the host. The exit
 * consumed it and left NMIs blocked (SDM 3C 28.1) until the next IRET or
 * entry: counted here as the IDT handler would, with no INT 2 (that would
 * run the handler unblocked, on the IST stack a second NMI would reuse).
 */
static void exception_or_nmi(struct vmx_vcpu *x, struct vm_exit *e)
{
	u32 info = (u32)vmcs_read(VMCS_EXIT_INTR_INFO);

	nmi_reblock(x, info & INTR_INFO_NMI_UNBLOCKED);
	if (((info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == EVENT_NMI) {
		e->reason = EXIT_NMI;
		nmi_count();
		return;
	}
	e->reason = EXIT_EXCEPTION;
	e->exception.vector = (u8)info;
	e->exception.has_error = info & INTR_INFO_ERROR_VALID;
	e->exception.error = (u32)vmcs_read(VMCS_EXIT_INTR_ERROR);
}

static void normalize(struct vcpu *v, struct vmx_vcpu *x, u32 reason, struct vm_exit *e)
{
	u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	*e = (struct vm_exit){ .code = reason };
	v->exit_rip = vmx_get(x, SLOT_RIP);
	v->exit_len = 0; /* only a length: RIP + it may wrap in the guest's mode */
	if (reason < 64 && (insn_exits & BIT(reason)))
		e->insn_len = (u32)vmcs_read(VMCS_EXIT_INSN_LEN);
	if (reason == VMX_EXIT_IO)
		decode_io(e, q);
	else if (reason == VMX_EXIT_RDMSR || reason == VMX_EXIT_WRMSR)
		e->reason = simple_exits[reason], e->msr.index = (u32)v->gpr[RCX];
	else if (reason == VMX_EXIT_EPT_VIOLATION)
		ept_violation(x, e, q);
	else if (reason == VMX_EXIT_EPT_MISCONFIG)
		ept_misconfig(v, x, e);
	else if (reason == VMX_EXIT_CR_ACCESS)
		e->reason = cr_access(v, x, q, e->insn_len);
	else if (reason == VMX_EXIT_EXCEPTION_NMI)
		exception_or_nmi(x, e);
	else if (reason <= VMX_EXIT_MAX && simple_exits[reason])
		e->reason = simple_exits[reason];
	else
		e->reason = EXIT_UNKNOWN;
}

/* The window-exiting controls have done their job once their exit comes. */
static void close_windows(struct vmx_vcpu *x, u32 reason)
{
	u64 proc = vmx_get(x, SLOT_PROC);

	if (reason == VMX_EXIT_INTR_WINDOW)
		vmx_set(x, SLOT_PROC, proc & ~(u64)PROC_INTR_WINDOW);
	else if (reason == VMX_EXIT_NMI_WINDOW)
		vmx_set(x, SLOT_PROC, proc & ~(u64)PROC_NMI_WINDOW);
}

void vmx_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmx_vcpu *x = v->arch;
	u32 reason;

	vmx_vmcs_load(x);
	prepare(v, x);
	if (vmx_enter(v->gpr, x->launched)) {
		insn_failed(x, exit);
		return;
	}
	x->cr2 = read_cr2();
	vmx_cache_exited(x);
	reason = (u32)vmcs_read(VMCS_EXIT_REASON);
	if (reason & EXIT_REASON_ENTRY_FAILED) {
		entry_failed(x, reason, exit);
		return;
	}
	x->launched = true;
	v->gpr[RSP] = vmcs_read(VMCS_GUEST_RSP);
	requeue_event(x);
	close_windows(x, EXIT_REASON_BASIC(reason));
	normalize(v, x, EXIT_REASON_BASIC(reason), exit);
}

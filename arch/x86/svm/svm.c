// SPDX-License-Identifier: MIT
/* The AMD-V backend's vCPU and VM state: VMCB set-up, registers, events, permission maps. */
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <arch/x86/svm/svm.h>
#include <arch/x86/virt.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <lib/string.h>
#include <keel/vm.h>

#define MSRPM_RANGES 3

static struct svm_vcpu *sv(struct vcpu *v)
{
	return v->arch;
}

/* APM2 15.11: 2 bits per MSR (read, write) in three 2 KiB ranges. */
static void svm_intercept_msr(struct vm *vm, u32 msr, bool read, bool write)
{
	static const u32 bases[MSRPM_RANGES] = { 0x0, 0xc0000000, 0xc0010000 };
	struct svm_vm *s = vm->arch;

	for (u32 r = 0; r < MSRPM_RANGES; r++) {
		u32 bit;

		if (msr < bases[r] || msr - bases[r] >= 0x2000)
			continue;
		bit = r * 0x4000 + (msr - bases[r]) * 2;
		s->msrpm[bit / 8] = (u8)((s->msrpm[bit / 8] & ~(3u << (bit % 8))) |
					 ((read ? 1u : 0) | (write ? 2u : 0)) << (bit % 8));
	}
}

static void svm_intercept_io(struct vm *vm, u16 port, bool on)
{
	struct svm_vm *s = vm->arch;

	if (on)
		s->iopm[port / 8] |= (u8)(1u << (port % 8));
	else
		s->iopm[port / 8] &= (u8)(~(1u << (port % 8)));
}

static int svm_vm_init(struct vm *vm)
{
	struct svm_vm *s = page_alloc_zeroed(1);

	if (!s)
		return -ENOMEM;
	vm->arch = s;
	s->iopm = virt_deny_map(IOPM_SIZE / PAGE_SIZE);
	s->msrpm = virt_deny_map(MSRPM_SIZE / PAGE_SIZE);
	return s->iopm && s->msrpm ? 0 : -ENOMEM;
}

static void svm_vm_destroy(struct vm *vm)
{
	struct svm_vm *s = vm->arch;

	if (s->iopm)
		page_free(s->iopm, IOPM_SIZE / PAGE_SIZE);
	if (s->msrpm)
		page_free(s->msrpm, MSRPM_SIZE / PAGE_SIZE);
	page_free(s, 1);
	vm->arch = NULL;
}

static void reset_state(struct vmcb_save *st)
{
	static const struct vmcb_seg data = { 0, 0x93, 0xffff, 0 };

	st->cs = (struct vmcb_seg){ 0xf000, 0x9b, 0xffff, 0xffff0000 };
	st->ds = st->es = st->ss = st->fs = st->gs = data;
	st->gdtr = st->idtr = (struct vmcb_seg){ 0, 0, 0xffff, 0 };
	st->ldtr = (struct vmcb_seg){ 0, 0x82, 0xffff, 0 };
	st->tr = (struct vmcb_seg){ 0, 0x8b, 0xffff, 0 };
	st->cr0 = CR0_CD | CR0_NW | CR0_ET;
	st->efer = EFER_SVME; /* APM2 15.5.1: VMRUN requires it; the guest never sees it */
	st->rflags = RFLAGS_RESERVED1;
	st->rip = 0xfff0;
	st->dr6 = DR6_INIT;
	st->dr7 = DR7_INIT;
	st->g_pat = PAT_POWER_ON;
}

static int svm_vcpu_create(struct vcpu *v)
{
	struct svm_vcpu *s = page_alloc_zeroed(1);
	struct svm_vm *svm = v->vm->arch;
	struct vmcb_control *c;

	if (!s)
		return -ENOMEM;
	v->arch = s;
	s->vmcb = page_alloc_zeroed(1);
	if (!s->vmcb)
		return -ENOMEM;
	s->vmcb_pa = virt_to_phys(s->vmcb);
	s->flush = true;
	c = &s->vmcb->control;
	c->intercept_misc1 = ICPT_INTR | ICPT_NMI | ICPT_CPUID | ICPT_INVD | ICPT_HLT |
			     ICPT_INVLPGA | ICPT_IOIO | ICPT_MSR | ICPT_TASK_SWITCH | ICPT_SHUTDOWN;
	c->intercept_misc2 = ICPT_VMRUN | ICPT_VMMCALL | ICPT_VMLOAD | ICPT_VMSAVE | ICPT_STGI |
			     ICPT_CLGI | ICPT_SKINIT | ICPT_MONITOR | ICPT_MWAIT | ICPT_MWAIT_COND;
	c->iopm_base_pa = virt_to_phys(svm->iopm);
	c->msrpm_base_pa = virt_to_phys(svm->msrpm);
	c->int_ctl = V_INTR_MASKING; /* host IF masks physical interrupts, guest IF virtual ones */
	if (svm_quirk_virq)
		c->intercept_cr = ICPT_CR8_WRITE; /* svm_quirk_cr8_write */
	c->nested_ctl = NP_ENABLE;
	c->n_cr3 = v->vm->gpa.root;
	reset_state(&s->vmcb->save);
	return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;

	if (s->vmcb)
		page_free(s->vmcb, 1);
	page_free(s, 1);
	v->arch = NULL;
}

/* Where each register and segment lives in the save area: a table, as they are read on every exit. */
static const u16 reg_offset[] = {
	[VCPU_RIP] = offsetof(struct vmcb_save, rip),
	[VCPU_RFLAGS] = offsetof(struct vmcb_save, rflags),
	[VCPU_CR0] = offsetof(struct vmcb_save, cr0),
	[VCPU_CR2] = offsetof(struct vmcb_save, cr2),
	[VCPU_CR3] = offsetof(struct vmcb_save, cr3),
	[VCPU_CR4] = offsetof(struct vmcb_save, cr4),
	[VCPU_EFER] = offsetof(struct vmcb_save, efer),
	[VCPU_PAT] = offsetof(struct vmcb_save, g_pat),
	[VCPU_DR7] = offsetof(struct vmcb_save, dr7),
};

static const u16 seg_offset[] = {
	[SEG_ES] = offsetof(struct vmcb_save, es),
	[SEG_CS] = offsetof(struct vmcb_save, cs),
	[SEG_SS] = offsetof(struct vmcb_save, ss),
	[SEG_DS] = offsetof(struct vmcb_save, ds),
	[SEG_FS] = offsetof(struct vmcb_save, fs),
	[SEG_GS] = offsetof(struct vmcb_save, gs),
	[SEG_LDTR] = offsetof(struct vmcb_save, ldtr),
	[SEG_TR] = offsetof(struct vmcb_save, tr),
	[SEG_GDTR] = offsetof(struct vmcb_save, gdtr),
	[SEG_IDTR] = offsetof(struct vmcb_save, idtr),
};

static u64 *reg_field(struct vmcb_save *st, enum vcpu_reg r)
{
	BUILD_ASSERT(ARRAY_SIZE(reg_offset) == VCPU_REG_COUNT, "a save-area field per register");
	return (u64 *)((u8 *)st + reg_offset[r]);
}

static u64 svm_get_reg(struct vcpu *v, enum vcpu_reg r)
{
	u64 val = *reg_field(&sv(v)->vmcb->save, r);

	return r == VCPU_EFER ? val & ~EFER_SVME : val;
}

static void svm_set_reg(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	if (r == VCPU_EFER)
		val |= EFER_SVME;
	/* the instruction at the old RIP retired: its STI shadow ends (Bochs loads int_state) */
	if (r == VCPU_RIP)
		sv(v)->vmcb->control.int_state &= ~(u64)INT_SHADOW;
	*reg_field(&sv(v)->vmcb->save, r) = val;
}

static struct vmcb_seg *seg_field(struct vmcb_save *st, enum vcpu_seg s)
{
	return (struct vmcb_seg *)((u8 *)st + seg_offset[s]);
}

/* APM2 15.5.1: the CPU takes CPL from the VMCB's CPL field, which SS.DPL may not match: report it. */
static void svm_get_seg(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *out)
{
	struct vmcb_save *st = &sv(v)->vmcb->save;
	const struct vmcb_seg *f = seg_field(st, s);

	*out = (struct vcpu_segment){ f->selector, f->attrib, f->limit, f->base };
	if (s == SEG_SS)
		out->attr = (u16)((out->attr & ~SEG_ATTR_DPL) | (st->cpl << SEG_ATTR_DPL_SHIFT));
}

static void svm_set_seg(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *in)
{
	struct vmcb_save *st = &sv(v)->vmcb->save;

	*seg_field(st, s) = (struct vmcb_seg){ in->selector, in->attr, in->limit, in->base };
	if (s == SEG_SS)
		st->cpl = (in->attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT; /* APM2 15.5.1 */
}

/*
 * EVENTINJ delivers the event as the guest's mode would, but pushes an error
 * code whenever EV says so (APM2 15.20); in real mode exceptions push none
 * (SDM vol. 3, 8086 emulation, "Interrupt and Exception Handling": FLAGS,
 * CS and IP only), so EV stays clear there.
 */
static bool svm_inject(struct vcpu *v, const struct vcpu_event *ev)
{
	struct vmcb *vmcb = sv(v)->vmcb;
	struct vmcb_control *c = &vmcb->control;
	bool error = ev->has_error && (vmcb->save.cr0 & CR0_PE);
	u64 type = ev->type;

	if (ev->type == EVENT_EXTINT && svm_quirk_virq)
		return svm_quirk_inject_virq(sv(v), ev->vector);
	if (ev->type == EVENT_NMI)
		return svm_nmi_inject(&sv(v)->nmi, sv(v)->vmcb);
	if (c->event_inj & EVENT_VALID)
		return false;
	if (type == EVENT_SOFT_EXCEPTION || type == EVENT_PRIV_SOFT_EXCEPTION)
		type = EVENT_EXCEPTION; /* APM2 15.20 has no such types: INT3, INTO, INT1 are exceptions */
	if (type == EVENT_SOFTINT || type != ev->type)
		svm_soft_skip(sv(v), vmcb, ev->insn_len);
	c->event_inj = ev->vector | (type << EVENT_TYPE_SHIFT) | EVENT_VALID |
		       (error ? EVENT_ERROR_VALID | ((u64)ev->error << 32) : 0);
	return true;
}

/* Interruptible now? If not, V_IRQ makes the CPU exit (VINTR) as soon as it is. */
static bool svm_irq_window(struct vcpu *v)
{
	struct vmcb *vmcb = sv(v)->vmcb;
	bool open = (vmcb->save.rflags & RFLAGS_IF) && !(vmcb->control.int_state & INT_SHADOW) &&
		    !(vmcb->control.event_inj & EVENT_VALID);

	if (sv(v)->virq) /* svm_quirk_virq: one interrupt in flight, V_IRQ is taken */
		return false;
	if (svm_nmi_holds_irqs(&sv(v)->nmi, vmcb))
		return false;
	if (open) {
		vmcb->control.int_ctl &= ~(u64)V_IRQ;
		vmcb->control.intercept_misc1 &= ~ICPT_VINTR;
	} else {
		vmcb->control.int_ctl |= V_IRQ | V_IGN_TPR | (0xfULL << V_INTR_PRIO_SHIFT);
		vmcb->control.intercept_misc1 |= ICPT_VINTR;
	}
	return open;
}

/*
 * A reset: nothing queued for the next VMRUN, no interrupt shadow, NMIs
 * open (INIT clears NMI blocking, SDM 3A 9.1.1 table 9-1), no window asked for.
 */
static void svm_clear_events(struct vcpu *v)
{
	struct svm_vcpu *s = sv(v);
	struct vmcb_control *c = &s->vmcb->control;

	c->event_inj = 0;
	c->int_state = 0;
	c->int_ctl &= ~(u64)V_IRQ;
	c->intercept_misc1 &= ~(u32)(ICPT_VINTR | ICPT_IRET);
	c->intercept_exceptions &= ~(u32)BIT(X86_EXC_DB);
	s->virq = false;
	s->nmi = (struct svm_nmi){ 0 };
}

const struct vcpu_ops svm_ops = {
	.name = "AMD-V",
	.gpa_format = &npt_format,
	.keeps_dr6 = true,
	.cpu_enable = svm_cpu_enable,
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.run = svm_run,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.get_seg = svm_get_seg,
	.set_seg = svm_set_seg,
	.inject = svm_inject,
	.irq_window = svm_irq_window,
	.clear_events = svm_clear_events,
	.intercept_msr = svm_intercept_msr,
	.intercept_io = svm_intercept_io,
};

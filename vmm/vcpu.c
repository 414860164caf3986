// SPDX-License-Identifier: MIT
/* Running a vCPU: deliver pending events, enter the guest, dispatch the exit, repeat. */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/fpu.h>
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/dm.h>
#include <keel/guest_walk.h>
#include <lib/format.h>
#include <lib/string.h>
#include <keel/log.h>
#include <keel/spec.h>
#include <keel/vcpu_run.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

enum exit_action vcpu_kill(struct vcpu *v, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	format_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vcpu_dump(v);
	vm_fail(v->vm, "vCPU %u: %s", v->id, msg);
	return ACT_STOP;
}

void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	v->pending_exception = (struct vcpu_event){ EVENT_EXCEPTION, vector, has_error, error, 0 };
	v->exception_pending = true;
}

void vcpu_inject_ud(struct vcpu *v)
{
	vcpu_inject_exception(v, X86_EXC_UD, false, 0);
}

void vcpu_inject_gp(struct vcpu *v)
{
	vcpu_inject_exception(v, X86_EXC_GP, true, 0);
}

/* The next instruction's address wraps at the code segment's width (IP, EIP, RIP: SDM vol. 1 3.5). */
void vcpu_skip(struct vcpu *v, u32 len)
{
	u64 old, rip;
	enum x86_mode mode;

	if (len && len == v->exit_len) { /* the CPU's own next RIP: no mode to mask it by */
		v->exit_len = 0;	 /* the exiting instruction is skipped once */
		vcpu_ops->set_reg(v, VCPU_RIP, v->exit_rip + len);
		return;
	}
	old = vcpu_ops->get_reg(v, VCPU_RIP);
	rip = old + len;
	/* only 64-bit code has RIP bits 63:32 (a far transfer to other modes loads 32 bits) */
	if (old >> 32) {
		vcpu_ops->set_reg(v, VCPU_RIP, rip);
		return;
	}
	mode = guest_mode(v);
	if (mode == X86_MODE_REAL || mode == X86_MODE_PROT16)
		rip &= 0xffff;
	else if (mode == X86_MODE_PROT32)
		rip &= 0xffffffff;
	vcpu_ops->set_reg(v, VCPU_RIP, rip);
}

void vcpu_start_ap(struct vcpu *v, u8 vector)
{
	struct vcpu_segment cs = { (u16)(vector << 8), 0x9b, 0xffff, (u64)vector << 12 };

	vcpu_ops->set_seg(v, SEG_CS, &cs);
	vcpu_ops->set_reg(v, VCPU_RIP, 0);
	WRITE_ONCE(v->state, VCPU_RUNNABLE);
}

void vcpu_reset(struct vcpu *v)
{
	static const struct vcpu_segment cs = { 0xf000, 0x9b, 0xffff, 0xffff0000 },
					 data = { 0, 0x93, 0xffff, 0 },
					 ldtr = { 0, 0x82, 0xffff, 0 }, tr = { 0, 0x8b, 0xffff, 0 },
					 table = { 0, 0, 0xffff, 0 };
	static const enum vcpu_seg datas[] = { SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

	memset(v->gpr, 0, sizeof(v->gpr));
	vcpu_ops->set_reg(v, VCPU_CR0, CR0_CD | CR0_NW | CR0_ET);
	vcpu_ops->set_reg(v, VCPU_CR4, 0);
	vcpu_ops->set_reg(v, VCPU_EFER, 0);
	vcpu_ops->set_reg(v, VCPU_CR3, 0);
	vcpu_ops->set_reg(v, VCPU_CR2, 0);
	vcpu_ops->set_reg(v, VCPU_RFLAGS, RFLAGS_RESERVED1);
	vcpu_ops->set_reg(v, VCPU_DR7, DR7_INIT);
	vcpu_ops->set_reg(v, VCPU_PAT, PAT_POWER_ON);
	vcpu_ops->set_seg(v, SEG_CS, &cs);
	for (u32 i = 0; i < ARRAY_SIZE(datas); i++)
		vcpu_ops->set_seg(v, datas[i], &data);
	vcpu_ops->set_seg(v, SEG_LDTR, &ldtr);
	vcpu_ops->set_seg(v, SEG_TR, &tr);
	vcpu_ops->set_seg(v, SEG_GDTR, &table);
	vcpu_ops->set_seg(v, SEG_IDTR, &table);
	vcpu_ops->set_reg(v, VCPU_RIP, 0xfff0);
	memset(v->dr, 0, sizeof(v->dr));
	v->dr6 = DR6_INIT;
	v->exception_pending = false;
	WRITE_ONCE(v->nmi_pending, false);
	v->tsc_aux = 0;
	mtrr_reset(v);
	vlapic_reset(v->lapic);
}

void vcpu_power_on(struct vcpu *v)
{
	vcpu_reset(v);
	vcpu_ops->clear_events(v);
	v->dm = (struct dm_io){ 0 };
	v->sipi_vector = 0;
	v->spec_ctrl = 0;
	/* no CPU may think it still holds this vCPU's FPU registers */
	for (u32 c = 0; c < nr_cpus; c++)
		__atomic_compare_exchange_n(&cpus[c]->fpu_loaded, &(void *){ v }, NULL, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	fpu_area_init(v->fpu);
	v->xcr0 = 1; /* x87 only, as after reset */
	WRITE_ONCE(v->state, v->id == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI);
}

void vcpu_dump(struct vcpu *v)
{
	struct vcpu_segment cs;

	vcpu_ops->get_seg(v, SEG_CS, &cs);
	pr_err("vm %s vCPU %u: rip %04x:%016llx rflags %llx cr0 %llx cr3 %llx cr4 %llx efer %llx",
	       v->vm->name, v->id, cs.selector, (unsigned long long)vcpu_ops->get_reg(v, VCPU_RIP),
	       (unsigned long long)vcpu_ops->get_reg(v, VCPU_RFLAGS),
	       (unsigned long long)vcpu_ops->get_reg(v, VCPU_CR0),
	       (unsigned long long)vcpu_ops->get_reg(v, VCPU_CR3),
	       (unsigned long long)vcpu_ops->get_reg(v, VCPU_CR4),
	       (unsigned long long)vcpu_ops->get_reg(v, VCPU_EFER));
	pr_err("  rax %llx rbx %llx rcx %llx rdx %llx rsi %llx rdi %llx rsp %llx rbp %llx",
	       (unsigned long long)v->gpr[RAX], (unsigned long long)v->gpr[RBX],
	       (unsigned long long)v->gpr[RCX], (unsigned long long)v->gpr[RDX],
	       (unsigned long long)v->gpr[RSI], (unsigned long long)v->gpr[RDI],
	       (unsigned long long)v->gpr[RSP], (unsigned long long)v->gpr[RBP]);
}

static bool guest_if(struct vcpu *v)
{
	return vcpu_ops->get_reg(v, VCPU_RFLAGS) & RFLAGS_IF;
}

void vcpu_update_state(struct vcpu *v)
{
	vlapic_timer_check(v->lapic);
	dm_update_state(v);
	if (v->state != VCPU_HALTED)
		return;
	if (v->nmi_pending || (vlapic_pending_vector(v->lapic) >= 0 && guest_if(v)))
		WRITE_ONCE(v->state, VCPU_RUNNABLE);
}

/*
 * One event per entry, by priority: exception, NMI, external interrupt. An
 * NMI the guest blocks (its handler has not returned) or that waits behind
 * an event being delivered stays pending, and the backend exits when it
 * can go in; meanwhile an external interrupt may.
 */
static void deliver_events(struct vcpu *v)
{
	int vec;

	if (v->exception_pending) {
		if (vcpu_ops->inject(v, &v->pending_exception))
			v->exception_pending = false;
		return;
	}
	if (READ_ONCE(v->nmi_pending)) {
		struct vcpu_event nmi = { EVENT_NMI, X86_EXC_NMI, false, 0, 0 };

		/* taken before it goes in: one raised meanwhile is the next, held (SDM 3A 6.7.1) */
		WRITE_ONCE(v->nmi_pending, false);
		if (vcpu_ops->inject(v, &nmi))
			return;
		WRITE_ONCE(v->nmi_pending, true);
	}
	vec = vlapic_pending_vector(v->lapic);
	if (vec >= 0 && vcpu_ops->irq_window(v)) {
		struct vcpu_event irq = { EVENT_EXTINT, (u8)vec, false, 0, 0 };

		if (vcpu_ops->inject(v, &irq))
			vlapic_accept(v->lapic, vec);
	}
}

/* Guest MSRs the hardware uses in guest mode but does not switch: load them when they differ. */
static void load_guest_msrs(struct vcpu *v, struct percpu *pc)
{
	if (pc->tsc_aux != v->tsc_aux) {
		wrmsr(MSR_TSC_AUX, v->tsc_aux);
		pc->tsc_aux = v->tsc_aux;
	}
	spec_enter(v, pc); /* IBPB after another VM, the vCPU's IA32_SPEC_CTRL */
}

/*
 * DR0-DR3, and DR6 where the backend does not keep it, are the vCPU's own
 * while it runs: neither VMCB nor VMCS holds them, and Keel itself never
 * uses them (its DR7 stays 0x400: the guest's breakpoints cannot fire in
 * it). Loaded when its slice starts, where they differ from what the CPU
 * holds, read back when it ends.
 */
static void debug_enter(struct vcpu *v, struct percpu *pc)
{
	static void (*const write[4])(u64) = { write_dr0, write_dr1, write_dr2, write_dr3 };

	for (u32 i = 0; i < 4; i++) {
		if (pc->dr[i] != v->dr[i]) {
			write[i](v->dr[i]);
			pc->dr[i] = v->dr[i];
		}
	}
	if (!vcpu_ops->keeps_dr6 && pc->dr6 != v->dr6) {
		write_dr6(v->dr6);
		pc->dr6 = v->dr6;
	}
}

static void debug_leave(struct vcpu *v, struct percpu *pc)
{
	v->dr[0] = pc->dr[0] = read_dr0();
	v->dr[1] = pc->dr[1] = read_dr1();
	v->dr[2] = pc->dr[2] = read_dr2();
	v->dr[3] = pc->dr[3] = read_dr3();
	if (!vcpu_ops->keeps_dr6)
		v->dr6 = pc->dr6 = read_dr6();
}

static void arm_timer(struct vcpu *v, u64 slice_end)
{
	u64 d = vlapic_timer_deadline(v->lapic);

	apic_timer_oneshot(d && d < slice_end ? d : slice_end);
}

/* The guest's FPU registers: restored when another vCPU had them, saved when the slice ends. */
static void fpu_enter(struct vcpu *v)
{
	struct percpu *pc = this_cpu();

	if (pc->fpu_loaded == v)
		return;
	fpu_restore(v->fpu, v->xcr0);
	pc->fpu_loaded = v;
}

static void fpu_leave(struct vcpu *v)
{
	fpu_save(v->fpu, &v->xcr0);
}

void vcpu_run_slice(struct vcpu *v, u64 slice_end, volatile bool *kicked)
{
	struct percpu *pc = this_cpu();
	struct vm_exit exit;
	enum exit_action act;

	WRITE_ONCE(v->running, true); /* until the FPU state is saved: the reaper waits for it */
	fpu_enter(v);
	debug_enter(v, pc);
	vlapic_timer_check(v->lapic); /* then after each exit, in vcpu_update_state */
	while (v->vm->state == VM_RUNNING && v->state == VCPU_RUNNABLE) {
		if (!v->dm.answered) /* the instruction keel-dm answered runs before any event */
			deliver_events(v);
		arm_timer(v, slice_end);
		load_guest_msrs(v, pc);
		/* before the entry reads flush requests */
		__atomic_store_n(&v->in_guest, true, __ATOMIC_SEQ_CST);
		vcpu_ops->run(v, &exit);
		WRITE_ONCE(v->in_guest, false);
		v->dm.answered = false;
		/* take the host interrupt that exited */
		__asm__ volatile("sti; nop; cli" ::: "memory");
		act = exit_dispatch(v, &exit);
		if (act == ACT_HALT && v->state == VCPU_RUNNABLE)
			WRITE_ONCE(v->state, VCPU_HALTED);
		vcpu_update_state(v);
		if (act == ACT_STOP || act == ACT_YIELD || READ_ONCE(*kicked) ||
		    rdtsc() >= slice_end)
			break;
		if (READ_ONCE(pc->nmis) != pc->nmis_seen)
			break; /* the run loop reports it and passes it on */
	}
	debug_leave(v, pc);
	fpu_leave(v);
	WRITE_ONCE(v->running, false);
}

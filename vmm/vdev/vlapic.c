// SPDX-License-Identifier: MIT
/*
 * Virtual local APIC (SDM 3A chapter 11). Registers live in a page laid out
 * like the xAPIC's; x2APIC MSR 0x800 + n maps to offset n * 16. The timer
 * counts a 1 GHz virtual bus clock and is kept as a host TSC deadline.
 */
#include <arch/x86/apic_regs.h>
#include <arch/x86/cpu.h>
#include <arch/x86/tsc.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <lib/string.h>
#include <keel/vcpu_run.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

#define VERSION_VALUE 0x50014 /* version 0x14, 6 LVT entries (max LVT 5) */
/* SDM 3A table 11-6: the x2APIC MSRs (bit n: 0x800 + n) RDMSR and WRMSR reach; the rest #GP */
#define X2APIC_READABLE                                                          \
	(BIT(0x02) | BIT(0x03) | BIT(0x08) | BIT(0x0a) | BIT(0x0d) | BIT(0x0f) | \
	 GENMASK(0x28, 0x10) | BIT(0x30) | GENMASK(0x39, 0x32) | BIT(0x3e))
#define X2APIC_WRITABLE                                                                    \
	(BIT(0x08) | BIT(0x0b) | BIT(0x0f) | BIT(0x28) | BIT(0x30) | GENMASK(0x38, 0x32) | \
	 BIT(0x3e) | BIT(0x3f))
#define BUS_HZ 1000000000ULL /* virtual APIC bus clock */

struct vlapic {
	struct vcpu *vcpu;
	u32 *regs; /* one page, the xAPIC layout */
	u64 base_msr;
	u64 timer_start;    /* host TSC when the count was loaded */
	u64 timer_deadline; /* host TSC; 0 = not armed */
	u64 tsc_deadline;   /* IA32_TSC_DEADLINE as the guest wrote it */
	/*
	 * Bit i: IRR word i may hold a bit. Set after the IRR bit, cleared
	 * only with the word found empty after: an exit with no interrupt
	 * pending (the common case) reads this instead of all of IRR.
	 */
	u32 irr_words;
};

static u32 reg(struct vlapic *l, u32 off)
{
	return __atomic_load_n(&l->regs[off / 4], __ATOMIC_ACQUIRE);
}

static void set_reg(struct vlapic *l, u32 off, u32 v)
{
	__atomic_store_n(&l->regs[off / 4], v, __ATOMIC_RELEASE);
}

static bool x2apic(struct vlapic *l)
{
	return l->base_msr & APIC_BASE_X2APIC;
}

/* The power-on state (SDM 3A 11.4.7.1), the vCPU's ID and IA32_APIC_BASE as at creation. */
void vlapic_reset(struct vlapic *l)
{
	struct vcpu *v = l->vcpu;

	for (u32 off = 0; off < PAGE_SIZE; off += 4)
		set_reg(l, off, 0);
	l->timer_start = l->timer_deadline = l->tsc_deadline = 0;
	l->irr_words = 0;
	l->base_msr = APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (v->id == 0 ? APIC_BASE_BSP : 0);
	set_reg(l, APIC_ID, v->id << 24);
	set_reg(l, APIC_VERSION, VERSION_VALUE);
	set_reg(l, APIC_DFR, 0xffffffff);
	set_reg(l, APIC_SVR, 0xff);
	for (u32 off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 0x10)
		set_reg(l, off, APIC_LVT_MASKED);
}

struct vlapic *vlapic_create(struct vcpu *v)
{
	struct vlapic *l = page_alloc_zeroed(1);
	u32 *regs = page_alloc_zeroed(1);

	if (!l || !regs) {
		if (l)
			page_free(l, 1);
		if (regs)
			page_free(regs, 1);
		return NULL;
	}
	l->vcpu = v;
	l->regs = regs;
	vlapic_reset(l);
	return l;
}

void vlapic_destroy(struct vlapic *l)
{
	page_free(l->regs, 1);
	page_free(l, 1);
}

/* Highest set bit in one of the 256-bit arrays (ISR, TMR, IRR), or -1. */
static int highest(struct vlapic *l, u32 base)
{
	for (int i = 7; i >= 0; i--) {
		u32 w = reg(l, base + (u32)i * 0x10);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static void bit_set(struct vlapic *l, u32 base, int vec)
{
	__atomic_fetch_or(&l->regs[(base + (u32)(vec / 32) * 0x10) / 4], 1u << (vec % 32),
			  __ATOMIC_ACQ_REL);
}

static void bit_clear(struct vlapic *l, u32 base, int vec)
{
	__atomic_fetch_and(&l->regs[(base + (u32)(vec / 32) * 0x10) / 4], ~(1u << (vec % 32)),
			   __ATOMIC_ACQ_REL);
}

static void irr_set(struct vlapic *l, int vec)
{
	bit_set(l, APIC_IRR, vec);
	__atomic_fetch_or(&l->irr_words, 1u << (vec / 32), __ATOMIC_ACQ_REL);
}

static void irr_clear(struct vlapic *l, int vec)
{
	u32 word = APIC_IRR + (u32)(vec / 32) * 0x10;

	bit_clear(l, APIC_IRR, vec);
	if (reg(l, word))
		return;
	__atomic_fetch_and(&l->irr_words, ~(1u << (vec / 32)), __ATOMIC_ACQ_REL);
	if (reg(l, word)) /* another CPU set a bit meanwhile: its own irr_set may have come first */
		__atomic_fetch_or(&l->irr_words, 1u << (vec / 32), __ATOMIC_ACQ_REL);
}

static int irr_highest(struct vlapic *l)
{
	return __atomic_load_n(&l->irr_words, __ATOMIC_ACQUIRE) ? highest(l, APIC_IRR) : -1;
}

/* SDM 3A 11.8.3.1: PPR = TPR if its class is at least the highest in-service class. */
static u32 ppr(struct vlapic *l)
{
	u32 tpr = reg(l, APIC_TPR) & 0xff;
	int isr = highest(l, APIC_ISR);
	u32 isrv = isr < 0 ? 0 : (u32)isr;

	return (tpr >> 4) >= (isrv >> 4) ? tpr : (isrv & 0xf0);
}

int vlapic_pending_vector(struct vlapic *l)
{
	int irr = irr_highest(l);

	if (irr < 0 || !(reg(l, APIC_SVR) & APIC_SVR_ENABLE) || !(l->base_msr & APIC_BASE_ENABLE))
		return -1;
	return ((u32)irr >> 4) > (ppr(l) >> 4) ? irr : -1;
}

void vlapic_accept(struct vlapic *l, int vec)
{
	irr_clear(l, vec);
	bit_set(l, APIC_ISR, vec);
}

void vlapic_set_irq_trig(struct vcpu *v, u8 vector, bool level)
{
	if (vector < 16)
		return; /* illegal vector: the real APIC sets ESR and drops it */
	if (level)
		bit_set(v->lapic, APIC_TMR, vector);
	else
		bit_clear(v->lapic, APIC_TMR, vector);
	irr_set(v->lapic, vector);
	sched_kick(v);
}

void vlapic_set_irq(struct vcpu *v, u8 vector)
{
	vlapic_set_irq_trig(v, vector, false);
}

static bool bit_test(struct vlapic *l, u32 base, int vec)
{
	return reg(l, base + (u32)(vec / 32) * 0x10) & (1u << (vec % 32));
}

static void eoi(struct vlapic *l)
{
	int vec = highest(l, APIC_ISR);

	if (vec < 0)
		return;
	bit_clear(l, APIC_ISR, vec);
	if (bit_test(l, APIC_TMR, vec) && l->vcpu->vm->ioapic) /* SDM 3A 11.8.5 */
		vioapic_eoi(l->vcpu->vm->ioapic, (u8)vec);
}

/* --- timer --- */

static bool deadline_mode(struct vlapic *l)
{
	return APIC_LVT_TIMER_MODE(reg(l, APIC_LVT_TIMER)) == APIC_TIMER_TSC_DEADLINE;
}

static u64 ns_to_tsc(u64 ns)
{
	return ns / 1000000000ULL * tsc_hz() + ns % 1000000000ULL * tsc_hz() / 1000000000ULL;
}

static u64 divisor(struct vlapic *l)
{
	u32 d = reg(l, APIC_TIMER_DIVIDE);
	u32 code = (d & 3) | ((d >> 1) & 4); /* SDM 3A figure 11-10 */

	return code == 7 ? 1 : 2ULL << code;
}

static u64 period_tsc(struct vlapic *l)
{
	return ns_to_tsc((u64)reg(l, APIC_TIMER_INIT) * divisor(l) * (1000000000ULL / BUS_HZ));
}

static void timer_load(struct vlapic *l)
{
	l->timer_start = tsc_now();
	/* the run loop arms the host timer from this before the next entry */
	l->timer_deadline = reg(l, APIC_TIMER_INIT) ? l->timer_start + period_tsc(l) : 0;
}

static u32 timer_current(struct vlapic *l)
{
	u64 now = tsc_now(), period = period_tsc(l);

	if (!l->timer_deadline || !period || now >= l->timer_deadline)
		return 0;
	/* through bus ticks: time left times the count overflows 64 bits for long counts */
	return (u32)(tsc_to_ns(l->timer_deadline - now) / (divisor(l) * (1000000000ULL / BUS_HZ)));
}

/* The guest's TSC deadline on the host's TSC: its TSC runs tsc_offset ahead (vmm/exit/msr.c). */
static u64 host_tsc_deadline(struct vlapic *l)
{
	u64 offset = l->vcpu->tsc_offset;

	if (!l->tsc_deadline)
		return 0;
	if ((s64)offset > 0 && l->tsc_deadline <= offset)
		return 1; /* before the host's TSC began: due at once */
	return l->tsc_deadline - offset;
}

u64 vlapic_timer_deadline(struct vlapic *l)
{
	if (APIC_LVT_TIMER_MODE(reg(l, APIC_LVT_TIMER)) == APIC_TIMER_TSC_DEADLINE)
		return host_tsc_deadline(l);
	return l->timer_deadline;
}

void vlapic_timer_check(struct vlapic *l)
{
	u32 lvt = reg(l, APIC_LVT_TIMER);
	u64 now, deadline = vlapic_timer_deadline(l);

	if (!deadline)
		return; /* not armed: the clock need not be read */
	now = tsc_now();
	if (now < deadline)
		return;
	if (!(lvt & APIC_LVT_MASKED))
		irr_set(l, (int)(lvt & 0xff));
	if (APIC_LVT_TIMER_MODE(lvt) == APIC_TIMER_TSC_DEADLINE) {
		l->tsc_deadline = 0;
	} else if (APIC_LVT_TIMER_MODE(lvt) == APIC_TIMER_PERIODIC && period_tsc(l)) {
		u64 p = period_tsc(l);

		/* skip missed periods */
		l->timer_deadline += p * ((now - l->timer_deadline) / p + 1);
	} else {
		l->timer_deadline = 0;
	}
}

/* --- inter-processor interrupts --- */

/* SDM 3A 11.12.10.2: in x2APIC mode the LDR is derived from the x2APIC ID. */
static u32 logical_id(struct vlapic *l)
{
	if (x2apic(l))
		return ((l->vcpu->id >> 4) << 16) | (1u << (l->vcpu->id & 0xf));
	return reg(l, APIC_LDR);
}

static bool logical_match(struct vlapic *l, u32 dest)
{
	u32 ldr = logical_id(l);

	if (x2apic(l)) /* SDM 3A 11.12.10.2: cluster in 31:16, bit in 15:0 */
		return (ldr >> 16) == (dest >> 16) && (ldr & dest & 0xffff);
	if ((reg(l, APIC_DFR) >> 28) == 0xf) /* flat model */
		return (ldr >> 24) & dest & 0xff;
	return (ldr >> 28) == ((dest >> 4) & 0xf) && ((ldr >> 24) & dest & 0xf); /* cluster */
}

static bool targets(struct vlapic *src, struct vlapic *dst, u64 icr, u32 dest)
{
	switch (APIC_ICR_SHORTHAND(icr)) {
	case 1:
		return src == dst;
	case 2:
		return true;
	case 3:
		return src != dst;
	}
	if (icr & APIC_ICR_LOGICAL)
		return logical_match(dst, dest);
	if (dest == (x2apic(src) ? 0xffffffff : 0xff))
		return true;
	return dst->vcpu->id == dest;
}

/*
 * SDM 3A 6.7.1: one NMI is held while another is handled; more are lost,
 * which the one pending flag gives.
 */
static void raise_nmi(struct vcpu *t)
{
	WRITE_ONCE(t->nmi_pending, true);
	sched_kick(t);
}

static void deliver(struct vcpu *t, u64 icr)
{
	u8 vec = (u8)icr;

	switch (APIC_DM(icr)) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		vlapic_set_irq(t, vec);
		break;
	case APIC_DM_NMI:
		raise_nmi(t);
		break;
	case APIC_DM_INIT:
		if (t->id != 0)
			WRITE_ONCE(t->state, VCPU_WAIT_SIPI);
		break;
	case APIC_DM_STARTUP:
		if (t->state == VCPU_WAIT_SIPI) {
			vcpu_start_ap(t, vec);
			sched_kick(t);
		}
		break;
	}
}

/* SDM 3A 11.5.1: LINT0 and LINT1 take fixed, NMI, SMI, INIT and ExtINT; edges only here. */
void vlapic_lint(struct vcpu *v, u32 pin)
{
	struct vlapic *l = v->lapic;
	u32 lvt = reg(l, pin ? APIC_LVT_LINT1 : APIC_LVT_LINT0);

	if (!(l->base_msr &
	      APIC_BASE_ENABLE)) { /* SDM 3A 11.4.3: the pins go straight to the CPU */
		if (pin)
			raise_nmi(v);
		return;
	}
	if (lvt & APIC_LVT_MASKED)
		return;
	if (APIC_DM(lvt) == APIC_DM_NMI) /* the vector is ignored */
		raise_nmi(v);
	else if (APIC_DM(lvt) == APIC_DM_FIXED)
		vlapic_set_irq(v, (u8)lvt);
}

struct vcpu *vlapic_find_dest(struct vm *vm, u32 dest, bool logical)
{
	u64 icr = logical ? APIC_ICR_LOGICAL : 0;

	for (u32 i = 0; i < vm->nr_vcpus; i++)
		if (targets(vm->vcpus[0]->lapic, vm->vcpus[i]->lapic, icr, dest))
			/* lowest priority or a single target: the first will do */
			return vm->vcpus[i];
	return NULL;
}

static void send_ipi(struct vlapic *l, u64 icr, u32 dest)
{
	struct vm *vm = l->vcpu->vm;

	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		if (!targets(l, vm->vcpus[i]->lapic, icr, dest))
			continue;
		deliver(vm->vcpus[i], icr);
		if (APIC_DM(icr) == APIC_DM_LOWEST) /* SDM 3A 11.6.2.4: one of them takes it */
			break;
	}
}

/* --- register access, shared by MMIO and MSRs --- */

static u32 read_reg(struct vlapic *l, u32 off)
{
	switch (off) {
	case APIC_PPR:
		return ppr(l);
	case APIC_TIMER_CURRENT:
		return timer_current(l);
	case APIC_LDR:
		return logical_id(l);
	case APIC_ID:
		return x2apic(l) ? l->vcpu->id : reg(l, off);
	default:
		return off < 0x400 ? reg(l, off) : 0;
	}
}

static void write_lvt_timer(struct vlapic *l, u32 v)
{
	u32 old = reg(l, APIC_LVT_TIMER);

	if (!(reg(l, APIC_SVR) & APIC_SVR_ENABLE))
		v |= APIC_LVT_MASKED;
	set_reg(l, APIC_LVT_TIMER, v & 0x700ff);
	if (APIC_LVT_TIMER_MODE(old) !=
	    APIC_LVT_TIMER_MODE(v)) { /* a mode change stops the timer */
		l->timer_deadline = 0;
		l->tsc_deadline = 0;
	}
}

static void write_reg(struct vlapic *l, u32 off, u64 v)
{
	switch (off) {
	case APIC_TPR:
		set_reg(l, off, (u32)v & 0xff);
		break;
	case APIC_EOI:
		eoi(l);
		break;
	case APIC_LDR:
		set_reg(l, off, (u32)v & 0xff000000);
		break;
	case APIC_DFR:
		set_reg(l, off, (u32)v | 0x0fffffff);
		break;
	case APIC_SVR:
		set_reg(l, off, (u32)v & 0x13ff);
		if (!(v &
		      APIC_SVR_ENABLE)) /* SDM 3A 11.4.7.2: software-disabled, every LVT masked */
			for (u32 lvt = APIC_LVT_TIMER; lvt <= APIC_LVT_ERROR; lvt += 0x10)
				set_reg(l, lvt, reg(l, lvt) | APIC_LVT_MASKED);
		break;
	case APIC_ESR:
		set_reg(l, off, 0);
		break;
	case APIC_ICR_LO:
		set_reg(l, off, (u32)v & ~(1u << 12)); /* delivery is immediate: never pending */
		if (x2apic(l))
			set_reg(l, APIC_ICR_HI, (u32)(v >> 32));
		send_ipi(l, (u32)v, x2apic(l) ? (u32)(v >> 32) : reg(l, APIC_ICR_HI) >> 24);
		break;
	case APIC_ICR_HI:
		set_reg(l, off, (u32)v & 0xff000000);
		break;
	case APIC_LVT_TIMER:
		write_lvt_timer(l, (u32)v);
		break;
	case APIC_TIMER_INIT:
		if (deadline_mode(l))
			break; /* SDM 3A 11.5.4.1: ignored in TSC-deadline mode */
		set_reg(l, off, (u32)v);
		timer_load(l);
		break;
	case APIC_TIMER_DIVIDE:
		set_reg(l, off, (u32)v & 0xb);
		break;
	case APIC_SELF_IPI:
		vlapic_set_irq(l->vcpu, (u8)v);
		break;
	default:
		/* thermal, perf, LINT0/1 (vlapic_lint), error: no sensor, PMU or APIC error fires */
		if (off >= 0x330 && off <= 0x370)
			set_reg(l, off,
				((u32)v & 0x117ff) |
					(reg(l, APIC_SVR) & APIC_SVR_ENABLE ? 0 : APIC_LVT_MASKED));
		break;
	}
}

static int mmio_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	(void)opaque;
	*val = 0;
	if (size == 4 && IS_ALIGNED(off, 4) && !x2apic(v->lapic))
		*val = read_reg(v->lapic, (u32)off & ~0xfu);
	return 0;
}

static int mmio_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	(void)opaque;
	if (size == 4 && IS_ALIGNED(off, 16) && !x2apic(v->lapic) && off != APIC_SELF_IPI)
		write_reg(v->lapic, (u32)off, val & 0xffffffff);
	return 0;
}

int vlapic_register_mmio(struct vm *vm)
{
	struct mmio_handler h = { APIC_DEFAULT_BASE, PAGE_SIZE, mmio_read,
				  mmio_write,	     NULL,	"local APIC" };

	return vm_register_mmio(vm, &h) ? 0 : -ENOSPC;
}

bool vlapic_owns_msr(u32 msr)
{
	return msr == MSR_APIC_BASE || msr == MSR_TSC_DEADLINE ||
	       (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST);
}

int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	struct vlapic *l = v->lapic;

	if (msr == MSR_APIC_BASE) {
		*val = l->base_msr;
	} else if (msr == MSR_TSC_DEADLINE) { /* SDM 3A 11.5.4.1: 0 in the other modes */
		*val = deadline_mode(l) ? l->tsc_deadline : 0;
	} else {
		u32 off = (msr - X2APIC_MSR_FIRST) << 4;

		if (!x2apic(l) || msr - X2APIC_MSR_FIRST >= 64 ||
		    !(X2APIC_READABLE & BIT(msr - X2APIC_MSR_FIRST)))
			return -EPERM;
		*val = read_reg(l, off);
		if (off == APIC_ICR_LO)
			*val |= (u64)reg(l, APIC_ICR_HI) << 32;
	}
	return 0;
}

int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	struct vlapic *l = v->lapic;

	if (msr == MSR_APIC_BASE) {
		if ((val & ~0xfffULL) != APIC_DEFAULT_BASE)
			return -EPERM; /* relocation is not supported */
		/* SDM 3A 11.12.5: x2APIC needs the enable; back to xAPIC only through disabled */
		if ((val & APIC_BASE_X2APIC) && !(val & APIC_BASE_ENABLE))
			return -EPERM;
		if (x2apic(l) && (val & APIC_BASE_ENABLE) && !(val & APIC_BASE_X2APIC))
			return -EPERM;
		l->base_msr = (val & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) | APIC_DEFAULT_BASE |
			      (l->base_msr & APIC_BASE_BSP);
	} else if (msr == MSR_TSC_DEADLINE) { /* SDM 3A 11.5.4.1: ignored in the other modes */
		if (deadline_mode(l))
			l->tsc_deadline = val;
	} else {
		u32 off = (msr - X2APIC_MSR_FIRST) << 4;

		if (!x2apic(l) || msr - X2APIC_MSR_FIRST >= 64 ||
		    !(X2APIC_WRITABLE & BIT(msr - X2APIC_MSR_FIRST)))
			return -EPERM;
		write_reg(l, off, val);
	}
	return 0;
}

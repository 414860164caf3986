// SPDX-License-Identifier: MIT
/*
 * The run loop. Every physical CPU keeps a list of the vCPUs pinned to it
 * and runs, for up to a time slice, the runnable one that has had the least
 * CPU time (its vtime); a halted vCPU costs nothing until an interrupt is
 * pending for it. A vCPU that wakes is put at most one slice behind the
 * list's clock, so it runs next (a keystroke for the service VM's shell
 * does not wait behind every spinning vCPU) but cannot bank the time it
 * slept. The CPU's LAPIC timer is armed for the earlier of the slice end
 * and the next guest timer.
 */
#include <arch/x86/apic.h>
#include <arch/x86/cpu.h>
#include <arch/x86/irq.h>
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/log.h>
#include <lib/format.h>
#include <keel/sched.h>
#include <keel/vcpu_run.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

struct run_list {
	struct spinlock lock;
	struct vcpu *head;
	struct vcpu *last; /* ran most recently: the search for the next one starts after it */
	u64 clock;	   /* the highest vtime a picked vCPU had: where newcomers start */
	volatile bool kicked;
};

static struct run_list lists[MAX_CPUS];
static void (*housekeeping)(void);
static struct vm *nmi_owner;

void sched_set_housekeeping(void (*fn)(void))
{
	housekeeping = fn;
}

void sched_set_nmi_owner(struct vm *vm)
{
	nmi_owner = vm;
}

void sched_add(struct vcpu *v)
{
	struct run_list *rl = &lists[v->pcpu];
	u64 flags = spin_lock_irqsave(&rl->lock);

	v->next = rl->head;
	v->vtime = rl->clock;
	rl->head = v;
	v->queued = true;
	spin_unlock_irqrestore(&rl->lock, flags);
	sched_kick(v);
}

void sched_kick(struct vcpu *v)
{
	struct run_list *rl = &lists[v->pcpu];

	WRITE_ONCE(rl->kicked, true);
	if (v->pcpu != this_cpu()->cpu)
		apic_send_ipi(cpus[v->pcpu]->apic_id, VECTOR_IPI_WAKE);
}

bool sched_detached(struct vcpu *v)
{
	return !READ_ONCE(v->queued) && !READ_ONCE(v->running);
}

/* Drops vCPUs of VMs that are no longer running from the list. */
static void prune(struct run_list *rl)
{
	u64 flags = spin_lock_irqsave(&rl->lock);
	struct vcpu **pp = &rl->head;

	while (*pp) {
		struct vcpu *v = *pp;

		if (v->vm->state == VM_RUNNING) {
			pp = &v->next;
			continue;
		}
		*pp = v->next;
		v->next = NULL;
		if (rl->last == v)
			rl->last = NULL;
		if (vcpu_ops->vcpu_unload) /* on its own CPU, before the reaper may free it */
			vcpu_ops->vcpu_unload(v);
		WRITE_ONCE(v->state, VCPU_STOPPED);
		WRITE_ONCE(v->queued, false);
	}
	spin_unlock_irqrestore(&rl->lock, flags);
}

static u64 slice_cycles(void)
{
	return tsc_hz() * SCHED_SLICE_NS / 1000000000ULL;
}

/*
 * The runnable vCPU with the least vtime, waking halted ones with
 * interrupts pending; among equals the first after rl->last, in turn.
 */
static struct vcpu *pick(struct run_list *rl)
{
	struct vcpu *start = rl->last && rl->last->next ? rl->last->next : rl->head;
	struct vcpu *v = start, *best = NULL;
	u64 floor = rl->clock > slice_cycles() ? rl->clock - slice_cycles() : 0;

	if (!v)
		return NULL;
	do {
		vcpu_update_state(v);
		if (v->state == VCPU_RUNNABLE) {
			/*
			 * What it waited is not owed to it, however it woke: here, or
			 * in another vCPU's exit (a start-up IPI makes an AP runnable
			 * there). A vCPU that stayed runnable is never that far behind.
			 */
			if (v->vtime < floor)
				v->vtime = floor;
			if (!best || v->vtime < best->vtime)
				best = v;
		}
		v = v->next ? v->next : rl->head;
	} while (v != start);
	if (best && best->vtime > rl->clock)
		rl->clock = best->vtime;
	return best;
}

/* The earliest guest timer among this CPU's vCPUs, or 0. */
static u64 next_guest_deadline(struct run_list *rl)
{
	u64 best = 0;

	for (struct vcpu *v = rl->head; v; v = v->next) {
		u64 d = vlapic_timer_deadline(v->lapic);

		if (d && (!best || d < best))
			best = d;
	}
	return best;
}

/*
 * NMIs this CPU took since the last look (nmi_count()): logged, and handed
 * to the vCPU of the VM that owns the platform on this CPU, if there is one;
 * Linux there reads why from port 0x61, as on the bare machine.
 */
static void nmi_pass_on(struct percpu *pc, struct run_list *rl)
{
	u64 all = READ_ONCE(pc->nmis), fresh = all - pc->nmis_seen;
	char to[VM_NAME_MAX + 16] = "";
	u64 flags;

	if (!fresh)
		return;
	pc->nmis_seen = all;
	flags = spin_lock_irqsave(&rl->lock);
	for (struct vcpu *v = rl->head; v && !to[0]; v = v->next) {
		if (v->vm != nmi_owner || v->vm->state != VM_RUNNING)
			continue;
		WRITE_ONCE(v->nmi_pending, true);
		format_snprintf(to, sizeof(to), "%s vCPU %u", v->vm->name, v->id);
	}
	spin_unlock_irqrestore(&rl->lock, flags);
	pr_warn("cpu%u: %llu NMI%s received (%llu in all), %s%s", pc->cpu,
		(unsigned long long)fresh, fresh == 1 ? "" : "s", (unsigned long long)all,
		to[0] ? "passed to vm " : "no VM here owns the platform: counted only", to);
}

static void idle(struct run_list *rl)
{
	u64 now = rdtsc(), slice = now + tsc_hz() / 100;
	u64 d = next_guest_deadline(rl);

	apic_timer_oneshot(d && d < slice ? d : slice);
	if (!READ_ONCE(rl->kicked))
		__asm__ volatile("sti; hlt; cli" ::: "memory"); /* sti's shadow covers hlt */
}

void sched_loop(void)
{
	struct percpu *pc = this_cpu();
	struct run_list *rl = &lists[pc->cpu];

	for (;;) {
		struct vcpu *v;
		u64 start;

		irq_disable();
		WRITE_ONCE(rl->kicked, false);
		nmi_pass_on(pc, rl);
		if (housekeeping && pc->cpu == 0)
			housekeeping();
		prune(rl);
		v = pick(rl);
		if (!v) {
			idle(rl);
			continue;
		}
		rl->last = v;
		start = rdtsc();
		vcpu_run_slice(v, start + slice_cycles(), &rl->kicked);
		v->vtime += rdtsc() - start;
	}
}

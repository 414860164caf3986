/* SPDX-License-Identifier: MIT */
/* The per-CPU run loop: vCPUs pinned to physical CPUs, round robin by time slice. */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <keel/vcpu.h>

#define SCHED_SLICE_NS (10 * 1000 * 1000ULL)

void sched_add(struct vcpu *v);
/* Makes v's CPU look at v again soon: leave guest mode or wake from idle. */
void sched_kick(struct vcpu *v);
/* v is no longer on any run list or CPU (its VM stopped). */
bool sched_detached(struct vcpu *v);
/* Each CPU's main loop, after boot. */
void sched_loop(void) __noreturn;
/* Work only the boot CPU does between vCPU runs (monitor, reaping). */
void sched_set_housekeeping(void (*fn)(void));
/* The VM that owns the machine's devices gets the NMIs the platform raises (the service VM). */
void sched_set_nmi_owner(struct vm *vm);

#endif

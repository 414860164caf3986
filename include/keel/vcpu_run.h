/* SPDX-License-Identifier: MIT */
/* Running one vCPU: event delivery, entering the guest, dispatching its exits. */
#ifndef KEEL_VCPU_RUN_H
#define KEEL_VCPU_RUN_H

#include <keel/vcpu.h>

/* What an exit handler asks the run loop to do. */
enum exit_action {
	ACT_RESUME, /* enter the guest again */
	ACT_HALT,   /* the vCPU waits for an interrupt */
	ACT_STOP,   /* the VM stopped (vcpu_kill, power-off): leave the run loop */
	ACT_WAIT,   /* the vCPU waits for keel-dm (VCPU_WAIT_IO); the instruction runs again */
	ACT_YIELD,  /* it spins (PAUSE loop): its slice ends, the scheduler picks again */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, struct vm_exit *exit);

/* Runs v until the slice ends (TSC deadline), it halts, its VM stops, or *kicked is set. */
void vcpu_run_slice(struct vcpu *v, u64 slice_end, volatile bool *kicked);
/* HALTED -> RUNNABLE when an interrupt it can take is pending; WAIT_IO -> RUNNABLE when answered. */
void vcpu_update_state(struct vcpu *v);
/* Records why the VM must die and returns ACT_STOP. */
enum exit_action vcpu_kill(struct vcpu *v, const char *fmt, ...) __printf(2, 3);
/* Queues an exception for the guest (e.g. #GP(0) for a refused MSR). */
void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);
void vcpu_inject_ud(struct vcpu *v);
void vcpu_inject_gp(struct vcpu *v);
/* Moves RIP past the exiting instruction of length len. */
void vcpu_skip(struct vcpu *v, u32 len);
/* Puts an AP into real mode at vector:0000 (start-up IPI). */
void vcpu_start_ap(struct vcpu *v, u8 vector);
/*
 * RESET, on the vCPU's own CPU or while it is on none (SDM 3A table 10-1): registers as at power-on,
 * at the reset vector F000:FFF0, MTRRs and the local APIC reset. The FPU,
 * XCR0 and the backend's own event state are left as they are.
 */
void vcpu_reset(struct vcpu *v);
/*
 * A platform reset, off the vCPU's CPU (its VM is resetting): vcpu_reset(),
 * no event queued, fresh FPU state; the BSP runnable, APs waiting for
 * INIT and SIPI as at the VM's first start.
 */
void vcpu_power_on(struct vcpu *v);
/* A register dump for reports about a dead VM. */
void vcpu_dump(struct vcpu *v);

/* The handler of the exit's reason (vmm/exit/dispatch.c); only the run loop calls it. */
enum exit_action exit_dispatch(struct vcpu *v, struct vm_exit *e);
/* Exit handlers (vmm/exit/). */
enum exit_action exit_cpuid(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_msr_read(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_msr_write(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_io(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_npf(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_hlt(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_pause(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_hypercall(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_shutdown(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_invalid(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_ud(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_unexpected(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_resume(struct vcpu *v, struct vm_exit *e);
enum exit_action exit_xsetbv(struct vcpu *v, struct vm_exit *e);

/* vmm/exit/mtrr.c: the guest's MTRRs, each vCPU's own */
void mtrr_reset(struct vcpu *v);
bool mtrr_owns_msr(u32 msr);
int mtrr_read(struct vcpu *v, u32 msr, u64 *val);
int mtrr_write(struct vcpu *v, u32 msr, u64 val);

extern const char *const exit_names[EXIT_COUNT];

#endif

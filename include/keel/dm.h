/* SPDX-License-Identifier: MIT */
/* Guest device accesses forwarded to keel-dm in the service VM (keelctl_abi.h, "Device models"). */
#ifndef KEEL_DM_H
#define KEEL_DM_H

#include <uapi/keel/keelctl_abi.h>
#include <lib/types.h>

struct vm;
struct vcpu;

/* A refused keel-dm command: its message, formatted into msg (len bytes); returns err. */
int dm_refuse(char *msg, u32 len, int err, const char *fmt, ...) __printf(4, 5);

/*
 * One access to a keel-dm device. 0: done (*val holds a read's answer);
 * -EAGAIN: the vCPU now waits for keel-dm, repeat the instruction later
 * without changing its state; -EFAULT: keel-dm has nothing there.
 */
int dm_access(struct vcpu *v, u32 type, u64 addr, u8 size, bool write, u64 *val);
/* A guest MMIO access outside RAM and Keel's devices: posted doorbell or dm_access. */
int dm_mmio(struct vcpu *v, gpa_t gpa, u8 size, bool write, u64 *val);
/* Configuration space of 00:dev.0 belongs to keel-dm. */
bool dm_owns_dev(const struct vm *vm, u32 dev);
/* keel-dm serves at least one device of the VM. */
bool dm_serves(const struct vm *vm);
/* The instruction went through (or the vCPU was reset): forget replayed answers. */
void dm_instruction_done(struct vcpu *v);
/* WAIT_IO -> RUNNABLE once keel-dm answered. */
void dm_update_state(struct vcpu *v);
/* KCTL_REG_IOREQ_DONE: wake the VM's vCPUs that have answers. */
void dm_answered(u32 vm_id);
/* A fresh VM: empty slots and doorbells. */
void dm_vm_init(struct vm *vm);
/* A reset: no request waits in the VM's slots, no doorbell is pending (its devices stay attached). */
void dm_vm_reset(struct vm *vm);

/* Control commands (vmm/control/control_cmd.c parses and checks the VM first). */
int dm_attach(struct vm *vm, u64 dev, char *msg, u32 msg_len);
int dm_set_doorbell(struct vm *vm, u64 dev, u64 gpa, u64 len, u64 stride, char *msg, u32 msg_len);
int dm_msi(struct vm *vm, u64 addr, u64 data, char *msg, u32 msg_len);
/* keel-dm answers ports base..base+count-1 and drives ISA IRQ irq (KCTL_DM_NO_IRQ: none). */
int dm_ports(struct vm *vm, u64 base, u64 count, u64 irq, char *msg, u32 msg_len);
int dm_irq(struct vm *vm, u64 irq, u64 level, char *msg, u32 msg_len);

#endif

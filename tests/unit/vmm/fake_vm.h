/* SPDX-License-Identifier: MIT */
/* A VM for host tests of the virtual devices: vCPUs, registered handlers, guest accesses. */
#ifndef KEEL_FAKE_VM_H
#define KEEL_FAKE_VM_H

#include <keel/vm.h>

#define FAKE_VCPUS 4

extern struct vm fake_vm;
extern struct vcpu fake_vcpus[FAKE_VCPUS];
extern u32 fake_kicks[FAKE_VCPUS]; /* sched_kick() calls per vCPU */

/* A fresh VM with nr vCPUs (IDs 0..nr-1), no devices. */
void fake_vm_reset(u32 nr);
/* Runs the VM's cleanups, as when its memory is freed. */
void fake_vm_free(void);
/* A guest IN/OUT, through the VM's port handlers as the I/O exit finds them (0xff.. if none). */
u32 fake_in(struct vcpu *v, u16 port, u8 size);
void fake_out(struct vcpu *v, u16 port, u8 size, u32 val);
/* A guest load/store to an MMIO handler's range, as the nested-page-fault exit finds it. */
u64 fake_mmio_read(struct vcpu *v, u64 gpa, u8 size);
void fake_mmio_write(struct vcpu *v, u64 gpa, u8 size, u64 val);

#endif

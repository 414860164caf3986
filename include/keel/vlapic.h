/* SPDX-License-Identifier: MIT */
/* The virtual local APIC of each vCPU: xAPIC (MMIO) and x2APIC (MSR) modes, timer, IPIs. */
#ifndef KEEL_VLAPIC_H
#define KEEL_VLAPIC_H

#include <keel/vcpu.h>

struct vlapic *vlapic_create(struct vcpu *v);
void vlapic_destroy(struct vlapic *l);
/* Back to the power-on state (RESET, not INIT): registers, timer, IA32_APIC_BASE. */
void vlapic_reset(struct vlapic *l);
/* Registers the xAPIC MMIO page of a VM (one page serves every vCPU). */
int vlapic_register_mmio(struct vm *vm);
bool vlapic_owns_msr(u32 msr);
int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val);
int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val);
/* Raises vector on the vCPU (from a device, an MSI or an IPI) and wakes it. Any CPU. */
void vlapic_set_irq(struct vcpu *v, u8 vector);
/* Same, remembering a level-triggered vector so its EOI reaches the I/O APIC. */
void vlapic_set_irq_trig(struct vcpu *v, u8 vector, bool level);
/*
 * An edge on the vCPU's LINT0 or LINT1 pin (0 or 1), delivered as its LVT
 * entry says: a fixed vector or an NMI; masked, SMI, INIT and ExtINT (no
 * 8259 drives Keel's LINT0) do nothing. With the APIC disabled in
 * IA32_APIC_BASE, LINT1 is the CPU's NMI pin. Any CPU.
 */
void vlapic_lint(struct vcpu *v, u32 pin);
/* The vCPU an interrupt with this destination (MSI or I/O APIC format) goes to, or NULL. */
struct vcpu *vlapic_find_dest(struct vm *vm, u32 dest, bool logical);
/* The highest-priority vector the vCPU should take now, or -1. */
int vlapic_pending_vector(struct vlapic *l);
/* The vector was injected: it moves from IRR to ISR. */
void vlapic_accept(struct vlapic *l, int vector);
/* Host TSC value when the timer fires next, 0 if not armed. */
u64 vlapic_timer_deadline(struct vlapic *l);
void vlapic_timer_check(struct vlapic *l);

#endif

/* SPDX-License-Identifier: MIT */
/* A virtual I/O APIC for a VM: devices raise pins, the guest's redirection table picks the vCPU and vector. */
#ifndef KEEL_VIOAPIC_H
#define KEEL_VIOAPIC_H

#include <lib/types.h>

struct vm;
struct vioapic;

#define VIOAPIC_PINS 24

/* Emulates an I/O APIC at base (MMIO) with the given ID and first GSI; freed with the VM. */
struct vioapic *vioapic_create(struct vm *vm, u64 base, u8 id, u32 gsi_base);
/* Level: asserted or not; an edge-triggered pin fires on the rising edge. */
void vioapic_set_pin(struct vioapic *io, u32 pin, bool level);
/* Several sources on one pin (a device and the control device): the pin's level is their OR. */
void vioapic_set_pin_src(struct vioapic *io, u32 pin, u32 src, bool level);
/* The guest's EOI of vector (level-triggered interrupts clear Remote IRR). */
void vioapic_eoi(struct vioapic *io, u8 vector);
/* A platform reset: every entry masked with its other bits clear, as at power-on (guests only: no mirror). */
void vioapic_reset(struct vioapic *io);
/* An emulated device owns this pin: it is never mirrored to the machine's I/O APIC. */
void vioapic_claim_pin(struct vioapic *io, u32 pin);
bool vioapic_pin_claimed(const struct vioapic *io, u32 pin);

/* Mirroring unclaimed pins onto the physical I/O APIC (the service VM's devices' INTx). */
struct vioapic_mirror {
	void (*rte_changed)(struct vioapic *io, u32 pin, u64 rte);
	void (*eoi)(struct vioapic *io, u32 pin);
};
void vioapic_set_mirror(struct vioapic *io, const struct vioapic_mirror *m);
struct vm *vioapic_vm(struct vioapic *io);
u32 vioapic_gsi_base(struct vioapic *io);
/* vmm/pci/intx_mirror.c */
void intx_mirror_attach(struct vioapic *io);

#endif

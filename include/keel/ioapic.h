/* SPDX-License-Identifier: MIT */
/* The machine's I/O APICs, owned by the hypervisor: every pin masked unless Keel routes it. */
#ifndef KEEL_IOAPIC_H
#define KEEL_IOAPIC_H

#include <keel/acpi.h>

void ioapic_init(const struct acpi_info *ai);
/* The GSI an ISA IRQ arrives on, after the MADT's overrides. */
u32 ioapic_isa_gsi(u8 irq, u16 *flags);
/* Routes a GSI to vector on the CPU with apic_id; edge/level and polarity from flags (MADT MPS INTI). */
int ioapic_route(u32 gsi, u8 vector, u32 apic_id, u16 flags);
/* Same with the trigger and polarity given directly (an I/O APIC RTE's bits 15 and 13). */
int ioapic_route_raw(u32 gsi, u8 vector, u32 apic_id, bool level, bool active_low);
void ioapic_mask(u32 gsi, bool mask);
u32 ioapic_pins(u32 index); /* redirection entries of the index-th I/O APIC */

#endif

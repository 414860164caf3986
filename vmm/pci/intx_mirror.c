// SPDX-License-Identifier: MIT
/*
 * INTx of passed-through devices: each pin of the service VM's virtual I/O
 * APIC that no emulated device owns follows the same pin of the machine's
 * I/O APIC. Unmasking it there routes the real pin to a Keel vector on the
 * CPU of the target vCPU. A level interrupt masks the real pin and raises
 * the virtual one; the guest's EOI lowers it and unmasks the real pin, which
 * fires again if the device still asserts (the usual way to share a level
 * line between a hypervisor and a guest).
 */
#include <keel/ioapic.h>
#include <arch/x86/apic_regs.h>
#include <keel/irq_route.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

static struct pin {
	struct irq_route route;
	struct vioapic *io;
	u32 pin;
	bool level;
} pins[VIOAPIC_PINS];

static void fire(struct irq_route *r)
{
	struct pin *p = r->opaque;
	u32 gsi = vioapic_gsi_base(p->io) + p->pin;

	if (p->level) {
		ioapic_mask(gsi, true); /* until the guest has handled it */
		vioapic_set_pin(p->io, p->pin, true);
	} else {
		vioapic_set_pin(p->io, p->pin, true);
		vioapic_set_pin(p->io, p->pin, false);
	}
}

static void rte_changed(struct vioapic *io, u32 pin, u64 rte)
{
	struct pin *p = &pins[pin];
	u32 gsi = vioapic_gsi_base(io) + pin;
	struct vcpu *v;

	p->io = io;
	p->pin = pin;
	p->level = rte & IOAPIC_RTE_LEVEL;
	v = vlapic_find_dest(vioapic_vm(io), (u32)(rte >> IOAPIC_RTE_DEST_SHIFT),
			     rte & IOAPIC_RTE_LOGICAL);
	if ((rte & IOAPIC_RTE_MASKED) || !v || (u8)rte < 16) {
		ioapic_mask(gsi, true);
		return;
	}
	p->route.vcpu = v;
	p->route.fire = fire;
	p->route.opaque = p;
	if (irq_route_bind(&p->route))
		return;
	ioapic_route_raw(gsi, p->route.host_vector, p->route.host_apic, p->level,
			 rte & IOAPIC_RTE_ACTIVE_LOW);
}

static void eoi(struct vioapic *io, u32 pin)
{
	if (!pins[pin].level)
		return;
	vioapic_set_pin(io, pin, false);
	ioapic_mask(vioapic_gsi_base(io) + pin, false);
}

static const struct vioapic_mirror mirror = { rte_changed, eoi };

void intx_mirror_attach(struct vioapic *io)
{
	vioapic_set_mirror(io, &mirror);
}

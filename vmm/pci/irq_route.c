// SPDX-License-Identifier: MIT
/*
 * Host vectors for passed-through interrupts. Each source gets its own
 * vector, delivered to the physical CPU the target vCPU is pinned to, so the
 * handler finds its route with one table lookup and raises the guest's
 * vector locally (MSI format: SDM 3A 11.11.1-11.11.2).
 */
#include <arch/x86/irq.h>
#include <arch/x86/apic_regs.h>
#include <arch/x86/percpu.h>
#include <keel/iommu.h>
#include <keel/irq_route.h>
#include <keel/log.h>
#include <keel/pci.h>
#include <keel/spinlock.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

#define FIRST_VECTOR 0x30
#define LAST_VECTOR 0xdf /* 0xe0 and up are Keel's own */

static struct irq_route *routes[256];
static struct spinlock lock = SPINLOCK_INIT;

static bool route_irq(struct irq_frame *f)
{
	struct irq_route *r = READ_ONCE(routes[f->vector]);

	if (!r)
		return true; /* a late interrupt after unbind: drop it */
	r->count++;
	if (r->fire)
		r->fire(r);
	else
		vlapic_set_irq(r->vcpu, r->guest_vector);
	return true;
}

void irq_route_init(void)
{
	for (u32 v = FIRST_VECTOR; v <= LAST_VECTOR; v++)
		irq_register((u8)v, route_irq);
}

int irq_route_bind(struct irq_route *r)
{
	u64 flags = spin_lock_irqsave(&lock);
	int ret = -ENOSPC;

	r->host_apic = cpus[r->vcpu->pcpu]->apic_id;
	if (r->host_vector) {
		ret = 0; /* already bound: only the target may have changed */
	} else {
		for (u32 v = FIRST_VECTOR; v <= LAST_VECTOR; v++) {
			if (routes[v])
				continue;
			routes[v] = r;
			r->host_vector = (u8)v;
			ret = 0;
			break;
		}
	}
	spin_unlock_irqrestore(&lock, flags);
	if (ret)
		pr_err("irq: no host vector left for an interrupt of VM %s", r->vcpu->vm->name);
	return ret;
}

void irq_route_unbind(struct irq_route *r)
{
	u64 flags;

	/* the entry first (invalidated, so nothing arrives through it), then the vector */
	iommu_irq_free(&r->remap);
	flags = spin_lock_irqsave(&lock);
	if (r->host_vector)
		routes[r->host_vector] = NULL;
	r->host_vector = 0;
	spin_unlock_irqrestore(&lock, flags);
}

int irq_route_msi(struct irq_route *r, u16 bdf, u64 *addr, u32 *data)
{
	/* fixed delivery, edge, physical destination */
	struct iommu_irq irq = { .bdf = bdf, .vector = r->host_vector, .apic_id = r->host_apic };
	struct iommu_msi msg;
	int ret = iommu_irq_compose(&irq, &r->remap, &msg);

	if (ret) {
		pr_err("irq: no interrupt remapping entry for %02x:%02x.%x (%d): left masked",
		       PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf), ret);
		return ret;
	}
	*addr = msg.addr;
	*data = msg.data;
	return 0;
}

bool irq_route_from_msi(struct irq_route *r, struct vm *vm, u64 addr, u32 data)
{
	struct vcpu *v;

	if ((addr & MSI_ADDR_MASK) != APIC_DEFAULT_BASE ||
	    (APIC_DM(data) != APIC_DM_FIXED && APIC_DM(data) != APIC_DM_LOWEST))
		return false; /* not an interrupt Keel can deliver (SMI, INIT...) */
	v = vlapic_find_dest(vm, (u32)((addr >> MSI_ADDR_DEST_SHIFT) & 0xff),
			     addr & MSI_ADDR_LOGICAL);
	if (!v || (data & 0xff) < 16)
		return false;
	r->vcpu = v;
	r->guest_vector = (u8)data;
	return true;
}

u32 irq_route_count(void)
{
	u32 n = 0;

	for (u32 v = FIRST_VECTOR; v <= LAST_VECTOR; v++)
		n += routes[v] != NULL;
	return n;
}

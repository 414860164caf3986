// SPDX-License-Identifier: MIT
/*
 * keel-dm's ISA devices (KCTL_OP_DM_PORTS, KCTL_OP_DM_IRQ): port ranges
 * whose every access is a request keel-dm answers, and the ISA IRQs whose
 * I/O APIC pin keel-dm drives. Used for a firmware VM's PS/2 keyboard
 * controller, which keel-dm emulates (tools/keel-dm/kbc/): Keel keeps no
 * device logic here, only the forwarding and the pin's level.
 */
#include <keel/dm.h>
#include <keel/guest.h>
#include <keel/vioapic.h>
#include <keel/vm.h>
#include <lib/format.h>

#define DM_PORTS_MAX 8 /* ports of one KCTL_OP_DM_PORTS */
#define DM_ISA_IRQS 16 /* ISA IRQs 0-15 are I/O APIC pins 0-15 (Keel's MADT overrides only IRQ 0) */
#define DM_IRQ_SRC 2   /* keel-dm's source bit on a vIOAPIC pin: ORed with Keel's own sources */

/* The ISA IRQs keel-dm drives, by VM id, for the VM of that serial (ids are reused). */
static struct {
	u64 serial;
	u16 irqs;
} isa[MAX_VMS];

static u16 irqs_of(const struct vm *vm)
{
	return isa[vm->id].serial == vm->serial ? isa[vm->id].irqs : 0;
}

/* An access to keel-dm's port: a request keel-dm answers (-EAGAIN until then). */
static int dm_port_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	u64 data = 0;
	int ret = dm_access(v, KCTL_IOREQ_PIO, port, size, false, &data);

	(void)opaque;
	*val = (u32)data;
	return ret == -EFAULT ? -EIO : ret; /* keel-dm has nothing there: the vCPU stops */
}

static int dm_port_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	u64 data = val;
	int ret = dm_access(v, KCTL_IOREQ_PIO, port, size, true, &data);

	(void)opaque;
	return ret == -EFAULT ? -EIO : ret;
}

int dm_ports(struct vm *vm, u64 base, u64 count, u64 irq, char *msg, u32 msg_len)
{
	struct io_handler h = { (u16)base,     (u16)count, dm_port_read,
				dm_port_write, NULL,	   "keel-dm ISA" };
	bool has_irq = irq != KCTL_DM_NO_IRQ;
	int ret;

	if (vm->state != VM_CREATED)
		return dm_refuse(msg, msg_len, -EBUSY,
				 "'%s' has been started: devices go on before", vm->name);
	if (!count || count > DM_PORTS_MAX || base > 0xffff || base + count > 0x10000)
		return dm_refuse(msg, msg_len, -EINVAL,
				 "ports %#llx+%llu: 1 to %u ports below 0x10000",
				 (unsigned long long)base, (unsigned long long)count, DM_PORTS_MAX);
	if (has_irq && (!irq || irq == 2 || irq >= DM_ISA_IRQS))
		return dm_refuse(msg, msg_len, -EINVAL, "ISA IRQ %llu: 1 or 3 to 15",
				 (unsigned long long)irq);
	if (has_irq && !(irqs_of(vm) & BIT(irq)) && vioapic_pin_claimed(vm->ioapic, (u32)irq))
		return dm_refuse(msg, msg_len, -EEXIST, "IRQ %llu of '%s' is Keel's",
				 (unsigned long long)irq, vm->name);
	guest_kbc_yield(vm, (u16)base, (u16)count);
	ret = vm_register_io(vm, &h);
	if (ret)
		return dm_refuse(msg, msg_len, ret, "ports %#llx-%#llx of '%s' are taken",
				 (unsigned long long)base, (unsigned long long)(base + count - 1),
				 vm->name);
	if (has_irq) {
		vioapic_claim_pin(vm->ioapic, (u32)irq);
		isa[vm->id].irqs = (u16)(irqs_of(vm) | BIT(irq));
		isa[vm->id].serial = vm->serial;
	}
	return 0;
}

int dm_irq(struct vm *vm, u64 irq, u64 level, char *msg, u32 msg_len)
{
	if (irq >= DM_ISA_IRQS || !(irqs_of(vm) & BIT(irq)))
		return dm_refuse(msg, msg_len, -ENOENT, "IRQ %llu of '%s' is not keel-dm's",
				 (unsigned long long)irq, vm->name);
	if (vm->state == VM_RUNNING) /* else nobody to interrupt: not an error for keel-dm */
		vioapic_set_pin_src(vm->ioapic, (u32)irq, DM_IRQ_SRC, level != 0);
	return 0;
}

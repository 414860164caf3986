// SPDX-License-Identifier: MIT
/*
 * Virtual I/O APIC (Intel 82093AA datasheet, register layout of sections
 * 3.1-3.2): an index register at 0x00, the window at 0x10, 24 redirection
 * entries. Edge pins deliver on a rising edge; level pins deliver while
 * asserted and Remote IRR is clear, which the guest's EOI resets.
 */
#include <arch/x86/apic_regs.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vm.h>

#define VERSION 0x20
/* delivery status and remote IRR are read-only */
#define RTE_WRITABLE       \
	(GENMASK(63, 56) | \
	 (GENMASK(16, 0) & ~(u64)IOAPIC_RTE_REMOTE_IRR & ~(u64)IOAPIC_RTE_DELIVERY_STATUS))

struct vioapic {
	struct spinlock lock;
	struct vm *vm;
	u64 base;
	u8 id;
	u32 gsi_base, sel;
	u64 rte[VIOAPIC_PINS];
	bool level[VIOAPIC_PINS];
	u8 sources[VIOAPIC_PINS]; /* a bit per source driving the pin: its level is their OR */
	u32 claimed;		  /* bit per pin owned by an emulated device */
	const struct vioapic_mirror *mirror;
};

void vioapic_claim_pin(struct vioapic *io, u32 pin)
{
	if (pin < VIOAPIC_PINS)
		io->claimed |= 1u << pin;
}

bool vioapic_pin_claimed(const struct vioapic *io, u32 pin)
{
	return pin < VIOAPIC_PINS && (io->claimed & (1u << pin));
}

void vioapic_set_mirror(struct vioapic *io, const struct vioapic_mirror *m)
{
	io->mirror = m;
}

struct vm *vioapic_vm(struct vioapic *io)
{
	return io->vm;
}

u32 vioapic_gsi_base(struct vioapic *io)
{
	return io->gsi_base;
}

static bool mirrored(struct vioapic *io, u32 pin)
{
	return io->mirror && !(io->claimed & (1u << pin));
}

static bool dest_matches(struct vcpu *v, u64 rte)
{
	u8 dest = (u8)(rte >> IOAPIC_RTE_DEST_SHIFT);

	if (rte & IOAPIC_RTE_LOGICAL) /* flat logical mode: one bit per CPU, IDs 0-7 */
		return v->id < 8 && (dest & (1u << v->id));
	return dest == 0xff || dest == v->id;
}

/* Delivers pin's vector to its destination vCPUs; called with the lock held. */
static void deliver(struct vioapic *io, u32 pin)
{
	u64 rte = io->rte[pin];
	struct vm *vm = io->vm;

	if (rte & IOAPIC_RTE_MASKED)
		return;
	if (rte & IOAPIC_RTE_LEVEL) {
		if (rte & IOAPIC_RTE_REMOTE_IRR)
			return;
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	}
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		if (!dest_matches(vm->vcpus[i], rte))
			continue;
		if (APIC_DM(rte) == APIC_DM_NMI) {
			vm->vcpus[i]->nmi_pending = true;
			sched_kick(vm->vcpus[i]);
		} else {
			vlapic_set_irq_trig(vm->vcpus[i], (u8)rte, rte & IOAPIC_RTE_LEVEL);
		}
		if (APIC_DM(rte) == APIC_DM_LOWEST) /* the first one will do */
			break;
	}
}

void vioapic_set_pin_src(struct vioapic *io, u32 pin, u32 src, bool level)
{
	u64 flags;
	bool rising;

	if (pin >= VIOAPIC_PINS || src >= 8)
		return;
	flags = spin_lock_irqsave(&io->lock);
	if (level)
		io->sources[pin] |= (u8)(1u << src);
	else
		io->sources[pin] &= (u8)(~(1u << src));
	level = io->sources[pin] != 0;
	rising = level && !io->level[pin];
	io->level[pin] = level;
	if ((io->rte[pin] & IOAPIC_RTE_LEVEL) ? level : rising)
		deliver(io, pin);
	spin_unlock_irqrestore(&io->lock, flags);
}

void vioapic_set_pin(struct vioapic *io, u32 pin, bool level)
{
	vioapic_set_pin_src(io, pin, 0, level);
}

void vioapic_eoi(struct vioapic *io, u8 vector)
{
	u32 done = 0;
	u64 flags = spin_lock_irqsave(&io->lock);

	for (u32 pin = 0; pin < VIOAPIC_PINS; pin++) {
		if ((u8)io->rte[pin] != vector || !(io->rte[pin] & IOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~(u64)IOAPIC_RTE_REMOTE_IRR;
		done |= 1u << pin;
		if (io->level[pin] && !mirrored(io, pin))
			deliver(io, pin); /* still asserted: again */
	}
	spin_unlock_irqrestore(&io->lock, flags);
	/* the device decides whether it still asserts */
	for (u32 pin = 0; pin < VIOAPIC_PINS; pin++)
		if ((done & (1u << pin)) && mirrored(io, pin))
			io->mirror->eoi(io, pin);
}

static u32 read_indirect(struct vioapic *io)
{
	u32 sel = io->sel;

	if (sel == IOAPIC_REG_ID)
		return (u32)io->id << 24;
	if (sel == IOAPIC_REG_VERSION)
		return VERSION | ((VIOAPIC_PINS - 1) << 16);
	if (sel == IOAPIC_REG_ARB)
		return (u32)io->id << 24;
	if (sel >= IOAPIC_REG_REDIR(0) && sel < IOAPIC_REG_REDIR(0) + 2 * VIOAPIC_PINS) {
		u64 rte = io->rte[(sel - IOAPIC_REG_REDIR(0)) / 2];

		return (sel & 1) ? (u32)(rte >> 32) : (u32)rte;
	}
	return 0;
}

static void write_indirect(struct vioapic *io, u32 val)
{
	u32 sel = io->sel, pin;
	u64 rte;

	if (sel == IOAPIC_REG_ID) {
		io->id = (u8)(val >> 24);
		return;
	}
	if (sel < IOAPIC_REG_REDIR(0) || sel >= IOAPIC_REG_REDIR(0) + 2 * VIOAPIC_PINS)
		return;
	pin = (sel - IOAPIC_REG_REDIR(0)) / 2;
	rte = io->rte[pin];
	rte = (sel & 1) ? (rte & 0xffffffffULL) | ((u64)val << 32) : (rte & ~0xffffffffULL) | val;
	io->rte[pin] = (io->rte[pin] & ~RTE_WRITABLE) | (rte & RTE_WRITABLE);
	if ((io->rte[pin] & IOAPIC_RTE_LEVEL) && io->level[pin])
		deliver(io, pin); /* unmasking an asserted level pin */
	if (mirrored(io, pin))
		io->mirror->rte_changed(io, pin, io->rte[pin]);
}

static int mmio_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	struct vioapic *io = opaque;
	u64 flags = spin_lock_irqsave(&io->lock);

	(void)v, (void)size;
	*val = off == IOAPIC_REGSEL ? io->sel : off == IOAPIC_WINDOW ? read_indirect(io) : 0;
	spin_unlock_irqrestore(&io->lock, flags);
	return 0;
}

static int mmio_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	struct vioapic *io = opaque;
	u64 flags = spin_lock_irqsave(&io->lock);

	(void)v, (void)size;
	if (off == IOAPIC_REGSEL)
		io->sel = (u32)val & 0xff;
	else if (off == IOAPIC_WINDOW)
		write_indirect(io, (u32)val);
	spin_unlock_irqrestore(&io->lock, flags);
	if (off == IOAPIC_EOI)
		vioapic_eoi(io, (u8)val);
	return 0;
}

void vioapic_reset(struct vioapic *io)
{
	u64 flags = spin_lock_irqsave(&io->lock);

	io->sel = 0;
	for (u32 i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
	spin_unlock_irqrestore(&io->lock, flags);
}

static void vioapic_free(void *opaque)
{
	page_free(opaque, 1);
}

struct vioapic *vioapic_create(struct vm *vm, u64 base, u8 id, u32 gsi_base)
{
	struct vioapic *io = page_alloc_zeroed(1);
	struct mmio_handler h = { base, PAGE_SIZE, mmio_read, mmio_write, io, "I/O APIC" };

	BUILD_ASSERT(sizeof(struct vioapic) <= PAGE_SIZE, "one page");
	if (!io)
		return NULL;
	io->vm = vm;
	io->base = base;
	io->id = id;
	io->gsi_base = gsi_base;
	for (u32 i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
	if (vm_add_cleanup(vm, vioapic_free, io) || !vm_register_mmio(vm, &h))
		return NULL;
	vm->ioapic = io;
	return io;
}

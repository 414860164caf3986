// SPDX-License-Identifier: MIT
/*
 * The Keel control device in the service VM (layout: include/uapi/keel/keelctl_abi.h).
 * Why it lives in the hypervisor: it is the service VM's only door to Keel
 * itself (VM life cycle, consoles, the guest RAM window), so nothing in the
 * service VM can provide it.
 *
 * BAR0's first page traps (registers); the rest is Keel memory mapped
 * straight into the service VM (command slots, console rings). BAR2 maps
 * each guest's RAM at the offset its create command got.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <arch/x86/tsc.h>
#include <keel/control.h>
#include <keel/dm.h>
#include <keel/guest.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/pci.h>
#include <keel/sched.h>
#include <keel/service_vm.h>
#include <lib/string.h>
#include <keel/vioapic.h>
#include <keel/vm.h>
#include <keel/vuart.h>

#define SHARED_SIZE (KCTL_BAR0_SIZE - KCTL_CMD_BASE)
#define WINDOW_GRAIN (2 * MiB)
#define WINDOW_BLOCKS_MAX 32768 /* 64 GiB */
#define CTL_SRC 1		/* our source bit on the vIOAPIC pin */

BUILD_ASSERT(MAX_VMS == KCTL_MAX_VMS,
	     "every VM has its console rings, request slots and doorbells");

enum release_state { RELEASE_NONE, RELEASE_WAITING, RELEASE_SCRATCH };

static struct {
	struct vm *svc;
	u16 bdf;
	u16 command;
	u8 int_line;
	u32 bar[6];	/* as the guest wrote them */
	u64 bar0, bar2; /* where they are mapped now (0: not) */
	u64 window_size;
	u32 irq_status, irq_enable, gsi;
	u8 *shared;
	struct mmio_handler *regs;
	u64 refused[2]; /* BAR0 and BAR2 placements refused (logged once each) */
	u8 window_used[WINDOW_BLOCKS_MAX / 8];
	u64 window_off[KCTL_MAX_VMS], window_span[KCTL_MAX_VMS];
	/* a stopped guest's RAM leaving the window (keelctl_abi.h): by VM id */
	u8 release[KCTL_MAX_VMS];
	u64 release_deadline[KCTL_MAX_VMS]; /* ns */
	/* Keel's own copies of each VM's console ring cursors: the service VM can scribble on the rings' */
	u32 console_head[KCTL_MAX_VMS], console_tail[KCTL_MAX_VMS];
	hpa_t scratch;		   /* 2 MiB that a window points at when keel-dm is late */
	struct spinlock out_lock;  /* a guest's vCPUs may all print at once */
	struct spinlock line_lock; /* orders updates of the INTx level */
	struct spinlock bar_lock;  /* config writes (several vCPUs) and the window's users */
} ctl = { .out_lock = SPINLOCK_INIT, .line_lock = SPINLOCK_INIT, .bar_lock = SPINLOCK_INIT };

static u8 *console_page(u32 vm_id)
{
	return ctl.shared + (KCTL_CONSOLE_BASE - KCTL_CMD_BASE) + (u64)vm_id * KCTL_CONSOLE_SIZE;
}

struct kctl_ioreq *control_ioreq(u32 vm_id, u32 vcpu)
{
	return (struct kctl_ioreq *)(ctl.shared + (KCTL_IOREQ_BASE - KCTL_CMD_BASE) +
				     (u64)vm_id * KCTL_IOREQ_VM_SIZE) +
	       vcpu;
}

struct kctl_doorbells *control_doorbells(u32 vm_id)
{
	return (struct kctl_doorbells *)(ctl.shared + (KCTL_DOORBELL_BASE - KCTL_CMD_BASE) +
					 (u64)vm_id * KCTL_DOORBELL_VM_SIZE);
}

/* --- interrupt --- */

/* Under a lock: a raise and an acknowledgement on two CPUs must not leave the older level. */
static void update_line(void)
{
	u64 flags = spin_lock_irqsave(&ctl.line_lock);
	bool pending = READ_ONCE(ctl.irq_status) & ctl.irq_enable;
	bool level = pending && !(ctl.command & PCI_CMD_INTX_DISABLE) && ctl.gsi;

	if (ctl.gsi && ctl.svc->ioapic)
		vioapic_set_pin_src(ctl.svc->ioapic, ctl.gsi, CTL_SRC, level);
	spin_unlock_irqrestore(&ctl.line_lock, flags);
}

void control_raise(u32 irq)
{
	if (!ctl.svc || (__atomic_fetch_or(&ctl.irq_status, irq, __ATOMIC_ACQ_REL) & irq))
		return; /* already pending: the line is up */
	update_line();
}

/* --- registers --- */

static u64 reg_hits[2][CONTROL_REGS]; /* [write][offset / 4]: for keelctl exits */

static void count_hit(bool write, u64 off)
{
	if (off / 4 < CONTROL_REGS)
		__atomic_fetch_add(&reg_hits[write][off / 4], 1, __ATOMIC_RELAXED);
}

u64 control_reg_hits(bool write, u32 reg)
{
	return reg < CONTROL_REGS ? __atomic_load_n(&reg_hits[write][reg], __ATOMIC_RELAXED) : 0;
}

static int regs_read(struct vcpu *v, void *opaque, u64 off, u8 size, u64 *val)
{
	(void)v, (void)opaque, (void)size;
	count_hit(false, off);
	switch (off) {
	case KCTL_REG_MAGIC:
		*val = KCTL_MAGIC;
		break;
	case KCTL_REG_VERSION:
		*val = KCTL_ABI_VERSION;
		break;
	case KCTL_REG_IRQ_STATUS:
		*val = READ_ONCE(ctl.irq_status);
		break;
	case KCTL_REG_IRQ_ENABLE:
		*val = ctl.irq_enable;
		break;
	case KCTL_REG_IRQ_GSI:
		*val = ctl.gsi;
		break;
	case KCTL_REG_WINDOW_SIZE:
		*val = (u32)(ctl.window_size / MiB);
		break;
	default:
		*val = 0;
	}
	return 0;
}

static int regs_write(struct vcpu *v, void *opaque, u64 off, u8 size, u64 val)
{
	(void)v, (void)opaque, (void)size;
	count_hit(true, off);
	switch (off) {
	case KCTL_REG_DOORBELL:
		if (val < KCTL_CMD_SLOTS)
			control_execute((struct kctl_cmd *)(ctl.shared + val * KCTL_CMD_SIZE));
		break;
	case KCTL_REG_IRQ_ACK:
		__atomic_fetch_and(&ctl.irq_status, ~(u32)val, __ATOMIC_ACQ_REL);
		break;
	case KCTL_REG_IRQ_ENABLE:
		ctl.irq_enable = (u32)val;
		break;
	case KCTL_REG_IRQ_GSI:
		if (val < VIOAPIC_PINS) {
			if (ctl.gsi && ctl.gsi != val)
				vioapic_set_pin_src(ctl.svc->ioapic, ctl.gsi, CTL_SRC, false);
			ctl.gsi = (u32)val;
		}
		break;
	case KCTL_REG_CONSOLE_KICK:
		control_console_poll();
		break;
	case KCTL_REG_IOREQ_DONE:
		dm_answered((u32)val);
		break;
	}
	update_line();
	return 0;
}

/* --- the guest RAM window (BAR2) --- */

struct window_map {
	u64 base, span;
};

/* Only the guest's RAM, and only inside its span: nothing else of it reaches the service VM. */
static int map_ram(void *ctx, gpa_t gpa, hpa_t pa, u64 size)
{
	struct window_map *w = ctx;

	if (gpa >= w->span)
		return 0;
	return vm_map(ctl.svc, w->base + gpa, pa, MIN(size, w->span - gpa), PT_RWX);
}

u64 control_window_offset(const struct vm *vm)
{
	return ctl.window_off[vm->id];
}

static void window_place(struct vm *vm)
{
	struct window_map w = { ctl.bar2 + ctl.window_off[vm->id], ctl.window_span[vm->id] };

	if (ctl.bar2 && !vm->resources_freed && vm_walk_ram(vm, map_ram, &w))
		pr_err("control device: cannot map the RAM of %s in the window", vm->name);
}

static void window_remove(u32 id)
{
	if (ctl.bar2 && ctl.window_span[id])
		vm_unmap(ctl.svc, ctl.bar2 + ctl.window_off[id], ctl.window_span[id]);
}

static u64 gpa_span(struct vm *vm)
{
	u64 low = guest_low_ram(vm->ram_size, vm->firmware);

	return vm->ram_size > low ? vm->ram_size - low + 4 * GiB :
				    vm->ram_size; /* the hole below 4 GiB */
}

int control_window_map(struct vm *vm, u64 *offset)
{
	u64 blocks = ALIGN_UP(gpa_span(vm), WINDOW_GRAIN) / WINDOW_GRAIN;
	u64 total = ctl.window_size / WINDOW_GRAIN, run = 0;
	u64 flags = spin_lock_irqsave(&ctl.bar_lock);
	int ret = -ENOSPC;

	for (u64 b = 0; b < total; b++) {
		run = (ctl.window_used[b / 8] & (1u << (b % 8))) ? 0 : run + 1;
		if (run < blocks)
			continue;
		for (u64 k = b + 1 - blocks; k <= b; k++)
			ctl.window_used[k / 8] |= (u8)(1u << (k % 8));
		ctl.window_off[vm->id] = (b + 1 - blocks) * WINDOW_GRAIN;
		ctl.window_span[vm->id] = blocks * WINDOW_GRAIN;
		*offset = ctl.window_off[vm->id];
		window_place(vm);
		ret = 0;
		break;
	}
	spin_unlock_irqrestore(&ctl.bar_lock, flags);
	return ret;
}

/* Takes the window range of VM id out of the service VM (whatever it points at) and frees it. */
static void window_free(u32 id)
{
	u64 first = ctl.window_off[id] / WINDOW_GRAIN;
	u64 flags = spin_lock_irqsave(&ctl.bar_lock);

	window_remove(id);
	for (u64 k = first; k < first + ctl.window_span[id] / WINDOW_GRAIN; k++)
		ctl.window_used[k / 8] &= (u8)(~(1u << (k % 8)));
	ctl.window_span[id] = 0;
	ctl.release[id] = RELEASE_NONE;
	spin_unlock_irqrestore(&ctl.bar_lock, flags);
}

/* keel-dm is late: whatever it still does in the range lands in one scratch chunk, not in RAM. */
static void window_scratch(u32 id)
{
	u64 base = ctl.bar2 + ctl.window_off[id], flags = spin_lock_irqsave(&ctl.bar_lock);

	for (u64 off = 0; ctl.bar2 && off < ctl.window_span[id]; off += WINDOW_GRAIN)
		vm_map(ctl.svc, base + off, ctl.scratch, WINDOW_GRAIN, PT_RWX);
	spin_unlock_irqrestore(&ctl.bar_lock, flags);
}

/* The reaper asks: may this stopped guest's RAM go? Only once the window no longer maps it. */
static bool ram_may_go(struct vm *vm)
{
	u32 id = vm->id;

	if (!ctl.svc || id >= KCTL_MAX_VMS || !ctl.window_span[id])
		return true;
	switch (ctl.release[id]) {
	case RELEASE_NONE: /* tell keel-dm, and wait for it */
		ctl.release[id] = RELEASE_WAITING;
		ctl.release_deadline[id] = time_ns() + KCTL_RELEASE_WAIT_MS * 1000000ULL;
		control_raise(KCTL_IRQ_VM_STATE);
		return false;
	case RELEASE_WAITING:
		if (time_ns() < ctl.release_deadline[id])
			return false;
		pr_warn("vm %s: keel-dm did not let go of its RAM within %u ms: its window now shows a scratch page",
			vm->name, KCTL_RELEASE_WAIT_MS);
		window_scratch(id);
		ctl.release[id] = RELEASE_SCRATCH;
		return true;
	default:
		return true;
	}
}

/* And may the VM itself go: nothing of the window left for keel-dm to release. */
static bool vm_may_go(struct vm *vm)
{
	return !ctl.svc || vm->id >= KCTL_MAX_VMS || !ctl.window_span[vm->id];
}

static const struct vm_teardown_ops teardown = { ram_may_go, vm_may_go };

bool control_release_pending(const struct vm *vm)
{
	return vm->id < KCTL_MAX_VMS && ctl.release[vm->id] != RELEASE_NONE;
}

int control_release(struct vm *vm)
{
	if (vm->id >= KCTL_MAX_VMS || ctl.release[vm->id] == RELEASE_NONE)
		return -EINVAL;
	window_free(vm->id); /* with the flush: nothing of the service VM reaches it after this */
	return 0;
}

/* --- BARs: follow where the service VM puts them, where they may go --- */

static u64 bar_addr(u32 i)
{
	return ((u64)ctl.bar[i + 1] << 32 | ctl.bar[i]) & ~0xfULL;
}

/* Where BAR i decodes now: 0 while off, or placed over what is not the service VM's. */
static u64 placement(u32 i, u64 size)
{
	u64 a = (ctl.command & PCI_CMD_MEMORY) ? bar_addr(i) : 0;
	char why[96];

	if (!a || service_map_place_ok(a, size, false, why, sizeof(why)))
		return a;
	if (ctl.refused[i / 2] != a)
		pr_err("control device: the service VM put BAR%u at %llx, %s: not decoded", i,
		       (unsigned long long)a, why);
	ctl.refused[i / 2] = a;
	return 0;
}

static void move_bar0(u64 b0)
{
	if (ctl.bar0)
		service_map_unclaim(ctl.bar0, KCTL_BAR0_SIZE); /* back to what was the VM's there */
	ctl.regs->size = 0;
	ctl.regs->base = b0;
	if (b0) {
		service_map_claim(b0, KCTL_BAR0_SIZE);
		vm_map(ctl.svc, b0 + KCTL_CMD_BASE, virt_to_phys(ctl.shared), SHARED_SIZE, PT_RWX);
		ctl.regs->size = PAGE_SIZE;
	}
	ctl.bar0 = b0;
}

static void move_bar2(u64 b2)
{
	if (ctl.bar2)
		service_map_unclaim(ctl.bar2, ctl.window_size); /* takes every guest's RAM away */
	ctl.bar2 = b2;
	if (!b2)
		return;
	service_map_claim(b2, ctl.window_size);
	for (u32 id = 1; id < KCTL_MAX_VMS; id++) {
		struct vm *vm = ctl.window_span[id] ? vm_get(id) : NULL;

		if (vm) {
			window_place(vm);
			vm_put(vm);
		}
	}
}

/* Under bar_lock. */
static void place_bars(void)
{
	u64 b0 = placement(0, KCTL_BAR0_SIZE), b2 = placement(2, ctl.window_size);

	if (b0 != ctl.bar0)
		move_bar0(b0);
	if (b2 != ctl.bar2)
		move_bar2(b2);
}

/* --- config space --- */

static u32 cfg_dword(u32 reg)
{
	switch (reg) {
	case 0x00:
		return (u32)KCTL_DEVICE << 16 | KCTL_VENDOR;
	case 0x04: /* status bit 3: interrupt pending (PCI 3.0 6.2.3) */
		return ctl.command |
		       ((ctl.irq_status & ctl.irq_enable) ? PCI_STATUS_INTERRUPT << 16 : 0);
	case 0x08:
		return KCTL_CLASS << 8 | 1;
	case 0x10:
	case 0x14:
	case 0x18:
	case 0x1c:
		return ctl.bar[(reg - 0x10) / 4];
	case 0x2c:
		return (u32)KCTL_DEVICE << 16 | KCTL_VENDOR;
	case 0x3c:
		return 1u << 8 | ctl.int_line; /* INTA */
	default:
		return 0;
	}
}

bool control_cfg_read(u16 bdf, u32 off, u32 size, u32 *val)
{
	if (!ctl.svc || bdf != ctl.bdf)
		return false;
	*val = cfg_dword(off & ~3u) >> ((off & 3) * 8);
	if (size < 4)
		*val &= (1u << (size * 8)) - 1;
	return true;
}

static void bar_write(u32 i, u32 val)
{
	u64 size = i < 2 ? KCTL_BAR0_SIZE : ctl.window_size;
	u32 flags = i == 0 ? PCI_BAR_MEM64 : i == 2 ? PCI_BAR_MEM64 | PCI_BAR_PREFETCH : 0;

	if (i >= 4)
		/* the device has no BAR4/5: unused BARs are hardwired to 0 (PCI 3.0 6.2.5.1) */
		return;
	if (i & 1) /* upper halves: sizing reads back what the size allows */
		ctl.bar[i] = val & (u32)(~(size - 1) >> 32);
	else
		ctl.bar[i] = (val & (u32)(~(size - 1)) & ~0xfu) | flags;
}

bool control_cfg_write(u16 bdf, u32 off, u32 size, u32 val)
{
	u32 reg = off & ~3u, shift = (off & 3) * 8;
	u32 mask = (size == 4 ? 0xffffffff : (1u << (size * 8)) - 1) << shift;
	u32 v = (cfg_dword(reg) & ~mask) | ((val << shift) & mask);
	u64 flags;

	if (!ctl.svc || bdf != ctl.bdf)
		return false;
	flags = spin_lock_irqsave(&ctl.bar_lock);
	if (reg == 0x04)
		ctl.command = (u16)(v & (PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE));
	else if (reg >= 0x10 && reg < 0x20)
		bar_write((reg - 0x10) / 4, v);
	else if (reg == 0x3c)
		ctl.int_line = (u8)v;
	place_bars();
	spin_unlock_irqrestore(&ctl.bar_lock, flags);
	update_line();
	return true;
}

/* --- consoles --- */

void control_console_reset(u32 vm_id)
{
	memset(console_page(vm_id), 0, KCTL_CONSOLE_SIZE);
	ctl.console_head[vm_id] = ctl.console_tail[vm_id] = 0;
}

void control_console_out(struct vuart *u, void *ctx, u8 byte)
{
	struct vm *vm = vuart_vm(u);
	struct kctl_ring_hdr *r = (struct kctl_ring_hdr *)(console_page(vm->id) + KCTL_RING_OUT);
	u8 *data = (u8 *)(r + 1);
	u64 flags = spin_lock_irqsave(&ctl.out_lock);
	u32 head = ctl.console_head[vm->id];

	(void)ctx;
	/* the oldest byte goes if nobody read it (keelctl_abi.h) */
	data[head % KCTL_OUT_DATA] = byte;
	ctl.console_head[vm->id] = head + 1;
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&ctl.out_lock, flags);
	control_raise(KCTL_IRQ_CONSOLE);
}

/*
 * Keyboard bytes from the in rings into the guests' UARTs. Called on the boot CPU and on a
 * kick from the service VM: one at a time (or bytes get reordered), and never while a
 * VM is being freed; a caller that finds the lock taken leaves the work to its holder.
 */
void control_console_poll(void)
{
	if (!vm_admin_trylock())
		return;
	for (u32 id = 0; ctl.svc && id < nr_vms_created; id++) {
		struct vm *vm = vms[id];
		struct kctl_ring_hdr *r;
		u8 *data;
		u32 tail, head;

		if (!vm || vm == ctl.svc || vm->state != VM_RUNNING || !vm->uart)
			continue;
		r = (struct kctl_ring_hdr *)(console_page(id) + KCTL_RING_IN);
		data = (u8 *)(r + 1);
		tail = ctl.console_tail[id];
		/* read once: the service VM writes it */
		head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (head - tail > KCTL_IN_DATA)
			tail = head; /* a broken producer: drop what it claims */
		while (tail != head && vuart_receive(vm->uart, data[tail % KCTL_IN_DATA]))
			tail++;
		ctl.console_tail[id] = tail;
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	vm_admin_unlock();
}

int control_init(struct vm *service, u64 window_size)
{
	struct mmio_handler h = { 0, 0, regs_read, regs_write, NULL, "control device" };
	int dev;

	for (dev = 31; dev > 0 && pci_find(PCI_BDF(0, dev, 0)); dev--)
		;
	ctl.shared = page_alloc_zeroed(SHARED_SIZE / PAGE_SIZE);
	ctl.scratch = page_alloc_range(WINDOW_GRAIN / PAGE_SIZE, WINDOW_GRAIN / PAGE_SIZE, 0);
	if (!dev || !ctl.shared || !ctl.scratch)
		return -ENOSPC;
	vm_set_teardown_ops(&teardown);
	ctl.regs = vm_register_mmio(service, &h);
	if (!ctl.regs)
		return -ENOSPC;
	ctl.svc = service;
	ctl.bdf = PCI_BDF(0, dev, 0);
	ctl.window_size = MIN(window_size, (u64)WINDOW_BLOCKS_MAX * WINDOW_GRAIN);
	bar_write(0, 0);
	bar_write(1, 0);
	bar_write(2, 0);
	bar_write(3, 0);
	pr_info("control device at 00:%02x.0, guest RAM window %llu GiB", dev,
		(unsigned long long)(ctl.window_size / GiB));
	return 0;
}

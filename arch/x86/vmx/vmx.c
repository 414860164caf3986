// SPDX-License-Identifier: MIT
/*
 * The VT-x backend's vCPU and VM objects: MSR and I/O permission bitmaps
 * (deny by default: virt_deny_map), the EPT pointer, VPIDs, event injection
 * and the interrupt window. Registers live in vmx_state.c, entering the
 * guest in vmx_run.c.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/virt.h>
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>
#include <lib/string.h>
#include <keel/vm.h>

#define MSR_BITMAP_HIGH 0xc0000000 /* SDM 3C 25.6.9: 0-1fff and c0000000-c0001fff */
#define MSR_BITMAP_WRITE 0x800	   /* the write half starts 2 KiB in */
#define IO_BITMAP_PAGES 2
#define VPID_MAX 4096 /* 64 VMs of 64 vCPUs */

static u64 vpids[VPID_MAX / 64];
static struct spinlock vpid_lock = SPINLOCK_INIT;

/* VPID 0 is the host's; 0 back means "none left": the vCPU then runs without one. */
static u16 vpid_alloc(void)
{
	u64 flags = spin_lock_irqsave(&vpid_lock);
	u16 id = 0;

	for (u32 i = 1; i < VPID_MAX && !id; i++) {
		if (!(vpids[i / 64] & BIT(i % 64))) {
			vpids[i / 64] |= BIT(i % 64);
			id = (u16)i;
		}
	}
	spin_unlock_irqrestore(&vpid_lock, flags);
	return id;
}

static void vpid_free(u16 id)
{
	u64 flags = spin_lock_irqsave(&vpid_lock);

	vpids[id / 64] &= ~BIT(id % 64);
	spin_unlock_irqrestore(&vpid_lock, flags);
}

static void set_bit8(u8 *map, u32 bit, bool on)
{
	if (on)
		map[bit / 8] |= (u8)(1u << (bit % 8));
	else
		map[bit / 8] &= (u8)(~(1u << (bit % 8)));
}

static void vmx_intercept_msr(struct vm *vm, u32 msr, bool read, bool write)
{
	struct vmx_vm *xv = vm->arch;
	u32 base;

	if (msr < 0x2000)
		base = 0;
	else if (msr - MSR_BITMAP_HIGH < 0x2000)
		base = 0x400;
	else
		return; /* outside both ranges every access exits anyway */
	set_bit8(xv->msr_bitmap + base, msr & 0x1fff, read);
	set_bit8(xv->msr_bitmap + MSR_BITMAP_WRITE + base, msr & 0x1fff, write);
}

static void vmx_intercept_io(struct vm *vm, u16 port, bool on)
{
	set_bit8(((struct vmx_vm *)vm->arch)->io_bitmap, port, on);
}

static int vmx_vm_init(struct vm *vm)
{
	struct vmx_vm *xv = page_alloc_zeroed(1);
	u64 type = (vmx_caps.ept_vpid & EPT_CAP_WB) ? MEMTYPE_WB : MEMTYPE_UC;

	if (!xv)
		return -ENOMEM;
	vm->arch = xv;
	xv->msr_bitmap = virt_deny_map(1);
	xv->io_bitmap = virt_deny_map(IO_BITMAP_PAGES);
	if (!xv->msr_bitmap || !xv->io_bitmap)
		return -ENOMEM;
	xv->eptp = vm->gpa.root | type | EPTP_WALK4; /* SDM 3C 25.6.11 */
	return 0;
}

static void vmx_vm_destroy(struct vm *vm)
{
	struct vmx_vm *xv = vm->arch;

	if (xv->msr_bitmap)
		page_free(xv->msr_bitmap, 1);
	if (xv->io_bitmap)
		page_free(xv->io_bitmap, IO_BITMAP_PAGES);
	page_free(xv, 1);
	vm->arch = NULL;
}

static int vmx_vcpu_create(struct vcpu *v)
{
	struct vmx_vcpu *x = page_alloc_zeroed(1);

	BUILD_ASSERT(sizeof(struct vmx_vcpu) <= PAGE_SIZE, "one page");
	if (!x)
		return -ENOMEM;
	v->arch = x;
	x->vmcs = page_alloc_zeroed(1);
	if (!x->vmcs)
		return -ENOMEM;
	x->vmcs[0] = vmx_caps.revision; /* SDM 3C 25.2 */
	x->vmcs_pa = virt_to_phys(x->vmcs);
	x->vm = v->vm->arch;
	x->cpu = v->pcpu;
	x->vpid = (vmx_caps.proc2 & PROC2_VPID) ? vpid_alloc() : 0;
	x->flush = true; /* the VPID and the EPT root may carry an earlier owner's translations */
	vmx_reset_state(x);
	v->dr6 = DR6_INIT; /* no VMCS field: vmm/vcpu.c switches it */
	return 0;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *x = v->arch;

	v->arch = NULL;
	if (!x->vmcs) {
		page_free(x, 1);
		return;
	}
	if (x->vpid)
		vpid_free(x->vpid);
	if (vmx_vmcs_release(x))
		vmx_vcpu_free(x);
}

static void vmx_vcpu_unload(struct vcpu *v)
{
	vmx_vmcs_unload(v->arch);
}

static bool nmi_blocked(struct vmx_vcpu *x)
{
	return vmx_get(x, SLOT_INTR_STATE) & (INTR_STATE_STI | INTR_STATE_MOV_SS | INTR_STATE_NMI);
}

static void set_proc_bit(struct vmx_vcpu *x, u32 bit, bool on)
{
	u64 proc = vmx_get(x, SLOT_PROC), want = on ? proc | bit : proc & ~(u64)bit;

	if (want != proc)
		vmx_set(x, SLOT_PROC, want);
}

/* SDM 3C 27.2.1.3: error codes only for the exceptions that push one, and not in real mode. */
static bool vmx_inject(struct vcpu *v, const struct vcpu_event *ev)
{
	struct vmx_vcpu *x = v->arch;
	u32 info = ev->vector | ((u32)ev->type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
	bool pushes = ev->type == EVENT_EXCEPTION && ev->vector < X86_NR_EXCEPTIONS &&
		      (X86_EXC_ERROR_CODES & BIT(ev->vector));

	/* an NMI behind an event being delivered: the window exit comes once that one is in */
	if (vmx_get(x, SLOT_ENTRY_INFO) & INTR_INFO_VALID) {
		if (ev->type == EVENT_NMI && vmx_caps.nmi_window)
			set_proc_bit(x, PROC_NMI_WINDOW, true);
		return false;
	}
	if (ev->type == EVENT_NMI && nmi_blocked(x)) {
		if (vmx_caps.nmi_window)
			set_proc_bit(x, PROC_NMI_WINDOW, true);
		return false;
	}
	if (pushes && (vmx_guest_cr0(x) & CR0_PE)) {
		info |= INTR_INFO_ERROR_VALID;
		vmx_set(x, SLOT_ENTRY_ERROR, ev->has_error ? ev->error & 0xffff : 0);
	}
	if (ev->type == EVENT_SOFTINT || ev->type == EVENT_PRIV_SOFT_EXCEPTION ||
	    ev->type == EVENT_SOFT_EXCEPTION)
		vmx_set(x, SLOT_ENTRY_LEN, ev->insn_len); /* SDM 3C 26.6.1.1: pushed RIP + this */
	vmx_set(x, SLOT_ENTRY_INFO, info);
	return true;
}

/* A reset: no event queued for the next entry, no STI/MOV SS or NMI blocking, no window exits. */
static void vmx_clear_events(struct vcpu *v)
{
	struct vmx_vcpu *x = v->arch;

	vmx_set(x, SLOT_ENTRY_INFO, 0);
	vmx_set(x, SLOT_INTR_STATE, 0);
	set_proc_bit(x, PROC_INTR_WINDOW, false);
	set_proc_bit(x, PROC_NMI_WINDOW, false);
}

/* Interruptible now? If not, interrupt-window exiting makes the CPU exit as soon as it is. */
static bool vmx_irq_window(struct vcpu *v)
{
	struct vmx_vcpu *x = v->arch;
	bool open = (vmx_get(x, SLOT_RFLAGS) & RFLAGS_IF) &&
		    !(vmx_get(x, SLOT_INTR_STATE) & (INTR_STATE_STI | INTR_STATE_MOV_SS)) &&
		    !(vmx_get(x, SLOT_ENTRY_INFO) & INTR_INFO_VALID);

	set_proc_bit(x, PROC_INTR_WINDOW, !open);
	return open;
}

const struct vcpu_ops vmx_ops = {
	.name = "VT-x",
	.gpa_format = &ept_format,
	.keeps_dr6 = false,
	.cpu_enable = vmx_cpu_enable,
	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vcpu_unload = vmx_vcpu_unload,
	.run = vmx_run,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.get_seg = vmx_get_seg,
	.set_seg = vmx_set_seg,
	.inject = vmx_inject,
	.irq_window = vmx_irq_window,
	.clear_events = vmx_clear_events,
	.intercept_msr = vmx_intercept_msr,
	.intercept_io = vmx_intercept_io,
};

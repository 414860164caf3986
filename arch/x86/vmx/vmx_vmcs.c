// SPDX-License-Identifier: MIT
/*
 * A VMCS on its CPU. Each CPU keeps at most one VMCS active, its current
 * one: switching to another vCPU first reads the old one's guest state into
 * its cache and VMCLEARs it (SDM 3C 25.11.3), and the syscall MSRs that VMX
 * does not switch (STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE) change hands
 * at the same time; Keel itself never uses them. A vCPU destroyed from
 * another CPU while its VMCS is current on its own CPU is left there as a
 * zombie, which that CPU clears and frees when it next switches VMCS
 * (freeing a VMCS that is still active would let the CPU write into memory
 * that has a new owner).
 */
#include <arch/x86/cpu.h>
#include <arch/x86/desc.h>
#include <arch/x86/percpu.h>
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>

struct vmx_pcpu {
	struct spinlock lock;
	struct vmx_vcpu *current;
};

static struct vmx_pcpu pcpus[MAX_CPUS];
static const u32 syscall_msrs[VMX_SYSCALL_MSRS] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
};

void vmcs_write(u32 field, u64 val)
{
	if (vmcs_write_failed(field, val))
		pr_err("vmx: VMWRITE of field 0x%04x failed (VM-instruction error %llu)", field,
		       (unsigned long long)vmcs_read(VMCS_INSN_ERROR));
}

bool vmx_vmcs_is_current(const struct vmx_vcpu *x)
{
	return pcpus[this_cpu()->cpu].current == x;
}

/* SDM 3C 25.5 and 27.2.2-27.2.3: Keel's own state, reloaded on every exit. */
static void write_host_state(void)
{
	struct percpu *pc = this_cpu();
	struct {
		u16 limit;
		u64 base;
	} __packed idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SEL, SEL_CODE64);
	vmcs_write(VMCS_HOST_SS_SEL, SEL_DATA);
	vmcs_write(VMCS_HOST_DS_SEL, SEL_DATA);
	vmcs_write(VMCS_HOST_ES_SEL, SEL_DATA);
	vmcs_write(VMCS_HOST_FS_SEL, 0);
	vmcs_write(VMCS_HOST_GS_SEL, 0);
	vmcs_write(VMCS_HOST_TR_SEL, SEL_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE)); /* struct percpu */
	vmcs_write(VMCS_HOST_TR_BASE, (u64)(uintptr_t)&pc->tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, (u64)(uintptr_t)pc->gdt);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmcs_write(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmcs_write(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_PAT));
	vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vmcs_write(VMCS_HOST_RIP, (u64)(uintptr_t)vmx_exit_entry);
}

/*
 * PAUSE-loop exiting (SDM 3C 25.1.3), in TSC cycles: PAUSEs at most
 * PLE_GAP apart are one spin loop, and a loop that spins longer than
 * PLE_WINDOW exits, so the run loop can give the CPU to another vCPU
 * (the one the spinner waits for, perhaps) and end a slice that is over.
 * The second matters under Bochs 2.7: a VM entry with the guest's IF clear
 * masks host interrupts as if in VMX root mode (it applies IF before it
 * marks the CPU in guest mode), so the LAPIC timer cannot end a slice of a
 * vCPU that spins with interrupts off; PAUSE-loop exits still come.
 */
#define PLE_GAP 128
#define PLE_WINDOW 65536

/* The controls (adjusted to the CPU in vmx_cpu.c) and guest fields vmm/ never sees. */
static void write_controls(struct vmx_vcpu *x)
{
	vmcs_write(VMCS_PIN_CONTROLS, vmx_caps.pin);
	if (vmx_caps.proc2 & PROC2_PAUSE_LOOP) {
		vmcs_write(VMCS_PLE_GAP, PLE_GAP);
		vmcs_write(VMCS_PLE_WINDOW, PLE_WINDOW);
	}
	vmcs_write(VMCS_PROC2_CONTROLS, x->vpid ? vmx_caps.proc2 : vmx_caps.proc2 & ~PROC2_VPID);
	vmcs_write(VMCS_EXIT_CONTROLS, vmx_caps.exit);
	vmcs_write(VMCS_VPID, x->vpid);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_PF_ERROR_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_IO_BITMAP_A, virt_to_phys(x->vm->io_bitmap));
	vmcs_write(VMCS_IO_BITMAP_B, virt_to_phys(x->vm->io_bitmap) + PAGE_SIZE);
	vmcs_write(VMCS_MSR_BITMAP, virt_to_phys(x->vm->msr_bitmap));
	vmcs_write(VMCS_EPT_POINTER, x->vm->eptp);
	vmcs_write(VMCS_TSC_OFFSET, 0);
	x->tsc_offset = 0;
	vmcs_write(VMCS_CR0_MASK, vmx_caps.cr0_mask);
	vmcs_write(VMCS_CR4_MASK, vmx_caps.cr4_mask);
	vmcs_write(VMCS_LINK_POINTER, ~0ULL); /* no shadow VMCS: SDM 3C 27.3.1.5 */
	vmcs_write(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
}

void vmx_vcpu_free(struct vmx_vcpu *x)
{
	page_free(x->vmcs, 1);
	page_free(x, 1);
}

/* Under the CPU's lock: the old current VMCS gives up its state and is cleared. */
static struct vmx_vcpu *retire(struct vmx_pcpu *p)
{
	struct vmx_vcpu *old = p->current;

	if (!old)
		return NULL;
	if (!old->zombie) {
		vmx_cache_fill(old);
		for (u32 i = 0; i < VMX_SYSCALL_MSRS; i++)
			old->syscall_msrs[i] = rdmsr(syscall_msrs[i]);
	}
	vmclear(old->vmcs_pa);
	old->launched = false;
	p->current = NULL;
	return old->zombie ? old : NULL;
}

/* Makes x's VMCS current on this CPU (its own), setting it up the first time. */
void vmx_vmcs_load(struct vmx_vcpu *x)
{
	struct vmx_pcpu *p = &pcpus[this_cpu()->cpu];
	struct vmx_vcpu *dead;

	ASSERT(x->cpu == this_cpu()->cpu);
	if (p->current == x)
		return;
	spin_lock(&p->lock);
	dead = retire(p);
	if (!x->configured)
		vmclear(x->vmcs_pa); /* initializes a new VMCS region (SDM 3C 25.11.3) */
	if (vmptrld(x->vmcs_pa))
		panic("vmx: VMPTRLD of %llx failed", (unsigned long long)x->vmcs_pa);
	p->current = x;
	spin_unlock(&p->lock);
	for (u32 i = 0; i < VMX_SYSCALL_MSRS; i++)
		wrmsr(syscall_msrs[i], x->syscall_msrs[i]);
	if (!x->configured) {
		write_controls(x);
		write_host_state();
		x->configured = true;
	}
	if (dead)
		vmx_vcpu_free(dead);
}

/*
 * On x's own CPU, once x left that CPU's run list for good: its VMCS gives
 * up its state and is cleared now, so destroying x frees it at once. Left
 * current, it would wait as a zombie until this CPU loads another VMCS,
 * which an idle CPU may never do.
 */
void vmx_vmcs_unload(struct vmx_vcpu *x)
{
	struct vmx_pcpu *p = &pcpus[x->cpu];
	struct vmx_vcpu *dead = NULL;
	u64 flags;

	ASSERT(x->cpu == this_cpu()->cpu);
	flags = spin_lock_irqsave(&p->lock);
	if (p->current == x)
		dead = retire(p);
	spin_unlock_irqrestore(&p->lock, flags);
	if (dead)
		vmx_vcpu_free(dead);
}

bool vmx_vmcs_release(struct vmx_vcpu *x)
{
	struct vmx_pcpu *p = &pcpus[x->cpu];
	u64 flags = spin_lock_irqsave(&p->lock);
	bool now = true;

	if (p->current == x) {
		if (this_cpu()->cpu == x->cpu) {
			vmclear(x->vmcs_pa);
			p->current = NULL;
		} else {
			x->zombie = true;
			now = false;
		}
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return now;
}

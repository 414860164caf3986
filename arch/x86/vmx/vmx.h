/* SPDX-License-Identifier: MIT */
/*
 * What the VT-x backend's files share: the CPU's capabilities, the per-VM
 * and per-vCPU state, and the guest-state cache.
 *
 * The cache: vmm/ may read or write a vCPU's registers from any CPU, but
 * VMREAD and VMWRITE reach only the VMCS current on the calling CPU. So
 * every guest field vmm/ can touch lives in a slot of struct vmx_vcpu:
 * a write marks the slot dirty (written to the VMCS before the next
 * entry), a read of a slot not valid since the last exit does a VMREAD
 * (the VMCS is then current here: vCPUs are pinned, and their run loop is
 * the only reader of stale slots). Before a VMCS stops being current on
 * its CPU every slot is read, so the cache alone then describes the vCPU.
 */
#ifndef ARCH_X86_VMX_VMX_H
#define ARCH_X86_VMX_VMX_H

#include <keel/vcpu.h>

struct vmx_caps {
	u32 revision;
	/* the controls every VMCS starts with, as the CPU allows */
	u32 pin, proc, proc2, exit, entry;
	bool nmi_window;    /* NMI-window exiting (needs virtual NMIs) */
	bool ins_outs_info; /* INS/OUTS exits say their address size and segment */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 cr0_mask, cr4_mask; /* guest/host masks: the bits VMX fixes, hidden behind shadows */
	u64 ept_vpid, misc;
	u32 maxphyaddr;
};
extern struct vmx_caps vmx_caps;

struct vmx_vm {
	u8 *msr_bitmap; /* SDM 3C 25.6.9: read low, read high, write low, write high; 1 = exit */
	u8 *io_bitmap;	/* 25.6.4: A (ports 0-7fff) then B; 1 = exit */
	u64 eptp;
};

enum vmx_slot {
	SLOT_RIP,
	SLOT_RFLAGS,
	SLOT_CR0,
	SLOT_CR0_SHADOW,
	SLOT_CR3,
	SLOT_CR4,
	SLOT_CR4_SHADOW,
	SLOT_DR7,
	SLOT_EFER,
	SLOT_PAT,
	SLOT_INTR_STATE,
	SLOT_ENTRY_CTLS, /* its IA-32e bit follows EFER.LMA */
	SLOT_ENTRY_INFO,
	SLOT_ENTRY_ERROR,
	SLOT_ENTRY_LEN,
	SLOT_PROC,		     /* primary controls: the window-exiting bits change */
	SLOT_SEL,		     /* ES CS SS DS FS GS LDTR TR: enum vcpu_seg order */
	SLOT_BASE = SLOT_SEL + 8,    /* the same, then GDTR, IDTR */
	SLOT_LIMIT = SLOT_BASE + 10, /* the same ten */
	SLOT_AR = SLOT_LIMIT + 10,   /* ES ... TR */
	SLOT_COUNT = SLOT_AR + 8
};
BUILD_ASSERT(SLOT_COUNT <= 64, "the valid and dirty masks are 64 bits");

#define VMX_SYSCALL_MSRS 5

struct vmx_vcpu {
	u64 slot[SLOT_COUNT];
	/* masks of slots; changed with atomics (SIPI writes come from other CPUs) */
	u64 valid, dirty;
	u64 *vmcs;
	hpa_t vmcs_pa;
	struct vmx_vm *vm;
	u32 cpu; /* the physical CPU it is pinned to: its VMCS is only ever current there */
	u16 vpid;
	bool configured;    /* controls and host state written */
	bool launched;	    /* VMRESUME, not VMLAUNCH */
	bool zombie;	    /* destroyed while current on its CPU: that CPU frees it */
	bool flush;	    /* INVEPT + INVVPID before the next entry (new VPID/EPTP) */
	bool reload_pdptes; /* CR0/CR3/CR4 changed from outside: PAE PDPTEs to reload */
	u32 seen_flush_gen;
	u64 cr2;	/* not in the VMCS (SDM 3C 27.3.2.1): switched by hand */
	u64 tsc_offset; /* what VMCS_TSC_OFFSET holds */
	u64 syscall_msrs[VMX_SYSCALL_MSRS]; /* not in the VMCS either: switched with the VMCS */
	char why[256];			    /* the reason of the last failed entry */
};

/* vmx_state.c: the cache and the register operations */
u64 vmx_get(struct vmx_vcpu *x, enum vmx_slot s);
void vmx_set(struct vmx_vcpu *x, enum vmx_slot s, u64 val);
void vmx_cache_flush(struct vmx_vcpu *x);
void vmx_cache_exited(struct vmx_vcpu *x);
void vmx_cache_fill(struct vmx_vcpu *x);
u32 vmx_slot_field(enum vmx_slot s);
void vmx_reset_state(struct vmx_vcpu *x);
void vmx_set_cr0(struct vmx_vcpu *x, u64 val);
void vmx_set_cr4(struct vmx_vcpu *x, u64 val);
u64 vmx_guest_cr0(struct vmx_vcpu *x);
u64 vmx_guest_cr4(struct vmx_vcpu *x);
u64 vmx_get_reg(struct vcpu *v, enum vcpu_reg r);
void vmx_set_reg(struct vcpu *v, enum vcpu_reg r, u64 val);
void vmx_get_seg(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *out);
void vmx_set_seg(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *in);

/* vmx_vmcs.c: VMCS life on a CPU */
void vmcs_write(u32 field, u64 val);
void vmx_vmcs_load(struct vmx_vcpu *x);
/* Whether x's VMCS is current on the calling CPU (so VMREAD reaches it). */
bool vmx_vmcs_is_current(const struct vmx_vcpu *x);
/* On x's CPU, x done there for good: its VMCS is cleared if current. */
void vmx_vmcs_unload(struct vmx_vcpu *x);
/* true if x may be freed now; false if its CPU will free it (it is current there) */
bool vmx_vmcs_release(struct vmx_vcpu *x);
void vmx_vcpu_free(struct vmx_vcpu *x);

/* vmx_run.c, vmx_cpu.c */
void vmx_run(struct vcpu *v, struct vm_exit *exit);
int vmx_cpu_enable(struct percpu *pc);

/* ept.c */
extern const struct pt_format ept_format;
/* Names the EPT entry on gpa's walk that the CPU calls misconfigured (SDM 3C 29.3.3.1). */
void ept_explain_misconfig(hpa_t root, u64 gpa, char *buf, size_t len);

/* vmx_entry.S: 0 after a VM exit, nonzero if VMLAUNCH/VMRESUME failed */
int vmx_enter(u64 *gprs, u32 launched);
extern const char vmx_exit_entry[];

#endif

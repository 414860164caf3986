// SPDX-License-Identifier: MIT
/*
 * The VT-x guest-state cache (see vmx.h) and the register operations on it:
 * get/set of registers and segments in vmm/'s formats, the CR0/CR4 read
 * shadows behind the bits VMX fixes, EFER.LMA and the "IA-32e mode guest"
 * entry control kept in step, and the architectural reset state.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx.h>

/* slots the CPU never changes on its own: still valid after an exit */
#define STICKY                                                                 \
	(BIT(SLOT_CR0_SHADOW) | BIT(SLOT_CR4_SHADOW) | BIT(SLOT_ENTRY_ERROR) | \
	 BIT(SLOT_ENTRY_LEN) | BIT(SLOT_PROC))

static const u32 fields[SLOT_SEL] = {
	[SLOT_RIP] = VMCS_GUEST_RIP,
	[SLOT_RFLAGS] = VMCS_GUEST_RFLAGS,
	[SLOT_CR0] = VMCS_GUEST_CR0,
	[SLOT_CR0_SHADOW] = VMCS_CR0_SHADOW,
	[SLOT_CR3] = VMCS_GUEST_CR3,
	[SLOT_CR4] = VMCS_GUEST_CR4,
	[SLOT_CR4_SHADOW] = VMCS_CR4_SHADOW,
	[SLOT_DR7] = VMCS_GUEST_DR7,
	[SLOT_EFER] = VMCS_GUEST_EFER,
	[SLOT_PAT] = VMCS_GUEST_PAT,
	[SLOT_INTR_STATE] = VMCS_GUEST_INTR_STATE,
	[SLOT_ENTRY_CTLS] = VMCS_ENTRY_CONTROLS,
	[SLOT_ENTRY_INFO] = VMCS_ENTRY_INTR_INFO,
	[SLOT_ENTRY_ERROR] = VMCS_ENTRY_EXCEPTION_ERROR,
	[SLOT_ENTRY_LEN] = VMCS_ENTRY_INSN_LEN,
	[SLOT_PROC] = VMCS_PROC_CONTROLS,
};

/* Segment fields come in runs of +2 in enum vcpu_seg order (SDM 3D B.1.2, B.3.3, B.4.3). */
u32 vmx_slot_field(enum vmx_slot s)
{
	if (s < SLOT_SEL)
		return fields[s];
	if (s < SLOT_BASE)
		return VMCS_GUEST_ES_SEL + 2 * (s - SLOT_SEL);
	if (s < SLOT_LIMIT)
		return VMCS_GUEST_ES_BASE + 2 * (s - SLOT_BASE);
	if (s < SLOT_AR)
		return VMCS_GUEST_ES_LIMIT + 2 * (s - SLOT_LIMIT);
	return VMCS_GUEST_ES_AR + 2 * (s - SLOT_AR);
}

u64 vmx_get(struct vmx_vcpu *x, enum vmx_slot s)
{
	if (!(__atomic_load_n(&x->valid, __ATOMIC_ACQUIRE) & BIT(s)) && vmx_vmcs_is_current(x)) {
		x->slot[s] = vmcs_read(vmx_slot_field(s));
		__atomic_fetch_or(&x->valid, BIT(s), __ATOMIC_RELEASE);
	}
	return x->slot[s];
}

void vmx_set(struct vmx_vcpu *x, enum vmx_slot s, u64 val)
{
	x->slot[s] = val;
	__atomic_fetch_or(&x->valid, BIT(s), __ATOMIC_RELEASE);
	__atomic_fetch_or(&x->dirty, BIT(s), __ATOMIC_RELEASE);
}

/* Before an entry, on the vCPU's CPU with its VMCS current. */
void vmx_cache_flush(struct vmx_vcpu *x)
{
	u64 dirty = __atomic_exchange_n(&x->dirty, 0, __ATOMIC_ACQ_REL);

	while (dirty) {
		u32 s = (u32)__builtin_ctzll(dirty);

		dirty &= dirty - 1;
		vmcs_write(vmx_slot_field(s), x->slot[s]);
	}
}

/* After an exit the VMCS holds newer guest state; a slot written meanwhile (a SIPI) stays. */
void vmx_cache_exited(struct vmx_vcpu *x)
{
	u64 keep = (x->valid & STICKY) | __atomic_load_n(&x->dirty, __ATOMIC_ACQUIRE);

	__atomic_store_n(&x->valid, keep, __ATOMIC_RELEASE);
}

/* Before the VMCS stops being current: afterwards the cache is the only copy. */
void vmx_cache_fill(struct vmx_vcpu *x)
{
	for (u32 s = 0; s < SLOT_COUNT; s++) {
		if (x->valid & BIT(s))
			continue;
		x->slot[s] = vmcs_read(vmx_slot_field(s));
		__atomic_fetch_or(&x->valid, BIT(s), __ATOMIC_RELEASE);
	}
}

/* EFER.LMA = CR0.PG && EFER.LME, and the entry control must agree (SDM 3C 27.3.1.1). */
static void update_lma(struct vmx_vcpu *x)
{
	u64 efer = vmx_get(x, SLOT_EFER), entry = vmx_get(x, SLOT_ENTRY_CTLS);
	bool lma = (vmx_get(x, SLOT_CR0) & CR0_PG) && (efer & EFER_LME);
	u64 new_efer = lma ? efer | EFER_LMA : efer & ~EFER_LMA;
	u64 new_entry = lma ? entry | ENTRY_IA32E_GUEST : entry & ~ENTRY_IA32E_GUEST;

	if (new_efer != efer)
		vmx_set(x, SLOT_EFER, new_efer);
	if (new_entry != entry)
		vmx_set(x, SLOT_ENTRY_CTLS, new_entry);
}

/*
 * The guest sees val; the CPU runs with the bits VMX requires set (CR0.NE,
 * CR4.VMXE, ...), which the guest/host masks hide behind the read shadows.
 * Unrestricted guest lifts the PE and PG requirements (SDM 3C 27.3.1.1).
 */
void vmx_set_cr0(struct vmx_vcpu *x, u64 val)
{
	u64 fixed0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);

	vmx_set(x, SLOT_CR0_SHADOW, val);
	vmx_set(x, SLOT_CR0, (val | fixed0) & vmx_caps.cr0_fixed1);
	update_lma(x);
	x->reload_pdptes = true;
}

void vmx_set_cr4(struct vmx_vcpu *x, u64 val)
{
	vmx_set(x, SLOT_CR4_SHADOW, val);
	vmx_set(x, SLOT_CR4, (val | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
	x->reload_pdptes = true;
}

u64 vmx_guest_cr0(struct vmx_vcpu *x)
{
	u64 m = vmx_caps.cr0_mask;

	return (vmx_get(x, SLOT_CR0) & ~m) | (vmx_get(x, SLOT_CR0_SHADOW) & m);
}

u64 vmx_guest_cr4(struct vmx_vcpu *x)
{
	u64 m = vmx_caps.cr4_mask;

	return (vmx_get(x, SLOT_CR4) & ~m) | (vmx_get(x, SLOT_CR4_SHADOW) & m);
}

u64 vmx_get_reg(struct vcpu *v, enum vcpu_reg r)
{
	struct vmx_vcpu *x = v->arch;

	switch (r) {
	case VCPU_RIP:
		return vmx_get(x, SLOT_RIP);
	case VCPU_RFLAGS:
		return vmx_get(x, SLOT_RFLAGS);
	case VCPU_CR0:
		return vmx_guest_cr0(x);
	case VCPU_CR2:
		return x->cr2;
	case VCPU_CR3:
		return vmx_get(x, SLOT_CR3);
	case VCPU_CR4:
		return vmx_guest_cr4(x);
	case VCPU_EFER:
		return vmx_get(x, SLOT_EFER);
	case VCPU_PAT:
		return vmx_get(x, SLOT_PAT);
	default:
		return vmx_get(x, SLOT_DR7);
	}
}

/* A new RIP retires the instruction at the old one: its STI / MOV SS shadow ends with it. */
static void set_rip(struct vmx_vcpu *x, u64 rip)
{
	u64 st = vmx_get(x, SLOT_INTR_STATE);

	vmx_set(x, SLOT_RIP, rip);
	if (st & (INTR_STATE_STI | INTR_STATE_MOV_SS))
		vmx_set(x, SLOT_INTR_STATE, st & ~(u64)(INTR_STATE_STI | INTR_STATE_MOV_SS));
}

void vmx_set_reg(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	struct vmx_vcpu *x = v->arch;

	switch (r) {
	case VCPU_RIP:
		set_rip(x, val);
		break;
	case VCPU_RFLAGS:
		vmx_set(x, SLOT_RFLAGS, val);
		break;
	case VCPU_CR0:
		vmx_set_cr0(x, val);
		break;
	case VCPU_CR2:
		x->cr2 = val;
		break;
	case VCPU_CR3:
		vmx_set(x, SLOT_CR3, val);
		x->reload_pdptes = true;
		break;
	case VCPU_CR4:
		vmx_set_cr4(x, val);
		break;
	case VCPU_EFER:
		vmx_set(x, SLOT_EFER, val);
		update_lma(x);
		break;
	case VCPU_PAT:
		vmx_set(x, SLOT_PAT, val);
		break;
	default:
		vmx_set(x, SLOT_DR7, val);
		break;
	}
}

/* VMCB-style attributes (vcpu.h) <-> VMX access rights (SDM 3C table 25-2). */
static u16 ar_to_attr(u64 ar)
{
	u16 attr = (u16)((ar & 0xff) | ((ar >> 4) & 0xf00));

	return (ar & AR_UNUSABLE) ? attr & (u16)~SEG_ATTR_P : attr;
}

static u32 attr_to_ar(u16 attr)
{
	u32 ar = (attr & 0xffu) | ((attr & 0xf00u) << 4);

	return (attr & SEG_ATTR_P) ? ar : ar | (u32)AR_UNUSABLE;
}

void vmx_get_seg(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *out)
{
	struct vmx_vcpu *x = v->arch;

	out->base = vmx_get(x, SLOT_BASE + s);
	out->limit = (u32)vmx_get(x, SLOT_LIMIT + s);
	if (s >= SEG_GDTR) {
		out->selector = 0;
		out->attr = 0;
		return;
	}
	out->selector = (u16)vmx_get(x, SLOT_SEL + s);
	out->attr = ar_to_attr(vmx_get(x, SLOT_AR + s));
}

void vmx_set_seg(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *in)
{
	struct vmx_vcpu *x = v->arch;

	vmx_set(x, SLOT_BASE + s, in->base);
	vmx_set(x, SLOT_LIMIT + s, in->limit);
	if (s >= SEG_GDTR)
		return;
	vmx_set(x, SLOT_SEL + s, in->selector);
	vmx_set(x, SLOT_AR + s, attr_to_ar(in->attr));
}

/* The state after RESET (SDM 3A table 10-1), as svm.c sets it; vmm/ loaders change it. */
void vmx_reset_state(struct vmx_vcpu *x)
{
	static const u32 data_ar = 0x93, code_ar = 0x9b, ldt_ar = 0x82, tss_ar = 0x8b;

	for (u32 s = SEG_ES; s <= SEG_IDTR; s++) {
		vmx_set(x, SLOT_BASE + s, 0);
		vmx_set(x, SLOT_LIMIT + s, 0xffff);
		if (s <= SEG_TR) {
			vmx_set(x, SLOT_SEL + s, 0);
			vmx_set(x, SLOT_AR + s, data_ar);
		}
	}
	vmx_set(x, SLOT_SEL + SEG_CS, 0xf000);
	vmx_set(x, SLOT_BASE + SEG_CS, 0xffff0000);
	vmx_set(x, SLOT_AR + SEG_CS, code_ar);
	vmx_set(x, SLOT_AR + SEG_LDTR, ldt_ar);
	vmx_set(x, SLOT_AR + SEG_TR, tss_ar);
	vmx_set(x, SLOT_EFER, 0);
	vmx_set(x, SLOT_ENTRY_CTLS, vmx_caps.entry);
	vmx_set(x, SLOT_INTR_STATE, 0);
	vmx_set(x, SLOT_ENTRY_INFO, 0);
	vmx_set(x, SLOT_ENTRY_ERROR, 0);
	vmx_set(x, SLOT_ENTRY_LEN, 0);
	vmx_set(x, SLOT_PROC, vmx_caps.proc);
	vmx_set_cr0(x, CR0_CD | CR0_NW | CR0_ET);
	vmx_set_cr4(x, 0);
	vmx_set(x, SLOT_CR3, 0);
	vmx_set(x, SLOT_RFLAGS, RFLAGS_RESERVED1);
	vmx_set(x, SLOT_RIP, 0xfff0);
	vmx_set(x, SLOT_DR7, DR7_INIT);
	vmx_set(x, SLOT_PAT, PAT_POWER_ON);
}

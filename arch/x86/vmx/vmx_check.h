/* SPDX-License-Identifier: MIT */
/*
 * Explaining a failed VM entry: the VM-instruction error numbers (SDM 3C
 * 31.4) and Keel's own run of the checks the CPU makes on the VM-entry
 * event (27.2.1.3) and on the guest-state area (27.3.1), over a plain copy
 * of the fields so the checks also run in host unit tests.
 */
#ifndef ARCH_X86_VMX_VMX_CHECK_H
#define ARCH_X86_VMX_VMX_CHECK_H

#include <lib/types.h>

struct vmx_seg_state {
	u16 sel;
	u32 limit, ar;
	u64 base;
};

struct vmx_guest_state {
	u64 cr0, cr3, cr4, dr7, rflags, rip, efer, pat;
	u64 sysenter_esp, sysenter_eip, link_pointer, pending_dbg;
	u32 entry_ctls, proc2, intr_state, activity;
	u32 entry_info, entry_error, entry_len;
	struct vmx_seg_state seg[8]; /* ES CS SS DS FS GS LDTR TR */
	u64 gdtr_base, idtr_base;
	u32 gdtr_limit, idtr_limit;
	u64 pdpte[4];
	/* what the CPU allows, from its capability MSRs */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u32 maxphyaddr;
};

/* The meaning of a VM-instruction error number. */
const char *vmx_insn_error_name(u64 err);
/* The first failed check, written into buf, or NULL if Keel finds none. */
const char *vmx_check_event(const struct vmx_guest_state *g, char *buf, size_t len);
const char *vmx_check_guest(const struct vmx_guest_state *g, char *buf, size_t len);

#endif

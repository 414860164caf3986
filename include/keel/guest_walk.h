/* SPDX-License-Identifier: MIT */
/* Reading the guest's own page tables and instruction stream as its CPU would. */
#ifndef KEEL_GUEST_WALK_H
#define KEEL_GUEST_WALK_H

#include <keel/vcpu.h>
#include <keel/x86_emulate.h>
#include <keel/x86_paging.h>

/* The state that decides v's translations now (control registers, CPL, EFLAGS.AC, PKRU). */
void guest_paging(struct vcpu *v, struct x86_paging *p);
/*
 * Linear -> guest-physical for one access (X86_ACC_*) with every check the
 * CPU makes: 0, X86_FAULT with *f (the #PF or #GP the CPU raises), -EFAULT
 * when the guest's page tables are not in its RAM, -EAGAIN when they kept
 * changing under the walk (run the instruction again).
 */
int guest_translate(struct vcpu *v, const struct x86_paging *p, u64 linear, u32 access, gpa_t *gpa,
		    struct x86_fault *f);
/* Delivers f to the guest on its next entry (setting CR2 for a #PF). */
void guest_raise(struct vcpu *v, const struct x86_fault *f);
/* The decoder mode of the vCPU's current code segment. */
enum x86_mode guest_mode(struct vcpu *v);
/*
 * Copies up to len instruction bytes at CS:RIP, fetched as instruction
 * fetches under p; *got says how many. Returns 0, or why it stopped before
 * len: X86_FAULT with *f for the byte at *got, or a negative errno.
 */
int guest_fetch(struct vcpu *v, const struct x86_paging *p, u8 *buf, size_t len, size_t *got,
		struct x86_fault *f);
/*
 * Length of the instruction at RIP if it is opcode (after any legacy or REX
 * prefixes), for exits without NRIP save; 0 if the bytes do not match.
 */
u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen);

#endif

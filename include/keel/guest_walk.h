/* SPDX-License-Identifier: MIT */
/* Reading the guest's own page tables and instruction stream. */
#ifndef KEEL_GUEST_WALK_H
#define KEEL_GUEST_WALK_H

#include <keel/vcpu.h>
#include <keel/x86_emulate.h>

/* Linear address -> guest-physical in the vCPU's current paging mode; -EFAULT if not mapped. */
int guest_translate(struct vcpu *v, u64 linear, bool write, gpa_t *gpa);
/* The decoder mode of the vCPU's current code segment. */
enum x86_mode guest_mode(struct vcpu *v);
/* Copies up to len instruction bytes at CS:RIP; returns how many could be read (0: none). */
size_t guest_fetch(struct vcpu *v, u8 *buf, size_t len);
/*
 * Length of the instruction at RIP if it is opcode (after any legacy or REX
 * prefixes), for exits without NRIP save; 0 if the bytes do not match.
 */
u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen);

#endif

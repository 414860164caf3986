/* SPDX-License-Identifier: MIT */
/* What both VM-entry paths do alike (assembler): keep the host's registers, move the guest's. */
#ifndef ARCH_X86_VM_ENTRY_H
#define ARCH_X86_VM_ENTRY_H

#ifdef __ASSEMBLER__
/* gprs[] (struct vcpu) holds the registers in encoding order. */
#define G(r) (8 * (r))
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7

/*
 * The registers neither VMRUN nor a VMX transition switches and that both
 * entry paths treat alike: RCX, RDX, RBX, RBP, R8-R15. Each path moves RAX,
 * RSI and RDI itself, \base (the gprs pointer) last on entry, first on exit.
 */
/* assembler macros, not C: kept as written */
/* clang-format off */
/* The registers the SysV ABI has the callee keep, with a frame for backtraces. */
.macro HOST_REGS_SAVE
	push	%rbp
	mov	%rsp, %rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
.endm

.macro HOST_REGS_RESTORE
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
.endm

.macro GUEST_GPRS_LOAD base:req
	mov	G(RCX)(\base), %rcx
	mov	G(RDX)(\base), %rdx
	mov	G(RBX)(\base), %rbx
	mov	G(RBP)(\base), %rbp
	mov	G(8)(\base), %r8
	mov	G(9)(\base), %r9
	mov	G(10)(\base), %r10
	mov	G(11)(\base), %r11
	mov	G(12)(\base), %r12
	mov	G(13)(\base), %r13
	mov	G(14)(\base), %r14
	mov	G(15)(\base), %r15
.endm

.macro GUEST_GPRS_STORE base:req
	mov	%rcx, G(RCX)(\base)
	mov	%rdx, G(RDX)(\base)
	mov	%rbx, G(RBX)(\base)
	mov	%rbp, G(RBP)(\base)
	mov	%r8, G(8)(\base)
	mov	%r9, G(9)(\base)
	mov	%r10, G(10)(\base)
	mov	%r11, G(11)(\base)
	mov	%r12, G(12)(\base)
	mov	%r13, G(13)(\base)
	mov	%r14, G(14)(\base)
	mov	%r15, G(15)(\base)
.endm
/* clang-format on */
#endif

#endif

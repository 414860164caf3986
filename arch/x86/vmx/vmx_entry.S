/* SPDX-License-Identifier: MIT */
/*
 * vmx_enter(gprs, launched): one VM entry and its exit (SDM 3C 27, 28).
 * The CPU switches RIP, RSP, RFLAGS, control registers, segments and the
 * MSRs the controls name; the other GPRs are Keel's job: gprs[] holds them
 * in encoding order (the rsp slot is unused here: RSP lives in the VMCS).
 * HOST_RSP is written on each entry, pointing at the saved gprs pointer;
 * HOST_RIP (written once, vmx_vmcs.c) is vmx_exit_entry. An exit arrives
 * with RFLAGS = 2: interrupts off, as the caller had them.
 * Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME (or the VMWRITE of
 * HOST_RSP) failed: then CF/ZF said so and the VM-instruction error field
 * tells why (SDM 3C 31.2, 31.4). After an exit the return stack buffer is
 * refilled (RSB_FILL) before the first RET.
 */
#include <arch/x86/rsb.h>

#define G(r) (8 * (r))
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7
#define VMCS_HOST_RSP 0x6c14

	.text
	.globl vmx_enter
vmx_enter:
	push	%rbp
	mov	%rsp, %rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdi			/* gprs: found again through HOST_RSP */
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	2f
	test	%esi, %esi		/* ZF: launch; the MOVs below keep the flags */
	mov	G(RAX)(%rdi), %rax
	mov	G(RCX)(%rdi), %rcx
	mov	G(RDX)(%rdi), %rdx
	mov	G(RBX)(%rdi), %rbx
	mov	G(RBP)(%rdi), %rbp
	mov	G(RSI)(%rdi), %rsi
	mov	G(8)(%rdi), %r8
	mov	G(9)(%rdi), %r9
	mov	G(10)(%rdi), %r10
	mov	G(11)(%rdi), %r11
	mov	G(12)(%rdi), %r12
	mov	G(13)(%rdi), %r13
	mov	G(14)(%rdi), %r14
	mov	G(15)(%rdi), %r15
	mov	G(RDI)(%rdi), %rdi
	jz	1f
	vmresume
	jmp	2f
1:	vmlaunch
2:	mov	$1, %eax		/* the entry failed: nothing of the guest ran */
	jmp	3f

	.globl vmx_exit_entry
vmx_exit_entry:
	push	%rdi			/* the guest's rdi */
	mov	8(%rsp), %rdi		/* gprs */
	mov	%rax, G(RAX)(%rdi)
	mov	%rcx, G(RCX)(%rdi)
	mov	%rdx, G(RDX)(%rdi)
	mov	%rbx, G(RBX)(%rdi)
	mov	%rbp, G(RBP)(%rdi)
	mov	%rsi, G(RSI)(%rdi)
	mov	%r8, G(8)(%rdi)
	mov	%r9, G(9)(%rdi)
	mov	%r10, G(10)(%rdi)
	mov	%r11, G(11)(%rdi)
	mov	%r12, G(12)(%rdi)
	mov	%r13, G(13)(%rdi)
	mov	%r14, G(14)(%rdi)
	mov	%r15, G(15)(%rdi)
	pop	%rax
	mov	%rax, G(RDI)(%rdi)
	RSB_FILL %ecx
	xor	%eax, %eax
3:	pop	%rdi			/* the gprs pointer */
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret
	.section .note.GNU-stack,"",@progbits

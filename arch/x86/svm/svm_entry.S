/* SPDX-License-Identifier: MIT */
/*
 * svm_vmrun(vmcb_pa, gprs, host_vmcb_pa): one world switch (APM2 15.5).
 * VMRUN itself switches RAX, RSP, RIP, RFLAGS, CRs and segments; VMLOAD and
 * VMSAVE move FS/GS/TR/LDTR bases and the syscall MSRs, so the guest's are
 * loaded before VMRUN and the host's (GS base = struct percpu, TR = its
 * TSS) restored after. The other GPRs are Keel's job: gprs[] holds them in
 * encoding order (rax and rsp slots unused here: they live in the VMCB).
 * Called with GIF = 0. After the exit the return stack buffer is refilled
 * (RSB_FILL) before the first RET.
 */
#include <arch/x86/rsb.h>

#define G(r) (8 * (r))
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7

	.text
	.globl svm_vmrun
svm_vmrun:
	push	%rbp
	mov	%rsp, %rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdx			/* host VMCB */
	push	%rsi			/* gprs */
	mov	%rdi, %rax
	mov	G(RCX)(%rsi), %rcx
	mov	G(RDX)(%rsi), %rdx
	mov	G(RBX)(%rsi), %rbx
	mov	G(RBP)(%rsi), %rbp
	mov	G(RDI)(%rsi), %rdi
	mov	G(8)(%rsi), %r8
	mov	G(9)(%rsi), %r9
	mov	G(10)(%rsi), %r10
	mov	G(11)(%rsi), %r11
	mov	G(12)(%rsi), %r12
	mov	G(13)(%rsi), %r13
	mov	G(14)(%rsi), %r14
	mov	G(15)(%rsi), %r15
	mov	G(RSI)(%rsi), %rsi
	vmload	%rax
	vmrun	%rax
	vmsave	%rax
	push	%rsi			/* the guest's rsi */
	mov	8(%rsp), %rsi		/* gprs */
	mov	%rcx, G(RCX)(%rsi)
	mov	%rdx, G(RDX)(%rsi)
	mov	%rbx, G(RBX)(%rsi)
	mov	%rbp, G(RBP)(%rsi)
	mov	%rdi, G(RDI)(%rsi)
	mov	%r8, G(8)(%rsi)
	mov	%r9, G(9)(%rsi)
	mov	%r10, G(10)(%rsi)
	mov	%r11, G(11)(%rsi)
	mov	%r12, G(12)(%rsi)
	mov	%r13, G(13)(%rsi)
	mov	%r14, G(14)(%rsi)
	mov	%r15, G(15)(%rsi)
	pop	%rax
	mov	%rax, G(RSI)(%rsi)
	pop	%rsi
	RSB_FILL %ecx
	pop	%rax			/* host VMCB */
	vmload	%rax
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret
	.section .note.GNU-stack,"",@progbits

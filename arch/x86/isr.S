/* SPDX-License-Identifier: MIT */
/* Interrupt entry: 256 stubs of 16 bytes each, then one common path into interrupt_dispatch(). */
	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	vec = 0
	.rept 256
	.balign 16
	/* SDM 3A 6.13: these vectors push an error code; the rest get a 0 */
	.if vec != 8 && vec != 10 && vec != 11 && vec != 12 && vec != 13 && vec != 14 && vec != 17 && vec != 21 && vec != 29 && vec != 30
	pushq	$0
	.endif
	.byte	0x68			/* push imm32: same length for every vector */
	.long	vec
	jmp	isr_common
	vec = vec + 1
	.endr

isr_common:
	cld
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	mov	%rsp, %rbx		/* callee-saved: realign the stack for the C call */
	and	$-16, %rsp
	call	interrupt_dispatch
	mov	%rbx, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp		/* vector and error code */
	iretq
	.section .note.GNU-stack,"",@progbits

/* SPDX-License-Identifier: MIT */
/* Test guest interrupt entry: 256 stubs of 16 bytes, one common path into guest_trap(). */
	.text
	.balign 16
	.globl guest_isr_stubs
guest_isr_stubs:
	vec = 0
	.rept 256
	.balign 16
	.if vec != 8 && vec != 10 && vec != 11 && vec != 12 && vec != 13 && vec != 14 && vec != 17
	pushq	$0
	.endif
	.byte	0x68
	.long	vec
	jmp	common
	vec = vec + 1
	.endr
common:
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
	call	guest_trap
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
	add	$16, %rsp
	iretq
	.section .note.GNU-stack,"",@progbits

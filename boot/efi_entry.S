/* SPDX-License-Identifier: MIT */
/* boot_enter_core(bi, stack_top): leave the firmware's stack and enter the core for good. */
	.text
	.globl boot_enter_core
boot_enter_core:
	cli
	mov	%rsi, %rsp
	xor	%ebp, %ebp		/* ends the backtrace; rsp = top - 8 after the call, as the ABI wants */
	call	core_main
1:	hlt
	jmp	1b
	.section .note.GNU-stack,"",@progbits

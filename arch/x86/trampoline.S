/* SPDX-License-Identifier: MIT */
/*
 * Application-processor start-up code. smp.c copies tramp_start..tramp_end
 * to a page P below 1 MiB, fills in the data block at its end, and sends
 * INIT-SIPI-SIPI with vector P >> 12. The AP starts in real mode at P:0 and
 * climbs through protected mode to long mode (SDM 3A 10.4 and 9.8.5), on
 * the hypervisor's page tables, then jumps to ap_entry(percpu).
 * Everything is addressed relative to P (%ebx / %cs), so the code is
 * position independent.
 */
#define CR0_PE 0x1
#define CR0_PG 0x80000000
#define CR0_NE 0x20
#define CR0_ET 0x10
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define EFER_NXE 0x800
#define T_CODE64 0x08
#define T_DATA 0x10
#define T_CODE32 0x18

	.text
	.code16
	.globl tramp_start, tramp_end, tramp_far32, tramp_far64, tramp_gdt_desc
	.globl tramp_cr3, tramp_stack, tramp_entry, tramp_arg, tramp_gdt, tramp_pm, tramp_lm
tramp_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	xor	%ebx, %ebx
	mov	%ax, %bx
	shl	$4, %ebx			/* ebx = P */
	lgdtl	tramp_gdt_desc - tramp_start
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	*(tramp_far32 - tramp_start)

	.code32
tramp_pm:
	mov	$T_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	(tramp_cr3 - tramp_start)(%ebx), %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$(EFER_LME | EFER_NXE), %eax
	wrmsr
	mov	$(CR0_PG | CR0_PE | CR0_NE | CR0_ET), %eax
	mov	%eax, %cr0
	ljmpl	*(tramp_far64 - tramp_start)(%ebx)

	.code64
tramp_lm:
	mov	tramp_stack(%rip), %rsp
	mov	tramp_arg(%rip), %rdi
	xor	%ebp, %ebp
	jmp	*tramp_entry(%rip)

	.balign 8
tramp_gdt:
	.quad	0
	.quad	0x00af9b000000ffff		/* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff		/* 0x10: flat data */
	.quad	0x00cf9b000000ffff		/* 0x18: 32-bit code */
tramp_gdt_end:
tramp_gdt_desc:
	.word	tramp_gdt_end - tramp_gdt - 1
	.long	0				/* P + tramp_gdt, set by smp.c */
	.balign 8
tramp_far32:
	.long	0				/* P + tramp_pm */
	.word	T_CODE32
	.balign 8
tramp_far64:
	.long	0				/* P + tramp_lm */
	.word	T_CODE64
	.balign 8
tramp_cr3:	.quad 0
tramp_stack:	.quad 0
tramp_entry:	.quad 0
tramp_arg:	.quad 0
tramp_end:
	.section .note.GNU-stack,"",@progbits

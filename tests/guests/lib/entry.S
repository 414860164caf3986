/* SPDX-License-Identifier: MIT */
/*
 * Test guest entry: a multiboot (v1) header with address fields, so both
 * Keel and QEMU's -kernel load it; then 32-bit protected mode to long mode
 * with the first 4 GiB identity-mapped in 2 MiB pages (the last GiB with
 * caching off: devices live there), and into guest_start().
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00010002		/* address fields valid, memory info wanted */
#define CR4_PAE 0x20
#define EFER 0xc0000080
#define EFER_LME 0x100
#define CR0_PG_PE 0x80000001
#define PTE_P_W 0x3
#define PTE_PS 0x80
#define PTE_PCD_PWT 0x18

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	mb_header			/* header_addr */
	.long	_image_start			/* load_addr */
	.long	_data_end			/* load_end_addr */
	.long	_image_end			/* bss_end_addr */
	.long	_start32			/* entry_addr */

	.text
	.code32
	.globl _start32
_start32:
	cli
	mov	%ebx, mb_info
	mov	$boot_stack_top, %esp
	/* PML4[0] -> PDPT, PDPT[0..3] -> PD[0..3], PD entries: 2 MiB pages */
	mov	$pdpt, %eax
	or	$PTE_P_W, %eax
	mov	%eax, pml4
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$12, %eax
	add	$pd, %eax
	or	$PTE_P_W, %eax
	mov	%eax, pdpt(,%ecx,8)
	inc	%ecx
	cmp	$4, %ecx
	jne	1b
	xor	%ecx, %ecx
2:	mov	%ecx, %eax
	shl	$21, %eax
	or	$(PTE_P_W | PTE_PS), %eax
	cmp	$(3 * 512), %ecx
	jb	3f
	or	$PTE_PCD_PWT, %eax
3:	mov	%eax, pd(,%ecx,8)
	inc	%ecx
	cmp	$(4 * 512), %ecx
	jne	2b
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$CR0_PG_PE, %eax
	mov	%eax, %cr0
	lgdt	gdt_desc
	ljmp	$0x08, $start64

	.code64
start64:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$boot_stack_top, %rsp
	xor	%ebp, %ebp
	mov	mb_info, %edi
	call	guest_start
4:	hlt
	jmp	4b

	.data
	.balign 8
gdt:
	.quad	0
	.quad	0x00af9b000000ffff		/* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff		/* 0x10: data */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt
	.globl mb_info
mb_info:
	.long	0

	.bss
	.balign 4096
	.globl pml4, pdpt, pd
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
	.balign 16
boot_stack:
	.skip 16384
boot_stack_top:
	.section .note.GNU-stack,"",@progbits

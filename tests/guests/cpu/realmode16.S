/* SPDX-License-Identifier: MIT */
/*
 * The realmode guest's low-memory code, copied to RM_BASE by realmode.c and
 * called there from long mode: it leaves long mode (compatibility mode,
 * CR0.PG off, EFER.LME off), leaves protected mode through a 16-bit segment
 * (CR0.PE off, far jump), runs its checks in real mode, each storing what it
 * saw in the data block at RM_DATA, and comes back the same way. Every
 * address is relative to rm_start: OFF() for real-mode offsets in RM_SEG,
 * ABS() for the linear address after the copy.
 */
#include "realmode.h"

#define OFF(x) ((x) - rm_start)
#define ABS(x) (RM_BASE + (x) - rm_start)
#define DAT(x) (RM_DATA + (x))
#define CR0_PE 0x1
#define CR0_PG 0x80000000
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define MSR_UNKNOWN 0x12345678
#define IVT(v) ((v) * 4)

	.text
	.globl rm_start, rm_end, rm_enter64, rm_after_int30, rm_div, rm_after_int3, rm_rdmsr_bad
	.balign 16
rm_start:

/* --- long mode -> real mode --- */
	.code64
rm_enter64:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, DAT(D_SAVED_RSP)
	sgdt	DAT(D_SAVED_GDT)
	sidt	DAT(D_SAVED_IDT)
	lgdt	DAT(D_GDT_DESC)
	pushq	$SEL_CODE32
	pushq	$ABS(rm_compat)
	lretq

	.code32
rm_compat:
	mov	$SEL_DATA32, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%cr0, %eax		/* paging off leaves long mode: EFER.LMA = 0 */
	and	$~CR0_PG, %eax
	mov	%eax, %cr0
	mov	$MSR_EFER, %ecx
	rdmsr
	and	$~EFER_LME, %eax
	wrmsr
	ljmp	$SEL_CODE16, $OFF(rm_pm16)

	.code16
rm_pm16:
	mov	$SEL_DATA16, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	mov	$SEL_DEV16, %ax		/* FS and ES keep this base in real mode until reloaded */
	mov	%ax, %fs
	mov	%ax, %es
	mov	$SEL_FLAT16, %ax	/* GS keeps a 4 GiB limit */
	mov	%ax, %gs
	mov	%cr0, %eax
	and	$~CR0_PE, %eax
	mov	%eax, %cr0
	ljmp	$RM_SEG, $OFF(rm_real)

rm_real:
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	mov	$RM_STACK_TOP, %sp
	lidtw	DAT(D_IVT_DESC)
	call	rm_mode
	call	rm_transfers
	call	rm_interrupts
	call	rm_segments
	call	rm_sizes
	call	rm_ports
	call	rm_mmio
	call	rm_unreal
	movl	$RM_DONE_MAGIC, DAT(R_DONE)

/* --- real mode -> long mode --- */
	cli
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $ABS(rm_back32)

	.code32
rm_back32:
	mov	$SEL_DATA32, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax		/* CR3 and CR4.PAE are still the long-mode ones */
	or	$CR0_PG, %eax
	mov	%eax, %cr0
	ljmp	$SEL_CODE64, $ABS(rm_back64)

	.code64
rm_back64:
	mov	$SEL_DATA32, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	lgdt	DAT(D_SAVED_GDT)
	lidt	DAT(D_SAVED_IDT)
	mov	DAT(D_SAVED_RSP), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

/* --- the checks, in real mode, DS = SS = 0 --- */
	.code16

/* what the CPU says about its mode; CPUID and RDMSR exit to the hypervisor */
rm_mode:
	mov	%cr0, %eax
	movl	%eax, DAT(R_CR0)
	mov	$MSR_EFER, %ecx
	rdmsr
	movl	%eax, DAT(R_EFER)
	mov	%cs, %ax
	movw	%ax, DAT(R_CS)
	xor	%eax, %eax
	cpuid
	movl	%ebx, DAT(R_CPUID_EBX)
	ret

/* far call, far jump and IRET to other segment:offset names of the same bytes */
rm_transfers:
	lcall	$RM_SEG_ALT, $OFF(rm_far_fn) + RM_ALT_DELTA
	movw	$1, DAT(R_FARCALL_RET)
	ljmp	$RM_SEG_ALT, $OFF(rm_far_jmp) + RM_ALT_DELTA
rm_far_back:
	pushf
	pushw	$RM_SEG_ALT
	pushw	$OFF(rm_iret_to) + RM_ALT_DELTA
	iret
rm_iret_back:
	ret
rm_far_fn:
	mov	%cs, %ax
	movw	%ax, DAT(R_FARCALL_CS)
	lret
rm_far_jmp:
	mov	%cs, %ax
	movw	%ax, DAT(R_FARJMP_CS)
	ljmp	$RM_SEG, $OFF(rm_far_back)
rm_iret_to:
	mov	%cs, %ax
	movw	%ax, DAT(R_IRET_CS)
	ljmp	$RM_SEG, $OFF(rm_iret_back)

/* INT n, exceptions and (under Keel) an injected #GP, each through a vector this code set */
rm_interrupts:
	movw	$OFF(rm_int30), IVT(0x30)
	movw	$RM_SEG, IVT(0x30) + 2
	movw	$OFF(rm_de), IVT(0)
	movw	$RM_SEG, IVT(0) + 2
	movw	$OFF(rm_bp), IVT(3)
	movw	$RM_SEG, IVT(3) + 2
	movw	$OFF(rm_gp), IVT(13)
	movw	$RM_SEG, IVT(13) + 2
	mov	%sp, %si
	mov	$0x1111, %ax
	int	$0x30
rm_after_int30:
	movw	%ax, DAT(R_INT_AX)
	sub	%sp, %si
	movw	%si, DAT(R_INT_SP)
	xor	%bl, %bl
	mov	$1, %ax
rm_div:
	divb	%bl			/* #DE: a fault, the handler skips these 2 bytes */
	int3
rm_after_int3:
	cmpw	$0, DAT(D_ON_KEEL)
	je	1f
	mov	%sp, %si
	movl	$MSR_UNKNOWN, %ecx	/* Keel refuses it with #GP */
rm_rdmsr_bad:
	rdmsr
	sub	%sp, %si
	movw	%si, DAT(R_GP_SP)
1:	ret
rm_int30:
	push	%bp
	mov	%sp, %bp
	mov	2(%bp), %bx		/* the frame: IP, CS, FLAGS */
	movw	%bx, DAT(R_INT_IP)
	mov	4(%bp), %bx
	movw	%bx, DAT(R_INT_CS)
	add	$0x2222, %ax
	pop	%bp
	iret
rm_de:
	push	%bp
	mov	%sp, %bp
	mov	2(%bp), %bx
	movw	%bx, DAT(R_DE_IP)
	incw	DAT(R_DE_COUNT)
	addw	$2, 2(%bp)
	pop	%bp
	iret
rm_bp:
	push	%bp
	mov	%sp, %bp
	mov	2(%bp), %bx
	movw	%bx, DAT(R_BP_IP)
	incw	DAT(R_BP_COUNT)
	pop	%bp
	iret
/* real mode pushes no error code; if one came, record it and drop it so the test goes on */
rm_gp:
	push	%bp
	mov	%sp, %bp
	mov	2(%bp), %bx
	movw	%bx, DAT(R_GP_IP)
	incw	DAT(R_GP_COUNT)
	cmp	$OFF(rm_rdmsr_bad), %bx
	je	2f
	pop	%bp
	add	$2, %sp
	push	%bp
	mov	%sp, %bp
2:	addw	$2, 2(%bp)		/* RDMSR is 2 bytes */
	pop	%bp
	iret

/* seg * 16 + offset, 16-bit offsets wrapping at 64 KiB, and the 1 MiB line with A20 on */
rm_segments:
	mov	$0x2345, %ax
	mov	%ax, %ds
	movw	$0xbeef, 0x6789
	mov	$0x2000, %ax
	mov	%ax, %ds
	mov	0x9bd9, %ax
	xor	%bx, %bx
	mov	%bx, %ds
	movw	%ax, DAT(R_SEG_ALIAS)
	mov	$0x3000, %ax
	mov	%ax, %ds
	mov	$0xffff, %bx
	mov	2(%bx), %ax		/* offset 0x10001 wraps to 0x0001 */
	xor	%bx, %bx
	mov	%bx, %ds
	movw	%ax, DAT(R_SEG_WRAP)
	in	$0x92, %al		/* "fast A20": bit 1 on, never bit 0 (reset) */
	or	$2, %al
	and	$0xfe, %al
	out	%al, $0x92
	mov	$0xffff, %ax
	mov	%ax, %ds
	movl	0x10, %eax
	xor	%bx, %bx
	mov	%bx, %ds
	movl	%eax, DAT(R_A20_HI)
	movl	0, %eax
	movl	%eax, DAT(R_A20_LO)
	ret

/* 0x66 and 0x67 in 16-bit code, and 16-bit arithmetic */
rm_sizes:
	movl	$0x12345678, %eax
	addl	$0x11111111, %eax
	movl	%eax, DAT(R_OPS32)
	movl	$DAT(D_TABLE), %ebx
	movl	$2, %ecx
	movl	(%ebx,%ecx,4), %edx
	movl	%edx, DAT(R_ADDR32)
	mov	$0xffff, %ax
	add	$1, %ax
	pushf
	pop	%dx
	movw	%ax, DAT(R_WRAP16)
	movw	%dx, DAT(R_WRAP16_FL)
	ret

/* port I/O of 8, 16 and 32 bits: CMOS RAM, the PCI address latch and ID */
rm_ports:
	mov	$0x38, %al
	out	%al, $0x70
	mov	$0x5a, %al
	out	%al, $0x71
	mov	$0x38, %al
	out	%al, $0x70
	in	$0x71, %al
	movb	%al, DAT(R_CMOS)
	mov	$0xcf8, %dx
	movl	$0x80000000, %eax
	outl	%eax, (%dx)
	xor	%eax, %eax
	inl	(%dx), %eax
	movl	%eax, DAT(R_CF8)
	mov	$0xcfc, %dx
	inl	(%dx), %eax
	movl	%eax, DAT(R_CFC32)
	inw	(%dx), %ax
	movw	%ax, DAT(R_CFC16)
	mov	$0xcfe, %dx
	inw	(%dx), %ax
	movw	%ax, DAT(R_CFE16)
	ret

/* memory forms on the page under test through FS and ES (bases from protected mode) */
rm_mmio:
	movl	$0x10, %ebx
	movl	$4, %esi
	mov	$0x20, %di
	mov	$0x30, %bp
	movw	$0xa1b2, %fs:2(%bx,%si)
	movw	%fs:2(%bx,%si), %ax
	movw	%ax, DAT(R_M_LD16)
	movl	$0x89abcdef, %eax
	movl	%eax, %fs:(%di)
	movb	%fs:0x21, %al
	movb	%al, DAT(R_M_MOFFS8)
	addw	$0x1234, %fs:4(%bp,%di)
	pushf
	pop	%ax
	movw	%ax, DAT(R_M_ADD_FL)
	movl	$0x55667788, %fs:0x28
	movl	%fs:8(%ebx,%esi,4), %ecx
	movl	%ecx, DAT(R_M_ADDR32)
	movzbw	%fs:(%bx), %dx
	movw	%dx, DAT(R_M_MOVZX)
	mov	$0x0505, %ax
	xchgw	%ax, %fs:0x40
	movw	%ax, DAT(R_M_XCHG)
	cmpw	$5, %fs:0x40
	pushf
	pop	%ax
	movw	%ax, DAT(R_M_CMP_FL)
	testb	$0x80, %fs:0x22
	pushf
	pop	%ax
	movw	%ax, DAT(R_M_TEST_FL)
	mov	$0x8001, %ax
	orw	%ax, %fs:0x48
	movw	%fs:0x48, %ax
	movw	%ax, DAT(R_M_OR16)
	cld
	mov	$0x100, %di
	mov	$8, %cx
	mov	$0x7a7b, %ax
	rep stosw
	movw	%cx, DAT(R_M_STOS)
	movw	%di, DAT(R_M_STOS) + 2
	mov	$0x100, %si
	mov	$0x200, %di
	mov	$16, %cx
	rep movsb %fs:(%si), %es:(%di)
	movw	%si, DAT(R_M_MOVSB)
	movw	%di, DAT(R_M_MOVSB) + 2
	std
	mov	$0x10e, %si
	mov	$0x28e, %di
	mov	$4, %cx
	rep movsw %fs:(%si), %es:(%di)
	cld
	movw	%si, DAT(R_M_MOVSW)
	movw	%di, DAT(R_M_MOVSW) + 2
	movl	DAT(D_DEV_BASE), %edi	/* the same page at its linear address, 32-bit offset */
	movl	%gs:0x28(%edi), %eax
	movl	%eax, DAT(R_M_GS32)
	movl	$0x0badcafe, %gs:0x2c(%edi)
	ret

/* unreal mode: PE on, DS gets a 4 GiB limit, PE off, then 32-bit offsets above 1 MiB */
rm_unreal:
	mov	%cr0, %eax
	or	$CR0_PE, %al
	mov	%eax, %cr0
	jmp	1f
1:	mov	$SEL_FLAT16, %bx
	mov	%bx, %ds
	and	$0xfe, %al
	mov	%eax, %cr0
	jmp	2f
2:	xor	%bx, %bx
	mov	%bx, %ds		/* base 0 again; the limit stays 4 GiB */
	movl	DAT(D_UNREAL_ADDR), %esi
	movl	(%esi), %eax
	movl	%eax, DAT(R_UNREAL_RD)
	movl	$0x9abcdef0, 4(%esi)
	ret
rm_end:

/* realmode.ld puts this page at 0x9000: each dword holds its own address */
	.section .lowpage, "a"
	.globl rm_low_page
rm_low_page:
	i = 0
	.rept 1024
	.long 0x9000 + i
	i = i + 4
	.endr
	.section .note.GNU-stack,"",@progbits

/* SPDX-License-Identifier: MIT */
/* The realmode guest's low-memory layout and data block, shared by realmode.c and realmode16.S. */
#ifndef TEST_REALMODE_H
#define TEST_REALMODE_H

/*
 * The guest itself is linked at 32 KiB (realmode.ld), as real-mode test
 * kernels are, across the page where Keel used to put the multiboot
 * information. Below it, within DS = SS = 0's 64 KiB:
 *   0x1000 the code (realmode16.S), < 4 KiB   0x3000 data block (D_* below)   
 *   0x3300 the GDT                             0x4000-0x6fff real-mode stack
 */
#define RM_BASE 0x1000
#define RM_CODE_MAX 0x1000
#define RM_SEG 0x0100	  /* CS in real mode: RM_BASE / 16 */
#define RM_SEG_ALT 0x00f0 /* the same bytes at offsets 0x100 higher */
#define RM_ALT_DELTA 0x100
#define RM_DATA 0x3000
#define RM_GDT (RM_DATA + 0x300)
#define RM_STACK_TOP 0x6ff0

/* GDT selectors (the first two as in lib/entry.S, whose GDT comes back afterwards) */
#define SEL_CODE64 0x08
#define SEL_DATA32 0x10
#define SEL_CODE32 0x18
#define SEL_CODE16 0x20 /* base RM_BASE, limit 64 KiB */
#define SEL_DATA16 0x28 /* base 0, limit 64 KiB: what real mode expects */
#define SEL_FLAT16 0x30 /* base 0, limit 4 GiB: unreal mode */
#define SEL_DEV16 0x38	/* base: the page under test (the device or RAM), limit 64 KiB */
#define GDT_ENTRIES 8

/* Data block offsets: parameters from the 64-bit side, then results (all 32-bit slots) */
#define D_SAVED_RSP 0x00 /* 8 bytes */
#define D_SAVED_GDT 0x10 /* 10 bytes */
#define D_SAVED_IDT 0x20 /* 10 bytes */
#define D_GDT_DESC 0x30	 /* 6 bytes: limit, 32-bit base (also read as 10 in 64-bit mode) */
#define D_IVT_DESC 0x40	 /* 6 bytes: limit 0x3ff, base 0 */
#define D_ON_KEEL 0x50
#define D_DEV_BASE 0x54
#define D_UNREAL_ADDR 0x58
#define D_TABLE 0x60 /* 4 dwords for the 32-bit addressing check */
#define D_RESULTS 0x80
#define R(n) (D_RESULTS + 4 * (n))
#define R_CR0 R(0)
#define R_EFER R(1)
#define R_CS R(2)
#define R_CPUID_EBX R(3)
#define R_FARCALL_CS R(4)
#define R_FARCALL_RET R(5)
#define R_FARJMP_CS R(6)
#define R_INT_AX R(7)
#define R_INT_IP R(8)
#define R_INT_CS R(9)
#define R_INT_SP R(10)
#define R_DE_IP R(11)
#define R_DE_COUNT R(12)
#define R_BP_IP R(13)
#define R_BP_COUNT R(14)
#define R_IRET_CS R(15)
#define R_GP_IP R(16)
#define R_GP_COUNT R(17)
#define R_GP_SP R(18)
#define R_SEG_ALIAS R(19)
#define R_SEG_WRAP R(20)
#define R_A20_HI R(21)
#define R_A20_LO R(22)
#define R_OPS32 R(23)
#define R_ADDR32 R(24)
#define R_WRAP16 R(25)
#define R_WRAP16_FL R(26)
#define R_CMOS R(27)
#define R_CF8 R(28)
#define R_CFC32 R(29)
#define R_CFC16 R(30)
#define R_CFE16 R(31)
#define R_M_FIRST 32 /* the MMIO results, compared between the RAM and the device pass */
#define R_M_LD16 R(32)
#define R_M_MOFFS8 R(33)
#define R_M_ADD_FL R(34)
#define R_M_ADDR32 R(35)
#define R_M_MOVZX R(36)
#define R_M_XCHG R(37)
#define R_M_CMP_FL R(38)
#define R_M_TEST_FL R(39)
#define R_M_STOS R(40)	/* CX in the low half, DI in the high half */
#define R_M_MOVSB R(41) /* SI, DI */
#define R_M_MOVSW R(42) /* SI, DI after the backwards copy */
#define R_M_GS32 R(43)
#define R_M_OR16 R(44)
#define R_M_LAST 44
#define R_UNREAL_RD R(45)
#define R_DONE R(46)
#define R_COUNT 47
#define RM_DONE_MAGIC 0x600d

#endif

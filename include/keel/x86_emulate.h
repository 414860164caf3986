/* SPDX-License-Identifier: MIT */
/* Decoder and emulator for the guest instructions that fault on emulated MMIO. */
#ifndef KEEL_X86_EMULATE_H
#define KEEL_X86_EMULATE_H

#include <keel/x86_paging.h>
#include <lib/types.h>

/*
 * Keel has no decode assists: on a nested page fault or EPT violation it
 * fetches up to X86_MAX_INSN_LEN bytes at the guest's RIP, decodes them with
 * x86_decode() and applies them with x86_emulate_mmio(). Only the forms guests
 * use on device registers are supported (MOV, MOVZX/MOVSX/MOVSXD, the ALU ops,
 * TEST, XCHG, STOS and MOVS); everything else is -ENOTSUP and stops the VM.
 */

#define X86_MAX_INSN_LEN 15 /* SDM vol. 2A 2.3.11 */

/* Arithmetic and control flags in RFLAGS (SDM vol. 1 3.4.3.1, 3.4.3.2). */
#define X86_RFLAGS_CF BIT(0)
#define X86_RFLAGS_PF BIT(2)
#define X86_RFLAGS_AF BIT(4)
#define X86_RFLAGS_ZF BIT(6)
#define X86_RFLAGS_SF BIT(7)
#define X86_RFLAGS_DF BIT(10)
#define X86_RFLAGS_OF BIT(11)
#define X86_RFLAGS_ARITH                                                                 \
	(X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF | X86_RFLAGS_SF | \
	 X86_RFLAGS_OF)

/* What the code segment says about default operand and address sizes. */
enum x86_mode {
	X86_MODE_REAL,	 /* real or virtual-8086 mode: 16-bit defaults */
	X86_MODE_PROT16, /* protected mode, CS.D = 0 */
	X86_MODE_PROT32, /* protected mode or compatibility mode, CS.D = 1 */
	X86_MODE_LONG64, /* 64-bit mode: CS.L = 1 */
	X86_MODE_COUNT,
};

/* General-purpose registers in ModRM/REX encoding order (SDM vol. 2A 2.1.5). */
enum x86_gpr {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_R8,
	X86_R9,
	X86_R10,
	X86_R11,
	X86_R12,
	X86_R13,
	X86_R14,
	X86_R15,
	X86_GPR_COUNT,
};
#define X86_REG_NONE 0xff

/* Segment registers in Sreg encoding order (SDM vol. 2A 3.1.1.3). */
enum x86_seg {
	X86_SEG_ES,
	X86_SEG_CS,
	X86_SEG_SS,
	X86_SEG_DS,
	X86_SEG_FS,
	X86_SEG_GS,
	X86_SEG_COUNT,
};

enum x86_op {
	X86_OP_NONE,
	X86_OP_MOV,
	X86_OP_MOVZX,
	X86_OP_MOVSX,
	X86_OP_MOVSXD,
	X86_OP_ADD, /* the eight group-1 operations, in ModRM.reg order */
	X86_OP_OR,
	X86_OP_ADC,
	X86_OP_SBB,
	X86_OP_AND,
	X86_OP_SUB,
	X86_OP_XOR,
	X86_OP_CMP,
	X86_OP_TEST,
	X86_OP_XCHG,
	X86_OP_MOVS,
	X86_OP_STOS,
	X86_OP_COUNT,
};

/* Where the operands are; "rm" is the ModRM r/m operand (or moffs). */
enum x86_form {
	X86_FORM_NONE,
	X86_FORM_RM_REG, /* r/m is the destination, ModRM.reg the source */
	X86_FORM_REG_RM, /* ModRM.reg is the destination, r/m the source */
	X86_FORM_RM_IMM, /* r/m is the destination, the immediate the source */
	X86_FORM_STRING, /* MOVS/STOS: [seg:rSI] or the accumulator to [ES:rDI] */
	X86_FORM_COUNT,
};

/*
 * A memory operand: EA = base + index * scale + disp (+ next RIP when
 * rip_rel), truncated to the address size. A moffs operand is disp alone.
 */
struct x86_mem {
	u8 base;  /* enum x86_gpr or X86_REG_NONE */
	u8 index; /* enum x86_gpr or X86_REG_NONE */
	u8 scale; /* 1, 2, 4 or 8 */
	u8 seg;	  /* enum x86_seg after overrides; for MOVS, the source's */
	bool rip_rel;
	s64 disp;
};

/* A decoded instruction; the emulator trusts only what x86_decode() wrote. */
struct x86_insn {
	u8 bytes[X86_MAX_INSN_LEN]; /* the instruction, for messages */
	u8 len;
	u8 mode;       /* enum x86_mode */
	u8 op;	       /* enum x86_op */
	u8 form;       /* enum x86_form */
	u8 opcode;     /* last opcode byte */
	bool two_byte; /* opcode is in the 0F map */
	u8 op_size;    /* register/immediate operand, bytes: 1, 2, 4, 8 */
	u8 mem_size;   /* memory operand, bytes (differs for MOVZX and kin) */
	u8 addr_size;  /* 2, 4, 8 */
	u8 imm_size;   /* immediate bytes in the encoding, 0 if none */
	u8 rep;	       /* 0, or the last of 0xf2/0xf3 */
	bool lock;
	u8 rex; /* the REX byte that applies, 0 if none */
	u8 modrm;
	u8 sib;
	u8 reg;		/* ModRM.reg + REX.R, or the implicit accumulator */
	bool reg_high8; /* reg names AH, CH, DH or BH */
	bool rm_is_reg; /* ModRM.mod == 3: no memory operand */
	u8 rm_reg;	/* the r/m register when rm_is_reg */
	bool rm_high8;
	struct x86_mem mem;
	u64 imm; /* sign-extended to 64 bits; the emulator truncates */
};

/* The guest state the emulator reads and updates. */
struct x86_regs {
	u64 gpr[X86_GPR_COUNT];
	u64 rip;
	u64 rflags;
	u64 seg_base[X86_SEG_COUNT]; /* ES..DS ignored in 64-bit mode */
};

/*
 * How the emulator reaches the guest. Every callback returns 0 or a negative
 * errno, which x86_emulate_mmio() passes back unchanged. Values are
 * little-endian in the low "size" bytes. ram_read/ram_write return -EFAULT
 * when gpa is not guest RAM; the emulator then treats that side of a string
 * instruction as MMIO too. translate walks the guest's page tables for one
 * access (X86_ACC_*) with every check the CPU makes; it may also return
 * X86_FAULT with *fault, or X86_RETRY.
 */
struct x86_emul_ops {
	int (*mmio_read)(void *ctx, gpa_t gpa, unsigned int size, u64 *val);
	int (*mmio_write)(void *ctx, gpa_t gpa, unsigned int size, u64 val);
	int (*translate)(void *ctx, u64 linear, u32 access, gpa_t *gpa, struct x86_fault *fault);
	int (*ram_read)(void *ctx, gpa_t gpa, void *buf, unsigned int size);
	int (*ram_write)(void *ctx, gpa_t gpa, const void *buf, unsigned int size);
};

/* translate could not finish (the entries kept changing): nothing was done, run it again. */
#define X86_RETRY 2

/*
 * Decodes one instruction from bytes[0..len). Reads no byte at or past len.
 * Returns 0, -EAGAIN when the bytes end first, -E2BIG when the instruction
 * would exceed X86_MAX_INSN_LEN, -EINVAL for an encoding that raises #UD,
 * -ENOTSUP for a valid one outside the supported set.
 */
int x86_decode(const u8 *bytes, size_t len, enum x86_mode mode, struct x86_insn *out);

/*
 * Performs insn, whose access faulted at fault_gpa, on regs. Every memory
 * access it makes goes through ops->translate first, checked as the CPU
 * checks it (the other side of a string instruction, and the operand again:
 * the guest's tables may have changed since the exit). Returns 0; X86_FAULT
 * with *fault, the exception the CPU raises, before any access; X86_RETRY
 * from translate; or a negative errno with the VM to be stopped. On anything but 0, regs is
 * unchanged (a device may already have seen a read after an errno). String
 * instructions with REP do one iteration per call and leave rip unchanged
 * until rCX reaches 0, so a fault leaves rCX, rSI and rDI at the faulting
 * iteration, as on the CPU. Not for faults taken while the CPU walked the
 * guest's page tables.
 */
int x86_emulate_mmio(struct x86_regs *regs, const struct x86_insn *insn, gpa_t fault_gpa,
		     const struct x86_emul_ops *ops, void *ctx, struct x86_fault *fault);

/* The linear address of insn's ModRM or moffs memory operand. */
u64 x86_insn_linear(const struct x86_regs *regs, const struct x86_insn *insn);

/* "mov", "rep stos", ...: for messages. */
const char *x86_mnemonic(const struct x86_insn *insn);

#endif

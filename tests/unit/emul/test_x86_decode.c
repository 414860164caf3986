// SPDX-License-Identifier: MIT
/* Unit tests for vmm/emul/x86_decode.c: real encodings in every mode, truncation and length limits. */
#include "test.h"
#include <keel/x86_emulate.h>
#include <stdlib.h>

#define ENC(...) .enc = { __VA_ARGS__ }, .n = sizeof((u8[]){ __VA_ARGS__ })

struct decode_case {
	enum x86_mode mode;
	u8 enc[X86_MAX_INSN_LEN];
	size_t n;
	const char *want; /* what describe() prints for the decoded insn */
};

struct error_case {
	enum x86_mode mode;
	u8 enc[X86_MAX_INSN_LEN];
	size_t n;
	int rc;
};

static const char *const reg64[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const reg32[16] = {
	"eax", "ecx", "edx",  "ebx",  "esp",  "ebp",  "esi",  "edi",
	"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d",
};
static const char *const reg16[16] = {
	"ax",  "cx",  "dx",   "bx",   "sp",   "bp",   "si",   "di",
	"r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w",
};
static const char *const reg8[16] = {
	"al",  "cl",  "dl",   "bl",   "spl",  "bpl",  "sil",  "dil",
	"r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b",
};
static const char *const reg8h[4] = { "ah", "ch", "dh", "bh" };
static const char *const segs[X86_SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs" };

static const char *reg_name(unsigned int r, unsigned int size, bool high8)
{
	if (r >= 16)
		return "?";
	if (high8)
		return r >= 4 && r < 8 ? reg8h[r - 4] : "?h";
	switch (size) {
	case 1:
		return reg8[r];
	case 2:
		return reg16[r];
	case 4:
		return reg32[r];
	case 8:
		return reg64[r];
	}
	return "?";
}

static u64 mask_of(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void describe_mem(const struct x86_insn *in, char *buf, size_t sz)
{
	const struct x86_mem *m = &in->mem;
	char *p = buf, *end = buf + sz;
	const char *plus = "";

	p += snprintf(p, end - p, "%s:[", segs[m->seg]);
	if (m->rip_rel) {
		p += snprintf(p, end - p, "rip");
		plus = "+";
	}
	if (m->base != X86_REG_NONE) {
		p += snprintf(p, end - p, "%s", reg_name(m->base, in->addr_size, false));
		plus = "+";
	}
	if (m->index != X86_REG_NONE) {
		p += snprintf(p, end - p, "%s%s*%u", plus, reg_name(m->index, in->addr_size, false),
			      m->scale);
		plus = "+";
	}
	if (m->base == X86_REG_NONE && !m->rip_rel)
		p += snprintf(p, end - p, "%s0x%llx", plus,
			      (unsigned long long)((u64)m->disp & mask_of(in->addr_size)));
	else if (m->disp < 0)
		p += snprintf(p, end - p, "-0x%llx", (unsigned long long)-m->disp);
	else if (m->disp > 0)
		p += snprintf(p, end - p, "+0x%llx", (unsigned long long)m->disp);
	snprintf(p, end - p, "]");
}

/* "mnemonic oN mN aN dst, src": every field the emulator relies on. */
static const char *describe(const struct x86_insn *in)
{
	static char out[160];
	char mem[80], reg[16], imm[32];
	const char *rm = mem;

	if (in->rm_is_reg)
		rm = reg_name(in->rm_reg, in->mem_size, in->rm_high8);
	else
		describe_mem(in, mem, sizeof(mem));
	snprintf(reg, sizeof(reg), "%s", reg_name(in->reg, in->op_size, in->reg_high8));
	snprintf(imm, sizeof(imm), "$0x%llx", (unsigned long long)(in->imm & mask_of(in->op_size)));
	int n = snprintf(out, sizeof(out), "%s%s o%u m%u a%u ", in->lock ? "lock " : "",
			 x86_mnemonic(in), in->op_size, in->mem_size, in->addr_size);
	switch (in->form) {
	case X86_FORM_RM_REG:
		snprintf(out + n, sizeof(out) - n, "%s, %s", rm, reg);
		break;
	case X86_FORM_REG_RM:
		snprintf(out + n, sizeof(out) - n, "%s, %s", reg, rm);
		break;
	case X86_FORM_RM_IMM:
		snprintf(out + n, sizeof(out) - n, "%s, %s", rm, imm);
		break;
	default:
		snprintf(out + n, sizeof(out) - n, "%s", segs[in->mem.seg]);
	}
	return out;
}

#define L64 X86_MODE_LONG64
#define P32 X86_MODE_PROT32
#define P16 X86_MODE_PROT16
#define RM X86_MODE_REAL

static const struct decode_case good[] = {
	/* MOV, every width; REX.R/B; byte registers with and without REX. */
	{ L64, ENC(0x89, 0x18), "mov o4 m4 a8 ds:[rax], ebx" },
	{ L64, ENC(0x48, 0x89, 0x18), "mov o8 m8 a8 ds:[rax], rbx" },
	{ L64, ENC(0x66, 0x89, 0x18), "mov o2 m2 a8 ds:[rax], bx" },
	{ L64, ENC(0x88, 0x18), "mov o1 m1 a8 ds:[rax], bl" },
	{ L64, ENC(0x88, 0x38), "mov o1 m1 a8 ds:[rax], bh" },
	{ L64, ENC(0x88, 0x20), "mov o1 m1 a8 ds:[rax], ah" },
	{ L64, ENC(0x40, 0x88, 0x38), "mov o1 m1 a8 ds:[rax], dil" },
	{ L64, ENC(0x40, 0x88, 0x20), "mov o1 m1 a8 ds:[rax], spl" },
	{ L64, ENC(0x44, 0x88, 0x38), "mov o1 m1 a8 ds:[rax], r15b" },
	{ L64, ENC(0x41, 0x89, 0x18), "mov o4 m4 a8 ds:[r8], ebx" },
	{ L64, ENC(0x4d, 0x89, 0x3f), "mov o8 m8 a8 ds:[r15], r15" },
	{ L64, ENC(0x8b, 0x18), "mov o4 m4 a8 ebx, ds:[rax]" },
	{ L64, ENC(0x48, 0x8b, 0x18), "mov o8 m8 a8 rbx, ds:[rax]" },
	{ L64, ENC(0x66, 0x8b, 0x18), "mov o2 m2 a8 bx, ds:[rax]" },
	{ L64, ENC(0x8a, 0x18), "mov o1 m1 a8 bl, ds:[rax]" },
	{ L64, ENC(0x8a, 0x3f), "mov o1 m1 a8 bh, ds:[rdi]" },
	{ L64, ENC(0x45, 0x8a, 0x3f), "mov o1 m1 a8 r15b, ds:[r15]" },
	/* mod 1/2 displacements, RIP-relative. */
	{ L64, ENC(0x8a, 0x40, 0x7f), "mov o1 m1 a8 al, ds:[rax+0x7f]" },
	{ L64, ENC(0x8a, 0x40, 0x80), "mov o1 m1 a8 al, ds:[rax-0x80]" },
	{ L64, ENC(0x8a, 0x80, 0x00, 0x10, 0x00, 0x00), "mov o1 m1 a8 al, ds:[rax+0x1000]" },
	{ L64, ENC(0x8b, 0x86, 0xf0, 0xff, 0xff, 0xff), "mov o4 m4 a8 eax, ds:[rsi-0x10]" },
	{ L64, ENC(0x8b, 0x05, 0x10, 0x00, 0x00, 0x00), "mov o4 m4 a8 eax, ds:[rip+0x10]" },
	{ L64, ENC(0x4c, 0x8b, 0x3d, 0xf8, 0xff, 0xff, 0xff), "mov o8 m8 a8 r15, ds:[rip-0x8]" },
	{ L64, ENC(0x41, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00),
	  "mov o4 m4 a8 eax, ds:[rip+0x10]" }, /* REX.B does not matter */
	{ L64, ENC(0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00),
	  "mov o4 m4 a4 eax, ds:[rip+0x10]" }, /* EIP-relative */
	/* SIB: RSP base, no index, no base, RBP/R13 base, R12 base and index. */
	{ L64, ENC(0x89, 0x04, 0x24), "mov o4 m4 a8 ss:[rsp], eax" },
	{ L64, ENC(0x89, 0x44, 0x24, 0x08), "mov o4 m4 a8 ss:[rsp+0x8], eax" },
	{ L64, ENC(0x89, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), "mov o4 m4 a8 ds:[0x1000], eax" },
	{ L64, ENC(0x89, 0x04, 0x98), "mov o4 m4 a8 ds:[rax+rbx*4], eax" },
	{ L64, ENC(0x89, 0x04, 0x58), "mov o4 m4 a8 ds:[rax+rbx*2], eax" },
	{ L64, ENC(0x89, 0x04, 0x18), "mov o4 m4 a8 ds:[rax+rbx*1], eax" },
	{ L64, ENC(0x89, 0x04, 0x20), "mov o4 m4 a8 ds:[rax], eax" },
	{ L64, ENC(0x89, 0x04, 0xdd, 0x00, 0x01, 0x00, 0x00),
	  "mov o4 m4 a8 ds:[rbx*8+0x100], eax" },
	{ L64, ENC(0x41, 0x89, 0x04, 0xdd, 0x00, 0x01, 0x00, 0x00),
	  "mov o4 m4 a8 ds:[rbx*8+0x100], eax" }, /* no base, even with REX.B */
	{ L64, ENC(0x89, 0x44, 0x9d, 0x04), "mov o4 m4 a8 ss:[rbp+rbx*4+0x4], eax" },
	{ L64, ENC(0x89, 0x84, 0x9d, 0x00, 0x00, 0x01, 0x00),
	  "mov o4 m4 a8 ss:[rbp+rbx*4+0x10000], eax" },
	{ L64, ENC(0x89, 0x45, 0x00), "mov o4 m4 a8 ss:[rbp], eax" },
	{ L64, ENC(0x41, 0x89, 0x45, 0x00), "mov o4 m4 a8 ds:[r13], eax" },
	{ L64, ENC(0x41, 0x89, 0x04, 0x24), "mov o4 m4 a8 ds:[r12], eax" },
	{ L64, ENC(0x42, 0x89, 0x04, 0x20), "mov o4 m4 a8 ds:[rax+r12*1], eax" },
	{ L64, ENC(0x4b, 0x89, 0x44, 0xe5, 0xf0), "mov o8 m8 a8 ds:[r13+r12*8-0x10], rax" },
	{ L64, ENC(0x67, 0x89, 0x18), "mov o4 m4 a4 ds:[eax], ebx" },
	{ L64, ENC(0x67, 0x41, 0x89, 0x04, 0x4a), "mov o4 m4 a4 ds:[r10d+ecx*2], eax" },
	/* Segment overrides; the last one wins. */
	{ L64, ENC(0x64, 0x89, 0x18), "mov o4 m4 a8 fs:[rax], ebx" },
	{ L64, ENC(0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00),
	  "mov o8 m8 a8 rax, gs:[0x28]" },
	{ L64, ENC(0x64, 0x65, 0x89, 0x18), "mov o4 m4 a8 gs:[rax], ebx" },
	{ L64, ENC(0x36, 0x89, 0x18), "mov o4 m4 a8 ss:[rax], ebx" },
	/* REX counts only right before the opcode; REX.W beats 66. */
	{ L64, ENC(0x48, 0x66, 0x89, 0x18), "mov o2 m2 a8 ds:[rax], bx" },
	{ L64, ENC(0x66, 0x48, 0x89, 0x18), "mov o8 m8 a8 ds:[rax], rbx" },
	{ L64, ENC(0x41, 0x40, 0x89, 0x18), "mov o4 m4 a8 ds:[rax], ebx" },
	{ L64, ENC(0x40, 0x41, 0x89, 0x18), "mov o4 m4 a8 ds:[r8], ebx" },
	{ L64, ENC(0x44, 0x64, 0x88, 0x20), "mov o1 m1 a8 fs:[rax], ah" },
	/* MOV immediate. */
	{ L64, ENC(0xc6, 0x00, 0xff), "mov o1 m1 a8 ds:[rax], $0xff" },
	{ L64, ENC(0x66, 0xc7, 0x00, 0x34, 0x12), "mov o2 m2 a8 ds:[rax], $0x1234" },
	{ L64, ENC(0xc7, 0x80, 0x00, 0x10, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
	  "mov o4 m4 a8 ds:[rax+0x1000], $0x12345678" },
	{ L64, ENC(0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80),
	  "mov o8 m8 a8 ds:[rax], $0xffffffff80000000" },
	{ L64, ENC(0x41, 0xc6, 0x44, 0x24, 0x01, 0x7f), "mov o1 m1 a8 ds:[r12+0x1], $0x7f" },
	{ L64, ENC(0xc7, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00),
	  "mov o4 m4 a8 ds:[rip+0x100], $0x1" },
	/* moffs: 8 bytes in 64-bit mode, 4 with 67. */
	{ L64, ENC(0xa0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11),
	  "mov o1 m1 a8 al, ds:[0x1122334455667788]" },
	{ L64, ENC(0x48, 0xa1, 0x00, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x80),
	  "mov o8 m8 a8 rax, ds:[0x80000000fee00000]" },
	{ L64, ENC(0x67, 0xa1, 0x00, 0x00, 0xe0, 0xfe), "mov o4 m4 a4 eax, ds:[0xfee00000]" },
	{ L64, ENC(0x66, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8), "mov o2 m2 a8 ds:[0x807060504030201], ax" },
	{ L64, ENC(0x64, 0xa2, 1, 2, 3, 4, 5, 6, 7, 8), "mov o1 m1 a8 fs:[0x807060504030201], al" },
	/* MOVZX, MOVSX, MOVSXD. */
	{ L64, ENC(0x0f, 0xb6, 0x00), "movzx o4 m1 a8 eax, ds:[rax]" },
	{ L64, ENC(0x0f, 0xb7, 0x00), "movzx o4 m2 a8 eax, ds:[rax]" },
	{ L64, ENC(0x66, 0x0f, 0xb6, 0x00), "movzx o2 m1 a8 ax, ds:[rax]" },
	{ L64, ENC(0x48, 0x0f, 0xb6, 0x00), "movzx o8 m1 a8 rax, ds:[rax]" },
	{ L64, ENC(0x0f, 0xbe, 0x08), "movsx o4 m1 a8 ecx, ds:[rax]" },
	{ L64, ENC(0x4c, 0x0f, 0xbf, 0x08), "movsx o8 m2 a8 r9, ds:[rax]" },
	{ L64, ENC(0x48, 0x63, 0x08), "movsxd o8 m4 a8 rcx, ds:[rax]" },
	{ L64, ENC(0x63, 0x08), "movsxd o4 m4 a8 ecx, ds:[rax]" },
	{ L64, ENC(0x66, 0x63, 0x08), "movsxd o2 m2 a8 cx, ds:[rax]" },
	{ L64, ENC(0x0f, 0xb6, 0xc4), "movzx o4 m1 a8 eax, ah" },
	/* ALU in both directions, group 1 immediates, TEST, XCHG, LOCK. */
	{ L64, ENC(0x01, 0x18), "add o4 m4 a8 ds:[rax], ebx" },
	{ L64, ENC(0x0a, 0x18), "or o1 m1 a8 bl, ds:[rax]" },
	{ L64, ENC(0x48, 0x13, 0x18), "adc o8 m8 a8 rbx, ds:[rax]" },
	{ L64, ENC(0x66, 0x19, 0x18), "sbb o2 m2 a8 ds:[rax], bx" },
	{ L64, ENC(0x20, 0x20), "and o1 m1 a8 ds:[rax], ah" },
	{ L64, ENC(0x2b, 0x18), "sub o4 m4 a8 ebx, ds:[rax]" },
	{ L64, ENC(0x30, 0x18), "xor o1 m1 a8 ds:[rax], bl" },
	{ L64, ENC(0x3b, 0x18), "cmp o4 m4 a8 ebx, ds:[rax]" },
	{ L64, ENC(0x80, 0x08, 0x80), "or o1 m1 a8 ds:[rax], $0x80" },
	{ L64, ENC(0x81, 0x60, 0x04, 0xff, 0xff, 0xff, 0x7f),
	  "and o4 m4 a8 ds:[rax+0x4], $0x7fffffff" },
	{ L64, ENC(0x66, 0x81, 0x38, 0x34, 0x12), "cmp o2 m2 a8 ds:[rax], $0x1234" },
	{ L64, ENC(0x48, 0x81, 0x28, 0x00, 0x00, 0x00, 0x80),
	  "sub o8 m8 a8 ds:[rax], $0xffffffff80000000" },
	{ L64, ENC(0x83, 0x20, 0xfe), "and o4 m4 a8 ds:[rax], $0xfffffffe" },
	{ L64, ENC(0x66, 0x83, 0x00, 0x80), "add o2 m2 a8 ds:[rax], $0xff80" },
	{ L64, ENC(0x48, 0x83, 0x30, 0x01), "xor o8 m8 a8 ds:[rax], $0x1" },
	{ L64, ENC(0x84, 0x18), "test o1 m1 a8 ds:[rax], bl" },
	{ L64, ENC(0x85, 0x18), "test o4 m4 a8 ds:[rax], ebx" },
	{ L64, ENC(0xf6, 0x00, 0x81), "test o1 m1 a8 ds:[rax], $0x81" },
	{ L64, ENC(0xf7, 0x00, 0x00, 0x00, 0x00, 0x80), "test o4 m4 a8 ds:[rax], $0x80000000" },
	{ L64, ENC(0x66, 0xf7, 0x00, 0x00, 0x80), "test o2 m2 a8 ds:[rax], $0x8000" },
	{ L64, ENC(0x48, 0xf7, 0x00, 0xff, 0xff, 0xff, 0xff),
	  "test o8 m8 a8 ds:[rax], $0xffffffffffffffff" },
	{ L64, ENC(0x86, 0x18), "xchg o1 m1 a8 ds:[rax], bl" },
	{ L64, ENC(0x48, 0x87, 0x18), "xchg o8 m8 a8 ds:[rax], rbx" },
	{ L64, ENC(0xf0, 0x01, 0x18), "lock add o4 m4 a8 ds:[rax], ebx" },
	{ L64, ENC(0xf0, 0x83, 0x08, 0x01), "lock or o4 m4 a8 ds:[rax], $0x1" },
	{ L64, ENC(0xf0, 0x87, 0x18), "lock xchg o4 m4 a8 ds:[rax], ebx" },
	{ L64, ENC(0xf3, 0x89, 0x18), "mov o4 m4 a8 ds:[rax], ebx" },
	/* Register forms decode; the emulator refuses them. */
	{ L64, ENC(0x89, 0xc3), "mov o4 m4 a8 ebx, eax" },
	{ L64, ENC(0x88, 0xe0), "mov o1 m1 a8 al, ah" },
	{ L64, ENC(0x40, 0x88, 0xe0), "mov o1 m1 a8 al, spl" },
	{ L64, ENC(0x49, 0x89, 0xc7), "mov o8 m8 a8 r15, rax" },
	/* Strings. */
	{ L64, ENC(0xaa), "stos o1 m1 a8 ds" },
	{ L64, ENC(0xab), "stos o4 m4 a8 ds" },
	{ L64, ENC(0x48, 0xab), "stos o8 m8 a8 ds" },
	{ L64, ENC(0x66, 0xab), "stos o2 m2 a8 ds" },
	{ L64, ENC(0xf3, 0xab), "rep stos o4 m4 a8 ds" },
	{ L64, ENC(0xf3, 0x67, 0xaa), "rep stos o1 m1 a4 ds" },
	{ L64, ENC(0xa4), "movs o1 m1 a8 ds" },
	{ L64, ENC(0xf3, 0x48, 0xa5), "rep movs o8 m8 a8 ds" },
	{ L64, ENC(0xf2, 0xa5), "rep movs o4 m4 a8 ds" },
	{ L64, ENC(0x64, 0xa4), "movs o1 m1 a8 fs" },
	/* 32-bit protected mode: no REX, no RIP-relative. */
	{ P32, ENC(0x89, 0x18), "mov o4 m4 a4 ds:[eax], ebx" },
	{ P32, ENC(0x66, 0x89, 0x18), "mov o2 m2 a4 ds:[eax], bx" },
	{ P32, ENC(0x89, 0x05, 0x00, 0x10, 0x00, 0x00), "mov o4 m4 a4 ds:[0x1000], eax" },
	{ P32, ENC(0x89, 0x44, 0x24, 0x04), "mov o4 m4 a4 ss:[esp+0x4], eax" },
	{ P32, ENC(0x89, 0x04, 0x8d, 0x00, 0x00, 0xe0, 0xfe),
	  "mov o4 m4 a4 ds:[ecx*4+0xfee00000], eax" },
	{ P32, ENC(0x67, 0x89, 0x07), "mov o4 m4 a2 ds:[bx], eax" },
	{ P32, ENC(0xa1, 0x00, 0x00, 0xe0, 0xfe), "mov o4 m4 a4 eax, ds:[0xfee00000]" },
	{ P32, ENC(0x88, 0x30), "mov o1 m1 a4 ds:[eax], dh" },
	{ P32, ENC(0x82, 0x00, 0x01), "add o1 m1 a4 ds:[eax], $0x1" },
	{ P32, ENC(0x26, 0x89, 0x18), "mov o4 m4 a4 es:[eax], ebx" },
	{ P32, ENC(0xf3, 0xa5), "rep movs o4 m4 a4 ds" },
	{ P32, ENC(0x2e, 0xa4), "movs o1 m1 a4 cs" },
	/* Real mode and 16-bit protected mode: the 16-bit ModRM table. */
	{ RM, ENC(0x89, 0x00), "mov o2 m2 a2 ds:[bx+si*1], ax" },
	{ RM, ENC(0x89, 0x01), "mov o2 m2 a2 ds:[bx+di*1], ax" },
	{ RM, ENC(0x89, 0x02), "mov o2 m2 a2 ss:[bp+si*1], ax" },
	{ RM, ENC(0x89, 0x03), "mov o2 m2 a2 ss:[bp+di*1], ax" },
	{ RM, ENC(0x89, 0x04), "mov o2 m2 a2 ds:[si], ax" },
	{ RM, ENC(0x89, 0x05), "mov o2 m2 a2 ds:[di], ax" },
	{ RM, ENC(0x89, 0x06, 0x34, 0x12), "mov o2 m2 a2 ds:[0x1234], ax" },
	{ RM, ENC(0x89, 0x07), "mov o2 m2 a2 ds:[bx], ax" },
	{ RM, ENC(0x89, 0x46, 0x00), "mov o2 m2 a2 ss:[bp], ax" },
	{ RM, ENC(0x8b, 0x46, 0xfe), "mov o2 m2 a2 ax, ss:[bp-0x2]" },
	{ RM, ENC(0x89, 0x87, 0x00, 0x10), "mov o2 m2 a2 ds:[bx+0x1000], ax" },
	{ RM, ENC(0x89, 0x80, 0xff, 0xff), "mov o2 m2 a2 ds:[bx+si*1-0x1], ax" },
	{ RM, ENC(0x88, 0x26, 0x00, 0x10), "mov o1 m1 a2 ds:[0x1000], ah" },
	{ RM, ENC(0x66, 0x89, 0x07), "mov o4 m4 a2 ds:[bx], eax" },
	{ RM, ENC(0x67, 0x89, 0x03), "mov o2 m2 a4 ds:[ebx], ax" },
	{ RM, ENC(0x66, 0x67, 0x89, 0x04, 0x58), "mov o4 m4 a4 ds:[eax+ebx*2], eax" },
	{ RM, ENC(0x26, 0x89, 0x07), "mov o2 m2 a2 es:[bx], ax" },
	{ RM, ENC(0xc7, 0x06, 0x00, 0x10, 0x34, 0x12), "mov o2 m2 a2 ds:[0x1000], $0x1234" },
	{ RM, ENC(0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), "mov o4 m4 a2 ds:[bx], $0x12345678" },
	{ RM, ENC(0xa1, 0x00, 0x10), "mov o2 m2 a2 ax, ds:[0x1000]" },
	{ RM, ENC(0x67, 0xa1, 0x00, 0x10, 0x00, 0x00), "mov o2 m2 a4 ax, ds:[0x1000]" },
	{ RM, ENC(0x83, 0x0f, 0x01), "or o2 m2 a2 ds:[bx], $0x1" },
	{ RM, ENC(0xa5), "movs o2 m2 a2 ds" },
	{ RM, ENC(0xf3, 0x66, 0xa5), "rep movs o4 m4 a2 ds" },
	/* The forms tests/guests/cpu/realmode16.S runs on MMIO from real mode. */
	{ RM, ENC(0x64, 0xc7, 0x40, 0x02, 0xb2, 0xa1), "mov o2 m2 a2 fs:[bx+si*1+0x2], $0xa1b2" },
	{ RM, ENC(0x64, 0x66, 0x89, 0x05), "mov o4 m4 a2 fs:[di], eax" },
	{ RM, ENC(0x64, 0xa0, 0x21, 0x00), "mov o1 m1 a2 al, fs:[0x21]" },
	{ RM, ENC(0x64, 0x81, 0x43, 0x04, 0x34, 0x12), "add o2 m2 a2 fs:[bp+di*1+0x4], $0x1234" },
	{ RM, ENC(0x64, 0x66, 0xc7, 0x06, 0x28, 0x00, 0x88, 0x77, 0x66, 0x55),
	  "mov o4 m4 a2 fs:[0x28], $0x55667788" },
	{ RM, ENC(0x64, 0x67, 0x66, 0x8b, 0x4c, 0xb3, 0x08),
	  "mov o4 m4 a4 ecx, fs:[ebx+esi*4+0x8]" },
	{ RM, ENC(0x64, 0x0f, 0xb6, 0x17), "movzx o2 m1 a2 dx, fs:[bx]" },
	{ RM, ENC(0x64, 0x87, 0x06, 0x40, 0x00), "xchg o2 m2 a2 fs:[0x40], ax" },
	{ RM, ENC(0x64, 0x83, 0x3e, 0x40, 0x00, 0x05), "cmp o2 m2 a2 fs:[0x40], $0x5" },
	{ RM, ENC(0x64, 0xf6, 0x06, 0x22, 0x00, 0x80), "test o1 m1 a2 fs:[0x22], $0x80" },
	{ RM, ENC(0x64, 0x09, 0x06, 0x48, 0x00), "or o2 m2 a2 fs:[0x48], ax" },
	{ RM, ENC(0xf3, 0xab), "rep stos o2 m2 a2 ds" },
	{ RM, ENC(0x64, 0xf3, 0xa4), "rep movs o1 m1 a2 fs" },
	{ RM, ENC(0x64, 0xf3, 0xa5), "rep movs o2 m2 a2 fs" },
	{ RM, ENC(0x65, 0x67, 0x66, 0x8b, 0x47, 0x28), "mov o4 m4 a4 eax, gs:[edi+0x28]" },
	{ RM, ENC(0x65, 0x67, 0x66, 0xc7, 0x47, 0x2c, 0xfe, 0xca, 0xad, 0x0b),
	  "mov o4 m4 a4 gs:[edi+0x2c], $0xbadcafe" },
	{ RM, ENC(0x67, 0x66, 0xa1, 0x00, 0x00, 0xd4, 0xfe), "mov o4 m4 a4 eax, ds:[0xfed40000]" },
	{ RM, ENC(0x3e, 0x8b, 0x46, 0x02), "mov o2 m2 a2 ax, ds:[bp+0x2]" },
	{ RM, ENC(0x67, 0x89, 0x44, 0x24, 0x04), "mov o2 m2 a4 ss:[esp+0x4], ax" },
	{ P16, ENC(0x89, 0x07), "mov o2 m2 a2 ds:[bx], ax" },
	{ P16, ENC(0x66, 0x0f, 0xb7, 0x07), "movzx o4 m2 a2 eax, ds:[bx]" },
	{ P16, ENC(0xab), "stos o2 m2 a2 ds" },
};

static void check_good(const struct decode_case *c)
{
	struct x86_insn in;
	u8 buf[32];
	int rc;

	/* Trailing bytes must not change the result. */
	memset(buf, 0x90, sizeof(buf));
	memcpy(buf, c->enc, c->n);
	rc = x86_decode(buf, sizeof(buf), c->mode, &in);
	CHECK_EQ(rc, 0);
	CHECK_EQ(in.len, c->n);
	CHECK_EQ(memcmp(in.bytes, c->enc, c->n), 0);
	CHECK_EQ(in.mode, c->mode);
	CHECK_STR(describe(&in), c->want);
}

TEST(table_of_real_encodings)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (good[i].want)
			check_good(&good[i]);
}

/* Each proper prefix of a valid encoding, in a buffer of exactly that size. */
TEST(every_truncation_fails_without_overread)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		if (!good[i].want)
			continue;
		for (size_t k = 0; k <= good[i].n; k++) {
			u8 *p = malloc(k ? k : 1);
			struct x86_insn in;
			int rc;

			memcpy(p, good[i].enc, k);
			rc = x86_decode(p, k, good[i].mode, &in);
			if (k < good[i].n) {
				CHECK_EQ(rc, -EAGAIN);
				CHECK_EQ(in.op, X86_OP_NONE);
			} else {
				CHECK_EQ(rc, 0);
			}
			free(p);
		}
	}
}

static const struct error_case bad[] = {
	{ L64, ENC(0x0f, 0x05), -ENOTSUP },		/* syscall */
	{ L64, ENC(0x90), -ENOTSUP },			/* nop */
	{ L64, ENC(0x0f, 0x6f, 0x00), -ENOTSUP },	/* movq mm0, [rax] */
	{ L64, ENC(0xc6, 0x08, 0x00), -ENOTSUP },	/* C6 /1 */
	{ L64, ENC(0xc7, 0xf8, 0, 0, 0, 0), -ENOTSUP }, /* xbegin */
	{ L64, ENC(0xf6, 0x10), -ENOTSUP },		/* not byte [rax] */
	{ L64, ENC(0xf7, 0x18), -ENOTSUP },		/* neg */
	{ L64, ENC(0x04, 0x01), -ENOTSUP },		/* add al, imm8 */
	{ L64, ENC(0x8c, 0x18), -ENOTSUP },		/* mov [rax], ds */
	{ L64, ENC(0xc5, 0xf9, 0x6f, 0x00), -ENOTSUP }, /* VEX */
	{ L64, ENC(0x82, 0x00, 0x01), -EINVAL },	/* #UD in 64-bit mode */
	{ L64, ENC(0xf0, 0x89, 0x18), -EINVAL },	/* lock mov */
	{ L64, ENC(0xf0, 0x01, 0xc3), -EINVAL },	/* lock with register dst */
	{ L64, ENC(0xf0, 0x39, 0x18), -EINVAL },	/* lock cmp */
	{ L64, ENC(0xf0, 0x03, 0x18), -EINVAL },	/* lock add reg, mem */
	{ L64, ENC(0xf0, 0x85, 0x18), -EINVAL },	/* lock test */
	{ L64, ENC(0xf0, 0xab), -EINVAL },		/* lock stos */
	{ L64, ENC(0xf0, 0x0f, 0xb6, 0x00), -EINVAL },	/* lock movzx */
	{ L64, ENC(0xf0, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0), -EINVAL },
	{ P32, ENC(0x63, 0x00), -ENOTSUP },	  /* arpl */
	{ P32, ENC(0x48, 0x89, 0x18), -ENOTSUP }, /* dec eax */
	{ RM, ENC(0x40), -ENOTSUP },		  /* inc ax */
	{ L64, ENC(0x0f), -EAGAIN },
	{ L64, ENC(0x66, 0x66), -EAGAIN },
	{ L64, ENC(0x48), -EAGAIN },
	/* 15 bytes is the limit however the bytes are spent. */
	{ L64,
	  ENC(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	      0x89),
	  -E2BIG },
	{ L64,
	  ENC(0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40,
	      0x40),
	  -E2BIG },
	{ L64,
	  ENC(0x26, 0x26, 0x26, 0x26, 0x26, 0x67, 0xc7, 0x84, 0x24, 0x00, 0x00, 0x00, 0x00, 0x01,
	      0x00),
	  -E2BIG },
};

TEST(errors)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct x86_insn in;
		u8 *p = malloc(bad[i].n);
		int rc;

		memcpy(p, bad[i].enc, bad[i].n);
		rc = x86_decode(p, bad[i].n, bad[i].mode, &in);
		if (rc != bad[i].rc)
			fprintf(stderr, "  bad[%zu] %02x %02x: rc %d want %d\n", i, bad[i].enc[0],
				bad[i].enc[1], rc, bad[i].rc);
		CHECK_EQ(rc, bad[i].rc);
		CHECK_EQ(in.op, X86_OP_NONE);
		free(p);
	}
}

/* Longer than 15 bytes in a longer buffer: still refused at byte 16. */
TEST(length_limit)
{
	u8 buf[32];
	struct x86_insn in;

	memset(buf, 0x66, sizeof(buf));
	buf[13] = 0x89;
	buf[14] = 0x18;
	CHECK_EQ(x86_decode(buf, sizeof(buf), L64, &in), 0);
	CHECK_EQ(in.len, 15);
	buf[13] = 0x66;
	buf[14] = 0x89;
	buf[15] = 0x18;
	CHECK_EQ(x86_decode(buf, sizeof(buf), L64, &in), -E2BIG);
	/* Prefixes + opcode + ModRM + disp32 + imm32: 5 prefixes fit, 6 do not. */
	memset(buf, 0x26, sizeof(buf));
	buf[6] = 0xc7;
	buf[7] = 0x80;
	CHECK_EQ(x86_decode(buf, sizeof(buf), P32, &in), -E2BIG);
	CHECK_EQ(x86_decode(buf + 1, sizeof(buf) - 1, P32, &in), 0);
	CHECK_EQ(in.len, 15);
}

TEST(bad_arguments)
{
	u8 b[2] = { 0x89, 0x18 };
	struct x86_insn in;

	CHECK_EQ(x86_decode(NULL, 2, L64, &in), -EINVAL);
	CHECK_EQ(x86_decode(b, 2, X86_MODE_COUNT, &in), -EINVAL);
	CHECK_EQ(x86_decode(b, 2, L64, NULL), -EINVAL);
	CHECK_EQ(x86_decode(b, 0, L64, &in), -EAGAIN);
}

/* All 32 ALU ModRM opcodes 00-3B: operation, direction and width. */
TEST(alu_block)
{
	static const u8 ops[8] = { X86_OP_ADD, X86_OP_OR,  X86_OP_ADC, X86_OP_SBB,
				   X86_OP_AND, X86_OP_SUB, X86_OP_XOR, X86_OP_CMP };

	for (unsigned int opc = 0; opc < 0x40; opc++) {
		u8 enc[3] = { 0x48, (u8)opc, 0x0b };
		struct x86_insn in;

		if ((opc & 7) > 3)
			continue;
		CHECK_EQ(x86_decode(enc, 3, L64, &in), 0);
		CHECK_EQ(in.op, ops[opc >> 3]);
		CHECK_EQ(in.op_size, (opc & 1) ? 8 : 1);
		CHECK_EQ(in.form, (opc & 2) ? X86_FORM_REG_RM : X86_FORM_RM_REG);
		CHECK_EQ(in.reg, X86_RCX);
		CHECK_EQ(in.mem.base, X86_RBX);
		CHECK_EQ(in.len, 3);
	}
}

/* Group 1 (80, 81, 83) in every ModRM.reg, with immediate widths. */
TEST(group1)
{
	static const u8 ops[8] = { X86_OP_ADD, X86_OP_OR,  X86_OP_ADC, X86_OP_SBB,
				   X86_OP_AND, X86_OP_SUB, X86_OP_XOR, X86_OP_CMP };

	for (unsigned int r = 0; r < 8; r++) {
		u8 e80[] = { 0x80, (u8)(r << 3), 0xf0 };
		u8 e81[] = { 0x66, 0x81, (u8)(r << 3), 0x00, 0x80 };
		u8 e83[] = { 0x48, 0x83, (u8)(r << 3), 0xf0 };
		struct x86_insn in;

		CHECK_EQ(x86_decode(e80, sizeof(e80), L64, &in), 0);
		CHECK_EQ(in.op, ops[r]);
		CHECK_EQ(in.imm_size, 1);
		CHECK_EQ(in.imm & 0xff, 0xf0);
		CHECK_EQ(x86_decode(e81, sizeof(e81), L64, &in), 0);
		CHECK_EQ(in.op, ops[r]);
		CHECK_EQ(in.imm_size, 2);
		CHECK_EQ(in.imm & 0xffff, 0x8000);
		CHECK_EQ(in.len, 5);
		CHECK_EQ(x86_decode(e83, sizeof(e83), L64, &in), 0);
		CHECK_EQ(in.op, ops[r]);
		CHECK_EQ(in.imm, (u64)-16);
		CHECK_EQ(in.op_size, 8);
	}
}

/*
 * Every mod/rm pair of the 32/64-bit table, with and without REX.B: the
 * length must match the SDM tables 2-2/2-3 and the base follow REX.B.
 */
TEST(modrm_all_forms)
{
	for (unsigned int rex = 0x40; rex <= 0x41; rex++) {
		for (unsigned int modrm = 0; modrm < 256; modrm++) {
			unsigned int mod = modrm >> 6, rm = modrm & 7;
			u8 enc[16] = { (u8)rex, 0x89, (u8)modrm, 0x25 };
			size_t want = 3;
			struct x86_insn in;

			if (mod != 3 && rm == 4)
				want += 1 + ((mod == 0) ? 4 : 0); /* SIB 0x25 */
			if (mod == 1)
				want += 1;
			else if (mod == 2 || (mod == 0 && rm == 5))
				want += 4;
			CHECK_EQ(x86_decode(enc, sizeof(enc), L64, &in), 0);
			CHECK_EQ(in.len, want);
			CHECK_EQ(in.rm_is_reg, mod == 3);
			CHECK_EQ(in.mem.rip_rel, mod == 0 && rm == 5);
			if (mod != 3 && rm != 4 && !(mod == 0 && rm == 5))
				CHECK_EQ(in.mem.base, rm | (rex & 1) << 3);
			if (mod == 3)
				CHECK_EQ(in.rm_reg, rm | (rex & 1) << 3);
		}
	}
}

/* Every mod/rm pair of the 16-bit table (SDM vol. 2A table 2-1). */
TEST(modrm16_all_forms)
{
	for (unsigned int modrm = 0; modrm < 256; modrm++) {
		unsigned int mod = modrm >> 6, rm = modrm & 7;
		u8 enc[8] = { 0x89, (u8)modrm, 0x11, 0x22 };
		size_t want = 2;
		struct x86_insn in;

		if (mod == 1)
			want += 1;
		else if (mod == 2 || (mod == 0 && rm == 6))
			want += 2;
		CHECK_EQ(x86_decode(enc, sizeof(enc), RM, &in), 0);
		CHECK_EQ(in.len, want);
		CHECK_EQ(in.addr_size, 2);
		if (mod == 0 && rm == 6)
			CHECK_EQ(in.mem.disp, 0x2211);
		if (mod == 1)
			CHECK_EQ(in.mem.disp, 0x11);
		if (mod == 2)
			CHECK_EQ(in.mem.disp, 0x2211);
	}
}

TEST(mnemonics)
{
	struct x86_insn in;
	u8 e1[] = { 0xf3, 0xa4 }, e2[] = { 0xaa }, e3[] = { 0xf2, 0xab };

	CHECK_EQ(x86_decode(e1, 2, L64, &in), 0);
	CHECK_STR(x86_mnemonic(&in), "rep movs");
	CHECK_EQ(x86_decode(e2, 1, L64, &in), 0);
	CHECK_STR(x86_mnemonic(&in), "stos");
	CHECK_EQ(x86_decode(e3, 2, L64, &in), 0);
	CHECK_STR(x86_mnemonic(&in), "rep stos");
	CHECK_EQ(x86_decode(e2, 0, L64, &in), -EAGAIN);
	CHECK_STR(x86_mnemonic(&in), "(bad)");
	CHECK_STR(x86_mnemonic(NULL), "(bad)");
}

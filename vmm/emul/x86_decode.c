// SPDX-License-Identifier: MIT
/*
 * x86 instruction decoder for MMIO emulation. Reads the guest's bytes through
 * a cursor that never passes the caller's length or X86_MAX_INSN_LEN, and
 * fills a struct x86_insn the emulator can trust. Layout of an instruction
 * (SDM vol. 2A 2.1):
 *
 *   [legacy prefixes][REX][0F] opcode [ModRM [SIB] [disp]] [imm or moffs]
 */
#include <keel/x86_emulate.h>
#include <lib/string.h>

/* Legacy prefixes (SDM vol. 2A 2.1.1). */
#define PFX_LOCK 0xf0
#define PFX_REPNE 0xf2
#define PFX_REP 0xf3
#define PFX_OPSIZE 0x66
#define PFX_ADSIZE 0x67
#define PFX_ES 0x26
#define PFX_CS 0x2e
#define PFX_SS 0x36
#define PFX_DS 0x3e
#define PFX_FS 0x64
#define PFX_GS 0x65
#define OPC_ESCAPE 0x0f /* two-byte opcode map (SDM vol. 2A 2.1.2) */

/* REX (SDM vol. 2A 2.2.1.2): 0100WRXB, 64-bit mode only. */
#define REX_MASK 0xf0
#define REX_BASE 0x40
#define REX_W BIT(3)
#define REX_R BIT(2)
#define REX_X BIT(1)
#define REX_B BIT(0)

/* ModRM and SIB fields (SDM vol. 2A 2.1.5, tables 2-1 to 2-3). */
#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m) ((m)&7)
#define MOD_DISP0 0
#define MOD_DISP8 1
#define MOD_DISP32 2 /* disp16 with 16-bit addressing */
#define MOD_REG 3
#define RM_SIB 4      /* 32/64-bit: a SIB byte follows */
#define RM_DISP32 5   /* 32/64-bit, mod 0: disp32, or RIP + disp32 */
#define RM16_DISP16 6 /* 16-bit, mod 0: disp16 alone */
#define SIB_NO_INDEX 4
#define SIB_NO_BASE 5 /* with mod 0 */

/* Per-opcode attributes. */
#define D_MODRM BIT(0)	/* a ModRM byte follows */
#define D_BYTE BIT(1)	/* 8-bit operands */
#define D_IMM8 BIT(2)	/* 8-bit immediate, sign-extended */
#define D_IMMZ BIT(3)	/* 16-bit or 32-bit immediate by operand size */
#define D_MOFFS BIT(4)	/* address-size offset instead of ModRM */
#define D_NO64 BIT(5)	/* #UD in 64-bit mode */
#define D_ONLY64 BIT(6) /* a different instruction outside 64-bit mode */
#define D_SRC8 BIT(7)	/* memory source is 8-bit (MOVZX/MOVSX) */
#define D_SRC16 BIT(8)	/* memory source is 16-bit */

enum x86_group { GRP_NONE, GRP_1, GRP_3, GRP_11 };

struct x86_opdesc {
	u8 op;
	u8 form;
	u8 group;
	u16 attr;
};

/* The eight ALU blocks 00-3F: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev (SDM vol. 2D A-2). */
#define ALU_ROW(opc, o)                                                            \
	[(opc) + 0] = { o, X86_FORM_RM_REG, GRP_NONE, D_MODRM | D_BYTE },          \
		 [(opc) + 1] = { o, X86_FORM_RM_REG, GRP_NONE, D_MODRM },          \
		 [(opc) + 2] = { o, X86_FORM_REG_RM, GRP_NONE, D_MODRM | D_BYTE }, \
		 [(opc) + 3] = { o, X86_FORM_REG_RM, GRP_NONE, D_MODRM }

/* One-byte opcode map (SDM vol. 2D table A-2); op 0 means unsupported. */
static const struct x86_opdesc x86_map1[256] = {
	ALU_ROW(0x00, X86_OP_ADD),
	ALU_ROW(0x08, X86_OP_OR),
	ALU_ROW(0x10, X86_OP_ADC),
	ALU_ROW(0x18, X86_OP_SBB),
	ALU_ROW(0x20, X86_OP_AND),
	ALU_ROW(0x28, X86_OP_SUB),
	ALU_ROW(0x30, X86_OP_XOR),
	ALU_ROW(0x38, X86_OP_CMP),
	[0x63] = { X86_OP_MOVSXD, X86_FORM_REG_RM, GRP_NONE, D_MODRM | D_ONLY64 },
	[0x80] = { 0, X86_FORM_RM_IMM, GRP_1, D_MODRM | D_BYTE | D_IMM8 },
	[0x81] = { 0, X86_FORM_RM_IMM, GRP_1, D_MODRM | D_IMMZ },
	[0x82] = { 0, X86_FORM_RM_IMM, GRP_1, D_MODRM | D_BYTE | D_IMM8 | D_NO64 },
	[0x83] = { 0, X86_FORM_RM_IMM, GRP_1, D_MODRM | D_IMM8 },
	[0x84] = { X86_OP_TEST, X86_FORM_RM_REG, GRP_NONE, D_MODRM | D_BYTE },
	[0x85] = { X86_OP_TEST, X86_FORM_RM_REG, GRP_NONE, D_MODRM },
	[0x86] = { X86_OP_XCHG, X86_FORM_RM_REG, GRP_NONE, D_MODRM | D_BYTE },
	[0x87] = { X86_OP_XCHG, X86_FORM_RM_REG, GRP_NONE, D_MODRM },
	[0x88] = { X86_OP_MOV, X86_FORM_RM_REG, GRP_NONE, D_MODRM | D_BYTE },
	[0x89] = { X86_OP_MOV, X86_FORM_RM_REG, GRP_NONE, D_MODRM },
	[0x8a] = { X86_OP_MOV, X86_FORM_REG_RM, GRP_NONE, D_MODRM | D_BYTE },
	[0x8b] = { X86_OP_MOV, X86_FORM_REG_RM, GRP_NONE, D_MODRM },
	[0xa0] = { X86_OP_MOV, X86_FORM_REG_RM, GRP_NONE, D_MOFFS | D_BYTE },
	[0xa1] = { X86_OP_MOV, X86_FORM_REG_RM, GRP_NONE, D_MOFFS },
	[0xa2] = { X86_OP_MOV, X86_FORM_RM_REG, GRP_NONE, D_MOFFS | D_BYTE },
	[0xa3] = { X86_OP_MOV, X86_FORM_RM_REG, GRP_NONE, D_MOFFS },
	[0xa4] = { X86_OP_MOVS, X86_FORM_STRING, GRP_NONE, D_BYTE },
	[0xa5] = { X86_OP_MOVS, X86_FORM_STRING, GRP_NONE, 0 },
	[0xaa] = { X86_OP_STOS, X86_FORM_STRING, GRP_NONE, D_BYTE },
	[0xab] = { X86_OP_STOS, X86_FORM_STRING, GRP_NONE, 0 },
	[0xc6] = { 0, X86_FORM_RM_IMM, GRP_11, D_MODRM | D_BYTE | D_IMM8 },
	[0xc7] = { 0, X86_FORM_RM_IMM, GRP_11, D_MODRM | D_IMMZ },
	[0xf6] = { 0, X86_FORM_RM_IMM, GRP_3, D_MODRM | D_BYTE | D_IMM8 },
	[0xf7] = { 0, X86_FORM_RM_IMM, GRP_3, D_MODRM | D_IMMZ },
};

/* The few two-byte opcodes (SDM vol. 2D table A-3). */
static const struct x86_opdesc x86_map2_movx[4] = {
	{ X86_OP_MOVZX, X86_FORM_REG_RM, GRP_NONE, D_MODRM | D_SRC8 },	/* B6 */
	{ X86_OP_MOVZX, X86_FORM_REG_RM, GRP_NONE, D_MODRM | D_SRC16 }, /* B7 */
	{ X86_OP_MOVSX, X86_FORM_REG_RM, GRP_NONE, D_MODRM | D_SRC8 },	/* BE */
	{ X86_OP_MOVSX, X86_FORM_REG_RM, GRP_NONE, D_MODRM | D_SRC16 }, /* BF */
};

static const struct x86_opdesc x86_unsupported;

/* Group 1 operations by ModRM.reg (SDM vol. 2D table A-6). */
static const u8 x86_group1_ops[8] = {
	X86_OP_ADD, X86_OP_OR,	X86_OP_ADC, X86_OP_SBB,
	X86_OP_AND, X86_OP_SUB, X86_OP_XOR, X86_OP_CMP,
};

/* 16-bit addressing by ModRM.rm (SDM vol. 2A table 2-1). */
static const u8 x86_rm16_base[8] = {
	X86_RBX, X86_RBX, X86_RBP, X86_RBP, X86_RSI, X86_RDI, X86_RBP, X86_RBX,
};
static const u8 x86_rm16_index[8] = {
	X86_RSI, X86_RDI, X86_RSI, X86_RDI, X86_REG_NONE, X86_REG_NONE, X86_REG_NONE, X86_REG_NONE,
};

struct x86_cursor {
	const u8 *bytes;
	size_t len;
	size_t pos;
};

static int x86_fetch(struct x86_cursor *c, u8 *b)
{
	if (c->pos >= X86_MAX_INSN_LEN)
		return -E2BIG;
	if (c->pos >= c->len)
		return -EAGAIN;
	*b = c->bytes[c->pos++];
	return 0;
}

/* Fetches a little-endian value of size bytes, sign-extended to 64 bits. */
static int x86_fetch_signed(struct x86_cursor *c, u8 size, s64 *val)
{
	u64 v = 0;
	u8 b;

	for (u8 i = 0; i < size; i++) {
		int rc = x86_fetch(c, &b);

		if (rc)
			return rc;
		v |= (u64)b << (8 * i);
	}
	if (size < 8 && (v & BIT(8 * size - 1)))
		v |= ~0ULL << (8 * size);
	*val = (s64)v;
	return 0;
}

static bool x86_default16(enum x86_mode mode)
{
	return mode == X86_MODE_REAL || mode == X86_MODE_PROT16;
}

/* Operand and address size (SDM vol. 1 3.6, table 3-4; vol. 2A 2.2.1.2). */
static void x86_set_sizes(struct x86_insn *in, bool opsize, bool adsize)
{
	enum x86_mode mode = in->mode;

	if (in->rex & REX_W)
		in->op_size = 8;
	else
		in->op_size = (x86_default16(mode) != opsize) ? 2 : 4;
	if (mode == X86_MODE_LONG64)
		in->addr_size = adsize ? 4 : 8;
	else
		in->addr_size = (x86_default16(mode) != adsize) ? 2 : 4;
}

/* Segment-override prefixes in Sreg order (SDM vol. 2A 2.1.1). */
static const u8 x86_seg_prefixes[X86_SEG_COUNT] = {
	PFX_ES, PFX_CS, PFX_SS, PFX_DS, PFX_FS, PFX_GS,
};

static bool x86_seg_prefix(u8 b, u8 *seg)
{
	for (u8 s = 0; s < X86_SEG_COUNT; s++) {
		if (b == x86_seg_prefixes[s]) {
			*seg = s;
			return true;
		}
	}
	return false;
}

/*
 * Consumes prefixes and returns the first opcode byte in *opc. The last
 * prefix of a group wins. A REX byte counts only directly before the opcode;
 * one followed by a legacy prefix is ignored (SDM vol. 2A 2.2.1).
 */
static int x86_prefixes(struct x86_cursor *c, struct x86_insn *in, u8 *seg, u8 *opc)
{
	bool opsize = false, adsize = false;
	u8 b;
	int rc;

	for (;;) {
		rc = x86_fetch(c, &b);
		if (rc)
			return rc;
		if (in->mode == X86_MODE_LONG64 && (b & REX_MASK) == REX_BASE) {
			in->rex = b;
			continue;
		}
		if (b == PFX_OPSIZE)
			opsize = true;
		else if (b == PFX_ADSIZE)
			adsize = true;
		else if (b == PFX_LOCK)
			in->lock = true;
		else if (b == PFX_REP || b == PFX_REPNE)
			in->rep = b;
		else if (!x86_seg_prefix(b, seg))
			break;
		in->rex = 0;
	}
	x86_set_sizes(in, opsize, adsize);
	*opc = b;
	return 0;
}

static int x86_disp(struct x86_cursor *c, struct x86_insn *in, u8 mod, u8 wide)
{
	if (mod == MOD_DISP8)
		return x86_fetch_signed(c, 1, &in->mem.disp);
	if (mod == MOD_DISP32)
		return x86_fetch_signed(c, wide, &in->mem.disp);
	return 0;
}

/* 16-bit ModRM memory forms (SDM vol. 2A table 2-1). */
static int x86_modrm16(struct x86_cursor *c, struct x86_insn *in)
{
	u8 mod = MODRM_MOD(in->modrm), rm = MODRM_RM(in->modrm);

	if (mod == MOD_DISP0 && rm == RM16_DISP16)
		return x86_fetch_signed(c, 2, &in->mem.disp);
	in->mem.base = x86_rm16_base[rm];
	in->mem.index = x86_rm16_index[rm];
	return x86_disp(c, in, mod, 2);
}

static int x86_sib(struct x86_cursor *c, struct x86_insn *in, u8 mod)
{
	u8 sib, index, base;
	int rc = x86_fetch(c, &sib);

	if (rc)
		return rc;
	in->sib = sib;
	index = MODRM_REG(sib) | ((in->rex & REX_X) ? 8 : 0);
	base = MODRM_RM(sib) | ((in->rex & REX_B) ? 8 : 0);
	in->mem.scale = 1 << MODRM_MOD(sib);
	if (index != SIB_NO_INDEX)
		in->mem.index = index;
	/* Base field 5 with mod 0 means no base, also for R13. */
	if (mod == MOD_DISP0 && MODRM_RM(sib) == SIB_NO_BASE)
		return x86_fetch_signed(c, 4, &in->mem.disp);
	in->mem.base = base;
	return x86_disp(c, in, mod, 4);
}

/* 32/64-bit ModRM memory forms (SDM vol. 2A tables 2-2, 2-3, 2.2.1.6). */
static int x86_modrm32(struct x86_cursor *c, struct x86_insn *in)
{
	u8 mod = MODRM_MOD(in->modrm), rm = MODRM_RM(in->modrm);

	if (rm == RM_SIB)
		return x86_sib(c, in, mod);
	if (mod == MOD_DISP0 && rm == RM_DISP32) {
		in->mem.rip_rel = in->mode == X86_MODE_LONG64;
		return x86_fetch_signed(c, 4, &in->mem.disp);
	}
	in->mem.base = rm | ((in->rex & REX_B) ? 8 : 0);
	return x86_disp(c, in, mod, 4);
}

/* Byte registers 4-7 are AH, CH, DH, BH unless a REX prefix is present. */
static bool x86_is_high8(const struct x86_insn *in, u8 size, u8 reg)
{
	return size == 1 && !in->rex && reg >= X86_RSP && reg <= X86_RDI;
}

static int x86_modrm(struct x86_cursor *c, struct x86_insn *in)
{
	u8 rm;
	int rc = x86_fetch(c, &in->modrm);

	if (rc)
		return rc;
	in->reg = MODRM_REG(in->modrm) | ((in->rex & REX_R) ? 8 : 0);
	in->reg_high8 = x86_is_high8(in, in->op_size, in->reg);
	if (MODRM_MOD(in->modrm) == MOD_REG) {
		rm = MODRM_RM(in->modrm) | ((in->rex & REX_B) ? 8 : 0);
		in->rm_is_reg = true;
		in->rm_reg = rm;
		in->rm_high8 = x86_is_high8(in, in->mem_size, rm);
		return 0;
	}
	if (in->addr_size == 2)
		return x86_modrm16(c, in);
	return x86_modrm32(c, in);
}

/* Picks the operation of a group opcode from ModRM.reg (SDM vol. 2D A-6). */
static int x86_group_op(struct x86_insn *in, u8 group)
{
	u8 sub = MODRM_REG(in->modrm);

	if (group == GRP_1)
		in->op = x86_group1_ops[sub];
	else if (group == GRP_3 && sub == 0)
		in->op = X86_OP_TEST;
	else if (group == GRP_11 && sub == 0)
		in->op = X86_OP_MOV;
	else
		return -ENOTSUP;
	/* reg is an opcode extension here, not an operand. */
	in->reg = X86_REG_NONE;
	in->reg_high8 = false;
	return 0;
}

static const struct x86_opdesc *x86_lookup(struct x86_cursor *c, struct x86_insn *in, u8 opc,
					   int *rc)
{
	in->opcode = opc;
	if (opc != OPC_ESCAPE)
		return &x86_map1[opc];
	*rc = x86_fetch(c, &in->opcode);
	if (*rc)
		return NULL;
	in->two_byte = true;
	switch (in->opcode) {
	case 0xb6:
		return &x86_map2_movx[0];
	case 0xb7:
		return &x86_map2_movx[1];
	case 0xbe:
		return &x86_map2_movx[2];
	case 0xbf:
		return &x86_map2_movx[3];
	}
	return &x86_unsupported;
}

static void x86_operand_sizes(struct x86_insn *in, u16 attr)
{
	if (attr & D_BYTE)
		in->op_size = 1;
	if (attr & D_SRC8)
		in->mem_size = 1;
	else if (attr & D_SRC16)
		in->mem_size = 2;
	else if (in->op == X86_OP_MOVSXD)
		in->mem_size = MIN(in->op_size, 4);
	else
		in->mem_size = in->op_size;
}

static int x86_immediate(struct x86_cursor *c, struct x86_insn *in, u16 attr)
{
	s64 v = 0;
	int rc;

	if (attr & D_IMM8)
		in->imm_size = 1;
	else if (attr & D_IMMZ)
		in->imm_size = MIN(in->op_size, 4);
	if (!in->imm_size)
		return 0;
	rc = x86_fetch_signed(c, in->imm_size, &v);
	in->imm = (u64)v;
	return rc;
}

/* LOCK is legal only on a read-modify-write of memory (SDM vol. 2A LOCK). */
static bool x86_lock_ok(const struct x86_insn *in)
{
	if (in->rm_is_reg || in->form == X86_FORM_REG_RM || in->form == X86_FORM_STRING)
		return false;
	return (in->op >= X86_OP_ADD && in->op <= X86_OP_XOR) || in->op == X86_OP_XCHG;
}

static int x86_operands(struct x86_cursor *c, struct x86_insn *in, const struct x86_opdesc *d)
{
	s64 moffs;
	int rc;

	if (d->attr & D_MOFFS) {
		in->reg = X86_RAX;
		rc = x86_fetch_signed(c, in->addr_size, &moffs);
		in->mem.disp = moffs;
		return rc;
	}
	if (in->form == X86_FORM_STRING) {
		in->reg = X86_RAX;
		return 0;
	}
	rc = x86_modrm(c, in);
	if (!rc && d->group != GRP_NONE)
		rc = x86_group_op(in, d->group);
	if (!rc)
		rc = x86_immediate(c, in, d->attr);
	return rc;
}

static int x86_decode_body(struct x86_cursor *c, struct x86_insn *in)
{
	const struct x86_opdesc *d;
	u8 opc, seg = X86_SEG_COUNT;
	int rc = x86_prefixes(c, in, &seg, &opc);

	if (rc)
		return rc;
	d = x86_lookup(c, in, opc, &rc);
	if (!d)
		return rc;
	if (!d->op && d->group == GRP_NONE)
		return -ENOTSUP;
	if ((d->attr & D_NO64) && in->mode == X86_MODE_LONG64)
		return -EINVAL;
	if ((d->attr & D_ONLY64) && in->mode != X86_MODE_LONG64)
		return -ENOTSUP; /* 63 is ARPL outside 64-bit mode */
	in->op = d->op;
	in->form = d->form;
	x86_operand_sizes(in, d->attr);
	rc = x86_operands(c, in, d);
	if (rc)
		return rc;
	if (in->lock && !x86_lock_ok(in))
		return -EINVAL;
	/* BP or SP as base selects SS (SDM vol. 1 3.7.4.1). */
	if (seg == X86_SEG_COUNT)
		seg = (in->mem.base == X86_RSP || in->mem.base == X86_RBP) ? X86_SEG_SS :
									     X86_SEG_DS;
	in->mem.seg = seg;
	return 0;
}

int x86_decode(const u8 *bytes, size_t len, enum x86_mode mode, struct x86_insn *out)
{
	struct x86_cursor c = { .bytes = bytes, .len = len };
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!bytes || (unsigned int)mode >= X86_MODE_COUNT)
		return -EINVAL;
	out->mode = mode;
	out->reg = X86_REG_NONE;
	out->rm_reg = X86_REG_NONE;
	out->mem.base = X86_REG_NONE;
	out->mem.index = X86_REG_NONE;
	out->mem.scale = 1;
	rc = x86_decode_body(&c, out);
	if (rc) {
		out->op = X86_OP_NONE;
		return rc;
	}
	out->len = (u8)c.pos;
	memcpy(out->bytes, bytes, c.pos);
	return 0;
}

static const char *const x86_op_names[X86_OP_COUNT] = {
	[X86_OP_NONE] = "(bad)",  [X86_OP_MOV] = "mov",	      [X86_OP_MOVZX] = "movzx",
	[X86_OP_MOVSX] = "movsx", [X86_OP_MOVSXD] = "movsxd", [X86_OP_ADD] = "add",
	[X86_OP_OR] = "or",	  [X86_OP_ADC] = "adc",	      [X86_OP_SBB] = "sbb",
	[X86_OP_AND] = "and",	  [X86_OP_SUB] = "sub",	      [X86_OP_XOR] = "xor",
	[X86_OP_CMP] = "cmp",	  [X86_OP_TEST] = "test",     [X86_OP_XCHG] = "xchg",
	[X86_OP_MOVS] = "movs",	  [X86_OP_STOS] = "stos",
};

const char *x86_mnemonic(const struct x86_insn *insn)
{
	if (!insn || insn->op >= X86_OP_COUNT)
		return x86_op_names[X86_OP_NONE];
	if (insn->form == X86_FORM_STRING && insn->rep)
		return insn->op == X86_OP_MOVS ? "rep movs" : "rep stos";
	return x86_op_names[insn->op];
}

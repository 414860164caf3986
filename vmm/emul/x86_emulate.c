// SPDX-License-Identifier: MIT
/*
 * Applies a decoded instruction that faulted on MMIO: checks every access it
 * makes as the CPU would (through the caller's page walk), performs them
 * through the caller's callbacks, then updates registers, flags and RIP the
 * way the CPU would have. Registers change only after every access succeeded.
 */
#include <keel/x86_emulate.h>
#include <lib/string.h>

#define X86_PAGE_OFFSET(a) ((a) & (PAGE_SIZE - 1))
#define X86_PAGE_NUMBER(a) ((a) >> PAGE_SHIFT)
#define X86_HIGH8_SHIFT 8 /* AH..BH are bits 15:8 of RAX..RBX */

static u64 x86_mask(u8 size)
{
	return size >= 8 ? ~0ULL : BIT(8 * size) - 1;
}

static u64 x86_sign_extend(u64 v, u8 size)
{
	unsigned int shift = 64 - 8 * size;

	return (u64)((s64)(v << shift) >> shift);
}

static bool x86_size_ok(u8 size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static u64 x86_reg_get(const struct x86_regs *r, u8 reg, u8 size, bool high8)
{
	if (high8)
		return (r->gpr[reg - X86_RSP] >> X86_HIGH8_SHIFT) & 0xff;
	return r->gpr[reg] & x86_mask(size);
}

/* 8/16-bit writes keep the upper bits, 32-bit writes zero-extend (SDM vol. 1 3.4.1.1). */
static void x86_reg_set(struct x86_regs *r, u8 reg, u8 size, bool high8, u64 val)
{
	u64 *g;

	if (high8) {
		g = &r->gpr[reg - X86_RSP];
		*g = (*g & ~(0xffULL << X86_HIGH8_SHIFT)) | ((val & 0xff) << X86_HIGH8_SHIFT);
		return;
	}
	g = &r->gpr[reg];
	if (size == 4)
		*g = (u32)val;
	else
		*g = (*g & ~x86_mask(size)) | (val & x86_mask(size));
}

/* IP wraps at the code segment's width. */
static void x86_advance(struct x86_regs *r, const struct x86_insn *insn)
{
	u64 rip = r->rip + insn->len;

	if (insn->mode == X86_MODE_LONG64)
		r->rip = rip;
	else if (insn->mode == X86_MODE_PROT32)
		r->rip = (u32)rip;
	else
		r->rip = (u16)rip;
}

/* In 64-bit mode only FS and GS have bases (SDM vol. 1 3.3.7.1). */
static u64 x86_seg_base(const struct x86_regs *r, const struct x86_insn *insn, u8 seg)
{
	if (seg >= X86_SEG_COUNT)
		return 0;
	if (insn->mode == X86_MODE_LONG64 && seg != X86_SEG_FS && seg != X86_SEG_GS)
		return 0;
	return r->seg_base[seg];
}

static u64 x86_linear(const struct x86_regs *r, const struct x86_insn *insn, u8 seg, u64 ea)
{
	u64 lin = x86_seg_base(r, insn, seg) + ea;

	return insn->mode == X86_MODE_LONG64 ? lin : (u32)lin;
}

u64 x86_insn_linear(const struct x86_regs *regs, const struct x86_insn *insn)
{
	const struct x86_mem *m = &insn->mem;
	u64 ea = (u64)m->disp;

	if (m->rip_rel)
		ea += regs->rip + insn->len;
	if (m->base < X86_GPR_COUNT)
		ea += regs->gpr[m->base];
	if (m->index < X86_GPR_COUNT)
		ea += regs->gpr[m->index] * m->scale;
	return x86_linear(regs, insn, m->seg, ea & x86_mask(insn->addr_size));
}

/* PF: even number of set bits in the low byte (SDM vol. 1 3.4.3.1). */
static u64 x86_szp_flags(u64 res, u8 size)
{
	u8 v = (u8)res;
	u64 f = 0;

	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	if (!(v & 1))
		f |= X86_RFLAGS_PF;
	if (!(res & x86_mask(size)))
		f |= X86_RFLAGS_ZF;
	if (res & BIT(8 * size - 1))
		f |= X86_RFLAGS_SF;
	return f;
}

/*
 * dst OP src at size bytes (SDM vol. 2 ADD, ADC, SUB, SBB, CMP, AND, OR,
 * XOR, TEST). *flags gets CF, PF, AF, ZF, SF, OF; the logic operations clear
 * CF and OF and leave AF, which is undefined for them, clear.
 */
static u64 x86_alu(u8 op, u8 size, u64 dst, u64 src, u64 rflags, u64 *flags)
{
	u64 mask = x86_mask(size), sign = BIT(8 * size - 1), res, f = 0;
	bool carry = (op == X86_OP_ADC || op == X86_OP_SBB) && (rflags & X86_RFLAGS_CF);

	dst &= mask;
	src &= mask;
	switch (op) {
	case X86_OP_ADD:
	case X86_OP_ADC:
		res = (dst + src + carry) & mask;
		if (carry ? res <= dst : res < dst)
			f |= X86_RFLAGS_CF;
		if ((dst ^ res) & (src ^ res) & sign)
			f |= X86_RFLAGS_OF;
		f |= (dst ^ src ^ res) & X86_RFLAGS_AF;
		break;
	case X86_OP_SUB:
	case X86_OP_SBB:
	case X86_OP_CMP:
		res = (dst - src - carry) & mask;
		if (carry ? dst <= src : dst < src)
			f |= X86_RFLAGS_CF;
		if ((dst ^ src) & (dst ^ res) & sign)
			f |= X86_RFLAGS_OF;
		f |= (dst ^ src ^ res) & X86_RFLAGS_AF;
		break;
	case X86_OP_OR:
		res = dst | src;
		break;
	case X86_OP_XOR:
		res = dst ^ src;
		break;
	default: /* AND, TEST */
		res = dst & src;
		break;
	}
	*flags = f | x86_szp_flags(res, size);
	return res;
}

static int x86_emul_mov(struct x86_regs *regs, const struct x86_insn *insn, gpa_t gpa,
			const struct x86_emul_ops *ops, void *ctx)
{
	u64 val;
	int rc;

	if (insn->form == X86_FORM_REG_RM) {
		rc = ops->mmio_read(ctx, gpa, insn->mem_size, &val);
		if (rc)
			return rc;
		val &= x86_mask(insn->mem_size);
		if (insn->op == X86_OP_MOVSX || insn->op == X86_OP_MOVSXD)
			val = x86_sign_extend(val, insn->mem_size);
		x86_reg_set(regs, insn->reg, insn->op_size, insn->reg_high8, val);
		return 0;
	}
	if (insn->form == X86_FORM_RM_IMM)
		val = insn->imm;
	else
		val = x86_reg_get(regs, insn->reg, insn->op_size, insn->reg_high8);
	return ops->mmio_write(ctx, gpa, insn->mem_size, val & x86_mask(insn->mem_size));
}

static int x86_emul_alu(struct x86_regs *regs, const struct x86_insn *insn, gpa_t gpa,
			const struct x86_emul_ops *ops, void *ctx)
{
	bool mem_dst = insn->form != X86_FORM_REG_RM;
	u8 size = insn->op_size;
	u64 mem, other, res, flags;
	int rc = ops->mmio_read(ctx, gpa, size, &mem);

	if (rc)
		return rc;
	if (insn->form == X86_FORM_RM_IMM)
		other = insn->imm;
	else
		other = x86_reg_get(regs, insn->reg, size, insn->reg_high8);
	res = x86_alu(insn->op, size, mem_dst ? mem : other, mem_dst ? other : mem, regs->rflags,
		      &flags);
	if (insn->op != X86_OP_CMP && insn->op != X86_OP_TEST) {
		if (mem_dst)
			rc = ops->mmio_write(ctx, gpa, size, res);
		else
			x86_reg_set(regs, insn->reg, size, insn->reg_high8, res);
	}
	if (rc)
		return rc;
	regs->rflags = (regs->rflags & ~X86_RFLAGS_ARITH) | flags;
	return 0;
}

static int x86_emul_xchg(struct x86_regs *regs, const struct x86_insn *insn, gpa_t gpa,
			 const struct x86_emul_ops *ops, void *ctx)
{
	u8 size = insn->op_size;
	u64 mem;
	int rc = ops->mmio_read(ctx, gpa, size, &mem);

	if (!rc)
		rc = ops->mmio_write(ctx, gpa, size,
				     x86_reg_get(regs, insn->reg, size, insn->reg_high8));
	if (!rc)
		x86_reg_set(regs, insn->reg, size, insn->reg_high8, mem);
	return rc;
}

/* A fault-class #GP from a non-canonical address is #SS when the segment is SS (SDM 3A 6.15). */
static int x86_translate(const struct x86_emul_ops *ops, void *ctx, u8 seg, u64 lin, u32 access,
			 gpa_t *gpa, struct x86_fault *fault)
{
	int rc = ops->translate(ctx, lin, access, gpa, fault);

	if (rc == X86_FAULT && fault->vector == X86_EXC_GP && seg == X86_SEG_SS)
		fault->vector = X86_EXC_SS;
	return rc;
}

/* The ModRM operand is written unless it is the source or only compared. */
static u32 x86_operand_access(const struct x86_insn *insn)
{
	if (insn->form == X86_FORM_REG_RM || insn->op == X86_OP_CMP || insn->op == X86_OP_TEST)
		return 0;
	return X86_ACC_WRITE;
}

/*
 * The exit reports the GPA; paging keeps the low 12 bits, so they must match
 * the decoded address: a mismatch means the decode is not the instruction
 * that faulted (the guest rewrote it). The operand is translated again with
 * the access the instruction makes, so a read-modify-write is checked as a
 * write and the accessed and dirty flags are set; the CPU checked it before
 * the exit, but the guest's tables may have changed since. The access goes to
 * the GPA the CPU reported even if they now name another page: the CPU may
 * hold that translation in its TLB until the guest invalidates it (SDM 3A
 * 4.10.4.3), and running it again could loop. Split accesses are not
 * supported.
 */
static int x86_check_access(const struct x86_regs *regs, const struct x86_insn *insn,
			    gpa_t fault_gpa, const struct x86_emul_ops *ops, void *ctx,
			    struct x86_fault *fault)
{
	u64 lin = x86_insn_linear(regs, insn);
	gpa_t gpa;

	if (X86_PAGE_OFFSET(lin) + insn->mem_size > PAGE_SIZE)
		return -ENOTSUP;
	if (X86_PAGE_OFFSET(lin) != X86_PAGE_OFFSET(fault_gpa))
		return -EINVAL;
	return x86_translate(ops, ctx, insn->mem.seg, lin, x86_operand_access(insn), &gpa, fault);
}

#define FORM(f) BIT(X86_FORM_##f)
#define FORMS_ALU (FORM(RM_REG) | FORM(REG_RM) | FORM(RM_IMM))
BUILD_ASSERT(X86_FORM_COUNT <= 8, "x86_op_forms holds forms as u8 bits");

/* The operand forms each operation may come with; anything else is refused. */
static const u8 x86_op_forms[X86_OP_COUNT] = {
	[X86_OP_MOV] = FORMS_ALU,
	[X86_OP_MOVZX] = FORM(REG_RM),
	[X86_OP_MOVSX] = FORM(REG_RM),
	[X86_OP_MOVSXD] = FORM(REG_RM),
	[X86_OP_ADD] = FORMS_ALU,
	[X86_OP_OR] = FORMS_ALU,
	[X86_OP_ADC] = FORMS_ALU,
	[X86_OP_SBB] = FORMS_ALU,
	[X86_OP_AND] = FORMS_ALU,
	[X86_OP_SUB] = FORMS_ALU,
	[X86_OP_XOR] = FORMS_ALU,
	[X86_OP_CMP] = FORMS_ALU,
	[X86_OP_TEST] = FORM(RM_REG) | FORM(RM_IMM),
	[X86_OP_XCHG] = FORM(RM_REG),
	[X86_OP_MOVS] = FORM(STRING),
	[X86_OP_STOS] = FORM(STRING),
};

static bool x86_reg_ok(u8 reg, bool high8)
{
	if (high8)
		return reg >= X86_RSP && reg <= X86_RDI;
	return reg < X86_GPR_COUNT;
}

static bool x86_extends(u8 op)
{
	return op == X86_OP_MOVZX || op == X86_OP_MOVSX || op == X86_OP_MOVSXD;
}

static bool x86_operands_ok(const struct x86_insn *insn)
{
	const struct x86_mem *m = &insn->mem;

	if (insn->form == X86_FORM_STRING)
		return true;
	/* A register operand cannot have faulted on memory. */
	if (insn->rm_is_reg)
		return false;
	if (insn->form != X86_FORM_RM_IMM && !x86_reg_ok(insn->reg, insn->reg_high8))
		return false;
	if (m->base != X86_REG_NONE && m->base >= X86_GPR_COUNT)
		return false;
	if (m->index != X86_REG_NONE && m->index >= X86_GPR_COUNT)
		return false;
	return x86_size_ok(m->scale);
}

/* The emulator's own check of what it is given: never index out of range. */
static int x86_validate(const struct x86_regs *regs, const struct x86_insn *insn,
			const struct x86_emul_ops *ops)
{
	if (!regs || !ops->mmio_read || !ops->mmio_write || !ops->translate || !ops->ram_read ||
	    !ops->ram_write)
		return -EINVAL;
	if (!insn->len || insn->len > X86_MAX_INSN_LEN || insn->op >= X86_OP_COUNT ||
	    insn->form >= X86_FORM_COUNT || !(x86_op_forms[insn->op] & BIT(insn->form)) ||
	    insn->mode >= X86_MODE_COUNT)
		return -EINVAL;
	if (!x86_size_ok(insn->op_size) || !x86_size_ok(insn->mem_size) || insn->addr_size < 2 ||
	    !x86_size_ok(insn->addr_size))
		return -EINVAL;
	if (!x86_extends(insn->op) && insn->mem_size != insn->op_size)
		return -EINVAL;
	return x86_operands_ok(insn) ? 0 : -EINVAL;
}

/* One side of a string instruction: where it is and who serves it. */
struct x86_side {
	gpa_t gpa;
	bool mmio;
};

static int x86_side_locate(const struct x86_regs *regs, const struct x86_insn *insn,
			   gpa_t fault_gpa, const struct x86_emul_ops *ops, void *ctx, u8 seg,
			   u8 reg, u32 access, struct x86_side *s, struct x86_fault *fault)
{
	u64 ea = regs->gpr[reg] & x86_mask(insn->addr_size);
	u64 lin = x86_linear(regs, insn, seg, ea);
	int rc;

	if (X86_PAGE_OFFSET(lin) + insn->op_size > PAGE_SIZE)
		return -ENOTSUP;
	rc = x86_translate(ops, ctx, seg, lin, access, &s->gpa, fault);
	if (rc)
		return rc;
	s->mmio = X86_PAGE_NUMBER(s->gpa) == X86_PAGE_NUMBER(fault_gpa);
	return 0;
}

static int x86_side_read(const struct x86_side *s, u8 size, const struct x86_emul_ops *ops,
			 void *ctx, u64 *val)
{
	u8 buf[8];
	int rc;

	if (!s->mmio) {
		rc = ops->ram_read(ctx, s->gpa, buf, size);
		if (rc != -EFAULT) {
			*val = 0;
			for (u8 i = 0; !rc && i < size; i++)
				*val |= (u64)buf[i] << (8 * i);
			return rc;
		}
	}
	return ops->mmio_read(ctx, s->gpa, size, val);
}

static int x86_side_write(const struct x86_side *s, u8 size, const struct x86_emul_ops *ops,
			  void *ctx, u64 val)
{
	u8 buf[8];
	int rc;

	if (!s->mmio) {
		for (u8 i = 0; i < size; i++)
			buf[i] = (u8)(val >> (8 * i));
		rc = ops->ram_write(ctx, s->gpa, buf, size);
		if (rc != -EFAULT)
			return rc;
	}
	return ops->mmio_write(ctx, s->gpa, size, val & x86_mask(size));
}

/* Moves rSI/rDI by one element per DF and counts rCX down (SDM vol. 2B REP). */
static void x86_string_step(struct x86_regs *regs, const struct x86_insn *insn)
{
	u8 as = insn->addr_size;
	u64 delta = (regs->rflags & X86_RFLAGS_DF) ? -(u64)insn->op_size : insn->op_size;

	x86_reg_set(regs, X86_RDI, as, false, regs->gpr[X86_RDI] + delta);
	if (insn->op == X86_OP_MOVS)
		x86_reg_set(regs, X86_RSI, as, false, regs->gpr[X86_RSI] + delta);
	if (insn->rep) {
		x86_reg_set(regs, X86_RCX, as, false, regs->gpr[X86_RCX] - 1);
		/* RIP stays: the guest re-executes the next iteration. */
		if (regs->gpr[X86_RCX] & x86_mask(as))
			return;
	}
	x86_advance(regs, insn);
}

/*
 * One element of MOVS or STOS. Both addresses are translated, the source's
 * first as the CPU reads it first, and checked before any access (the CPU
 * checked only the side that exited); the side on fault_gpa's page is MMIO,
 * the other RAM.
 */
static int x86_emul_string(struct x86_regs *regs, const struct x86_insn *insn, gpa_t fault_gpa,
			   const struct x86_emul_ops *ops, void *ctx, struct x86_fault *fault)
{
	u8 size = insn->op_size;
	struct x86_side src, dst;
	u64 val;
	int rc;

	if (insn->rep && !(regs->gpr[X86_RCX] & x86_mask(insn->addr_size))) {
		x86_advance(regs, insn);
		return 0;
	}
	if (insn->op == X86_OP_MOVS) {
		rc = x86_side_locate(regs, insn, fault_gpa, ops, ctx, insn->mem.seg, X86_RSI, 0,
				     &src, fault);
		if (rc)
			return rc;
	}
	rc = x86_side_locate(regs, insn, fault_gpa, ops, ctx, X86_SEG_ES, X86_RDI, X86_ACC_WRITE,
			     &dst, fault);
	if (rc)
		return rc;
	if (insn->op == X86_OP_MOVS)
		rc = x86_side_read(&src, size, ops, ctx, &val);
	else
		val = x86_reg_get(regs, X86_RAX, size, false);
	if (!rc)
		rc = x86_side_write(&dst, size, ops, ctx, val);
	if (!rc)
		x86_string_step(regs, insn);
	return rc;
}

int x86_emulate_mmio(struct x86_regs *regs, const struct x86_insn *insn, gpa_t fault_gpa,
		     const struct x86_emul_ops *ops, void *ctx, struct x86_fault *fault)
{
	int rc;

	if (!insn || !ops || !fault)
		return -EINVAL;
	rc = x86_validate(regs, insn, ops);
	if (rc)
		return rc;
	if (insn->form == X86_FORM_STRING)
		return x86_emul_string(regs, insn, fault_gpa, ops, ctx, fault);
	rc = x86_check_access(regs, insn, fault_gpa, ops, ctx, fault);
	if (rc)
		return rc;
	switch (insn->op) {
	case X86_OP_MOV:
	case X86_OP_MOVZX:
	case X86_OP_MOVSX:
	case X86_OP_MOVSXD:
		rc = x86_emul_mov(regs, insn, fault_gpa, ops, ctx);
		break;
	case X86_OP_XCHG:
		rc = x86_emul_xchg(regs, insn, fault_gpa, ops, ctx);
		break;
	default:
		rc = x86_emul_alu(regs, insn, fault_gpa, ops, ctx);
		break;
	}
	if (!rc)
		x86_advance(regs, insn);
	return rc;
}

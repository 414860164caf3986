// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for vmm/emul/x86_decode.c and vmm/emul/x86_emulate.c: decodes the
 * input in every mode from a heap buffer of exactly its size, checks the
 * decoder's invariants, then emulates what decoded against bounds-checked
 * fakes (a device access of a non-string form must be at the faulting GPA
 * with the operand's size; a string form's at an address it translated),
 * also with one field of the decoded instruction corrupted; and compares
 * the emulation of each decoded instruction, step by step, with a
 * reference written here from the SDM over one flat memory that both RAM
 * and MMIO accesses reach: registers, RIP, flags and memory must agree.
 */
#include <keel/x86_emulate.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FZ_RAM_SIZE 64
#define FZ_MAX_STEPS 8 /* REP iterations per instruction */

struct fz {
	u8 ram[FZ_RAM_SIZE];
	gpa_t ram_base;
	u64 rng;
	int calls;
	int device_calls;	   /* MMIO reads and writes */
	const struct x86_insn *in; /* the instruction being emulated */
	gpa_t fault;
	gpa_t translated[2]; /* string forms: the addresses translate gave this step */
	int ntranslated;
};

static u64 fz_next(struct fz *f)
{
	u64 z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fz_check_size(unsigned int size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		__builtin_trap();
}

/*
 * A device access goes where the instruction says: a non-string form's to
 * the faulting GPA with its memory operand's size, a string form's to an
 * address translate returned this step, with its element size.
 */
static void fz_check_mmio(const struct fz *f, gpa_t gpa, unsigned int size)
{
	const struct x86_insn *in = f->in;

	fz_check_size(size);
	if (in->form != X86_FORM_STRING) {
		if (gpa != f->fault || size != in->mem_size)
			__builtin_trap();
		return;
	}
	if (size != in->op_size)
		__builtin_trap();
	for (int i = 0; i < f->ntranslated; i++)
		if (gpa == f->translated[i])
			return;
	__builtin_trap();
}

static int fz_mmio_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	struct fz *f = ctx;

	fz_check_mmio(f, gpa, size);
	f->calls++;
	f->device_calls++;
	*val = fz_next(f);
	return (*val & 0xff) == 0 ? -EIO : 0;
}

static int fz_mmio_write(void *ctx, gpa_t gpa, unsigned int size, u64 val)
{
	struct fz *f = ctx;

	fz_check_mmio(f, gpa, size);
	if (size < 8 && (val >> (8 * size)))
		__builtin_trap(); /* the emulator must truncate */
	f->calls++;
	f->device_calls++;
	return 0;
}

static int fz_translate(void *ctx, u64 linear, u32 access, gpa_t *gpa, struct x86_fault *fault)
{
	struct fz *f = ctx;
	u64 pick = fz_next(f);

	if (access & ~(u32)X86_ACC_WRITE)
		__builtin_trap(); /* data accesses, explicit */
	f->calls++;
	if ((pick & 0x1f) == 0)
		return -EFAULT;
	if ((pick & 0x1f) == 1) {
		*fault = (struct x86_fault){ X86_EXC_PF, (u32)(pick >> 32) & 0x1f, linear };
		return X86_FAULT;
	}
	if ((pick & 0x3f) == 2)
		return X86_RETRY;
	*gpa = linear;
	if (f->ntranslated < 2)
		f->translated[f->ntranslated++] = linear;
	return 0;
}

static bool fz_in_ram(struct fz *f, gpa_t gpa, unsigned int size)
{
	return gpa >= f->ram_base && gpa - f->ram_base <= FZ_RAM_SIZE &&
	       size <= FZ_RAM_SIZE - (gpa - f->ram_base);
}

static int fz_ram_read(void *ctx, gpa_t gpa, void *buf, unsigned int size)
{
	struct fz *f = ctx;

	fz_check_size(size);
	if (!fz_in_ram(f, gpa, size))
		return -EFAULT;
	memcpy(buf, &f->ram[gpa - f->ram_base], size);
	return 0;
}

static int fz_ram_write(void *ctx, gpa_t gpa, const void *buf, unsigned int size)
{
	struct fz *f = ctx;

	fz_check_size(size);
	if (!fz_in_ram(f, gpa, size))
		return -EFAULT;
	memcpy(&f->ram[gpa - f->ram_base], buf, size);
	return 0;
}

static const struct x86_emul_ops fz_ops = {
	.mmio_read = fz_mmio_read,
	.mmio_write = fz_mmio_write,
	.translate = fz_translate,
	.ram_read = fz_ram_read,
	.ram_write = fz_ram_write,
};

static void fz_regs(struct fz *f, struct x86_regs *r)
{
	for (int i = 0; i < X86_GPR_COUNT; i++) {
		u64 v = fz_next(f);

		/* Small values keep string addresses near the fake RAM. */
		r->gpr[i] = (v & 1) ? v : (v >> 56);
	}
	r->gpr[X86_RCX] &= 0xf;
	r->rip = fz_next(f);
	r->rflags = (fz_next(f) & (X86_RFLAGS_ARITH | X86_RFLAGS_DF)) | 2;
	for (int i = 0; i < X86_SEG_COUNT; i++)
		r->seg_base[i] = (fz_next(f) & 1) ? fz_next(f) : 0;
}

/* Decoding exactly len bytes gives the same result; one byte less fails. */
static void fz_check_decode(const struct x86_insn *in, size_t size)
{
	struct x86_insn again;
	u8 *exact;

	if (in->len < 1 || in->len > X86_MAX_INSN_LEN || in->len > size || !x86_mnemonic(in))
		__builtin_trap();
	exact = malloc(in->len);
	memcpy(exact, in->bytes, in->len);
	if (x86_decode(exact, in->len, in->mode, &again) || memcmp(&again, in, sizeof(again)))
		__builtin_trap();
	if (x86_decode(exact, in->len - 1u, in->mode, &again) != -EAGAIN)
		__builtin_trap();
	free(exact);
}

static void fz_emulate(struct fz *f, const struct x86_insn *in)
{
	struct x86_regs r;
	gpa_t fault;

	fz_regs(f, &r);
	fault = (fz_next(f) & 3) ? x86_insn_linear(&r, in) : fz_next(f);
	f->ram_base = (fz_next(f) & 1) ? r.gpr[X86_RDI] : r.gpr[X86_RSI];
	f->ram_base -= fz_next(f) & 0x1f;
	f->in = in;
	f->fault = fault;
	for (int step = 0; step < FZ_MAX_STEPS; step++) {
		struct x86_regs before = r;
		struct x86_fault exc;
		int devices = f->device_calls, rc;

		f->ntranslated = 0;
		rc = x86_emulate_mmio(&r, in, fault, &fz_ops, f, &exc);
		/* a fault or a retry happens before any access, and changes nothing */
		if ((rc == X86_FAULT || rc == X86_RETRY) &&
		    (memcmp(&before, &r, sizeof(r)) || f->device_calls != devices))
			__builtin_trap();
		if (rc == X86_FAULT && exc.vector != X86_EXC_PF && exc.vector != X86_EXC_SS)
			__builtin_trap();
		if (rc || r.rip != before.rip)
			break;
	}
}

/* The u8 fields a buggy caller could hand over damaged (no bools: UB). */
static const size_t fz_fields[] = {
	offsetof(struct x86_insn, len),	      offsetof(struct x86_insn, mode),
	offsetof(struct x86_insn, op),	      offsetof(struct x86_insn, form),
	offsetof(struct x86_insn, op_size),   offsetof(struct x86_insn, mem_size),
	offsetof(struct x86_insn, addr_size), offsetof(struct x86_insn, rep),
	offsetof(struct x86_insn, reg),	      offsetof(struct x86_insn, rm_reg),
	offsetof(struct x86_insn, mem.base),  offsetof(struct x86_insn, mem.index),
	offsetof(struct x86_insn, mem.scale), offsetof(struct x86_insn, mem.seg),
};

static void fz_emulate_damaged(struct fz *f, const struct x86_insn *in)
{
	struct x86_insn bad = *in;
	u64 pick = fz_next(f);

	((u8 *)&bad)[fz_fields[pick % (sizeof(fz_fields) / sizeof(fz_fields[0]))]] ^=
		(u8)(pick >> 32);
	fz_emulate(f, &bad);
}

/* --- the reference: one flat memory, and the SDM's semantics written again --- */

#define FLAT_LOG 64

/* Memory where every address holds a byte: a hash of the address until written. */
struct flat {
	gpa_t addr[FLAT_LOG];
	u8 val[FLAT_LOG];
	int n;
};

static u8 flat_get(const struct flat *m, gpa_t a)
{
	for (int i = m->n - 1; i >= 0; i--)
		if (m->addr[i] == a)
			return m->val[i];
	return (u8)((a * 0x9e3779b97f4a7c15ULL) >> 56);
}

static void flat_put(struct flat *m, gpa_t a, u8 v)
{
	for (int i = 0; i < m->n; i++) {
		if (m->addr[i] == a) {
			m->val[i] = v;
			return;
		}
	}
	if (m->n == FLAT_LOG)
		__builtin_trap(); /* one step writes at most 8 bytes */
	m->addr[m->n] = a;
	m->val[m->n++] = v;
}

static u64 flat_load(const struct flat *m, gpa_t a, unsigned int size)
{
	u64 v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (u64)flat_get(m, a + i) << (8 * i);
	return v;
}

static void flat_store(struct flat *m, gpa_t a, unsigned int size, u64 v)
{
	for (unsigned int i = 0; i < size; i++)
		flat_put(m, a + i, (u8)(v >> (8 * i)));
}

/* Keel's side of the comparison: identity paging, RAM in a window, MMIO everywhere, one memory. */
struct cmp {
	struct flat mem;
	gpa_t window; /* ram_read/ram_write answer for [window, window + FZ_RAM_SIZE) */
	struct fz *f;
};

static int cmp_mmio_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	struct cmp *c = ctx;

	fz_check_mmio(c->f, gpa, size);
	*val = flat_load(&c->mem, gpa, size);
	return 0;
}

static int cmp_mmio_write(void *ctx, gpa_t gpa, unsigned int size, u64 val)
{
	struct cmp *c = ctx;

	fz_check_mmio(c->f, gpa, size);
	flat_store(&c->mem, gpa, size, val);
	return 0;
}

/* Identity paging that never faults: the reference has no page tables. */
static int cmp_translate(void *ctx, u64 linear, u32 access, gpa_t *gpa, struct x86_fault *fault)
{
	struct cmp *c = ctx;

	(void)access, (void)fault;
	*gpa = linear;
	if (c->f->ntranslated < 2)
		c->f->translated[c->f->ntranslated++] = linear;
	return 0;
}

static bool cmp_in_window(const struct cmp *c, gpa_t gpa, unsigned int size)
{
	return gpa - c->window < FZ_RAM_SIZE && gpa - c->window + size <= FZ_RAM_SIZE;
}

static int cmp_ram_read(void *ctx, gpa_t gpa, void *buf, unsigned int size)
{
	struct cmp *c = ctx;

	fz_check_size(size);
	if (!cmp_in_window(c, gpa, size))
		return -EFAULT;
	for (unsigned int i = 0; i < size; i++)
		((u8 *)buf)[i] = flat_get(&c->mem, gpa + i);
	return 0;
}

static int cmp_ram_write(void *ctx, gpa_t gpa, const void *buf, unsigned int size)
{
	struct cmp *c = ctx;

	fz_check_size(size);
	if (!cmp_in_window(c, gpa, size))
		return -EFAULT;
	for (unsigned int i = 0; i < size; i++)
		flat_put(&c->mem, gpa + i, ((const u8 *)buf)[i]);
	return 0;
}

static const struct x86_emul_ops cmp_ops = {
	.mmio_read = cmp_mmio_read,
	.mmio_write = cmp_mmio_write,
	.translate = cmp_translate,
	.ram_read = cmp_ram_read,
	.ram_write = cmp_ram_write,
};

static u64 ref_mask(unsigned int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static u64 ref_sext(u64 v, unsigned int size)
{
	u64 sign = 1ULL << (8 * size - 1);

	v &= ref_mask(size);
	return (v ^ sign) - sign;
}

/* SDM vol. 1 3.4.1.1: AH..BH are bits 15:8 of RAX..RBX; a 32-bit write clears bits 63:32. */
static u64 ref_get(const struct x86_regs *r, u8 reg, unsigned int size, bool high8)
{
	if (high8)
		return (r->gpr[reg - 4] >> 8) & 0xff;
	return r->gpr[reg] & ref_mask(size);
}

static void ref_set(struct x86_regs *r, u8 reg, unsigned int size, bool high8, u64 v)
{
	if (high8)
		r->gpr[reg - 4] = (r->gpr[reg - 4] & ~0xff00ULL) | ((v & 0xff) << 8);
	else if (size == 4)
		r->gpr[reg] = v & 0xffffffffULL;
	else
		r->gpr[reg] = (r->gpr[reg] & ~ref_mask(size)) | (v & ref_mask(size));
}

/* SDM vol. 1 3.3.7, 3.7.5: effective address at the address size, plus the segment base. */
static u64 ref_seg(const struct x86_regs *r, const struct x86_insn *in, u8 seg, u64 ea)
{
	if (in->mode == X86_MODE_LONG64)
		return ea + (seg == X86_SEG_FS || seg == X86_SEG_GS ? r->seg_base[seg] : 0);
	return (u32)(ea + r->seg_base[seg]);
}

static u64 ref_linear(const struct x86_regs *r, const struct x86_insn *in)
{
	const struct x86_mem *m = &in->mem;
	u64 ea = (u64)m->disp;

	if (m->base != X86_REG_NONE)
		ea += r->gpr[m->base];
	if (m->index != X86_REG_NONE)
		ea += r->gpr[m->index] * m->scale;
	if (m->rip_rel)
		ea += r->rip + in->len;
	return ref_seg(r, in, m->seg, ea & ref_mask(in->addr_size));
}

/* SDM vol. 2 ADD..CMP, TEST: the result and CF, PF, AF, ZF, SF, OF (AF zero for the logic ops). */
static u64 ref_alu(u8 op, unsigned int size, u64 a, u64 b, u64 rflags, u64 *flags)
{
	unsigned int bits = 8 * size;
	u64 m = ref_mask(size), res, cin = (rflags & X86_RFLAGS_CF) ? 1 : 0;
	__int128 sa = (s64)ref_sext(a, size), sb = (s64)ref_sext(b, size), wide;
	unsigned __int128 ua = a & m, ub = b & m, uwide;
	u64 f = 0;

	switch (op) {
	case X86_OP_ADD:
	case X86_OP_ADC:
		cin = op == X86_OP_ADC ? cin : 0;
		uwide = ua + ub + cin;
		wide = sa + sb + (__int128)cin;
		res = (u64)uwide & m;
		f |= (uwide >> bits) ? X86_RFLAGS_CF : 0;
		break;
	case X86_OP_SUB:
	case X86_OP_SBB:
	case X86_OP_CMP:
		cin = op == X86_OP_SBB ? cin : 0;
		wide = sa - sb - (__int128)cin;
		res = (u64)(ua - ub - cin) & m;
		f |= ua < ub + cin ? X86_RFLAGS_CF : 0;
		break;
	default:
		res = (op == X86_OP_OR ? a | b : op == X86_OP_XOR ? a ^ b : a & b) & m;
		wide = (s64)ref_sext(res, size);
		break;
	}
	if (wide != (s64)ref_sext(res, size))
		f |= X86_RFLAGS_OF;
	if (op != X86_OP_OR && op != X86_OP_XOR && op != X86_OP_AND && op != X86_OP_TEST &&
	    ((a ^ b ^ res) & 0x10))
		f |= X86_RFLAGS_AF;
	f |= __builtin_parity((u8)res) ? 0 : X86_RFLAGS_PF;
	f |= res ? 0 : X86_RFLAGS_ZF;
	f |= (res >> (bits - 1)) & 1 ? X86_RFLAGS_SF : 0;
	*flags = f;
	return res;
}

static void ref_advance(struct x86_regs *r, const struct x86_insn *in)
{
	u64 rip = r->rip + in->len;

	r->rip = in->mode == X86_MODE_LONG64 ? rip :
		 in->mode == X86_MODE_PROT32 ? (u32)rip :
					       (u16)rip;
}

/* One element of MOVS or STOS, REP counting one per call (x86_emulate_mmio's contract). */
static int ref_string(struct x86_regs *r, const struct x86_insn *in, struct flat *m)
{
	unsigned int sz = in->op_size, as = in->addr_size;
	u64 dst = ref_seg(r, in, X86_SEG_ES, r->gpr[X86_RDI] & ref_mask(as)), src = 0, v;
	u64 step = (r->rflags & X86_RFLAGS_DF) ? -(u64)sz : sz;

	if (in->rep && !(r->gpr[X86_RCX] & ref_mask(as))) {
		ref_advance(r, in);
		return 0;
	}
	if (in->op == X86_OP_MOVS)
		src = ref_seg(r, in, in->mem.seg, r->gpr[X86_RSI] & ref_mask(as));
	if ((dst & 0xfff) + sz > 0x1000 || (in->op == X86_OP_MOVS && (src & 0xfff) + sz > 0x1000))
		return -ENOTSUP; /* Keel does not split an access across pages */
	v = in->op == X86_OP_MOVS ? flat_load(m, src, sz) : ref_get(r, X86_RAX, sz, false);
	flat_store(m, dst, sz, v);
	ref_set(r, X86_RDI, as, false, r->gpr[X86_RDI] + step);
	if (in->op == X86_OP_MOVS)
		ref_set(r, X86_RSI, as, false, r->gpr[X86_RSI] + step);
	if (in->rep) {
		ref_set(r, X86_RCX, as, false, r->gpr[X86_RCX] - 1);
		if (r->gpr[X86_RCX] & ref_mask(as))
			return 0;
	}
	ref_advance(r, in);
	return 0;
}

/* The instruction on r and m; the error Keel must give instead (the state untouched). */
static int ref_step(struct x86_regs *r, const struct x86_insn *in, struct flat *m)
{
	u64 lin, mem, reg, res, flags, src;
	unsigned int sz = in->mem_size;
	bool logic;

	if (in->form == X86_FORM_STRING)
		return ref_string(r, in, m);
	if (in->rm_is_reg)
		return -EINVAL; /* no memory operand: it cannot have faulted on MMIO */
	lin = ref_linear(r, in);
	if ((lin & 0xfff) + sz > 0x1000)
		return -ENOTSUP;
	switch (in->op) {
	case X86_OP_MOV:
	case X86_OP_MOVZX:
	case X86_OP_MOVSX:
	case X86_OP_MOVSXD:
		if (in->form == X86_FORM_REG_RM) {
			mem = flat_load(m, lin, sz);
			if (in->op == X86_OP_MOVSX || in->op == X86_OP_MOVSXD)
				mem = ref_sext(mem, sz);
			ref_set(r, in->reg, in->op_size, in->reg_high8, mem);
		} else {
			src = in->form == X86_FORM_RM_IMM ? in->imm :
							    ref_get(r, in->reg, sz, in->reg_high8);
			flat_store(m, lin, sz, src);
		}
		break;
	case X86_OP_XCHG:
		mem = flat_load(m, lin, sz);
		flat_store(m, lin, sz, ref_get(r, in->reg, sz, in->reg_high8));
		ref_set(r, in->reg, sz, in->reg_high8, mem);
		break;
	default:
		mem = flat_load(m, lin, sz);
		reg = in->form == X86_FORM_RM_IMM ? in->imm & ref_mask(sz) :
						    ref_get(r, in->reg, sz, in->reg_high8);
		res = in->form == X86_FORM_REG_RM ?
			      ref_alu(in->op, sz, reg, mem, r->rflags, &flags) :
			      ref_alu(in->op, sz, mem, reg, r->rflags, &flags);
		logic = in->op == X86_OP_CMP || in->op == X86_OP_TEST;
		if (!logic && in->form == X86_FORM_REG_RM)
			ref_set(r, in->reg, sz, in->reg_high8, res);
		else if (!logic)
			flat_store(m, lin, sz, res);
		r->rflags = (r->rflags & ~X86_RFLAGS_ARITH) | flags;
		break;
	}
	ref_advance(r, in);
	return 0;
}

static bool flat_same(const struct flat *a, const struct flat *b)
{
	for (int i = 0; i < a->n; i++)
		if (flat_get(b, a->addr[i]) != a->val[i])
			return false;
	for (int i = 0; i < b->n; i++)
		if (flat_get(a, b->addr[i]) != b->val[i])
			return false;
	return true;
}

/*
 * Keel's emulation of in against the reference, FZ_MAX_STEPS REP steps at
 * most, over one flat memory: the fault is where the reference puts the
 * access (a string form's: either side's address).
 */
static void fz_compare(struct fz *f, const struct x86_insn *in)
{
	struct x86_regs r, want;
	struct cmp c = { .f = f };
	struct flat ref = { .n = 0 };
	u64 af = 0;

	fz_regs(f, &r);
	c.window = (fz_next(f) & 1) ? r.gpr[X86_RDI] : r.gpr[X86_RSI];
	c.window -= fz_next(f) & 0x1f;
	f->in = in;
	if (in->op == X86_OP_AND || in->op == X86_OP_OR || in->op == X86_OP_XOR ||
	    in->op == X86_OP_TEST)
		af = X86_RFLAGS_AF; /* undefined for the logic operations (SDM vol. 2) */
	for (int step = 0; step < FZ_MAX_STEPS; step++) {
		u64 rip = r.rip;
		struct x86_fault exc;
		int rc, want_rc;

		if (in->form != X86_FORM_STRING)
			f->fault = ref_linear(&r, in);
		else if (in->op == X86_OP_MOVS && (fz_next(f) & 1))
			f->fault = ref_seg(&r, in, in->mem.seg,
					   r.gpr[X86_RSI] & ref_mask(in->addr_size));
		else
			f->fault = ref_seg(&r, in, X86_SEG_ES,
					   r.gpr[X86_RDI] & ref_mask(in->addr_size));
		want = r;
		ref = c.mem;
		want_rc = ref_step(&want, in, &ref);
		f->ntranslated = 0;
		rc = x86_emulate_mmio(&r, in, f->fault, &cmp_ops, &c, &exc);
		if (rc != want_rc)
			__builtin_trap(); /* one refused what the other did */
		if (rc) {
			if (memcmp(&r, &want, sizeof(r)) || !flat_same(&c.mem, &ref))
				__builtin_trap(); /* on an error nothing changes */
			return;
		}
		if (memcmp(r.gpr, want.gpr, sizeof(r.gpr)) || r.rip != want.rip ||
		    (r.rflags ^ want.rflags) & ~af || !flat_same(&c.mem, &ref))
			__builtin_trap(); /* the emulation differs from the reference */
		r.rflags = want.rflags;
		if (r.rip != rip) /* done: only an unfinished REP stays on the instruction */
			return;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u8 *buf = malloc(size ? size : 1);
	struct fz f = { .rng = size };

	memcpy(buf, data, size);
	for (size_t i = 0; i < size; i++)
		f.rng = f.rng * 31 + data[i];
	for (int mode = 0; mode < X86_MODE_COUNT; mode++) {
		struct x86_insn in;

		if (x86_decode(buf, size, (enum x86_mode)mode, &in))
			continue;
		fz_check_decode(&in, size);
		fz_emulate(&f, &in);
		fz_emulate_damaged(&f, &in);
		fz_compare(&f, &in);
	}
	free(buf);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/emul/x86_emulate.c with a fake register file, MMIO device and
 * RAM. Arithmetic flags are checked against the host CPU running the same
 * instruction (inline asm), which is the best oracle there is.
 */
#include "test.h"
#include <keel/x86_emulate.h>
#include <stdlib.h>

#define MMIO_BASE 0xfee00000ULL /* two MMIO pages */
#define MMIO_SIZE 0x2000
#define RAM_BASE 0x100000ULL /* four RAM pages */
#define RAM_SIZE 0x4000
#define ARITH X86_RFLAGS_ARITH

static struct fake {
	u8 mmio[MMIO_SIZE];
	u8 ram[RAM_SIZE];
	int mmio_reads, mmio_writes, ram_reads, ram_writes, translates;
	gpa_t last_gpa;
	unsigned int last_size;
	u64 xlate_add; /* gpa = linear + xlate_add */
	int xlate_rc;
	int mmio_rc;
	u64 fault_page;	 /* linear page whose translation raises fault_vector (0: none) */
	u8 fault_vector; /* 0: #PF */
	u32 fault_error;
	u32 access[8];		/* the access kinds translate saw, in order */
	u64 last_linear;	/* the last address translate saw */
	struct x86_fault fault; /* what the emulator reports */
} fk;

static u64 load_le(const u8 *p, unsigned int size)
{
	u64 v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static void store_le(u8 *p, unsigned int size, u64 v)
{
	for (unsigned int i = 0; i < size; i++)
		p[i] = (u8)(v >> (8 * i));
}

static bool size_ok(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int f_mmio_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	CHECK(ctx == &fk);
	CHECK(size_ok(size));
	fk.mmio_reads++;
	fk.last_gpa = gpa;
	fk.last_size = size;
	if (fk.mmio_rc)
		return fk.mmio_rc;
	if (gpa < MMIO_BASE || gpa + size > MMIO_BASE + MMIO_SIZE)
		return -EIO;
	/* Garbage above size: the emulator must truncate. */
	*val = load_le(&fk.mmio[gpa - MMIO_BASE], size) | (size < 8 ? 0xdead000000000000ULL : 0);
	return 0;
}

static int f_mmio_write(void *ctx, gpa_t gpa, unsigned int size, u64 val)
{
	CHECK(ctx == &fk);
	CHECK(size_ok(size));
	CHECK(size == 8 || !(val >> (8 * size)));
	fk.mmio_writes++;
	fk.last_gpa = gpa;
	fk.last_size = size;
	if (fk.mmio_rc)
		return fk.mmio_rc;
	if (gpa < MMIO_BASE || gpa + size > MMIO_BASE + MMIO_SIZE)
		return -EIO;
	store_le(&fk.mmio[gpa - MMIO_BASE], size, val);
	return 0;
}

static int f_translate(void *ctx, u64 linear, u32 access, gpa_t *gpa, struct x86_fault *f)
{
	CHECK(ctx == &fk);
	CHECK(!(access & ~(u32)(X86_ACC_WRITE | X86_ACC_FETCH | X86_ACC_IMPLICIT)));
	if (fk.translates < (int)ARRAY_SIZE(fk.access))
		fk.access[fk.translates] = access;
	fk.translates++;
	fk.last_linear = linear;
	if (fk.xlate_rc)
		return fk.xlate_rc;
	if (fk.fault_page && (linear & ~0xfffULL) == fk.fault_page) {
		*f = (struct x86_fault){ fk.fault_vector ? fk.fault_vector : X86_EXC_PF,
					 fk.fault_error, linear };
		return X86_FAULT;
	}
	*gpa = linear + fk.xlate_add;
	return 0;
}

static int f_ram_read(void *ctx, gpa_t gpa, void *buf, unsigned int size)
{
	CHECK(ctx == &fk);
	fk.ram_reads++;
	if (gpa < RAM_BASE || gpa + size > RAM_BASE + RAM_SIZE)
		return -EFAULT;
	memcpy(buf, &fk.ram[gpa - RAM_BASE], size);
	return 0;
}

static int f_ram_write(void *ctx, gpa_t gpa, const void *buf, unsigned int size)
{
	CHECK(ctx == &fk);
	fk.ram_writes++;
	if (gpa < RAM_BASE || gpa + size > RAM_BASE + RAM_SIZE)
		return -EFAULT;
	memcpy(&fk.ram[gpa - RAM_BASE], buf, size);
	return 0;
}

static const struct x86_emul_ops fake_ops = {
	.mmio_read = f_mmio_read,
	.mmio_write = f_mmio_write,
	.translate = f_translate,
	.ram_read = f_ram_read,
	.ram_write = f_ram_write,
};

static void reset(struct x86_regs *r)
{
	memset(&fk, 0, sizeof(fk));
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < X86_GPR_COUNT; i++)
		r->gpr[i] = 0x1111111111111111ULL * (i + 1);
	r->rip = 0x401000;
	r->rflags = 0x202;
}

static u64 mmio_get(gpa_t gpa, unsigned int size)
{
	return load_le(&fk.mmio[gpa - MMIO_BASE], size);
}

static void mmio_put(gpa_t gpa, unsigned int size, u64 v)
{
	store_le(&fk.mmio[gpa - MMIO_BASE], size, v);
}

static int emulate(struct x86_regs *r, enum x86_mode mode, const u8 *enc, size_t n, gpa_t gpa)
{
	struct x86_insn in;
	int rc = x86_decode(enc, n, mode, &in);

	CHECK_EQ(rc, 0);
	CHECK_EQ(in.len, n);
	if (rc)
		return rc;
	return x86_emulate_mmio(r, &in, gpa, &fake_ops, &fk, &fk.fault);
}

#define EMU(r, mode, gpa, ...) \
	emulate(r, mode, (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ }), gpa)
#define L64 X86_MODE_LONG64
#define P32 X86_MODE_PROT32
#define RM X86_MODE_REAL

/* ---- the host CPU as the flags oracle ---- */

typedef u64 (*native_fn)(u64 d, u64 s, u64 fin, u64 *res);

/* Skips the red zone: the compiler may keep locals below RSP. */
#define NATIVE1(name, mnem, type)                               \
	static u64 name(u64 d, u64 s, u64 fin, u64 *res)        \
	{                                                       \
		type x = (type)d, y = (type)s;                  \
		u64 fout;                                       \
		asm volatile("lea -128(%%rsp), %%rsp\n\t"       \
			     "push %[fin]\n\t"                  \
			     "popfq\n\t" mnem " %[y], %[x]\n\t" \
			     "pushfq\n\t"                       \
			     "pop %[fout]\n\t"                  \
			     "lea 128(%%rsp), %%rsp"            \
			     : [x] "+r"(x), [fout] "=&r"(fout)  \
			     : [y] "r"(y), [fin] "r"(fin)       \
			     : "cc", "memory");                 \
		*res = x;                                       \
		return fout;                                    \
	}
#define NATIVE(op)                         \
	NATIVE1(native_##op##_1, #op, u8)  \
	NATIVE1(native_##op##_2, #op, u16) \
	NATIVE1(native_##op##_4, #op, u32) \
	NATIVE1(native_##op##_8, #op, u64)
#define NATIVE_ROW(op)                                                             \
	{                                                                          \
		native_##op##_1, native_##op##_2, native_##op##_4, native_##op##_8 \
	}

NATIVE(add)
NATIVE(or)
NATIVE(adc)
NATIVE(sbb)
NATIVE(and)
NATIVE(sub)
NATIVE(xor)
NATIVE(cmp)
NATIVE(test)

/* Group-1 order (ModRM.reg), then TEST. */
static const native_fn natives[9][4] = {
	NATIVE_ROW(add), NATIVE_ROW(or),  NATIVE_ROW(adc), NATIVE_ROW(sbb),  NATIVE_ROW(and),
	NATIVE_ROW(sub), NATIVE_ROW(xor), NATIVE_ROW(cmp), NATIVE_ROW(test),
};

static int size_index(unsigned int size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

static u64 mask_of(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const u64 edge[] = {
	0,
	1,
	2,
	0x0f,
	0x10,
	0x7f,
	0x80,
	0xff,
	0x7fff,
	0x8000,
	0xffff,
	0x7fffffff,
	0x80000000,
	0xffffffff,
	0x7fffffffffffffffULL,
	0x8000000000000000ULL,
	~0ULL,
	0x5555555555555555ULL,
};

static u64 pick(unsigned int i)
{
	return i < ARRAY_SIZE(edge) ? edge[i] : rng();
}

#define NVALS (ARRAY_SIZE(edge) + 24)

/* A second operand: random, or equal/adjacent to the first (carry edges). */
static u64 partner(u64 v, unsigned int i)
{
	switch (i % 4) {
	case 0:
		return v;
	case 1:
		return v + 1;
	case 2:
		return v - 1;
	}
	return rng();
}

/* Prefix and opcode bytes for an ALU-family instruction at a width. */
static size_t put_opcode(u8 *enc, unsigned int size, u8 opc_byte, u8 opc_v)
{
	size_t n = 0;

	if (size == 2)
		enc[n++] = 0x66;
	if (size == 8)
		enc[n++] = 0x48;
	enc[n++] = size == 1 ? opc_byte : opc_v;
	return n;
}

struct alu_run {
	unsigned int op; /* 0-7 group-1 order, 8 = TEST */
	unsigned int size;
	bool mem_dst;
	u64 mem, reg, fin;
};

static void check_against_cpu(const struct alu_run *a, const u8 *enc, size_t n, u8 reg, bool high8)
{
	u64 want_res, want_flags, d, s, m = mask_of(a->size);
	u64 gpr_before, got_reg;
	struct x86_regs r;
	bool writes = a->op != 7 && a->op != 8;
	bool logic = a->op == 1 || a->op == 4 || a->op == 6 || a->op == 8;
	u64 fmask = logic ? ARITH & ~X86_RFLAGS_AF : ARITH;
	unsigned int base = high8 ? reg - 4 : reg;
	unsigned int shift = high8 ? 8 : 0;

	reset(&r);
	r.gpr[X86_RBX] = MMIO_BASE + 0x40;
	mmio_put(MMIO_BASE + 0x40, 8, 0x0123456789abcdefULL);
	mmio_put(MMIO_BASE + 0x40, a->size, a->mem);
	r.gpr[base] = (r.gpr[base] & ~(m << shift)) | ((a->reg & m) << shift);
	r.rflags = a->fin | X86_RFLAGS_DF;
	gpr_before = r.gpr[base];
	d = a->mem_dst ? a->mem : a->reg;
	s = a->mem_dst ? a->reg : a->mem;
	want_flags = natives[a->op][size_index(a->size)](d, s, a->fin, &want_res);
	CHECK_EQ(emulate(&r, L64, enc, n, MMIO_BASE + 0x40), 0);
	CHECK_EQ(r.rip, 0x401000 + n);
	CHECK_EQ(r.rflags & fmask, want_flags & fmask);
	CHECK_EQ(r.rflags & ~ARITH, (a->fin | X86_RFLAGS_DF) & ~ARITH);
	if (logic)
		CHECK_EQ(r.rflags & X86_RFLAGS_AF, 0);
	got_reg = (r.gpr[base] >> shift) & m;
	if (writes && a->mem_dst)
		CHECK_EQ(mmio_get(MMIO_BASE + 0x40, a->size), want_res & m);
	else
		CHECK_EQ(mmio_get(MMIO_BASE + 0x40, a->size), a->mem & m);
	if (writes && !a->mem_dst)
		CHECK_EQ(got_reg, want_res & m);
	else
		CHECK_EQ(got_reg, a->reg & m);
	/* Bits outside the operand: upper register bytes, neighbouring MMIO. */
	if (a->size < 4 || (!writes || a->mem_dst))
		CHECK_EQ(r.gpr[base] & ~(m << shift), gpr_before & ~(m << shift));
	else if (a->size == 4)
		CHECK_EQ(r.gpr[base] >> 32, 0);
	if (a->size < 8)
		CHECK_EQ(mmio_get(MMIO_BASE + 0x40 + a->size, 1),
			 (0x0123456789abcdefULL >> (8 * a->size)) & 0xff);
}

/* 00-3B: op r/m,reg and op reg,r/m at every width, with CL and CH. */
TEST(alu_reg_forms_match_cpu)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };

	for (unsigned int op = 0; op < 8; op++)
		for (unsigned int si = 0; si < 4; si++)
			for (unsigned int dir = 0; dir < 2; dir++)
				for (unsigned int i = 0; i < NVALS; i++) {
					struct alu_run a = {
						.op = op,
						.size = sizes[si],
						.mem_dst = !dir,
						.mem = pick(i),
						.fin = (rng() & ARITH) | 2,
					};
					u8 enc[4];
					size_t n;
					u8 base = (u8)(op * 8 + dir * 2);

					a.reg = partner(a.mem, i);

					n = put_opcode(enc, a.size, base, base + 1);
					enc[n++] = 0x0b; /* [rbx], ecx */
					check_against_cpu(&a, enc, n, X86_RCX, false);
					if (a.size != 1)
						continue;
					enc[n - 1] = 0x2b; /* [rbx], ch */
					check_against_cpu(&a, enc, n, X86_RBP, true);
				}
}

/* 80, 81, 83 /op and F6/F7 /0 with immediates. */
TEST(alu_imm_forms_match_cpu)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };

	for (unsigned int op = 0; op < 9; op++)
		for (unsigned int si = 0; si < 4; si++)
			for (unsigned int i = 0; i < NVALS; i++) {
				unsigned int size = sizes[si];
				u64 imm = pick(NVALS - 1 - i);
				u8 enc[16];
				size_t n;
				u8 sub = op == 8 ? 0 : op;
				struct alu_run a = {
					.op = op,
					.size = size,
					.mem_dst = true,
					.mem = pick(i),
					.fin = (rng() & ARITH) | 2,
				};

				if (op == 8)
					n = put_opcode(enc, size, 0xf6, 0xf7);
				else
					n = put_opcode(enc, size, 0x80, 0x81);
				enc[n++] = 0x03 | sub << 3; /* [rbx] */
				store_le(&enc[n], MIN(size, 4), imm);
				n += MIN(size, 4);
				a.reg = size == 8 ? (u64)(s64)(s32)imm : imm;
				check_against_cpu(&a, enc, n, X86_RAX, false);
				if (op == 8 || size == 1)
					continue;
				/* 83: imm8 sign-extended. */
				n = put_opcode(enc, size, 0x83, 0x83);
				enc[n++] = 0x03 | sub << 3;
				enc[n++] = (u8)imm;
				a.reg = (u64)(s64)(s8)imm;
				check_against_cpu(&a, enc, n, X86_RAX, false);
			}
}

/* TEST r/m, reg (84/85) never writes. */
TEST(test_reg_forms_match_cpu)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };

	for (unsigned int si = 0; si < 4; si++)
		for (unsigned int i = 0; i < NVALS; i++) {
			struct alu_run a = {
				.op = 8,
				.size = sizes[si],
				.mem_dst = true,
				.mem = pick(i),
				.reg = rng() & rng(),
				.fin = (rng() & ARITH) | 2,
			};
			u8 enc[4];
			size_t n = put_opcode(enc, a.size, 0x84, 0x85);

			enc[n++] = 0x0b;
			check_against_cpu(&a, enc, n, X86_RCX, false);
		}
}

/* A few results by hand, so the oracle itself is checked. */
TEST(known_flags)
{
	struct x86_regs r;

	reset(&r);
	r.gpr[X86_RAX] = MMIO_BASE;
	mmio_put(MMIO_BASE, 1, 0xff);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE, 0x80, 0x00, 0x01), 0); /* add byte 1 */
	CHECK_EQ(mmio_get(MMIO_BASE, 1), 0);
	CHECK_EQ(r.rflags, 0x202 | 0x55);			/* CF PF AF ZF */
	CHECK_EQ(EMU(&r, L64, MMIO_BASE, 0x80, 0x28, 0x01), 0); /* sub byte 1 */
	CHECK_EQ(mmio_get(MMIO_BASE, 1), 0xff);
	CHECK_EQ(r.rflags, 0x202 | 0x95); /* CF PF AF SF */
	mmio_put(MMIO_BASE, 4, 0x7fffffff);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE, 0x83, 0x00, 0x01), 0);
	CHECK_EQ(mmio_get(MMIO_BASE, 4), 0x80000000);
	CHECK_EQ(r.rflags, 0x202 | X86_RFLAGS_OF | X86_RFLAGS_SF | X86_RFLAGS_AF | X86_RFLAGS_PF);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE, 0x81, 0x38, 0x00, 0x00, 0x00, 0x80), 0);
	CHECK_EQ(r.rflags, 0x202 | X86_RFLAGS_ZF | X86_RFLAGS_PF); /* cmp equal */
	r.rflags |= X86_RFLAGS_CF;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE, 0x83, 0x10, 0x00), 0); /* adc 0 */
	CHECK_EQ(mmio_get(MMIO_BASE, 4), 0x80000001);
	CHECK_EQ(r.rflags, 0x202 | X86_RFLAGS_SF);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE, 0x83, 0x20, 0x00), 0); /* and 0 */
	CHECK_EQ(r.rflags, 0x202 | X86_RFLAGS_ZF | X86_RFLAGS_PF);
	CHECK_EQ(r.rip, 0x401000 + 3 + 3 + 3 + 6 + 3 + 3);
}

TEST(mov_store_every_width)
{
	struct x86_regs r;
	gpa_t g = MMIO_BASE + 0x100;

	reset(&r);
	r.gpr[X86_RAX] = g;
	r.gpr[X86_RBX] = 0x8877665544332211ULL;
	CHECK_EQ(EMU(&r, L64, g, 0x88, 0x18), 0);
	CHECK_EQ(fk.last_size, 1);
	CHECK_EQ(mmio_get(g, 8), 0x11);
	CHECK_EQ(EMU(&r, L64, g, 0x88, 0x38), 0); /* bh */
	CHECK_EQ(mmio_get(g, 8), 0x22);
	CHECK_EQ(EMU(&r, L64, g, 0x66, 0x89, 0x18), 0);
	CHECK_EQ(mmio_get(g, 8), 0x2211);
	CHECK_EQ(EMU(&r, L64, g, 0x89, 0x18), 0);
	CHECK_EQ(mmio_get(g, 8), 0x44332211);
	CHECK_EQ(EMU(&r, L64, g, 0x48, 0x89, 0x18), 0);
	CHECK_EQ(mmio_get(g, 8), 0x8877665544332211ULL);
	CHECK_EQ(fk.last_size, 8);
	CHECK_EQ(fk.last_gpa, g);
	CHECK_EQ(fk.mmio_writes, 5);
	CHECK_EQ(fk.mmio_reads, 0);
	CHECK_EQ(r.rip, 0x401000 + 2 + 2 + 3 + 2 + 3);
	CHECK_EQ(r.gpr[X86_RBX], 0x8877665544332211ULL);
	CHECK_EQ(r.rflags, 0x202);
	mmio_put(g, 8, 0);
	r.gpr[X86_RSI] = 0x55;
	CHECK_EQ(EMU(&r, L64, g, 0x40, 0x88, 0x30), 0); /* sil, not dh */
	CHECK_EQ(mmio_get(g, 8), 0x55);
	r.gpr[X86_R14] = 0xabcd;
	CHECK_EQ(EMU(&r, L64, g, 0x66, 0x44, 0x89, 0x30), 0); /* r14w */
	CHECK_EQ(mmio_get(g, 8), 0xabcd);
}

TEST(mov_load_register_semantics)
{
	struct x86_regs r;
	gpa_t g = MMIO_BASE + 0x200;

	reset(&r);
	r.gpr[X86_RAX] = g;
	mmio_put(g, 8, 0xf1f2f3f4f5f6f7f8ULL);
	r.gpr[X86_RBX] = 0x1111111111111111ULL;
	CHECK_EQ(EMU(&r, L64, g, 0x8a, 0x18), 0); /* bl */
	CHECK_EQ(r.gpr[X86_RBX], 0x11111111111111f8ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x8a, 0x38), 0); /* bh */
	CHECK_EQ(r.gpr[X86_RBX], 0x111111111111f8f8ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x66, 0x8b, 0x18), 0);
	CHECK_EQ(r.gpr[X86_RBX], 0x111111111111f7f8ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x8b, 0x18), 0); /* zero-extends */
	CHECK_EQ(r.gpr[X86_RBX], 0xf5f6f7f8ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x48, 0x8b, 0x18), 0);
	CHECK_EQ(r.gpr[X86_RBX], 0xf1f2f3f4f5f6f7f8ULL);
	r.gpr[X86_RDI] = 0x1234;
	CHECK_EQ(EMU(&r, L64, g, 0x40, 0x8a, 0x38), 0); /* dil */
	CHECK_EQ(r.gpr[X86_RDI], 0x12f8);
	r.gpr[X86_RDI] = 0x1234;
	r.gpr[X86_RBX] = 0;
	CHECK_EQ(EMU(&r, L64, g, 0x8a, 0x38), 0); /* bh, RDI untouched */
	CHECK_EQ(r.gpr[X86_RDI], 0x1234);
	CHECK_EQ(r.gpr[X86_RBX], 0xf800);
	CHECK_EQ(EMU(&r, L64, g, 0x44, 0x8b, 0x38), 0); /* r15d */
	CHECK_EQ(r.gpr[X86_R15], 0xf5f6f7f8ULL);
	CHECK_EQ(fk.mmio_writes, 0);
}

TEST(mov_immediate_and_moffs)
{
	struct x86_regs r;
	gpa_t g = MMIO_BASE + 0x300;

	reset(&r);
	r.gpr[X86_RCX] = g - 0x10;
	CHECK_EQ(EMU(&r, L64, g, 0xc6, 0x41, 0x10, 0xab), 0);
	CHECK_EQ(mmio_get(g, 8), 0xab);
	CHECK_EQ(EMU(&r, L64, g, 0x66, 0xc7, 0x41, 0x10, 0x34, 0x12), 0);
	CHECK_EQ(mmio_get(g, 8), 0x1234);
	CHECK_EQ(EMU(&r, L64, g, 0xc7, 0x41, 0x10, 0x78, 0x56, 0x34, 0x12), 0);
	CHECK_EQ(mmio_get(g, 8), 0x12345678);
	CHECK_EQ(EMU(&r, L64, g, 0x48, 0xc7, 0x41, 0x10, 0xfe, 0xff, 0xff, 0xff), 0);
	CHECK_EQ(mmio_get(g, 8), 0xfffffffffffffffeULL);
	/* moffs: A0-A3 with a 64-bit address. */
	r.gpr[X86_RAX] = 0xaaaaaaaaaaaaaaaaULL;
	CHECK_EQ(EMU(&r, L64, g, 0xa0, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0xaaaaaaaaaaaaaafeULL);
	CHECK_EQ(EMU(&r, L64, g, 0xa1, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0xfffffffeULL);
	r.gpr[X86_RAX] = 0x0102030405060708ULL;
	CHECK_EQ(EMU(&r, L64, g, 0x48, 0xa3, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 0);
	CHECK_EQ(mmio_get(g, 8), 0x0102030405060708ULL);
	CHECK_EQ(EMU(&r, L64, g, 0xa2, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 0);
	CHECK_EQ(fk.last_size, 1);
	CHECK_EQ(EMU(&r, L64, g, 0x67, 0xa1, 0x00, 0x03, 0xe0, 0xfe), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0x05060708ULL);
	CHECK_EQ(r.rip, 0x401000 + 4 + 6 + 7 + 8 + 9 + 9 + 10 + 9 + 6);
}

TEST(movzx_movsx_movsxd)
{
	struct x86_regs r;
	gpa_t g = MMIO_BASE + 0x400;

	reset(&r);
	r.gpr[X86_RSI] = g;
	mmio_put(g, 8, 0x00000000c0de8086ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x0f, 0xb6, 0x06), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0x86);
	CHECK_EQ(fk.last_size, 1);
	CHECK_EQ(EMU(&r, L64, g, 0x0f, 0xb7, 0x06), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0x8086);
	CHECK_EQ(fk.last_size, 2);
	CHECK_EQ(EMU(&r, L64, g, 0x0f, 0xbe, 0x06), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0xffffff86ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x48, 0x0f, 0xbe, 0x06), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0xffffffffffffff86ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x48, 0x0f, 0xbf, 0x06), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0xffffffffffff8086ULL);
	r.gpr[X86_RAX] = 0x1111111111111111ULL;
	CHECK_EQ(EMU(&r, L64, g, 0x66, 0x0f, 0xbe, 0x06), 0); /* 16-bit dst */
	CHECK_EQ(r.gpr[X86_RAX], 0x111111111111ff86ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x66, 0x0f, 0xb6, 0x06), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0x1111111111110086ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x48, 0x63, 0x06), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0xffffffffc0de8086ULL);
	CHECK_EQ(fk.last_size, 4);
	CHECK_EQ(EMU(&r, L64, g, 0x63, 0x06), 0); /* no REX.W: a plain load */
	CHECK_EQ(r.gpr[X86_RAX], 0xc0de8086ULL);
	mmio_put(g, 8, 0x7f);
	CHECK_EQ(EMU(&r, L64, g, 0x4c, 0x0f, 0xbe, 0x3e), 0); /* r15 */
	CHECK_EQ(r.gpr[X86_R15], 0x7f);
}

TEST(xchg_swaps)
{
	struct x86_regs r;
	gpa_t g = MMIO_BASE + 0x500;

	reset(&r);
	r.gpr[X86_RDX] = g;
	r.gpr[X86_RCX] = 0xaabbccdd11223344ULL;
	mmio_put(g, 8, 0x5566778899aabbccULL);
	CHECK_EQ(EMU(&r, L64, g, 0x87, 0x0a), 0);
	CHECK_EQ(r.gpr[X86_RCX], 0x99aabbccULL);
	CHECK_EQ(mmio_get(g, 8), 0x5566778811223344ULL);
	CHECK_EQ(EMU(&r, L64, g, 0x86, 0x2a), 0); /* ch */
	CHECK_EQ(r.gpr[X86_RCX], 0x99aa44ccULL);
	CHECK_EQ(mmio_get(g, 1), 0xbb);
	r.gpr[X86_RCX] = 0x0102030405060708ULL;
	CHECK_EQ(EMU(&r, L64, g, 0xf0, 0x48, 0x87, 0x0a), 0);
	CHECK_EQ(r.gpr[X86_RCX], 0x55667788112233bbULL);
	CHECK_EQ(mmio_get(g, 8), 0x0102030405060708ULL);
	CHECK_EQ(r.rflags, 0x202);
}

/* Real mode: segment bases, 16-bit addressing and registers, IP wrap. */
TEST(real_mode)
{
	struct x86_regs r;
	gpa_t g = MMIO_BASE + 0x10;

	reset(&r);
	r.seg_base[X86_SEG_DS] = MMIO_BASE - 0x1000;
	r.seg_base[X86_SEG_SS] = MMIO_BASE;
	r.seg_base[X86_SEG_ES] = MMIO_BASE + 0x100;
	r.gpr[X86_RBX] = 0xffff0000ULL + 0x1000 + 0x8; /* upper bits ignored */
	r.gpr[X86_RSI] = 0x8;
	r.rip = 0xfffe;
	r.gpr[X86_RAX] = 0x12345678;
	CHECK_EQ(EMU(&r, RM, g, 0x89, 0x00), 0); /* [bx+si] */
	CHECK_EQ(mmio_get(g, 4), 0x5678);
	CHECK_EQ(r.rip, 0); /* IP wraps */
	CHECK_EQ(EMU(&r, RM, g, 0x66, 0x89, 0x00), 0);
	CHECK_EQ(mmio_get(g, 4), 0x12345678);
	r.gpr[X86_RBP] = 0x10;
	CHECK_EQ(EMU(&r, RM, g, 0x8b, 0x4e, 0x00), 0); /* cx, ss:[bp] */
	CHECK_EQ(r.gpr[X86_RCX], 0x2222222222225678ULL);
	CHECK_EQ(EMU(&r, RM, g, 0x8b, 0x0e, 0x10, 0x10), 0); /* cx, [0x1010] */
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x120, 0x26, 0xc6, 0x06, 0x20, 0x00, 0x99), 0); /* es: */
	CHECK_EQ(mmio_get(MMIO_BASE + 0x120, 1), 0x99);
	/* disp16 wraps the offset at 64 KiB: bx + 0xfff8 = 0x1000 (mod 2^16). */
	r.gpr[X86_RBX] = 0x1008;
	CHECK_EQ(EMU(&r, RM, MMIO_BASE, 0x88, 0x87, 0xf8, 0xff), 0);
	CHECK_EQ(fk.last_gpa, MMIO_BASE);
	CHECK_EQ(r.rip, 3 + 3 + 4 + 6 + 4); /* from 0 after the wrap */
}

/*
 * Real mode with segment caches loaded in protected mode (realmode16.S):
 * an FS base on the MMIO page, 0x67 SIB addressing, and unreal mode's
 * 32-bit offsets through a base-0 GS; linear = base + offset, no 20-bit cut.
 */
TEST(real_mode_cached_bases_and_unreal_offsets)
{
	struct x86_regs r;

	reset(&r);
	r.seg_base[X86_SEG_FS] = MMIO_BASE;
	r.gpr[X86_RBX] = 0x10;
	r.gpr[X86_RSI] = 4;
	mmio_put(MMIO_BASE + 0x28, 4, 0x55667788);
	r.rip = 0x100;
	/* mov ecx, fs:[ebx+esi*4+8] */
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x28, 0x64, 0x67, 0x66, 0x8b, 0x4c, 0xb3, 0x08), 0);
	CHECK_EQ((u32)r.gpr[X86_RCX], 0x55667788);
	CHECK_EQ(r.rip, 0x107);
	/* mov al, fs:[0x21] */
	mmio_put(MMIO_BASE + 0x20, 4, 0x89abcdef);
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x21, 0x64, 0xa0, 0x21, 0x00), 0);
	CHECK_EQ(r.gpr[X86_RAX] & 0xff, 0xcd);
	CHECK_EQ(r.gpr[X86_RAX] >> 8, 0x1111111111111111ULL >> 8);
	/* mov dword gs:[edi+0x2c], 0x0badcafe with GS base 0 and EDI above 1 MiB */
	r.gpr[X86_RDI] = MMIO_BASE | 0xffffffff00000000ULL; /* bits 63:32 are not an offset */
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x2c, 0x65, 0x67, 0x66, 0xc7, 0x47, 0x2c, 0xfe, 0xca, 0xad,
		     0x0b),
		 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x2c, 4), 0x0badcafe);
	CHECK_EQ(fk.last_gpa, MMIO_BASE + 0x2c);
	/* 16-bit addressing wraps before the base is added: fs:[bx+si+2] with bx = 0xfffe */
	r.gpr[X86_RBX] = 0xfffe;
	r.gpr[X86_RSI] = 0x10;
	r.gpr[X86_RAX] = 0xa1b2;
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x10, 0x64, 0x89, 0x40, 0x02), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x10, 2), 0xa1b2);
	CHECK_EQ(fk.last_linear, MMIO_BASE + 0x10);
	/* with 0x67 the same sum does not wrap: fs:[ebx+0x12] is 64 KiB further */
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x10, 0x64, 0x67, 0x89, 0x43, 0x12), 0);
	CHECK_EQ(fk.last_linear, MMIO_BASE + 0x10010);
}

/* REP MOVS and STOS in real mode: 16-bit SI, DI and CX, the upper bits kept, DF backwards. */
TEST(real_mode_strings)
{
	struct x86_regs r;
	int iterations = 0;

	reset(&r);
	r.seg_base[X86_SEG_FS] = MMIO_BASE;
	r.seg_base[X86_SEG_ES] = MMIO_BASE;
	for (int i = 0; i < 16; i++)
		mmio_put(MMIO_BASE + 0x100 + i, 1, 0x40 + i);
	r.gpr[X86_RSI] = 0xabcd0000ULL | 0x100;
	r.gpr[X86_RDI] = 0x12340000ULL | 0x200;
	r.gpr[X86_RCX] = 0x77770000ULL | 16;
	r.rip = 0x40;
	while (r.rip == 0x40 && iterations++ < 20) /* rep movsb fs:[si], es:[di] */
		CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x200, 0x64, 0xf3, 0xa4), 0);
	CHECK_EQ(iterations, 16);
	CHECK_EQ(r.rip, 0x43);
	CHECK_EQ(r.gpr[X86_RSI], 0xabcd0000ULL | 0x110);
	CHECK_EQ(r.gpr[X86_RDI], 0x12340000ULL | 0x210);
	CHECK_EQ(r.gpr[X86_RCX], 0x77770000ULL);
	CHECK_EQ(memcmp(&fk.mmio[0x200], &fk.mmio[0x100], 16), 0);
	/* backwards from offset 0: SI and DI wrap to 0xfffe within the 64 KiB segment */
	r.seg_base[X86_SEG_DS] = MMIO_BASE - 0xfffe + 0x300;
	r.seg_base[X86_SEG_ES] = MMIO_BASE - 0xfffe + 0x400;
	r.gpr[X86_RSI] = 0xfffe;
	r.gpr[X86_RDI] = 0xfffe;
	r.rflags |= X86_RFLAGS_DF;
	mmio_put(MMIO_BASE + 0x300, 2, 0x5aa5);
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x400, 0xa5), 0); /* movsw */
	CHECK_EQ(mmio_get(MMIO_BASE + 0x400, 2), 0x5aa5);
	CHECK_EQ(r.gpr[X86_RSI], 0xfffc);
	CHECK_EQ(r.gpr[X86_RDI], 0xfffc);
	r.gpr[X86_RDI] = 0;
	r.gpr[X86_RAX] = 0x7a7b;
	r.seg_base[X86_SEG_ES] = MMIO_BASE + 0x500;
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0x500, 0xab), 0); /* stosw */
	CHECK_EQ(mmio_get(MMIO_BASE + 0x500, 2), 0x7a7b);
	CHECK_EQ(r.gpr[X86_RDI], 0xfffe);
}

/* 32-bit protected mode: bases count, addresses wrap at 4 GiB. */
TEST(protected_32)
{
	struct x86_regs r;
	gpa_t g = MMIO_BASE + 0x44;

	reset(&r);
	r.seg_base[X86_SEG_DS] = 0x10000000;
	r.seg_base[X86_SEG_FS] = 0x20000000;
	r.gpr[X86_RAX] = (MMIO_BASE + 0x44 - 0x10000000) | 0xdead00000000ULL;
	r.rip = 0xfffffffe;
	CHECK_EQ(EMU(&r, P32, g, 0x89, 0x18), 0);
	CHECK_EQ(r.rip, 0);
	CHECK_EQ(EMU(&r, P32, g + 0x20, 0x64, 0x89, 0x58, 0x10), -EINVAL);
	r.gpr[X86_RAX] = MMIO_BASE + 0x44 - 0x20000000 - 0x10;
	CHECK_EQ(EMU(&r, P32, g, 0x64, 0x89, 0x58, 0x10), 0);
	CHECK_EQ(mmio_get(g, 4), (u32)r.gpr[X86_RBX]);
}

/* RIP-relative uses the next instruction's address; FS/GS bases apply. */
TEST(long_mode_addressing)
{
	struct x86_regs r;

	reset(&r);
	r.rip = MMIO_BASE - 0x100;
	mmio_put(MMIO_BASE + 0x10, 4, 0xcafef00d);
	/* mov eax, [rip + 0x10a]; length 6 → MMIO_BASE + 0x10 */
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x8b, 0x05, 0x0a, 0x01, 0, 0), 0);
	CHECK_EQ(r.gpr[X86_RAX], 0xcafef00d);
	reset(&r);
	r.seg_base[X86_SEG_GS] = MMIO_BASE + 0x20;
	r.seg_base[X86_SEG_DS] = 0x7770000; /* ignored in 64-bit mode */
	r.gpr[X86_RCX] = 0x8;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x28, 0x65, 0x89, 0x01), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x28, 4), (u32)r.gpr[X86_RAX]);
	r.gpr[X86_RDX] = MMIO_BASE + 0x30;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x30, 0x3e, 0x89, 0x02), 0);
	/* SIB with scaled index and negative displacement. */
	r.gpr[X86_R13] = MMIO_BASE;
	r.gpr[X86_R12] = 0x10;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x70, 0x4b, 0x89, 0x44, 0xe5, 0xf0), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x70, 8), r.gpr[X86_RAX]);
	/* 67: the effective address wraps at 32 bits. */
	r.gpr[X86_RBX] = 0xffffffff00000000ULL | (MMIO_BASE + 0x80);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x80, 0x67, 0x89, 0x0b), 0);
}

TEST(refusals_leave_state_alone)
{
	struct x86_regs r, before;
	struct x86_insn in;
	static const u8 regform[] = { 0x89, 0xc3 };

	reset(&r);
	r.gpr[X86_RAX] = MMIO_BASE + 0x10;
	before = r;
	/* Page offset disagrees with the fault: not the instruction that faulted. */
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x14, 0x89, 0x18), -EINVAL);
	/* A register-only form cannot fault on memory. */
	CHECK_EQ(x86_decode(regform, 2, L64, &in), 0);
	CHECK_EQ(x86_emulate_mmio(&r, &in, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	/* Split across pages. */
	r.gpr[X86_RAX] = MMIO_BASE + 0xffe;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0xffe, 0x89, 0x18), -ENOTSUP);
	r.gpr[X86_RAX] = MMIO_BASE + 0x10;
	CHECK_EQ(memcmp(&r, &before, sizeof(r)), 0);
	CHECK_EQ(fk.mmio_reads + fk.mmio_writes, 0);
	/* Device errors pass through; nothing retires. */
	fk.mmio_rc = -EIO;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x8b, 0x18), -EIO);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x01, 0x18), -EIO);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x87, 0x18), -EIO);
	CHECK_EQ(memcmp(&r, &before, sizeof(r)), 0);
}

TEST(refuses_bad_insn_structs)
{
	struct x86_regs r;
	struct x86_insn in, bad;
	static const u8 enc[] = { 0x89, 0x18 };
	struct x86_emul_ops no_ram = fake_ops;

	reset(&r);
	r.gpr[X86_RAX] = MMIO_BASE;
	CHECK_EQ(x86_decode(enc, 2, L64, &in), 0);
	bad = in;
	bad.reg = 16;
	CHECK_EQ(x86_emulate_mmio(&r, &bad, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	bad = in;
	bad.reg_high8 = true;
	bad.reg = 3;
	CHECK_EQ(x86_emulate_mmio(&r, &bad, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	bad = in;
	bad.op = X86_OP_COUNT;
	CHECK_EQ(x86_emulate_mmio(&r, &bad, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	bad = in;
	bad.op = X86_OP_XCHG;
	bad.form = X86_FORM_RM_IMM;
	CHECK_EQ(x86_emulate_mmio(&r, &bad, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	bad = in;
	bad.mem.base = 20;
	CHECK_EQ(x86_emulate_mmio(&r, &bad, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	bad = in;
	bad.op_size = 3;
	CHECK_EQ(x86_emulate_mmio(&r, &bad, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	bad = in;
	bad.len = 0;
	CHECK_EQ(x86_emulate_mmio(&r, &bad, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	no_ram.ram_read = NULL;
	CHECK_EQ(x86_emulate_mmio(&r, &in, MMIO_BASE, &no_ram, &fk, &fk.fault), -EINVAL);
	CHECK_EQ(x86_emulate_mmio(&r, NULL, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	CHECK_EQ(x86_emulate_mmio(NULL, &in, MMIO_BASE, &fake_ops, &fk, &fk.fault), -EINVAL);
	CHECK_EQ(x86_emulate_mmio(&r, &in, MMIO_BASE, &fake_ops, &fk, NULL), -EINVAL);
	CHECK_EQ(fk.mmio_reads + fk.mmio_writes, 0);
	CHECK_EQ(x86_emulate_mmio(&r, &in, MMIO_BASE, &fake_ops, &fk, &fk.fault), 0);
}

/* ---- strings ---- */

TEST(stos_single_and_df)
{
	struct x86_regs r;

	reset(&r);
	r.gpr[X86_RDI] = MMIO_BASE + 0x100;
	r.gpr[X86_RAX] = 0x1122334455667788ULL;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x100, 0xab), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x100, 8), 0x55667788);
	CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 0x104);
	CHECK_EQ(r.rip, 0x401001);
	CHECK_EQ(r.gpr[X86_RCX], 0x2222222222222222ULL); /* no REP: RCX kept */
	r.rflags |= X86_RFLAGS_DF;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x104, 0x48, 0xab), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x104, 8), 0x1122334455667788ULL);
	CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 0xfc);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0xfc, 0xaa), 0);
	CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 0xfb);
	CHECK_EQ(mmio_get(MMIO_BASE + 0xfc, 1), 0x88);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0xfb, 0x66, 0xab), 0);
	CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 0xf9);
	CHECK_EQ(fk.translates, 4);
	CHECK_EQ(fk.ram_writes, 0);
}

TEST(rep_stos_iterates_one_per_call)
{
	struct x86_regs r;

	reset(&r);
	r.gpr[X86_RDI] = MMIO_BASE;
	r.gpr[X86_RCX] = 3;
	r.gpr[X86_RAX] = 0xa5a5a5a5;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(EMU(&r, L64, MMIO_BASE + 4 * i, 0xf3, 0xab), 0);
		CHECK_EQ(r.gpr[X86_RCX], 2 - i);
		CHECK_EQ(r.rip, i < 2 ? 0x401000 : 0x401002);
		CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 4 * (i + 1));
	}
	CHECK_EQ(mmio_get(MMIO_BASE, 8), 0xa5a5a5a5a5a5a5a5ULL);
	CHECK_EQ(mmio_get(MMIO_BASE + 8, 4), 0xa5a5a5a5);
	CHECK_EQ(mmio_get(MMIO_BASE + 12, 4), 0);
	/* RCX = 0 on entry: nothing, but RIP moves on. */
	r.rip = 0x401000;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE, 0xf3, 0xab), 0);
	CHECK_EQ(r.rip, 0x401002);
	CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 12);
	CHECK_EQ(fk.mmio_writes, 3);
	CHECK_EQ(fk.translates, 3);
}

/* Address size picks rCX/rDI width: 16 bits wrap and keep the rest, 32 zero-extend. */
TEST(rep_stos_address_sizes)
{
	struct x86_regs r;

	reset(&r);
	r.seg_base[X86_SEG_ES] = MMIO_BASE;
	r.gpr[X86_RDI] = 0xabcd0000ffffULL;
	r.gpr[X86_RCX] = 0x777700000002ULL; /* CX = 2 */
	r.seg_base[X86_SEG_ES] = MMIO_BASE - 0xf000;
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0xfff, 0xf3, 0xab), -ENOTSUP);
	CHECK_EQ(EMU(&r, RM, MMIO_BASE + 0xfff, 0xf3, 0xaa), 0);
	CHECK_EQ(r.gpr[X86_RDI], 0xabcd00000000ULL);
	CHECK_EQ(r.gpr[X86_RCX], 0x777700000001ULL);
	CHECK_EQ(r.rip, 0x401000);
	reset(&r);
	r.gpr[X86_RDI] = 0xffffffff00000000ULL | (MMIO_BASE + 0x10);
	r.gpr[X86_RCX] = 0xffffffff00000001ULL;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0xf3, 0x67, 0xab), 0);
	CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 0x14);
	CHECK_EQ(r.gpr[X86_RCX], 0);
	CHECK_EQ(r.rip, 0x401003);
	/* ECX = 0 in the low half: no-op even though RCX is not 0. */
	r.gpr[X86_RCX] = 0x100000000ULL;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x14, 0xf3, 0x67, 0xab), 0);
	CHECK_EQ(r.gpr[X86_RCX], 0x100000000ULL);
	CHECK_EQ(fk.mmio_writes, 1);
}

TEST(movs_mmio_to_ram_and_back)
{
	struct x86_regs r;

	reset(&r);
	mmio_put(MMIO_BASE + 0x40, 8, 0x8877665544332211ULL);
	r.gpr[X86_RSI] = MMIO_BASE + 0x40;
	r.gpr[X86_RDI] = RAM_BASE + 0x80;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x40, 0xa5), 0); /* read side MMIO */
	CHECK_EQ(load_le(&fk.ram[0x80], 8), 0x44332211);
	CHECK_EQ(r.gpr[X86_RSI], MMIO_BASE + 0x44);
	CHECK_EQ(r.gpr[X86_RDI], RAM_BASE + 0x84);
	CHECK_EQ(fk.mmio_reads, 1);
	CHECK_EQ(fk.ram_writes, 1);
	CHECK_EQ(r.rip, 0x401001);
	/* RAM to MMIO, byte, DF = 1. */
	fk.ram[0x200] = 0x5a;
	r.gpr[X86_RSI] = RAM_BASE + 0x200;
	r.gpr[X86_RDI] = MMIO_BASE + 0x300;
	r.rflags |= X86_RFLAGS_DF;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x300, 0xa4), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x300, 1), 0x5a);
	CHECK_EQ(r.gpr[X86_RSI], RAM_BASE + 0x1ff);
	CHECK_EQ(r.gpr[X86_RDI], MMIO_BASE + 0x2ff);
	CHECK_EQ(fk.ram_reads, 1);
	CHECK_EQ(fk.mmio_writes, 1);
	/* Both ends on the faulting page: MMIO to MMIO. */
	r.rflags &= ~X86_RFLAGS_DF;
	r.gpr[X86_RSI] = MMIO_BASE + 0x40;
	r.gpr[X86_RDI] = MMIO_BASE + 0x48;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x40, 0x48, 0xa5), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x48, 8), 0x8877665544332211ULL);
	CHECK_EQ(fk.ram_reads + fk.ram_writes, 2);
	/* Other end on another MMIO page: RAM refuses, MMIO serves it. */
	r.gpr[X86_RSI] = MMIO_BASE + 0x40;
	r.gpr[X86_RDI] = MMIO_BASE + 0x1040;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x40, 0x66, 0xa5), 0);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x1040, 8), 0x2211);
	CHECK_EQ(fk.ram_writes, 2);
}

TEST(rep_movs_with_segments_and_translation)
{
	struct x86_regs r;

	reset(&r);
	fk.xlate_add = 0x1000; /* guest paging moves everything up a page */
	r.seg_base[X86_SEG_ES] = RAM_BASE - 0x1000;
	r.seg_base[X86_SEG_DS] = 0x40000000;	     /* overridden by FS */
	r.seg_base[X86_SEG_FS] = MMIO_BASE - 0x1000; /* FS: source only */
	r.gpr[X86_RSI] = 0x10;
	r.gpr[X86_RDI] = 0x20;
	r.gpr[X86_RCX] = 2;
	mmio_put(MMIO_BASE + 0x10, 4, 0x04030201);
	CHECK_EQ(EMU(&r, P32, MMIO_BASE + 0x10, 0x64, 0xf3, 0xa4), 0);
	CHECK_EQ(r.rip, 0x401000);
	CHECK_EQ(EMU(&r, P32, MMIO_BASE + 0x11, 0x64, 0xf3, 0xa4), 0);
	CHECK_EQ(r.rip, 0x401003);
	CHECK_EQ(fk.ram[0x20], 1);
	CHECK_EQ(fk.ram[0x21], 2);
	CHECK_EQ(r.gpr[X86_RCX], 0);
	CHECK_EQ(r.gpr[X86_RSI], 0x12);
	CHECK_EQ(r.gpr[X86_RDI], 0x22);
}

TEST(string_errors_leave_state_alone)
{
	struct x86_regs r, before;

	reset(&r);
	r.gpr[X86_RSI] = MMIO_BASE + 0x40;
	r.gpr[X86_RDI] = RAM_BASE + 0x80;
	r.gpr[X86_RCX] = 5;
	before = r;
	fk.xlate_rc = -EFAULT; /* the guest's page tables are not in its RAM */
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x40, 0xf3, 0xa5), -EFAULT);
	CHECK_EQ(fk.mmio_reads, 0);
	fk.xlate_rc = 0;
	r.gpr[X86_RDI] = RAM_BASE + 0xffe; /* element crosses a page */
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x40, 0xf3, 0xa5), -ENOTSUP);
	r.gpr[X86_RDI] = RAM_BASE + 0x80;
	fk.mmio_rc = -EIO;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x40, 0xf3, 0xa5), -EIO);
	CHECK_EQ(memcmp(&r, &before, sizeof(r)), 0);
	CHECK_EQ(fk.ram_writes, 0);
}

/* ---- every access checked through the guest's page tables (SDM 3A 4.6) ---- */

#define PF_USER_WRITE (X86_PF_P | X86_PF_W | X86_PF_U)

/*
 * rep movsb from MMIO into memory the guest may not write: the CPU checked
 * only the source before the exit. The destination's fault comes back before
 * any access, registers at the faulting iteration.
 */
TEST(string_destination_fault_stops_before_any_access)
{
	struct x86_regs r, before;

	reset(&r);
	r.gpr[X86_RSI] = MMIO_BASE + 0x40;
	r.gpr[X86_RDI] = RAM_BASE + 0x80;
	r.gpr[X86_RCX] = 16;
	before = r;
	fk.fault_page = RAM_BASE;
	fk.fault_error = PF_USER_WRITE;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x40, 0xf3, 0xa4), X86_FAULT);
	CHECK_EQ(fk.fault.vector, X86_EXC_PF);
	CHECK_EQ(fk.fault.error, PF_USER_WRITE);
	CHECK_EQ(fk.fault.address, RAM_BASE + 0x80);
	CHECK_EQ(memcmp(&r, &before, sizeof(r)), 0);
	CHECK_EQ(fk.mmio_reads + fk.ram_writes, 0); /* the device saw nothing */
	CHECK_EQ(fk.translates, 2);
	CHECK_EQ(fk.access[0], 0);	       /* source first, as a read */
	CHECK_EQ(fk.access[1], X86_ACC_WRITE); /* then the destination */
}

TEST(string_source_fault_comes_first)
{
	struct x86_regs r;

	reset(&r);
	r.gpr[X86_RSI] = RAM_BASE + 0x10;
	r.gpr[X86_RDI] = MMIO_BASE + 0x20;
	fk.fault_page = RAM_BASE;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x20, 0xa5), X86_FAULT);
	CHECK_EQ(fk.fault.address, RAM_BASE + 0x10);
	CHECK_EQ(fk.translates, 1);
	/* STOS: only the destination, written */
	r.gpr[X86_RDI] = RAM_BASE + 0x30;
	fk.translates = 0;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x20, 0xaa), X86_FAULT);
	CHECK_EQ(fk.fault.address, RAM_BASE + 0x30);
	CHECK_EQ(fk.access[0], X86_ACC_WRITE);
}

/* One iteration per exit: a fault on the third leaves rCX, rSI, rDI and RIP at the third. */
TEST(rep_movs_faults_midway)
{
	struct x86_regs r;

	reset(&r);
	r.gpr[X86_RSI] = MMIO_BASE + 0x100;
	r.gpr[X86_RDI] = RAM_BASE + 0xffe; /* two bytes, then the next page */
	r.gpr[X86_RCX] = 5;
	fk.fault_page = RAM_BASE + 0x1000;
	fk.fault_error = PF_USER_WRITE;
	mmio_put(MMIO_BASE + 0x100, 4, 0x44332211);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x100, 0xf3, 0xa4), 0);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x101, 0xf3, 0xa4), 0);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x102, 0xf3, 0xa4), X86_FAULT);
	CHECK_EQ(fk.fault.address, RAM_BASE + 0x1000);
	CHECK_EQ(r.gpr[X86_RCX], 3);
	CHECK_EQ(r.gpr[X86_RSI], MMIO_BASE + 0x102);
	CHECK_EQ(r.gpr[X86_RDI], RAM_BASE + 0x1000);
	CHECK_EQ(r.rip, 0x401000);
	CHECK_EQ(fk.ram[0xffe], 0x11);
	CHECK_EQ(fk.ram[0xfff], 0x22);
	CHECK_EQ(fk.ram[0x1000], 0);
	CHECK_EQ(fk.mmio_reads, 2);
}

/* The ModRM operand is checked again, with the access the instruction makes. */
TEST(operand_translated_with_its_access)
{
	static const struct {
		u8 enc[3];
		u8 len;
		u32 access;
	} forms[] = {
		{ { 0x89, 0x18 }, 2, X86_ACC_WRITE },	    /* mov [rax], ebx */
		{ { 0x8b, 0x18 }, 2, 0 },		    /* mov ebx, [rax] */
		{ { 0xc6, 0x00, 0x01 }, 3, X86_ACC_WRITE }, /* mov byte [rax], 1 */
		{ { 0x0f, 0xb6, 0x18 }, 3, 0 },		    /* movzx ebx, byte [rax] */
		{ { 0x01, 0x18 }, 2, X86_ACC_WRITE },	    /* add [rax], ebx */
		{ { 0x03, 0x18 }, 2, 0 },		    /* add ebx, [rax] */
		{ { 0x39, 0x18 }, 2, 0 },		    /* cmp [rax], ebx */
		{ { 0x85, 0x18 }, 2, 0 },		    /* test [rax], ebx */
		{ { 0x87, 0x18 }, 2, X86_ACC_WRITE },	    /* xchg [rax], ebx */
	};
	struct x86_regs r, before;

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		reset(&r);
		r.gpr[X86_RAX] = MMIO_BASE + 0x10;
		CHECK_EQ(emulate(&r, L64, forms[i].enc, forms[i].len, MMIO_BASE + 0x10), 0);
		CHECK_EQ(fk.translates, 1);
		CHECK_EQ(fk.access[0], forms[i].access);
		/* the page is no longer the guest's to touch: its fault, nothing done */
		reset(&r);
		r.gpr[X86_RAX] = MMIO_BASE + 0x10;
		before = r;
		fk.fault_page = MMIO_BASE;
		fk.fault_error = X86_PF_P | X86_PF_U;
		CHECK_EQ(emulate(&r, L64, forms[i].enc, forms[i].len, MMIO_BASE + 0x10), X86_FAULT);
		CHECK_EQ(fk.fault.address, MMIO_BASE + 0x10);
		CHECK_EQ(memcmp(&r, &before, sizeof(r)), 0);
		CHECK_EQ(fk.mmio_reads + fk.mmio_writes, 0);
	}
}

/* Remapped since the exit: the CPU's translation (its TLB's) is the one used, not retried. */
TEST(operand_remapped_since_the_exit_uses_the_cpus_translation)
{
	struct x86_regs r, before;

	reset(&r);
	r.gpr[X86_RAX] = MMIO_BASE + 0x10;
	r.gpr[X86_RBX] = 0x5a5a5a5a;
	fk.xlate_add = 0x1000;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x89, 0x18), 0);
	CHECK_EQ(fk.last_gpa, MMIO_BASE + 0x10);
	CHECK_EQ(mmio_get(MMIO_BASE + 0x10, 4), 0x5a5a5a5a);
	/* a walk that cannot finish: nothing done, the guest runs it again */
	fk.xlate_add = 0;
	fk.xlate_rc = X86_RETRY;
	before = r;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x89, 0x18), X86_RETRY);
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0xf3, 0xab), X86_RETRY);
	CHECK_EQ(memcmp(&r, &before, sizeof(r)), 0);
	CHECK_EQ(fk.mmio_writes, 1);
}

/* A non-canonical address is #GP(0), or #SS(0) through SS (SDM 3A 6.15). */
TEST(noncanonical_stack_operand_is_ss)
{
	struct x86_regs r;

	reset(&r);
	r.gpr[X86_RBP] = MMIO_BASE + 0x18;
	fk.fault_page = MMIO_BASE;
	fk.fault_vector = X86_EXC_GP;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x89, 0x45, 0xf8), X86_FAULT); /* [rbp-8] */
	CHECK_EQ(fk.fault.vector, X86_EXC_SS);
	r.gpr[X86_RAX] = MMIO_BASE + 0x10;
	CHECK_EQ(EMU(&r, L64, MMIO_BASE + 0x10, 0x89, 0x18), X86_FAULT); /* [rax] */
	CHECK_EQ(fk.fault.vector, X86_EXC_GP);
}

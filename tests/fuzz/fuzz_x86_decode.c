// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for vmm/emul/x86_decode.c and vmm/emul/x86_emulate.c: decodes the
 * input in every mode from a heap buffer of exactly its size, checks the
 * decoder's invariants, then emulates what decoded against bounds-checked
 * fakes, also with one field of the decoded instruction corrupted.
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
	int device_calls; /* MMIO reads and writes */
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

static int fz_mmio_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	struct fz *f = ctx;

	(void)gpa;
	fz_check_size(size);
	f->calls++;
	f->device_calls++;
	*val = fz_next(f);
	return (*val & 0xff) == 0 ? -EIO : 0;
}

static int fz_mmio_write(void *ctx, gpa_t gpa, unsigned int size, u64 val)
{
	struct fz *f = ctx;

	(void)gpa;
	fz_check_size(size);
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
	for (int step = 0; step < FZ_MAX_STEPS; step++) {
		struct x86_regs before = r;
		struct x86_fault exc;
		int devices = f->device_calls;
		int rc = x86_emulate_mmio(&r, in, fault, &fz_ops, f, &exc);

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
	}
	free(buf);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/emul/x86_paging.c: a table of accesses through page
 * tables built in a fake guest memory, one rule of SDM 3A 4.6 / 4.7 per row,
 * then addresses, reserved bits, accessed/dirty flags and a racing writer.
 */
#include "test.h"
#include <keel/x86_paging.h>

#define PAGES 16 /* fake guest RAM at guest-physical 0 */
#define P BIT(0)
#define W BIT(1)
#define U BIT(2)
#define A BIT(5)
#define D BIT(6)
#define PS BIT(7)
#define G BIT(8)
#define XD BIT(63)
#define PKEY(k) ((u64)(k) << 59)
#define PRW (P | W)
#define PRWU (P | W | U)
#define FRAME 0x9000ULL /* 4-KiB pages map here */

/* Control-register bits the cases set (SDM 3A 2.5). */
#define CR0_PE BIT(0)
#define CR0_WP BIT(16)
#define CR0_PG BIT(31)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_LA57 BIT(12)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)
#define CR4_PKS BIT(24)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define AC BIT(18)

#define RD 0
#define WR X86_ACC_WRITE
#define EX X86_ACC_FETCH
#define IMP X86_ACC_IMPLICIT

static struct {
	u8 mem[PAGES * 4096];
	int reads, cmpxchgs;
	int fail_cmpxchg; /* fail this many compare-exchanges */
	gpa_t race_at;	  /* before the first compare-exchange, a CPU writes race_val here */
	u64 race_val;
	u32 pkru;
} fk;

static int f_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	CHECK(ctx == &fk);
	CHECK((size == 4 || size == 8) && !(gpa & (size - 1)));
	fk.reads++;
	if (gpa + size > sizeof(fk.mem))
		return -EFAULT;
	*val = 0;
	memcpy(val, fk.mem + gpa, size);
	return 0;
}

static int f_cmpxchg(void *ctx, gpa_t gpa, unsigned int size, u64 old, u64 new_val)
{
	u64 cur = 0;

	CHECK(ctx == &fk);
	CHECK(gpa + size <= sizeof(fk.mem));
	fk.cmpxchgs++;
	if (fk.race_at) {
		memcpy(fk.mem + fk.race_at, &fk.race_val, 8);
		fk.race_at = 0;
	}
	if (fk.fail_cmpxchg) {
		fk.fail_cmpxchg--;
		return -EAGAIN;
	}
	memcpy(&cur, fk.mem + gpa, size);
	if (cur != old)
		return -EAGAIN;
	memcpy(fk.mem + gpa, &new_val, size);
	return 0;
}

static u32 f_pkru(void *ctx)
{
	CHECK(ctx == &fk);
	return fk.pkru;
}

static const struct x86_paging_ops fake_mem = { f_read, f_cmpxchg, f_pkru };

enum mode { M32 = 2, MPAE = 3, M4 = 4, M5 = 5 };

/* The linear address every case translates, for its mode. */
static u64 case_linear(enum mode m)
{
	return m == M5 ? 0xff5a5f1234567abcULL : m == M4 ? 0x00007f1234567abcULL : 0x9234567cULL;
}

static u64 put(gpa_t at, unsigned int size, u64 e)
{
	memcpy(fk.mem + at, &e, size);
	return at;
}

static u64 get(gpa_t at, unsigned int size)
{
	u64 e = 0;

	memcpy(&e, fk.mem + at, size);
	return e;
}

/*
 * Builds lin's path: the table of level L at page L (the PAE PDPT at
 * 0x3000), every non-leaf entry with upper's flags (a PAE PDPTE with P
 * alone: it has no others), the leaf at leaf_level with leaf's flags and
 * frame. Returns the leaf entry's address.
 */
static gpa_t build(struct x86_paging *p, enum mode m, u64 upper, u64 leaf, int leaf_level,
		   u64 frame)
{
	unsigned int size = m == M32 ? 4 : 8;
	u64 lin = case_linear(m);
	gpa_t at = 0;

	memset(fk.mem, 0, sizeof(fk.mem));
	p->cr3 = (u64)m << 12;
	for (int level = m; level >= leaf_level; level--) {
		u32 shift = m == M32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
		u64 idx = (lin >> shift) & (m == M32		      ? 0x3ff :
					    (m == MPAE && level == 3) ? 3 :
									0x1ff);
		u64 e = level == leaf_level	  ? frame | leaf | (level > 1 ? PS : 0) :
			(m == MPAE && level == 3) ? ((u64)(level - 1) << 12) | P :
						    ((u64)(level - 1) << 12) | upper;

		at = put(((u64)level << 12) + idx * size, size, e);
	}
	return at;
}

static struct x86_paging state(enum mode m)
{
	struct x86_paging p = { .cr0 = CR0_PE | CR0_PG,
				.rflags = 2,
				.maxphyaddr = 48,
				.pse36 = true,
				.gbpages = true };

	if (m >= MPAE)
		p.cr4 |= CR4_PAE;
	if (m >= M4)
		p.efer |= EFER_LME | EFER_LMA;
	if (m == M5)
		p.cr4 |= CR4_LA57;
	return p;
}

static int walk(const struct x86_paging *p, enum mode m, u32 access, gpa_t *gpa,
		struct x86_fault *f)
{
	return x86_paging_walk(p, case_linear(m), access, &fake_mem, &fk, gpa, f);
}

struct rights_case {
	const char *what;
	enum mode mode;
	u64 cr0, cr4, efer, rflags; /* added to state() */
	u8 cpl;
	u32 access;
	u64 upper, leaf;
	int leaf_level;
	u32 pkru, pkrs;
	int error; /* the #PF error code, or -1: translated */
};

#define OK (-1)
#define F_P X86_PF_P
#define F_W X86_PF_W
#define F_U X86_PF_U
#define F_R X86_PF_RSVD
#define F_I X86_PF_I
#define F_K X86_PF_PK

/* One rule each (SDM 3A 4.6.1 access rights, 4.6.2 keys, 4.7 error code; APM2 5.6). */
static const struct rights_case rights[] = {
	/* user-mode accesses: U/S and R/W must be 1 at every level; CR0.WP does not matter */
	{ "user read, user page", M4, .cpl = 3, .access = RD, .upper = PRWU, .leaf = PRWU,
	  .error = OK },
	{ "user read, supervisor leaf", M4, .cpl = 3, .access = RD, .upper = PRWU, .leaf = PRW,
	  .error = F_P | F_U },
	{ "user read, supervisor upper", M4, .cpl = 3, .access = RD, .upper = PRW, .leaf = PRWU,
	  .error = F_P | F_U },
	{ "user write, read-only leaf", M4, .cpl = 3, .access = WR, .upper = PRWU, .leaf = P | U,
	  .error = F_P | F_W | F_U },
	{ "user write, read-only upper", M4, .cpl = 3, .access = WR, .upper = P | U, .leaf = PRWU,
	  .error = F_P | F_W | F_U },
	{ "user write, read-only, WP 0", M4, .cpl = 3, .access = WR, .upper = PRWU, .leaf = P | U,
	  .error = F_P | F_W | F_U },
	{ "user write, supervisor page", M4, .cpl = 3, .access = WR, .upper = PRWU, .leaf = PRW,
	  .error = F_P | F_W | F_U },
	{ "CPL 1 is supervisor", M4, .cpl = 1, .access = WR, .upper = PRW, .leaf = PRW,
	  .error = OK },
	/* supervisor writes: CR0.WP */
	{ "supervisor write, read-only, WP 0", M4, .access = WR, .upper = PRW, .leaf = P,
	  .error = OK },
	{ "supervisor write, read-only, WP 1", M4, .cr0 = CR0_WP, .access = WR, .upper = PRW,
	  .leaf = P, .error = F_P | F_W },
	{ "supervisor write, read-only upper, WP 1", M4, .cr0 = CR0_WP, .access = WR, .upper = P,
	  .leaf = PRW, .error = F_P | F_W },
	{ "supervisor write, user read-only, WP 1", M4, .cr0 = CR0_WP, .access = WR, .upper = PRWU,
	  .leaf = P | U, .error = F_P | F_W },
	/* SMAP: user-mode pages, EFLAGS.AC for explicit accesses, never for implicit ones */
	{ "supervisor read, user page, no SMAP", M4, .access = RD, .upper = PRWU, .leaf = PRWU,
	  .error = OK },
	{ "SMAP read, AC 0", M4, .cr4 = CR4_SMAP, .access = RD, .upper = PRWU, .leaf = PRWU,
	  .error = F_P },
	{ "SMAP write, AC 0", M4, .cr4 = CR4_SMAP, .access = WR, .upper = PRWU, .leaf = PRWU,
	  .error = F_P | F_W },
	{ "SMAP read, AC 1", M4, .cr4 = CR4_SMAP, .rflags = AC, .access = RD, .upper = PRWU,
	  .leaf = PRWU, .error = OK },
	{ "SMAP write, AC 1", M4, .cr4 = CR4_SMAP, .rflags = AC, .access = WR, .upper = PRWU,
	  .leaf = PRWU, .error = OK },
	{ "SMAP write, AC 1, read-only, WP 1", M4, .cr0 = CR0_WP, .cr4 = CR4_SMAP, .rflags = AC,
	  .access = WR, .upper = PRWU, .leaf = P | U, .error = F_P | F_W },
	{ "SMAP, supervisor page", M4, .cr4 = CR4_SMAP, .access = WR, .upper = PRWU, .leaf = PRW,
	  .error = OK },
	{ "SMAP, implicit read, AC 1", M4, .cr4 = CR4_SMAP, .rflags = AC, .access = RD | IMP,
	  .upper = PRWU, .leaf = PRWU, .error = F_P },
	{ "SMAP, implicit at CPL 3, AC 1", M4, .cr4 = CR4_SMAP, .rflags = AC, .cpl = 3,
	  .access = RD | IMP, .upper = PRWU, .leaf = PRWU, .error = F_P },
	{ "implicit at CPL 3, supervisor page", M4, .cpl = 3, .access = RD | IMP, .upper = PRW,
	  .leaf = PRW, .error = OK },
	{ "implicit write at CPL 3, read-only, WP 1", M4, .cr0 = CR0_WP, .cpl = 3,
	  .access = WR | IMP, .upper = PRW, .leaf = P, .error = F_P | F_W },
	/* fetches: XD with NXE, SMEP; I/D only with SMEP or PAE+NXE */
	{ "user fetch", M4, .efer = EFER_NXE, .cpl = 3, .access = EX, .upper = PRWU, .leaf = P | U,
	  .error = OK },
	{ "user fetch, XD leaf", M4, .efer = EFER_NXE, .cpl = 3, .access = EX, .upper = PRWU,
	  .leaf = PRWU | XD, .error = F_P | F_U | F_I },
	{ "user fetch, XD upper", M4, .efer = EFER_NXE, .cpl = 3, .access = EX, .upper = PRWU | XD,
	  .leaf = PRWU, .error = F_P | F_U | F_I },
	{ "supervisor fetch, XD", M4, .efer = EFER_NXE, .access = EX, .upper = PRW,
	  .leaf = PRW | XD, .error = F_P | F_I },
	{ "XD read is fine", M4, .efer = EFER_NXE, .access = RD, .upper = PRW, .leaf = PRW | XD,
	  .error = OK },
	{ "XD without NXE is reserved", M4, .cpl = 3, .access = EX, .upper = PRWU,
	  .leaf = PRWU | XD, .error = F_P | F_R | F_U },
	{ "user fetch, supervisor page, NXE", M4, .efer = EFER_NXE, .cpl = 3, .access = EX,
	  .upper = PRW, .leaf = PRW, .error = F_P | F_U | F_I },
	{ "user fetch, supervisor page, no NXE: no I/D", M4, .cpl = 3, .access = EX, .upper = PRW,
	  .leaf = PRW, .error = F_P | F_U },
	{ "SMEP: supervisor fetch, user page", M4, .cr4 = CR4_SMEP, .access = EX, .upper = PRWU,
	  .leaf = PRWU, .error = F_P | F_I },
	{ "no SMEP: supervisor fetch, user page", M4, .access = EX, .upper = PRWU, .leaf = PRWU,
	  .error = OK },
	{ "SMEP ignores AC", M4, .cr4 = CR4_SMEP | CR4_SMAP, .rflags = AC, .access = EX,
	  .upper = PRWU, .leaf = PRWU, .error = F_P | F_I },
	{ "SMAP does not apply to fetches", M4, .cr4 = CR4_SMAP, .access = EX, .upper = PRWU,
	  .leaf = PRWU, .error = OK },
	{ "32-bit: NXE has no I/D", M32, .efer = EFER_NXE, .cpl = 3, .access = EX, .upper = PRW,
	  .leaf = PRW, .error = F_P | F_U },
	{ "32-bit: SMEP", M32, .cr4 = CR4_SMEP, .access = EX, .upper = PRWU, .leaf = PRWU,
	  .error = F_P | F_I },
	{ "32-bit: user write, read-only", M32, .cpl = 3, .access = WR, .upper = PRWU,
	  .leaf = P | U, .error = F_P | F_W | F_U },
	{ "PAE: user fetch, XD", MPAE, .efer = EFER_NXE, .cpl = 3, .access = EX, .upper = PRWU,
	  .leaf = PRWU | XD, .error = F_P | F_U | F_I },
	{ "PAE: user read, supervisor PDE", MPAE, .cpl = 3, .access = RD, .upper = PRW,
	  .leaf = PRWU, .error = F_P | F_U },
	{ "5-level: user write, read-only upper", M5, .cpl = 3, .access = WR, .upper = P | U,
	  .leaf = PRWU, .error = F_P | F_W | F_U },
	/* not present: P = 0, the access bits still reported */
	{ "not present leaf, user write", M4, .cpl = 3, .access = WR, .upper = PRWU, .leaf = 0,
	  .error = F_W | F_U },
	{ "not present upper", M4, .access = RD, .upper = W | U, .leaf = PRW, .error = 0 },
	{ "not present, fetch, NXE", M4, .efer = EFER_NXE, .access = EX, .upper = PRW, .leaf = W,
	  .error = F_I },
	{ "not present before reserved", M4, .access = RD, .upper = PRW, .leaf = BIT(51),
	  .error = 0 },
	/* protection keys: 4/5-level only, data accesses only, PK with any other violation */
	{ "PKRU access disable", M4, .cr4 = CR4_PKE, .cpl = 3, .access = RD, .upper = PRWU,
	  .leaf = PRWU | PKEY(1), .pkru = BIT(2), .error = F_P | F_U | F_K },
	{ "PKRU other key", M4, .cr4 = CR4_PKE, .cpl = 3, .access = RD, .upper = PRWU,
	  .leaf = PRWU | PKEY(2), .pkru = BIT(2), .error = OK },
	{ "PKRU without CR4.PKE", M4, .cpl = 3, .access = RD, .upper = PRWU, .leaf = PRWU | PKEY(1),
	  .pkru = BIT(2), .error = OK },
	{ "PKRU write disable, user", M4, .cr4 = CR4_PKE, .cpl = 3, .access = WR, .upper = PRWU,
	  .leaf = PRWU | PKEY(1), .pkru = BIT(3), .error = F_P | F_W | F_U | F_K },
	{ "PKRU write disable, read", M4, .cr4 = CR4_PKE, .cpl = 3, .access = RD, .upper = PRWU,
	  .leaf = PRWU | PKEY(1), .pkru = BIT(3), .error = OK },
	{ "PKRU write disable, supervisor, WP 0", M4, .cr4 = CR4_PKE, .access = WR, .upper = PRWU,
	  .leaf = PRWU | PKEY(1), .pkru = BIT(3), .error = OK },
	{ "PKRU write disable, supervisor, WP 1", M4, .cr0 = CR0_WP, .cr4 = CR4_PKE, .access = WR,
	  .upper = PRWU, .leaf = PRWU | PKEY(1), .pkru = BIT(3), .error = F_P | F_W | F_K },
	{ "PKRU access disable, supervisor", M4, .cr4 = CR4_PKE, .access = RD, .upper = PRWU,
	  .leaf = PRWU | PKEY(15), .pkru = BIT(30), .error = F_P | F_K },
	{ "PKRU and read-only together", M4, .cr4 = CR4_PKE, .cpl = 3, .access = WR, .upper = PRWU,
	  .leaf = P | U | PKEY(1), .pkru = BIT(3), .error = F_P | F_W | F_U | F_K },
	{ "PKRU ignores fetches", M4, .cr4 = CR4_PKE, .cpl = 3, .access = EX, .upper = PRWU,
	  .leaf = PRWU | PKEY(1), .pkru = BIT(2), .error = OK },
	{ "PKRU ignores supervisor pages", M4, .cr4 = CR4_PKE, .access = RD, .upper = PRW,
	  .leaf = PRW | PKEY(1), .pkru = BIT(2), .error = OK },
	{ "PKS access disable", M4, .cr4 = CR4_PKS, .access = RD, .upper = PRW,
	  .leaf = PRW | PKEY(2), .pkrs = BIT(4), .error = F_P | F_K },
	{ "PKS write disable, WP 1", M4, .cr0 = CR0_WP, .cr4 = CR4_PKS, .access = WR, .upper = PRW,
	  .leaf = PRW | PKEY(2), .pkrs = BIT(5), .error = F_P | F_W | F_K },
	{ "PKS, user access: a plain U/S fault", M4, .cr4 = CR4_PKS, .cpl = 3, .access = RD,
	  .upper = PRWU, .leaf = PRW | PKEY(2), .pkrs = BIT(4), .error = F_P | F_U },
	{ "PAE: key bits are reserved", MPAE, .cr4 = CR4_PKE, .cpl = 3, .access = RD, .upper = PRWU,
	  .leaf = PRWU | PKEY(1), .pkru = BIT(2), .error = F_P | F_U | F_R },
};

static void run_rights_case(const struct rights_case *c)
{
	struct x86_paging p = state(c->mode);
	struct x86_fault f = { 0, 0, 0 };
	gpa_t gpa = 0;
	int rc, level = c->leaf_level ? c->leaf_level : 1;

	p.cr0 |= c->cr0;
	p.cr4 |= c->cr4;
	p.efer |= c->efer;
	p.rflags |= c->rflags;
	p.cpl = c->cpl;
	fk.pkru = c->pkru;
	p.pkrs = c->pkrs;
	build(&p, c->mode, c->upper, c->leaf, level, FRAME);
	rc = walk(&p, c->mode, c->access, &gpa, &f);
	if (c->error == OK) {
		if (rc != 0 || gpa != (FRAME | (case_linear(c->mode) & 0xfff)))
			fprintf(stderr, "  case \"%s\": rc %d error %x\n", c->what, rc, f.error);
		CHECK_EQ(rc, 0);
		CHECK_EQ(gpa, FRAME | (case_linear(c->mode) & 0xfff));
		return;
	}
	if (rc != X86_FAULT || f.error != (u32)c->error)
		fprintf(stderr, "  case \"%s\": rc %d error %x, want %x\n", c->what, rc, f.error,
			c->error);
	CHECK_EQ(rc, X86_FAULT);
	CHECK_EQ(f.vector, X86_EXC_PF);
	CHECK_EQ(f.error, c->error);
	CHECK_EQ(f.address, c->mode >= M4 ? case_linear(c->mode) : (u32)case_linear(c->mode));
}

TEST(access_rights_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(rights); i++)
		run_rights_case(&rights[i]);
}

static int walk_leaf(enum mode m, struct x86_paging *p, u64 leaf, int level, u64 frame, gpa_t *gpa,
		     struct x86_fault *f)
{
	build(p, m, PRW, leaf, level, frame);
	return walk(p, m, RD, gpa, f);
}

TEST(page_sizes_and_addresses)
{
	struct x86_paging p = state(M4);
	struct x86_fault f;
	u64 lin = case_linear(M4);
	gpa_t gpa;

	CHECK_EQ(walk_leaf(M4, &p, PRW, 1, 0x123456000ULL, &gpa, &f), 0);
	CHECK_EQ(gpa, 0x123456000ULL | (lin & 0xfff));
	CHECK_EQ(walk_leaf(M4, &p, PRW | BIT(12), 2, 0x40000000ULL, &gpa, &f), 0); /* PAT bit */
	CHECK_EQ(gpa, 0x40000000ULL | (lin & (2 * MiB - 1)));
	CHECK_EQ(walk_leaf(M4, &p, PRW, 3, 0x7c0000000ULL, &gpa, &f), 0);
	CHECK_EQ(gpa, 0x7c0000000ULL | (lin & (GiB - 1)));
	p = state(M5);
	CHECK_EQ(walk_leaf(M5, &p, PRW, 1, 0x5000, &gpa, &f), 0);
	CHECK_EQ(gpa, 0x5000 | (case_linear(M5) & 0xfff));
	p = state(MPAE);
	CHECK_EQ(walk_leaf(MPAE, &p, PRW, 2, 0x80200000ULL, &gpa, &f), 0);
	CHECK_EQ(gpa, 0x80200000ULL | (case_linear(MPAE) & (2 * MiB - 1)));
	/* 32-bit: 4-MiB pages with CR4.PSE, PSE-36 address bits 39:32 in PDE bits 20:13 */
	p = state(M32);
	p.cr4 |= CR4_PSE;
	p.maxphyaddr = 40;
	CHECK_EQ(walk_leaf(M32, &p, PRW | (0xabULL << 13), 2, 0x12c00000ULL, &gpa, &f), 0);
	CHECK_EQ(gpa, 0xab12c00000ULL | (case_linear(M32) & (4 * MiB - 1)));
	/* without CR4.PSE the PS bit is ignored: the PDE names a page table */
	p.cr4 &= ~CR4_PSE;
	build(&p, M32, PRW, PRW | PS, 2, 0x1000);
	put(0x1000 + ((case_linear(M32) >> 12) & 0x3ff) * 4, 4, FRAME | PRW);
	CHECK_EQ(walk(&p, M32, RD, &gpa, &f), 0);
	CHECK_EQ(gpa, FRAME | (case_linear(M32) & 0xfff));
	/* paging off: linear is physical, 32 bits of it */
	p = state(M32);
	p.cr0 = CR0_PE;
	CHECK_EQ(x86_paging_walk(&p, 0x1234567812345678ULL, WR, &fake_mem, &fk, &gpa, &f), 0);
	CHECK_EQ(gpa, 0x12345678);
	/* PCID bits of CR3 are no part of the address */
	p = state(M4);
	build(&p, M4, PRW, PRW, 1, FRAME);
	p.cr3 |= 0xabc;
	CHECK_EQ(walk(&p, M4, RD, &gpa, &f), 0);
}

static int rsvd(enum mode m, struct x86_paging *p, u64 upper, u64 leaf, int level)
{
	struct x86_fault f = { 0, 0, 0 };
	gpa_t gpa;
	int rc;

	build(p, m, upper, leaf, level, level == 3 ? 0x40000000ULL : level == 2 ? 0x400000 : FRAME);
	rc = walk(p, m, RD, &gpa, &f);
	return rc == X86_FAULT ? (int)f.error : rc == 0 ? OK : rc;
}

/* SDM 3A tables 4-4 to 4-20, APM2 5.3.3: the RSVD flag and where each mode has reserved bits. */
TEST(reserved_bits)
{
	struct x86_paging p = state(M4);

	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(47), 1), OK); /* MAXPHYADDR 48 */
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(48), 1), F_P | F_R);
	CHECK_EQ(rsvd(M4, &p, PRW | BIT(51), PRW, 1), F_P | F_R);
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(52) | BIT(58), 1), OK); /* ignored bits */
	CHECK_EQ(rsvd(M4, &p, PRW | PS, PRW, 1), F_P | F_R);	     /* PS in PML4E */
	CHECK_EQ(rsvd(M4, &p, PRW | G, PRW, 1), OK);		     /* Intel: ignored */
	p.amd = true;
	CHECK_EQ(rsvd(M4, &p, PRW | G, PRW, 1), F_P | F_R); /* AMD: MBZ in PML4Es */
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | G, 1), OK);	    /* not in leaves */
	p.amd = false;
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(13), 2), F_P | F_R); /* 2-MiB page: 20:13 */
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(20), 2), F_P | F_R);
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(12), 2), OK);	  /* PAT */
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(29), 3), F_P | F_R); /* 1-GiB page: 29:13 */
	p.gbpages = false;
	CHECK_EQ(rsvd(M4, &p, PRW, PRW, 3), F_P | F_R); /* no 1-GiB pages: PS reserved */
	p = state(M4);
	p.maxphyaddr = 52;
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(51), 1), OK);
	p.maxphyaddr = 36;
	CHECK_EQ(rsvd(M4, &p, PRW, PRW | BIT(36), 1), F_P | F_R);
	p.efer |= EFER_NXE;
	CHECK_EQ(rsvd(M4, &p, PRW | XD, PRW | XD, 1), OK);
	p = state(M5);
	CHECK_EQ(rsvd(M5, &p, PRW | PS, PRW, 1), F_P | F_R); /* PS in PML5E (and PML4E) */
	/* PAE: 62:M reserved; PDPTEs reserve 63:M, 8:5 and 2:1 */
	p = state(MPAE);
	p.maxphyaddr = 36;
	CHECK_EQ(rsvd(MPAE, &p, PRW, PRW | BIT(52), 1), F_P | F_R);
	CHECK_EQ(rsvd(MPAE, &p, PRW, PRW | BIT(35), 1), OK);
	CHECK_EQ(rsvd(MPAE, &p, PRW, PRW | BIT(63), 1), F_P | F_R); /* XD without NXE */
	build(&p, MPAE, PRW, PRW, 1, FRAME);
	for (int bit = 0; bit < 64; bit++) {
		gpa_t pdpte = 0x3000 + ((case_linear(MPAE) >> 30) & 3) * 8, gpa;
		struct x86_fault f = { 0, 0, 0 };
		u64 was = get(pdpte, 8);
		bool reserved = bit >= 36 || bit == 1 || bit == 2 || (bit >= 5 && bit <= 8);
		int rc;

		if (bit == 0 || (bit >= 12 && bit < 36))
			continue;
		put(pdpte, 8, was | BIT(bit));
		rc = walk(&p, MPAE, RD, &gpa, &f);
		CHECK_EQ(rc, reserved ? X86_FAULT : 0);
		CHECK_EQ(reserved ? f.error : 0, reserved ? F_P | F_R : 0);
		put(pdpte, 8, was);
	}
	/* 32-bit: no reserved bits but in 4-MiB PDEs: bit 21, and (M-20):13 above MAXPHYADDR */
	p = state(M32);
	CHECK_EQ(rsvd(M32, &p, PRW, PRW | BIT(63) | BIT(20), 1), OK); /* 4 bytes: bit 63 is not */
	p.cr4 |= CR4_PSE;
	p.maxphyaddr = 36;
	CHECK_EQ(rsvd(M32, &p, PRW, PRW | BIT(21), 2), F_P | F_R);
	CHECK_EQ(rsvd(M32, &p, PRW, PRW | BIT(16), 2), OK); /* address bit 35 */
	CHECK_EQ(rsvd(M32, &p, PRW, PRW | BIT(17), 2), F_P | F_R);
	p.pse36 = false;
	CHECK_EQ(rsvd(M32, &p, PRW, PRW | BIT(13), 2), F_P | F_R);
}

TEST(accessed_and_dirty_flags)
{
	struct x86_paging p = state(M4);
	struct x86_fault f;
	gpa_t gpa, leaf = build(&p, M4, PRW, PRW, 1, FRAME);
	u64 lin = case_linear(M4);

	CHECK_EQ(walk(&p, M4, RD, &gpa, &f), 0);
	for (int level = 4; level >= 1; level--) {
		gpa_t at = ((u64)level << 12) + ((lin >> (12 + 9 * (level - 1))) & 0x1ff) * 8;

		CHECK_EQ(get(at, 8) & (A | D), A);
	}
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), 0);
	CHECK_EQ(get(leaf, 8) & (A | D), A | D);
	fk.cmpxchgs = 0;
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), 0);
	CHECK_EQ(fk.cmpxchgs, 0); /* nothing left to set */
	/* a faulting access changes nothing */
	p.cr0 |= CR0_WP;
	leaf = build(&p, M4, PRW, P, 1, FRAME);
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), X86_FAULT);
	CHECK_EQ(get(leaf, 8), FRAME | P);
	CHECK_EQ(get(0x4000 + ((lin >> 39) & 0x1ff) * 8, 8) & A, 0);
	/* a 2-MiB page: dirty in the PDE that maps it, not in the tables above */
	leaf = build(&p, M4, PRW, PRW, 2, 0x40000000ULL);
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), 0);
	CHECK_EQ(get(leaf, 8) & (A | D), A | D);
	CHECK_EQ(get(0x3000 + ((lin >> 30) & 0x1ff) * 8, 8) & (A | D), A);
	/* PAE: PDPTEs have no accessed flag (bits 8:5 are reserved) */
	p = state(MPAE);
	build(&p, MPAE, PRW, PRW, 1, FRAME);
	CHECK_EQ(walk(&p, MPAE, WR, &gpa, &f), 0);
	CHECK_EQ(get(0x3000 + ((case_linear(MPAE) >> 30) & 3) * 8, 8), 0x2000 | P);
	/* 32-bit: 4-byte entries, the next entry untouched */
	p = state(M32);
	leaf = build(&p, M32, PRW, PRW, 1, FRAME);
	put(leaf + 4, 4, 0x12345678);
	CHECK_EQ(walk(&p, M32, WR, &gpa, &f), 0);
	CHECK_EQ(get(leaf, 4), FRAME | PRW | A | D);
	CHECK_EQ(get(leaf + 4, 4), 0x12345678);
}

/* Another vCPU changes an entry between the walk and the flag update: walk again (4.8). */
TEST(racing_writer)
{
	struct x86_paging p = state(M4);
	struct x86_fault f = { 0, 0, 0 };
	gpa_t gpa, leaf = build(&p, M4, PRW, PRW, 1, FRAME);

	fk.fail_cmpxchg = 2;
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), 0);
	CHECK_EQ(get(leaf, 8) & (A | D), A | D);
	/* the writer unmaps the page: the next walk sees it */
	leaf = build(&p, M4, PRW, PRW, 1, FRAME);
	fk.race_at = leaf;
	fk.race_val = 0;
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), X86_FAULT);
	CHECK_EQ(f.error, F_W);
	/* ... or makes it read-only for a user write */
	p.cpl = 3;
	leaf = build(&p, M4, PRWU, PRWU, 1, FRAME);
	fk.race_at = leaf;
	fk.race_val = FRAME | P | U;
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), X86_FAULT);
	CHECK_EQ(f.error, F_P | F_W | F_U);
	/* a writer that never stops: the walk gives up rather than spin */
	build(&p, M4, PRWU, PRWU, 1, FRAME);
	fk.fail_cmpxchg = 1000;
	CHECK_EQ(walk(&p, M4, WR, &gpa, &f), -EAGAIN);
	fk.fail_cmpxchg = 0;
}

TEST(canonical_and_outside_ram)
{
	struct x86_paging p = state(M4);
	struct x86_fault f = { 0, 0, 0 };
	gpa_t gpa;

	build(&p, M4, PRW, PRW, 1, FRAME);
	CHECK_EQ(x86_paging_walk(&p, 0x0000800000000000ULL, RD, &fake_mem, &fk, &gpa, &f),
		 X86_FAULT);
	CHECK_EQ(f.vector, X86_EXC_GP);
	CHECK_EQ(f.error, 0);
	CHECK_EQ(x86_paging_walk(&p, 0xffff7fffffffffffULL, RD, &fake_mem, &fk, &gpa, &f),
		 X86_FAULT);
	CHECK_EQ(f.vector, X86_EXC_GP);
	p = state(M5); /* 57 bits: the 4-level hole is canonical here */
	build(&p, M5, PRW, 0, 1, FRAME);
	CHECK_EQ(x86_paging_walk(&p, 0x0000800000000000ULL, RD, &fake_mem, &fk, &gpa, &f),
		 X86_FAULT);
	CHECK_EQ(f.vector, X86_EXC_PF);
	CHECK_EQ(x86_paging_walk(&p, 0x0100000000000000ULL, RD, &fake_mem, &fk, &gpa, &f),
		 X86_FAULT);
	CHECK_EQ(f.vector, X86_EXC_GP);
	/* a table outside guest RAM: not a #PF, the caller decides */
	p = state(M4);
	build(&p, M4, PRW, PRW, 1, FRAME);
	p.cr3 = 0x100000;
	CHECK_EQ(walk(&p, M4, RD, &gpa, &f), -EFAULT);
}

/* A PML4 entry that names the PML4 (a recursive map): one entry at every level, one walk. */
TEST(self_mapping_table)
{
	struct x86_paging p = state(M4);
	struct x86_fault f;
	u64 idx = 0x1ed,
	    lin = 0xffff000000000000ULL | idx << 39 | idx << 30 | idx << 21 | idx << 12;
	gpa_t gpa, self = 0x4000 + idx * 8;

	memset(fk.mem, 0, sizeof(fk.mem));
	p.cr3 = 0x4000;
	put(self, 8, 0x4000 | PRW);
	fk.cmpxchgs = fk.reads = 0;
	CHECK_EQ(x86_paging_walk(&p, lin | 0x18, WR, &fake_mem, &fk, &gpa, &f), 0);
	CHECK_EQ(gpa, 0x4018);
	CHECK_EQ(get(self, 8), 0x4000 | PRW | A | D);
	CHECK_EQ(fk.reads, 4);	  /* not walked again */
	CHECK_EQ(fk.cmpxchgs, 2); /* A as a PML4E, D as the PTE */
}

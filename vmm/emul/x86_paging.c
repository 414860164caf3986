// SPDX-License-Identifier: MIT
/*
 * A guest's linear-address translation as the CPU performs it for an access:
 * the walk of all five paging modes (SDM 3A 4.3-4.5, APM2 5.2-5.4), the
 * reserved-bit checks, the access rights of 4.6 (U/S, R/W with CR0.WP, SMEP,
 * SMAP with EFLAGS.AC, XD with EFER.NXE, protection keys), the page-fault
 * error code of 4.7 and the accessed and dirty flags of 4.8. Freestanding:
 * host-tested and fuzzed against an independent reference walk.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/paging.h>
#include <keel/x86_paging.h>

#define X86_PAGING_MAX_LEVELS 5
#define X86_PAGING_RETRIES 4  /* walks restarted when an entry changes under the A/D update */
#define X86_PTE_PKEY_SHIFT 59 /* bits 62:59 of a leaf entry: its protection key (SDM 3A 4.6.2) */
#define X86_PTE_32_ADDR 0xfffff000ULL  /* 32-bit paging: bits 31:12 of a PTE or PDE (table 4-6) */
#define X86_PDE_4M_ADDR 0xffc00000ULL  /* 32-bit paging: bits 31:22 of a 4-MiB page (table 4-4) */
#define X86_PDE_4M_HIGH_SHIFT 13       /* ... and bits 39:32 of it in bits 20:13 (PSE-36) */
#define X86_CR3_PAE_ADDR 0xffffffe0ULL /* PAE: the PDPT's address, CR3 bits 31:5 (4.4.1) */
#define X86_PSE36_MAX_BITS 40	       /* 4-MiB pages reach at most 40 address bits (4.3) */

enum x86_paging_mode { MODE_NONE, MODE_32, MODE_PAE, MODE_4, MODE_5 };

/* What one walk used, top level first. */
struct x86_walk {
	gpa_t at[X86_PAGING_MAX_LEVELS];
	u64 entry[X86_PAGING_MAX_LEVELS];
	int used;
	bool user;     /* U/S = 1 in every entry that has one */
	bool writable; /* R/W = 1 in every entry that has one */
	bool nx;       /* XD = 1 in some entry (with EFER.NXE) */
	gpa_t gpa;
};

static enum x86_paging_mode x86_paging_mode(const struct x86_paging *p)
{
	if (!(p->cr0 & CR0_PG))
		return MODE_NONE;
	if (p->efer & EFER_LMA)
		return (p->cr4 & CR4_LA57) ? MODE_5 : MODE_4;
	return (p->cr4 & CR4_PAE) ? MODE_PAE : MODE_32;
}

static int x86_levels(enum x86_paging_mode m)
{
	static const int levels[] = { [MODE_32] = 2, [MODE_PAE] = 3, [MODE_4] = 4, [MODE_5] = 5 };

	return levels[m];
}

static u32 x86_phys_bits(const struct x86_paging *p)
{
	return MIN(MAX(p->maxphyaddr, 32u), 52u);
}

/* Bits that must be 0 in entry e at level (SDM 3A tables 4-4 to 4-20; APM2 5.3.3, 5.4.1). */
static u64 x86_reserved(const struct x86_paging *p, enum x86_paging_mode m, int level, u64 e)
{
	u32 mpa = x86_phys_bits(p);
	bool ps = e & PTE_PS;
	u64 r;

	if (m == MODE_32) {
		u32 m4 = p->pse36 ? MIN(mpa, (u32)X86_PSE36_MAX_BITS) : 32;

		/* a 4-MiB page: bits 21:(M-19) reserved, (M-20):13 are address bits 39:32 */
		return level == 2 && ps && (p->cr4 & CR4_PSE) ? GENMASK(21, m4 - 19) : 0;
	}
	if (m == MODE_PAE && level == 3) /* PDPTE: 63:M, 8:5, 2:1 (table 4-8) */
		return GENMASK(63, mpa) | GENMASK(8, 5) | GENMASK(2, 1);
	r = (m == MODE_PAE ? GENMASK(62, mpa) : GENMASK(51, mpa)) |
	    ((p->efer & EFER_NXE) ? 0 : PTE_NX);
	if (level >= 4) /* PML5E, PML4E: PS; and G on AMD */
		return r | PTE_PS | (p->amd ? PTE_G : 0);
	if (level == 3 && ps) /* a 1-GiB page, where there are any */
		return r | (p->gbpages ? GENMASK(29, 13) : PTE_PS);
	if (level == 2 && ps)
		return r | GENMASK(20, 13);
	return r;
}

/* A page of this level: a PTE, or a PDE or PDPTE with PS (32-bit PDEs only with CR4.PSE). */
static bool x86_is_leaf(const struct x86_paging *p, enum x86_paging_mode m, int level, u64 e)
{
	if (level == 1)
		return true;
	if (!(e & PTE_PS) || level > 3 || (m == MODE_PAE && level == 3))
		return false;
	return m != MODE_32 || (p->cr4 & CR4_PSE);
}

/* The linear-address bits below a level's index: 1024-entry tables in 32-bit paging, 512 else. */
static u32 x86_shift(enum x86_paging_mode m, int level)
{
	return PAGE_SHIFT + (m == MODE_32 ? 10 : 9) * (u32)(level - 1);
}

static u32 x86_index(enum x86_paging_mode m, int level, u64 lin)
{
	u32 mask = m == MODE_32 ? 0x3ff : (m == MODE_PAE && level == 3) ? 3 : 0x1ff;

	return (u32)(lin >> x86_shift(m, level)) & mask;
}

/* Where entry e points: the next table, or (leaf) the page that holds lin. */
static gpa_t x86_next(enum x86_paging_mode m, int level, u64 e, bool leaf, u64 lin)
{
	u64 span = 1ULL << x86_shift(m, level);
	u64 base;

	if (m == MODE_32 && level == 2 && leaf)
		base = (e & X86_PDE_4M_ADDR) | (((e >> X86_PDE_4M_HIGH_SHIFT) & 0xff) << 32);
	else if (m == MODE_32)
		base = e & X86_PTE_32_ADDR;
	else
		base = e & PTE_ADDR_MASK;
	return leaf ? (base & ~(span - 1)) | (lin & (span - 1)) : base;
}

static gpa_t x86_root(const struct x86_paging *p, enum x86_paging_mode m)
{
	if (m == MODE_32)
		return p->cr3 & X86_PTE_32_ADDR;
	if (m == MODE_PAE)
		return p->cr3 & X86_CR3_PAE_ADDR;
	return p->cr3 & GENMASK(x86_phys_bits(p) - 1, PAGE_SHIFT); /* no PCID or LAM bits */
}

/* The error bits the access itself contributes (4.7): W, U, and I/D where it is defined. */
static u32 x86_access_error(const struct x86_paging *p, enum x86_paging_mode m, u32 access)
{
	u32 err = 0;

	if (access & X86_ACC_WRITE)
		err |= X86_PF_W;
	if (p->cpl == 3 && !(access & X86_ACC_IMPLICIT))
		err |= X86_PF_U;
	if ((access & X86_ACC_FETCH) &&
	    ((p->cr4 & CR4_SMEP) || (m >= MODE_PAE && (p->efer & EFER_NXE))))
		err |= X86_PF_I;
	return err;
}

/*
 * Walks without changing anything: 0 with w filled, X86_FAULT with the #PF's
 * P and RSVD bits in *err (a non-present entry or a reserved bit ends it).
 */
static int x86_walk(const struct x86_paging *p, enum x86_paging_mode m, u64 lin,
		    const struct x86_paging_ops *ops, void *ctx, struct x86_walk *w, u32 *err)
{
	unsigned int size = m == MODE_32 ? 4 : 8;
	gpa_t table = x86_root(p, m);

	*w = (struct x86_walk){ .user = true, .writable = true };
	for (int level = x86_levels(m); level >= 1; level--) {
		gpa_t at = table + x86_index(m, level, lin) * size;
		bool leaf, rights = !(m == MODE_PAE && level == 3); /* PAE PDPTEs have none */
		u64 e;

		if (ops->read(ctx, at, size, &e))
			return -EFAULT;
		w->at[w->used] = at;
		w->entry[w->used++] = e;
		if (!(e & PTE_P))
			return X86_FAULT;
		if (e & x86_reserved(p, m, level, e)) {
			*err = X86_PF_P | X86_PF_RSVD;
			return X86_FAULT;
		}
		w->user &= !rights || (e & PTE_U);
		w->writable &= !rights || (e & PTE_W);
		w->nx |= rights && m != MODE_32 && (p->efer & EFER_NXE) && (e & PTE_NX);
		leaf = x86_is_leaf(p, m, level, e);
		table = x86_next(m, level, e, leaf, lin);
		if (leaf)
			break;
	}
	w->gpa = table;
	return 0;
}

/* A protection-key violation of a data access (4.6.2): only with 4- or 5-level paging. */
static bool x86_pkey_denies(const struct x86_paging *p, enum x86_paging_mode m, u32 access,
			    const struct x86_walk *w, const struct x86_paging_ops *ops, void *ctx)
{
	bool user = p->cpl == 3 && !(access & X86_ACC_IMPLICIT);
	u64 key = (w->entry[w->used - 1] >> X86_PTE_PKEY_SHIFT) & 0xf;
	u32 rights;

	if (m < MODE_4 || (access & X86_ACC_FETCH))
		return false;
	if (w->user && (p->cr4 & CR4_PKE))
		rights = ops->pkru(ctx);
	else if (!w->user && !user && (p->cr4 & CR4_PKS))
		rights = p->pkrs;
	else
		return false;
	rights >>= 2 * key; /* bit 0: access disable, bit 1: write disable */
	if (rights & 1)
		return true;
	return (access & X86_ACC_WRITE) && (rights & 2) && (user || (p->cr0 & CR0_WP));
}

/* Whether the translated access breaks the access rights of 4.6.1 (APM2 5.6). */
static bool x86_rights_deny(const struct x86_paging *p, u32 access, const struct x86_walk *w)
{
	bool user = p->cpl == 3 && !(access & X86_ACC_IMPLICIT);
	bool write = access & X86_ACC_WRITE;

	if (access & X86_ACC_FETCH) {
		if (w->nx)
			return true;
		return user ? !w->user : w->user && (p->cr4 & CR4_SMEP);
	}
	if (user)
		return !w->user || (write && !w->writable);
	/* SMAP: explicit accesses at CPL < 3 pass with EFLAGS.AC; implicit ones never */
	if (w->user && (p->cr4 & CR4_SMAP) &&
	    ((access & X86_ACC_IMPLICIT) || !(p->rflags & RFLAGS_AC)))
		return true;
	return write && !w->writable && (p->cr0 & CR0_WP);
}

/*
 * Sets A in every entry used, and D in the leaf for a write (4.8): 0, -EAGAIN
 * or -EFAULT. An entry the walk used twice (a table that maps itself) is
 * expected to hold what the first update left there.
 */
static int x86_set_ad(enum x86_paging_mode m, u32 access, const struct x86_walk *w,
		      const struct x86_paging_ops *ops, void *ctx)
{
	unsigned int size = m == MODE_32 ? 4 : 8;
	u64 now[X86_PAGING_MAX_LEVELS];

	for (int i = 0; i < w->used; i++) {
		u64 old = w->entry[i], want;
		int rc;

		for (int j = 0; j < i; j++)
			if (w->at[j] == w->at[i])
				old = now[j];
		want = old | PTE_A;
		if (i == w->used - 1 && (access & X86_ACC_WRITE))
			want |= PTE_D;
		if (m == MODE_PAE && i == 0)
			want = old; /* PDPTEs have no accessed flag */
		now[i] = want;
		if (want == old)
			continue;
		rc = ops->cmpxchg(ctx, w->at[i], size, old, want);
		if (rc)
			return rc;
	}
	return 0;
}

/* Canonical: bits 63:47 (63:56 with LA57) all equal (SDM 3A 4.5.1; 3.3.7.1 of vol. 1). */
static bool x86_canonical(enum x86_paging_mode m, u64 lin)
{
	u32 bits = m == MODE_5 ? 57 : 48;

	return (u64)((s64)(lin << (64 - bits)) >> (64 - bits)) == lin;
}

int x86_paging_walk(const struct x86_paging *p, u64 lin, u32 access,
		    const struct x86_paging_ops *ops, void *ctx, gpa_t *gpa,
		    struct x86_fault *fault)
{
	enum x86_paging_mode m = x86_paging_mode(p);
	struct x86_walk w;

	if (m == MODE_NONE) {
		*gpa = lin & 0xffffffff;
		return 0;
	}
	if (m >= MODE_4 && !x86_canonical(m, lin)) {
		*fault = (struct x86_fault){ X86_EXC_GP, 0, 0 };
		return X86_FAULT;
	}
	if (m < MODE_4)
		lin &= 0xffffffff;
	for (int tries = 0; tries < X86_PAGING_RETRIES; tries++) {
		u32 err = 0;
		int rc = x86_walk(p, m, lin, ops, ctx, &w, &err);

		if (!rc) {
			bool pk = x86_pkey_denies(p, m, access, &w, ops, ctx);

			/* PK is reported with any other violation of the same access (4.7) */
			if (pk || x86_rights_deny(p, access, &w))
				err = X86_PF_P | (pk ? X86_PF_PK : 0), rc = X86_FAULT;
		}
		if (rc == X86_FAULT) {
			*fault = (struct x86_fault){ X86_EXC_PF,
						     err | x86_access_error(p, m, access), lin };
			return X86_FAULT;
		}
		if (!rc)
			rc = x86_set_ad(m, access, &w, ops, ctx);
		if (rc == -EAGAIN)
			continue;
		if (!rc)
			*gpa = w.gpa;
		return rc;
	}
	return -EAGAIN;
}

// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for vmm/emul/x86_paging.c: builds random guest page tables
 * in a fake guest memory, with random control registers, CPL and access, and
 * compares Keel's walk (translation, or fault and error code, and the
 * accessed/dirty flags it leaves) with the small reference walk below, which
 * is written apart from Keel's from the SDM's text: reserved bits one bit at
 * a time from tables 4-4 to 4-20, access rights as the list of 4.6.1 reads.
 */
#include <keel/x86_paging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_PAGES 16 /* fake guest RAM at guest-physical 0 */
#define FZ_MEM (FZ_PAGES * 4096)

/* --- the input: bytes while they last, then a generator seeded by them --- */
struct fz_in {
	const u8 *data;
	size_t left;
	u64 rng;
};

static u64 fz_u64(struct fz_in *in, unsigned int bytes)
{
	u64 v = 0;

	for (unsigned int i = 0; i < bytes; i++) {
		u8 b;

		if (in->left) {
			b = *in->data++;
			in->left--;
		} else {
			u64 z = (in->rng += 0x9e3779b97f4a7c15ULL);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			b = (u8)(z ^ (z >> 31));
		}
		v |= (u64)b << (8 * i);
	}
	return v;
}

/* --- the reference walk --- */
enum ref_mode { R_OFF, R_32, R_PAE, R_4, R_5 };
enum ref_kind {
	K_PML5E,
	K_PML4E,
	K_PDPTE,
	K_PDPTE_1G,
	K_PDPTE_PAE,
	K_PDE,
	K_PDE_2M,
	K_PDE32,
	K_PDE32_4M,
	K_PTE,
	K_PTE32
};

struct ref {
	const struct x86_paging *p;
	enum ref_mode mode;
	u8 *mem;
	u32 pkru;
};

static bool ref_bit(u64 v, int b)
{
	return (v >> b) & 1;
}

static enum ref_mode ref_mode(const struct x86_paging *p)
{
	if (!ref_bit(p->cr0, 31))
		return R_OFF; /* CR0.PG */
	if (ref_bit(p->efer, 10))
		return ref_bit(p->cr4, 12) ? R_5 : R_4; /* EFER.LMA, CR4.LA57 */
	return ref_bit(p->cr4, 5) ? R_PAE : R_32;	/* CR4.PAE */
}

/* Whether bit b of an entry of this kind is reserved (must be 0). */
static bool ref_reserved_bit(const struct ref *r, enum ref_kind k, int b)
{
	const struct x86_paging *p = r->p;
	int maxpa = p->maxphyaddr < 32 ? 32 : p->maxphyaddr > 52 ? 52 : p->maxphyaddr;
	bool nxe = ref_bit(p->efer, 11);

	switch (k) {
	case K_PTE32:
	case K_PDE32:
		return false;
	case K_PDE32_4M: { /* table 4-4: bits 20:13 are address bits 39:32, bit 21 reserved */
		int width = !p->pse36 ? 32 : maxpa > 40 ? 40 : maxpa;

		return b == 21 || (b >= 13 && b <= 20 && b - 13 + 32 >= width);
	}
	case K_PDPTE_PAE: /* table 4-8 */
		return b >= maxpa || b == 1 || b == 2 || (b >= 5 && b <= 8);
	default:
		break;
	}
	if (b == 63 && !nxe)
		return true;
	if (r->mode == R_PAE && b >= maxpa && b <= 62) /* tables 4-9 to 4-11 */
		return true;
	if (r->mode != R_PAE && b >= maxpa && b <= 51) /* tables 4-14 to 4-20 */
		return true;
	switch (k) {
	case K_PML5E:
	case K_PML4E: /* PS; and on AMD bit 8 too (APM2 figure 5-18) */
		return b == 7 || (b == 8 && p->amd);
	case K_PDPTE_1G:
		return p->gbpages ? b >= 13 && b <= 29 : b == 7;
	case K_PDE_2M:
		return b >= 13 && b <= 20;
	default:
		return false;
	}
}

static bool ref_reserved(const struct ref *r, enum ref_kind k, u64 e)
{
	for (int b = 0; b < 64; b++)
		if (ref_bit(e, b) && ref_reserved_bit(r, k, b))
			return true;
	return false;
}

/* The kind of entry at a level (1 = PTE) given its PS bit. */
static enum ref_kind ref_kind(const struct ref *r, int level, u64 e)
{
	bool ps = ref_bit(e, 7);

	if (r->mode == R_32)
		return level == 1 ? K_PTE32 : ps && ref_bit(r->p->cr4, 4) ? K_PDE32_4M : K_PDE32;
	if (level == 5)
		return K_PML5E;
	if (level == 4)
		return K_PML4E;
	if (level == 3)
		return r->mode == R_PAE ? K_PDPTE_PAE : ps ? K_PDPTE_1G : K_PDPTE;
	if (level == 2)
		return ps ? K_PDE_2M : K_PDE;
	return K_PTE;
}

static bool ref_is_page(enum ref_kind k)
{
	return k == K_PTE || k == K_PTE32 || k == K_PDE_2M || k == K_PDE32_4M || k == K_PDPTE_1G;
}

/* The address bits of an entry: the next table or the page frame. */
static u64 ref_frame(enum ref_kind k, u64 e)
{
	switch (k) {
	case K_PTE32:
	case K_PDE32:
		return e & 0xfffff000;
	case K_PDE32_4M:
		return (e & 0xffc00000) + (((e >> 13) & 0xff) << 32);
	case K_PDE_2M:
		return ((e >> 21) & ((1ULL << 31) - 1)) << 21;
	case K_PDPTE_1G:
		return ((e >> 30) & ((1ULL << 22) - 1)) << 30;
	default:
		return ((e >> 12) & ((1ULL << 40) - 1)) << 12;
	}
}

static u64 ref_page_size(enum ref_kind k)
{
	return k == K_PDPTE_1G ? 1ULL << 30 :
	       k == K_PDE32_4M ? 4ULL << 20 :
	       k == K_PDE_2M   ? 2ULL << 20 :
				 4096;
}

/* The linear-address bits that index the table at a level. */
static u64 ref_index(const struct ref *r, int level, u64 lin)
{
	if (r->mode == R_32)
		return level == 2 ? (lin >> 22) & 1023 : (lin >> 12) & 1023;
	if (r->mode == R_PAE && level == 3)
		return (lin >> 30) & 3;
	return (lin >> (12 + 9 * (level - 1))) & 511;
}

static int ref_levels(const struct ref *r)
{
	return r->mode == R_32 ? 2 : r->mode == R_PAE ? 3 : r->mode == R_4 ? 4 : 5;
}

static u64 ref_top(const struct ref *r)
{
	int maxpa = r->p->maxphyaddr < 32 ? 32 : r->p->maxphyaddr > 52 ? 52 : r->p->maxphyaddr;

	if (r->mode == R_32)
		return r->p->cr3 & 0xfffff000;
	if (r->mode == R_PAE)
		return r->p->cr3 & 0xffffffe0;
	return r->p->cr3 & ((1ULL << maxpa) - 1) & ~0xfffULL;
}

struct ref_result {
	int rc; /* 0, X86_FAULT or -EFAULT */
	gpa_t gpa;
	struct x86_fault fault;
	/*
	 * A PAE PDPTE that is also a lower entry of the same walk: setting that
	 * entry's accessed flag sets a reserved bit of the PDPTE, and Keel's
	 * re-walk after the update sees it where the CPU, which holds PDPTEs in
	 * registers (SDM 3A 4.4.1), would not. Not compared.
	 */
	bool pdpte_alias;
};

/* Access rights (SDM 3A 4.6.1), as its list reads. */
static bool ref_allowed(const struct ref *r, u32 acc, bool user_addr, bool rw_all, bool xd_any)
{
	const struct x86_paging *p = r->p;
	bool supervisor = p->cpl < 3 || (acc & X86_ACC_IMPLICIT);
	bool smap = ref_bit(p->cr4, 21), smep = ref_bit(p->cr4, 20), wp = ref_bit(p->cr0, 16);
	bool ac = ref_bit(p->rflags, 18), explicit_acc = !(acc & X86_ACC_IMPLICIT);
	bool xd_applies = r->mode != R_32 && ref_bit(p->efer, 11);
	bool exec_ok = !(xd_applies && xd_any);

	if (supervisor) {
		if (acc & X86_ACC_FETCH)
			return user_addr ? !smep && exec_ok : exec_ok;
		if (acc & X86_ACC_WRITE) {
			if (user_addr && smap && !(explicit_acc && p->cpl < 3 && ac))
				return false;
			return !wp || rw_all;
		}
		if (user_addr && smap)
			return explicit_acc && p->cpl < 3 && ac;
		return true;
	}
	if (acc & X86_ACC_FETCH)
		return user_addr && exec_ok;
	if (acc & X86_ACC_WRITE)
		return user_addr && rw_all;
	return user_addr;
}

/* Protection keys (SDM 3A 4.6.2): whether the rights registers refuse this data access. */
static bool ref_pkey_refuses(const struct ref *r, u32 acc, bool user_addr, u64 leaf)
{
	const struct x86_paging *p = r->p;
	bool user_access = p->cpl == 3 && !(acc & X86_ACC_IMPLICIT);
	unsigned int key = (unsigned int)((leaf >> 59) & 15);
	bool ad, wd;

	if ((r->mode != R_4 && r->mode != R_5) || (acc & X86_ACC_FETCH))
		return false;
	if (user_addr && ref_bit(p->cr4, 22)) {
		ad = ref_bit(r->pkru, 2 * key);
		wd = ref_bit(r->pkru, 2 * key + 1);
	} else if (!user_addr && !user_access && ref_bit(p->cr4, 24)) {
		ad = ref_bit(p->pkrs, 2 * key);
		wd = ref_bit(p->pkrs, 2 * key + 1);
	} else {
		return false;
	}
	if (ad)
		return true;
	return (acc & X86_ACC_WRITE) && wd && (user_access || ref_bit(p->cr0, 16));
}

static u32 ref_error(const struct ref *r, u32 acc)
{
	const struct x86_paging *p = r->p;
	u32 e = 0;

	if (acc & X86_ACC_WRITE)
		e |= 2;
	if (p->cpl == 3 && !(acc & X86_ACC_IMPLICIT))
		e |= 4;
	/* I/D: a fetch, with SMEP or with PAE-style paging and NXE */
	if ((acc & X86_ACC_FETCH) &&
	    (ref_bit(p->cr4, 20) || (ref_bit(p->cr4, 5) && ref_bit(p->efer, 11))))
		e |= 16;
	return e;
}

static bool ref_read(const struct ref *r, u64 gpa, unsigned int size, u64 *e)
{
	if (gpa >= FZ_MEM || gpa + size > FZ_MEM)
		return false;
	*e = 0;
	memcpy(e, r->mem + gpa, size);
	return true;
}

static struct ref_result ref_fault(const struct ref *r, u32 acc, u32 bits, u64 lin)
{
	return (struct ref_result){ .rc = X86_FAULT,
				    .fault = { 14, bits | ref_error(r, acc), lin } };
}

static struct ref_result ref_walk(const struct x86_paging *p, u32 pkru, u8 *mem, u64 lin, u32 acc)
{
	struct ref r = { p, ref_mode(p), mem, pkru };
	unsigned int size = r.mode == R_32 ? 4 : 8;
	u64 table, used[5], e = 0;
	bool user_addr = true, rw_all = true, xd_any = false;
	int n = 0, level;
	enum ref_kind k = K_PTE;

	if (r.mode == R_OFF)
		return (struct ref_result){ .gpa = (u32)lin };
	if (r.mode == R_4 || r.mode == R_5) {
		int top = r.mode == R_5 ? 56 : 47;

		for (int b = top + 1; b < 64; b++)
			if (ref_bit(lin, b) != ref_bit(lin, top))
				return (struct ref_result){ .rc = X86_FAULT,
							    .fault = { 13, 0, 0 } };
	} else {
		lin = (u32)lin;
	}
	table = ref_top(&r);
	for (level = ref_levels(&r); level >= 1; level--) {
		used[n] = table + ref_index(&r, level, lin) * size;
		if (!ref_read(&r, used[n], size, &e))
			return (struct ref_result){ .rc = -EFAULT };
		n++;
		if (!ref_bit(e, 0))
			return ref_fault(&r, acc, 0, lin);
		k = ref_kind(&r, level, e);
		if (ref_reserved(&r, k, e))
			return ref_fault(&r, acc, 1 | 8, lin);
		if (k != K_PDPTE_PAE) {
			user_addr = user_addr && ref_bit(e, 2);
			rw_all = rw_all && ref_bit(e, 1);
			xd_any = xd_any || ref_bit(e, 63);
		}
		table = ref_frame(k, e);
		if (ref_is_page(k))
			break;
	}
	{
		bool pk = ref_pkey_refuses(&r, acc, user_addr, e);

		if (pk || !ref_allowed(&r, acc, user_addr, rw_all, xd_any))
			return ref_fault(&r, acc, 1 | (pk ? 32 : 0), lin);
	}
	/* accessed in every entry used (not PAE PDPTEs, which have none), dirty in the page's */
	for (int i = 1; i < n && r.mode == R_PAE; i++)
		if (used[i] == used[0])
			return (struct ref_result){ .pdpte_alias = true };
	for (int i = 0; i < n; i++) {
		u64 v;

		if (r.mode == R_PAE && i == 0)
			continue;
		ref_read(&r, used[i], size, &v);
		v |= 1ULL << 5;
		if (i == n - 1 && (acc & X86_ACC_WRITE))
			v |= 1ULL << 6;
		memcpy(mem + used[i], &v, size);
	}
	return (struct ref_result){ .gpa = table + (lin & (ref_page_size(k) - 1)) };
}

/* --- Keel's walk over the same memory --- */
struct fz_mem {
	u8 *mem;
	u32 pkru;
	int pkru_reads;
	int fail_cmpxchg; /* this many compare-exchanges fail as if another CPU wrote first */
	int reads;
};

static int fz_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	struct fz_mem *m = ctx;

	if ((size != 4 && size != 8) || (gpa & (size - 1)))
		__builtin_trap();
	if (++m->reads > 64)
		__builtin_trap(); /* a walk reads at most five entries per try */
	if (gpa >= FZ_MEM)
		return -EFAULT;
	*val = 0;
	memcpy(val, m->mem + gpa, size);
	return 0;
}

static int fz_cmpxchg(void *ctx, gpa_t gpa, unsigned int size, u64 old, u64 new_val)
{
	struct fz_mem *m = ctx;
	u64 cur = 0;

	if ((size != 4 && size != 8) || (gpa & (size - 1)) || gpa >= FZ_MEM)
		__builtin_trap(); /* only entries it has read */
	if (m->fail_cmpxchg) {
		m->fail_cmpxchg--;
		return -EAGAIN;
	}
	memcpy(&cur, m->mem + gpa, size);
	if (cur != old)
		return -EAGAIN;
	memcpy(m->mem + gpa, &new_val, size);
	return 0;
}

static u32 fz_pkru(void *ctx)
{
	struct fz_mem *m = ctx;

	m->pkru_reads++;
	return m->pkru;
}

static const struct x86_paging_ops fz_ops = { fz_read, fz_cmpxchg, fz_pkru };

/* --- building the case --- */
static const u8 fz_phys_bits[] = { 32, 36, 39, 40, 43, 46, 48, 52 };

static void fz_state(struct fz_in *in, struct x86_paging *p, u32 *pkru)
{
	u64 c = fz_u64(in, 4), mode = c & 7;

	memset(p, 0, sizeof(*p));
	p->cr0 = (mode ? BIT(31) | BIT(0) : BIT(0)) | ((c & BIT(3)) ? BIT(16) : 0);
	p->cr4 = ((c & BIT(4)) ? BIT(4) : 0) | ((c & BIT(5)) ? BIT(20) : 0) |
		 ((c & BIT(6)) ? BIT(21) : 0) | ((c & BIT(7)) ? BIT(22) : 0) |
		 ((c & BIT(8)) ? BIT(24) : 0);
	if (mode >= 2)
		p->cr4 |= BIT(5); /* PAE */
	if (mode >= 3) {
		p->efer |= BIT(8) | BIT(10); /* LME, LMA */
		if (mode >= 5)
			p->cr4 |= BIT(12); /* LA57 (modes 5-7) */
	}
	if (c & BIT(9))
		p->efer |= BIT(11); /* NXE */
	p->rflags = 2 | ((c & BIT(10)) ? BIT(18) : 0);
	p->cpl = (c & BIT(11)) ? 3 : (u8)((c >> 12) & 3);
	p->amd = c & BIT(14);
	p->gbpages = c & BIT(15);
	p->pse36 = c & BIT(16);
	p->maxphyaddr = fz_phys_bits[(c >> 17) & 7];
	if (c & BIT(20))
		p->maxphyaddr = (u8)((c >> 21) & 63); /* anything, out of range included */
	*pkru = (c & BIT(27)) ? (u32)fz_u64(in, 4) : 0;
	p->pkrs = (c & BIT(28)) ? (u32)fz_u64(in, 4) : 0;
}

/* An entry pointing at one of the fake pages, flags and stray high bits from the input. */
static u64 fz_entry(struct fz_in *in)
{
	u64 f = fz_u64(in, 2), e = ((f >> 12) & (FZ_PAGES - 1)) << 12;

	e |= f & 0xfff;
	if (f & BIT(15)) /* sometimes junk anywhere above: reserved bits, XD, keys, far frames */
		e ^= fz_u64(in, 8) & fz_u64(in, 8) & ~0xfffULL;
	return e;
}

/* Writes entries along lin's path, through whatever tables the entries name. */
static void fz_plant(struct fz_in *in, const struct x86_paging *p, u8 *mem, u64 lin)
{
	struct ref r = { p, ref_mode(p), mem, 0 };
	unsigned int size = r.mode == R_32 ? 4 : 8;
	u64 table;

	if (r.mode == R_OFF)
		return;
	if (r.mode < R_4)
		lin = (u32)lin;
	table = ref_top(&r);
	for (int level = ref_levels(&r); level >= 1; level--) {
		u64 at = table + ref_index(&r, level, lin) * size, e = fz_entry(in);

		if (at + size > FZ_MEM)
			return;
		memcpy(mem + at, &e, size);
		if (ref_is_page(ref_kind(&r, level, e)))
			return;
		table = r.mode == R_32 ? e & 0xfffff000 : e & 0xffffffffff000ULL;
	}
}

static u64 fz_linear(struct fz_in *in, const struct x86_paging *p)
{
	u64 lin = fz_u64(in, 8);

	/* mostly canonical in long mode, so the walk gets somewhere */
	if ((p->efer & BIT(10)) && (fz_u64(in, 1) & 7)) {
		int bits = (p->cr4 & BIT(12)) ? 57 : 48;

		lin = (u64)((s64)(lin << (64 - bits)) >> (64 - bits));
	}
	return lin;
}

static void fz_mismatch(const char *what, const struct x86_paging *p, u32 pkru, u64 lin, u32 acc,
			const struct ref_result *want, int rc, gpa_t gpa, const struct x86_fault *f)
{
	fprintf(stderr,
		"x86_paging mismatch (%s): cr0 %llx cr3 %llx cr4 %llx efer %llx rflags %llx cpl %u "
		"maxpa %u amd %d 1g %d pse36 %d pkru %x pkrs %x lin %llx access %x\n"
		"  reference rc %d gpa %llx fault %u/%x/%llx; keel rc %d gpa %llx fault %u/%x/%llx\n",
		what, (unsigned long long)p->cr0, (unsigned long long)p->cr3,
		(unsigned long long)p->cr4, (unsigned long long)p->efer,
		(unsigned long long)p->rflags, p->cpl, p->maxphyaddr, p->amd, p->gbpages, p->pse36,
		pkru, p->pkrs, (unsigned long long)lin, acc, want->rc,
		(unsigned long long)want->gpa, want->fault.vector, want->fault.error,
		(unsigned long long)want->fault.address, rc, (unsigned long long)gpa, f->vector,
		f->error, (unsigned long long)f->address);
	__builtin_trap();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 mem_ref[FZ_MEM], mem_keel[FZ_MEM];
	struct fz_in in = { data, size, size };
	struct x86_paging p;
	struct x86_fault f = { 0, 0, 0 };
	struct ref_result want;
	struct fz_mem m;
	u32 acc, pkru;
	u64 lin, fill;
	gpa_t gpa = 0;
	int rc;

	for (size_t i = 0; i < size; i++)
		in.rng = in.rng * 131 + data[i];
	fz_state(&in, &p, &pkru);
	acc = (u32)fz_u64(&in, 1) & (X86_ACC_WRITE | X86_ACC_FETCH | X86_ACC_IMPLICIT);
	if (acc & X86_ACC_FETCH) /* fetches are neither writes nor implicit */
		acc = X86_ACC_FETCH;
	p.cr3 = (fz_u64(&in, 1) & (FZ_PAGES - 1)) << 12 | (fz_u64(&in, 2) & 0xfe0);
	fill = fz_u64(&in, 8);
	for (size_t i = 0; i < FZ_MEM; i += 8) { /* background: zero, or entries everywhere */
		u64 e = 0;

		if (fill & 1) {
			fill ^= fill << 13, fill ^= fill >> 7, fill ^= fill << 17; /* xorshift64 */
			e = fill & (0xfff0000000000fffULL | ((FZ_PAGES - 1ULL) << 12));
		}
		memcpy(mem_ref + i, &e, 8);
	}
	lin = fz_linear(&in, &p);
	fz_plant(&in, &p, mem_ref, lin);
	memcpy(mem_keel, mem_ref, FZ_MEM);
	m = (struct fz_mem){ .mem = mem_keel,
			     .pkru = pkru,
			     .fail_cmpxchg = (int)(fz_u64(&in, 1) % 8) - 4 };
	if (m.fail_cmpxchg < 0)
		m.fail_cmpxchg = 0;
	if (m.fail_cmpxchg == 3)
		m.fail_cmpxchg = 1000; /* another CPU that never stops writing */

	want = ref_walk(&p, pkru, mem_ref, lin, acc);
	rc = x86_paging_walk(&p, lin, acc, &fz_ops, &m, &gpa, &f);
	/* PKRU is read only where it can matter: the guest's is live in the CPU, reading it costs */
	if (m.pkru_reads && (!(p.efer & BIT(10)) || !(p.cr4 & BIT(22)) || (acc & X86_ACC_FETCH)))
		fz_mismatch("PKRU read for nothing", &p, pkru, lin, acc, &want, rc, gpa, &f);
	if (want.pdpte_alias)
		return 0;
	if (m.fail_cmpxchg >= 900 && want.rc == 0 && memcmp(mem_ref, mem_keel, FZ_MEM)) {
		/* the entries needed A/D updates that never went through: the walk gives up */
		if (rc != -EAGAIN)
			fz_mismatch("endless interference", &p, m.pkru, lin, acc, &want, rc, gpa,
				    &f);
		return 0;
	}
	if (rc != want.rc)
		fz_mismatch("result", &p, m.pkru, lin, acc, &want, rc, gpa, &f);
	if (rc == 0 && gpa != want.gpa)
		fz_mismatch("address", &p, m.pkru, lin, acc, &want, rc, gpa, &f);
	if (rc == X86_FAULT && (f.vector != want.fault.vector || f.error != want.fault.error ||
				f.address != want.fault.address))
		fz_mismatch("fault", &p, m.pkru, lin, acc, &want, rc, gpa, &f);
	if (memcmp(mem_ref, mem_keel, FZ_MEM))
		fz_mismatch("accessed/dirty flags", &p, m.pkru, lin, acc, &want, rc, gpa, &f);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Test guest: string port I/O. INS and OUTS of 1, 2 and 4 bytes, with and
 * without REP, DF=0 and DF=1, across page boundaries, through 4 KiB page
 * tables of its own over 2-4 MiB: the fw_cfg data port as a stream (against
 * byte-wise IN), the test device's scratch port (pc-testdev on QEMU), COM1
 * for lines the harness reads, a 64 KiB REP, a not-present and a read-only
 * page (#PF with CR2 and error code, RCX/RSI/RDI where it stopped, then
 * finishing), a linear page mapped elsewhere, the 0x67 prefix and an FS
 * override. Passes on QEMU with -device pc-testdev too.
 */
#include "../lib/guest.h"
#include <lib/string.h>

const char test_name[] = "strio";

#define FW_SEL 0x510
#define FW_DATA 0x511
#define KEY_FILE_DIR 0x19
#define COM1 0x3f8
#define MSR_FS_BASE 0xc0000100
#define CR0_WP (1ULL << 16)
#define PTE_P 1ULL
#define PTE_W 2ULL
#define REGION 0x200000ULL /* 2-4 MiB: mapped by pt[] in 4 KiB pages */
#define BUF ((u8 *)(REGION + 0x1000))
#define REF ((u8 *)(REGION + 0x100000))

extern u64 pd[];
static u64 pt[512] __attribute__((aligned(4096)));

struct sregs {
	u64 ptr, count;
};

/* One string instruction with DF set as asked; returns rSI/rDI and rCX after it. */
#define STRING_OP(name, insn, ptr_reg)                                             \
	static struct sregs name(u16 port, u64 ptr, u64 count, bool df)            \
	{                                                                          \
		__asm__ volatile("test %[df], %[df]; jz 1f; std; 1: " insn "; cld" \
				 : "+" ptr_reg(ptr), "+c"(count)                   \
				 : "d"(port), [df] "r"((u64)df)                    \
				 : "memory", "cc");                                \
		return (struct sregs){ ptr, count };                               \
	}
STRING_OP(rep_insb, "rep insb", "D")
STRING_OP(rep_insw, "rep insw", "D")
STRING_OP(rep_insl, "rep insl", "D")
STRING_OP(rep_outsb, "rep outsb", "S")
STRING_OP(rep_outsw, "rep outsw", "S")
STRING_OP(rep_outsl, "rep outsl", "S")
STRING_OP(one_insb, "insb", "D")
STRING_OP(one_insw, "insw", "D")
STRING_OP(one_insl, "insl", "D")
STRING_OP(one_outsb, "outsb", "S")
STRING_OP(one_outsw, "outsw", "S")
STRING_OP(one_outsl, "outsl", "S")

typedef struct sregs (*string_fn)(u16 port, u64 ptr, u64 count, bool df);
static const string_fn rep_in[5] = { [1] = rep_insb, [2] = rep_insw, [4] = rep_insl };
static const string_fn rep_out[5] = { [1] = rep_outsb, [2] = rep_outsw, [4] = rep_outsl };
static const string_fn one_in[5] = { [1] = one_insb, [2] = one_insw, [4] = one_insl };
static const string_fn one_out[5] = { [1] = one_outsb, [2] = one_outsw, [4] = one_outsl };

static void invlpg(u64 a)
{
	__asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
}

static void map_region(void)
{
	u64 cr3;

	for (u32 i = 0; i < 512; i++)
		pt[i] = (REGION + i * 4096) | PTE_P | PTE_W;
	pd[1] = (u64)pt | PTE_P | PTE_W;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

static void set_pte(u64 lin, u64 val)
{
	pt[(lin - REGION) / 4096] = val;
	invlpg(lin);
}

static u64 elem(const u8 *p, u32 size)
{
	u64 v = 0;

	memcpy(&v, p, size);
	return v;
}

static u32 mask(u32 size)
{
	return size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;
}

/* fw_cfg's file directory through rep insb, forwards and backwards, against inb one by one. */
static void fwcfg_stream(void)
{
	u32 n, i, base;
	struct sregs r;

	outw(FW_SEL, KEY_FILE_DIR);
	for (i = 0; i < 4; i++)
		REF[i] = inb(FW_DATA);
	n = 4 + 64 * ((u32)REF[0] << 24 | (u32)REF[1] << 16 | (u32)REF[2] << 8 | REF[3]);
	CHECK(n > 4 && n < 0x10000);
	outw(FW_SEL, KEY_FILE_DIR);
	for (i = 0; i < n; i++)
		REF[i] = inb(FW_DATA);
	memset(BUF, 0x5a, 0x2000 + n);
	outw(FW_SEL, KEY_FILE_DIR);
	r = rep_insb(FW_DATA, (u64)BUF + 0xff0 - 0x40, n,
		     false); /* from 0x50 bytes before a page */
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (u64)BUF + 0xff0 - 0x40 + n);
	CHECK(!memcmp(BUF + 0xff0 - 0x40, REF, n));
	CHECK_EQ(BUF[0xff0 - 0x41], 0x5a);
	CHECK_EQ(BUF[0xff0 - 0x40 + n], 0x5a);
	memset(BUF, 0x5a, 0x2000 + n);
	outw(FW_SEL, KEY_FILE_DIR);
	base = 0x2000 - n / 2; /* down, across the page at BUF + 0x2000 */
	r = rep_insb(FW_DATA, (u64)BUF + base + n - 1, n, true);
	CHECK_EQ(r.ptr, (u64)BUF + base - 1);
	for (i = 0; i < n; i++)
		CHECK_EQ(BUF[base + n - 1 - i], REF[i]);
	CHECK_EQ(BUF[base - 1], 0x5a);
	CHECK_EQ(BUF[base + n], 0x5a);
	gprintf("fwcfg: rep insb of the %u-byte file directory across a page boundary matches inb, "
		"DF=0 and DF=1\n",
		n);
}

/* Element k (may be negative) of size bytes from start. */
static u8 *at(u64 start, long k, u32 size)
{
	return (u8 *)(start + (u64)(k * (long)size));
}

/* OUTS of each size, one element at a time and with REP, up and down; INS fills with the scratch value. */
static void scratch_sizes(void)
{
	for (u32 size = 1; size <= 4; size *= 2) {
		u64 start = (u64)BUF + 0x1000 - 3 * size; /* elements 3 and on: the next page */
		struct sregs r;

		for (u32 i = 0; i < 0x4000; i++)
			BUF[0x800 + i] = (u8)(i * 7 + size);
		for (long i = 0; i < 6; i++) {
			r = one_out[size](TESTDEV_SCRATCH_PORT, (u64)at(start, i, size), 99, false);
			CHECK_EQ(r.ptr, (u64)at(start, i + 1, size));
			CHECK_EQ(r.count, 99);
			CHECK_EQ(inl(TESTDEV_SCRATCH_PORT) & mask(size),
				 elem(at(start, i, size), size));
			r = one_out[size](TESTDEV_SCRATCH_PORT, (u64)at(start, i, size), 99, true);
			CHECK_EQ(r.ptr, (u64)at(start, i - 1, size));
		}
		r = rep_out[size](TESTDEV_SCRATCH_PORT, (u64)at(start, -500, size), 1000, false);
		CHECK_EQ(r.count, 0);
		CHECK_EQ(r.ptr, (u64)at(start, 500, size));
		CHECK_EQ(inl(TESTDEV_SCRATCH_PORT) & mask(size), elem(at(start, 499, size), size));
		r = rep_out[size](TESTDEV_SCRATCH_PORT, (u64)at(start, 499, size), 1000, true);
		CHECK_EQ(r.ptr, (u64)at(start, -501, size));
		CHECK_EQ(inl(TESTDEV_SCRATCH_PORT) & mask(size), elem(at(start, -500, size), size));
		outl(TESTDEV_SCRATCH_PORT, 0xa1b2c3d4);
		memset(BUF, 0x5a, 0x2000);
		r = rep_in[size](TESTDEV_SCRATCH_PORT, (u64)at(start, -2, size), 6, false);
		CHECK_EQ(r.ptr, (u64)at(start, 4, size));
		for (long i = -2; i < 4; i++)
			CHECK_EQ(elem(at(start, i, size), size), 0xa1b2c3d4 & mask(size));
		CHECK_EQ(*at(start, 4, size), 0x5a);
		CHECK_EQ(*(at(start, -2, size) - 1), 0x5a);
		memset(BUF, 0x5a, 0x2000);
		r = one_in[size](TESTDEV_SCRATCH_PORT, start, 7, true);
		CHECK_EQ(r.ptr, (u64)at(start, -1, size));
		CHECK_EQ(r.count, 7);
		CHECK_EQ(elem((u8 *)start, size), 0xa1b2c3d4 & mask(size));
		CHECK_EQ(*at(start, 1, size), 0x5a);
		CHECK_EQ(*(at(start, 0, size) - 1), 0x5a);
		r = rep_in[size](TESTDEV_SCRATCH_PORT, (u64)at(start, 3, size), 6, true);
		CHECK_EQ(r.ptr, (u64)at(start, -3, size));
		CHECK_EQ(elem(at(start, -2, size), size), 0xa1b2c3d4 & mask(size));
		CHECK_EQ(elem(at(start, 3, size), size), 0xa1b2c3d4 & mask(size));
		CHECK_EQ(*at(start, 4, size), 0x5a);
		CHECK_EQ(*(at(start, -2, size) - 1), 0x5a);
	}
	gprintf("scratch: ins and outs of 1, 2 and 4 bytes, one and rep, DF=0 and DF=1, across a "
		"page boundary\n");
}

/* Lines the harness reads, sent with rep outsb from a buffer across a page boundary. */
static void com1_lines(void)
{
	static const char up[] = "outsb: this line went out through rep outsb, DF=0\n";
	static const char down[] = "outsb: this line went out through rep outsb, DF=1\n";
	u32 n = sizeof(up) - 1;
	u8 *p = BUF + 0x1000 - 20;
	struct sregs r;

	memcpy(p, up, n);
	r = rep_outsb(COM1, (u64)p, n, false);
	CHECK_EQ(r.count, 0);
	for (u32 i = 0; i < n; i++)
		p[n - 1 - i] = (u8)down[i];
	r = rep_outsb(COM1, (u64)p + n - 1, n, true);
	CHECK_EQ(r.ptr, (u64)p - 1);
}

static void long_rep(void)
{
	struct sregs r;

	outl(TESTDEV_SCRATCH_PORT, 0x77);
	memset(BUF, 0, 0x10000 + 16);
	r = rep_insb(TESTDEV_SCRATCH_PORT, (u64)BUF, 0x10000, false);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (u64)BUF + 0x10000);
	for (u32 i = 0; i < 0x10000; i++)
		if (BUF[i] != 0x77)
			CHECK_EQ(i, 0x10000);
	CHECK_EQ(BUF[0x10000], 0);
	for (u32 i = 0; i < 100000; i++)
		((u32 *)BUF)[i] = i * 3;
	r = rep_outsl(TESTDEV_SCRATCH_PORT, (u64)BUF, 100000, false);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(inl(TESTDEV_SCRATCH_PORT), 99999 * 3);
	gprintf("long rep: 65536-byte rep insb and 100000-dword rep outsl complete\n");
}

/* --- faults --- */
static volatile u64 pf_cr2, pf_error, pf_rip, pf_rcx, pf_ptr, pf_scratch, pf_count;
static u64 pf_fix_lin, pf_fix_pte;

static void on_pf(struct gframe *f)
{
	u64 cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	pf_cr2 = cr2;
	pf_error = f->error;
	pf_rip = f->rip;
	pf_rcx = f->rcx;
	pf_ptr = f->rsi == 0x1234 ? f->rdi : f->rsi;
	pf_scratch = inl(TESTDEV_SCRATCH_PORT);
	pf_count++;
	set_pte(pf_fix_lin, pf_fix_pte);
}

static void page_faults(void)
{
	u64 page = REGION + 0x5000, cr0, rsi, rdi, rcx, rip_outs, rip_ins;

	trap_set(14, on_pf);
	for (u32 i = 0; i < 8; i++)
		((u32 *)(page - 16))[i] = 0xf00 + i;
	set_pte(page, 0); /* not present */
	pf_fix_lin = page;
	pf_fix_pte = page | PTE_P | PTE_W;
	rsi = page - 16;
	rcx = 8;
	__asm__ volatile("lea 1f(%%rip), %0; 1: rep outsl" /* from 4 elements before the page */
			 : "=&r"(rip_outs), "+S"(rsi), "+c"(rcx)
			 : "d"(TESTDEV_SCRATCH_PORT)
			 : "memory");
	CHECK_EQ(pf_count, 1);
	CHECK_EQ(pf_cr2, page);
	CHECK_EQ(pf_error, 0); /* a read of a page not present, supervisor */
	CHECK_EQ(pf_rip, rip_outs);
	CHECK_EQ(pf_rcx, 4);
	CHECK_EQ(pf_ptr, page);
	CHECK_EQ(pf_scratch, 0xf03);
	CHECK_EQ(rcx, 0);
	CHECK_EQ(inl(TESTDEV_SCRATCH_PORT), 0xf07);
	/* a read-only page under CR0.WP: INS faults with P|W */
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	memset((u8 *)page - 8, 0, 16);
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | CR0_WP));
	set_pte(page, page | PTE_P);
	outl(TESTDEV_SCRATCH_PORT, 0xbeef);
	rdi = page - 8;
	rcx = 4;
	rsi = 0x1234; /* tells on_pf that rdi is the pointer */
	__asm__ volatile("lea 1f(%%rip), %0; 1: rep insl"
			 : "=&r"(rip_ins), "+D"(rdi), "+c"(rcx), "+S"(rsi)
			 : "d"(TESTDEV_SCRATCH_PORT)
			 : "memory");
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
	CHECK_EQ(pf_count, 2);
	CHECK_EQ(pf_cr2, page);
	CHECK_EQ(pf_error, 3); /* P | W */
	CHECK_EQ(pf_rip, rip_ins);
	CHECK_EQ(pf_rcx, 2);
	CHECK_EQ(pf_ptr, page);
	CHECK_EQ(rcx, 0);
	CHECK_EQ(((u32 *)page)[1], 0xbeef);
	trap_set(14, NULL);
	gprintf("pf: rep outsl and rep insl stop at the page with CR2 %llx and error codes 0 and 3, "
		"rcx 4 and 2 left, and finish once it is mapped\n",
		(unsigned long long)page);
}

/* INS across into a linear page mapped onto another guest-physical page. */
static void remapped(void)
{
	u64 lin = REGION + 0x7000, phys = REGION + 0x100000;
	struct sregs r;

	memset((u8 *)lin, 0, 8);
	memset((u8 *)phys, 0, 8);
	set_pte(lin, phys | PTE_P | PTE_W);
	outl(TESTDEV_SCRATCH_PORT, 0x5150);
	r = rep_insw(TESTDEV_SCRATCH_PORT, lin - 4, 4, false);
	CHECK_EQ(r.ptr, lin + 4);
	CHECK_EQ(((u16 *)phys)[0], 0x5150);
	CHECK_EQ(((u16 *)phys)[1], 0x5150);
	CHECK_EQ(((u16 *)phys)[2], 0);
	set_pte(lin, lin | PTE_P | PTE_W);
	CHECK_EQ(((u16 *)lin)[0], 0); /* its own page stayed as it was */
	gprintf("paging: rep insw across into a linear page mapped elsewhere wrote guest-physical "
		"%llx\n",
		(unsigned long long)phys);
}

/* 0x67 in 64-bit mode: ESI and ECX, written back zero-extended; an FS override adds FS's base. */
static void prefixes(void)
{
	u64 rsi = 0xffffffff00000000ULL | (u64)BUF, rcx = 0x100000010ULL;

	for (u32 i = 0; i < 32; i++)
		BUF[i] = (u8)(0x40 + i);
	__asm__ volatile("addr32 rep outsb"
			 : "+S"(rsi), "+c"(rcx)
			 : "d"(TESTDEV_SCRATCH_PORT)
			 : "memory");
	CHECK_EQ(rsi, (u64)BUF + 16);
	CHECK_EQ(rcx, 0);
	CHECK_EQ(inb(TESTDEV_SCRATCH_PORT), 0x4f);
	gprintf("addr32: rep outsb used esi and ecx and cleared their upper halves\n");
	wrmsr(MSR_FS_BASE, (u64)BUF);
	rsi = 20;
	rcx = 3;
	__asm__ volatile("rep outsb %%fs:(%%rsi), (%%dx)"
			 : "+S"(rsi), "+c"(rcx)
			 : "d"(TESTDEV_SCRATCH_PORT)
			 : "memory");
	wrmsr(MSR_FS_BASE, 0);
	CHECK_EQ(rsi, 23);
	CHECK_EQ(inb(TESTDEV_SCRATCH_PORT), 0x40 + 22);
	gprintf("segment: rep outsb with an FS override read from FS's base\n");
}

void test_main(void)
{
	map_region();
	fwcfg_stream();
	scratch_sizes();
	com1_lines();
	long_rep();
	page_faults();
	remapped();
	prefixes();
}

// SPDX-License-Identifier: MIT
/*
 * Test guest: every instruction form Linux uses on MMIO, run once on RAM and
 * once on the test device's MMIO page (which the hypervisor must decode and
 * emulate); results, flags and memory must agree.
 */
#include "../lib/guest.h"
#include <lib/string.h>

const char test_name[] = "mmio";

#define ARITH_FLAGS 0x8d5 /* CF PF AF ZF SF OF */
#define LOGIC_FLAGS 0x8c5 /* AF is undefined after logic ops */

struct res {
	u64 reg, flags, mem0, mem1;
};

static u8 ram[4096] __attribute__((aligned(4096)));
static u8 *const dev = (u8 *)TESTDEV_MMIO;
static u32 cases;

#define FORM(name, body)                                                                        \
	static struct res name(u8 *p, u64 reg)                                                  \
	{                                                                                       \
		u64 fl;                                                                         \
		__asm__ volatile(body "\n\tpushfq\n\tpopq %[fl]"                                \
				 : [r] "+r"(reg), [fl] "=r"(fl)                                 \
				 : [p] "r"(p), [i] "r"(2ULL)                                    \
				 : "memory", "cc");                                             \
		return (struct res){ reg, fl, ((volatile u64 *)p)[0], ((volatile u64 *)p)[1] }; \
	}

FORM(st8, "movb %b[r], (%[p])")
FORM(st16, "movw %w[r], 2(%[p])")
FORM(st32, "movl %k[r], 4(%[p])")
FORM(st64, "movq %[r], 8(%[p])")
FORM(ld8, "movb 1(%[p]), %b[r]")
FORM(ld16, "movw 2(%[p]), %w[r]")
FORM(ld32, "movl 4(%[p]), %k[r]")
FORM(ld64, "movq 8(%[p]), %[r]")
FORM(ldsib, "movl (%[p],%[i],4), %k[r]")
FORM(ldneg, "movq -8(%[p]), %[r]")
FORM(stimm8, "movb $0x7f, 3(%[p])")
FORM(stimm32, "movl $0x89abcdef, 4(%[p])")
FORM(stimm64, "movq $-2, 8(%[p])")
FORM(zx8, "movzbl 1(%[p]), %k[r]")
FORM(zx16, "movzwq 2(%[p]), %[r]")
FORM(sx8, "movsbq 3(%[p]), %[r]")
FORM(sx16, "movswl 6(%[p]), %k[r]")
FORM(sx32, "movslq 4(%[p]), %[r]")
FORM(addm, "addq %[r], 8(%[p])")
FORM(addr, "addl 4(%[p]), %k[r]")
FORM(subm, "subw %w[r], 2(%[p])")
FORM(subr, "subq (%[p]), %[r]")
FORM(andm, "andb %b[r], 1(%[p])")
FORM(orm, "orq %[r], 8(%[p])")
FORM(xorr, "xorl 4(%[p]), %k[r]")
FORM(cmpm, "cmpq %[r], 8(%[p])")
FORM(cmpr, "cmpb 1(%[p]), %b[r]")
FORM(testm, "testl %k[r], 4(%[p])")
FORM(addi8, "addb $0x81, 1(%[p])")
FORM(ori16, "orw $0x1234, 2(%[p])")
FORM(andi32, "andl $0xf0f0f0f0, 4(%[p])")
FORM(cmpi8, "cmpq $-1, 8(%[p])")
FORM(subi8, "subl $5, 4(%[p])")
FORM(xorimm, "xorq $0x55, 8(%[p])")
FORM(testi, "testb $0x80, 3(%[p])")
FORM(xchg64, "xchgq %[r], 8(%[p])")
FORM(xchg8, "xchgb %b[r], 1(%[p])")

static void fill(u8 *p)
{
	static const u64 init[2] = { 0x8877665544332211ULL, 0xfedcba9876543210ULL };

	((volatile u64 *)p)[0] = init[0];
	((volatile u64 *)p)[1] = init[1];
}

static void compare(const char *name, struct res (*fn)(u8 *, u64), u64 reg, u64 mask)
{
	struct res a, b;

	fill(ram + 64);
	fill(dev + 64);
	a = fn(ram + 64, reg);
	b = fn(dev + 64, reg);
	cases++;
	if (a.reg != b.reg || (a.flags & mask) != (b.flags & mask) || a.mem0 != b.mem0 ||
	    a.mem1 != b.mem1)
		fail_at(__LINE__,
			"%s: ram reg %llx flags %llx mem %llx %llx, mmio reg %llx flags %llx mem %llx %llx",
			name, (unsigned long long)a.reg, (unsigned long long)(a.flags & mask),
			(unsigned long long)a.mem0, (unsigned long long)a.mem1,
			(unsigned long long)b.reg, (unsigned long long)(b.flags & mask),
			(unsigned long long)b.mem0, (unsigned long long)b.mem1);
}

#define CMP(fn, reg, mask) compare(#fn, fn, reg, mask)

static void forms(u64 x)
{
	CMP(st8, x, 0), CMP(st16, x, 0), CMP(st32, x, 0), CMP(st64, x, 0);
	CMP(ld8, x, 0), CMP(ld16, x, 0), CMP(ld32, x, 0), CMP(ld64, x, 0);
	CMP(ldsib, x, 0), CMP(stimm8, x, 0), CMP(stimm32, x, 0), CMP(stimm64, x, 0);
	CMP(zx8, x, 0), CMP(zx16, x, 0), CMP(sx8, x, 0), CMP(sx16, x, 0), CMP(sx32, x, 0);
	CMP(addm, x, ARITH_FLAGS), CMP(addr, x, ARITH_FLAGS), CMP(subm, x, ARITH_FLAGS);
	CMP(subr, x, ARITH_FLAGS), CMP(andm, x, LOGIC_FLAGS), CMP(orm, x, LOGIC_FLAGS);
	CMP(xorr, x, LOGIC_FLAGS), CMP(cmpm, x, ARITH_FLAGS), CMP(cmpr, x, ARITH_FLAGS);
	CMP(testm, x, LOGIC_FLAGS), CMP(addi8, x, ARITH_FLAGS), CMP(ori16, x, LOGIC_FLAGS);
	CMP(andi32, x, LOGIC_FLAGS), CMP(cmpi8, x, ARITH_FLAGS), CMP(subi8, x, ARITH_FLAGS);
	CMP(xorimm, x, LOGIC_FLAGS), CMP(testi, x, LOGIC_FLAGS), CMP(xchg64, x, 0);
	CMP(xchg8, x, 0);
}

static void neg_disp(void)
{
	struct res a, b;

	fill(ram + 64);
	fill(dev + 64);
	a = ldneg(ram + 72, 0);
	b = ldneg(dev + 72, 0);
	CHECK_EQ(a.reg, b.reg);
}

/* r12 (a REX.B register) and AH (a high-byte register) as operands. */
static void odd_registers(void)
{
	register u64 r12 __asm__("r12") = 0x1122334455667788ULL;
	u64 rax = 0xaabb;

	__asm__ volatile("movq %%r12, 16(%[p])" : : "r"(r12), [p] "r"(dev) : "memory");
	CHECK_EQ(*(volatile u64 *)(dev + 16), 0x1122334455667788ULL);
	__asm__ volatile("movb %%ah, 24(%[p])" : "+a"(rax) : [p] "r"(dev) : "memory");
	CHECK_EQ(*(volatile u8 *)(dev + 24), 0xaa);
	__asm__ volatile("movb 16(%[p]), %%ah" : "+a"(rax) : [p] "r"(dev) : "memory");
	CHECK_EQ(rax, 0x88bb);
	__asm__ volatile("movl 20(%[p]), %%r12d" : "+r"(r12) : [p] "r"(dev) : "memory");
	CHECK_EQ(r12, 0x11223344);
}

static void strings(void)
{
	u64 n = 8, *src = (u64 *)(ram + 256), *dst = (u64 *)(dev + 256);
	void *d = dst, *s = src;

	for (int i = 0; i < 8; i++)
		src[i] = 0x0101010101010101ULL * (u64)(i + 1);
	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); /* RAM -> MMIO */
	CHECK_EQ(n, 0);
	CHECK_EQ(dst[7], 0x0808080808080808ULL);
	CHECK(!memcmp(src, dst, 64));
	d = ram + 512, s = dev + 256, n = 64;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); /* MMIO -> RAM */
	CHECK(!memcmp(ram + 512, src, 64));
	d = dev + 1024, n = 16;
	__asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(0xdeadbeef) : "memory");
	for (int i = 0; i < 16; i++)
		CHECK_EQ(((volatile u32 *)(dev + 1024))[i], 0xdeadbeef);
	d = dev + 2048;
	__asm__ volatile("stosw" : "+D"(d) : "a"(0x4242) : "memory");
	CHECK_EQ(*(volatile u16 *)(dev + 2048), 0x4242);
	CHECK_EQ((u64)d, (u64)(dev + 2050));
}

void test_main(void)
{
	static const u64 values[] = { 0,
				      1,
				      0x7f,
				      0x80,
				      0xffff,
				      0x80000000ULL,
				      0xffffffffffffffffULL,
				      0x123456789abcdef0ULL };

	for (u32 i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		forms(values[i]);
	neg_disp();
	odd_registers();
	strings();
	gprintf("%u MMIO forms agree with RAM\n", cases);
}

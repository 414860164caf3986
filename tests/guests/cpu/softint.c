// SPDX-License-Identifier: MIT
/*
 * Test guest: software interrupts whose delivery the hypervisor interrupts.
 * Before each INT3, INT n (with no prefix, 66, and F3 66) and, in
 * compatibility mode, INTO, the test device's flush port (0xe4, QEMU's
 * pc-testdev) takes the page of the IDT gate, of the GDT or of the stack out
 * of the guest-physical map: the delivery exits, and the event must come back
 * once, returning to the instruction after it, however long it is. Each
 * handler records where it returns to. Passes on QEMU with pc-testdev too.
 */
#include "../lib/guest.h"
#include <lib/string.h>

const char test_name[] = "softint";

#define VEC 0x21
#define SEL_CODE32 0x18 /* the descriptor this guest adds after the runtime's three */

struct dtr {
	u16 limit;
	u64 base;
} __attribute__((packed));

static volatile u64 seen_rip, seen_cs, seen_vector;

static void on_soft(struct gframe *f)
{
	seen_rip = f->rip;
	seen_cs = f->cs;
	seen_vector = f->vector;
}

/*
 * Flushes the pages a and b (0: none), and with c set the page the frame will go
 * to on the stack, then runs insn; returns the address after it.
 */
#define SOFT_CASE(name, insn)                                                                     \
	static u64 name(u32 a, u32 b, u32 c)                                                      \
	{                                                                                         \
		u64 next;                                                                         \
		__asm__ volatile("lea 1f(%%rip), %[next]\n"                                       \
				 "test %[a], %[a]; jz 2f; mov %[a], %%eax; out %%eax, $0xe4\n"    \
				 "2: test %[b], %[b]; jz 3f; mov %[b], %%eax; out %%eax, $0xe4\n" \
				 "3: test %[c], %[c]; jz 4f; lea -48(%%rsp), %%rax\n"             \
				 "and $-4096, %%rax; out %%eax, $0xe4\n"                          \
				 "4: " insn "\n"                                                  \
				 "1:"                                                             \
				 : [next] "=&r"(next)                                             \
				 : [a] "r"(a), [b] "r"(b), [c] "r"(c)                             \
				 : "rax", "memory", "cc");                                        \
		return next;                                                                      \
	}
SOFT_CASE(soft_int3, "int3")
SOFT_CASE(soft_int, "int $0x21")
SOFT_CASE(soft_int_66, ".byte 0x66, 0xcd, 0x21")
SOFT_CASE(soft_int_f3_66, ".byte 0xf3, 0x66, 0xcd, 0x21")

/*
 * INTO exists outside 64-bit mode only: a far return into a 32-bit code
 * segment, OF set, flushes as above, INTO, and a far return back.
 */
u64 compat_into(u32 a, u32 b, u32 c);
__asm__(".text\n"
	".globl compat_into\n"
	"compat_into:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	mov %edi, %ebx\n"
	"	mov %esi, %ebp\n"
	"	pushq $0x18\n"
	"	pushq $9f\n"
	"	lretq\n"
	".code32\n"
	"9:	test %ebx, %ebx; jz 2f; mov %ebx, %eax; out %eax, $0xe4\n"
	"2:	test %ebp, %ebp; jz 3f; mov %ebp, %eax; out %eax, $0xe4\n"
	"3:	test %edx, %edx; jz 4f; lea -48(%esp), %eax; and $-4096, %eax; out %eax, $0xe4\n"
	"4:	mov $0x7f, %al; add $1, %al\n"
	"	into\n"
	".globl compat_into_next\n"
	"compat_into_next:\n"
	"	push $0x08\n"
	"	push $5f\n"
	"	lret\n"
	".code64\n"
	"5:	pop %rbp\n"
	"	pop %rbx\n"
	"	mov $compat_into_next, %eax\n"
	"	ret\n");

typedef u64 (*soft_fn)(u32 a, u32 b, u32 c);

static u64 gdt[8] __attribute__((aligned(16)));

/* The runtime's GDT plus a 32-bit code segment at 0x18. */
static void gdt_add_code32(void)
{
	struct dtr d;

	__asm__ volatile("sgdt %0" : "=m"(d));
	memcpy(gdt, (void *)d.base, d.limit + 1);
	gdt[SEL_CODE32 / 8] = 0x00cf9b000000ffffULL; /* base 0, 4 GiB, code, D=1 */
	d.base = (u64)gdt;
	d.limit = sizeof(gdt) - 1;
	__asm__ volatile("lgdt %0" ::"m"(d));
}

static u32 page_of(u64 a)
{
	return (u32)(a & ~0xfffULL);
}

/* Runs fn with each of the IDT gate's, the GDT's and the stack's pages withheld, then all three. */
static void check_form(soft_fn fn, u8 vector, u64 cs, const char *what, u32 len)
{
	struct dtr idtr, gdtr;
	u32 cases[5][3] = { { 0 } };

	__asm__ volatile("sidt %0; sgdt %1" : "=m"(idtr), "=m"(gdtr));
	cases[1][0] = cases[4][0] = page_of(idtr.base + vector * 16ULL);
	cases[2][1] = cases[4][1] = page_of(gdtr.base + cs);
	cases[3][2] = cases[4][2] = 1; /* the stack */
	for (u32 i = 0; i < 5; i++) {
		u64 before = trap_count[vector], next;

		seen_rip = seen_cs = 0;
		next = fn(cases[i][0], cases[i][1], cases[i][2]);
		if (trap_count[vector] - before != 1 || seen_vector != vector || seen_rip != next ||
		    seen_cs != cs) /* once, not lost nor twice, returning after the instruction */
			fail_at(__LINE__,
				"%s, case %u: delivered %llu times, last vector %llx rip %llx cs %llx, "
				"expected rip %llx",
				what, i, (unsigned long long)(trap_count[vector] - before),
				(unsigned long long)seen_vector, (unsigned long long)seen_rip,
				(unsigned long long)seen_cs, (unsigned long long)next);
	}
	gprintf("soft: %u-byte %s returned after itself, delivered once with the IDT, GDT and "
		"stack pages withheld alone and together\n",
		len, what);
}

void test_main(void)
{
	extern const char compat_into_next[];

	trap_set(3, on_soft);
	trap_set(4, on_soft);
	trap_set(VEC, on_soft);
	gdt_add_code32();
	check_form(soft_int3, 3, 0x08, "int3", 1);
	check_form(soft_int, VEC, 0x08, "int $0x21", 2);
	check_form(soft_int_66, VEC, 0x08, "66 cd 21", 3);
	check_form(soft_int_f3_66, VEC, 0x08, "f3 66 cd 21", 4);
	check_form(compat_into, 4, SEL_CODE32, "into in compatibility mode", 1);
	CHECK_EQ(seen_rip, (u64)compat_into_next);
}

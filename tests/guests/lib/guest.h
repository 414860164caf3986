/* SPDX-License-Identifier: MIT */
/* The test guests' runtime: port I/O, serial output, traps, PASS/FAIL reporting. */
#ifndef TEST_GUEST_H
#define TEST_GUEST_H

#include <lib/types.h>

#define TESTDEV_EXIT_PORT 0xf4
#define TESTDEV_SCRATCH_PORT 0xe0
#define TESTDEV_MMIO 0xfed40000ULL

struct gframe {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error, rip, cs, rflags, rsp, ss;
};

typedef void (*trap_fn)(struct gframe *f);

static inline void outb(u16 p, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p));
}
static inline void outw(u16 p, u16 v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(p));
}
static inline void outl(u16 p, u32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(p));
}
static inline u8 inb(u16 p)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}
static inline u16 inw(u16 p)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}
static inline u32 inl(u16 p)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* key=N (decimal) on the multiboot command line (vm.<name>.cmdline), or dflt. */
u64 guest_arg(const char *key, u64 dflt);
void trap_set(u8 vector, trap_fn fn);
/* Number of traps taken per vector since start, by handler or not. */
extern volatile u64 trap_count[256];
void pass(void) __attribute__((noreturn));
void fail_at(int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void guest_exit(u8 status) __attribute__((noreturn));
/* The test itself; returns to report PASS. */
void test_main(void);
/* From entry.S and isr.S. */
void guest_start(u32 info);
void guest_trap(struct gframe *f);
extern const char test_name[];

#define CHECK(cond)                                     \
	do {                                            \
		if (!(cond))                            \
			fail_at(__LINE__, "%s", #cond); \
	} while (0)
#define CHECK_EQ(a, b)                                                           \
	do {                                                                     \
		u64 _a = (u64)(a), _b = (u64)(b);                                \
		if (_a != _b)                                                    \
			fail_at(__LINE__, "%s == %s: %llx != %llx", #a, #b,      \
				(unsigned long long)_a, (unsigned long long)_b); \
	} while (0)

#endif

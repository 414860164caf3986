// SPDX-License-Identifier: MIT
/*
 * Test guest (security): string copies out of an emulated MMIO page into memory the copier may
 * not write. A ring-3 process with the test device's page mapped as a user page runs rep movsb
 * from it into a supervisor page, a read-only page, across a page boundary into a read-only
 * page and into a page that is not present; the kernel copies into a read-only page with
 * CR0.WP and into a user page under SMAP. The CPU checks only the MMIO side before the exit
 * (SDM 3A 4.6); Keel emulates the rest, so each copy must raise the #PF the CPU raises, with
 * its error code, CR2 and rCX/rSI/rDI at the faulting iteration, and leave the target as it was.
 */
#include "lib/guest.h"
#include <lib/string.h>

const char test_name[] = "usermmio";

/* Paging-structure entry bits (SDM 3A 4.5, tables 4-15 to 4-20) and #PF error bits (4.7). */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_U BIT(2)
#define CR0_WP BIT(16)
#define CR4_SMAP BIT(21)
#define RFLAGS_AC BIT(18)
#define CPUID7_EBX_SMAP BIT(20)
#define VEC_UD 6
#define VEC_PF 14

/* GDT selectors: entry.S's kernel code and data, then ours (SDM 3A 3.4.2, 5.2.1). */
#define KERNEL_CS 0x08
#define KERNEL_SS 0x10
#define USER_SS (0x18 | 3)
#define USER_CS (0x20 | 3)
#define TSS_SEL 0x28
#define RFLAGS_FIXED 0x2 /* bit 1 is always set; IF stays 0 */

/* The user window: one page table's worth at 512 GiB (PML4 entry 1), entry by entry. */
#define UBASE (1ULL << 39)
#define UCODE (UBASE + 0x0000)	/* the code page below: user, read-only */
#define UMMIO (UBASE + 0x1000)	/* the test device's page: user, writable */
#define USTACK (UBASE + 0x2000) /* user, writable */
#define UDATA (UBASE + 0x3000)	/* user, writable */
#define URO (UBASE + 0x4000)	/* user, read-only: right after UDATA */
#define KRO (UBASE + 0x5000)	/* supervisor, read-only */
#define UNP (UBASE + 0x6000)	/* not present */

extern u64 pml4[];
static u64 pdpt_u[512] __attribute__((aligned(4096)));
static u64 pd_u[512] __attribute__((aligned(4096)));
static u64 pt_u[512] __attribute__((aligned(4096)));
static u8 kpage[4096] __attribute__((aligned(4096))); /* supervisor only, through entry.S's map */
static u8 ustack[4096] __attribute__((aligned(4096)));
static u8 upages[2][4096] __attribute__((aligned(4096))); /* UDATA, URO: adjacent here too */
static u8 npage[4096] __attribute__((aligned(4096)));	  /* UNP's frame, entry not present */
static u8 kro[4096] __attribute__((aligned(4096)));
static u8 kstack[4096] __attribute__((aligned(4096))); /* ring 0 runs of the copy */
static u8 trap_stack[4096] __attribute__((aligned(16)));
static u8 *const dev = (u8 *)TESTDEV_MMIO;

/* The 64-bit TSS: only RSP0 matters here, the stack of traps from ring 3 (SDM 3A 8.7). */
struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap;
} __attribute__((packed));
static struct tss64 tss;

static u64 gdt[7] __attribute__((aligned(16))) = {
	0,
	0x00af9b000000ffffULL, /* 0x08: 64-bit code, DPL 0 (as entry.S) */
	0x00cf93000000ffffULL, /* 0x10: data, DPL 0 */
	0x00cff3000000ffffULL, /* 0x18: data, DPL 3 */
	0x00affb000000ffffULL, /* 0x20: 64-bit code, DPL 3 */
};

/*
 * The copy both rings run, alone on its page: rep movsb, then ud2 to come back when nothing
 * faulted. run_at() enters it through iretq with the given CS, SS, RFLAGS, RSP, RSI, RDI and
 * RCX; the trap handler returns to run_back with the kernel's stack.
 */
__asm__(".pushsection .text.user, \"ax\"\n"
	".balign 4096\n"
	".globl user_page\n"
	"user_page:\n"
	"	rep movsb\n"
	"	ud2\n"
	".balign 4096\n"
	".popsection\n"
	".text\n"
	".globl run_at\n"
	"run_at:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, kernel_rsp(%rip)\n"
	"	pushq 32(%rdi)\n" /* SS */
	"	pushq 24(%rdi)\n" /* RSP */
	"	pushq 16(%rdi)\n" /* RFLAGS */
	"	pushq 8(%rdi)\n"  /* CS */
	"	pushq 0(%rdi)\n"  /* RIP */
	"	mov 40(%rdi), %rsi\n"
	"	mov 56(%rdi), %rcx\n"
	"	mov 48(%rdi), %rdi\n"
	"	iretq\n"
	".globl run_back\n"
	"run_back:\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n");

struct entry {
	u64 rip, cs, rflags, rsp, ss, rsi, rdi, rcx; /* offsets as run_at reads them */
};
extern const u8 user_page[];
void run_at(const struct entry *e);
void run_back(void);
u64 kernel_rsp;

static struct gframe seen; /* the trap that ended the run */
static u64 seen_cr2;

static void on_trap(struct gframe *f)
{
	seen = *f;
	__asm__ volatile("mov %%cr2, %0" : "=r"(seen_cr2));
	f->rip = (u64)run_back;
	f->cs = KERNEL_CS;
	f->ss = KERNEL_SS;
	f->rsp = kernel_rsp;
	f->rflags = RFLAGS_FIXED;
}

static u64 read_cr0(void)
{
	u64 v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static u64 read_cr4(void)
{
	u64 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr0(u64 v)
{
	__asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}

static void write_cr4(u64 v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

static void segments_init(void)
{
	u64 base = (u64)&tss, limit = sizeof(tss) - 1;
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (u64)gdt };

	/* A 64-bit available TSS descriptor, type 9, present (SDM 3A 8.2.3). */
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;
	tss.rsp[0] = (u64)(trap_stack + sizeof(trap_stack));
	__asm__ volatile("lgdt %0; ltr %w1" ::"m"(gdtr), "r"(TSS_SEL) : "memory");
}

static void paging_init(void)
{
	pml4[1] = (u64)pdpt_u | PTE_P | PTE_W | PTE_U;
	pdpt_u[0] = (u64)pd_u | PTE_P | PTE_W | PTE_U;
	pd_u[0] = (u64)pt_u | PTE_P | PTE_W | PTE_U;
	pt_u[0] = (u64)user_page | PTE_P | PTE_U;
	pt_u[1] = TESTDEV_MMIO | PTE_P | PTE_W | PTE_U | PTE_PCD | PTE_PWT;
	pt_u[2] = (u64)ustack | PTE_P | PTE_W | PTE_U;
	pt_u[3] = (u64)upages[0] | PTE_P | PTE_W | PTE_U;
	pt_u[4] = (u64)upages[1] | PTE_P | PTE_U;
	pt_u[5] = (u64)kro | PTE_P;
	pt_u[6] = (u64)npage; /* P = 0 */
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

#define NO_FAULT (~0ULL)

struct copy_case {
	const char *name;
	bool user;	 /* ring 3, else ring 0 */
	u64 rflags;	 /* extra RFLAGS bits (AC) */
	u64 src, dst, n; /* the copy's RSI, RDI, RCX */
	u8 *target;	 /* the kernel's view of dst's bytes */
	u64 done;	 /* bytes the CPU copies before the fault */
	u64 error;	 /* the #PF error code, or NO_FAULT */
};

static u32 failures;

/* Fills the MMIO source with a pattern and the target with 0xaa; runs the copy; checks. */
static void run_case(const struct copy_case *c)
{
	struct entry e = {
		.rip = c->user ? UCODE : (u64)user_page,
		.cs = c->user ? USER_CS : KERNEL_CS,
		.rflags = RFLAGS_FIXED | c->rflags,
		.rsp = c->user ? USTACK + 4096 : (u64)(kstack + sizeof(kstack)),
		.ss = c->user ? USER_SS : KERNEL_SS,
		.rsi = c->src,
		.rdi = c->dst,
		.rcx = c->n,
	};
	bool fault = c->error != NO_FAULT, bad = false;
	u64 done = fault ? c->done : c->n;

	for (u64 i = 0; i < c->n; i++) {
		dev[i] = (u8)(0x11 + 7 * i);
		c->target[i] = 0xaa;
	}
	memset(&seen, 0, sizeof(seen));
	seen_cr2 = 0;
	run_at(&e);
	for (u64 i = 0; i < c->n; i++)
		bad |= c->target[i] != (i < done ? (u8)(0x11 + 7 * i) : 0xaa);
	bad |= seen.vector != (fault ? VEC_PF : VEC_UD) || seen.rip != e.rip + (fault ? 0 : 2);
	bad |= fault && (seen.error != c->error || seen_cr2 != c->dst + done);
	bad |= seen.rcx != c->n - done || seen.rsi != c->src + done || seen.rdi != c->dst + done;
	gprintf("case %s: %s: vector %llu error %llx cr2 %llx rcx %llx rsi %llx rdi %llx, "
		"target %02x..%02x\n",
		c->name, bad ? "WRONG" : "ok", (unsigned long long)seen.vector,
		(unsigned long long)seen.error, (unsigned long long)seen_cr2,
		(unsigned long long)seen.rcx, (unsigned long long)seen.rsi,
		(unsigned long long)seen.rdi, c->target[0], c->target[c->n - 1]);
	failures += bad;
}

static bool has_smap(void)
{
	u32 a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 7)
		return false;
	cpuid(7, 0, &a, &b, &c, &d);
	return b & CPUID7_EBX_SMAP;
}

#define UW (PF_P | PF_W | PF_U)
#define KW (PF_P | PF_W)
#define COPY(nm, usr, fl, s, d, tgt, dn, err)                                                      \
	{                                                                                          \
		.name = nm, .user = usr, .rflags = fl, .src = s, .dst = d, .n = 16, .target = tgt, \
		.done = dn, .error = err                                                           \
	}

static const struct copy_case user_cases[] = {
	COPY("user_to_supervisor", true, 0, UMMIO, (u64)kpage, kpage, 0, UW),
	COPY("user_to_readonly", true, 0, UMMIO, URO, upages[1], 0, UW),
	COPY("user_across_into_readonly", true, 0, UMMIO, URO - 8, upages[0] + 4088, 8, UW),
	COPY("user_allowed", true, 0, UMMIO, UDATA, upages[0], 0, NO_FAULT),
};
static const struct copy_case not_present =
	COPY("user_not_present", true, 0, UMMIO, UNP, npage, 0, PF_W | PF_U);
static const struct copy_case wp0 =
	COPY("kernel_wp0", false, 0, TESTDEV_MMIO, KRO, kro, 0, NO_FAULT);
static const struct copy_case wp1 = COPY("kernel_wp1", false, 0, TESTDEV_MMIO, KRO, kro, 0, KW);
static const struct copy_case smap =
	COPY("kernel_smap", false, 0, TESTDEV_MMIO, UDATA, upages[0], 0, KW);
static const struct copy_case smap_ac =
	COPY("kernel_smap_ac", false, RFLAGS_AC, TESTDEV_MMIO, UDATA, upages[0], 0, NO_FAULT);

void test_main(void)
{
	u64 cr0 = read_cr0(), cr4 = read_cr4();

	trap_set(VEC_UD, on_trap);
	trap_set(VEC_PF, on_trap);
	segments_init();
	paging_init();
	for (u32 i = 0; i < sizeof(user_cases) / sizeof(user_cases[0]); i++)
		run_case(&user_cases[i]);
	write_cr0(cr0 & ~CR0_WP);
	run_case(&wp0);
	write_cr0(cr0 | CR0_WP);
	run_case(&wp1);
	write_cr0(cr0);
	if (has_smap()) {
		write_cr4(cr4 | CR4_SMAP);
		run_case(&smap);
		run_case(&smap_ac);
		write_cr4(cr4);
	} else {
		gprintf("no SMAP: its cases skipped\n");
	}
	run_case(&not_present); /* last: Keel before the fix stops the VM on it */
	CHECK_EQ(failures, 0);
}

// SPDX-License-Identifier: MIT
/*
 * Test guest (issue 18 item 6): a guest that drops from long mode back to
 * real mode keeps running there. It is linked at 32 KiB (realmode.ld), as
 * real-mode test kernels are, so its image covers 0x9000, where Keel once
 * wrote the multiboot information over it. realmode16.S, copied lower, leaves
 * long and protected mode and checks far calls and jumps, INT n, exceptions
 * and IRET through its own IVT, seg * 16 + offset and its wraps, 0x66/0x67,
 * port I/O, memory forms through segments whose bases point at the page
 * under test, and unreal mode; then it returns to long mode, where each part
 * is judged and reported. It runs twice: once on a RAM page and once on the
 * test device's MMIO page (under Keel; another RAM page elsewhere), which
 * the hypervisor's emulator must decode in 16-bit mode; both must agree.
 */
#include "../lib/guest.h"
#include "realmode.h"
#include <lib/string.h>

const char test_name[] = "realmode";

#define UNREAL_ADDR 0x300000 /* 3 MiB: above 1 MiB, inside a 4 MiB VM */
#define MBI_LOW 0x9000	     /* Keel's usual multiboot information page */
#define A20_MARK 0x0a20cafe  /* at 1 MiB, where FFFF:0010 points with A20 on */
#define SEG_DEMO 0x29bd9     /* 2345:6789 = 2000:9BD9 */
#define WRAP_HIT 0x30001     /* 3000:FFFF + 2 wraps to 3000:0001 */
#define WRAP_MISS 0x40001    /* where it would land without the wrap */
#define CR0_PE 0x1ULL
#define CR0_PG 0x80000000ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define FL_CF 0x1
#define FL_ZF 0x40
#define ARITH_FLAGS 0x8d5 /* CF PF AF ZF SF OF */
#define LOGIC_FLAGS 0x8c5 /* AF is undefined after TEST */
#define PATTERN_LEN 0x300

extern const char rm_start[], rm_end[], rm_enter64[], rm_after_int30[], rm_div[], rm_after_int3[],
	rm_rdmsr_bad[], _image_start[], _data_end[], _image_end[];
extern const u32 rm_low_page[1024];
extern u32 mb_info; /* lib/entry.S: EBX at entry */

static u8 ram_page[4096] __attribute__((aligned(4096)));
static u8 ram_page2[4096] __attribute__((aligned(4096)));
static u32 res_ram[R_COUNT], res_dev[R_COUNT];
static bool on_keel;

static volatile u32 *dat32(u32 off)
{
	return (volatile u32 *)(u64)(RM_DATA + off);
}

static u32 res(const u32 *r, u32 off)
{
	return r[(off - D_RESULTS) / 4];
}

static u16 off16(const char *label)
{
	return (u16)(label - rm_start);
}

/* A segment descriptor (SDM 3A 3.4.5): access byte, flags nibble (G, D/B, L). */
static u64 desc(u32 base, u32 limit, u8 access, u8 flags)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40) |
	       ((u64)((limit >> 16) & 0xf) << 48) | ((u64)flags << 52) | ((u64)(base >> 24) << 56);
}

static void setup_low(u32 dev_base)
{
	volatile u64 *gdt = (volatile u64 *)(u64)RM_GDT;
	volatile u16 *d16 = (volatile u16 *)(u64)RM_DATA;

	CHECK(rm_end - rm_start <= RM_CODE_MAX);
	memcpy((void *)(u64)RM_BASE, rm_start, (size_t)(rm_end - rm_start));
	gdt[0] = 0;
	gdt[SEL_CODE64 / 8] = desc(0, 0xfffff, 0x9b, 0xa);
	gdt[SEL_DATA32 / 8] = desc(0, 0xfffff, 0x93, 0xc);
	gdt[SEL_CODE32 / 8] = desc(0, 0xfffff, 0x9b, 0xc);
	gdt[SEL_CODE16 / 8] = desc(RM_BASE, 0xffff, 0x9b, 0);
	gdt[SEL_DATA16 / 8] = desc(0, 0xffff, 0x93, 0);
	gdt[SEL_FLAT16 / 8] = desc(0, 0xfffff, 0x93, 0x8);
	gdt[SEL_DEV16 / 8] = desc(dev_base, 0xffff, 0x93, 0);
	d16[D_GDT_DESC / 2] = GDT_ENTRIES * 8 - 1;
	*dat32(D_GDT_DESC + 2) = RM_GDT;
	*dat32(D_GDT_DESC + 6) = 0;
	d16[D_IVT_DESC / 2] = 0x3ff;
	*dat32(D_IVT_DESC + 2) = 0;
	*dat32(D_ON_KEEL) = on_keel;
	*dat32(D_DEV_BASE) = dev_base;
	*dat32(D_UNREAL_ADDR) = UNREAL_ADDR;
	for (u32 i = 0; i < 4; i++)
		*dat32(D_TABLE + 4 * i) = 0x1000 * i + 0xabc;
	for (u32 i = 0; i < R_COUNT; i++)
		*dat32(D_RESULTS + 4 * i) = 0;
}

static void fill_page(u32 base)
{
	volatile u8 *p = (volatile u8 *)(u64)base;

	for (u32 i = 0; i < 0x1000; i++)
		p[i] = i < PATTERN_LEN ? (u8)(i * 7 + 3) : 0;
}

/* Real mode and back, with FS and ES based at dev_base; r gets the results. */
static void run_pass(u32 dev_base, u32 *r)
{
	fill_page(dev_base);
	*(volatile u16 *)(u64)SEG_DEMO = 0;
	*(volatile u16 *)(u64)WRAP_HIT = 0xa55a;
	*(volatile u16 *)(u64)WRAP_MISS = 0x5aa5;
	*(volatile u32 *)(u64)UNREAL_ADDR = 0x12345678;
	*(volatile u32 *)(u64)0x100000 = A20_MARK;
	*(volatile u32 *)(u64)(UNREAL_ADDR + 4) = 0;
	setup_low(dev_base);
	((void (*)(void))(u64)(RM_BASE + (rm_enter64 - rm_start)))();
	for (u32 i = 0; i < R_COUNT; i++)
		r[i] = *dat32(D_RESULTS + 4 * i);
	CHECK_EQ(res(r, R_DONE), RM_DONE_MAGIC);
}

static void check_mode(const u32 *r)
{
	u32 b, a, c, d;

	CHECK_EQ(res(r, R_CR0) & (CR0_PE | CR0_PG), 0);
	CHECK_EQ(res(r, R_EFER) & (EFER_LME | EFER_LMA), 0);
	CHECK_EQ(res(r, R_CS), RM_SEG);
	cpuid(0, 0, &a, &b, &c, &d);
	CHECK_EQ(res(r, R_CPUID_EBX), b);
	gprintf("realmode: left long mode: CR0 %x, EFER %x at CS %04x\n", res(r, R_CR0),
		res(r, R_EFER), res(r, R_CS));
	gprintf("realmode: CPUID and RDMSR exits in real mode resumed at the next instruction\n");
}

static void check_transfers(const u32 *r)
{
	CHECK_EQ(res(r, R_FARCALL_CS), RM_SEG_ALT);
	CHECK_EQ(res(r, R_FARCALL_RET), 1);
	CHECK_EQ(res(r, R_FARJMP_CS), RM_SEG_ALT);
	CHECK_EQ(res(r, R_IRET_CS), RM_SEG_ALT);
	gprintf("realmode: far call, far jump and IRET to %04x:%04x ran there and came back\n",
		RM_SEG_ALT, off16(rm_start) + RM_ALT_DELTA);
}

static void check_interrupts(const u32 *r)
{
	CHECK_EQ(res(r, R_INT_AX), 0x3333);
	CHECK_EQ(res(r, R_INT_IP), off16(rm_after_int30));
	CHECK_EQ(res(r, R_INT_CS), RM_SEG);
	CHECK_EQ(res(r, R_INT_SP), 0);
	gprintf("realmode: INT 0x30 through the IVT returned, frame %04x:%04x\n", res(r, R_INT_CS),
		res(r, R_INT_IP));
	CHECK_EQ(res(r, R_DE_COUNT), 1);
	CHECK_EQ(res(r, R_DE_IP), off16(rm_div));
	CHECK_EQ(res(r, R_BP_COUNT), 1);
	CHECK_EQ(res(r, R_BP_IP), off16(rm_after_int3));
	gprintf("realmode: #DE and #BP through the IVT, IRET back\n");
	if (!on_keel)
		return;
	CHECK_EQ(res(r, R_GP_COUNT), 1);
	if (res(r, R_GP_IP) != off16(rm_rdmsr_bad))
		fail_at(__LINE__, "#GP in real mode pushed an error code (%x)", res(r, R_GP_IP));
	CHECK_EQ(res(r, R_GP_SP), 0);
	gprintf("realmode: #GP for an unknown MSR through the IVT, no error code pushed\n");
}

static void check_segments(const u32 *r)
{
	CHECK_EQ(res(r, R_SEG_ALIAS), 0xbeef);
	CHECK_EQ(*(volatile u16 *)(u64)SEG_DEMO, 0xbeef);
	CHECK_EQ(res(r, R_SEG_WRAP), 0xa55a);
	CHECK_EQ(res(r, R_A20_HI), A20_MARK);
	CHECK(res(r, R_A20_LO) != A20_MARK);
	gprintf("realmode: 2345:6789 is 2000:9bd9, offsets wrap at 64 KiB, "
		"ffff:0010 reads %x at 1 MiB (A20 on)\n",
		res(r, R_A20_HI));
}

static void check_sizes(const u32 *r)
{
	CHECK_EQ(res(r, R_OPS32), 0x23456789);
	CHECK_EQ(res(r, R_ADDR32), 0x2abc);
	CHECK_EQ(res(r, R_WRAP16), 0);
	CHECK_EQ(res(r, R_WRAP16_FL) & (FL_CF | FL_ZF), FL_CF | FL_ZF);
	gprintf("realmode: 0x66 and 0x67 operand and address sizes, 16-bit add carries out\n");
	CHECK_EQ(res(r, R_CMOS), 0x5a);
	CHECK_EQ(res(r, R_CF8), 0x80000000);
	CHECK(res(r, R_CFC16) != 0xffff);
	CHECK_EQ(res(r, R_CFC32), res(r, R_CFC16) | res(r, R_CFE16) << 16);
	gprintf("realmode: port I/O of 8, 16 and 32 bits: CMOS, PCI %04x:%04x\n", res(r, R_CFC16),
		res(r, R_CFE16));
}

static u8 pat(u32 i)
{
	return (u8)(i * 7 + 3);
}

/* What the forms must give on a page that starts as pat() (see rm_mmio). */
static void check_mmio_values(const u32 *r)
{
	CHECK_EQ(res(r, R_M_LD16), 0xa1b2);
	CHECK_EQ(res(r, R_M_MOFFS8), 0xcd);
	CHECK_EQ(res(r, R_M_ADDR32), 0x55667788);
	CHECK_EQ(res(r, R_M_MOVZX), pat(0x10));
	CHECK_EQ(res(r, R_M_XCHG), pat(0x40) | pat(0x41) << 8);
	CHECK_EQ(res(r, R_M_OR16), (pat(0x48) | pat(0x49) << 8) | 0x8001);
	CHECK_EQ(res(r, R_M_STOS), 0x110u << 16);
	CHECK_EQ(res(r, R_M_MOVSB), 0x210u << 16 | 0x110);
	CHECK_EQ(res(r, R_M_MOVSW), 0x286u << 16 | 0x106);
	CHECK_EQ(res(r, R_M_GS32), 0x55667788);
}

static void check_mmio(u32 dev_base)
{
	volatile u8 *ram = ram_page, *dev = (volatile u8 *)(u64)dev_base;
	u32 n = 0;

	check_mmio_values(res_ram);
	for (u32 i = R_M_FIRST; i <= R_M_LAST; i++, n++) {
		u32 a = res_ram[i], b = res_dev[i];
		u32 off = D_RESULTS + 4 * i;

		if (off == R_M_ADD_FL || off == R_M_CMP_FL)
			a &= ARITH_FLAGS, b &= ARITH_FLAGS;
		if (off == R_M_TEST_FL)
			a &= LOGIC_FLAGS, b &= LOGIC_FLAGS;
		if (a != b)
			fail_at(__LINE__, "MMIO result %u: %x on RAM, %x on %x", i, a, b, dev_base);
	}
	for (u32 i = 0; i < PATTERN_LEN; i++)
		if (ram[i] != dev[i])
			fail_at(__LINE__, "byte %x: %x on RAM, %x on %x", i, ram[i], dev[i],
				dev_base);
	CHECK_EQ(*(volatile u32 *)(dev + 0x2c), 0x0badcafe);
	gprintf("realmode: %u memory forms from 16-bit code on %s %x match RAM\n", n,
		on_keel ? "the MMIO page at" : "RAM at", dev_base);
}

/*
 * Its image holds the page at 0x9000, where Keel used to write the multiboot
 * information over it (QEMU writes its memory map and information there, so
 * this runs under Keel only); the information must lie outside the image.
 */
static void check_low_page(void)
{
	CHECK_EQ((u64)rm_low_page, MBI_LOW);
	for (u32 i = 0; i < 1024; i++)
		if (rm_low_page[i] != MBI_LOW + 4 * i)
			fail_at(__LINE__, "its page at 0x9000 was overwritten at %x: %x", 4 * i,
				rm_low_page[i]);
	CHECK(mb_info >= (u64)_image_end || mb_info + 0x1000 <= (u64)_image_start);
	gprintf("realmode: loaded at %x-%x across 0x9000, which kept its bytes; the multiboot "
		"information is at %x\n",
		(u32)(u64)_image_start, (u32)(u64)_image_end, mb_info);
}

void test_main(void)
{
	u32 a, sig[3], dev;

	cpuid(0x40000000, 0, &a, &sig[0], &sig[1], &sig[2]);
	on_keel = sig[0] == 0x6c65654b && sig[1] == 0x6c65654b && sig[2] == 0x6c65654b;
	dev = on_keel ? (u32)TESTDEV_MMIO : (u32)(u64)ram_page2;
	if (on_keel)
		check_low_page();
	run_pass((u32)(u64)ram_page, res_ram);
	run_pass(dev, res_dev);
	gprintf("realmode: back in long mode twice\n");
	check_mode(res_dev);
	check_transfers(res_dev);
	check_interrupts(res_dev);
	check_segments(res_dev);
	check_sizes(res_dev);
	check_mmio(dev);
	CHECK_EQ(res(res_dev, R_UNREAL_RD), 0x12345678);
	CHECK_EQ(*(volatile u32 *)(u64)(UNREAL_ADDR + 4), 0x9abcdef0);
	gprintf("unreal: read 0x12345678 at 3 MiB with a 32-bit offset, wrote 0x9abcdef0 next to it\n");
}

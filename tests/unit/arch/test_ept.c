// SPDX-License-Identifier: MIT
/* Unit tests for arch/x86/vmx/ept.c through core/pagetable.c: EPT entries, page sizes, misconfigurations. */
#include "test.h"
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx.h>
#include <keel/pagetable.h>

extern long fake_pages_live;
struct vmx_caps vmx_caps; /* ept.c reads the EPT capabilities from here */
static struct page_table pt;
static char buf[160];

static u64 *entry(u64 gpa, u32 level)
{
	u64 *t = (u64 *)(uintptr_t)pt.root;

	for (u32 l = 4; l > level; l--)
		t = (u64 *)(uintptr_t)(t[(gpa >> PT_LEVEL_SHIFT(l)) & 511] & GENMASK(51, 12));
	return &t[(gpa >> PT_LEVEL_SHIFT(level)) & 511];
}

TEST(write_back_leaves_of_4k_and_2m)
{
	hpa_t pa;
	u64 size;
	u32 perms;

	CHECK_EQ(pt_init(&pt, &ept_format, NULL), 0);
	/* no 1G leaves in EPT */
	CHECK_EQ(pt_map(&pt, 0, 0x40000000, 0x40000000, PT_RWX | PT_OWNED), 0);
	CHECK(pt_lookup(&pt, 0x12345678, &pa, &perms, &size));
	CHECK_EQ(pa, 0x52345678);
	CHECK_EQ(size, 2 << 20);
	CHECK_EQ(perms, PT_RWX | PT_OWNED);
	CHECK_EQ(*entry(0x12345678, 2) & 0xff, 0x80 | (6 << 3) | 7); /* large, WB, RWX */
	CHECK_EQ(*entry(0, 4) & 0xff, 7); /* tables: RWX, no memory type */
	CHECK_EQ(pt_map(&pt, 0x1000, 0xfed00000, 0x1000, PT_R | PT_W | PT_UC), 0);
	CHECK(pt_lookup(&pt, 0x1abc, &pa, &perms, &size));
	CHECK_EQ(pa, 0xfed00abc);
	CHECK_EQ(size, 4096);
	CHECK_EQ(perms, PT_R | PT_W | PT_UC);
	CHECK_EQ(*entry(0x1000, 1) & 0x3f, 3);			/* UC (0), RW */
	CHECK_EQ(pt_map(&pt, 0x2000, 0x3000, 0x1000, PT_W), 0); /* write implies read in EPT */
	CHECK_EQ(*entry(0x2000, 1) & 7, 3);
	pt_destroy(&pt);
	CHECK_EQ(fake_pages_live, 0);
}

TEST(misconfigurations_are_named)
{
	vmx_caps.ept_vpid = EPT_CAP_2M;
	CHECK_EQ(pt_init(&pt, &ept_format, NULL), 0);
	CHECK_EQ(pt_map(&pt, 0x200000, 0x200000, 0x200000, PT_RWX), 0);
	CHECK_EQ(pt_map(&pt, 0x400000, 0x400000, 0x1000, PT_RWX), 0);
	ept_explain_misconfig(pt.root, 0x200000, buf, sizeof(buf));
	CHECK(strstr(buf, "no bad entry found") != NULL);
	*entry(0x200000, 2) = (*entry(0x200000, 2) & ~0x38ULL) | (2 << 3);
	ept_explain_misconfig(pt.root, 0x200000, buf, sizeof(buf));
	CHECK(strstr(buf, "level 2 entry") && strstr(buf, "is a reserved memory type"));
	*entry(0x400000, 1) &= ~1ULL; /* write without read */
	ept_explain_misconfig(pt.root, 0x400000, buf, sizeof(buf));
	CHECK(strstr(buf, "level 1 entry") && strstr(buf, "writable but not readable"));
	*entry(0x400000, 1) = (*entry(0x400000, 1) & ~7ULL) | 4; /* execute-only */
	ept_explain_misconfig(pt.root, 0x400000, buf, sizeof(buf));
	CHECK(strstr(buf, "execute-only, which this CPU does not support") != NULL);
	*entry(0x400000, 1) |= 1;
	*entry(0, 4) |= 0x80; /* a large page at the PML4 */
	ept_explain_misconfig(pt.root, 0x400000, buf, sizeof(buf));
	CHECK(strstr(buf, "level 4 entry") && strstr(buf, "a large page at the PML4 level"));
	*entry(0, 4) &= ~0x80ULL;
	pt_destroy(&pt);
	CHECK_EQ(fake_pages_live, 0);
}

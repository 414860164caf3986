// SPDX-License-Identifier: MIT
/*
 * The hypervisor's address space: physical memory identity-mapped. With
 * 1 GiB pages, all the CPU can address (MAXPHYADDR, up to the 48 bits four
 * levels reach), so device BARs are covered wherever the firmware put them.
 * Without, 2 MiB pages up to the end of the memory map or 4 GiB rounded up
 * to 512 GiB, and device memory beyond that mapped when Keel first needs it
 * (paging_map_io). Memory types come from the firmware's MTRRs (MMIO stays
 * uncached under them).
 */
#include <arch/x86/cpu.h>
#include <arch/x86/paging.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/pagetable.h>
#include <keel/spinlock.h>

#define SPAN_512G (512 * GiB)
#define BELOW_4G (4 * GiB - 1)

static u64 root, mapped_top;
static bool huge_pages;
static struct spinlock lock = SPINLOCK_INIT;

static u64 *table_alloc(void)
{
	u64 *t = page_alloc_zeroed_below(1, BELOW_4G);

	if (!t)
		panic("out of memory below 4 GiB for page tables");
	return t;
}

/* All the CPU can address with 1 GiB pages (device BARs can be anywhere), else 512 GiB. */
static u64 map_top(const struct boot_info *bi, bool huge1g)
{
	u32 bits = cpuid(CPUID_LEAF_ADDR_SIZES).eax & 0xff;
	u64 top = 4 * GiB;

	for (u32 i = 0; i < bi->map.nr; i++)
		top = MAX(top, bi->map.r[i].base + bi->map.r[i].size);
	if (bi->fb.base)
		top = MAX(top, bi->fb.base + bi->fb.size);
	if (huge1g)
		top = MAX(top, 1ULL << MIN(bits, (u32)PAGING_ADDR_BITS));
	return ALIGN_UP(top, SPAN_512G);
}

static void map_512g(u64 *pml4e, u64 base, bool huge1g)
{
	u64 *pdpt = table_alloc();

	*pml4e = virt_to_phys(pdpt) | PTE_P | PTE_W;
	for (u64 i = 0; i < PT_ENTRIES; i++) {
		u64 gb = base + i * GiB;
		u64 *pd;

		if (huge1g) {
			pdpt[i] = gb | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		pd = table_alloc();
		pdpt[i] = virt_to_phys(pd) | PTE_P | PTE_W;
		for (u64 j = 0; j < PT_ENTRIES; j++)
			pd[j] = (gb + j * 2 * MiB) | PTE_P | PTE_W | PTE_PS;
	}
}

void paging_init(const struct boot_info *bi)
{
	bool huge1g = cpuid(0x80000001).edx & CPUID_80000001_EDX_PDPE1GB;
	u64 top = map_top(bi, huge1g);
	u64 *pml4 = table_alloc();

	if (top > PT_ENTRIES * SPAN_512G)
		panic("physical memory map reaches %llx; beyond what Keel maps",
		      (unsigned long long)top);
	for (u64 base = 0; base < top; base += SPAN_512G)
		map_512g(&pml4[base / SPAN_512G], base, huge1g);
	mapped_top = top;
	huge_pages = huge1g;
	root = virt_to_phys(pml4);
	write_cr3(root);
	pr_info("paging: identity map of %llu GiB with %s pages", (unsigned long long)(top / GiB),
		huge1g ? "1 GiB" : "2 MiB");
}

u64 paging_root(void)
{
	return root;
}

/* The table under *e, made if missing; NULL without memory. */
static u64 *next_table(u64 *e)
{
	u64 *t;

	if (*e & PTE_P)
		return phys_to_virt(*e & PTE_ADDR_MASK);
	t = page_alloc_zeroed(1);
	if (t)
		*e = virt_to_phys(t) | PTE_P | PTE_W;
	return t;
}

/* Fills the 2 MiB entries of [base, end) that are missing, uncached (device memory). */
static int map_2m(u64 base, u64 end)
{
	u64 *pml4 = phys_to_virt(root);

	for (u64 a = ALIGN_DOWN(base, 2 * MiB); a < end; a += 2 * MiB) {
		u64 *pdpt = next_table(&pml4[(a >> 39) & (PT_ENTRIES - 1)]);
		u64 *pd = pdpt ? next_table(&pdpt[(a >> 30) & (PT_ENTRIES - 1)]) : NULL;

		if (!pd)
			return -ENOMEM;
		if (!(pd[(a >> 21) & (PT_ENTRIES - 1)] & PTE_P))
			pd[(a >> 21) & (PT_ENTRIES - 1)] = a | PTE_P | PTE_W | PTE_PS | PTE_PCD;
	}
	return 0;
}

int paging_map_io(u64 base, u64 size)
{
	u64 end = base + size, flags;
	int ret;

	if (end <= mapped_top)
		return 0;
	if (end < base || end > (1ULL << PAGING_ADDR_BITS) || huge_pages)
		return -ERANGE; /* huge pages: mapped_top is already all the CPU addresses */
	flags = spin_lock_irqsave(&lock);
	ret = map_2m(MAX(base, mapped_top), end); /* entries only get added: no flush needed */
	spin_unlock_irqrestore(&lock, flags);
	return ret;
}

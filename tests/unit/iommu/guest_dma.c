// SPDX-License-Identifier: MIT
/* The checks of a guest VM's DMA domain that the VT-d and AMD-Vi guest tests share (guest_dma.h), and the page pool they watch. */
#include "test.h"
#include "guest_dma.h"
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <lib/string.h>
#include <stdlib.h>

extern char fake_log_all[];
void fake_log_clear(void);
extern struct pt_format npt_format;

long pages_live;
bool free_watch;
u32 free_mark, frees_too_early;
u16 free_did;

/* No vCPU runs: a flush of the map has no one to kick. */
void sched_kick(struct vcpu *v)
{
	(void)v;
}

static void freeing(u64 pages)
{
	pages_live -= (long)pages;
	if (free_watch && !hw_domain_invalidated(free_mark, free_did))
		frees_too_early++;
}

void *page_alloc_zeroed(u64 pages)
{
	void *p = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);

	if (p) {
		memset(p, 0, pages * PAGE_SIZE);
		pages_live += (long)pages;
	}
	return p;
}

void *page_alloc_zeroed_below(u64 pages, hpa_t below)
{
	(void)below;
	return page_alloc_zeroed(pages);
}

void page_free(void *p, u64 pages)
{
	freeing(pages);
	free(p);
}

hpa_t page_alloc_range(u64 pages, u64 align, hpa_t below)
{
	void *p = aligned_alloc(align * PAGE_SIZE, pages * PAGE_SIZE);

	(void)below;
	if (p)
		pages_live += (long)pages;
	return (hpa_t)(uintptr_t)p;
}

int page_free_range(hpa_t base, u64 pages)
{
	freeing(pages);
	free((void *)(uintptr_t)base);
	return 0;
}

u64 page_alloc_free_pages(void)
{
	return 0;
}

/* As vm.c's: the RAM goes back to the pool as it leaves the map. */
static void release_ram(hpa_t pa, u64 size)
{
	page_free_range(pa, size / PAGE_SIZE);
}

void guest_add_ram(struct vm *vm, const char *name)
{
	strlcpy(vm->name, name, sizeof(vm->name));
	CHECK_EQ(pt_init(&vm->gpa, &npt_format, release_ram), 0);
	CHECK_EQ(vm_add_ram(vm, 0, 6 * MiB + 12 * KiB), 0);
	CHECK_EQ(vm_add_ram(vm, 4 * GiB, 2 * MiB), 0);
	CHECK_EQ(vm->ram_size, 8 * MiB + 12 * KiB);
}

#define SVC_BASE (256 * MiB)

struct iommu_domain *service_domain(void)
{
	struct iommu_domain *d = iommu_domain_create("service");

	CHECK(d);
	CHECK_EQ(iommu_map(d, SVC_BASE, SVC_BASE, 2 * MiB, PT_R | PT_W), 0);
	return d;
}

void check_service_domain_unchanged(struct iommu_domain *svc)
{
	struct hw_leaf leaves[8];
	u32 n = hw_walk(svc->pt.root, leaves, 8);

	CHECK_EQ(svc->mapped, 2 * MiB);
	CHECK_EQ(n, 1);
	CHECK_EQ(leaves[0].iova, SVC_BASE);
	CHECK_EQ(leaves[0].pa, SVC_BASE);
	CHECK_EQ(leaves[0].size, 2 * MiB);
}

void check_domain_is_the_ram(struct vm *vm)
{
	static struct hw_leaf leaves[4096];
	u32 n;
	u64 mapped = 0;

	CHECK(vm->dma && vm->dma->id);
	if (!vm->dma)
		return;
	CHECK_STR(vm->dma->owner, vm->name);
	CHECK_EQ(vm->dma->mapped, vm->ram_size);
	n = hw_walk(vm->dma->pt.root, leaves, 4096);
	CHECK(n > 0 && n < 4096);
	for (u32 i = 0; i < n; i++) {
		const struct hw_leaf *l = &leaves[i];

		CHECK(l->r && l->w);
		for (u64 off = 0; off < l->size; off += PAGE_SIZE) {
			hpa_t pa = 0;
			u32 perms = 0;

			/* RAM the VM owns, at the same host page as its nested paging has it */
			if (!vm_lookup(vm, l->iova + off, &pa, &perms) || !(perms & PT_OWNED) ||
			    pa != l->pa + off) {
				CHECK_EQ(l->iova + off, -1);
				return;
			}
		}
		mapped += l->size;
	}
	CHECK_EQ(mapped, vm->ram_size); /* and all of it: no leaf overlaps another */
	CHECK_EQ(leaves[0].iova, 0);
	CHECK_EQ(leaves[n - 1].iova + leaves[n - 1].size, 4 * GiB + 2 * MiB);
}

void check_teardown(struct vm *vm)
{
	long before = pages_live;
	u64 table_pages = vm->dma->pt.table_pages, ram_pages = vm->ram_size / PAGE_SIZE;
	u64 npt_pages = vm->gpa.table_pages;
	u16 id = vm->dma->id;
	struct iommu_domain *d = vm->dma, *again;

	CHECK(table_pages > 1);
	free_watch = true;
	free_mark = hw_mark();
	free_did = id;
	frees_too_early = 0;
	vm_release_ram(vm);
	free_watch = false;
	CHECK(hw_domain_invalidated(free_mark, id));
	CHECK_EQ(frees_too_early, 0);
	CHECK_EQ(vm->dma, NULL);
	CHECK_EQ(d->mapped, 0);
	CHECK_EQ(d->pt.root, 0);
	/* the domain's tables and the VM's RAM and map are all back */
	CHECK_EQ(pages_live, before - (long)(table_pages + ram_pages + npt_pages));
	again = iommu_domain_create("next");
	CHECK(again == d && again->id == id); /* its slot and id free for another */
	CHECK_EQ(iommu_domain_destroy(again), 0);
}

void check_failed_teardown(struct vm *vm)
{
	long before = pages_live;
	u64 npt_pages = vm->gpa.table_pages;

	fake_log_clear();
	hw_stall(true);
	vm_release_ram(vm);
	hw_stall(false);
	CHECK(strstr(fake_log_all, "its tables and id are kept out of use"));
	CHECK(strstr(fake_log_all, "its DMA domain could not be torn down: its 8 MiB of RAM are "
				   "kept out of the pool"));
	/* only the NPT's own tables went back: not one RAM page, not one of the domain's tables */
	CHECK_EQ(pages_live, before - (long)npt_pages);
}

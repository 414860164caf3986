// SPDX-License-Identifier: MIT
/* Host stand-in for the page pool: aligned heap pages, with counts to catch leaks. */
#include <keel/page_alloc.h>
#include <stdlib.h>
#include <string.h>

long fake_pages_live;
long fake_pages_fail_after = -1; /* >= 0: fail that many allocations from now */

void *page_alloc_zeroed(u64 npages)
{
	void *p;

	if (fake_pages_fail_after == 0)
		return NULL;
	if (fake_pages_fail_after > 0)
		fake_pages_fail_after--;
	p = aligned_alloc(4096, npages * 4096);
	if (p) {
		memset(p, 0, npages * 4096);
		fake_pages_live += (long)npages;
	}
	return p;
}

void *page_alloc_zeroed_below(u64 npages, hpa_t below)
{
	(void)below;
	return page_alloc_zeroed(npages);
}

void page_free(void *p, u64 npages)
{
	fake_pages_live -= (long)npages;
	free(p);
}

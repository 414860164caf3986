// SPDX-License-Identifier: MIT
/*
 * Symbol lookup for backtraces. scripts/gen_ksyms.py writes the tables from
 * the first link of keel.efi; the second link places them at the end of the
 * image (linker.ld) so no code address moves. Offsets are from ImageBase.
 */
#include <keel/symbols.h>

extern const char ImageBase[];
extern const u32 ksym_count;
extern const u32 ksym_offsets[];
extern const u32 ksym_name_offsets[];
extern const char ksym_names[];

const char *symbol_lookup(u64 addr, u64 *offset)
{
	u64 base = (u64)(uintptr_t)ImageBase;
	u32 lo = 0, hi = ksym_count;

	if (addr < base || !ksym_count || addr - base < ksym_offsets[0])
		return NULL;
	addr -= base;
	while (hi - lo > 1) { /* last symbol at or below addr */
		u32 mid = lo + (hi - lo) / 2;

		if (ksym_offsets[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	*offset = addr - ksym_offsets[lo];
	return ksym_names + ksym_name_offsets[lo];
}

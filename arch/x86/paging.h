/* SPDX-License-Identifier: MIT */
/* The hypervisor's own page tables: an identity map of physical memory. */
#ifndef ARCH_X86_PAGING_H
#define ARCH_X86_PAGING_H

#include <keel/boot_info.h>

/* x86-64 4-level paging entry bits (SDM 3A 4.5, table 4-19 and on). */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX BIT(63)
#define PTE_ADDR_MASK GENMASK(51, 12)
#define PAGING_ADDR_BITS 48 /* what 4-level paging reaches */

/* Builds the identity map below 4 GiB (so APs can load CR3 in 32-bit mode) and switches to it. */
void paging_init(const struct boot_info *bi);
/*
 * Device memory Keel itself touches (an MSI-X table in a BAR): makes sure the
 * identity map covers it; -ERANGE beyond what four levels reach.
 */
int paging_map_io(u64 base, u64 size);
/* CR3 value every CPU loads. */
u64 paging_root(void);

#endif

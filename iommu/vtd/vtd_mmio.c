// SPDX-License-Identifier: MIT
/* VT-d register access: 32- and 64-bit MMIO (VT-d 4.1 10.2), kept apart so unit tests can model a unit. */
#include "vtd_regs.h"

u32 vtd_read32(const struct vtd_unit *u, u32 off)
{
	return *(volatile u32 *)(u->regs + off);
}

u64 vtd_read64(const struct vtd_unit *u, u32 off)
{
	return *(volatile u64 *)(u->regs + off);
}

void vtd_write32(struct vtd_unit *u, u32 off, u32 v)
{
	*(volatile u32 *)(u->regs + off) = v;
}

void vtd_write64(struct vtd_unit *u, u32 off, u64 v)
{
	*(volatile u64 *)(u->regs + off) = v;
}

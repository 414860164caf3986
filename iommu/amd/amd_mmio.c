// SPDX-License-Identifier: MIT
/* AMD-Vi register access: 64-bit MMIO (AMD IOMMU 3.08 3.4), kept apart so unit tests can model a unit. */
#include "amd_regs.h"

u64 amd_read64(const struct amd_unit *u, u32 off)
{
	return *(volatile u64 *)(u->regs + off);
}

void amd_write64(struct amd_unit *u, u32 off, u64 v)
{
	*(volatile u64 *)(u->regs + off) = v;
}

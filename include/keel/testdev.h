/* SPDX-License-Identifier: MIT */
/* The test device: exit port, scratch port, LINT pins and a scratch MMIO page, for the test guests. */
#ifndef KEEL_TESTDEV_H
#define KEEL_TESTDEV_H

#include <lib/types.h>

#define TESTDEV_EXIT_PORT 0xf4	  /* write a status byte: the VM powers off with it */
#define TESTDEV_SCRATCH_PORT 0xe0 /* 4 ports, read back what was written, any width */
#define TESTDEV_FLUSH_PORT \
	0xe4		       /* a 4-byte write of a guest-physical address: that RAM page
					 * leaves the NPT/EPT until its next access (pc-testdev) */
#define TESTDEV_LINT_PORT 0xe8 /* write: bit 0 pulses LINT0, bit 1 LINT1, of every vCPU */
#define TESTDEV_LINT0 BIT(0)
#define TESTDEV_LINT1 BIT(1)
#define TESTDEV_MMIO_BASE 0xfed40000ULL /* one page of registers that behave like RAM */

struct vm;

/*
 * Why it lives in the hypervisor: it is the smallest device that exercises
 * the port-I/O and MMIO-emulation paths of the core itself; like QEMU's
 * pc-testdev, only VMs configured with testdev = on have it.
 */
int testdev_attach(struct vm *vm);

#endif

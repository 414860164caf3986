/* SPDX-License-Identifier: MIT */
/* The part of an 8254 PIT guests use to calibrate their TSC: channel 2 and its gate on port 0x61. */
#ifndef KEEL_VPIT_H
#define KEEL_VPIT_H

struct vm;

/*
 * Why it lives in the hypervisor: Linux times its TSC calibration with PIT
 * channel 2 even when an ACPI PM timer exists, and the counter must follow
 * real time between two guest instructions, which only Keel's clock can do.
 */
int vpit_attach(struct vm *vm);

#endif

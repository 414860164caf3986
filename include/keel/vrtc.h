/* SPDX-License-Identifier: MIT */
/* A guest's CMOS real-time clock (MC146818 on ports 0x70-0x71), read from Keel's wall clock. */
#ifndef KEEL_VRTC_H
#define KEEL_VRTC_H

struct vm;

int vrtc_attach(struct vm *vm);

#endif

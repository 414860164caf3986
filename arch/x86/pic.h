/* SPDX-License-Identifier: MIT */
/* Silencing the legacy 8259 PICs the firmware may have left running. */
#ifndef ARCH_X86_PIC_H
#define ARCH_X86_PIC_H

void pic_disable(void);

#endif

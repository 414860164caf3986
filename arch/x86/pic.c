// SPDX-License-Identifier: MIT
/* The legacy 8259 PICs: remapped away from the exception vectors and fully masked. */
#include <arch/x86/cpu.h>
#include <arch/x86/pc_regs.h>
#include <arch/x86/pic.h>

#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01

void pic_disable(void)
{
	/* Re-initialise so a stray IRQ lands on vectors 0x20-0x2f, not on exceptions. */
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, 0x20);
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 4); /* slave on IRQ2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

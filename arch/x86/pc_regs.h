/* SPDX-License-Identifier: MIT */
/* The PC's legacy devices as their datasheets lay them out: COM ports (16550), 8254 PIT, 8259 PICs. */
#ifndef ARCH_X86_PC_REGS_H
#define ARCH_X86_PC_REGS_H

#include <lib/types.h>

/* The four COM ports' conventional bases; COM1 and COM3 share ISA IRQ 4, COM2 and COM4 IRQ 3. */
#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define COM3_PORT 0x3e8
#define COM4_PORT 0x2e8
#define COM_ISA_IRQ(port) (((port) == COM1_PORT || (port) == COM3_PORT) ? 4 : 3)

/* 16550 UART registers, offsets from its base (PC16550D datasheet, table II). */
#define UART_NR_PORTS 8
#define UART_RBR 0 /* receive buffer (read, DLAB=0) */
#define UART_THR 0 /* transmit holding (write, DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_IER_RX BIT(0)
#define UART_IER_THRE BIT(1)
#define UART_IIR_NONE 0x01
#define UART_IIR_THRE 0x02
#define UART_IIR_RX 0x04
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB BIT(7)
#define UART_MCR_OUT2 BIT(3)
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define UART_LSR_DR BIT(0)
#define UART_LSR_THRE BIT(5)
#define UART_LSR_TEMT BIT(6)
#define UART_MSR_CTS_DSR_DCD 0xb0

/* 82C54 PIT: its ports, its clock, and channel 2's gate and output in port 0x61 (the speaker's). */
#define PIT_HZ 1193182ULL
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_PORT_B 0x61
#define PIT_PORT_B_GATE2 BIT(0)
#define PIT_PORT_B_SPEAKER BIT(1)
#define PIT_PORT_B_OUT2 BIT(5)

/* 8259A PICs (and the ACPI PM timer's clock, ACPI 6.5 4.8.3.3). */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PM_TIMER_HZ 3579545ULL

#endif

/* SPDX-License-Identifier: MIT */
/* The 16550 UART driver for the physical serial port the hypervisor owns. */
#ifndef KEEL_UART_H
#define KEEL_UART_H

#include <lib/types.h>

void uart_init(u16 port, u32 baud);
void uart_write(const char *s, size_t n);
/* Bytes as they are, no LF -> CRLF: a VM's console output. */
void uart_write_raw(const u8 *s, size_t n);
/* Receive interrupts: the handler calls uart_drain() into a ring that uart_getc() reads. */
void uart_enable_rx_irq(void);
void uart_drain(void);
/* Returns the next received byte, or -1 if none is waiting. */
int uart_getc(void);
/* The next received byte without taking it, or -1. */
int uart_peekc(void);
u16 uart_port(void);

#endif

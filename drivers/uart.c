// SPDX-License-Identifier: MIT
/* 16550 UART: polled output with LF -> CRLF, polled input. Register map: PC16550D datasheet. */
#include <arch/x86/cpu.h>
#include <keel/uart.h>

#define UART_RBR 0 /* receive buffer (read, DLAB=0) */
#define UART_THR 0 /* transmit holding (write, DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_DATA_READY BIT(0)
#define LSR_THR_EMPTY BIT(5)
#define UART_CLOCK_DIVISOR_BASE 115200

static u16 uart_base;

void uart_init(u16 port, u32 baud)
{
	u16 div = (u16)(UART_CLOCK_DIVISOR_BASE / (baud ? baud : 115200));

	uart_base = port;
	if (!port)
		return;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, (u8)div);
	outb(port + UART_DLM, (u8)(div >> 8));
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, MCR_DTR_RTS_OUT2);
}

u16 uart_port(void)
{
	return uart_base;
}

static void uart_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the hypervisor. */
	for (int i = 0; i < 100000; i++)
		if (inb(uart_base + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(uart_base + UART_THR, (u8)c);
}

void uart_write(const char *s, size_t n)
{
	if (!uart_base)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

int uart_getc(void)
{
	if (!uart_base || !(inb(uart_base + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(uart_base + UART_RBR);
}

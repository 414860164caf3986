// SPDX-License-Identifier: MIT
/* 16550 UART: polled output with LF -> CRLF, polled input. Register map: PC16550D datasheet. */
#include <arch/x86/cpu.h>
#include <arch/x86/pc_regs.h>
#include <keel/uart.h>

#define UART_CLOCK_DIVISOR_BASE 115200

#define RX_RING 1024

static u16 uart_base;
static struct {
	u8 buf[RX_RING];
	volatile u32 head, tail; /* the interrupt handler writes head, uart_getc reads tail */
} rx;

void uart_init(u16 port, u32 baud)
{
	u16 div = (u16)(UART_CLOCK_DIVISOR_BASE / (baud ? baud : 115200));

	uart_base = port;
	if (!port)
		return;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DLL, (u8)div);
	outb(port + UART_DLM, (u8)(div >> 8));
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

u16 uart_port(void)
{
	return uart_base;
}

static void uart_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the hypervisor. */
	for (int i = 0; i < 100000; i++)
		if (inb(uart_base + UART_LSR) & UART_LSR_THRE)
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

/* Drains the receive FIFO into the ring; from the UART's interrupt, or polled. */
void uart_drain(void)
{
	if (!uart_base)
		return;
	while (inb(uart_base + UART_LSR) & UART_LSR_DR) {
		u8 c = inb(uart_base + UART_RBR);
		u32 h = rx.head;

		if (h - rx.tail < RX_RING) { /* a full ring drops the byte */
			rx.buf[h % RX_RING] = c;
			WRITE_ONCE(rx.head, h + 1);
		}
	}
}

void uart_enable_rx_irq(void)
{
	if (uart_base)
		outb(uart_base + UART_IER, UART_IER_RX);
}

int uart_peekc(void)
{
	uart_drain();
	if (rx.tail == READ_ONCE(rx.head))
		return -1;
	return rx.buf[rx.tail % RX_RING];
}

int uart_getc(void)
{
	int c = uart_peekc();

	if (c >= 0)
		WRITE_ONCE(rx.tail, rx.tail + 1);
	return c;
}

void uart_write_raw(const u8 *s, size_t n)
{
	if (!uart_base)
		return;
	for (size_t i = 0; i < n; i++)
		uart_putc((char)s[i]);
}

// SPDX-License-Identifier: MIT
/* Test guest runtime: COM1 output, an IDT whose traps call handlers, and the PASS/FAIL/exit protocol. */
#include "guest.h"
#include <arch/x86/pc_regs.h>
#include <lib/format.h>
#include <lib/string.h>

#define GATE_INTERRUPT 0x8e00
#define MB_INFO_CMDLINE BIT(2) /* multiboot v1 info flags: cmdline valid */

struct idt_gate {
	u16 lo, sel, flags, mid;
	u32 hi, zero;
} __attribute__((packed));

extern const char guest_isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_fn handlers[256];
volatile u64 trap_count[256];

static void putc_serial(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1_PORT + UART_LSR) & UART_LSR_THRE); i++)
		;
	outb(COM1_PORT + UART_THR, (u8)c);
}

static void sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		putc_serial(s[i]);
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_cb(sink, NULL, fmt, ap);
	va_end(ap);
}

extern u32 mb_info; /* entry.S: the multiboot info's address */

u64 guest_arg(const char *key, u64 dflt)
{
	const u32 *mbi = (const u32 *)(u64)mb_info;
	const char *p;
	size_t n = strlen(key);
	u64 v = 0;

	if (!mbi || !(mbi[0] & MB_INFO_CMDLINE))
		return dflt;
	for (p = (const char *)(u64)mbi[4]; (p = strstr(p, key)); p += n) {
		if (p[n] != '=' || (p != (const char *)(u64)mbi[4] && p[-1] != ' '))
			continue;
		for (p += n + 1; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (u64)(*p - '0');
		return v;
	}
	return dflt;
}

void trap_set(u8 vector, trap_fn fn)
{
	handlers[vector] = fn;
}

void guest_trap(struct gframe *f)
{
	trap_count[f->vector]++;
	if (handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	fail_at(0, "unexpected trap %llu, error %llx at rip %llx", (unsigned long long)f->vector,
		(unsigned long long)f->error, (unsigned long long)f->rip);
}

void guest_exit(u8 status)
{
	outb(TESTDEV_EXIT_PORT, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void pass(void)
{
	gprintf("PASS %s\n", test_name);
	guest_exit(0);
}

void fail_at(int line, const char *fmt, ...)
{
	va_list ap;

	gprintf("FAIL %s line %d: ", test_name, line);
	va_start(ap, fmt);
	format_cb(sink, NULL, fmt, ap);
	va_end(ap);
	gprintf("\n");
	guest_exit(1);
}

static void idt_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)idt };

	for (int v = 0; v < 256; v++) {
		u64 a = (u64)(guest_isr_stubs + v * 16);

		idt[v] = (struct idt_gate){ (u16)a,	    0x08,	    GATE_INTERRUPT,
					    (u16)(a >> 16), (u32)(a >> 32), 0 };
	}
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void guest_start(u32 info)
{
	(void)info; /* also in mb_info */
	idt_init();
	gprintf("START %s\n", test_name);
	test_main();
	pass();
}

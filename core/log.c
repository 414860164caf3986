// SPDX-License-Identifier: MIT
/*
 * The hypervisor log: whole lines under one lock, to the serial port and the
 * framebuffer. The serial port also carries the service VM's console, so a
 * Keel line that comes while the service VM is in the middle of a line
 * waits (in `held`) for that line's end, or for CONSOLE_QUIET_NS of quiet
 * (a shell prompt never ends its line): Keel's lines never split the
 * service VM's. Errors wait too (a guest's triple-fault report is one, and
 * it split the shell's output mid-line); panic mode emits everything at once.
 */
#include <arch/x86/tsc.h>
#include <keel/fbcon.h>
#include <lib/format.h>
#include <keel/log.h>
#include <keel/spinlock.h>
#include <lib/string.h>
#include <keel/uart.h>

#define LOG_PREFIX "keel: "
#define LOG_LINE_MAX 512
#define HELD_MAX 4096
#define CONSOLE_QUIET_NS 200000000ULL

static struct spinlock log_lock = SPINLOCK_INIT;
static u32 log_level = LOG_INFO;
static bool log_unlocked;    /* set once something fatal happened */
static bool console_midline; /* the service VM's last byte was not a newline */
static u64 console_last_ns;
static char held[HELD_MAX];
static size_t held_len;

void log_init(u16 serial_port, u32 baud, u32 level)
{
	uart_init(serial_port, baud);
	log_level = level;
}

static void log_emit(const char *s, size_t n)
{
	uart_write(s, n);
	fbcon_write(s, n);
}

/* With log_lock held: the held lines go out, on a line of their own. */
static void emit_held(void)
{
	if (!held_len)
		return;
	if (console_midline)
		log_emit("\r\n", 2);
	log_emit(held, held_len);
	held_len = 0;
	console_midline = false;
}

static void log_locked_emit(const char *s, size_t n, bool may_wait)
{
	u64 flags;

	if (log_unlocked) {
		log_emit(s, n);
		return;
	}
	flags = spin_lock_irqsave(&log_lock);
	if (may_wait && console_midline && held_len + n <= sizeof(held)) {
		memcpy(held + held_len, s, n);
		held_len += n;
	} else {
		emit_held();
		log_emit(s, n);
	}
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_write(const char *s, size_t n)
{
	log_locked_emit(s, n, false);
}

void log_console_byte(u8 byte)
{
	u64 flags = spin_lock_irqsave(&log_lock);

	uart_write_raw(&byte, 1);
	console_midline = byte != '\n';
	console_last_ns = time_ns();
	if (!console_midline)
		emit_held();
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_flush_held(void)
{
	u64 flags;

	if (!READ_ONCE(held_len))
		return;
	flags = spin_lock_irqsave(&log_lock);
	if (time_ns() - console_last_ns >= CONSOLE_QUIET_NS)
		emit_held();
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_vprintf(u32 level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n = sizeof(LOG_PREFIX) - 1;
	int len;

	if (level > log_level)
		return;
	memcpy(line, LOG_PREFIX, n);
	len = format_vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	n += MIN((size_t)len, sizeof(line) - n - 2);
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	log_locked_emit(line, n, true);
}

void log_printf(u32 level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void log_panic_mode(void)
{
	log_unlocked = true;
	emit_held();
}

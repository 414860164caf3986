// SPDX-License-Identifier: MIT
/* The hypervisor log: whole lines under one lock, to the serial port and the framebuffer. */
#include <keel/fbcon.h>
#include <keel/format.h>
#include <keel/log.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/uart.h>

#define LOG_PREFIX "keel: "
#define LOG_LINE_MAX 512

static struct spinlock log_lock = SPINLOCK_INIT;
static u32 log_level = LOG_INFO;
static bool log_unlocked; /* set once something fatal happened */

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

static void log_locked_emit(const char *s, size_t n)
{
	u64 flags;

	if (log_unlocked) {
		log_emit(s, n);
		return;
	}
	flags = spin_lock_irqsave(&log_lock);
	log_emit(s, n);
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_write(const char *s, size_t n)
{
	log_locked_emit(s, n);
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
	log_locked_emit(line, n);
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
}

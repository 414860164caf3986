/* SPDX-License-Identifier: MIT */
/* Hypervisor messages: "keel: " prefixed lines on the serial port and the framebuffer console. */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <keel/config.h>
#include <lib/types.h>

void log_init(u16 serial_port, u32 baud, u32 level);
void log_printf(u32 level, const char *fmt, ...) __printf(2, 3);
void log_vprintf(u32 level, const char *fmt, va_list ap);
/* Raw bytes without prefix, for dumps that build a line in pieces. */
void log_write(const char *s, size_t n);
/* A byte of the service VM's console, which shares the serial port: Keel's lines wait for its line ends. */
void log_console_byte(u8 byte);
/* Lines held back for a service VM line that has been quiet a while go out now (boot CPU, often). */
void log_flush_held(void);
/* After a fatal error: stop taking the console lock, which a dead CPU may hold. */
void log_panic_mode(void);

#define pr_err(...) log_printf(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

/* Boot-time fatal error: prints, reports through the debug-exit port if set, stops this CPU. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

/* A hypervisor bug. */
#define ASSERT(c)                                                                        \
	do {                                                                             \
		if (unlikely(!(c)))                                                      \
			panic("assertion '%s' failed at %s:%d", #c, __FILE__, __LINE__); \
	} while (0)

#endif

// SPDX-License-Identifier: MIT
/* Host stand-in for the hypervisor log: messages go to stderr, panic aborts. */
#include <lib/format.h>
#include <keel/log.h>
#include <stdio.h>
#include <stdlib.h>

char fake_log_last[512];

void log_vprintf(u32 level, const char *fmt, va_list ap)
{
	(void)level;
	format_vsnprintf(fake_log_last, sizeof(fake_log_last), fmt, ap);
}

void log_printf(u32 level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

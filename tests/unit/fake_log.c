// SPDX-License-Identifier: MIT
/* Host stand-in for the hypervisor log: the last message and every one since fake_log_clear() are kept, panic aborts. */
#include <lib/format.h>
#include <keel/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char fake_log_last[512];
/* Every message since fake_log_clear(), one a line (the oldest kept when it fills). */
char fake_log_all[8192];

void fake_log_clear(void);
void fake_log_clear(void)
{
	fake_log_all[0] = 0;
}

void log_vprintf(u32 level, const char *fmt, va_list ap)
{
	size_t used = strlen(fake_log_all);

	(void)level;
	format_vsnprintf(fake_log_last, sizeof(fake_log_last), fmt, ap);
	if (used + strlen(fake_log_last) + 2 <= sizeof(fake_log_all))
		format_snprintf(fake_log_all + used, sizeof(fake_log_all) - used, "%s\n",
				fake_log_last);
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

// SPDX-License-Identifier: MIT
/* keel-dm's log: one "keel-dm: " line per event on stderr, which a daemon points at its log file. */
#include "dm.h"
#include <stdarg.h>
#include <stdio.h>

void dm_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "keel-dm: %s\n", line); /* one write: lines stay whole */
}

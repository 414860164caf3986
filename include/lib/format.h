/* SPDX-License-Identifier: MIT */
/* printf-style formatting into a buffer or a character sink. */
#ifndef KEEL_FORMAT_H
#define KEEL_FORMAT_H

#include <lib/types.h>

/* Receives formatted output in pieces; n bytes at s, not NUL-terminated. */
typedef void (*format_sink_fn)(void *ctx, const char *s, size_t n);

/*
 * Supported: %d %i %u %x %X %o %p %s %c %%, flags '-' '0' '+' ' ' '#',
 * width and precision (also '*'), length modifiers hh h l ll z t j.
 * Returns the number of characters produced.
 */
int format_cb(format_sink_fn sink, void *ctx, const char *fmt, va_list ap);
int format_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int format_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif

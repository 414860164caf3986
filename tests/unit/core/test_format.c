// SPDX-License-Identifier: MIT
/* Unit tests for lib/format.c against the C library's printf where they must agree. */
#include "test.h"
#include <lib/format.h>
#include <stdarg.h>
#include <stdint.h>

#define SAME(...)                                                        \
	do {                                                             \
		char want[256], got[256];                                \
		int nw = snprintf(want, sizeof(want), __VA_ARGS__);      \
		int ng = format_snprintf(got, sizeof(got), __VA_ARGS__); \
		CHECK_STR(got, want);                                    \
		CHECK_EQ(ng, nw);                                        \
	} while (0)

TEST(integers)
{
	SAME("%d %d %d", 0, -1, 2147483647);
	SAME("%d", (int)-2147483648LL);
	SAME("%u %x %X %o", 4000000000u, 0xdeadbeefu, 0xabcu, 0755u);
	SAME("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
	SAME("%ld %lx %zu %zx", -5L, 0x123456789abcUL, (size_t)77, (size_t)0xff);
	SAME("%hhu %hd %hhx", 300, 70000, 0x1ff);
}

TEST(width_and_flags)
{
	SAME("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	SAME("[%08x] [%#x] [%#o] [%#X] [%#x]", 0xbeefu, 0x1fu, 8u, 0xabu, 0u);
	SAME("[%016llx]", 0x12345ULL);
	SAME("[%.3d] [%8.3d] [%-8.3d] [%.0d]", 7, 7, -7, 0);
	SAME("[%*d] [%-*d] [%.*d]", 6, 1, 6, 1, 4, 9);
	SAME("[%05d] [%-5d]", -42, -42);
}

TEST(strings_chars_percent)
{
	SAME("[%s] [%10s] [%-10s] [%.2s] [%.*s]", "abc", "abc", "abc", "abc", 1, "xyz");
	SAME("[%c%c%c] [%3c] [%-3c]", 'a', 'b', 'c', 'x', 'y');
	SAME("100%% sure");
	SAME("%s", "");
}

TEST(pointer)
{
	char got[64];

	format_snprintf(got, sizeof(got), "%p", (void *)0x1234);
	CHECK_STR(got, "0x1234");
	format_snprintf(got, sizeof(got), "%p", (void *)0xffff800000001000ULL);
	CHECK_STR(got, "0xffff800000001000");
}

TEST(truncation)
{
	char buf[8];
	int n;

	memset(buf, 'Z', sizeof(buf));
	n = format_snprintf(buf, sizeof(buf), "%s", "hello world");
	CHECK_EQ(n, 11);
	CHECK_STR(buf, "hello w");
	n = format_snprintf(buf, 1, "abc");
	CHECK_EQ(n, 3);
	CHECK_EQ(buf[0], 0);
	n = format_snprintf(NULL, 0, "%d", 12345);
	CHECK_EQ(n, 5);
}

/* Deliberately malformed formats: hide them from the compiler's format checks. */
static int fmt_unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

TEST(null_string_and_unknown_conversion)
{
	char buf[32];
	const char *null_str = NULL;

	fmt_unchecked(buf, sizeof(buf), "%s", null_str);
	CHECK_STR(buf, "(null)");
	fmt_unchecked(buf, sizeof(buf), "a%qb");
	CHECK_STR(buf, "a%qb");
	fmt_unchecked(buf, sizeof(buf), "trailing %");
	CHECK_STR(buf, "trailing ");
}

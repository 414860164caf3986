/* SPDX-License-Identifier: MIT */
/* A tiny host unit-test harness: TEST() cases, CHECK macros, an "N passed, N failed" summary. */
#ifndef KEEL_TEST_H
#define KEEL_TEST_H

#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

extern struct test_case *test_list;
extern int test_failed_checks;

#define TEST(name)                                                        \
	static void test_##name(void);                                    \
	static struct test_case tc_##name = { #name, test_##name, NULL }; \
	__attribute__((constructor)) static void reg_##name(void)         \
	{                                                                 \
		tc_##name.next = test_list;                               \
		test_list = &tc_##name;                                   \
	}                                                                 \
	static void test_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                 \
		long long _a = (long long)(a), _b = (long long)(b);          \
		if (_a != _b) {                                              \
			fprintf(stderr,                                      \
				"  %s:%d: %s == %s failed: %lld (0x%llx) "   \
				"vs %lld (0x%llx)\n",                        \
				__FILE__, __LINE__, #a, #b, _a, _a, _b, _b); \
			test_failed_checks++;                                \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                         \
	do {                                                                    \
		const char *_a = (a), *_b = (b);                                \
		if (!_a || !_b || strcmp(_a, _b)) {                             \
			fprintf(stderr,                                         \
				"  %s:%d: %s == %s failed: "                    \
				"\"%s\" vs \"%s\"\n",                           \
				__FILE__, __LINE__, #a, #b, _a ? _a : "(null)", \
				_b ? _b : "(null)");                            \
			test_failed_checks++;                                   \
		}                                                               \
	} while (0)

#endif

// SPDX-License-Identifier: MIT
/* Runs every registered TEST() in order and prints the summary line. */
#include "test.h"

struct test_case *test_list;
int test_failed_checks;

static void reverse(void)
{
	struct test_case *prev = NULL, *t = test_list;

	while (t) {
		struct test_case *next = t->next;

		t->next = prev;
		prev = t;
		t = next;
	}
	test_list = prev;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	reverse();
	for (struct test_case *t = test_list; t; t = t->next) {
		int before = test_failed_checks;

		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		t->fn();
		if (test_failed_checks == before) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "FAIL %s\n", t->name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/*
 * A tiny unit-test harness: CHECK() records a failure with its location and
 * carries on; TEST_MAIN prints one "ok"/"not ok" line per test function and
 * exits non-zero when anything failed.
 */
#ifndef TESTS_UNIT_HARNESS_H
#define TESTS_UNIT_HARNESS_H

#include <stdio.h>
#include <string.h>

static int	harness_failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		harness_failures++;					\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *harness_a = (a), *harness_b = (b);			\
	if (harness_a == NULL || harness_b == NULL ||			\
	    strcmp(harness_a, harness_b) != 0) {			\
		fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s "	\
		    "(\"%s\" vs \"%s\")\n", __FILE__, __LINE__, #a, #b,	\
		    harness_a ? harness_a : "(null)",			\
		    harness_b ? harness_b : "(null)");			\
		harness_failures++;					\
	}								\
} while (0)

struct harness_test {
	const char	*name;
	void		(*fn)(void);
};

static int
harness_run(const char *suite, const struct harness_test *t, size_t n)
{
	size_t	i;
	int	before, failed = 0;

	for (i = 0; i < n; i++) {
		before = harness_failures;
		t[i].fn();
		if (harness_failures != before) {
			printf("not ok %s.%s\n", suite, t[i].name);
			failed++;
		} else
			printf("ok %s.%s\n", suite, t[i].name);
	}
	return failed ? 1 : 0;
}

#define TEST(fn)	{ #fn, fn }
#define TEST_MAIN(suite, ...)						\
int									\
main(void)								\
{									\
	static const struct harness_test tests[] = { __VA_ARGS__ };	\
	return harness_run(suite, tests, sizeof(tests) / sizeof(tests[0])); \
}

#endif

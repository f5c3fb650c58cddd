/* SPDX-License-Identifier: MIT */
/*
 * The checks of the unit tests in tests/unit, each a plain main() built alone:
 * a failed CHECK or CHECK_STR prints where and what, and counts in failures
 * (a test may count its own failed checks there too); main ends with
 * return check_report("NAME").
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                \
			failures++;                                              \
		}                                                                \
	} while (0)

#define CHECK_STR(got, want)                                                     \
	do {                                                                     \
		const char *g_ = (got), *w_ = (want);                            \
		if (!g_ || strcmp(g_, w_) != 0) {                                \
			fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n",    \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_); \
			failures++;                                              \
		}                                                                \
	} while (0)

/* main's exit status: 1, with how many checks failed, when any did. */
static inline int check_report(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

#endif

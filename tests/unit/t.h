/* t.h — the unit-test harness: one binary per module, one function per test.
 *
 *   static void test_glob_star(void) { T_CHECK(wsb_match_glob("a*", "abc")); }
 *   int main(void) { T_RUN(test_glob_star); return t_done(); }
 *
 * Prints "PASS <suite>: <test>" or "FAIL <suite>: <test>" (with the failed
 * checks above it) per test, then "N passed, N failed"; tests/run.sh adds the
 * counts of every binary. Exit status 1 if anything failed.
 */
#ifndef WSB_T_H
#define WSB_T_H

#include <stdio.h>
#include <string.h>

static int t_failed_checks, t_pass, t_fail;

#define T_CHECK(cond)                                                                  \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stdout, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			t_failed_checks++;                                             \
		}                                                                      \
	} while (0)

#define T_STREQ(a, b)                                                                  \
	do {                                                                           \
		const char *t_a_ = (a), *t_b_ = (b);                                   \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_)) {                            \
			fprintf(stdout, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
				t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");       \
			t_failed_checks++;                                             \
		}                                                                      \
	} while (0)

#define T_RUN(fn)                                                                      \
	do {                                                                           \
		int t_before_ = t_failed_checks;                                       \
		fn();                                                                  \
		if (t_failed_checks == t_before_) {                                    \
			t_pass++;                                                      \
			printf("PASS %s: %s\n", T_SUITE, #fn);                         \
		} else {                                                               \
			t_fail++;                                                      \
			printf("FAIL %s: %s\n", T_SUITE, #fn);                         \
		}                                                                      \
		fflush(stdout);                                                        \
	} while (0)

static inline int t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif

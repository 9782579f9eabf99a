#define T_SUITE "sys"
#include "t.h"

#include <stdint.h>

#include "sys.h"

/* Large draws come back whole (getrandom may return short reads), and two
 * draws differ: 2^-256 odds of a false failure. */
static void test_random_bytes(void)
{
	static unsigned char a[100000], b[32], c[32];
	size_t zeros = 0;

	T_CHECK(wsb_random_bytes(a, sizeof a) == 0);
	for (size_t i = sizeof a - 4096; i < sizeof a; i++)
		zeros += !a[i];
	T_CHECK(zeros < 64);	/* the tail was written too (expected ~16) */
	T_CHECK(wsb_random_bytes(b, sizeof b) == 0 && wsb_random_bytes(c, sizeof c) == 0);
	T_CHECK(memcmp(b, c, sizeof b) != 0);
	T_CHECK(wsb_random_bytes(NULL, 0) == 0);
}

static void test_random64(void)
{
	T_CHECK(wsb_random64() != wsb_random64());
}

static void test_mono(void)
{
	uint64_t a = wsb_mono_ns(), b = wsb_mono_ns();

	T_CHECK(a > 0 && b >= a);
}

int main(void)
{
	T_RUN(test_random_bytes);
	T_RUN(test_random64);
	T_RUN(test_mono);
	return t_done();
}

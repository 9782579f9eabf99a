#define T_SUITE "sys"
#include "t.h"

#include <stdint.h>
#include <string.h>

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

/* Mask keys: one getrandom per 4 KiB, every byte handed out once, a draw
 * that does not fit in what is left starts a new block, and what comes
 * out is not a pattern (two 64-bit draws equal: 2^-64 odds). */
static void test_random_take(void)
{
	static struct wsb_random_pool pool;
	static unsigned char keys[WSB_RANDOM_POOL / 4 * 3][4];
	unsigned char odd[6];
	size_t zeros = 0, same = 0;
	uint64_t a, b;

	for (size_t i = 0; i < sizeof keys / 4; i++)
		wsb_random_take(&pool, keys[i], 4);
	T_CHECK(pool.refills == 3);	/* 1024 keys per block */
	for (size_t i = 0; i < sizeof keys / 4; i++)
		zeros += !memcmp(keys[i], "\0\0\0\0", 4);
	T_CHECK(zeros < 2);
	for (size_t i = 1; i < sizeof keys / 4; i++)
		same += !memcmp(keys[i], keys[i - 1], 4);
	T_CHECK(same < 2);
	T_CHECK(pool.used == WSB_RANDOM_POOL);
	wsb_random_take(&pool, odd, sizeof odd);	/* does not fit: a new block */
	T_CHECK(pool.refills == 4 && pool.used == sizeof odd);
	wsb_random_take(&pool, &a, 8);
	wsb_random_take(&pool, &b, 8);
	T_CHECK(a != b);
	T_CHECK(pool.used == sizeof odd + 16);
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
	T_RUN(test_random_take);
	T_RUN(test_mono);
	return t_done();
}

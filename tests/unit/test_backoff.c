#define T_SUITE "backoff"
#include "t.h"

#include "backoff.h"

/* Nominal delay for attempt a with min 1000, max 60000. */
static uint32_t nominal(uint32_t a)
{
	uint64_t v = a < 32 ? (uint64_t)1000 << a : UINT64_MAX;

	return v > 60000 ? 60000 : (uint32_t)v;
}

static int in_range(uint32_t d, uint32_t nom)
{
	/* 0.8 and 1.2 times nom, with one ms of rounding either side. */
	return (uint64_t)d * 10 + 10 >= (uint64_t)nom * 8 &&
	       (uint64_t)d * 10 <= (uint64_t)nom * 12 + 10 && d <= 60000;
}

static void test_first_delays(void)
{
	struct wsb_backoff b;
	uint64_t seed;
	uint32_t a, d;
	int bad = 0;

	for (seed = 0; seed < 200; seed++) {
		wsb_backoff_init(&b, 1000, 60000, seed);
		for (a = 0; a < 12; a++) {
			d = wsb_backoff_next(&b);
			if (!in_range(d, nominal(a))) {
				if (bad++ < 5)
					printf("  seed %llu attempt %u: %u ms\n",
					       (unsigned long long)seed, a, d);
			}
		}
		T_CHECK(b.attempt == 12);
	}
	T_CHECK(bad == 0);
}

static void test_grows_then_caps(void)
{
	struct wsb_backoff b;
	uint32_t d[12];
	int i;

	wsb_backoff_init(&b, 1000, 60000, 42);
	for (i = 0; i < 12; i++)
		d[i] = wsb_backoff_next(&b);
	T_CHECK(d[0] >= 800 && d[0] <= 1200);
	T_CHECK(d[3] >= 6400 && d[3] <= 9600);
	/* From attempt 6 on (64 s nominal) the cap applies: 48..60 s. */
	for (i = 6; i < 12; i++)
		T_CHECK(d[i] >= 48000 && d[i] <= 60000);
}

static void test_reset(void)
{
	struct wsb_backoff b;
	uint32_t d;
	int i;

	wsb_backoff_init(&b, 1000, 60000, 7);
	for (i = 0; i < 9; i++)
		wsb_backoff_next(&b);
	wsb_backoff_reset(&b);
	T_CHECK(b.attempt == 0);
	d = wsb_backoff_next(&b);
	T_CHECK(d >= 800 && d <= 1200);
	d = wsb_backoff_next(&b);
	T_CHECK(d >= 1600 && d <= 2400);
}

static void test_jitter_varies(void)
{
	struct wsb_backoff b;
	uint32_t first[64], lo = UINT32_MAX, hi = 0;
	int i, j, distinct = 0;

	/* Neighbouring seeds (pids, times) must still spread out. */
	for (i = 0; i < 64; i++) {
		wsb_backoff_init(&b, 1000, 60000, (uint64_t)i + 1);
		first[i] = wsb_backoff_next(&b);
		if (first[i] < lo)
			lo = first[i];
		if (first[i] > hi)
			hi = first[i];
	}
	for (i = 0; i < 64; i++) {
		for (j = 0; j < i; j++)
			if (first[j] == first[i])
				break;
		if (j == i)
			distinct++;
	}
	T_CHECK(distinct >= 40);
	T_CHECK(lo < 900);
	T_CHECK(hi > 1100);

	/* And successive delays at the cap are not all the same either. */
	wsb_backoff_init(&b, 1000, 60000, 99);
	for (i = 0; i < 10; i++)
		wsb_backoff_next(&b);
	lo = UINT32_MAX;
	hi = 0;
	for (i = 0; i < 50; i++) {
		uint32_t d = wsb_backoff_next(&b);

		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	T_CHECK(hi - lo > 3000);
}

static void test_seed_zero(void)
{
	struct wsb_backoff a, b;
	int i, same = 1;

	wsb_backoff_init(&a, 1000, 60000, 0);
	T_CHECK(a.rng != 0);
	wsb_backoff_init(&b, 1000, 60000, 0);
	for (i = 0; i < 20; i++)
		if (wsb_backoff_next(&a) != wsb_backoff_next(&b))
			same = 0;
	T_CHECK(same);	/* deterministic for a given seed */
	T_CHECK(a.rng != 0);
}

static void test_no_overflow(void)
{
	struct wsb_backoff b;
	uint32_t d;
	int i, bad = 0;

	wsb_backoff_init(&b, 1000, 60000, 3);
	for (i = 0; i < 100; i++) {
		d = wsb_backoff_next(&b);
		if (i >= 6 && (d < 48000 || d > 60000))
			bad++;
	}
	T_CHECK(bad == 0);
	T_CHECK(b.attempt == 100);

	/* Large min and max: min << attempt would overflow 32 bits early. */
	wsb_backoff_init(&b, 4000000000u, UINT32_MAX, 5);
	for (i = 0; i < 100; i++) {
		d = wsb_backoff_next(&b);
		if (d < 3200000000u)
			bad++;
	}
	T_CHECK(bad == 0);

	/* The attempt counter saturates instead of wrapping to 0. */
	b.attempt = UINT32_MAX - 1;
	wsb_backoff_next(&b);
	wsb_backoff_next(&b);
	T_CHECK(b.attempt == UINT32_MAX);
	d = wsb_backoff_next(&b);
	T_CHECK(d >= 3435973836u);	/* 0.8 * UINT32_MAX, still at the cap */
}

static void test_degenerate(void)
{
	struct wsb_backoff b;
	uint32_t d;
	int i, bad = 0;

	/* min 0: never a zero delay (a busy reconnect loop). */
	wsb_backoff_init(&b, 0, 0, 1);
	for (i = 0; i < 5; i++)
		if (wsb_backoff_next(&b) != 1)
			bad++;
	T_CHECK(bad == 0);

	/* min 1: jitter may round down, but never below 1 ms. */
	wsb_backoff_init(&b, 1, 1000, 1);
	d = wsb_backoff_next(&b);
	T_CHECK(d == 1);

	/* min above max: max wins. */
	wsb_backoff_init(&b, 5000, 2000, 1);
	for (i = 0; i < 5; i++) {
		d = wsb_backoff_next(&b);
		if (d < 1600 || d > 2000)
			bad++;
	}
	T_CHECK(bad == 0);
}

int main(void)
{
	T_RUN(test_first_delays);
	T_RUN(test_grows_then_caps);
	T_RUN(test_reset);
	T_RUN(test_jitter_varies);
	T_RUN(test_seed_zero);
	T_RUN(test_no_overflow);
	T_RUN(test_degenerate);
	return t_done();
}

#define T_SUITE "ratelimit"
#include "t.h"

#include "ratelimit.h"

static void test_off(void)
{
	struct wsb_rate r = { 0, 1 };
	struct wsb_bucket b = { 0 };

	for (int i = 0; i < 1000; i++)
		T_CHECK(wsb_bucket_take(&b, &r, 5));
	T_CHECK(wsb_bucket_wait_ms(&b, &r, 5) == 0);
}

static void test_burst_then_rate(void)
{
	struct wsb_rate r = { 10, 3 };	/* 10/s, 3 at once */
	struct wsb_bucket b = { 0 };
	uint64_t t = 1000;

	T_CHECK(wsb_bucket_take(&b, &r, t) && wsb_bucket_take(&b, &r, t) && wsb_bucket_take(&b, &r, t));
	T_CHECK(!wsb_bucket_take(&b, &r, t));
	T_CHECK(!wsb_bucket_ready(&b, &r, t));
	T_CHECK(wsb_bucket_wait_ms(&b, &r, t) == 100);
	T_CHECK(!wsb_bucket_take(&b, &r, t + 99));
	T_CHECK(wsb_bucket_take(&b, &r, t + 100));
	T_CHECK(!wsb_bucket_take(&b, &r, t + 100));
	/* A long idle time refills to the burst, no more. */
	t += 60000;
	for (int i = 0; i < 3; i++)
		T_CHECK(wsb_bucket_take(&b, &r, t));
	T_CHECK(!wsb_bucket_take(&b, &r, t));
}

static void test_charge_into_debt(void)
{
	struct wsb_rate r = { 100, 2 };
	struct wsb_bucket b = { 0 };
	uint64_t t = 50;

	wsb_bucket_charge(&b, &r, t);
	wsb_bucket_charge(&b, &r, t);
	T_CHECK(wsb_bucket_wait_ms(&b, &r, t) == 10);
	wsb_bucket_charge(&b, &r, t);	/* 1 in debt: two tokens to wait for */
	wsb_bucket_charge(&b, &r, t);
	T_CHECK(wsb_bucket_wait_ms(&b, &r, t) == 30);
	T_CHECK(wsb_bucket_wait_ms(&b, &r, t + 30) == 0);
	T_CHECK(wsb_bucket_take(&b, &r, t + 30));
}

static void test_slow_rate(void)
{
	struct wsb_rate r = { 0.5, 1 };	/* one every two seconds */
	struct wsb_bucket b = { 0 };

	T_CHECK(wsb_bucket_take(&b, &r, 0));
	T_CHECK(wsb_bucket_wait_ms(&b, &r, 0) == 2000);
	T_CHECK(!wsb_bucket_take(&b, &r, 1999));
	T_CHECK(wsb_bucket_take(&b, &r, 2000));
}

int main(void)
{
	T_RUN(test_off);
	T_RUN(test_burst_then_rate);
	T_RUN(test_charge_into_debt);
	T_RUN(test_slow_rate);
	return t_done();
}

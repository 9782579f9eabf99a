#define T_SUITE "replay"
#include "t.h"

#include <stdint.h>

#include "envelope.h"
#include "replay.h"

#define MS 1000000LL
#define START (1000 * MS)	/* an arbitrary monotonic clock reading */

/* Deadlines for timestamps ts[0..n) (ms) relative to START, in ms. The
 * clock passed in is always START: the schedule must not depend on when
 * each message happens to be asked about. */
static void offsets(struct wsb_replay_sched *s, const int64_t *ts, int n, double *out)
{
	for (int i = 0; i < n; i++)
		out[i] = (double)(wsb_replay_sched_next(s, START + (i ? 7 * MS : 0), 1, ts[i]) - START) / MS;
}

static const int64_t rec[] = { 5000, 5050, 5100, 5150, 5400 };

static void test_speed_1(void)
{
	struct wsb_replay_sched s;
	double d[5];

	wsb_replay_sched_init(&s, 1, 0, 0);
	T_CHECK(wsb_replay_sched_needs_ts(&s));
	offsets(&s, rec, 5, d);
	T_CHECK(d[0] == 0 && d[1] == 50 && d[2] == 100 && d[3] == 150 && d[4] == 400);
}

static void test_speed_10_and_half(void)
{
	struct wsb_replay_sched s;
	double d[5];

	wsb_replay_sched_init(&s, 10, 0, 0);
	offsets(&s, rec, 5, d);
	T_CHECK(d[0] == 0 && d[1] == 5 && d[2] == 10 && d[4] == 40);
	wsb_replay_sched_init(&s, 0.5, 0, 0);
	offsets(&s, rec, 5, d);
	T_CHECK(d[0] == 0 && d[1] == 100 && d[4] == 800);
}

static void test_speed_0_no_wait(void)
{
	struct wsb_replay_sched s;

	wsb_replay_sched_init(&s, 0, 0, 0);
	T_CHECK(!wsb_replay_sched_needs_ts(&s));
	T_CHECK(wsb_replay_sched_next(&s, START, 1, 5000) == START);
	T_CHECK(wsb_replay_sched_next(&s, START + 1, 1, 9000000) == START + 1);
}

static void test_no_drift(void)
{
	struct wsb_replay_sched s;
	int64_t d = 0;

	/* 100000 messages 1 ms apart: the last deadline is exactly 99.999 s
	 * after the first, however late each call is made. */
	wsb_replay_sched_init(&s, 1, 0, 0);
	for (int64_t i = 0; i < 100000; i++)
		d = wsb_replay_sched_next(&s, START + i * 3 * MS, 1, 1700000000000LL + i);
	T_CHECK(d == START + 99999 * MS);
}

static void test_rate(void)
{
	struct wsb_replay_sched s;

	wsb_replay_sched_init(&s, 1, 100, 0);
	T_CHECK(!wsb_replay_sched_needs_ts(&s));
	T_CHECK(wsb_replay_sched_next(&s, START, 0, 0) == START);
	/* timestamps are ignored: i / rate */
	T_CHECK(wsb_replay_sched_next(&s, START + 50 * MS, 1, 999999) == START + 10 * MS);
	T_CHECK(wsb_replay_sched_next(&s, START, 1, 0) == START + 20 * MS);
	for (int i = 3; i < 1000; i++)
		wsb_replay_sched_next(&s, START, 0, 0);
	T_CHECK(wsb_replay_sched_next(&s, START, 0, 0) == START + 10000 * MS);
}

static void test_max_gap(void)
{
	struct wsb_replay_sched s;
	static const int64_t gaps[] = { 0, 100, 5100, 5200, 5300, 65300 };
	double d[6];

	wsb_replay_sched_init(&s, 1, 0, 0.2);
	offsets(&s, gaps, 6, d);
	/* 5 s and 60 s gaps become 200 ms each; the rest keep their spacing. */
	T_CHECK(d[1] == 100 && d[2] == 300 && d[3] == 400 && d[4] == 500 && d[5] == 700);
	/* with --speed 2 the capped gap is halved too */
	wsb_replay_sched_init(&s, 2, 0, 0.2);
	offsets(&s, gaps, 6, d);
	T_CHECK(d[2] == 150 && d[5] == 350);
}

static void test_out_of_order_and_missing(void)
{
	struct wsb_replay_sched s;

	wsb_replay_sched_init(&s, 1, 0, 0);
	T_CHECK(wsb_replay_sched_next(&s, START, 1, 1000) == START);
	T_CHECK(wsb_replay_sched_next(&s, START + MS, 1, 900) < START + MS);
	/* no timestamp: now, and the schedule is unchanged */
	T_CHECK(wsb_replay_sched_next(&s, START + 5 * MS, 0, 0) == START + 5 * MS);
	T_CHECK(wsb_replay_sched_next(&s, START + 5 * MS, 1, 1300) == START + 300 * MS);
}

static void test_loop_shift(void)
{
	struct wsb_replay_loop l = { 0 };
	int64_t prev = INT64_MIN, shift;
	int mono = 1;

	T_CHECK(wsb_replay_loop_shift(&l) == 0);
	for (int i = 0; i < 5; i++)
		wsb_replay_loop_see(&l, rec[i]);
	shift = wsb_replay_loop_shift(&l);
	T_CHECK(shift == 400 + 100);	/* span 400, 4 gaps: mean 100 */
	for (int pass = 0; pass < 4; pass++)
		for (int i = 0; i < 5; i++) {
			int64_t t = rec[i] + pass * shift;

			mono &= t > prev;
			prev = t;
		}
	T_CHECK(mono);

	/* one message, or all at the same time: shifted by 1 ms at least */
	l = (struct wsb_replay_loop){ 0 };
	wsb_replay_loop_see(&l, 42);
	T_CHECK(wsb_replay_loop_shift(&l) == 1);
	wsb_replay_loop_see(&l, 42);
	wsb_replay_loop_see(&l, 42);
	T_CHECK(wsb_replay_loop_shift(&l) == 1);
	/* out of order: span is max - min */
	l = (struct wsb_replay_loop){ 0 };
	wsb_replay_loop_see(&l, 300);
	wsb_replay_loop_see(&l, 100);
	wsb_replay_loop_see(&l, 200);
	T_CHECK(wsb_replay_loop_shift(&l) == 200 + 100);
}

static void test_epoch_numbers(void)
{
	int64_t ms;

	T_CHECK(!wsb_replay_epoch_ms(1795317100, &ms) && ms == 1795317100000LL);
	T_CHECK(!wsb_replay_epoch_ms(1795317100.123, &ms) && ms == 1795317100123LL);
	T_CHECK(!wsb_replay_epoch_ms(1795317100123.0, &ms) && ms == 1795317100123LL);
	T_CHECK(!wsb_replay_epoch_ms(0, &ms) && ms == 0);
	T_CHECK(!wsb_replay_epoch_ms(99999999999.0, &ms) && ms == 99999999999000LL);	/* seconds */
	T_CHECK(!wsb_replay_epoch_ms(100000000001.0, &ms) && ms == 100000000001LL);	/* ms */
	T_CHECK(wsb_replay_epoch_ms(-1, &ms) == -1);
	T_CHECK(wsb_replay_epoch_ms(1.0 / 0.0, &ms) == -1);
}

static void test_format_ts(void)
{
	char b[64];

	wsb_replay_format_ts(b, sizeof b, 1795317100123LL, WSB_TS_ISO);
	T_STREQ(b, "\"2026-11-22T03:11:40.123Z\"");
	wsb_replay_format_ts(b, sizeof b, 1795317100123LL, WSB_TS_EPOCH_MS);
	T_STREQ(b, "1795317100123");
	wsb_replay_format_ts(b, sizeof b, 1795317100123LL, WSB_TS_EPOCH_S);
	T_STREQ(b, "1795317100.123");
	wsb_replay_format_ts(b, sizeof b, 1795317100000LL, WSB_TS_EPOCH_S);
	T_STREQ(b, "1795317100");
	wsb_replay_format_ts(b, sizeof b, 1795317100007LL, WSB_TS_EPOCH_S);
	T_STREQ(b, "1795317100.007");
}

static void test_bounds(void)
{
	struct wsb_replay_bound b;

	T_CHECK(!wsb_replay_bound_parse(NULL, &b) && b.kind == WSB_BOUND_NONE);
	T_CHECK(!wsb_replay_bound_parse("42", &b) && b.kind == WSB_BOUND_SEQ && b.seq == 42);
	T_CHECK(!wsb_replay_bound_parse("007", &b) && b.kind == WSB_BOUND_SEQ && b.seq == 7);
	T_CHECK(!wsb_replay_bound_parse("2026", &b) && b.kind == WSB_BOUND_SEQ);
	T_CHECK(!wsb_replay_bound_parse("2026-11-22T03:11:40.123Z", &b) && b.kind == WSB_BOUND_TIME &&
		b.ms == 1795317100123LL);
	T_CHECK(!wsb_replay_bound_parse("2026-11-22T04:11:40+01:00", &b) && b.kind == WSB_BOUND_TIME &&
		b.ms == 1795317100000LL);
	T_CHECK(!wsb_replay_bound_parse("2026-11-22", &b) && b.kind == WSB_BOUND_TIME);
	T_CHECK(wsb_replay_bound_parse("", &b) == -1);
	T_CHECK(wsb_replay_bound_parse("-5", &b) == -1);
	T_CHECK(wsb_replay_bound_parse("12a", &b) == -1);
	T_CHECK(wsb_replay_bound_parse("99999999999999999999999", &b) == -1);
	T_CHECK(wsb_replay_bound_parse("yesterday", &b) == -1);
}

int main(void)
{
	T_RUN(test_speed_1);
	T_RUN(test_speed_10_and_half);
	T_RUN(test_speed_0_no_wait);
	T_RUN(test_no_drift);
	T_RUN(test_rate);
	T_RUN(test_max_gap);
	T_RUN(test_out_of_order_and_missing);
	T_RUN(test_loop_shift);
	T_RUN(test_epoch_numbers);
	T_RUN(test_format_ts);
	T_RUN(test_bounds);
	return t_done();
}

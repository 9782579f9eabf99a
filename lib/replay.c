#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"

void wsb_replay_sched_init(struct wsb_replay_sched *s, double speed, double rate, double max_gap_s)
{
	memset(s, 0, sizeof *s);
	s->speed = speed;
	s->rate = rate;
	s->max_gap_ms = max_gap_s > 0 ? (int64_t)llround(max_gap_s * 1000) : 0;
}

int wsb_replay_sched_needs_ts(const struct wsb_replay_sched *s)
{
	return s->rate <= 0 && s->speed > 0;
}

int64_t wsb_replay_sched_next(struct wsb_replay_sched *s, int64_t now_ns, int has_ts, int64_t ts_ms)
{
	if (s->rate > 0) {
		if (!s->started) {
			s->started = 1;
			s->start_ns = now_ns;
		}
		/* n / rate from the start, not rate-long sleeps: no drift. */
		return s->start_ns + (int64_t)((double)s->n++ * 1e9 / s->rate);
	}
	if (s->speed <= 0 || !has_ts)
		return now_ns;
	if (!s->started) {
		s->started = 1;
		s->start_ns = now_ns;
		s->ts0 = s->hw = ts_ms;
		return now_ns;
	}
	if (ts_ms > s->hw) {
		int64_t gap = ts_ms - s->hw;

		if (s->max_gap_ms > 0 && gap > s->max_gap_ms)
			s->cut_ms += gap - s->max_gap_ms;
		s->hw = ts_ms;
	}
	/* A timestamp earlier than the first (out-of-order recording) gives a
	 * deadline in the past: sent at once, never reordered. */
	return s->start_ns + (int64_t)((double)(ts_ms - s->ts0 - s->cut_ms) * 1e6 / s->speed);
}

void wsb_replay_loop_see(struct wsb_replay_loop *l, int64_t ts_ms)
{
	if (!l->n++) {
		l->first = l->last = ts_ms;
		return;
	}
	if (ts_ms < l->first)
		l->first = ts_ms;
	if (ts_ms > l->last)
		l->last = ts_ms;
}

int64_t wsb_replay_loop_shift(const struct wsb_replay_loop *l)
{
	int64_t span, mean = 1;

	if (!l->n)
		return 0;
	span = l->last - l->first;
	if (l->n > 1 && span / (int64_t)(l->n - 1) > 1)
		mean = span / (int64_t)(l->n - 1);
	return span + mean;
}

int wsb_replay_bound_parse(const char *s, struct wsb_replay_bound *b)
{
	size_t len;

	memset(b, 0, sizeof *b);
	if (!s)
		return 0;
	len = strlen(s);
	if (len && strspn(s, "0123456789") == len) {
		/* A bare year ("2026") would be all digits too; ISO needs "-MM-DD",
		 * so digits alone are always a seq. */
		char *end;

		errno = 0;
		b->seq = strtoull(s, &end, 10);
		if (errno || *end)
			return -1;
		b->kind = WSB_BOUND_SEQ;
		return 0;
	}
	if (wsb_env_parse_time(s, len, &b->ms))
		return -1;
	b->kind = WSB_BOUND_TIME;
	return 0;
}

int wsb_replay_epoch_ms(double v, int64_t *ms)
{
	if (!isfinite(v) || v < 0 || v > 9e15)
		return -1;
	*ms = v > 1e11 ? (int64_t)llround(v) : (int64_t)llround(v * 1000);
	return 0;
}

size_t wsb_replay_format_ts(char *out, size_t cap, int64_t ms, int style)
{
	int n;

	switch (style) {
	case WSB_TS_EPOCH_MS:
		n = snprintf(out, cap, "%" PRId64, ms);
		break;
	case WSB_TS_EPOCH_S:
		n = ms % 1000 ? snprintf(out, cap, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000))
			      : snprintf(out, cap, "%" PRId64, ms / 1000);
		break;
	default: {
		char iso[WSB_TS_LEN];
		struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };

		wsb_env_timestamp(iso, &ts);
		n = snprintf(out, cap, "\"%s\"", iso);
		break;
	}
	}
	return n < 0 ? 0 : (size_t)n;
}

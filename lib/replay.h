/* replay — the pure half of wsbridge-replay (the program is
 * cmd/wsbridge-replay/replay_run.c): recorded NDJSON back out at its recorded
 * pace.
 *
 * Everything here (scheduler, loop shifting, window bounds, epoch numbers) has
 * no I/O so the unit tests can drive it with a made-up clock. Deadlines are
 * absolute, computed from the clock reading at the first message, never
 * from accumulated sleeps, so a long file does not drift.
 */
#ifndef WSB_REPLAY_H
#define WSB_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct wsb_replay_sched {
	double speed;			/* recorded time / replay time; 0: no waiting */
	double rate;			/* > 0: fixed messages per second, timestamps ignored */
	int64_t max_gap_ms;		/* > 0: longer gaps are shortened to this */
	int started;
	int64_t start_ns;		/* the clock at the first scheduled message */
	int64_t ts0;			/* its recorded timestamp */
	int64_t hw;			/* highest timestamp so far, so gaps are measured forward only */
	int64_t cut_ms;			/* recorded time removed by max_gap so far */
	uint64_t n;			/* messages scheduled (for rate) */
};

void wsb_replay_sched_init(struct wsb_replay_sched *s, double speed, double rate, double max_gap_s);
/* 1 if deadlines depend on timestamps (speed > 0 and no rate). */
int wsb_replay_sched_needs_ts(const struct wsb_replay_sched *s);
/* The deadline (ns, same clock as now_ns) for the next message, whose
 * recorded time is ts_ms when has_ts. A message that needs no waiting (speed
 * 0, or no timestamp where one is needed) gets now_ns. */
int64_t wsb_replay_sched_next(struct wsb_replay_sched *s, int64_t now_ns, int has_ts, int64_t ts_ms);

/* --loop: pass k replays timestamps shifted by k * shift, where shift is the
 * first pass's span plus one mean inter-arrival time (at least 1 ms), so the
 * next pass starts one typical gap after the last message of the previous. */
struct wsb_replay_loop {
	int64_t first, last;		/* lowest and highest timestamp of pass 0 */
	uint64_t n;
};

void wsb_replay_loop_see(struct wsb_replay_loop *l, int64_t ts_ms);
int64_t wsb_replay_loop_shift(const struct wsb_replay_loop *l);

/* --from / --to: an all-digit value is a seq, anything else an ISO 8601 time. */
enum { WSB_BOUND_NONE = 0, WSB_BOUND_SEQ, WSB_BOUND_TIME };
struct wsb_replay_bound {
	int kind;
	uint64_t seq;
	int64_t ms;
};

/* Classifies s (NULL: no bound). -1 if it is neither a seq nor a time. */
int wsb_replay_bound_parse(const char *s, struct wsb_replay_bound *b);

/* A timestamp given as a JSON number: above 1e11 it is epoch milliseconds
 * (1e11 s is the year 5138, 1e11 ms is 1973), else epoch seconds. -1 if not
 * finite or negative. */
int wsb_replay_epoch_ms(double v, int64_t *ms);

/* How a timestamp was written, so a shifted one is written the same way. */
enum { WSB_TS_ISO = 0, WSB_TS_EPOCH_MS, WSB_TS_EPOCH_S };
/* Writes ms in style as a JSON value (ISO strings with quotes) into out
 * (NUL-terminated); returns its length. */
size_t wsb_replay_format_ts(char *out, size_t cap, int64_t ms, int style);


#endif

/* stall — how long one lagging subscriber may pause the publishers.
 *
 * A subscriber whose backlog passes 3/4 of --max-queue pauses publishers so
 * that one merely slower than a burst catches up instead of being closed.
 * Each subscriber has a budget: at most max_ms of pausing in total per
 * window of window_ms, counted from the first pause after the previous
 * window ended. Once spent, it pauses nobody until its window ends: it is a
 * plain slow consumer, and --max-queue (then close 4008) applies while
 * everyone else runs at full speed. So a steady reader slower than the
 * publishers holds them back for at most max_ms / window_ms of the time.
 *
 * Pure bookkeeping on a caller's monotonic clock in milliseconds; the
 * broker decides when a backlog crosses the marks. No I/O, no allocation.
 */
#ifndef WSB_STALL_H
#define WSB_STALL_H

#include <stdint.h>

enum { WSB_STALL_NONE, WSB_STALL_ON, WSB_STALL_SPENT };

struct wsb_stall {
	int state;		/* WSB_STALL_* */
	uint64_t since;		/* ON: when this pause began */
	uint64_t win;		/* when the current window began */
	uint64_t used;		/* ms paused in this window, ended pauses only */
};

struct wsb_stall_cfg {
	uint64_t max_ms;	/* pausing allowed per window; 0: never pause */
	uint64_t window_ms;	/* 0: 10 * max_ms */
};

/* The backlog passed the high mark at now (state NONE). Returns the new
 * state: ON (it may pause publishers) or SPENT (its budget for this window
 * is used up). */
int wsb_stall_begin(struct wsb_stall *st, const struct wsb_stall_cfg *c, uint64_t now);
/* The backlog fell under the low mark while ON: the pause ends, its time
 * is charged to the window. */
void wsb_stall_end(struct wsb_stall *st, uint64_t now);
/* Called periodically: ON becomes SPENT when the budget runs out, SPENT
 * becomes NONE when the window ends. Returns 1 if the state changed. */
int wsb_stall_tick(struct wsb_stall *st, const struct wsb_stall_cfg *c, uint64_t now);

#endif

/* backoff — reconnect delays: exponential from min to max with ±20% jitter,
 * so a broker restart is not met by every client at the same instant.
 * Pure: the caller owns the clock and the timer. */
#ifndef WSB_BACKOFF_H
#define WSB_BACKOFF_H

#include <stdint.h>

struct wsb_backoff {
	uint32_t min_ms, max_ms;
	uint32_t attempt;		/* failed attempts since the last success */
	uint64_t rng;			/* xorshift state; seed it, 0 is replaced */
};

void wsb_backoff_init(struct wsb_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed);
/* Delay before the next attempt, and counts the attempt:
 * min(max, min * 2^attempt) scaled by a factor in [0.8, 1.2], capped at max. */
uint32_t wsb_backoff_next(struct wsb_backoff *b);
void wsb_backoff_reset(struct wsb_backoff *b);	/* after a successful connect */

#endif

/* ratelimit — a token bucket: at most `burst` messages at once, refilled
 * at `per_s` a second. The clock is the caller's (milliseconds, monotonic),
 * so the broker's injected clock drives it and tests step it by hand. Pure.
 *
 * Two ways to spend: take() only when a token is there (the reject policy:
 * an over-rate message is refused), charge() always, into debt (the pause
 * policy: nothing is refused, the sender is not read until wait_ms() has
 * passed).
 */
#ifndef WSB_RATELIMIT_H
#define WSB_RATELIMIT_H

#include <stdint.h>

struct wsb_rate {
	double per_s;			/* 0: no limit */
	double burst;			/* >= 1 */
};

struct wsb_bucket {
	double tokens;
	uint64_t at_ms;			/* when tokens was last brought up to date */
	int started;			/* 0: full at the first use */
};

/* 1 if a token is there now (nothing spent). */
int wsb_bucket_ready(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms);
/* Spends a token if there is one: 1, else 0 and nothing changes. */
int wsb_bucket_take(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms);
/* Spends a token whether or not there is one. */
void wsb_bucket_charge(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms);
/* Milliseconds from now_ms until a token is there again (0: now). */
uint64_t wsb_bucket_wait_ms(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms);

#endif

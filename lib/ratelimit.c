#include "ratelimit.h"

#include <math.h>

static void refill(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now)
{
	if (!b->started) {
		b->started = 1;
		b->tokens = r->burst;
		b->at_ms = now;
		return;
	}
	if (now > b->at_ms) {
		b->tokens += (double)(now - b->at_ms) * r->per_s / 1000.0;
		if (b->tokens > r->burst)
			b->tokens = r->burst;
		b->at_ms = now;
	}
}

int wsb_bucket_ready(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms)
{
	if (r->per_s <= 0)
		return 1;
	refill(b, r, now_ms);
	return b->tokens >= 1.0;
}

int wsb_bucket_take(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms)
{
	if (!wsb_bucket_ready(b, r, now_ms))
		return 0;
	if (r->per_s > 0)
		b->tokens -= 1.0;
	return 1;
}

void wsb_bucket_charge(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms)
{
	if (r->per_s <= 0)
		return;
	refill(b, r, now_ms);
	b->tokens -= 1.0;
}

uint64_t wsb_bucket_wait_ms(struct wsb_bucket *b, const struct wsb_rate *r, uint64_t now_ms)
{
	if (r->per_s <= 0)
		return 0;
	refill(b, r, now_ms);
	if (b->tokens >= 1.0)
		return 0;
	/* Rounded up: waking a millisecond early would find no token yet. */
	return (uint64_t)ceil((1.0 - b->tokens) * 1000.0 / r->per_s);
}

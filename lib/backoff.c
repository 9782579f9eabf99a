#include "backoff.h"

/* xorshift64 has a fixed point at 0, so that state must never be used. */
#define SEED_ZERO 0x9e3779b97f4a7c15ULL

/* Callers seed with things like a pid or the time, which differ only in a few
 * low bits; xorshift64 passes such states through nearly unchanged for its
 * first outputs, so clients seeded 1 apart would wait almost the same time.
 * One splitmix64 step spreads every seed bit over the whole state first. */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void wsb_backoff_init(struct wsb_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed)
{
	b->min_ms = min_ms;
	b->max_ms = max_ms;
	b->attempt = 0;
	b->rng = mix(seed ? seed : SEED_ZERO);
	if (!b->rng)
		b->rng = SEED_ZERO;
}

uint32_t wsb_backoff_next(struct wsb_backoff *b)
{
	uint64_t nominal;
	double u, d;

	if (!b->rng)	/* a caller that filled the struct by hand */
		b->rng = SEED_ZERO;
	/* min < 2^32, so shifting by less than 32 cannot overflow 64 bits. */
	nominal = b->attempt < 32 ? (uint64_t)b->min_ms << b->attempt : UINT64_MAX;
	if (nominal > b->max_ms)
		nominal = b->max_ms;

	/* The top 53 bits give a uniform double in [0, 1). */
	u = (double)(xorshift64(&b->rng) >> 11) * (1.0 / 9007199254740992.0);
	d = (double)nominal * (0.8 + 0.4 * u) + 0.5;

	if (b->attempt < UINT32_MAX)
		b->attempt++;
	if (d >= (double)b->max_ms)
		return b->max_ms ? b->max_ms : 1;
	return d < 1.0 ? 1 : (uint32_t)d;
}

void wsb_backoff_reset(struct wsb_backoff *b)
{
	b->attempt = 0;
}

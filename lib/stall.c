#include "stall.h"

static uint64_t window(const struct wsb_stall_cfg *c)
{
	if (c->window_ms)
		return c->window_ms;
	return c->max_ms > UINT64_MAX / 10 ? UINT64_MAX : c->max_ms * 10;
}

int wsb_stall_begin(struct wsb_stall *st, const struct wsb_stall_cfg *c, uint64_t now)
{
	/* A new window starts with the first pause after the last one ended;
	 * until then a spent budget stays spent, however the backlog moves. */
	if (now - st->win >= window(c)) {
		st->win = now;
		st->used = 0;
	}
	if (st->used >= c->max_ms) {
		st->state = WSB_STALL_SPENT;
	} else {
		st->state = WSB_STALL_ON;
		st->since = now;
	}
	return st->state;
}

void wsb_stall_end(struct wsb_stall *st, uint64_t now)
{
	if (st->state == WSB_STALL_ON)
		st->used += now - st->since;
	st->state = WSB_STALL_NONE;
}

int wsb_stall_tick(struct wsb_stall *st, const struct wsb_stall_cfg *c, uint64_t now)
{
	if (st->state == WSB_STALL_ON && st->used + (now - st->since) >= c->max_ms) {
		st->used = c->max_ms;
		st->state = WSB_STALL_SPENT;
		return 1;
	}
	if (st->state == WSB_STALL_SPENT && now - st->win >= window(c)) {
		st->state = WSB_STALL_NONE;
		return 1;
	}
	return 0;
}

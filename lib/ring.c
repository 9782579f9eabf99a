#include "ring.h"

#include <string.h>

void wsb_ring_init(struct wsb_ring *r, size_t esz)
{
	memset(r, 0, sizeof *r);
	r->esz = esz;
}

void wsb_ring_free(struct wsb_ring *r)
{
	wsb_buf_free(&r->b);
	r->cap = r->head = r->n = 0;
}

int wsb_ring_reserve(struct wsb_ring *r, size_t n)
{
	size_t cap = r->cap ? r->cap : 1, first;
	struct wsb_err err;

	while (cap < n) {
		if (cap > (size_t)-1 / 2 / r->esz)
			return -1;
		cap *= 2;
	}
	if (cap == r->cap)
		return 0;
	if (wsb_buf_reserve(&r->b, (cap - r->cap) * r->esz, &err) < 0)
		return -1;
	r->b.len = cap * r->esz;
	/* Unwrap: the part that wrapped to the front moves behind the old end. */
	first = r->cap - r->head;
	if (r->n > first)
		memcpy(r->b.p + r->cap * r->esz, r->b.p, (r->n - first) * r->esz);
	r->cap = cap;
	return 0;
}

void *wsb_ring_push(struct wsb_ring *r)
{
	if (r->n == r->cap && wsb_ring_reserve(r, r->cap ? r->cap * 2 : 16) < 0)
		return NULL;
	r->n++;
	return wsb_ring_at(r, r->n - 1);
}

void *wsb_ring_at(const struct wsb_ring *r, size_t i)
{
	return r->b.p + ((r->head + i) & (r->cap - 1)) * r->esz;
}

void *wsb_ring_next(const struct wsb_ring *r)
{
	return r->n < r->cap ? wsb_ring_at(r, r->n) : NULL;
}

void wsb_ring_pop(struct wsb_ring *r)
{
	r->head = (r->head + 1) & (r->cap - 1);
	r->n--;
}

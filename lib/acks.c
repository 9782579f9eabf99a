#include "acks.h"

#include <stdio.h>

struct wait {
	uint64_t seq, pseq;
};

void wsb_acks_init(struct wsb_acks *a)
{
	a->due = a->sent = 0;
	wsb_ring_init(&a->wait, sizeof(struct wait));
}

void wsb_acks_free(struct wsb_acks *a)
{
	wsb_ring_free(&a->wait);
}

int wsb_acks_ready(struct wsb_acks *a, uint64_t pseq)
{
	if (pseq <= a->due)
		return 0;
	a->due = pseq;
	return 1;
}

void wsb_acks_wait(struct wsb_acks *a, uint64_t seq, uint64_t pseq)
{
	struct wait *w = wsb_ring_push(&a->wait);

	if (w)
		*w = (struct wait){ seq, pseq };
}

uint64_t wsb_acks_durable(struct wsb_acks *a, uint64_t seq)
{
	uint64_t top = 0;

	while (a->wait.n) {
		struct wait *w = wsb_ring_at(&a->wait, 0);

		if (w->seq > seq)
			break;
		top = w->pseq;
		wsb_ring_pop(&a->wait);
	}
	return top;
}

void wsb_pend_init(struct wsb_ring *q)
{
	wsb_ring_init(q, sizeof(struct wsb_pend));
}

int wsb_pend_push(struct wsb_ring *q, struct wsb_msg *m, uint64_t from, const char *type)
{
	struct wsb_pend *e = wsb_ring_push(q);

	if (!e)
		return -1;
	e->m = m;
	e->from = from;
	snprintf(e->type, sizeof e->type, "%s", type);
	m->refs++;
	return 0;
}

struct wsb_pend *wsb_pend_due(struct wsb_ring *q, uint64_t seq)
{
	struct wsb_pend *e = q->n ? wsb_ring_at(q, 0) : NULL;

	return e && e->m->seq <= seq ? e : NULL;
}

void wsb_pend_free(struct wsb_ring *q)
{
	while (q->n) {
		wsb_msg_unref(((struct wsb_pend *)wsb_ring_at(q, 0))->m);
		wsb_ring_pop(q);
	}
	wsb_ring_free(q);
}

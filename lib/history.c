#include "history.h"

#include <string.h>

#include "envelope.h"
#include "reply.h"

static struct wsb_msg *at(const struct wsb_hist *h, size_t i)
{
	return *(struct wsb_msg **)wsb_ring_at(&h->r, i);
}

int wsb_hist_init(struct wsb_hist *h, size_t max, size_t lim)
{
	memset(h, 0, sizeof *h);
	wsb_ring_init(&h->r, sizeof(struct wsb_msg *));
	h->max = max;
	h->lim = lim;
	return max ? wsb_ring_reserve(&h->r, max) : 0;
}

static void drop_oldest(struct wsb_hist *h)
{
	struct wsb_msg *old = at(h, 0);

	h->bytes -= old->len;
	wsb_msg_unref(old);
	wsb_ring_pop(&h->r);
}

void wsb_hist_free(struct wsb_hist *h)
{
	while (h->r.n)
		drop_oldest(h);
	wsb_ring_free(&h->r);
}

/* The ring was reserved for max entries, so the push never allocates. */
void wsb_hist_push(struct wsb_hist *h, struct wsb_msg *m)
{
	if (!h->max)
		return;
	if (h->lim && m->len > h->lim) {
		while (h->r.n)
			drop_oldest(h);
		return;
	}
	while (h->r.n && (h->r.n == h->max || (h->lim && h->bytes + m->len > h->lim)))
		drop_oldest(h);
	*(struct wsb_msg **)wsb_ring_push(&h->r) = m;
	h->bytes += m->len;
	m->refs++;
}

uint64_t wsb_hist_oldest(const struct wsb_hist *h, uint64_t next)
{
	return h->r.n ? at(h, 0)->seq : next;
}

/* Index of the first retained message with seq >= seq (n if none). */
static size_t find(const struct wsb_hist *h, uint64_t seq)
{
	size_t lo = 0, hi = h->r.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (at(h, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#define READ_SCAN 4096	/* entries looked at per read: take() stays short */

/* Whole frames in seq order while they fit. Once the cursor passes the
 * newest retained message the session joins the live stream with no hole
 * or duplicate at the seam, as everything runs on one thread. */
int wsb_hist_read(const struct wsb_hist *h, struct wsb_hist_view *v,
		  const struct wsb_want *w, uint64_t *rseq, struct wsb_out *o)
{
	uint64_t oldest = wsb_hist_oldest(h, v->next);
	size_t i, scanned = 0;

	if (*rseq < oldest) {
		if (!wsb_reply_gap(o, *rseq, oldest - 1, "evicted", v->epoch))
			return 1;
		v->frames++;
		*rseq = oldest;
	}
	for (i = find(h, *rseq); i < h->r.n && scanned < READ_SCAN; i++, scanned++) {
		struct wsb_msg *m = at(h, i), *f;

		if (m->seq > v->upto)	/* not stored yet: it comes live once it is */
			break;
		if (!wsb_want_msg(w, m)) {
			*rseq = m->seq + 1;
			continue;
		}
		if (!(f = wsb_want_form(w, m)))
			break;	/* ENOMEM: tried again on the next take */
		if (f->len > o->hard) {
			/* Bigger than any write can hold (restored under a larger
			 * --max-message): said, not skipped silently or retried. */
			if (!wsb_reply_gap(o, m->seq, m->seq, "too_big", v->epoch))
				break;
		} else {
			if (!wsb_out_put(o, f))
				break;
			v->frames++;
		}
		*rseq = m->seq + 1;
	}
	return i < h->r.n && at(h, i)->seq <= v->upto;
}

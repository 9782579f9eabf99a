/* history — the retained messages a resume replays.
 *
 * The history holds the newest messages, at most max of them and lim bytes
 * (0: no byte limit), in seq order. A message bigger than lim empties it:
 * older messages around a hole would let a resume skip it silently, an
 * empty history makes the gap visible. The reader copies whole frames into
 * a take() buffer (msg.h) while they fit, those the session wants (subs.h),
 * and moves the caller's cursor; it owns no session state.
 */
#ifndef WSB_HISTORY_H
#define WSB_HISTORY_H

#include "msg.h"
#include "ring.h"
#include "subs.h"

struct wsb_hist {
	struct wsb_ring r;	/* of struct wsb_msg * */
	size_t max, lim, bytes;
};

int wsb_hist_init(struct wsb_hist *h, size_t max, size_t lim);	/* -1: ENOMEM */
void wsb_hist_free(struct wsb_hist *h);
void wsb_hist_push(struct wsb_hist *h, struct wsb_msg *m);	/* takes a ref */
/* The oldest retained seq, or next (the next seq to be handed out). */
uint64_t wsb_hist_oldest(const struct wsb_hist *h, uint64_t next);

/* Where a read stands: seqs up to upto may be read (the journal has them),
 * next is the next seq to be handed out; epoch names gap records. */
struct wsb_hist_view {
	uint64_t upto, next;
	const char *epoch;
	uint64_t frames;	/* messages and "evicted" gaps written (stats) */
};
/* Frames from seq *rseq on into o, a gap record first when history no
 * longer reaches back to *rseq, and one per matching message too big for
 * o->hard; only messages w wants, in the form it reads. 1 while there is
 * more to read, 0 once caught up. */
int wsb_hist_read(const struct wsb_hist *h, struct wsb_hist_view *v,
		  const struct wsb_want *w, uint64_t *rseq, struct wsb_out *o);

#endif

/* acks — what waits for the journal: a producer session's acks, and the
 * published messages nobody may see before they are stored.
 *
 * With durable acks, a pseq is acknowledged only once the message's seq is
 * stored; a session's acks wait in seq order and wsb_acks_durable hands
 * back the highest pseq a stored seq covers. The pending queue holds
 * messages in seq order until the journal has them (the broker then fans
 * them out); its bytes count as queued memory. Out of memory is not an
 * error: an ack that cannot wait is not sent (the publisher resends, dedup
 * drops the copy), a message that cannot wait is delivered at once.
 */
#ifndef WSB_ACKS_H
#define WSB_ACKS_H

#include "msg.h"
#include "proto.h"
#include "ring.h"

struct wsb_acks {
	uint64_t due, sent;	/* highest pseq ackable / acked */
	struct wsb_ring wait;	/* (seq, pseq) waiting to be durable */
};

void wsb_acks_init(struct wsb_acks *a);
void wsb_acks_free(struct wsb_acks *a);
/* pseq may be acked now: 1 if that raised due, else 0. */
int wsb_acks_ready(struct wsb_acks *a, uint64_t pseq);
void wsb_acks_wait(struct wsb_acks *a, uint64_t seq, uint64_t pseq);
/* Seqs up to seq are stored: the top pseq that became ackable, or 0. */
uint64_t wsb_acks_durable(struct wsb_acks *a, uint64_t seq);

struct wsb_pend {
	struct wsb_msg *m;
	uint64_t from;		/* the publishing session's number: echo rules */
	char type[WSB_TYPE_MAX + 1];
};
/* Takes a ref on m. 0, or -1 on ENOMEM. */
void wsb_pend_init(struct wsb_ring *q);
int wsb_pend_push(struct wsb_ring *q, struct wsb_msg *m, uint64_t from, const char *type);
/* The oldest entry if its seq <= seq, else NULL: the caller pops it. */
struct wsb_pend *wsb_pend_due(struct wsb_ring *q, uint64_t seq);
void wsb_pend_free(struct wsb_ring *q);

#endif

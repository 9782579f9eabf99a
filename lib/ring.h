/* ring — a FIFO of fixed-size elements in one growable block.
 *
 * The broker's queues (each session's frames, its acks waiting for the
 * journal, the messages waiting for the journal, the history) are rings:
 * push at the tail, pop at the head, index from the head. Capacity is a
 * power of two so an index is a mask, not a division (the session queue is
 * on the fan-out path). A full ring doubles, moving the wrapped part behind
 * the old end so the order survives; the block is a wsb_buf, so growth
 * fails with -1 instead of dropping anything. Elements are copied in and
 * out as bytes; the ring never looks inside them.
 */
#ifndef WSB_RING_H
#define WSB_RING_H

#include <stddef.h>

#include "buf.h"

struct wsb_ring {
	struct wsb_buf b;	/* cap * esz bytes, all of them slots */
	size_t esz, cap, head, n;
};

void wsb_ring_init(struct wsb_ring *r, size_t esz);
void wsb_ring_free(struct wsb_ring *r);
/* Room for at least n elements. 0, or -1 on ENOMEM (the ring is unchanged). */
int wsb_ring_reserve(struct wsb_ring *r, size_t n);
/* A new slot at the tail (growing if full), or NULL on ENOMEM. */
void *wsb_ring_push(struct wsb_ring *r);
/* The i-th element from the head (i < n). */
void *wsb_ring_at(const struct wsb_ring *r, size_t i);
/* Where the next push will go (for a prefetch), or NULL when it grows. */
void *wsb_ring_next(const struct wsb_ring *r);
/* Forgets the head element (n > 0). */
void wsb_ring_pop(struct wsb_ring *r);

#endif

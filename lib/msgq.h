/* msgq — the publisher's outbound queue: a FIFO of variable-length records
 * stored back to back in 64 KiB chunks (one allocation per chunk, not per
 * message), with a send cursor between head and tail.
 *
 *   head ........ cursor ........ tail
 *   sent, awaiting   not yet sent
 *   acknowledgement
 *
 * Sending advances the cursor; an acknowledgement (or, without acks, the
 * send itself) releases records from the head; after a reconnect the cursor
 * rewinds to the head so unacknowledged records are sent again in order.
 * Each record carries a caller-chosen 64-bit id (the publisher's line seq).
 * Pure: no I/O.
 */
#ifndef WSB_MSGQ_H
#define WSB_MSGQ_H

#include <stddef.h>
#include <stdint.h>

struct wsb_msgq;

struct wsb_msgq *wsb_msgq_new(void);
void wsb_msgq_free(struct wsb_msgq *q);

/* Appends a copy of data[0..len) with id. ids must increase. 0, or -1 on ENOMEM. */
int wsb_msgq_push(struct wsb_msgq *q, const void *data, size_t len, uint64_t id);
size_t wsb_msgq_count(const struct wsb_msgq *q);	/* head..tail */
size_t wsb_msgq_unsent(const struct wsb_msgq *q);	/* cursor..tail */
size_t wsb_msgq_bytes(const struct wsb_msgq *q);	/* payload bytes head..tail */

/* The record at the cursor: 1 and its data (valid until it is released) or 0. */
int wsb_msgq_peek(const struct wsb_msgq *q, const char **data, size_t *len, uint64_t *id);
void wsb_msgq_advance(struct wsb_msgq *q);		/* cursor to the next record */
/* The oldest record (head): 1 and its fields, or 0 when empty. */
int wsb_msgq_first(const struct wsb_msgq *q, const char **data, size_t *len, uint64_t *id);
/* Releases records from the head while their id <= id (cursor moves along if
 * it was behind). Returns how many were released. */
size_t wsb_msgq_release(struct wsb_msgq *q, uint64_t id);
/* Releases the head record (e.g. --drop-oldest); 1 if one was released. */
int wsb_msgq_drop_first(struct wsb_msgq *q);
void wsb_msgq_rewind(struct wsb_msgq *q);		/* cursor back to head */

#endif

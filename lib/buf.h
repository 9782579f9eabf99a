/* buf — the one growable byte buffer: reassembly of fragmented messages,
 * scan buffers, output batches.
 *
 * A buffer has a hard cap (max, 0: none). Growing past it, or failing to
 * allocate, is an error the caller must act on (count it, log it, close the
 * connection, exit): a message that cannot be buffered is never dropped in
 * silence. Capacity grows by doubling, so appends are amortised O(1), and
 * wsb_buf_shrink gives memory back after a large message (a connection that
 * is not receiving a large message should not own a large buffer).
 */
#ifndef WSB_BUF_H
#define WSB_BUF_H

#include <stddef.h>

#include "err.h"

struct wsb_buf {
	char *p;
	size_t len, cap;
	size_t max;			/* hard cap in bytes; 0: unlimited */
};

/* Room for need bytes in all (len + need <= cap). -1 + err: WSB_EXIT_DATAERR
 * past max ("larger than N bytes"), WSB_EXIT_OSERR when out of memory. */
int wsb_buf_reserve(struct wsb_buf *b, size_t need, struct wsb_err *err);
/* Appends n bytes (n may be 0 with p NULL). Same errors as wsb_buf_reserve. */
int wsb_buf_append(struct wsb_buf *b, const void *p, size_t n, struct wsb_err *err);
/* Forgets the contents, keeps the memory. */
void wsb_buf_reset(struct wsb_buf *b);
/* Empties and frees the memory if it holds more than keep bytes. */
void wsb_buf_shrink(struct wsb_buf *b, size_t keep);
void wsb_buf_free(struct wsb_buf *b);

/* Grows n parallel arrays (*p[i] of elem[i]-byte items) to cap items each.
 * An array that could grow keeps its new block even if another failed, so
 * nothing leaks and the old contents stay valid; -1 if any failed (the
 * caller keeps its old capacity). */
int wsb_grow_each(void **const p[], const size_t elem[], size_t n, size_t cap);

#endif

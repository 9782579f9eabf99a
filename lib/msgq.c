#include "msgq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_CAP 65536u
/* uint32 len then uint64 id, packed: records sit at arbitrary offsets, so the
 * header is always read and written with memcpy rather than through a struct
 * pointer that might be misaligned. */
#define HDR_LEN 4u
#define HDR_ID 8u
#define HDR (HDR_LEN + HDR_ID)

struct chunk {
	struct chunk *next;
	size_t cap;	/* payload area: CHUNK_CAP, or one oversized record exactly */
	size_t used;	/* records occupy data[0..used) */
	char data[];
};

/* A position is either at a record or at (last, last->used), the append
 * point. Positions are moved onto the next chunk as soon as they pass the end
 * of a non-last chunk, so only the append point ever sits at a chunk's end. */
struct wsb_msgq {
	struct chunk *hc, *cc;	/* head and cursor chunks; hc is the list's first */
	struct chunk *last;
	size_t ho, co;		/* head and cursor offsets */
	size_t count, unsent, bytes;
	/* One emptied standard chunk kept back so a steady stream that keeps
	 * draining and refilling does not malloc/free every 64 KiB. */
	struct chunk *spare;
};

static void read_hdr(const struct chunk *c, size_t off, uint32_t *len, uint64_t *id)
{
	memcpy(len, c->data + off, HDR_LEN);
	memcpy(id, c->data + off + HDR_LEN, HDR_ID);
}

static void retire(struct wsb_msgq *q, struct chunk *c)
{
	if (c->cap == CHUNK_CAP && !q->spare)
		q->spare = c;
	else
		free(c);
}

struct wsb_msgq *wsb_msgq_new(void)
{
	return calloc(1, sizeof(struct wsb_msgq));
}

void wsb_msgq_free(struct wsb_msgq *q)
{
	struct chunk *c, *n;

	if (!q)
		return;
	for (c = q->hc; c; c = n) {
		n = c->next;
		free(c);
	}
	free(q->spare);
	free(q);
}

int wsb_msgq_push(struct wsb_msgq *q, const void *data, size_t len, uint64_t id)
{
	struct chunk *c = q->last;
	size_t need;
	uint32_t len32;

	/* The header stores len in 32 bits; the second test keeps HDR + len +
	 * the chunk header from wrapping where size_t is 32 bits. */
	if (len > UINT32_MAX || len > SIZE_MAX - sizeof(struct chunk) - HDR) {
		errno = ENOMEM;
		return -1;
	}
	need = HDR + len;
	if (!c || c->cap - c->used < need) {
		if (need <= CHUNK_CAP && q->spare) {
			c = q->spare;
			q->spare = NULL;
		} else {
			size_t cap = need <= CHUNK_CAP ? CHUNK_CAP : need;

			c = malloc(sizeof(*c) + cap);
			if (!c)
				return -1;
			c->cap = cap;
		}
		c->next = NULL;
		c->used = 0;
		if (q->last) {
			/* A caught-up cursor sits at the old append point, which
			 * stops being a position once records go elsewhere. */
			if (!q->unsent) {
				q->cc = c;
				q->co = 0;
			}
			q->last->next = c;
		} else {
			q->hc = q->cc = c;
			q->ho = q->co = 0;
		}
		q->last = c;
	}
	len32 = (uint32_t)len;
	memcpy(c->data + c->used, &len32, HDR_LEN);
	memcpy(c->data + c->used + HDR_LEN, &id, HDR_ID);
	if (len)	/* data may be NULL when len is 0 */
		memcpy(c->data + c->used + HDR, data, len);
	c->used += need;
	q->count++;
	q->unsent++;
	q->bytes += len;
	return 0;
}

size_t wsb_msgq_count(const struct wsb_msgq *q)
{
	return q->count;
}

size_t wsb_msgq_unsent(const struct wsb_msgq *q)
{
	return q->unsent;
}

size_t wsb_msgq_bytes(const struct wsb_msgq *q)
{
	return q->bytes;
}

int wsb_msgq_peek(const struct wsb_msgq *q, const char **data, size_t *len, uint64_t *id)
{
	uint32_t l;
	uint64_t i;

	if (!q->unsent)
		return 0;
	read_hdr(q->cc, q->co, &l, &i);
	*data = q->cc->data + q->co + HDR;
	*len = l;
	*id = i;
	return 1;
}

void wsb_msgq_advance(struct wsb_msgq *q)
{
	uint32_t l;
	uint64_t i;

	if (!q->unsent)
		return;
	read_hdr(q->cc, q->co, &l, &i);
	q->co += HDR + l;
	q->unsent--;
	if (q->co == q->cc->used && q->cc->next) {
		q->cc = q->cc->next;
		q->co = 0;
	}
}

int wsb_msgq_first(const struct wsb_msgq *q, const char **data, size_t *len, uint64_t *id)
{
	uint32_t l;
	uint64_t i;

	if (!q->count)
		return 0;
	read_hdr(q->hc, q->ho, &l, &i);
	*data = q->hc->data + q->ho + HDR;
	*len = l;
	*id = i;
	return 1;
}

/* Removes the head record; the caller has checked count > 0. */
static void drop_head(struct wsb_msgq *q)
{
	uint32_t l;
	uint64_t i;

	read_hdr(q->hc, q->ho, &l, &i);
	q->ho += HDR + l;
	q->count--;
	q->bytes -= l;
	/* unsent == count + 1 here means the cursor was on the record just
	 * dropped; it can never lag behind the head. */
	if (q->unsent > q->count) {
		q->unsent = q->count;
		q->cc = q->hc;
		q->co = q->ho;
	}
	if (!q->count) {
		/* Empty: give back the last chunk too, so an oversized one is not
		 * held while idle and the next push starts a chunk at offset 0. */
		retire(q, q->hc);
		q->last = q->hc = q->cc = NULL;
		q->ho = q->co = 0;
	} else if (q->ho == q->hc->used) {
		/* count > 0 rules out hc being the last chunk, so next exists.
		 * The cursor can only still be in hc if it was just pulled onto
		 * the head above; otherwise it is already further on. */
		struct chunk *old = q->hc;

		q->hc = old->next;
		q->ho = 0;
		if (q->cc == old) {
			q->cc = q->hc;
			q->co = 0;
		}
		retire(q, old);
	}
}

size_t wsb_msgq_release(struct wsb_msgq *q, uint64_t id)
{
	size_t n = 0;
	uint32_t l;
	uint64_t i;

	while (q->count) {
		read_hdr(q->hc, q->ho, &l, &i);
		if (i > id)
			break;
		drop_head(q);
		n++;
	}
	return n;
}

int wsb_msgq_drop_first(struct wsb_msgq *q)
{
	if (!q->count)
		return 0;
	drop_head(q);
	return 1;
}

void wsb_msgq_rewind(struct wsb_msgq *q)
{
	q->cc = q->hc;
	q->co = q->ho;
	q->unsent = q->count;
}

#include "buf.h"

#include <stdlib.h>
#include <string.h>

int wsb_buf_reserve(struct wsb_buf *b, size_t need, struct wsb_err *err)
{
	size_t cap;
	char *p;

	if (need > (size_t)-1 - b->len || (b->max && b->len + need > b->max))
		return wsb_err_set(err, WSB_EXIT_DATAERR, "larger than %zu bytes", b->max);
	if (b->len + need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need)
		cap = cap > (size_t)-1 / 2 ? b->len + need : cap * 2;
	if (b->max && cap > b->max)
		cap = b->max;
	p = realloc(b->p, cap);
	if (!p)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory (%zu bytes)", cap);
	b->p = p;
	b->cap = cap;
	return 0;
}

int wsb_buf_append(struct wsb_buf *b, const void *p, size_t n, struct wsb_err *err)
{
	if (!n)				/* memcpy(NULL, NULL, 0) is undefined */
		return 0;
	if (wsb_buf_reserve(b, n, err))
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void wsb_buf_reset(struct wsb_buf *b)
{
	b->len = 0;
}

void wsb_buf_shrink(struct wsb_buf *b, size_t keep)
{
	b->len = 0;
	if (b->cap > keep) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

void wsb_buf_free(struct wsb_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int wsb_grow_each(void **const p[], const size_t elem[], size_t n, size_t cap)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		void *q = cap > (size_t)-1 / elem[i] ? NULL : realloc(*p[i], cap * elem[i]);

		if (q)
			*p[i] = q;
		else
			rc = -1;
	}
	return rc;
}

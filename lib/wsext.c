#include "wsext.h"

#include <stdio.h>
#include <string.h>

#include "pmd.h"

enum {
	S_SKIP,				/* in a line that is not the header: to its end */
	S_LINE,				/* at a line's start */
	S_CR,				/* a line that began with '\r': the head ends at '\n' */
	S_VALUE,			/* in the header's value: recorded */
	S_DONE,				/* the head is over */
};

static const char name[] = "sec-websocket-extensions:";

void wsb_wsext_init(struct wsb_wsext *x)
{
	memset(x, 0, sizeof *x);
	x->state = S_SKIP;		/* the status line */
}

int wsb_wsext_done(const struct wsb_wsext *x)
{
	return x->state == S_DONE;
}

static void head_end(struct wsb_wsext *x)
{
	x->state = S_DONE;
	x->value[x->vlen] = '\0';
	if (x->toolong) {
		snprintf(x->why, sizeof x->why, "its answer is longer than %zu bytes", sizeof x->value - 1);
		x->verdict = -1;
	} else {
		x->verdict = (int8_t)(x->named ? wsb_pmd_answer(x->value, x->why, sizeof x->why) : 0);
	}
}

/* The value's bytes, without the line's '\r' (which may end a read). */
static void record(struct wsb_wsext *x, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			continue;
		if ((size_t)x->vlen + 1 >= sizeof x->value) {
			x->toolong = 1;
			return;
		}
		x->value[x->vlen++] = s[i];
	}
}

/* How many bytes at p match the header's name (case aside), up to all. */
static size_t match(const unsigned char *p, size_t n)
{
	size_t k = 0;

	while (k < n && k < sizeof name - 1 && (p[k] >= 'A' && p[k] <= 'Z' ? p[k] | 0x20 : p[k]) == name[k])
		k++;
	return k;
}

/* At a line start: the header (renamed, its value recorded next), another
 * line, or the end of the head. Returns the bytes used; 0: hold the rest. */
static size_t line_start(struct wsb_wsext *x, unsigned char *p, size_t n)
{
	size_t k;

	if (*p == '\n' || *p == '\r') {
		if (*p == '\n')
			head_end(x);
		else
			x->state = S_CR;
		return 1;
	}
	k = match(p, n);
	if (k == n && k < sizeof name - 1)
		return 0;		/* may still become the name */
	if (k < sizeof name - 1) {
		x->state = S_SKIP;
		return 1;
	}
	p[0] = 'X';			/* "Xec-WebSocket-Extensions": lws lets it be */
	if (x->named)
		record(x, ", ", 2);
	x->named = 1;
	x->state = S_VALUE;
	return k;
}

size_t wsb_wsext_feed(struct wsb_wsext *x, unsigned char *p, size_t n)
{
	size_t i = 0, k;
	const unsigned char *nl;

	while (i < n && x->state != S_DONE) {
		switch (x->state) {
		case S_LINE:
			if (!(k = line_start(x, p + i, n - i)))
				return i;
			i += k;
			break;
		case S_CR:
			if (p[i++] == '\n')
				head_end(x);
			else
				x->state = S_SKIP;
			break;
		default:		/* S_SKIP, S_VALUE: to the line's end */
			nl = memchr(p + i, '\n', n - i);
			k = nl ? (size_t)(nl - (p + i)) : n - i;
			if (x->state == S_VALUE)
				record(x, (const char *)p + i, k);
			i += k + (nl != NULL);
			if (nl)
				x->state = S_LINE;
			break;
		}
	}
	return n;
}

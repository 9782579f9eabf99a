/* fuzz_lineio — the line reader under arbitrary chunking.
 * Input: max_line (1 byte), a chunking seed (1 byte), then the stream. The
 * stream is pushed in chunks of the sizes the seed dictates (never more than
 * wsb_lines_room(), as pub does), draining lines after each push. The lines
 * out must equal a reference split of the whole stream: split at '\n', one
 * trailing '\r' removed, a non-empty unterminated tail returned at eof, a
 * line longer than max_line reported once as too long, numbered in order. */
#include "fuzz.h"

#include "lineio.h"

struct ref {
	const char *p;
	size_t n, pos;
	size_t max_line;
	uint64_t lineno;
};

/* The next line the reference split expects: 1 OK, 2 too long, 0 none. */
static int ref_next(struct ref *r, const char **line, size_t *len)
{
	const char *nl;
	size_t n;

	if (r->pos >= r->n)
		return 0;
	nl = memchr(r->p + r->pos, '\n', r->n - r->pos);
	n = nl ? (size_t)(nl - (r->p + r->pos)) : r->n - r->pos;
	*line = r->p + r->pos;
	r->pos += n + (nl ? 1 : 0);
	if (n && (*line)[n - 1] == '\r')
		n--;
	*len = n;
	r->lineno++;
	return n > r->max_line ? WSB_LINE_TOOLONG : WSB_LINE_OK;
}

static void drain(struct wsb_lines *l, struct ref *r)
{
	const char *line, *want;
	size_t len, wlen;
	uint64_t no;
	int st, ws;

	while ((st = wsb_lines_next(l, &line, &len, &no)) != WSB_LINE_NONE) {
		ws = ref_next(r, &want, &wlen);
		FUZZ_CHECK(st == ws);
		FUZZ_CHECK(no == r->lineno);
		if (st == WSB_LINE_OK)
			FUZZ_CHECK(len == wlen && !memcmp(line, want, len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t max_line = fuzz_u8(&in) + 1;
	unsigned seed = fuzz_u8(&in) | 1;
	struct ref r = { (const char *)in.p, in.n, 0, max_line, 0 };
	struct wsb_lines l;
	size_t off = 0;

	FUZZ_CHECK(wsb_lines_init(&l, max_line) == 0);
	while (off < r.n) {
		size_t room = wsb_lines_room(&l), chunk;

		seed = seed * 1103515245u + 12345u;
		chunk = 1 + (seed >> 16) % (max_line * 3);
		if (chunk > r.n - off)
			chunk = r.n - off;
		if (chunk > room)
			chunk = room;
		FUZZ_CHECK(chunk > 0);	/* drained, so there is always room */
		FUZZ_CHECK(wsb_lines_push(&l, r.p + off, chunk) == 0);
		off += chunk;
		drain(&l, &r);
	}
	wsb_lines_eof(&l);
	drain(&l, &r);
	FUZZ_CHECK(wsb_lines_done(&l));
	FUZZ_CHECK(r.pos >= r.n);	/* every reference line was seen */
	wsb_lines_free(&l);
	return 0;
}

/* fuzz_wssrx — the server's receive path (lib/wssrx.h): masked client
 * frames parsed in bulk from whatever chunks a read returns, with lws's
 * buffer of any size and the owner stopping feeds at any message.
 *
 * Input: a cap (2 bytes, the largest message), a mode byte, then:
 * - mode even: a generated stream. Operations build messages (text, split
 *   into fragments, ping/pong frames between them, each frame with its own
 *   mask key; sometimes invalid, binary, or with RSV1) and cut it into
 *   reads; take() comes at a byte offset chosen by the input (before it,
 *   every frame is lws's, as in the upgrade's read). Each feed gets an
 *   `out` of a size the input chooses and stops where the input says;
 *   what it did not consume is fed again first, as lwsio holds it.
 *   Invariants: lws gets exactly its frames (control frames, and data
 *   messages begun before take()), byte for byte and in order; with lws
 *   simulated (it parses what a feed gave it after the feed), every message
 *   arrives once, whole, unmasked and in stream order, whichever side
 *   parsed it, until the first failure, whose code the rules give (1009
 *   over the cap, 1003 binary, 1002 RSV1 without deflate); messages out ==
 *   messages in when nothing fails.
 * - mode odd: arbitrary bytes, fed whole and in chunks with small outs:
 *   the runs agree on the messages, the failure and what lws got; no
 *   message exceeds the cap; at most one failure; the buffer stays within
 *   the cap.
 */
#include "fuzz.h"

#include "frame.h"
#include "wssrx.h"

struct bytes {
	unsigned char *p;
	size_t n, cap;
};

static int same(const struct bytes *a, const struct bytes *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->p, b->p, a->n));
}

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		if (!(b->p = realloc(b->p, b->cap)))
			abort();
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

struct rec {
	struct wsb_wssrx rx;
	struct bytes msgs;		/* each message: 4-byte length, then bytes */
	struct bytes pass;		/* what lws got */
	struct bytes lb, lm;		/* simulated lws: unparsed bytes, its open message */
	int fail, fails, lws_fail;
	size_t max, nmsgs;
	const uint8_t *stops;		/* the owner's answers, cycled */
	size_t nstops, si;
};

static void log_msg(struct rec *r, const void *p, size_t n)
{
	uint32_t l = (uint32_t)n;

	put(&r->msgs, &l, 4);
	put(&r->msgs, p, n);
	r->nmsgs++;
}

/* lws: whole data messages (unmasked) go to the same log as ours. */
static void lws_sim(struct rec *r, const unsigned char *p, size_t n)
{
	size_t off = 0;

	put(&r->lb, p, n);
	while (r->lb.n - off >= 2) {
		unsigned char *h = r->lb.p + off;
		size_t hl = wsb_frame_hdr_size(h[1]);
		uint64_t len;

		if (r->lb.n - off < hl)
			break;
		len = wsb_frame_payload_len(h);
		if (r->lb.n - off - hl < len)
			break;
		if (!(h[0] & 8)) {
			unsigned char *pl = h + hl;

			if (h[1] & 0x80)
				wsb_frame_mask(pl, (size_t)len, pl - 4);
			put(&r->lm, pl, (size_t)len);
			if (h[0] & 0x80) {
				log_msg(r, r->lm.p, r->lm.n);
				r->lm.n = 0;
			}
		}
		off += hl + (size_t)len;
	}
	if (off) {
		memmove(r->lb.p, r->lb.p + off, r->lb.n - off);
		r->lb.n -= off;
	}
}

static int on_msg(void *ud, const char *p, size_t n, int comp)
{
	struct rec *r = ud;

	(void)comp;
	FUZZ_CHECK(n <= r->max + (r->max >> 10) + 64);
	log_msg(r, p, n);
	return r->nstops && (r->stops[r->si++ % r->nstops] & 1);
}

static void on_fail(void *ud, int code, const char *why)
{
	struct rec *r = ud;

	(void)why;
	r->fails++;
	if (!r->fail)
		r->fail = code;
}

static int on_partial(void *ud, size_t bytes, int began)
{
	struct rec *r = ud;

	(void)began;
	FUZZ_CHECK(bytes <= 2 * (r->max + (r->max >> 10) + 64) + 256);
	return r->nstops && (r->stops[r->si++ % r->nstops] & 2);
}

static const struct wsb_wssrx_ops ops = { on_msg, on_fail, on_partial, NULL };

static void rec_init(struct rec *r, size_t max)
{
	memset(r, 0, sizeof *r);
	r->max = max;
	wsb_wssrx_init(&r->rx);
}

static void rec_free(struct rec *r)
{
	wsb_wssrx_free(&r->rx);
	free(r->msgs.p);
	free(r->pass.p);
	free(r->lb.p);
	free(r->lm.p);
}

/* Feeds stream s[0..n) in reads of the sizes cuts gives, outs of the sizes
 * outs gives, take() at byte `take`; like lwsio, what a feed leaves is fed
 * again first. */
static void run(struct rec *r, const unsigned char *s, size_t n, const uint8_t *cuts, size_t ncuts, size_t take,
		int deflate)
{
	unsigned char *held = malloc(n + 1), *out = malloc(65536 + 1);
	size_t hn = 0, pos = 0, ci = 0, guard = 0;

	if (!held || !out)
		abort();
	while ((pos < n || hn) && guard++ < 4 * n + 64) {
		size_t cut = ncuts ? (size_t)cuts[ci % ncuts] + 1 : n, ocap = ncuts ? cuts[(ci + 1) % ncuts] % 200 + 1 : 65536;
		size_t o = 0, used;

		ci++;
		if (!r->rx.taking && pos >= take)
			wsb_wssrx_take(&r->rx, r->max, deflate, &ops, r);
		if (!r->rx.taking && pos + cut > take)
			cut = take - pos;	/* the upgrade's read ends at take */
		if (!hn) {
			if (cut > n - pos)
				cut = n - pos;
			memcpy(held, s + pos, cut);
			hn = cut;
			pos += cut;
		}
		if (!r->rx.taking) {	/* in place, as lwsio does before take */
			used = wsb_wssrx_feed(&r->rx, held, hn, held, hn, &o);
			FUZZ_CHECK(used == hn && o == hn);
			put(&r->pass, held, o);
			lws_sim(r, held, o);
			hn = 0;
			continue;
		}
		used = wsb_wssrx_feed(&r->rx, held, hn, out, ocap, &o);
		FUZZ_CHECK(used <= hn && o <= ocap);
		put(&r->pass, out, o);
		lws_sim(r, out, o);
		memmove(held, held + used, hn - used);
		hn -= used;
	}
	FUZZ_CHECK(!hn && pos == n);
	free(held);
	free(out);
}

/* ---- mode even: a generated stream and what must come of it ---- */

struct gen {
	struct bytes s;			/* the wire */
	struct bytes lws;		/* what lws must get */
	struct bytes want;		/* the messages, in order, as logged */
	size_t take, max;
	int deflate, fail;		/* fail: the expected first failure */
	unsigned seed;
};

static void key_of(struct gen *g, unsigned char k[4])
{
	for (int i = 0; i < 4; i++) {
		g->seed = g->seed * 1103515245u + 12345u;
		k[i] = (unsigned char)(g->seed >> 16);
	}
}

/* One masked frame; lws's if it is a control frame or mine says so. */
static void frame(struct gen *g, int b0, const unsigned char *p, size_t n, int lws)
{
	unsigned char h[WSB_FRAME_HDR_MAX], k[4], *at;
	size_t hl;

	key_of(g, k);
	hl = wsb_frame_header(h, n, b0 & 0x4f, k);
	h[0] = (unsigned char)b0;
	put(&g->s, h, hl);
	at = g->s.p + g->s.n;
	put(&g->s, p, n);
	wsb_frame_mask(g->s.p + g->s.n - n, n, k);
	(void)at;
	if (lws || (b0 & 8))
		put(&g->lws, g->s.p + g->s.n - hl - n, hl + n);
}

static void ctl(struct gen *g, int op, size_t n)
{
	unsigned char p[32];

	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)('0' + i % 10);
	frame(g, 0x80 | op, p, n, 1);
}

/* A message of n bytes in nf fragments; kind: 0 text, 1 binary, 2 RSV1. */
static void message(struct gen *g, size_t n, size_t nf, int kind, int pings)
{
	unsigned char *p = malloc(n + 1);
	int lws = g->s.n < g->take, bad;
	size_t off = 0;
	uint32_t l = (uint32_t)n;

	if (!p)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)('a' + (i * 7 + n) % 26);
	for (size_t f = 0; f < nf; f++) {
		size_t k = f + 1 == nf ? n - off : n / nf;
		int op = f ? 0 : kind == 1 ? 2 : 1;

		frame(g, (f + 1 == nf ? 0x80 : 0) | (!f && kind == 2 ? 0x40 : 0) | op, p + off, k, lws);
		off += k;
		if (pings && f + 1 < nf)
			ctl(g, 9, f % 5);
	}
	bad = kind == 1 ? 1003 : kind == 2 && !g->deflate ? 1002 : n > g->max + (kind == 2 ? (g->max >> 10) + 64 : 0) ? 1009 : 0;
	if (lws || (!g->fail && !bad)) {
		put(&g->want, &l, 4);
		put(&g->want, p, n);
	} else if (!g->fail) {
		g->fail = bad;
	}
	free(p);
}

static void generate(struct gen *g, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint8_t b = d[i], v = d[i + 1];

		switch (b & 7) {
		case 4:
			ctl(g, 9, v % 30);
			break;
		case 5:
			ctl(g, 10, v % 30);
			break;
		case 6:
			message(g, v, 1 + (b >> 3) % 3, 1, 0);
			break;
		case 7:
			message(g, v, 1 + (b >> 3) % 3, 2, b >> 7);
			break;
		default:
			message(g, (size_t)v * (1 + (b >> 6)), 1 + (b >> 3) % 4, 0, b >> 7);
			break;
		}
	}
}

static void gen_mode(size_t max, const uint8_t *d, size_t n)
{
	struct gen g;
	struct rec r;
	size_t ncuts, take;

	if (n < 5)
		return;
	memset(&g, 0, sizeof g);
	take = (size_t)d[0] << 8 | d[1];
	g.deflate = d[2] & 1;
	ncuts = d[3] % 16;
	g.max = max;
	g.seed = d[4];
	if (n < 5 + ncuts + 2)
		return;
	/* the ops first (the take offset needs the stream's length) */
	g.take = (size_t)-1;
	generate(&g, d + 5 + ncuts + 2, n - 5 - ncuts - 2);
	g.take = g.s.n ? take % (g.s.n + 1) : 0;
	free(g.s.p);
	free(g.lws.p);
	free(g.want.p);
	g.s = g.lws = g.want = (struct bytes){ 0 };
	g.fail = 0;
	g.seed = d[4];
	generate(&g, d + 5 + ncuts + 2, n - 5 - ncuts - 2);

	rec_init(&r, max);
	r.stops = d + 5 + ncuts;
	r.nstops = 2;
	run(&r, g.s.p, g.s.n, d + 5, ncuts, g.take, g.deflate);
	FUZZ_CHECK(same(&r.pass, &g.lws));
	FUZZ_CHECK(same(&r.msgs, &g.want));
	FUZZ_CHECK(r.fail == g.fail && r.fails == !!g.fail);
	rec_free(&r);
	free(g.s.p);
	free(g.lws.p);
	free(g.want.p);
}

/* ---- mode odd: anything, whole and in pieces ---- */

static void raw_mode(size_t max, const uint8_t *d, size_t n)
{
	struct rec a, b;
	unsigned char *s;
	static const uint8_t cuts[] = { 0, 3, 6, 1, 12, 40, 2, 9, 130, 5 };

	if (!n || !(s = malloc(n)))
		return;
	rec_init(&a, max);
	memcpy(s, d, n);
	run(&a, s, n, NULL, 0, 0, d[0] & 1);
	rec_init(&b, max);
	memcpy(s, d, n);
	b.stops = cuts;
	b.nstops = sizeof cuts;
	run(&b, s, n, cuts, sizeof cuts, 0, d[0] & 1);
	FUZZ_CHECK(a.fails <= 1 && b.fails <= 1 && a.fail == b.fail);
	FUZZ_CHECK(same(&a.msgs, &b.msgs));
	FUZZ_CHECK(same(&a.pass, &b.pass));
	rec_free(&a);
	rec_free(&b);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max;

	if (size < 3)
		return 0;
	max = ((size_t)data[0] << 8 | data[1]) % 4096 + 1;
	if (data[2] & 1)
		raw_mode(max, data + 3, size - 3);
	else
		gen_mode(max, data + 3, size - 3);
	return 0;
}

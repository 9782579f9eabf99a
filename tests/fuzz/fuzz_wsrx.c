/* fuzz_wsrx — the clients' receive path (lib/wsrx.h): server frames parsed
 * in bulk from whatever chunks a read returns.
 *
 * Input: a cap (2 bytes, the largest message), a mode byte, then:
 * - mode even: a generated stream. Operations build messages (text, split
 *   into fragments, ping/pong frames between them, sometimes invalid UTF-8,
 *   sometimes binary) and chunk sizes cut the stream; take() is called at
 *   a byte offset chosen by the input, anywhere (inside a frame too).
 *   Invariants: lws gets exactly the frames that are its own, byte for
 *   byte and in order (control frames, and data messages begun before
 *   take()); with lws simulated (it parses what each feed returns right
 *   after it), every message reaches the tool once, whole and in stream
 *   order, whichever side parsed it; the first failure among those taken
 *   has the code the rules give (1009 over the cap, 1007 not UTF-8, 1003
 *   binary), and nothing taken is delivered after it.
 * - mode odd: arbitrary bytes, fed once whole and once in chunks. The two
 *   runs agree on everything (what lws gets, the messages, the failure), no
 *   message exceeds the cap or is invalid UTF-8, at most one failure is
 *   reported, and the reassembly buffer never holds more than the cap.
 * - mode & 2: either of the above with permessage-deflate agreed
 *   (wsb_wsrx_deflate before the first byte): generated messages are
 *   compressed or not at random, fragments cut the compressed bytes; every
 *   data frame is ours whatever take_at says (lws gets only control
 *   frames), messages wait for take() and keep their order, a message
 *   inflating past the cap fails 1009 with the buffer within the cap.
 */
#include "fuzz.h"

#include <zlib.h>

#include "frame.h"
#include "jsonchar.h"
#include "wsrx.h"

static void put(unsigned char **b, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 64;
		if (!(*b = realloc(*b, *cap)))
			abort();
	}
	if (n)
		memcpy(*b + *len, p, n);
	*len += n;
}

struct rec {
	struct wsb_wsrx rx;
	unsigned char *msgs;		/* each message: 4-byte length, then bytes */
	size_t mlen, mcap;
	unsigned char *pass;		/* what lws got */
	size_t plen, pcap;
	int fail, fails;
	size_t max;
	/* simulated lws: parses what feeds return */
	unsigned char *lb, *lm;
	size_t lbn, lbcap, lmn, lmcap;
};

/* What lws does with the bytes a feed returned: whole data messages go to
 * the same log as ours, control frames are skipped. */
static void lws_sim(struct rec *r, const unsigned char *p, size_t n)
{
	size_t off = 0;

	put(&r->lb, &r->lbn, &r->lbcap, p, n);
	while (r->lbn - off >= 2) {
		const unsigned char *h = r->lb + off;
		size_t hl = 2, l = h[1] & 0x7f;

		if (l == 126) {
			if (r->lbn - off < 4)
				break;
			l = (size_t)h[2] << 8 | h[3];
			hl = 4;
		}
		if (r->lbn - off < hl + l)
			break;
		if (!(h[0] & 8)) {
			put(&r->lm, &r->lmn, &r->lmcap, h + hl, l);
			if (h[0] & 0x80) {
				uint32_t ml = (uint32_t)r->lmn;

				put(&r->msgs, &r->mlen, &r->mcap, &ml, 4);
				put(&r->msgs, &r->mlen, &r->mcap, r->lm, r->lmn);
				r->lmn = 0;
			}
		}
		off += hl + l;
	}
	if (off)
		memmove(r->lb, r->lb + off, r->lbn - off);
	r->lbn -= off;
}

static void on_message(void *ud, const char *msg, size_t len)
{
	struct rec *r = ud;
	uint32_t l = (uint32_t)len;

	FUZZ_CHECK(len <= r->max && wsb_jsonchar_utf8_valid(msg, len));
	put(&r->msgs, &r->mlen, &r->mcap, &l, 4);
	put(&r->msgs, &r->mlen, &r->mcap, msg, len);
}

static void on_fail(void *ud, int code, const char *why)
{
	struct rec *r = ud;

	FUZZ_CHECK(why && *why);
	r->fail = code;
	r->fails++;
}

static const struct wsb_wsrx_ops ops = { on_message, on_fail, NULL };

static void rec_init(struct rec *r, size_t max)
{
	memset(r, 0, sizeof *r);
	r->max = max;
	wsb_wsrx_init(&r->rx, max, &ops, r);
}

static void rec_free(struct rec *r)
{
	wsb_wsrx_free(&r->rx);
	free(r->msgs);
	free(r->pass);
	free(r->lb);
	free(r->lm);
}

/* Feeds s[0..n) in place (a copy: feed rewrites it), in chunks from in;
 * take() at stream offset take_at. sim: lws parses each return. */
static void feed(struct rec *r, const unsigned char *s, size_t n, struct fuzz_in *in, size_t take_at, int sim)
{
	unsigned char *b = (unsigned char *)fuzz_dup(s, n);
	size_t off = 0;

	while (off < n) {
		size_t k = in ? 1 + fuzz_u16(in) % 300 : n - off, out;

		if (off == take_at)
			wsb_wsrx_take(&r->rx);
		if (k > n - off)
			k = n - off;
		if (off < take_at && off + k > take_at)
			k = take_at - off;
		out = wsb_wsrx_feed(&r->rx, b + off, k);
		FUZZ_CHECK(out <= k);
		FUZZ_CHECK(r->rx.msg.cap <= r->max);
		put(&r->pass, &r->plen, &r->pcap, b + off, out);
		if (sim)
			lws_sim(r, b + off, out);
		off += k;
	}
	wsb_wsrx_take(&r->rx);	/* with pmd, what came before take() waited for it */
	wsb_wsrx_flush(&r->rx);
	free(b);
}

static void raw(const uint8_t *data, size_t size, size_t max, int pmd)
{
	struct rec whole, parts;
	struct fuzz_in in = { data, size };

	rec_init(&whole, max);
	rec_init(&parts, max);
	if (pmd) {
		wsb_wsrx_deflate(&whole.rx, 1);
		wsb_wsrx_deflate(&parts.rx, 1);
	}
	feed(&whole, data, size, NULL, 0, 0);
	feed(&parts, data, size, &in, 0, 0);
	FUZZ_CHECK(whole.fails <= 1 && whole.fail == parts.fail && whole.fails == parts.fails);
	FUZZ_CHECK(whole.plen == parts.plen && (!whole.plen || !memcmp(whole.pass, parts.pass, whole.plen)));
	FUZZ_CHECK(whole.mlen == parts.mlen && (!whole.mlen || !memcmp(whole.msgs, parts.msgs, whole.mlen)));
	rec_free(&whole);
	rec_free(&parts);
}

/* The stream being generated, and what each side should get. */
struct gen {
	unsigned char *s, *lws, *msgs;
	size_t n, ncap, ln, lcap, mn, mcap;
	size_t take_off;		/* stream offset where take() applies */
	int failed, code;
	int pmd;			/* permessage-deflate agreed */
	size_t max;
};

static void frame(struct gen *g, int b0, const unsigned char *p, size_t len, int lws_side)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	size_t hl = wsb_frame_header(h, len, b0 & 0x0f, NULL);

	h[0] = (unsigned char)b0;
	if (lws_side) {
		put(&g->lws, &g->ln, &g->lcap, h, hl);
		put(&g->lws, &g->ln, &g->lcap, p, len);
	}
	put(&g->s, &g->n, &g->ncap, h, hl);
	put(&g->s, &g->n, &g->ncap, p, len);
}

/* p[0..n) as one raw deflate stream without its 00 00 ff ff tail, into z
 * (room for 2 n + 64 bytes): its length. */
static size_t squeeze(const uint8_t *p, size_t n, unsigned char *z)
{
	z_stream s = { 0 };
	size_t k;

	if (deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	s.next_in = (unsigned char *)(uintptr_t)p;
	s.avail_in = (uInt)n;
	s.next_out = z;
	s.avail_out = (uInt)(2 * n + 64);
	FUZZ_CHECK(deflate(&s, Z_SYNC_FLUSH) == Z_OK);
	k = 2 * n + 64 - s.avail_out - 4;
	deflateEnd(&s);
	return k;
}

/* One message of len bytes from in, in nfrag fragments with a ping or
 * pong after some of them; with pmd, compressed or not. */
static void message(struct gen *g, struct fuzz_in *in, const uint8_t *body, size_t len, int binary)
{
	unsigned nfrag = 1 + fuzz_u8(in) % 4, ctl = fuzz_u8(in);
	/* lws's when its first byte comes before take(): messages follow one
	 * another, so lws never has one open when the next begins. With pmd
	 * every data frame is ours. */
	int lws_side = !g->pmd && g->n < g->take_off, rsv1 = g->pmd && ctl & 0x20 ? 0x40 : 0;
	unsigned char z[2 * 4000 + 64];
	const uint8_t *wire = rsv1 ? z : body;
	size_t off = 0, wlen = rsv1 ? squeeze(body, len, z) : len;
	uint32_t l = (uint32_t)len;

	for (unsigned f = 0; f < nfrag; f++) {
		size_t k = f + 1 == nfrag ? wlen - off : (wlen - off) / 2;
		int b0 = (f + 1 == nfrag ? 0x80 : 0) | (f ? 0 : rsv1 | (binary ? 2 : 1));

		frame(g, b0, wire + off, k, lws_side);
		off += k;
		if (ctl & (1u << f))
			frame(g, ctl & 0x10 ? 0x89 : 0x8a, (const unsigned char *)"hi", 2, 1);
	}
	if (g->failed && !lws_side)
		return;
	if (!lws_side && (binary || len > g->max || !wsb_jsonchar_utf8_valid(body, len))) {
		g->failed = 1;
		g->code = binary ? 1003 : len > g->max ? 1009 : 1007;
		return;
	}
	put(&g->msgs, &g->mn, &g->mcap, &l, 4);
	put(&g->msgs, &g->mn, &g->mcap, body, len);
}

static void generated(const uint8_t *data, size_t size, size_t max, int pmd)
{
	struct fuzz_in in = { data, size };
	struct gen g = { .max = max, .pmd = pmd };
	unsigned nmsg = fuzz_u8(&in) % 16;
	struct rec r;

	g.take_off = fuzz_u16(&in) * 4u;	/* anywhere, past the end too */
	for (unsigned m = 0; m < nmsg; m++) {
		size_t len;
		const uint8_t *body = fuzz_bytes(&in, 255, &len);
		unsigned kind = fuzz_u8(&in);

		if (kind % 8 == 7) {	/* a long message, past small caps */
			unsigned char big[4000];

			memset(big, 'a' + kind % 20, sizeof big);
			message(&g, &in, big, 100 + kind * 15, 0);
			continue;
		}
		message(&g, &in, body, len, kind % 16 == 5);
	}
	rec_init(&r, max);
	if (pmd)
		wsb_wsrx_deflate(&r.rx, 1);
	feed(&r, g.s, g.n, &in, g.take_off, 1);
	FUZZ_CHECK(r.plen == g.ln && (!g.ln || !memcmp(r.pass, g.lws, g.ln)));
	FUZZ_CHECK(r.mlen == g.mn && (!g.mn || !memcmp(r.msgs, g.msgs, g.mn)));
	FUZZ_CHECK(r.fails == g.failed && r.fail == g.code);
	rec_free(&r);
	free(g.s);
	free(g.lws);
	free(g.msgs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t max = 1 + fuzz_u16(&in) % 5000;
	unsigned mode = fuzz_u8(&in);

	if (mode & 1)
		raw(in.p, in.n, max, mode & 2);
	else
		generated(in.p, in.n, max, mode & 2);
	return 0;
}

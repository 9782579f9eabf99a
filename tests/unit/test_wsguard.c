#define T_SUITE "wsguard"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "frame.h"
#include "wsguard.h"

static const unsigned char key[4] = { 1, 2, 3, 4 };

/* A stream built frame by frame, remembering where the bad header is. */
struct stream {
	unsigned char b[1 << 20];
	size_t n;
	uint64_t bad;			/* offset of the first header breaking the rule */
};

static void put(struct stream *s, const void *p, size_t n)
{
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

/* One frame of len payload bytes; b0 replaces the FIN/opcode byte when
 * non-zero. A frame breaking side's rule is recorded as s->bad. */
static void put_frame(struct stream *s, enum wsb_wsguard_side side, int masked, size_t len, unsigned b0)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	size_t hl = wsb_frame_header(h, len, WSB_OP_TEXT, masked ? key : NULL);

	if (b0)
		h[0] = (unsigned char)b0;
	if (s->bad == UINT64_MAX && masked != (side == WSB_WSGUARD_SERVER))
		s->bad = s->n;
	put(s, h, hl);
	memset(s->b + s->n, 0x80 | masked, len);	/* payload bytes that look like headers */
	s->n += len;
}

static void stream_init(struct stream *s)
{
	s->n = 0;
	s->bad = UINT64_MAX;
}

/* Feeds s in chunks of the given sizes (cycling) and checks that exactly
 * the bytes before the bad header pass, and that it is reported there.
 * A chunk that ends right after the bad header's first byte has passed
 * that byte: the mask bit is in the second. */
static int feed_check(const struct stream *s, enum wsb_wsguard_side side, int http, const size_t *chunks,
		      size_t nchunks)
{
	struct wsb_wsguard g;
	size_t off = 0, passed = 0, k = 0;
	int split_after_b0 = 0;

	wsb_wsguard_init(&g, side, http);
	while (off < s->n) {
		size_t c = chunks[k++ % nchunks], got;

		if (c > s->n - off)
			c = s->n - off;
		got = wsb_wsguard_feed(&g, s->b + off, c);
		if (got > c || (got < c && !wsb_wsguard_failed(&g)))
			return 0;
		passed += got;
		off += c;
		split_after_b0 |= off == s->bad + 1;
	}
	if (s->bad == UINT64_MAX)
		return passed == s->n && !wsb_wsguard_failed(&g);
	return passed == s->bad + (size_t)split_after_b0 && wsb_wsguard_failed(&g) &&
	       wsb_wsguard_bad_at(&g) == s->bad;
}

static int feed_whole(const struct stream *s, enum wsb_wsguard_side side, int http)
{
	size_t all = s->n;

	return feed_check(s, side, http, &all, 1);
}

/* Every length form, both rules, the bad frame last. */
static void build_forms(struct stream *s, enum wsb_wsguard_side side)
{
	int ok = side == WSB_WSGUARD_SERVER;
	static const size_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 70000 };

	stream_init(s);
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
		put_frame(s, side, ok, lens[i], 0);
	put_frame(s, side, ok, 3, 0x01);	/* not FIN: a first fragment */
	put_frame(s, side, ok, 3, 0x80);	/* a final continuation */
	put_frame(s, side, ok, 2, 0x89);	/* a ping */
	put_frame(s, side, !ok, 5, 0);		/* the offender */
	put_frame(s, side, ok, 5, 0);
}

static void test_every_form_server(void)
{
	static struct stream s;

	build_forms(&s, WSB_WSGUARD_SERVER);
	T_CHECK(s.bad != UINT64_MAX);
	T_CHECK(feed_whole(&s, WSB_WSGUARD_SERVER, 0));
}

static void test_every_form_client(void)
{
	static struct stream s;

	build_forms(&s, WSB_WSGUARD_CLIENT);
	T_CHECK(feed_whole(&s, WSB_WSGUARD_CLIENT, 0));
}

static void test_good_stream_passes(void)
{
	static struct stream s;

	stream_init(&s);
	for (int i = 0; i < 50; i++)
		put_frame(&s, WSB_WSGUARD_SERVER, 1, (size_t)i * 37 % 300, 0);
	T_CHECK(s.bad == UINT64_MAX);
	T_CHECK(feed_whole(&s, WSB_WSGUARD_SERVER, 0));
}

/* Any split of the stream in two, and byte by byte. */
static void test_split_everywhere(void)
{
	static struct stream s;
	int side, bad = 0;

	for (side = 0; side < 2; side++) {
		stream_init(&s);
		put_frame(&s, side, side == 0, 0, 0);
		put_frame(&s, side, side == 0, 130, 0);
		put_frame(&s, side, side == 0, 10, 0);
		s.b[s.n++] = 0x81;				/* 64-bit length form */
		s.b[s.n++] = (unsigned char)(127 | (side == 0 ? 0x80 : 0));
		for (int i = 0; i < 7; i++)
			s.b[s.n++] = 0;
		s.b[s.n++] = 3;
		if (side == 0)
			put(&s, key, 4);
		put(&s, "abc", 3);
		put_frame(&s, side, side != 0, 4, 0);	/* bad */
		for (size_t k = 0; k <= s.n; k++) {
			size_t two[2] = { k ? k : s.n, s.n };

			bad += !feed_check(&s, side, 0, two, 2);
		}
		size_t one = 1;

		bad += !feed_check(&s, side, 0, &one, 1);
		size_t three[3] = { 1, 2, 7 };

		bad += !feed_check(&s, side, 0, three, 3);
	}
	T_CHECK(bad == 0);
}

/* A frame of more than 4 GiB (64-bit length), fed as 1 MiB chunks that are
 * skipped by count, then an offender right behind it. */
static void test_64bit_length(void)
{
	static unsigned char zeros[1 << 20];
	unsigned char h[WSB_FRAME_HDR_MAX], u[2] = { 0x81, 0x05 };
	uint64_t len = ((uint64_t)1 << 32) + 12345, at;
	size_t hl = wsb_frame_header(h, len, WSB_OP_TEXT, key), n;
	struct wsb_wsguard g;
	int ok = 1;

	wsb_wsguard_init(&g, WSB_WSGUARD_SERVER, 0);
	T_CHECK(hl == 14 && h[1] == (0x80 | 127));
	T_CHECK(wsb_wsguard_feed(&g, h, hl) == hl);
	for (uint64_t left = len; left; left -= n) {
		n = left < sizeof zeros ? (size_t)left : sizeof zeros;
		ok &= wsb_wsguard_feed(&g, zeros, n) == n;
	}
	T_CHECK(ok && !wsb_wsguard_failed(&g));
	at = hl + len;
	T_CHECK(wsb_wsguard_feed(&g, u, 2) == 0);
	T_CHECK(wsb_wsguard_failed(&g) && wsb_wsguard_bad_at(&g) == at);
}

static void test_after_many_frames(void)
{
	static struct stream s;
	size_t chunks[4] = { 4096, 1, 65536, 333 };

	stream_init(&s);
	for (int i = 0; i < 20000; i++)
		put_frame(&s, WSB_WSGUARD_SERVER, 1, (size_t)(i % 40), 0);
	put_frame(&s, WSB_WSGUARD_SERVER, 0, 15, 0);
	T_CHECK(s.bad > 20000 * 6);
	T_CHECK(feed_check(&s, WSB_WSGUARD_SERVER, 0, chunks, 4));
	T_CHECK(feed_whole(&s, WSB_WSGUARD_SERVER, 0));
}

static void test_nothing_passes_after(void)
{
	struct wsb_wsguard g;
	unsigned char u[2] = { 0x81, 0x00 }, m[6] = { 0x81, 0x80, 1, 2, 3, 4 };

	wsb_wsguard_init(&g, WSB_WSGUARD_SERVER, 0);
	T_CHECK(wsb_wsguard_feed(&g, m, 6) == 6);
	T_CHECK(wsb_wsguard_feed(&g, u, 2) == 0);
	T_CHECK(wsb_wsguard_feed(&g, m, 6) == 0);
	T_CHECK(wsb_wsguard_bad_at(&g) == 6);
}

static const char upgrade_req[] = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";

/* Server: keep-alive requests without Upgrade stay HTTP (their bytes are
 * never taken for frames); frames start right after the upgrade head,
 * even in the same chunk. */
static void test_http_server(void)
{
	static struct stream s;
	static const char health[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-Upgrade: y\r\n\r\n";
	static const char bare[] = "GET / HTTP/1.1\nUPGRADE:\nHost: y\n\n";	/* bare LF, empty Upgrade */

	stream_init(&s);
	put(&s, health, sizeof health - 1);
	put(&s, bare, sizeof bare - 1);
	put(&s, upgrade_req, sizeof upgrade_req - 1);
	put_frame(&s, WSB_WSGUARD_SERVER, 1, 20, 0);
	put_frame(&s, WSB_WSGUARD_SERVER, 0, 20, 0);
	T_CHECK(feed_whole(&s, WSB_WSGUARD_SERVER, 1));
	for (size_t k = 1; k < 9; k++)
		T_CHECK(feed_check(&s, WSB_WSGUARD_SERVER, 1, &k, 1));
}

static void test_http_stays_http(void)
{
	struct wsb_wsguard g;
	static const char two[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n";

	wsb_wsguard_init(&g, WSB_WSGUARD_SERVER, 1);
	T_CHECK(wsb_wsguard_feed(&g, two, sizeof two - 1) == sizeof two - 1);
	T_CHECK(wsb_wsguard_in_http(&g) && !wsb_wsguard_failed(&g));
	T_CHECK(wsb_wsguard_feed(&g, upgrade_req, sizeof upgrade_req - 1) == sizeof upgrade_req - 1);
	T_CHECK(!wsb_wsguard_in_http(&g));
}

/* Client: the 101 and a masked frame in one read, as a server may send. */
static void test_http_client(void)
{
	static struct stream s;
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
				   "Connection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n";
	size_t one = 1;

	stream_init(&s);
	put(&s, resp, sizeof resp - 1);
	put_frame(&s, WSB_WSGUARD_CLIENT, 0, 30, 0);
	put_frame(&s, WSB_WSGUARD_CLIENT, 1, 30, 0);
	T_CHECK(s.bad == sizeof resp - 1 + 32);
	T_CHECK(feed_whole(&s, WSB_WSGUARD_CLIENT, 1));
	T_CHECK(feed_check(&s, WSB_WSGUARD_CLIENT, 1, &one, 1));
}

/* After the violation frames are still followed (not passed): the peer's
 * close frame is noticed, even right behind a long bad frame. */
static void test_peer_close_after(void)
{
	static struct stream s;
	struct wsb_wsguard g;
	size_t one = 1, before;

	stream_init(&s);
	put_frame(&s, WSB_WSGUARD_SERVER, 1, 10, 0);
	put_frame(&s, WSB_WSGUARD_SERVER, 0, 300, 0x88);	/* an unmasked close is no answer */
	put_frame(&s, WSB_WSGUARD_SERVER, 1, 200, 0);
	before = s.n;
	put_frame(&s, WSB_WSGUARD_SERVER, 1, 2, 0x88);
	wsb_wsguard_init(&g, WSB_WSGUARD_SERVER, 0);
	T_CHECK(wsb_wsguard_feed(&g, s.b, before) == 16);
	T_CHECK(wsb_wsguard_failed(&g) && !wsb_wsguard_peer_closed(&g));
	T_CHECK(wsb_wsguard_feed(&g, s.b + before, s.n - before) == 0);
	T_CHECK(wsb_wsguard_peer_closed(&g));
	T_CHECK(feed_check(&s, WSB_WSGUARD_SERVER, 0, &one, 1));
}

int main(void)
{
	T_RUN(test_every_form_server);
	T_RUN(test_every_form_client);
	T_RUN(test_good_stream_passes);
	T_RUN(test_split_everywhere);
	T_RUN(test_64bit_length);
	T_RUN(test_after_many_frames);
	T_RUN(test_nothing_passes_after);
	T_RUN(test_http_server);
	T_RUN(test_http_stays_http);
	T_RUN(test_http_client);
	T_RUN(test_peer_close_after);
	return t_done();
}

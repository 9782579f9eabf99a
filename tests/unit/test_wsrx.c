#define T_SUITE "wsrx"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "frame.h"
#include "jsonchar.h"
#include "wsrx.h"

struct got {
	char last[256];
	size_t last_len;
	int messages, code;
};

static void on_message(void *ud, const char *msg, size_t len)
{
	struct got *g = ud;

	g->messages++;
	g->last_len = len;
	memcpy(g->last, msg, len < sizeof g->last ? len : sizeof g->last);
}

static void on_fail(void *ud, int code, const char *why)
{
	struct got *g = ud;

	g->code = code;
}

static const struct wsb_wsrx_ops ops = { on_message, on_fail, NULL };

/* A server frame (unmasked) with first byte b0. */
static size_t put(unsigned char *s, int b0, const char *p, size_t len)
{
	size_t hl = wsb_frame_header(s, len, b0 & 0x0f, NULL);

	s[0] = (unsigned char)b0;
	memcpy(s + hl, p, len);
	return hl + len;
}

static void test_utf8(void)
{
	T_CHECK(wsb_jsonchar_utf8_valid("", 0));
	T_CHECK(wsb_jsonchar_utf8_valid("plain ascii longer than a word", 30));
	T_CHECK(wsb_jsonchar_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	T_CHECK(!wsb_jsonchar_utf8_valid("abcdefgh\xc3", 9));		/* cut short */
	T_CHECK(!wsb_jsonchar_utf8_valid("abcdefghijklmno\xed\xa0\x80", 18));	/* a surrogate */
	T_CHECK(!wsb_jsonchar_utf8_valid("\xc0\xaf", 2));		/* overlong */
	T_CHECK(!wsb_jsonchar_utf8_valid("\xf4\x90\x80\x80", 4));	/* above U+10FFFF */
}

/* Whole messages where they lie, control frames left to lws in order. */
static void test_bulk_and_control(void)
{
	unsigned char s[512];
	size_t n = 0, out;
	struct got g = { 0 };
	struct wsb_wsrx r;

	wsb_wsrx_init(&r, 1024, &ops, &g);
	wsb_wsrx_take(&r);
	n += put(s + n, 0x81, "one", 3);
	n += put(s + n, 0x89, "ping", 4);
	n += put(s + n, 0x81, "two", 3);
	n += put(s + n, 0x8a, "pong", 4);
	out = wsb_wsrx_feed(&r, s, n);
	T_CHECK(g.messages == 2 && g.last_len == 3 && !memcmp(g.last, "two", 3));
	T_CHECK(out == 12 && !memcmp(s, "\x89\x04ping\x8a\x04pong", 12));
	wsb_wsrx_free(&r);
}

/* Fragments split anywhere, a ping between them: one message. */
static void test_fragments_any_split(void)
{
	unsigned char s[512], b[512];
	size_t n = 0;

	n += put(s + n, 0x01, "{\"a\":", 5);
	n += put(s + n, 0x89, "", 0);
	n += put(s + n, 0x80, "\"\xc3\xa9\"}", 5);
	for (size_t cut = 0; cut <= n; cut++) {
		struct got g = { 0 };
		struct wsb_wsrx r;
		size_t out;

		wsb_wsrx_init(&r, 1024, &ops, &g);
		wsb_wsrx_take(&r);
		memcpy(b, s, n);
		out = wsb_wsrx_feed(&r, b, cut);
		out += wsb_wsrx_feed(&r, b + cut, n - cut);
		T_CHECK(out == 2 && g.messages == 1 && g.last_len == 10 && !memcmp(g.last, "{\"a\":\"\xc3\xa9\"}", 10));
		T_CHECK(!g.code);
		wsb_wsrx_free(&r);
	}
}

static int fails_with(const unsigned char *s, size_t n, size_t max)
{
	struct got g = { 0 };
	struct wsb_wsrx r;
	unsigned char b[256];

	memcpy(b, s, n);
	wsb_wsrx_init(&r, max, &ops, &g);
	wsb_wsrx_take(&r);
	wsb_wsrx_feed(&r, b, n);
	wsb_wsrx_free(&r);
	return g.messages ? -g.messages : g.code;
}

static void test_failures(void)
{
	unsigned char s[256];

	T_CHECK(fails_with(s, put(s, 0x82, "\x01\x02", 2), 100) == 1003);
	T_CHECK(fails_with(s, put(s, 0x81, "a\xff", 2), 100) == 1007);
	T_CHECK(fails_with(s, put(s, 0xc1, "a", 1), 100) == 1002);	/* RSV1 */
	T_CHECK(fails_with(s, put(s, 0x83, "", 0), 100) == 1002);	/* reserved opcode */
	T_CHECK(fails_with(s, put(s, 0x80, "a", 1), 100) == 1002);	/* continuation alone */
	T_CHECK(fails_with(s, put(s, 0x81, "0123456789", 10), 9) == 1009);
	/* The header of a huge frame is enough: no payload needed. */
	T_CHECK(fails_with((const unsigned char *)"\x81\x7f\x00\x00\x00\x01\x00\x00\x00\x00", 10, 1 << 20) == 1009);
	T_CHECK(fails_with((const unsigned char *)"\x81\x81\x01\x02\x03\x04x", 7, 100) == 1002);	/* masked */
	T_CHECK(fails_with(s, put(s, 0x81, "fits", 4), 4) == -1);
}

/* Before take() everything is lws's; a message lws began stays lws's, and
 * one taken in the read that ends it waits until lws has parsed that read
 * (held, then flushed), so it cannot overtake lws's. */
static void test_take_boundary(void)
{
	unsigned char s[256];
	size_t n = 0, a, out;
	struct got g = { 0 };
	struct wsb_wsrx r;

	n += put(s + n, 0x01, "lw", 2);
	a = n;
	n += put(s + n, 0x80, "s", 1);
	n += put(s + n, 0x81, "ours", 4);
	wsb_wsrx_init(&r, 100, &ops, &g);
	out = wsb_wsrx_feed(&r, s, a);
	T_CHECK(out == a && !g.messages);
	wsb_wsrx_take(&r);
	out = wsb_wsrx_feed(&r, s + a, n - a);
	T_CHECK(out == 3 && !g.messages);
	wsb_wsrx_flush(&r);
	T_CHECK(g.messages == 1 && !memcmp(g.last, "ours", 4));
	out = wsb_wsrx_feed(&r, s + a + 3, n - a - 3);	/* the next read: no longer held */
	T_CHECK(!out && g.messages == 2);
	wsb_wsrx_free(&r);
}

/* After the server's close frame, data is dropped; the close still passes. */
static void test_after_close(void)
{
	unsigned char s[256];
	size_t n = 0, out;
	struct got g = { 0 };
	struct wsb_wsrx r;

	n += put(s + n, 0x88, "\x03\xe8", 2);
	n += put(s + n, 0x81, "late", 4);
	wsb_wsrx_init(&r, 100, &ops, &g);
	wsb_wsrx_take(&r);
	out = wsb_wsrx_feed(&r, s, n);
	T_CHECK(out == 4 && !g.messages && !g.code);
	wsb_wsrx_free(&r);
}

/* m compressed on its own, as a frame's payload (RFC 7692 §7.2.1, however
 * small): its length. */
static size_t squeeze(unsigned char *out, const char *m, size_t n)
{
	z_stream z = { 0 };
	size_t k;

	T_CHECK(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)m;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = 256;
	deflate(&z, Z_SYNC_FLUSH);
	k = 256 - z.avail_out - 4;	/* without 00 00 ff ff */
	deflateEnd(&z);
	return k;
}

/* permessage-deflate: every data frame is ours from the first, held until
 * take(); RSV1 messages inflate, fragmented and split anywhere; plain ones
 * and control frames as before. */
static void test_deflate(void)
{
	static const char big[] = "{\"type\":\"t\",\"data\":\"caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9\"}";
	unsigned char s[512], b[512], z[256];
	size_t n = 0, zn = squeeze(z, big, sizeof big - 1);

	n += put(s + n, 0xc1, (const char *)z, zn);		/* whole */
	n += put(s + n, 0x41, (const char *)z, 5);		/* in two, a ping between */
	n += put(s + n, 0x89, "", 0);
	n += put(s + n, 0x80, (const char *)z + 5, zn - 5);
	n += put(s + n, 0x81, "{}", 2);				/* plain */
	for (size_t cut = 0; cut <= n; cut++) {
		struct got g = { 0 };
		struct wsb_wsrx r;
		size_t out;

		wsb_wsrx_init(&r, 1024, &ops, &g);
		wsb_wsrx_deflate(&r, 1);
		memcpy(b, s, n);
		out = wsb_wsrx_feed(&r, b, cut);
		T_CHECK(!g.messages);			/* before take(): held */
		wsb_wsrx_take(&r);
		wsb_wsrx_flush(&r);
		out += wsb_wsrx_feed(&r, b + cut, n - cut);
		wsb_wsrx_flush(&r);
		T_CHECK(out == 2 && !g.code && g.messages == 3 && g.last_len == 2);
		wsb_wsrx_free(&r);
	}
}

static int deflate_fails_with(int b0, const char *m, size_t n, size_t max, int agreed)
{
	struct got g = { 0 };
	struct wsb_wsrx r;
	unsigned char s[512], z[256];
	size_t zn = squeeze(z, m, n);

	wsb_wsrx_init(&r, max, &ops, &g);
	wsb_wsrx_deflate(&r, agreed);
	wsb_wsrx_take(&r);
	if (b0 == 0x40) {			/* RSV1 on the continuation */
		size_t k = put(s, 0x01, "{", 1);

		wsb_wsrx_feed(&r, s, k + put(s + k, 0xc0, (const char *)z, zn));
	} else {
		wsb_wsrx_feed(&r, s, put(s, b0, b0 == 0xc1 ? (const char *)z : m, b0 == 0xc1 ? zn : n));
	}
	wsb_wsrx_free(&r);
	return g.messages ? -g.messages : g.code;
}

static void test_deflate_failures(void)
{
	char spaces[300];

	memset(spaces, ' ', sizeof spaces);
	T_CHECK(deflate_fails_with(0xc1, spaces, sizeof spaces, 299, 1) == 1009);	/* a bomb */
	T_CHECK(deflate_fails_with(0xc1, spaces, sizeof spaces, 300, 1) == -1);
	T_CHECK(deflate_fails_with(0xc1, "a\xff", 2, 100, 1) == 1007);	/* UTF-8 after inflating */
	T_CHECK(deflate_fails_with(0xc1, "\xff\xfe junk", 8, 100, 1) != 0);
	T_CHECK(deflate_fails_with(0xc1, "x", 1, 100, 1) == -1);
	T_CHECK(deflate_fails_with(0x40, "x", 1, 100, 1) == 1002);
	T_CHECK(deflate_fails_with(0xe1, "x", 1, 100, 1) == 1002);	/* RSV2 */
	/* refused: dropped, and nothing to report (the owner fails) */
	T_CHECK(deflate_fails_with(0xc1, "x", 1, 100, 0) == 0);
	T_CHECK(deflate_fails_with(0x81, "x", 1, 100, 0) == 0);
}

int main(void)
{
	T_RUN(test_utf8);
	T_RUN(test_bulk_and_control);
	T_RUN(test_fragments_any_split);
	T_RUN(test_failures);
	T_RUN(test_take_boundary);
	T_RUN(test_after_close);
	T_RUN(test_deflate);
	T_RUN(test_deflate_failures);
	return t_done();
}

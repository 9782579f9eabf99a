#define T_SUITE "wssrx"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "frame.h"
#include "wssrx.h"

struct got {
	char last[512];
	size_t last_len, partial;
	int messages, code, comp, stop_after;
	int ends, at_end;	/* end() calls; messages when it last came */
};

static int on_message(void *ud, const char *msg, size_t len, int comp)
{
	struct got *g = ud;

	g->messages++;
	g->comp = comp;
	g->last_len = len;
	memcpy(g->last, msg, len < sizeof g->last ? len : sizeof g->last);
	return g->stop_after && g->messages >= g->stop_after;
}

static void on_fail(void *ud, int code, const char *why)
{
	struct got *g = ud;

	(void)why;
	g->code = code;
}

static int on_partial(void *ud, size_t bytes, int began)
{
	struct got *g = ud;

	(void)began;
	g->partial = bytes;
	return 0;
}

static void on_end(void *ud)
{
	struct got *g = ud;

	g->ends++;
	g->at_end = g->messages;
}

static const struct wsb_wssrx_ops ops = { on_message, on_fail, on_partial, on_end };

/* A client frame (masked) with first byte b0. */
static size_t put(unsigned char *s, int b0, const char *p, size_t len)
{
	static const unsigned char key[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t hl = wsb_frame_header(s, len, b0 & 0x0f, key);

	s[0] = (unsigned char)b0;
	memcpy(s + hl, p, len);
	wsb_frame_mask(s + hl, len, key);
	return hl + len;
}

static void taking(struct wsb_wssrx *r, struct got *g, size_t max, int deflate)
{
	memset(g, 0, sizeof *g);
	wsb_wssrx_init(r);
	wsb_wssrx_take(r, max, deflate, &ops, g);
}

/* A whole masked text frame is unmasked in place and handed over; lws gets nothing. */
static void test_whole_frame(void)
{
	struct wsb_wssrx r;
	struct got g;
	unsigned char s[64], out[8];
	size_t n = put(s, 0x81, "{\"type\":\"a\"}", 12), o = 0;

	taking(&r, &g, 100, 0);
	T_CHECK(wsb_wssrx_feed(&r, s, n, out, sizeof out, &o) == n);
	T_CHECK(g.messages == 1 && g.last_len == 12 && !memcmp(g.last, "{\"type\":\"a\"}", 12));
	T_CHECK(o == 0 && g.partial == 0);
	T_CHECK(g.ends == 1 && g.at_end == 1);	/* the feed's end, after its message */
	wsb_wssrx_free(&r);
}

/* Fragments with a ping between them, fed a byte at a time: the ping's
 * bytes go to lws whole, the message is gathered, its buffer given back. */
static void test_fragments_and_ping(void)
{
	struct wsb_wssrx r;
	struct got g;
	unsigned char s[128], out[128];
	size_t n = 0, o = 0, pn;

	n += put(s + n, 0x01, "hel", 3);
	pn = n;
	n += put(s + n, 0x89, "hi", 2);
	pn = n - pn;
	n += put(s + n, 0x80, "lo", 2);
	taking(&r, &g, 100, 0);
	for (size_t i = 0; i < n; i++)
		T_CHECK(wsb_wssrx_feed(&r, s + i, 1, out, sizeof out, &o) == 1);
	T_CHECK(g.messages == 1 && g.last_len == 5 && !memcmp(g.last, "hello", 5));
	T_CHECK(g.ends == 1 && g.at_end == 1);	/* not for feeds that delivered nothing */
	T_CHECK(o == pn && out[0] == 0x89);
	T_CHECK(r.msg.cap == 0 && g.partial == 0);
	wsb_wssrx_free(&r);
}

/* The owner stops after the first message: the rest waits, then follows. */
static void test_stop(void)
{
	struct wsb_wssrx r;
	struct got g;
	unsigned char s[64], out[8];
	size_t n = 0, first, o = 0;

	n += put(s, 0x81, "one", 3);
	first = n;
	n += put(s + n, 0x81, "two", 3);
	taking(&r, &g, 100, 0);
	g.stop_after = 1;
	T_CHECK(wsb_wssrx_feed(&r, s, n, out, sizeof out, &o) == first);
	T_CHECK(g.ends == 1 && g.at_end == 1);	/* a stopped feed ends too */
	g.stop_after = 0;
	T_CHECK(wsb_wssrx_feed(&r, s + first, n - first, out, sizeof out, &o) == n - first);
	T_CHECK(g.messages == 2 && !memcmp(g.last, "two", 3) && g.ends == 2 && g.at_end == 2);
	wsb_wssrx_free(&r);
}

/* lws's buffer is full: the feed ends at the control frame's next byte. */
static void test_out_full(void)
{
	struct wsb_wssrx r;
	struct got g;
	unsigned char s[64], out[4], more[16];
	size_t n = put(s, 0x89, "ping!", 5), o = 0, used;

	taking(&r, &g, 100, 0);
	used = wsb_wssrx_feed(&r, s, n, out, sizeof out, &o);
	T_CHECK(used == 4 && o == 4);
	o = 0;
	T_CHECK(wsb_wssrx_feed(&r, s + used, n - used, more, sizeof more, &o) == n - used && o == n - used);
	T_CHECK(!memcmp(out, s, 4) && !memcmp(more, s + 4, n - 4));
	wsb_wssrx_free(&r);
}

/* The rules: a header over the cap is 1009 before its payload; binary is
 * 1003; RSV1 only with deflate (then the message says it is compressed). */
static void test_rules(void)
{
	struct wsb_wssrx r;
	struct got g;
	unsigned char s[600], out[8];
	char big[300];
	size_t n, o = 0;

	memset(big, 'x', sizeof big);
	taking(&r, &g, 100, 0);
	n = put(s, 0x81, big, sizeof big);
	T_CHECK(wsb_wssrx_feed(&r, s, 8, out, sizeof out, &o) == 8);
	T_CHECK(g.code == 1009 && g.messages == 0 && r.msg.cap == 0);
	T_CHECK(wsb_wssrx_feed(&r, s + 8, n - 8, out, sizeof out, &o) == n - 8 && g.messages == 0);
	wsb_wssrx_free(&r);

	taking(&r, &g, 100, 0);
	n = put(s, 0x82, "{}", 2);
	wsb_wssrx_feed(&r, s, n, out, sizeof out, &o);
	T_CHECK(g.code == 1003);
	wsb_wssrx_free(&r);

	taking(&r, &g, 100, 0);
	n = put(s, 0xc1, "zz", 2);
	wsb_wssrx_feed(&r, s, n, out, sizeof out, &o);
	T_CHECK(g.code == 1002 && g.messages == 0);
	wsb_wssrx_free(&r);

	taking(&r, &g, 100, 1);
	n = put(s, 0xc1, "zz", 2);
	wsb_wssrx_feed(&r, s, n, out, sizeof out, &o);
	T_CHECK(g.code == 0 && g.messages == 1 && g.comp == 1);
	wsb_wssrx_free(&r);
}

/* Before take() every frame is lws's (in place); a message lws began stays
 * lws's, and ours after it waits for the next feed. */
static void test_take_after_lws(void)
{
	struct wsb_wssrx r;
	struct got g;
	unsigned char s[128], out[128];
	size_t n = 0, a, o = 0, used;

	n += put(s, 0x01, "lws", 3);
	a = n;
	n += put(s + n, 0x80, "'s", 2);
	n += put(s + n, 0x81, "ours", 4);
	memset(&g, 0, sizeof g);
	wsb_wssrx_init(&r);
	T_CHECK(wsb_wssrx_feed(&r, s, a, s, a, &o) == a && o == a);
	wsb_wssrx_take(&r, 100, 0, &ops, &g);
	o = 0;
	used = wsb_wssrx_feed(&r, s + a, n - a, out, sizeof out, &o);
	T_CHECK(g.messages == 0 && o == used && used < n - a);
	o = 0;
	T_CHECK(wsb_wssrx_feed(&r, s + a + used, n - a - used, out, sizeof out, &o) == n - a - used);
	T_CHECK(g.messages == 1 && !memcmp(g.last, "ours", 4) && o == 0);
	wsb_wssrx_free(&r);
}

int main(void)
{
	T_RUN(test_whole_frame);
	T_RUN(test_fragments_and_ping);
	T_RUN(test_stop);
	T_RUN(test_out_full);
	T_RUN(test_rules);
	T_RUN(test_take_after_lws);
	return t_done();
}

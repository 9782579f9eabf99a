#define T_SUITE "history"
#include "t.h"

#include <stdint.h>
#include <stdio.h>

#include "history.h"
#include "reply.h"

static struct wsb_msg *mk(uint64_t seq, const char *type)
{
	struct wsb_msg *m = wsb_msg_alloc(64 + WSB_STAMP_MAX);
	char *p = wsb_msg_payload(m);
	size_t n = (size_t)sprintf(p, "{\"type\":\"%s\"}", type);

	m->seq = seq;
	wsb_msg_seal(m, wsb_reply_stamp(p, n, NULL, seq));
	return m;
}

static void push(struct wsb_hist *h, uint64_t seq, const char *type)
{
	struct wsb_msg *m = mk(seq, type);

	wsb_hist_push(h, m);
	wsb_msg_unref(m);
}

/* Frames in o as one string of payloads separated by '|'. */
static const char *payloads(const struct wsb_out *o, char *out, size_t cap)
{
	size_t i = 0, n = 0;

	out[0] = 0;
	while (i < o->total && n < cap) {
		size_t len = o->p[i + 1] & 0x7f;	/* test frames stay < 126 */

		n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n ? "|" : "", (int)len,
				      (const char *)o->p + i + 2);
		i += 2 + len;
	}
	return out;
}

static void test_push_limits(void)
{
	struct wsb_hist h;

	T_CHECK(wsb_hist_init(&h, 3, 0) == 0);
	for (uint64_t s = 1; s <= 5; s++)
		push(&h, s, "t");
	T_CHECK(h.r.n == 3 && wsb_hist_oldest(&h, 6) == 3);
	wsb_hist_free(&h);
	T_CHECK(wsb_hist_init(&h, 100, 50) == 0);	/* each frame is 22 bytes */
	push(&h, 1, "t");
	push(&h, 2, "t");
	push(&h, 3, "t");
	T_CHECK(h.r.n == 2 && wsb_hist_oldest(&h, 4) == 2 && h.bytes == 44);
	push(&h, 4, "a-type-long-enough-to-pass-fifty-bytes");
	T_CHECK(h.r.n == 0 && h.bytes == 0 && wsb_hist_oldest(&h, 5) == 5);	/* a hole is visible */
	wsb_hist_free(&h);
}

/* A resume below the oldest gets an "evicted" gap first; only matching
 * types are copied; nothing past upto; soft stops between frames. */
static void test_read(void)
{
	static unsigned char buf[4096];
	struct wsb_out o = { buf, 0, sizeof buf, sizeof buf, NULL };
	struct wsb_hist_view v = { .upto = 5, .next = 7, .epoch = "00000000deadbeef" };
	struct wsb_subs subs;
	struct wsb_want w = { .subs = &subs };
	struct wsb_err err;
	struct wsb_hist h;
	uint64_t rseq = 1;
	char text[1024];

	wsb_subs_init(&subs);
	wsb_subs_add(&subs, "a", &err);
	wsb_hist_init(&h, 4, 0);
	for (uint64_t s = 1; s <= 6; s++)
		push(&h, s, s % 2 ? "a" : "b");
	/* Caught up: seq 6 is not stored yet and will come live once it is. */
	T_CHECK(wsb_hist_read(&h, &v, &w, &rseq, &o) == 0);
	T_STREQ(payloads(&o, text, sizeof text),
		"{\"type\":\"gap\",\"from\":1,\"to\":2,\"reason\":\"evicted\",\"epoch\":\"00000000deadbeef\"}"
		"|{\"type\":\"a\",\"seq\":3}|{\"type\":\"a\",\"seq\":5}");
	T_CHECK(rseq == 6 && v.frames == 3);
	v.upto = UINT64_MAX;
	o.total = 0;
	T_CHECK(wsb_hist_read(&h, &v, &w, &rseq, &o) == 0 && o.total == 0 && rseq == 7);
	rseq = 3;
	o.soft = 1;	/* only the first frame goes past soft; b is passed over */
	T_CHECK(wsb_hist_read(&h, &v, &w, &rseq, &o) == 1 && rseq == 5);
	T_STREQ(payloads(&o, text, sizeof text), "{\"type\":\"a\",\"seq\":3}");
	wsb_hist_free(&h);
	wsb_subs_free(&subs);
}

static void test_stamp(void)
{
	char p[128] = "{\"type\":\"x\"}";
	size_t n = wsb_reply_stamp(p, strlen(p), "2026-11-22T03:11:40.123Z", 18446744073709551615u);

	p[n] = 0;
	T_STREQ(p, "{\"type\":\"x\",\"timestamp\":\"2026-11-22T03:11:40.123Z\","
		   "\"seq\":18446744073709551615}");
	T_CHECK(n - 12 <= WSB_STAMP_MAX);
}

int main(void)
{
	T_RUN(test_push_limits);
	T_RUN(test_read);
	T_RUN(test_stamp);
	return t_done();
}

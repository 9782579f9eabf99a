/* The broker holds each session to its scope and its rate (allow.h),
 * driven through the broker's API with an injected clock. */
#define T_SUITE "allow"
#include "t.h"

#include <stdint.h>

#include "broker.h"

#define BUFSZ (1u << 16)

static unsigned char tbuf[BUFSZ];
static uint64_t now_ms = 1000;
static int throttles, refusals;
static uint64_t last_throttle;
static char last_refusal[256];

static uint64_t fake_mono(void)
{
	return now_ms;
}

static void h_throttle(void *ud, void *conn, uint64_t ms)
{
	throttles++;
	last_throttle = ms;
}

static void h_refused(void *ud, const char *client, const char *code, const char *text)
{
	refusals++;
	snprintf(last_refusal, sizeof last_refusal, "%s %s", code, text);
}

static struct wsb_broker *mk(double rate, double burst, int pause)
{
	struct wsb_broker_cfg cfg = { .max_queue = 1u << 20, .mono_ms = fake_mono, .rate = { rate, burst },
				      .rate_pause = pause };
	struct wsb_broker_hooks hooks = { .throttle = h_throttle, .refused = h_refused };
	struct wsb_err err;

	throttles = refusals = 0;
	last_refusal[0] = '\0';
	return wsb_broker_new(&cfg, &hooks, &err);
}

/* Everything s was sent, as one string of payloads (frames are small). */
static const char *out(struct wsb_broker *b, struct wsb_sess *s)
{
	static char text[BUFSZ];
	size_t n = wsb_broker_take(b, s, tbuf, BUFSZ, BUFSZ), i = 0, o = 0;

	while (i + 2 <= n) {
		size_t len = tbuf[i + 1] & 0x7f, h = 2;

		if (len == 126) {
			len = (size_t)tbuf[i + 2] << 8 | tbuf[i + 3];
			h = 4;
		}
		memcpy(text + o, tbuf + i + h, len);
		o += len;
		text[o++] = '\n';
		i += h + len;
	}
	text[o] = '\0';
	return text;
}

static void in(struct wsb_broker *b, struct wsb_sess *s, const char *msg)
{
	wsb_broker_input(b, s, msg, strlen(msg));
}

static struct wsb_sess *join(struct wsb_broker *b, const char *may, const char *types, const char *const *pats,
			     size_t n, struct wsb_err *err)
{
	static struct wsb_scope sc[8];
	static int k;
	struct wsb_scope *s = &sc[k++ % 8];
	struct wsb_join j = { .types = pats, .ntypes = n, .scope = s };

	wsb_scope_all(s);
	if (may)
		wsb_scope_parse_may(may, strlen(may), &s->may, err);
	if (types)
		wsb_scope_set_types(s, types, strlen(types), err);
	return wsb_broker_join_ex(b, NULL, &j, err);
}

static void test_sub_only_cannot_publish(void)
{
	struct wsb_broker *b = mk(0, 0, 0);
	struct wsb_err err;
	struct wsb_sess *r = join(b, "sub", NULL, NULL, 0, &err), *all = join(b, NULL, NULL, NULL, 0, &err);
	struct wsb_broker_stats st;

	out(b, r);
	out(b, all);
	in(b, r, "{\"type\":\"order\",\"data\":1}");
	T_CHECK(strstr(out(b, r), "\"code\":\"FORBIDDEN\""));
	T_CHECK(!strstr(out(b, all), "order"));		/* not delivered */
	wsb_broker_stats(b, &st);
	T_CHECK(st.messages_in == 0 && refusals == 1 && !strncmp(last_refusal, "FORBIDDEN ", 10) &&
		strstr(last_refusal, "may not publish"));
	in(b, r, "{\"type\":\"order\",\"data\":1}");
	T_CHECK(strstr(out(b, r), "FORBIDDEN") && refusals == 1);	/* answered, logged once */
	in(b, all, "{\"type\":\"order\"}");
	T_CHECK(strstr(out(b, r), "\"type\":\"order\""));	/* it still reads */
	wsb_broker_free(b);
}

static void test_types_both_ways(void)
{
	struct wsb_broker *b = mk(0, 0, 0);
	struct wsb_err err;
	const char *pats[] = { "order.*" }, *bad[] = { "*" };
	struct wsb_sess *w = join(b, "pub,sub", "order*,tick", NULL, 0, &err);
	struct wsb_sess *u = join(b, NULL, NULL, NULL, 0, &err);
	struct wsb_sess *n = join(b, "sub", "order*", pats, 1, &err);
	const char *o;

	T_CHECK(w && u && n);
	o = out(b, w);
	T_CHECK(strstr(o, "connection_established"));
	T_CHECK(!join(b, "sub", "order*", bad, 1, &err) && err.code == WSB_EXIT_NOPERM);
	out(b, u);
	out(b, n);
	/* Publish: in scope goes out, out of scope is refused. */
	in(b, w, "{\"type\":\"order.new\"}");
	in(b, w, "{\"type\":\"trade\"}");
	o = out(b, w);
	T_CHECK(strstr(o, "FORBIDDEN") && strstr(o, "trade") && !strstr(o, "order.new"));
	o = out(b, u);
	T_CHECK(strstr(o, "order.new") && !strstr(o, "\"trade\""));
	T_CHECK(strstr(out(b, n), "order.new"));
	/* Subscribe: the default set is the scope's types; "*" is refused
	 * whole, a covered pattern is fine. */
	in(b, u, "{\"type\":\"trade\"}");
	in(b, u, "{\"type\":\"tick\"}");
	o = out(b, w);
	T_CHECK(strstr(o, "\"tick\"") && !strstr(o, "\"trade\""));
	in(b, w, "{\"type\":\"subscribe\",\"types\":[\"order.x\",\"*\"]}");
	o = out(b, w);
	T_CHECK(strstr(o, "\"code\":\"FORBIDDEN\"") && strstr(o, "outside"));
	in(b, w, "{\"type\":\"subscribe\",\"types\":[\"order.x*\"]}");
	T_CHECK(strstr(out(b, w), "\"subscribed\""));
	in(b, w, "{\"type\":\"unsubscribe\",\"types\":[\"*\"]}");	/* leaving is always allowed */
	T_CHECK(strstr(out(b, w), "\"subscribed\""));
	wsb_broker_free(b);
}

static void test_pub_only_hears_nothing(void)
{
	struct wsb_broker *b = mk(0, 0, 0);
	struct wsb_err err;
	struct wsb_sess *p = join(b, "pub", NULL, NULL, 0, &err), *q = join(b, NULL, NULL, NULL, 0, &err);
	struct wsb_broker_stats st;

	out(b, p);
	out(b, q);
	in(b, q, "{\"type\":\"x\"}");
	T_CHECK(!strstr(out(b, p), "\"x\""));
	wsb_broker_stats(b, &st);
	T_CHECK(st.subscribers == 1);
	in(b, p, "{\"type\":\"subscribe\",\"types\":[\"x\"]}");
	T_CHECK(strstr(out(b, p), "may not subscribe"));
	wsb_broker_free(b);
}

static void test_rate_reject(void)
{
	struct wsb_broker *b = mk(10, 2, 0);
	struct wsb_err err;
	struct wsb_sess *p = join(b, NULL, NULL, NULL, 0, &err), *q = join(b, NULL, NULL, NULL, 0, &err);
	struct wsb_broker_stats st;
	const char *o;

	out(b, p);
	out(b, q);
	for (int i = 0; i < 5; i++)
		in(b, p, "{\"type\":\"x\"}");
	wsb_broker_stats(b, &st);
	T_CHECK(st.messages_in == 2);
	o = out(b, p);
	T_CHECK(strstr(o, "RATE_LIMITED") && strstr(strstr(o, "RATE_LIMITED") + 1, "RATE_LIMITED"));
	T_CHECK(refusals == 1);		/* logged once per run */
	now_ms += 100;
	in(b, p, "{\"type\":\"x\"}");
	wsb_broker_stats(b, &st);
	T_CHECK(st.messages_in == 3);
	in(b, p, "{\"type\":\"x\"}");
	T_CHECK(refusals == 2);		/* a new run */
	T_CHECK(throttles == 0);
	wsb_broker_free(b);
}

static void test_rate_per_producer(void)
{
	struct wsb_broker *b = mk(10, 2, 0);
	struct wsb_err err;
	struct wsb_join j = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_sess *p = wsb_broker_join_ex(b, NULL, &j, &err);
	char secret[64] = "", msg[128];
	const char *o = out(b, p), *s = strstr(o, "\"producer_secret\":\"");
	struct wsb_broker_stats st;

	T_CHECK(s != NULL);
	if (!s)
		return;
	memcpy(secret, s + 19, 32);
	for (int i = 1; i <= 2; i++) {
		snprintf(msg, sizeof msg, "{\"type\":\"x\",\"producer\":\"feed\",\"pseq\":%d}", i);
		in(b, p, msg);
	}
	wsb_broker_leave(b, p);
	/* A new connection of the same producer finds its bucket empty. */
	j.producer_secret = secret;
	p = wsb_broker_join_ex(b, NULL, &j, &err);
	T_CHECK(p != NULL);
	out(b, p);
	in(b, p, "{\"type\":\"x\",\"producer\":\"feed\",\"pseq\":3}");
	T_CHECK(strstr(out(b, p), "for this producer id"));
	wsb_broker_stats(b, &st);
	T_CHECK(st.messages_in == 2);
	wsb_broker_free(b);
}

static void test_rate_pause(void)
{
	struct wsb_broker *b = mk(10, 2, 1);
	struct wsb_err err;
	struct wsb_sess *p = join(b, NULL, NULL, NULL, 0, &err);
	struct wsb_broker_stats st;

	out(b, p);
	in(b, p, "{\"type\":\"x\"}");
	T_CHECK(throttles == 0);
	in(b, p, "{\"type\":\"x\"}");	/* the bucket is empty now: wait 100 ms */
	T_CHECK(throttles == 1 && last_throttle == 100);
	in(b, p, "{\"type\":\"x\"}");	/* sent anyway (already read): accepted, longer wait */
	T_CHECK(throttles == 2 && last_throttle == 200);
	wsb_broker_stats(b, &st);
	T_CHECK(st.messages_in == 3 && !strstr(out(b, p), "RATE_LIMITED"));
	wsb_broker_free(b);
}

int main(void)
{
	T_RUN(test_sub_only_cannot_publish);
	T_RUN(test_types_both_ways);
	T_RUN(test_pub_only_hears_nothing);
	T_RUN(test_rate_reject);
	T_RUN(test_rate_per_producer);
	T_RUN(test_rate_pause);
	return t_done();
}

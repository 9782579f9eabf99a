/* test_compat — the broker and the clients of the systems wsbridge replaces
 * (issue 9): publish-only bots, requests, read-only sessions, symbols,
 * applications' "error", and the producer stamp only where asked for. */
#define T_SUITE "compat"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "broker.h"
#include "msg.h"

#define TS "2026-11-22T03:11:40.123Z"
#define BUFSZ (1u << 20)
#define MAXF 256

static unsigned char tbuf[BUFSZ];
static char pay[MAXF][2048];
static int npay;
static int closes, close_code;

static void fixed_now(struct timespec *ts)
{
	ts->tv_sec = 1795317100;
	ts->tv_nsec = 123456789;
}

static void h_close(void *ud, void *conn, int code, const char *reason)
{
	closes++;
	close_code = code;
}

static struct wsb_broker *mk_cfg(struct wsb_broker_cfg cfg)
{
	struct wsb_broker_hooks hooks = { .close = h_close };
	struct wsb_err err;
	struct wsb_broker *b;

	cfg.now = fixed_now;
	closes = close_code = 0;
	b = wsb_broker_new(&cfg, &hooks, &err);
	T_CHECK(b != NULL);
	return b;
}

static struct wsb_broker *mk(size_t max_queue, size_t history, size_t snap)
{
	return mk_cfg((struct wsb_broker_cfg){ .max_queue = max_queue, .history = history,
					       .snapshot_bytes = snap });
}

/* Server frames (7- and 16-bit lengths) into pay[]. */
static int drain(struct wsb_broker *b, struct wsb_sess *s)
{
	size_t n = wsb_broker_take(b, s, tbuf, BUFSZ, BUFSZ), i = 0;

	npay = 0;
	while (i < n) {
		size_t len = tbuf[i + 1] & 0x7f, h = 2;

		if (len == 126) {
			len = (size_t)tbuf[i + 2] << 8 | tbuf[i + 3];
			h = 4;
		}
		if (npay < MAXF)
			snprintf(pay[npay], sizeof pay[0], "%.*s", (int)len, (const char *)tbuf + i + h);
		npay++;
		i += h + len;
	}
	return npay;
}

static void in(struct wsb_broker *b, struct wsb_sess *s, const char *msg)
{
	wsb_broker_input(b, s, msg, strlen(msg));
}

static struct wsb_sess *join_j(struct wsb_broker *b, const struct wsb_join *j)
{
	struct wsb_err err;
	struct wsb_sess *s = wsb_broker_join_ex(b, NULL, j, &err);

	T_CHECK(s != NULL);
	if (s)
		drain(b, s);	/* the greeting */
	return s;
}

static struct wsb_sess *join(struct wsb_broker *b, unsigned flags)
{
	struct wsb_join j = { .flags = flags };

	return join_j(b, &j);
}

static struct wsb_broker_stats stats(struct wsb_broker *b)
{
	struct wsb_broker_stats st;

	wsb_broker_stats(b, &st);
	return st;
}

static int count_type(const char *type)
{
	char want[160];
	int n = 0;

	snprintf(want, sizeof want, "{\"type\":\"%s\"", type);
	for (int i = 0; i < npay && i < MAXF; i++)
		n += !strncmp(pay[i], want, strlen(want));
	return n;
}

/* Item 1: a bot that publishes and never reads is unsubscribed when its
 * queue overflows, not closed; it keeps publishing and nothing it sends is
 * lost. A connection that never published is still a slow consumer. */
static void test_slow_publisher_kept(void)
{
	struct wsb_broker *b = mk(4096, 0, 0);
	struct wsb_sess *flood = join(b, 0), *bot = join(b, 0), *reader = join(b, 0);
	struct wsb_sess *idle = join(b, 0);
	char msg[256];
	int got = 0;

	in(b, bot, "{\"type\":\"market_data\",\"data\":{\"i\":0}}");
	got += drain(b, reader);
	for (int i = 0; i < 200; i++) {
		snprintf(msg, sizeof msg, "{\"type\":\"tick\",\"data\":{\"pad\":\"%0100d\"}}", i);
		in(b, flood, msg);
		if (i % 10 == 0) {
			snprintf(msg, sizeof msg, "{\"type\":\"market_data\",\"data\":{\"i\":%d}}", i / 10 + 1);
			in(b, bot, msg);
		}
		drain(b, reader);
		got += count_type("market_data");
	}
	T_CHECK(got == 21);		/* every one the bot sent */
	T_CHECK(closes == 1 && close_code == WSB_CLOSE_SLOW);	/* idle, which never published */
	T_CHECK(stats(b).slow_unsubscribed == 1 && stats(b).slow_consumers_closed == 1);
	/* When it does read: the error first, then only what it asks for. */
	T_CHECK(drain(b, bot) == 1);
	T_CHECK(strstr(pay[0], "\"code\":\"SLOW_CONSUMER\"") && strstr(pay[0], "\"source\":\"wsbridge\""));
	in(b, bot, "{\"type\":\"subscribe\",\"types\":[\"tick\"]}");
	in(b, flood, "{\"type\":\"tick\"}");
	T_CHECK(drain(b, bot) == 2 && count_type("subscribed") == 1 && count_type("tick") == 1);
	/* With nothing subscribed, replies it never reads close it at last. */
	in(b, bot, "{\"type\":\"unsubscribe\",\"types\":[\"tick\"]}");
	for (int i = 0; i < 200 && closes == 1; i++)
		in(b, bot, "{\"type\":\"ping\",\"data\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
	T_CHECK(closes == 2 && close_code == WSB_CLOSE_SLOW);
	(void)idle;
	wsb_broker_free(b);
}

/* Item 2: the old dashboards' state requests are answered with the
 * snapshot and published to nobody; heartbeat is a ping. */
static void test_requests(void)
{
	static const char *const extra[] = { "get_positions" };
	struct wsb_broker *b = mk_cfg((struct wsb_broker_cfg){
		.max_queue = 1 << 20, .snapshot_bytes = 1 << 20, .request_types = extra,
		.nrequest_types = 1 });
	struct wsb_sess *pub = join(b, 0), *dash = join(b, 0), *other = join(b, 0);

	in(b, pub, "{\"type\":\"tick\",\"data\":{\"v\":1}}");
	in(b, pub, "{\"type\":\"order\",\"data\":{\"v\":2}}");
	in(b, pub, "{\"type\":\"tick\",\"data\":{\"v\":3}}");
	drain(b, dash);
	drain(b, other);
	in(b, dash, "{\"type\":\"get_state\"}");
	T_CHECK(drain(b, dash) == 2);
	T_CHECK(strstr(pay[0], "\"type\":\"order\"") && strstr(pay[1], "\"v\":3"));
	in(b, dash, "{\"type\":\"request_snapshot\"}");
	in(b, dash, "{\"type\":\"get_positions\",\"data\":{}}");
	T_CHECK(drain(b, dash) == 4);
	in(b, dash, "{\"type\":\"heartbeat\",\"data\":{\"t\":1}}");
	T_CHECK(drain(b, dash) == 1);
	T_STREQ(pay[0], "{\"type\":\"pong\",\"timestamp\":\"" TS "\",\"data\":{\"t\":1}}");
	T_CHECK(drain(b, other) == 0 && drain(b, pub) == 0);	/* nothing broadcast */
	T_CHECK(stats(b).seq == 3 && stats(b).messages_in == 3);
	wsb_broker_free(b);

	b = mk(1 << 20, 0, 0);	/* no snapshot table: said, not silent */
	dash = join(b, 0);
	in(b, dash, "{\"type\":\"get_state\"}");
	T_CHECK(drain(b, dash) == 1 && strstr(pay[0], "\"code\":\"NO_SNAPSHOT\""));
	wsb_broker_free(b);
}

/* Item 3: a read-only session asks, subscribes and pings, but publishes
 * nothing: FORBIDDEN, delivered to nobody. */
static void test_read_only(void)
{
	struct wsb_broker *b = mk(1 << 20, 0, 1 << 20);
	struct wsb_sess *browser = join(b, WSB_SESS_READ_ONLY), *other = join(b, 0);

	in(b, browser, "{\"type\":\"order\",\"data\":{\"qty\":100}}");
	T_CHECK(drain(b, browser) == 1);
	T_CHECK(strstr(pay[0], "{\"type\":\"error\",") == pay[0] && strstr(pay[0], "\"FORBIDDEN\""));
	T_CHECK(drain(b, other) == 0 && stats(b).seq == 0);
	in(b, browser, "{\"type\":\"ping\"}");
	in(b, browser, "{\"type\":\"get_state\"}");
	in(b, browser, "{\"type\":\"subscribe\",\"types\":[\"x\"]}");
	T_CHECK(drain(b, browser) == 2 && count_type("pong") == 1 && count_type("subscribed") == 1);
	in(b, other, "{\"type\":\"x\"}");
	T_CHECK(drain(b, browser) == 1);
	wsb_broker_free(b);
}

/* Item 4: symbols filter live, snapshot and history reads; messages
 * without a symbol pass; unsubscribe removes; "*" is every symbol. */
static void test_symbols(void)
{
	struct wsb_broker *b = mk(1 << 20, 100, 1 << 20);
	struct wsb_sess *pub = join(b, 0), *dash = join(b, 0);

	in(b, dash, "{\"type\":\"subscribe\",\"symbols\":[\"AAPL\",\"MSFT\"]}");
	T_CHECK(drain(b, dash) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"symbols\":[\"AAPL\",\"MSFT\"]}");
	in(b, pub, "{\"type\":\"update\",\"data\":{\"symbol\":\"AAPL\",\"price\":1}}");
	in(b, pub, "{\"type\":\"update\",\"data\":{\"symbol\":\"TSLA\",\"price\":2}}");
	in(b, pub, "{\"type\":\"system_status\",\"data\":{\"status\":\"healthy\"}}");
	in(b, pub, "{\"type\":\"update\",\"data\":{\"symbol\":\"MS\\u0046T\",\"price\":3}}");
	in(b, pub, "{\"type\":\"update\",\"data\":{\"symbol\":7}}");	/* not a string: none */
	T_CHECK(drain(b, dash) == 4);
	T_CHECK(strstr(pay[0], "AAPL") && strstr(pay[1], "system_status") && strstr(pay[2], "\"price\":3"));
	in(b, dash, "{\"type\":\"unsubscribe\",\"symbols\":[\"AAPL\"]}");
	in(b, pub, "{\"type\":\"update\",\"data\":{\"symbol\":\"AAPL\",\"price\":4}}");
	T_CHECK(drain(b, dash) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"symbols\":[\"MSFT\"]}");
	/* The snapshot a request answers with is filtered the same way: the
	 * latest "update" (per type, without --snapshot-key) is AAPL's. */
	in(b, dash, "{\"type\":\"get_state\"}");
	T_CHECK(drain(b, dash) == 1 && strstr(pay[0], "system_status") != NULL);
	/* Types and symbols together, all or nothing. */
	in(b, dash, "{\"type\":\"subscribe\",\"types\":[\"update\"],\"symbols\":[\"*\"]}");
	T_CHECK(drain(b, dash) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"update\"],\"symbols\":[\"*\"]}");
	in(b, dash, "{\"type\":\"subscribe\",\"types\":[\"ok\"],\"symbols\":[\"A\",3]}");
	T_CHECK(drain(b, dash) == 1 && strstr(pay[0], "\"symbols\\\": an array of strings"));
	in(b, dash, "{\"type\":\"subscribe\"}");
	T_CHECK(drain(b, dash) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"update\"]}");
	wsb_broker_free(b);
}

/* A resume reads history through the same filter. */
static void test_symbols_history(void)
{
	struct wsb_broker *b = mk(1 << 20, 100, 0);
	struct wsb_sess *pub = join(b, 0), *r;
	struct wsb_join rj = { .resume = 1, .since = 1 };
	struct wsb_err err;
	char e[32];

	in(b, pub, "{\"type\":\"u\",\"data\":{\"symbol\":\"A\"}}");
	in(b, pub, "{\"type\":\"u\",\"data\":{\"symbol\":\"B\"}}");
	in(b, pub, "{\"type\":\"u\",\"data\":{\"symbol\":\"A\"}}");
	in(b, pub, "{\"type\":\"u\"}");
	snprintf(e, sizeof e, "%s", wsb_broker_epoch(b));
	rj.epoch = e;
	r = wsb_broker_join_ex(b, NULL, &rj, &err);
	/* The resume has not been read yet: a symbol set given now applies. */
	in(b, r, "{\"type\":\"subscribe\",\"symbols\":[\"A\"]}");
	T_CHECK(drain(b, r) == 4);	/* greeting, subscribed, seq 3 (A), 4 (no symbol) */
	T_CHECK(strstr(pay[2], "\"seq\":3}") && strstr(pay[3], "\"seq\":4}"));
	wsb_broker_free(b);
}

/* Item 5: an application's "error" is published like any message (with a
 * seq); the broker's own carry no seq and data.source "wsbridge". */
static void test_app_error(void)
{
	struct wsb_broker *b = mk(1 << 20, 0, 0);
	struct wsb_sess *pub = join(b, 0), *dash = join(b, 0);

	in(b, pub, "{\"type\":\"error\",\"data\":{\"code\":\"CONNECTION_ERROR\",\"message\":\"x\",\"details\":{}}}");
	T_CHECK(drain(b, dash) == 1);
	T_STREQ(pay[0], "{\"type\":\"error\",\"data\":{\"code\":\"CONNECTION_ERROR\",\"message\":\"x\","
			"\"details\":{}},\"timestamp\":\"" TS "\",\"seq\":1}");
	T_CHECK(drain(b, pub) == 0);
	/* A forged source changes nothing: it still has a seq. */
	in(b, pub, "{\"type\":\"error\",\"data\":{\"source\":\"wsbridge\"},\"seq\":null}");
	T_CHECK(drain(b, dash) == 1 && strstr(pay[0], ",\"seq\":2}"));
	in(b, pub, "{\"type\":\"gap\"}");
	in(b, pub, "{\"type\":\"connection_established\"}");
	T_CHECK(drain(b, pub) == 2 && count_type("error") == 2);
	T_CHECK(!strstr(pay[0], "\"seq\"") && strstr(pay[0], ",\"source\":\"wsbridge\"}}"));
	T_CHECK(drain(b, dash) == 0);
	wsb_broker_free(b);
}

/* Item 7: producer/pseq reach only sessions that asked (?stamp=1), live,
 * from history and from the snapshot; the plain form is built once. */
static void test_stamp_only_when_asked(void)
{
	struct wsb_broker *b = mk(1 << 20, 100, 1 << 20);
	struct wsb_join pj = { .producer = "host:1234", .subscribe_none = 1 };
	struct wsb_join snapj = { .snapshot = 1 }, rj = { .resume = 1, .since = 0 };
	struct wsb_sess *plain = join(b, 0), *tool = join(b, WSB_SESS_STAMP), *pub = join_j(b, &pj);
	struct wsb_err err;

	in(b, pub, "{\"type\":\"t\",\"producer\":\"host:1234\",\"pseq\":1,\"data\":1}");
	T_CHECK(drain(b, plain) == 1);
	T_STREQ(pay[0], "{\"type\":\"t\",\"data\":1,\"timestamp\":\"" TS "\",\"seq\":1}");
	T_CHECK(drain(b, tool) == 1);
	T_STREQ(pay[0], "{\"type\":\"t\",\"producer\":\"host:1234\",\"pseq\":1,\"data\":1,"
			"\"timestamp\":\"" TS "\",\"seq\":1}");
	/* The greeting, then the message: from the snapshot, from history. */
	T_CHECK(drain(b, wsb_broker_join_ex(b, NULL, &snapj, &err)) == 2 && !strstr(pay[1], "producer"));
	T_CHECK(drain(b, wsb_broker_join_ex(b, NULL, &rj, &err)) == 2 && !strstr(pay[1], "pseq"));
	rj.flags = WSB_SESS_STAMP;
	T_CHECK(drain(b, wsb_broker_join_ex(b, NULL, &rj, &err)) == 2 && strstr(pay[1], "\"pseq\":1"));
	wsb_broker_free(b);
}

static void test_msg_form_once(void)
{
	const char *j = "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":2,\"seq\":5}";
	struct wsb_msg *m = wsb_msg_alloc(strlen(j)), *f;
	size_t n;

	memcpy(wsb_msg_payload(m), j, strlen(j));
	wsb_msg_seal(m, strlen(j));
	T_CHECK(wsb_msg_form(m, 0) == m);	/* not stamped: one form */
	m->stamped = 1;
	f = wsb_msg_form(m, 0);
	T_CHECK(f && f != m && wsb_msg_form(m, 0) == f && wsb_msg_form(m, 1) == m);
	T_CHECK(f && !memcmp(wsb_msg_json(f, &n), "{\"type\":\"t\",\"seq\":5}", 20) && n == 20);
	wsb_msg_unref(m);	/* and its plain form (ASan checks) */
}

int main(void)
{
	T_RUN(test_slow_publisher_kept);
	T_RUN(test_requests);
	T_RUN(test_read_only);
	T_RUN(test_symbols);
	T_RUN(test_symbols_history);
	T_RUN(test_app_error);
	T_RUN(test_stamp_only_when_asked);
	T_RUN(test_msg_form_once);
	return t_done();
}

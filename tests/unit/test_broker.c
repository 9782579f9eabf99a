#define T_SUITE "broker"
#include "t.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include "broker.h"
#include "broker_int.h"	/* the type index, to make it unusable */
#include "frame.h"

#define TS "2026-11-22T03:11:40.123Z"
#define BUFSZ (1u << 20)
#define MAXF 512
#define STARTS(s, lit) (!strncmp((s), (lit), strlen(lit)))

static unsigned char tbuf[BUFSZ];
static char pay[MAXF][4096];	/* payloads of the last drain, NUL-terminated */
static size_t paylen[MAXF];
static int npay;

static void fixed_now(struct timespec *ts)
{
	ts->tv_sec = 1795317100;
	ts->tv_nsec = 123456789;	/* milliseconds are truncated, not rounded */
}

static uint64_t mono_now = 1000, stall_ms, stall_window_ms;
static size_t snap_bytes;	/* snapshot table size for mk(); 0: off */

static uint64_t fake_mono(void)
{
	return mono_now;
}

struct rec {
	int wakes, closes, close_code, pressure_on, pressure_off, last_pressure;
	void *close_conn;
	char reason[64];
	struct wsb_broker *b;	/* for the hook that leaves from inside close */
	struct wsb_sess *leave_on_close;
};
static struct rec R;

static void h_wake(void *ud, void *conn)
{
	((struct rec *)ud)->wakes++;
}

static void h_close(void *ud, void *conn, int code, const char *reason)
{
	struct rec *r = ud;

	r->closes++;
	r->close_code = code;
	r->close_conn = conn;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	if (r->leave_on_close) {
		struct wsb_sess *s = r->leave_on_close;

		r->leave_on_close = NULL;
		wsb_broker_leave(r->b, s);
	}
}

static void h_pressure(void *ud, int on)
{
	struct rec *r = ud;

	if (on)
		r->pressure_on++;
	else
		r->pressure_off++;
	r->last_pressure = on;
}

/* Filters for the hooks: a handle per distinct text (shared), passing
 * messages that contain the text; "LOOP" goes over budget, "!x" does not
 * compile; "DIE" passes everything until a message with "k":2, over which
 * it goes over budget and stays so (as a jq program that went over does).
 * ff_evals counts distinct filters asked per call. */
struct ffilt {
	char text[64];
	int refs, dead;
};
static struct ffilt FF[8];
static int ff_calls, ff_evals;

static void *f_open(void *ud, const char *text, struct wsb_err *err)
{
	if (text[0] == '!') {
		wsb_err_set(err, WSB_EXIT_USAGE, "syntax error: %s", text + 1);
		return NULL;
	}
	for (int i = 0; i < 8; i++)
		if (FF[i].refs && !strcmp(FF[i].text, text))
			return FF[i].refs++, &FF[i];
	for (int i = 0; i < 8; i++)
		if (!FF[i].refs) {
			snprintf(FF[i].text, sizeof FF[i].text, "%s", text);
			FF[i].refs = 1;
			return &FF[i];
		}
	return NULL;
}

static void f_close(void *ud, void *f)
{
	((struct ffilt *)f)->refs--;
}

static void f_eval(void *ud, const char *msg, size_t len, void *const *fs, size_t n, signed char *res)
{
	ff_calls++;
	for (size_t i = 0; i < n; i++) {
		const struct ffilt *f = fs[i];
		size_t k = 0;

		while (k < i && fs[k] != fs[i])
			k++;
		ff_evals += k == i;
		if (!strcmp(f->text, "DIE")) {
			((struct ffilt *)f)->dead |= memmem(msg, len, "\"k\":2", 5) != NULL;
			res[i] = f->dead ? -1 : 1;
			continue;
		}
		res[i] = !strcmp(f->text, "LOOP") ? -1 : memmem(msg, len, f->text, strlen(f->text)) != NULL;
	}
}

static struct wsb_broker *mk(size_t max_queue, size_t max_memory, size_t history,
			     size_t history_bytes, const char *greeting)
{
	struct wsb_broker_cfg cfg = { .max_queue = max_queue, .max_memory = max_memory,
				      .history = history, .history_bytes = history_bytes,
				      .greeting = greeting, .now = fixed_now, .mono_ms = fake_mono,
				      .stall_ms = stall_ms, .stall_window_ms = stall_window_ms,
				      .snapshot_bytes = snap_bytes };
	struct wsb_broker_hooks hooks = { .ud = &R, .wake = h_wake, .close = h_close, .pressure = h_pressure,
					  .filter_open = f_open, .filter_close = f_close, .filter_eval = f_eval };
	struct wsb_err err;
	struct wsb_broker *b;

	memset(&R, 0, sizeof R);
	memset(FF, 0, sizeof FF);
	ff_calls = ff_evals = 0;
	b = wsb_broker_new(&cfg, &hooks, &err);
	R.b = b;
	return b;
}

static struct wsb_broker *mk_default(void)
{
	return mk(1u << 20, 1u << 24, 0, 0, NULL);
}

/* Splits server frames, checking each is FIN + text and unmasked. */
static int split(const unsigned char *p, size_t n)
{
	size_t i = 0;

	npay = 0;
	while (i < n) {
		uint64_t len;
		size_t h = 2;

		if (n - i < 2 || p[i] != 0x81 || (p[i + 1] & 0x80))
			return -1;
		len = p[i + 1] & 0x7f;
		if (len == 126) {
			len = (uint64_t)p[i + 2] << 8 | p[i + 3];
			h = 4;
		} else if (len == 127) {
			len = 0;
			for (int k = 0; k < 8; k++)
				len = len << 8 | p[i + 2 + k];
			h = 10;
		}
		if (len > n - i - h)
			return -1;
		if (npay < MAXF) {
			size_t c = len < sizeof pay[0] - 1 ? len : sizeof pay[0] - 1;

			memcpy(pay[npay], p + i + h, c);
			pay[npay][c] = '\0';
			paylen[npay] = len;
		}
		npay++;
		i += h + len;
	}
	return npay;
}

static int drain(struct wsb_broker *b, struct wsb_sess *s)
{
	return split(tbuf, wsb_broker_take(b, s, tbuf, BUFSZ, BUFSZ));
}

static void in(struct wsb_broker *b, struct wsb_sess *s, const char *msg)
{
	wsb_broker_input(b, s, msg, strlen(msg));
}

static struct wsb_sess *join(struct wsb_broker *b, void *conn, unsigned flags)
{
	struct wsb_err err;
	struct wsb_sess *s = wsb_broker_join(b, conn, flags, &err);

	T_CHECK(s != NULL);
	return s;
}

/* A joined session with its greeting already taken. */
static struct wsb_sess *join_quiet(struct wsb_broker *b, void *conn, unsigned flags)
{
	struct wsb_sess *s = join(b, conn, flags);

	T_CHECK(drain(b, s) == 1);
	return s;
}

static struct wsb_broker_stats stats(struct wsb_broker *b)
{
	struct wsb_broker_stats st;

	wsb_broker_stats(b, &st);
	return st;
}

static void test_greeting(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *a = join(b, (void *)1, 0), *c;
	const char *id = wsb_broker_client_id(a);
	char want[512];

	T_CHECK(R.wakes == 1);
	T_CHECK(wsb_broker_pending(a) == 1);
	T_CHECK(strlen(id) >= 10 && id[8] == '-');
	T_CHECK(strspn(id, "0123456789abcdef") == 8);
	T_CHECK(drain(b, a) == 1);
	snprintf(want, sizeof want,
		 "{\"type\":\"connection_established\",\"timestamp\":\"" TS "\","
		 "\"message\":\"Connected to wsbridge\",\"client_id\":\"%s\",\"seq\":0,"
		 "\"epoch\":\"%s\"}", id, wsb_broker_epoch(b));
	T_STREQ(pay[0], want);
	T_CHECK(wsb_broker_pending(a) == 0);

	in(b, a, "{\"type\":\"x\"}");
	in(b, a, "{\"type\":\"x\"}");
	c = join(b, (void *)2, 0);
	T_CHECK(strcmp(wsb_broker_client_id(c), id) != 0);
	T_CHECK(!strncmp(wsb_broker_client_id(c), id, 9));	/* same broker prefix */
	T_CHECK(drain(b, c) == 1);
	T_CHECK(strstr(pay[0], ",\"seq\":2,\"epoch\":\"") != NULL);
	T_CHECK(strlen(wsb_broker_epoch(b)) == 16);
	T_CHECK(stats(b).connections == 2);
	T_CHECK(stats(b).subscribers == 2);
	wsb_broker_free(b);

	b = mk(1u << 20, 1u << 24, 0, 0, "hi \"there\"\n");
	a = join(b, NULL, 0);
	T_CHECK(drain(b, a) == 1);
	T_CHECK(strstr(pay[0], "\"message\":\"hi \\\"there\\\"\\n\",") != NULL);
	wsb_broker_free(b);
}

static void test_publish_stamps(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, (void *)1, 0), *sub = join_quiet(b, (void *)2, 0);
	static const char want1[] =
		"{\"type\":\"order\",\"data\":{\"a\":1},\"timestamp\":\"" TS "\",\"seq\":1}";
	size_t n;

	in(b, pub, "{ \"type\":\"order\", \"data\":{\"a\":1} }");
	n = wsb_broker_take(b, sub, tbuf, BUFSZ, BUFSZ);
	/* Exact frame bytes: FIN|text, unmasked 7-bit length, then the payload. */
	T_CHECK(n == 2 + sizeof want1 - 1);
	T_CHECK(tbuf[0] == 0x81 && tbuf[1] == sizeof want1 - 1);
	T_CHECK(n >= 2 && !memcmp(tbuf + 2, want1, sizeof want1 - 1));

	/* A timestamp the publisher set (any JSON value) is kept, not added. */
	in(b, pub, "{\"timestamp\":\"2020-01-01T00:00:00Z\",\"type\":\"t\"}");
	in(b, pub, "{\"type\":\"t\",\"timestamp\":null,\"data\":[1, 2]}");
	T_CHECK(drain(b, sub) == 2);
	T_STREQ(pay[0], "{\"timestamp\":\"2020-01-01T00:00:00Z\",\"type\":\"t\",\"seq\":2}");
	T_STREQ(pay[1], "{\"type\":\"t\",\"timestamp\":null,\"data\":[1,2],\"seq\":3}");
	T_CHECK(stats(b).messages_in == 3);
	T_CHECK(stats(b).seq == 3);
	T_CHECK(stats(b).messages_out == 2 + 3);	/* two greetings, three deliveries */
	T_CHECK(stats(b).queued_bytes == 0);
	wsb_broker_free(b);
}

static void test_client_seq_replaced(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *sub = join_quiet(b, NULL, 0);

	in(b, pub, "{\"seq\":99,\"type\":\"a\",\"data\":{\"seq\":5}}");
	in(b, pub, "{\"type\":\"a\",\"seq\":18446744073709551615}");
	T_CHECK(drain(b, sub) == 2);
	T_STREQ(pay[0], "{\"type\":\"a\",\"data\":{\"seq\":5},\"timestamp\":\"" TS "\",\"seq\":1}");
	T_STREQ(pay[1], "{\"type\":\"a\",\"timestamp\":\"" TS "\",\"seq\":2}");
	/* Two of them are refused, although both would be replaced. */
	in(b, pub, "{\"seq\":99,\"type\":\"a\",\"seq\":\"x\"}");
	T_CHECK(drain(b, sub) == 0 && drain(b, pub) == 1);
	T_CHECK(strstr(pay[0], "\"code\":\"INVALID_MESSAGE\",\"message\":\"message has \\\"seq\\\" twice"));
	wsb_broker_free(b);
}

/* Routing by one "type" while a subscriber's reader sees another would let
 * {"type":"connection_established","type":"zz"} reach everyone as a
 * greeting: a repeated member is refused with one error, delivered to nobody. */
static void test_duplicate_members(void)
{
	static const char *const bad[] = {
		"{\"type\":\"connection_established\",\"type\":\"zz\"}",
		"{\"type\":\"zz\",\"type\":\"connection_established\"}",
		"{\"type\":\"zz\",\"producer\":\"p\",\"producer\":\"q\"}",
		"{\"type\":\"zz\",\"pseq\":1,\"pseq\":2}",
	};
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *sub = join_quiet(b, NULL, 0);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		in(b, pub, bad[i]);
		T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "\"INVALID_MESSAGE\"") &&
			strstr(pay[0], " twice (at byte "));
	}
	T_CHECK(drain(b, sub) == 0);
	T_CHECK(stats(b).errors == 4 && stats(b).messages_in == 0 && stats(b).seq == 0);
	wsb_broker_free(b);
}

static void test_large_frame_headers(void)
{
	struct wsb_broker *b = mk(1u << 22, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *sub = join_quiet(b, NULL, 0);
	static char msg[70000];
	size_t n, plen;

	/* 16-bit length: payload between 126 and 65535 bytes. */
	memset(msg, 0, sizeof msg);
	strcpy(msg, "{\"type\":\"big\",\"data\":\"");
	memset(msg + strlen(msg), 'x', 200);
	strcat(msg, "\"}");
	in(b, pub, msg);
	n = wsb_broker_take(b, sub, tbuf, BUFSZ, BUFSZ);
	plen = strlen(msg) - 1 + strlen(",\"timestamp\":\"" TS "\",\"seq\":1}");
	T_CHECK(n == 4 + plen);
	T_CHECK(tbuf[0] == 0x81 && tbuf[1] == 126 && (size_t)(tbuf[2] << 8 | tbuf[3]) == plen);
	T_CHECK(!memcmp(tbuf + 4, msg, strlen(msg) - 1));

	/* 64-bit length: over 65535. */
	memset(msg, 0, sizeof msg);
	strcpy(msg, "{\"type\":\"big\",\"data\":\"");
	memset(msg + strlen(msg), 'y', 66000);
	strcat(msg, "\"}");
	in(b, pub, msg);
	n = wsb_broker_take(b, sub, tbuf, BUFSZ, BUFSZ);
	plen = strlen(msg) - 1 + strlen(",\"timestamp\":\"" TS "\",\"seq\":2}");
	T_CHECK(n == 10 + plen);
	T_CHECK(split(tbuf, n) == 1 && paylen[0] == plen && tbuf[1] == 127);
	T_CHECK(n > 10 && !memcmp(tbuf + 10 + plen - 8, "\"seq\":2}", 8));
	wsb_broker_free(b);
}

/* Fan-out asks the type index (typeidx.h): what a session gets follows
 * every change of its set, however it came (subscribe, unsubscribe, slow
 * consumer, leave), also for a type whose glob answer is cached; and the
 * same without the index (broken: what ENOMEM leaves). */
static void fanout_changes(int broken)
{
	struct wsb_broker *b = mk(4096, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub, *g;

	b->ss.ix.broken = broken;	/* as after ENOMEM: every session is asked */
	pub = join_quiet(b, NULL, 0);
	g = join_quiet(b, NULL, 0);
	struct wsb_sess *x = join_quiet(b, NULL, 0), *bot = join_quiet(b, NULL, 0);
	static const char tick[] = "{\"type\":\"tick\"}";
	char big[1200];
	struct wsb_err err;

	T_CHECK(wsb_broker_subscribe(b, g, "t*", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, x, "tick", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, x, "ti*", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, bot, "t?ck", &err) == 0);
	in(b, pub, tick);
	T_CHECK(drain(b, g) == 1 && drain(b, x) == 1 && drain(b, bot) == 1);	/* x once */
	in(b, g, "{\"type\":\"unsubscribe\",\"types\":[\"t*\"]}");
	in(b, x, "{\"type\":\"unsubscribe\",\"types\":[\"tick\"]}");
	T_CHECK(drain(b, g) == 1 && drain(b, x) == 1);	/* "subscribed" */
	in(b, pub, tick);
	T_CHECK(drain(b, g) == 0 && drain(b, x) == 1);	/* x by "ti*" still */
	in(b, g, "{\"type\":\"subscribe\",\"types\":[\"?ick\"]}");
	T_CHECK(drain(b, g) == 1);
	/* bot publishes and does not read: past max_queue it is unsubscribed. */
	in(b, bot, "{\"type\":\"other\"}");
	snprintf(big, sizeof big, "{\"type\":\"tick\",\"data\":\"%01000d\"}", 0);
	for (int i = 0; i < 6; i++) {
		in(b, pub, big);
		T_CHECK(drain(b, g) == 1 && drain(b, x) == 1);
	}
	T_CHECK(stats(b).slow_unsubscribed == 1);
	T_CHECK(drain(b, bot) == 1 && strstr(pay[0], "SLOW_CONSUMER"));
	in(b, pub, tick);
	T_CHECK(drain(b, bot) == 0);
	T_CHECK(drain(b, g) == 1 && drain(b, x) == 1);
	wsb_broker_leave(b, x);
	in(b, pub, tick);
	T_CHECK(drain(b, g) == 1);
	wsb_broker_free(b);
}

static void test_fanout_index_follows_changes(void)
{
	fanout_changes(0);
}

static void test_fanout_without_index(void)
{
	fanout_changes(1);
}

static void test_type_filtering(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0);
	struct wsb_sess *orders = join_quiet(b, NULL, 0), *created = join_quiet(b, NULL, 0);
	struct wsb_sess *one = join_quiet(b, NULL, 0), *all = join_quiet(b, NULL, 0);
	struct wsb_err err;

	T_CHECK(wsb_broker_subscribe(b, orders, "order.*", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, created, "*.created", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, one, "trade", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, one, "q?", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, one, "bad\x01", &err) == -1);
	T_CHECK(strstr(err.msg, "control character") != NULL);
	T_CHECK(wsb_broker_pending(orders) == 0);	/* the API subscribe does not reply */

	in(b, pub, "{\"type\":\"order.created\"}");
	in(b, pub, "{\"type\":\"order.filled\"}");
	in(b, pub, "{\"type\":\"user.created\"}");
	in(b, pub, "{\"type\":\"trade\"}");
	in(b, pub, "{\"type\":\"trades\"}");
	in(b, pub, "{\"type\":\"qz\"}");

	T_CHECK(drain(b, orders) == 2);
	T_CHECK(strstr(pay[0], "order.created\",") && strstr(pay[1], "order.filled\","));
	T_CHECK(drain(b, created) == 2);
	T_CHECK(strstr(pay[0], "order.created\",") && strstr(pay[1], "user.created\","));
	T_CHECK(drain(b, one) == 2);
	T_CHECK(strstr(pay[0], "\"trade\",") && strstr(pay[1], "\"qz\","));
	T_CHECK(drain(b, all) == 6);
	T_CHECK(drain(b, pub) == 0);	/* no echo */
	T_CHECK(stats(b).subscribers == 5);
	wsb_broker_free(b);
}

static void test_echo(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *plain = join_quiet(b, NULL, 0), *echo = join_quiet(b, NULL, WSB_SESS_ECHO);

	in(b, plain, "{\"type\":\"a\"}");
	in(b, echo, "{\"type\":\"b\"}");
	T_CHECK(drain(b, plain) == 1);
	T_CHECK(strstr(pay[0], "\"type\":\"b\"") != NULL);
	T_CHECK(drain(b, echo) == 2);
	T_CHECK(strstr(pay[0], "\"type\":\"a\"") && strstr(pay[1], "\"type\":\"b\""));
	wsb_broker_free(b);
}

static void test_probe_reaches_only_probers(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 10, 0, NULL);
	struct wsb_sess *all = join_quiet(b, NULL, 0), *star = join_quiet(b, NULL, 0);
	struct wsb_sess *prober = join_quiet(b, NULL, WSB_SESS_ECHO);
	struct wsb_err err;

	T_CHECK(wsb_broker_subscribe(b, star, "*", &err) == 0);
	T_CHECK(wsb_broker_subscribe(b, prober, "$probe.abc", &err) == 0);
	in(b, prober, "{\"type\":\"$probe.abc\",\"data\":1}");
	T_CHECK(drain(b, prober) == 1);
	T_CHECK(strstr(pay[0], "\"type\":\"$probe.abc\"") != NULL);
	T_CHECK(drain(b, all) == 0);
	T_CHECK(drain(b, star) == 0);
	T_CHECK(stats(b).retained == 0);	/* probes never enter history */
	in(b, all, "{\"type\":\"$other\"}");	/* other '$' types stay reserved */
	T_CHECK(drain(b, all) == 1 && strstr(pay[0], "INVALID_MESSAGE") != NULL);
	wsb_broker_free(b);
}

/* A subscriber past 3/4 of max_queue pauses publishers until it drains
 * under 1/2, or until stall_ms passes; then it meets the 4008 cap. */
static void test_stall(void)
{
	struct wsb_broker *b;
	struct wsb_sess *pub, *slow, *fast;
	char msg[200];
	int i, n;

	stall_ms = 500;
	b = mk(8192, 1u << 24, 0, 0, NULL);
	pub = join_quiet(b, NULL, 0);
	slow = join_quiet(b, NULL, 0);
	fast = join_quiet(b, NULL, 0);
	snprintf(msg, sizeof msg, "{\"type\":\"t\",\"data\":\"%0100d\"}", 0);
	for (i = 0; R.pressure_on == 0 && i < 100; i++) {
		in(b, pub, msg);
		drain(b, fast);
	}
	T_CHECK(R.pressure_on == 1 && R.last_pressure == 1);
	T_CHECK(i > 8192 / 200 * 3 / 4 - 5 && i <= 8192 / 200);	/* at 3/4 of the cap */
	/* Draining under half lifts it. */
	n = split(tbuf, wsb_broker_take(b, slow, tbuf, 8192 / 2, BUFSZ));
	T_CHECK(n > 0 && R.last_pressure == 0 && R.pressure_off == 1);
	/* A stuck one: pressure again, then tick past stall_ms lifts it... */
	for (i = 0; R.pressure_on == 1 && i < 100; i++)
		in(b, pub, msg);
	T_CHECK(R.pressure_on == 2);
	mono_now += 499;
	wsb_broker_tick(b);
	T_CHECK(R.last_pressure == 1);
	mono_now += 1;
	wsb_broker_tick(b);
	T_CHECK(R.last_pressure == 0);
	/* ...and it is closed as slow when the cap is reached, not stalled again. */
	for (i = 0; !R.closes && i < 100; i++)
		in(b, pub, msg);
	T_CHECK(R.closes == 1 && R.close_code == WSB_CLOSE_SLOW);
	T_CHECK(R.pressure_on == 2);
	wsb_broker_free(b);
	stall_ms = 0;
}

/* A steady reader slower than the publishers: every time it passes 3/4 it
 * pauses them until it is back under 1/2. It may do so for stall_ms in total
 * per window; then it pauses nobody until the window ends (it used to
 * re-arm forever, pacing every publisher at its own rate). */
static void test_stall_budget(void)
{
	struct wsb_broker *b;
	struct wsb_sess *pub, *slow, *fast;
	char msg[200];
	int i, cycle;

	stall_ms = 500;
	stall_window_ms = 5000;
	b = mk(8192, 1u << 24, 0, 0, NULL);
	pub = join_quiet(b, NULL, 0);
	slow = join_quiet(b, NULL, 0);
	fast = join_quiet(b, NULL, 0);
	snprintf(msg, sizeof msg, "{\"type\":\"t\",\"data\":\"%0100d\"}", 0);
	for (cycle = 0; cycle < 5; cycle++) {
		for (i = 0; !R.last_pressure && i < 100; i++) {
			in(b, pub, msg);
			T_CHECK(drain(b, fast) == 1);
		}
		T_CHECK(R.last_pressure == 1 && R.pressure_on == cycle + 1);
		mono_now += 100;	/* paused for 100 ms, then it catches up */
		wsb_broker_tick(b);
		T_CHECK(R.last_pressure == (cycle < 4));	/* the 5th reaches 500 ms */
		T_CHECK(split(tbuf, wsb_broker_take(b, slow, tbuf, 8192 / 2, BUFSZ)) > 0);
		T_CHECK(R.last_pressure == 0);
	}
	/* Spent: past 3/4 again and again, it pauses nobody. */
	drain(b, slow);
	for (cycle = 0; cycle < 3; cycle++) {
		for (i = 0; i < 40; i++) {
			in(b, pub, msg);
			T_CHECK(drain(b, fast) == 1);
		}
		T_CHECK(drain(b, slow) >= 40);
	}
	T_CHECK(R.pressure_on == 5 && R.closes == 0);
	/* A new window gives a new budget... */
	mono_now += 5000;
	wsb_broker_tick(b);
	for (i = 0; !R.last_pressure && i < 100; i++) {
		in(b, pub, msg);
		T_CHECK(drain(b, fast) == 1);
	}
	T_CHECK(R.pressure_on == 6);
	mono_now += 500;
	wsb_broker_tick(b);
	T_CHECK(R.last_pressure == 0);
	/* ...and once spent, a reader that stops is closed at the cap. */
	for (i = 0; !R.closes && i < 100; i++) {
		in(b, pub, msg);
		T_CHECK(drain(b, fast) == 1);
	}
	T_CHECK(R.closes == 1 && R.close_code == WSB_CLOSE_SLOW && R.pressure_on == 6);
	wsb_broker_free(b);
	stall_ms = stall_window_ms = 0;
}

static struct wsb_sess *join_j(struct wsb_broker *b, const struct wsb_join *j)
{
	struct wsb_err err;
	struct wsb_sess *s = wsb_broker_join_ex(b, NULL, j, &err);

	T_CHECK(s != NULL);
	return s;
}

/* The producer_secret a greeting issued, into out ("" if none). */
static const char *secret_of(const char *greeting, char out[WSB_SECRET_HEX + 1])
{
	const char *p = strstr(greeting, "\"producer_secret\":\"");

	out[0] = '\0';
	if (p && strlen(p + 19) > WSB_SECRET_HEX && p[19 + WSB_SECRET_HEX] == '"') {
		memcpy(out, p + 19, WSB_SECRET_HEX);
		out[WSB_SECRET_HEX] = '\0';
	}
	return out;
}

/* Idle connections own no queue slots: the greeting's are given back
 * once it is taken, an empty queue's on every tenth tick, one with a backlog keeps them, and the next
 * message allocates them again. Only a producer's session has the
 * producer part (sessions.h). */
static void test_idle_memory(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 0, 0, NULL);
	struct wsb_join pj = { .producer = "p", .subscribe_none = 1 };
	struct wsb_sess *idle = join_quiet(b, NULL, 0), *busy = join_quiet(b, NULL, 0);
	struct wsb_sess *pub = join_j(b, &pj);

	T_CHECK(idle->pub == NULL && busy->pub == NULL && pub->pub != NULL);
	T_CHECK(idle->q.cap == 0 && idle->q.b.p == NULL);	/* the greeting's, given back */
	in(b, pub, "{\"type\":\"t\",\"data\":1,\"producer\":\"p\",\"pseq\":1}");
	T_CHECK(drain(b, idle) == 1 && busy->q.n == 1);
	T_CHECK(idle->q.cap > 0);		/* kept: it is receiving */
	for (int i = 0; i < 9; i++)
		wsb_broker_tick(b);
	T_CHECK(idle->q.cap > 0);		/* not at every tick */
	wsb_broker_tick(b);
	T_CHECK(idle->q.cap == 0 && idle->q.b.p == NULL);
	T_CHECK(busy->q.cap > 0 && busy->q.n == 1);	/* a backlog stays */
	in(b, pub, "{\"type\":\"t\",\"data\":2,\"producer\":\"p\",\"pseq\":2}");
	T_CHECK(drain(b, idle) == 1 && strstr(pay[0], "\"data\":2") != NULL);
	T_CHECK(drain(b, busy) == 2 && strstr(pay[0], "\"data\":1") != NULL &&
		strstr(pay[1], "\"data\":2") != NULL);
	T_CHECK(drain(b, pub) == 2 && !strcmp(pay[0], "{\"type\":\"ack\",\"pseq\":2}"));	/* then the greeting */
	wsb_broker_free(b);
}

/* Producer dedup and cumulative acks: a resend after a reconnect is
 * acknowledged but not delivered twice, and the greeting tells the
 * producer where to resume. */
static void test_producer_acks(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 100, 0, NULL);
	struct wsb_join pj = { .producer = "p-1", .subscribe_none = 1 };
	struct wsb_sess *sub = join_quiet(b, NULL, WSB_SESS_STAMP), *pub = join_j(b, &pj);
	char m[128], secret[WSB_SECRET_HEX + 1];

	T_CHECK(drain(b, pub) == 1);
	T_CHECK(strstr(pay[0], "\"producer\":\"p-1\",\"accepted\":0,\"producer_secret\":\"") != NULL);
	T_CHECK(strlen(secret_of(pay[0], secret)) == WSB_SECRET_HEX);
	for (int i = 1; i <= 3; i++) {
		snprintf(m, sizeof m, "{\"type\":\"t\",\"data\":%d,\"producer\":\"p-1\",\"pseq\":%d}", i, i);
		in(b, pub, m);
	}
	T_CHECK(drain(b, pub) == 1);	/* one cumulative ack, not three */
	T_STREQ(pay[0], "{\"type\":\"ack\",\"pseq\":3}");
	T_CHECK(drain(b, sub) == 3);
	T_CHECK(strstr(pay[2], "\"producer\":\"p-1\",\"pseq\":3,") != NULL);
	wsb_broker_leave(b, pub);

	pj.producer_secret = secret;
	pub = join_j(b, &pj);		/* reconnect, with the secret */
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "\"accepted\":3}") != NULL);
	in(b, pub, "{\"type\":\"t\",\"data\":3,\"producer\":\"p-1\",\"pseq\":3}");	/* resend */
	in(b, pub, "{\"type\":\"t\",\"data\":4,\"producer\":\"p-1\",\"pseq\":4}");
	T_CHECK(drain(b, pub) == 1);
	T_STREQ(pay[0], "{\"type\":\"ack\",\"pseq\":4}");
	T_CHECK(drain(b, sub) == 1 && strstr(pay[0], "\"data\":4") != NULL);
	T_CHECK(stats(b).duplicates == 1 && stats(b).seq == 4);
	wsb_broker_free(b);
}

/* With durable acks, an ack waits for wsb_broker_durable. */
static void test_durable_acks(void)
{
	struct wsb_broker_cfg cfg = { .max_queue = 1u << 20, .durable_acks = 1, .history = 10,
				      .now = fixed_now };
	struct wsb_err err;
	struct wsb_broker *b = wsb_broker_new(&cfg, NULL, &err);
	struct wsb_join pj = { .producer = "p", .subscribe_none = 1 };
	struct wsb_sess *pub = join_j(b, &pj), *sub = join_quiet(b, NULL, 0), *late;
	struct wsb_join rj = { .resume = 1, .since = 0 };

	T_CHECK(drain(b, pub) == 1);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":1}");
	in(b, pub, "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":2}");
	T_CHECK(drain(b, pub) == 0);
	T_CHECK(drain(b, sub) == 0);	/* nobody sees what is not stored */
	T_CHECK(stats(b).queued_bytes > 0);	/* and it counts as queued memory */
	wsb_broker_durable(b, 1);
	T_CHECK(drain(b, pub) == 1);
	T_STREQ(pay[0], "{\"type\":\"ack\",\"pseq\":1}");
	T_CHECK(drain(b, sub) == 1 && strstr(pay[0], "\"seq\":1}") != NULL);
	late = join_j(b, &rj);	/* history replay stops at what is stored */
	T_CHECK(drain(b, late) == 2 && strstr(pay[1], "\"seq\":1}") != NULL);
	wsb_broker_durable(b, 2);
	T_CHECK(drain(b, pub) == 1);
	T_STREQ(pay[0], "{\"type\":\"ack\",\"pseq\":2}");
	T_CHECK(drain(b, sub) == 1 && strstr(pay[0], "\"seq\":2}") != NULL);
	T_CHECK(drain(b, late) == 1 && strstr(pay[0], "\"seq\":2}") != NULL);	/* live, once */
	T_CHECK(stats(b).queued_bytes == 0);
	wsb_broker_free(b);
}

/* Resume: since=SEQ replays matching retained messages in order, then the
 * live stream with no duplicate or hole at the seam; eviction and a
 * changed epoch are reported as gap records. */
static void test_resume_and_gaps(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 5, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s;
	const char *types[] = { "a" };
	struct wsb_join j = { .resume = 1, .since = 6, .types = types, .ntypes = 1 };
	char m[64];

	for (int i = 1; i <= 10; i++) {	/* seq i, type a when odd */
		snprintf(m, sizeof m, "{\"type\":\"%s\",\"data\":%d}", i % 2 ? "a" : "b", i);
		in(b, pub, m);
	}
	j.epoch = wsb_broker_epoch(b);
	s = join_j(b, &j);
	in(b, pub, "{\"type\":\"a\",\"data\":11}");	/* live while catching up */
	T_CHECK(drain(b, s) == 4);	/* greeting, 7, 9, 11 */
	T_CHECK(strstr(pay[1], "\"seq\":7}") && strstr(pay[2], "\"seq\":9}") && strstr(pay[3], "\"seq\":11}"));
	in(b, pub, "{\"type\":\"a\",\"data\":12}");
	T_CHECK(drain(b, s) == 1 && strstr(pay[0], "\"seq\":12}"));	/* live now, once */

	j.since = 2;			/* history holds 8..12 only */
	s = join_j(b, &j);
	T_CHECK(drain(b, s) == 5);	/* greeting, gap 3..7, 9, 11, 12 */
	T_CHECK(strstr(pay[1], "{\"type\":\"gap\",\"from\":3,\"to\":7,\"reason\":\"evicted\"") == pay[1]);
	T_CHECK(strstr(pay[2], "\"seq\":9}") != NULL);

	j.epoch = "0000000000000000";	/* another lifetime of the numbering */
	s = join_j(b, &j);
	T_CHECK(drain(b, s) >= 3);
	T_CHECK(strstr(pay[1], "\"from\":3,\"to\":null,\"reason\":\"epoch\"") != NULL);
	T_CHECK(strstr(pay[2], "\"reason\":\"evicted\"") != NULL);	/* 1..7 of this epoch are gone */

	j.epoch = NULL;			/* --from-start: what is retained, no gap */
	j.since = 0;
	s = join_j(b, &j);
	T_CHECK(drain(b, s) == 4);
	T_CHECK(strstr(pay[1], "\"seq\":9}") != NULL);
	wsb_broker_free(b);
}

#define SECRET "0123456789abcdef0123456789abcdef"

/* Journal recovery: restored lines rebuild history, seq and producers. */
static void test_restore(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 10, 0, NULL);
	struct wsb_join pj = { .producer = "p", .subscribe_none = 1, .producer_secret = SECRET };
	struct wsb_join rj = { .resume = 1, .flags = WSB_SESS_STAMP };
	unsigned char h[WSB_SECRET_HASH];
	const char *l1 = "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":7,\"timestamp\":\"x\",\"seq\":41}";
	const char *l2 = "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":8,\"timestamp\":\"x\",\"seq\":42}";
	struct wsb_sess *s;

	wsb_broker_set_epoch(b, "00000000deadbeef");
	wsb_secret_hash(SECRET, h);
	T_CHECK(wsb_broker_restore_producer(b, "p", h) == 0);
	T_CHECK(wsb_broker_restore(b, l1, strlen(l1), 41) == 0);
	T_CHECK(wsb_broker_restore(b, l2, strlen(l2), 42) == 0);
	T_CHECK(wsb_broker_restore(b, "not json", 8, 43) == -1);
	T_CHECK(stats(b).seq == 42 && stats(b).retained == 2);
	s = join_j(b, &pj);
	T_CHECK(drain(b, s) == 1 && strstr(pay[0], "\"seq\":42,\"epoch\":\"00000000deadbeef\","));
	T_CHECK(strstr(pay[0], "\"accepted\":8}") != NULL);
	rj.epoch = "00000000deadbeef";
	rj.since = 41;
	s = join_j(b, &rj);
	T_CHECK(drain(b, s) == 2);
	T_STREQ(pay[1], l2);
	wsb_broker_free(b);
}

static struct wsb_broker *mk_snap(size_t bytes, size_t max_queue)
{
	struct wsb_broker *b;

	snap_bytes = bytes;
	b = mk(max_queue, 1u << 24, 0, 0, NULL);
	snap_bytes = 0;
	return b;
}

/* ?snapshot=1: the latest message of each matching type, oldest first. */
static void test_snapshot(void)
{
	struct wsb_broker *b = mk_snap(1u << 20, 1u << 20);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s;
	const char *types[] = { "t*" };
	struct wsb_join j = { .snapshot = 1, .types = types, .ntypes = 1 };

	in(b, pub, "{\"type\":\"tick\",\"data\":1}");
	in(b, pub, "{\"type\":\"trade\",\"data\":2}");
	in(b, pub, "{\"type\":\"tick\",\"data\":3}");
	in(b, pub, "{\"type\":\"order\",\"data\":4}");
	s = join_j(b, &j);
	T_CHECK(drain(b, s) == 3);	/* greeting, trade 2, tick 3 */
	T_CHECK(strstr(pay[1], "\"data\":2,") && strstr(pay[2], "\"data\":3,"));
	T_CHECK(stats(b).snapshot_entries == 3);
	wsb_broker_free(b);
}

/* Many distinct types: the table stays within its bytes, the least
 * recently updated go first, and its bytes count as used memory. */
static void test_snapshot_bounded(void)
{
	struct wsb_broker *b = mk_snap(4096, 1u << 20);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s;
	struct wsb_join j = { .snapshot = 1 };
	char msg[64];

	for (int i = 0; i < 1000; i++) {
		snprintf(msg, sizeof msg, "{\"type\":\"k%d\",\"data\":%d}", i, i);
		in(b, pub, msg);
		T_CHECK(stats(b).snapshot_bytes <= 4096);
	}
	T_CHECK(stats(b).snapshot_entries > 10 && stats(b).snapshot_evicted > 900);
	T_CHECK(stats(b).snapshot_evicted + stats(b).snapshot_entries == 1000);
	T_CHECK(stats(b).memory_bytes >= stats(b).snapshot_bytes);
	s = join_j(b, &j);
	T_CHECK(drain(b, s) == 1 + (int)stats(b).snapshot_entries);
	T_CHECK(strstr(pay[npay - 1], "\"data\":999,") != NULL);	/* newest kept */
	T_CHECK(strstr(pay[1], "\"type\":\"k9") != NULL);	/* oldest kept is recent */
	wsb_broker_free(b);
}

/* Keys are compared with their lengths: a NUL inside a type, or the
 * separator byte, does not make two keys one. Off means nothing is kept. */
static void test_snapshot_keys(void)
{
	struct wsb_broker *b = mk_snap(1u << 20, 1u << 20);
	struct wsb_sess *pub = join_quiet(b, NULL, 0);

	const char *l1 = "{\"type\":\"a\\u0000b\",\"seq\":1}", *l2 = "{\"type\":\"a\",\"seq\":2}";
	const char *l3 = "{\"type\":\"a\\u001fb\",\"seq\":3}";

	T_CHECK(wsb_broker_restore(b, l1, strlen(l1), 1) == 0);
	T_CHECK(wsb_broker_restore(b, l2, strlen(l2), 2) == 0);
	T_CHECK(wsb_broker_restore(b, l3, strlen(l3), 3) == 0);
	in(b, pub, "{\"type\":\"a\",\"data\":2}");
	T_CHECK(stats(b).snapshot_entries == 3);
	wsb_broker_free(b);

	b = mk_snap(0, 1u << 20);
	pub = join_quiet(b, NULL, 0);
	in(b, pub, "{\"type\":\"a\",\"data\":2}");
	T_CHECK(stats(b).snapshot_entries == 0 && stats(b).snapshot_bytes == 0);
	wsb_broker_free(b);
}

/* A snapshot bigger than max_queue is neither a slow consumer nor held
 * until the next publication: it goes out in pieces as the socket takes
 * them, then what was published meanwhile follows from history. */
static void test_snapshot_pieces(void)
{
	struct wsb_broker *b;
	struct wsb_sess *pub, *s;
	struct wsb_join j = { .snapshot = 1 };
	char msg[600], pad[501];
	int got = 0, n, rounds = 0, last = -1, ordered = 1;

	snap_bytes = 1u << 20;
	b = mk(4096, 1u << 24, 100, 0, NULL);
	snap_bytes = 0;
	pub = join_quiet(b, NULL, 0);
	memset(pad, 'x', 500);
	pad[500] = '\0';
	for (int i = 0; i < 40; i++) {	/* 40 x ~560 bytes: 5 queues' worth */
		snprintf(msg, sizeof msg, "{\"type\":\"k%d\",\"data\":\"%s\"}", i, pad);
		in(b, pub, msg);
	}
	s = join_j(b, &j);
	T_CHECK(R.closes == 0);
	T_CHECK(wsb_broker_pending(s) > 0);
	in(b, pub, "{\"type\":\"live\",\"data\":1}");	/* published during the snapshot */
	T_CHECK(R.closes == 0);
	while ((n = split(tbuf, wsb_broker_take(b, s, tbuf, 2048, BUFSZ))) > 0 && rounds++ < 100) {
		for (int i = 0; i < n && i < MAXF; i++) {
			const char *q = strstr(pay[i], "\"seq\":");
			int seq = q ? atoi(q + 6) : 0;

			if (STARTS(pay[i], "{\"type\":\"connection_established\""))
				continue;
			if (seq <= last)
				ordered = 0;
			last = seq;
			got++;
		}
	}
	T_CHECK(got == 41);
	T_CHECK(ordered);
	T_CHECK(rounds > 5);
	T_CHECK(R.closes == 0 && stats(b).dropped == 0);
	in(b, pub, "{\"type\":\"live\",\"data\":2}");	/* and then live */
	T_CHECK(drain(b, s) == 1 && strstr(pay[0], "\"data\":2,"));
	wsb_broker_free(b);
}

static void test_ping_pong(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *a = join_quiet(b, NULL, 0), *other = join_quiet(b, NULL, 0);

	in(b, a, "{\"type\":\"ping\"}");
	in(b, a, "{ \"type\" : \"ping\", \"data\" : { \"n\" : [1, \"x y\"] }, \"seq\": 4 }");
	in(b, a, "{\"type\":\"ping\",\"data\":null}");
	T_CHECK(drain(b, a) == 3);
	T_STREQ(pay[0], "{\"type\":\"pong\",\"timestamp\":\"" TS "\"}");
	T_STREQ(pay[1], "{\"type\":\"pong\",\"timestamp\":\"" TS "\",\"data\":{\"n\":[1,\"x y\"]}}");
	T_STREQ(pay[2], "{\"type\":\"pong\",\"timestamp\":\"" TS "\",\"data\":null}");
	T_CHECK(drain(b, other) == 0);
	T_CHECK(stats(b).messages_in == 0 && stats(b).seq == 0);
	wsb_broker_free(b);
}

static void test_subscribe_control(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s = join_quiet(b, NULL, 0);

	T_CHECK(stats(b).subscribers == 2);
	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"a\",\"b*\",\"a\"]}");
	T_CHECK(drain(b, s) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"a\",\"b*\"]}");

	in(b, pub, "{\"type\":\"a\"}");
	in(b, pub, "{\"type\":\"bee\"}");
	in(b, pub, "{\"type\":\"c\"}");
	T_CHECK(drain(b, s) == 2);
	T_CHECK(strstr(pay[0], "\"seq\":1}") && strstr(pay[1], "\"seq\":2}"));

	in(b, s, "{\"type\":\"unsubscribe\",\"types\":[\"a\",\"zzz\"]}");
	T_CHECK(drain(b, s) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"b*\"]}");
	in(b, pub, "{\"type\":\"a\"}");
	T_CHECK(drain(b, s) == 0);

	/* Unsubscribing the last pattern means nothing, never "all" again. */
	in(b, s, "{\"type\":\"unsubscribe\",\"types\":[\"b*\"]}");
	T_CHECK(drain(b, s) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[]}");
	T_CHECK(stats(b).subscribers == 1);
	in(b, pub, "{\"type\":\"bee\"}");
	in(b, pub, "{\"type\":\"a\"}");
	T_CHECK(drain(b, s) == 0);

	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"q\\\"x\\\\\"]}");
	T_CHECK(drain(b, s) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"q\\\"x\\\\\"]}");
	T_CHECK(stats(b).subscribers == 2);
	in(b, pub, "{\"type\":\"q\\\"x\\\\\"}");
	T_CHECK(drain(b, s) == 1);

	/* A fresh session is "all"; an unsubscribe that removes nothing keeps it. */
	in(b, pub, "{\"type\":\"unsubscribe\",\"types\":[\"nope\"]}");
	T_CHECK(drain(b, pub) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"*\"]}");
	T_CHECK(stats(b).errors == 0);
	wsb_broker_free(b);
}

/* A subscribe is all or nothing and gets exactly one answer. */
static void test_subscribe_errors(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s = join_quiet(b, NULL, 0);

	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"ok\",\"fine*\"]}");
	T_CHECK(drain(b, s) == 1);
	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"new\",\"bad\\u0001\",\"other\"]}");
	T_CHECK(drain(b, s) == 1);
	T_CHECK(STARTS(pay[0], "{\"type\":\"error\",\"timestamp\":\"" TS "\",\"data\":"
			       "{\"code\":\"INVALID_MESSAGE\",\"message\":\"invalid type pattern"));
	T_CHECK(strstr(pay[0], "bad\\\\x01") != NULL);	/* names the pattern */
	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"new\",5]}");
	in(b, s, "{\"type\":\"unsubscribe\",\"types\":[\"ok\",\"x\\u0000y\"]}");
	T_CHECK(drain(b, s) == 2);
	T_CHECK(strstr(pay[0], "subscribe needs \\\"types\\\": an array of strings") != NULL);
	T_CHECK(strstr(pay[1], "contains a NUL character") != NULL);

	/* No list: the current set, no error. Nothing above changed it. */
	in(b, s, "{\"type\":\"subscribe\"}");
	in(b, s, "{\"type\":\"subscribe\",\"types\":\"ok\"}");
	T_CHECK(drain(b, s) == 2);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"ok\",\"fine*\"]}");
	T_STREQ(pay[1], "{\"type\":\"error\",\"timestamp\":\"" TS "\",\"data\":{\"code\":"
			"\"INVALID_MESSAGE\",\"message\":\"subscribe needs \\\"types\\\": an array "
			"of strings\",\"source\":\"wsbridge\"}}");
	T_CHECK(stats(b).errors == 4);

	in(b, pub, "{\"type\":\"ok\"}");
	in(b, pub, "{\"type\":\"fine.x\"}");
	in(b, pub, "{\"type\":\"other\"}");
	in(b, pub, "{\"type\":\"new\"}");
	T_CHECK(drain(b, s) == 2);
	wsb_broker_free(b);
}

/* unsubscribe ["*"] on a connection that receives everything (listed as
 * ["*"]) leaves it receiving nothing; on an explicit set it removes only a
 * literal "*" pattern. */
static void test_unsubscribe_all(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s = join_quiet(b, NULL, 0);

	T_CHECK(stats(b).subscribers == 2);
	in(b, s, "{\"type\":\"unsubscribe\",\"types\":[\"*\"]}");
	T_CHECK(drain(b, s) == 1);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[]}");
	T_CHECK(stats(b).subscribers == 1);
	in(b, pub, "{\"type\":\"a\"}");
	T_CHECK(drain(b, s) == 0);
	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"*\",\"b\"]}");
	in(b, s, "{\"type\":\"unsubscribe\",\"types\":[\"*\"]}");
	T_CHECK(drain(b, s) == 2);
	T_STREQ(pay[0], "{\"type\":\"subscribed\",\"types\":[\"*\",\"b\"]}");
	T_STREQ(pay[1], "{\"type\":\"subscribed\",\"types\":[\"b\"]}");
	wsb_broker_free(b);
}

static void test_invalid_input(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *a = join_quiet(b, NULL, 0), *other = join_quiet(b, NULL, 0);
	static const char pre[] = "{\"type\":\"error\",\"timestamp\":\"" TS "\",\"data\":{\"code\":";

	in(b, a, "{\"type\":\"x\",}");
	in(b, a, "[1,2]");
	in(b, a, "{\"data\":1}");
	in(b, a, "{\"type\":5}");
	in(b, a, "{\"type\":\"pong\"}");
	in(b, a, "{\"type\":\"a*\"}");
	in(b, a, "{\"type\":\"wsbridge.x\"}");
	wsb_broker_input(b, a, "", 0);
	T_CHECK(drain(b, a) == 8);
	T_CHECK(STARTS(pay[0], pre));
	T_CHECK(STARTS(pay[0] + strlen(pre), "\"INVALID_JSON\",\"message\":\"invalid JSON at byte 12: expected a string key\""));
	T_STREQ(pay[1] + strlen(pre), "\"INVALID_MESSAGE\",\"message\":\"message is not a JSON object\",\"source\":\"wsbridge\"}}");
	T_STREQ(pay[2] + strlen(pre), "\"INVALID_MESSAGE\",\"message\":\"message has no string \\\"type\\\"\",\"source\":\"wsbridge\"}}");
	T_STREQ(pay[3] + strlen(pre), "\"INVALID_MESSAGE\",\"message\":\"message has no string \\\"type\\\"\",\"source\":\"wsbridge\"}}");
	T_STREQ(pay[4] + strlen(pre), "\"INVALID_MESSAGE\",\"message\":\"type 'pong' is reserved\",\"source\":\"wsbridge\"}}");
	T_STREQ(pay[5] + strlen(pre), "\"INVALID_MESSAGE\",\"message\":\"type 'a*' contains '*' or '?'\",\"source\":\"wsbridge\"}}");
	T_STREQ(pay[6] + strlen(pre), "\"INVALID_MESSAGE\",\"message\":\"type 'wsbridge.x' is reserved\",\"source\":\"wsbridge\"}}");
	T_CHECK(strstr(pay[7], "INVALID_JSON") != NULL);
	T_CHECK(drain(b, other) == 0);
	T_CHECK(stats(b).errors == 8);
	T_CHECK(stats(b).messages_in == 0 && stats(b).seq == 0);
	wsb_broker_free(b);
}

static void test_slow_consumer(void)
{
	/* Each frame is 2 + 68 bytes: {"type":"t","data":0,"timestamp":"...","seq":N} */
	struct wsb_broker *b = mk(300, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, (void *)1, 0);
	struct wsb_sess *slow = join_quiet(b, (void *)2, 0), *fast = join_quiet(b, (void *)3, 0);
	struct wsb_broker_stats st;
	int i, got = 0, queued = -1;

	for (i = 0; i < 10; i++) {
		in(b, pub, "{\"type\":\"t\",\"data\":0}");
		if (R.closes && queued < 0)
			queued = i;	/* messages queued before the one that did not fit */
		got += drain(b, fast);
	}
	T_CHECK(got == 10);
	T_CHECK(R.closes == 1);
	T_CHECK(R.close_code == WSB_CLOSE_SLOW && R.close_code == 4008);
	T_CHECK(R.close_conn == (void *)2);
	T_STREQ(R.reason, "slow consumer");
	T_CHECK(queued == 4);	/* 4 * 70 = 280 fits in 300, the fifth does not */
	st = stats(b);
	T_CHECK(st.slow_consumers_closed == 1);
	T_CHECK(st.dropped == (uint64_t)queued + 1);
	T_CHECK(st.queued_bytes == 0);
	T_CHECK(wsb_broker_pending(slow) == 0);
	T_CHECK(wsb_broker_take(b, slow, tbuf, BUFSZ, BUFSZ) == 0);
	/* It stays closed: pings get no answer and no second close. */
	in(b, slow, "{\"type\":\"ping\"}");
	T_CHECK(wsb_broker_take(b, slow, tbuf, BUFSZ, BUFSZ) == 0 && R.closes == 1);
	wsb_broker_leave(b, slow);
	T_CHECK(stats(b).connections == 2);
	wsb_broker_free(b);
}

static void test_slow_consumer_replies(void)
{
	struct wsb_broker *b = mk(230, 1u << 24, 0, 0, NULL);
	struct wsb_sess *a = join_quiet(b, (void *)7, 0);
	size_t pong = 2 + strlen("{\"type\":\"pong\",\"timestamp\":\"" TS "\"}");
	int i;

	/* A client that pings without reading fills its own queue. */
	for (i = 0; i < 10; i++)
		in(b, a, "{\"type\":\"ping\"}");
	T_CHECK(R.closes == 1 && R.close_conn == (void *)7 && R.close_code == WSB_CLOSE_SLOW);
	T_CHECK(pong == 56);
	T_CHECK(stats(b).dropped == 5);	/* 4 * 56 bytes queued, the fifth refused */
	wsb_broker_free(b);
}

static void test_greeting_never_closes(void)
{
	struct wsb_broker *b = mk(50, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub = join(b, (void *)1, 0), *s = join(b, (void *)2, 0);

	/* The greeting alone passes max_queue, yet joining must not close. */
	T_CHECK(R.closes == 0 && wsb_broker_pending(s) == 1);
	T_CHECK(drain(b, pub) == 1);
	in(b, pub, "{\"type\":\"t\"}");
	T_CHECK(R.closes == 1 && R.close_conn == (void *)2);
	T_CHECK(stats(b).dropped == 2);	/* the greeting and the message */
	wsb_broker_free(b);
}

static void test_subscription_cap(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *s = join_quiet(b, NULL, 0);
	struct wsb_err err;
	char pat[101], msg[200];
	int i, added = 0;

	for (i = 0; i < 1000; i++) {
		memset(pat, 'p', sizeof pat - 1);
		pat[sizeof pat - 1] = '\0';
		pat[0] = (char)('0' + i / 1000);
		pat[1] = (char)('0' + i / 100 % 10);
		pat[2] = (char)('0' + i / 10 % 10);
		pat[3] = (char)('0' + i % 10);
		if (wsb_broker_subscribe(b, s, pat, &err) < 0)
			break;
		added++;
	}
	T_CHECK(added > 10 && added < 1000);
	T_CHECK(strstr(err.msg, "too many type patterns") != NULL);
	/* The "subscribed" reply listing them all still fits the transport's
	 * buffer, whatever max_message is. */
	snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"types\":[\"%s\"]}", pat);
	in(b, s, msg);
	T_CHECK(drain(b, s) == 1);
	T_CHECK(strstr(pay[0], "\"code\":\"TOO_MANY_PATTERNS\",\"message\":\"too many type "
			       "patterns") != NULL);
	/* The "subscribed" reply listing them all still fits the transport's
	 * buffer, whatever max_message is; one already there is no news. */
	snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"types\":[\"0000%s\"]}", pat + 4);
	in(b, s, msg);
	T_CHECK(drain(b, s) == 1);
	T_CHECK(STARTS(pay[0], "{\"type\":\"subscribed\",\"types\":[\"0000"));
	T_CHECK(paylen[0] + WSB_FRAME_HDR_MAX <= wsb_broker_frame_max(16));
	wsb_broker_free(b);
}

/* 100 000 patterns in one subscribe: one TOO_MANY_PATTERNS error, the set
 * unchanged, the session open (it used to get an error per pattern past
 * the cap, overflow its queue and be closed 4008). Short patterns meet the
 * count cap before the byte cap. */
static void test_subscribe_flood(void)
{
	struct wsb_broker *b = mk(64 * 1024, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s = join_quiet(b, NULL, 0);
	size_t cap = 100000 * 10 + 64, n;
	char *msg = malloc(cap);
	int i;

	n = (size_t)sprintf(msg, "{\"type\":\"subscribe\",\"types\":[");
	for (i = 0; i < 100000; i++)
		n += (size_t)sprintf(msg + n, "%s\"p%d\"", i ? "," : "", i);
	n += (size_t)sprintf(msg + n, "]}");
	wsb_broker_input(b, s, msg, n);
	T_CHECK(drain(b, s) == 1);
	T_CHECK(strstr(pay[0], "\"TOO_MANY_PATTERNS\"") && strstr(pay[0], "at most 256"));
	T_CHECK(R.closes == 0 && stats(b).errors == 1);
	in(b, pub, "{\"type\":\"p1\"}");	/* still receiving everything */
	T_CHECK(drain(b, s) == 1 && strstr(pay[0], "\"seq\":1"));
	/* 256 is fine; a 257th in a later request is refused alone. */
	n = (size_t)sprintf(msg, "{\"type\":\"subscribe\",\"types\":[");
	for (i = 0; i < 256; i++)
		n += (size_t)sprintf(msg + n, "%s\"p%d\"", i ? "," : "", i);
	n += (size_t)sprintf(msg + n, "]}");
	wsb_broker_input(b, s, msg, n);
	T_CHECK(drain(b, s) == 1 && STARTS(pay[0], "{\"type\":\"subscribed\",\"types\":[\"p0\","));
	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"p0\",\"q\"]}");
	T_CHECK(drain(b, s) == 1 && strstr(pay[0], "\"TOO_MANY_PATTERNS\""));
	in(b, s, "{\"type\":\"unsubscribe\",\"types\":[\"p0\"]}");
	in(b, s, "{\"type\":\"subscribe\",\"types\":[\"q\"]}");
	T_CHECK(drain(b, s) == 2 && strstr(pay[1], "\"q\"]}"));
	free(msg);
	wsb_broker_free(b);
}

static void test_close_hook_may_leave(void)
{
	struct wsb_broker *b = mk(150, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *x = join_quiet(b, (void *)9, 0);
	struct wsb_sess *y = join_quiet(b, NULL, 0);
	int i;

	R.leave_on_close = x;	/* a transport that tears down at once */
	for (i = 0; i < 4; i++) {
		in(b, pub, "{\"type\":\"t\",\"data\":0}");
		T_CHECK(drain(b, y) == 1);
	}
	T_CHECK(R.closes == 1 && R.close_conn == (void *)9);
	T_CHECK(stats(b).connections == 2);
	wsb_broker_free(b);
}

static void test_pressure(void)
{
	/* Frames of 70 bytes; max_memory 300: on above 300, off below 225. */
	struct wsb_broker *b = mk(1u << 20, 300, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0);
	struct wsb_sess *a = join_quiet(b, NULL, 0), *c = join_quiet(b, NULL, 0);
	int i;

	for (i = 0; i < 4; i++)
		in(b, pub, "{\"type\":\"t\",\"data\":0}");
	T_CHECK(stats(b).queued_bytes == 4 * 70);	/* counted once, not per subscriber */
	T_CHECK(R.pressure_on == 0);
	in(b, pub, "{\"type\":\"t\",\"data\":0}");
	T_CHECK(R.pressure_on == 1 && R.last_pressure == 1);
	in(b, pub, "{\"type\":\"t\",\"data\":0}");
	T_CHECK(R.pressure_on == 1);

	/* Taking from one subscriber frees nothing while the other holds them. */
	T_CHECK(drain(b, a) == 6);
	T_CHECK(R.pressure_off == 0 && stats(b).queued_bytes == 6 * 70);
	T_CHECK(split(tbuf, wsb_broker_take(b, c, tbuf, 70 * 2, 70 * 2)) == 2);
	T_CHECK(R.pressure_off == 0);	/* 280 left: under 300, not under 225 */
	T_CHECK(split(tbuf, wsb_broker_take(b, c, tbuf, 70, 70)) == 1);
	T_CHECK(R.pressure_off == 1 && R.last_pressure == 0);	/* 210 */
	wsb_broker_free(b);
}

static void test_pressure_hysteresis(void)
{
	struct wsb_broker *b = mk(1u << 20, 300, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *a = join_quiet(b, NULL, 0);
	int i;

	for (i = 0; i < 5; i++)
		in(b, pub, "{\"type\":\"t\",\"data\":0}");
	T_CHECK(R.pressure_on == 1);
	/* 350 -> 280: below max_memory but not below 3/4 of it. */
	T_CHECK(split(tbuf, wsb_broker_take(b, a, tbuf, 70, 70)) == 1);
	T_CHECK(R.pressure_off == 0);
	/* 280 -> 210 < 225. */
	T_CHECK(split(tbuf, wsb_broker_take(b, a, tbuf, 70, 70)) == 1);
	T_CHECK(R.pressure_off == 1 && R.last_pressure == 0);
	for (i = 0; i < 3; i++)
		in(b, pub, "{\"type\":\"t\",\"data\":0}");
	T_CHECK(R.pressure_on == 2);
	/* Leaving releases the queue, which ends pressure too. */
	wsb_broker_leave(b, a);
	T_CHECK(R.pressure_off == 2 && stats(b).queued_bytes == 0);
	wsb_broker_free(b);
}

static void test_take_caps(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s = join_quiet(b, NULL, 0);
	size_t n, f1, f2;

	in(b, pub, "{\"type\":\"t\",\"data\":0}");			/* 70-byte frame */
	in(b, pub, "{\"type\":\"t\",\"data\":\"0123456789\"}");	/* 81 */
	in(b, pub, "{\"type\":\"t\",\"data\":0}");			/* 70 */
	f1 = 70;
	f2 = 81;

	/* Soft smaller than the first frame: it still goes, alone. */
	n = wsb_broker_take(b, s, tbuf, 10, 4096);
	T_CHECK(n == f1 && split(tbuf, n) == 1 && strstr(pay[0], "\"seq\":1}"));
	/* Soft of one byte less than two frames: only whole frames, just one. */
	n = wsb_broker_take(b, s, tbuf, f2 + f1 - 1, 4096);
	T_CHECK(n == f2 && split(tbuf, n) == 1 && strstr(pay[0], "\"seq\":2}"));
	T_CHECK(wsb_broker_pending(s) == 1);
	n = wsb_broker_take(b, s, tbuf, 4096, 4096);
	T_CHECK(n == f1 && split(tbuf, n) == 1 && strstr(pay[0], "\"seq\":3}"));
	T_CHECK(wsb_broker_take(b, s, tbuf, 4096, 4096) == 0);

	/* Exactly two frames fit. */
	in(b, pub, "{\"type\":\"t\",\"data\":0}");
	in(b, pub, "{\"type\":\"t\",\"data\":0}");
	in(b, pub, "{\"type\":\"t\",\"data\":0}");
	n = wsb_broker_take(b, s, tbuf, 2 * f1, 2 * f1);
	T_CHECK(n == 2 * f1 && split(tbuf, n) == 2);

	/* A frame bigger than hard is dropped (bug guard) and the next one taken. */
	in(b, pub, "{\"type\":\"t\",\"data\":\"0123456789\"}");
	T_CHECK(wsb_broker_pending(s) == 2);
	n = wsb_broker_take(b, s, tbuf, 10, f1 + 5);
	T_CHECK(n == f1 && split(tbuf, n) == 1);
	n = wsb_broker_take(b, s, tbuf, 10, f1 + 5);
	T_CHECK(n == 0 && stats(b).dropped == 1);
	T_CHECK(stats(b).queued_bytes == 0);
	wsb_broker_free(b);
}

static void test_shared_buffer(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0);
	struct wsb_sess *s[3] = { join_quiet(b, NULL, 0), join_quiet(b, NULL, 0),
				  join_quiet(b, NULL, 0) };
	unsigned char first[256];
	size_t n0, n;
	int i;

	in(b, pub, "{\"type\":\"t\",\"data\":0}");
	T_CHECK(stats(b).queued_bytes == 70);	/* one buffer, three queues */
	n0 = wsb_broker_take(b, s[0], first, sizeof first, sizeof first);
	T_CHECK(n0 == 70 && stats(b).queued_bytes == 70);
	n = wsb_broker_take(b, s[1], tbuf, BUFSZ, BUFSZ);
	T_CHECK(n == n0 && !memcmp(tbuf, first, n0) && stats(b).queued_bytes == 70);
	n = wsb_broker_take(b, s[2], tbuf, BUFSZ, BUFSZ);
	T_CHECK(n == n0 && !memcmp(tbuf, first, n0) && stats(b).queued_bytes == 0);
	for (i = 0; i < 3; i++)
		T_CHECK(wsb_broker_pending(s[i]) == 0);
	T_CHECK(stats(b).messages_out == 4 + 3);
	wsb_broker_free(b);
}

static void test_queue_growth_order(void)
{
	struct wsb_broker *b = mk(1u << 22, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s = join_quiet(b, NULL, 0);
	char want[32];
	int i, ok = 1, wakes;

	/* Move the ring's head off zero first, so growth has to unwrap it. */
	for (i = 0; i < 10; i++)
		in(b, pub, "{\"type\":\"t\"}");
	T_CHECK(drain(b, s) == 10);
	wakes = R.wakes;
	for (i = 0; i < 300; i++)
		in(b, pub, "{\"type\":\"t\"}");
	T_CHECK(R.wakes == wakes + 1);	/* only on empty -> non-empty */
	T_CHECK(wsb_broker_pending(s) == 300);
	T_CHECK(drain(b, s) == 300);
	for (i = 0; i < 300 && i < MAXF; i++) {
		snprintf(want, sizeof want, ",\"seq\":%d}", i + 11);
		if (!strstr(pay[i], want))
			ok = 0;
	}
	T_CHECK(ok);
	wsb_broker_free(b);
}

static void test_leave_with_pending(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *a = join(b, NULL, 0), *c = join(b, NULL, 0);
	int i;

	for (i = 0; i < 50; i++)
		in(b, pub, "{\"type\":\"t\",\"data\":[1,2,3]}");
	in(b, a, "{\"type\":\"ping\"}");
	wsb_broker_leave(b, a);
	T_CHECK(stats(b).connections == 2 && stats(b).subscribers == 2);
	T_CHECK(stats(b).queued_bytes > 0);	/* c still holds them */
	T_CHECK(stats(b).dropped == 0);
	wsb_broker_leave(b, c);
	T_CHECK(stats(b).queued_bytes == 0);
	/* Sessions still joined at free are released too (ASan checks). */
	c = join(b, NULL, 0);
	in(b, pub, "{\"type\":\"t\"}");
	wsb_broker_free(b);
}

static void test_history(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 3, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0);
	int i;

	for (i = 0; i < 5; i++)
		in(b, pub, "{\"type\":\"t\"}");
	T_CHECK(stats(b).retained == 3);
	T_CHECK(stats(b).queued_bytes == 0);	/* history is not queued memory */
	wsb_broker_free(b);

	/* Byte limit: 61-byte frames, 130 bytes hold two. */
	b = mk(1u << 20, 1u << 24, 100, 130, NULL);
	pub = join_quiet(b, NULL, 0);
	for (i = 0; i < 5; i++)
		in(b, pub, "{\"type\":\"t\"}");
	T_CHECK(stats(b).retained == 2);
	wsb_broker_free(b);

	b = mk(1u << 20, 1u << 24, 0, 0, NULL);
	pub = join_quiet(b, NULL, 0);
	in(b, pub, "{\"type\":\"t\"}");
	T_CHECK(stats(b).retained == 0);
	wsb_broker_free(b);
}

static void test_frame_max(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 0, 0, NULL);
	struct wsb_sess *pub = join_quiet(b, NULL, 0), *s = join_quiet(b, NULL, 0);
	static char msg[3000];
	size_t max = sizeof msg - 1, n;

	T_CHECK(wsb_broker_frame_max(100000) >= 100000 + 80 + WSB_FRAME_HDR_MAX);
	/* Mostly white space: the compact message is far smaller than the input. */
	memset(msg, ' ', max);
	memcpy(msg, "{\"type\":\"t\"", 11);
	msg[max - 1] = '}';
	wsb_broker_input(b, pub, msg, max);
	n = wsb_broker_take(b, s, tbuf, 1, wsb_broker_frame_max(max));
	T_CHECK(n == 61 && split(tbuf, n) == 1);
	T_STREQ(pay[0], "{\"type\":\"t\",\"timestamp\":\"" TS "\",\"seq\":1}");
	/* Replies do not shrink with max_message: a greeting fits any cap. */
	T_CHECK(wsb_broker_frame_max(16) > 200);
	wsb_broker_free(b);
}

static void test_null_hooks_and_clock(void)
{
	struct wsb_broker_cfg cfg = { .max_queue = 200, .max_memory = 100 };
	struct wsb_err err;
	struct wsb_broker *b = wsb_broker_new(&cfg, NULL, &err);
	struct wsb_sess *pub, *s;
	int i;

	T_CHECK(b != NULL);
	pub = join(b, NULL, 0);
	s = join(b, NULL, 0);
	for (i = 0; i < 5; i++)
		in(b, pub, "{\"type\":\"t\"}");	/* slow consumer + pressure, no hooks */
	T_CHECK(stats(b).slow_consumers_closed == 1);	/* s: greeting + 61-byte frames */
	T_CHECK(wsb_broker_take(b, s, tbuf, BUFSZ, BUFSZ) == 0);
	wsb_broker_free(b);

	cfg.max_queue = 1u << 20;
	cfg.max_memory = 1u << 20;
	b = wsb_broker_new(&cfg, NULL, &err);
	s = join(b, NULL, 0);
	T_CHECK(drain(b, s) == 1);
	/* A real clock: "YYYY-MM-DDTHH:MM:SS.mmmZ". */
	{
		const char *t = strstr(pay[0], "\"timestamp\":\"");

		T_CHECK(t && strlen(t) > 13 + 24 && t[13 + 10] == 'T' && t[13 + 23] == 'Z' &&
			t[13 + 24] == '"');
	}
	wsb_broker_free(b);
}

/* Finding 1: a producer id is opened only by its secret. A third party
 * with the id (it is in every delivered message) is refused with or
 * without a guessed secret; the real producer's reconnect takes over from
 * its half-open old connection, which is closed. */
static void test_producer_secret(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_join bad = { .producer = "feed", .producer_secret = SECRET };
	struct wsb_join junk = { .producer = "feed", .producer_secret = "xyz" };
	struct wsb_sess *sub = join_quiet(b, NULL, 0), *pub = join_j(b, &pj), *pub2;
	char secret[WSB_SECRET_HEX + 1];
	struct wsb_err err;
	int conn2;

	T_CHECK(drain(b, pub) == 1 && strlen(secret_of(pay[0], secret)) == WSB_SECRET_HEX);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":1}");
	T_CHECK(drain(b, sub) == 1);
	T_CHECK(!wsb_broker_join_ex(b, NULL, &pj, &err) && err.code == WSB_EXIT_NOPERM &&
		strstr(err.msg, "producer_secret"));
	T_CHECK(!wsb_broker_join_ex(b, NULL, &bad, &err) && err.code == WSB_EXIT_NOPERM &&
		strstr(err.msg, "wrong producer_secret"));
	T_CHECK(!wsb_broker_join_ex(b, NULL, &junk, &err) && err.code == WSB_EXIT_USAGE);
	T_CHECK(stats(b).connections == 2);	/* refused joins leave nothing */
	pj.producer_secret = secret;
	R.closes = 0;
	pub2 = wsb_broker_join_ex(b, &conn2, &pj, &err);
	T_CHECK(pub2 != NULL && R.closes == 1 && R.close_code == WSB_CLOSE_POLICY &&
		strstr(R.reason, "taken over"));
	T_CHECK(drain(b, pub2) == 1 && strstr(pay[0], "\"accepted\":1}") != NULL);	/* no new secret */
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":2}");	/* the old one: ignored */
	T_CHECK(drain(b, sub) == 0 && stats(b).seq == 1);
	in(b, pub2, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":2}");
	T_CHECK(drain(b, sub) == 1 && drain(b, pub2) == 1 && !strcmp(pay[0], "{\"type\":\"ack\",\"pseq\":2}"));
	wsb_broker_leave(b, pub);
	wsb_broker_leave(b, pub2);
	pj.producer_secret = NULL;	/* nobody holds it, but it has history: still closed */
	T_CHECK(!wsb_broker_join_ex(b, NULL, &pj, &err) && err.code == WSB_EXIT_NOPERM);
	wsb_broker_free(b);
}

/* An id nothing was accepted from (the publisher lost its greeting before
 * reading the secret) and that nobody holds is issued a new secret; a
 * secret presented for an unknown id (a restart without a journal) is
 * adopted and not echoed. */
static void test_producer_unconfirmed(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_join aj = { .producer = "other", .producer_secret = SECRET };
	char s1[WSB_SECRET_HEX + 1], s2[WSB_SECRET_HEX + 1];
	struct wsb_sess *s = join_j(b, &pj);

	T_CHECK(drain(b, s) == 1 && strlen(secret_of(pay[0], s1)) == WSB_SECRET_HEX);
	wsb_broker_leave(b, s);
	s = join_j(b, &pj);
	T_CHECK(drain(b, s) == 1 && strlen(secret_of(pay[0], s2)) == WSB_SECRET_HEX);
	T_CHECK(strcmp(s1, s2) != 0);
	s = join_j(b, &aj);
	T_CHECK(drain(b, s) == 1 && strstr(pay[0], "\"producer\":\"other\",\"accepted\":0}"));
	wsb_broker_leave(b, s);
	aj.producer_secret = "00000000000000000000000000000000";
	T_CHECK(!wsb_broker_join_ex(b, NULL, &aj, NULL));
	wsb_broker_free(b);
}

/* A plain connection's producer/pseq are stripped: they can neither
 * silence the real producer nor reach the journal as the broker's. A
 * producer's message must name its own id. */
static void test_producer_fields_stripped(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_sess *sub = join_quiet(b, NULL, 0), *pub = join_j(b, &pj);
	struct wsb_sess *evil = join_quiet(b, NULL, 0);

	T_CHECK(drain(b, pub) == 1);
	in(b, evil, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":18446744073709551615,\"d\":1}");
	T_CHECK(drain(b, sub) == 1);
	T_STREQ(pay[0], "{\"type\":\"t\",\"d\":1,\"timestamp\":\"" TS "\",\"seq\":1}");
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":1}");
	T_CHECK(drain(b, sub) == 1 && drain(b, pub) == 1 && strstr(pay[0], "\"ack\""));
	in(b, pub, "{\"type\":\"t\",\"n\":1}");	/* no producer members: unacknowledged */
	T_CHECK(drain(b, sub) == 1 && drain(b, pub) == 0);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"else\",\"pseq\":2}");
	in(b, pub, "{\"type\":\"t\",\"pseq\":2}");
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\"}");
	T_CHECK(drain(b, pub) == 3 && strstr(pay[0], "PRODUCER_MISMATCH") && strstr(pay[2], "PRODUCER_MISMATCH"));
	T_CHECK(drain(b, sub) == 0 && stats(b).seq == 3);
	wsb_broker_free(b);
}

/* A pseq jump past WSB_PSEQ_JUMP_MAX is refused and does not move the
 * producer's position; like every refusal on a producer's connection it is
 * that connection's last publish (acks are cumulative: broker_refuse.c),
 * and a new connection goes on from the position. */
static void test_pseq_jump(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_sess *sub = join_quiet(b, NULL, 0), *pub = join_j(b, &pj);
	char m[128], secret[WSB_SECRET_HEX + 1];

	T_CHECK(drain(b, pub) == 1 && strlen(secret_of(pay[0], secret)) == WSB_SECRET_HEX);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":5}");
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":18446744073709551615}");
	snprintf(m, sizeof m, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":%llu}",
		 (unsigned long long)(5 + WSB_PSEQ_JUMP_MAX + 1));
	in(b, pub, m);
	T_CHECK(drain(b, pub) == 3 && strstr(pay[0], "\"pseq\":5}") && strstr(pay[1], "PSEQ_JUMP") &&
		strstr(pay[2], "PSEQ_JUMP"));
	snprintf(m, sizeof m, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":%llu}",
		 (unsigned long long)(5 + WSB_PSEQ_JUMP_MAX));
	in(b, pub, m);
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "PSEQ_JUMP") && strstr(pay[0], "reconnect"));
	T_CHECK(drain(b, sub) == 1);
	pj.producer_secret = secret;
	pub = join_j(b, &pj);	/* the producer again: the position is 5 */
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "\"accepted\":5"));
	in(b, pub, m);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":6}");	/* now a duplicate */
	T_CHECK(drain(b, sub) == 1 && stats(b).duplicates == 1);
	wsb_broker_free(b);
}

/* Acks are cumulative, so a producer's refused message (here a line that
 * is not JSON) is the last thing its connection publishes: a later valid
 * pseq is answered with the same code, neither delivered nor acked (an
 * ack of 3 would say 2 was accepted). Control messages still work, a
 * plain connection's refusal refuses that message alone, and the
 * producer's new connection goes on from the greeting's "accepted". */
static void test_refusal_is_last_publish(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 }, none = { .subscribe_none = 1 };
	struct wsb_sess *sub = join_quiet(b, NULL, 0), *pub = join_j(b, &pj), *plain = join_j(b, &none);
	char secret[WSB_SECRET_HEX + 1];

	T_CHECK(drain(b, plain) == 1);
	T_CHECK(drain(b, pub) == 1 && strlen(secret_of(pay[0], secret)) == WSB_SECRET_HEX);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":1}");
	T_CHECK(drain(b, pub) == 1 && !strcmp(pay[0], "{\"type\":\"ack\",\"pseq\":1}"));
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":2");
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":3}");
	in(b, pub, "{\"type\":\"ping\"}");
	T_CHECK(drain(b, pub) == 3 && strstr(pay[0], "INVALID_JSON") && strstr(pay[1], "\"code\":\"INVALID_JSON\"") &&
		strstr(pay[1], "reconnect") && strstr(pay[2], "pong"));
	T_CHECK(drain(b, sub) == 1 && stats(b).seq == 1);
	in(b, plain, "{\"type\":\"t\"");
	in(b, plain, "{\"type\":\"t\",\"n\":2}");
	T_CHECK(drain(b, plain) == 1 && strstr(pay[0], "INVALID_JSON") && drain(b, sub) == 1);
	pj.producer_secret = secret;
	pub = join_j(b, &pj);
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "\"accepted\":1"));
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":2}");
	T_CHECK(drain(b, pub) == 1 && !strcmp(pay[0], "{\"type\":\"ack\",\"pseq\":2}") && drain(b, sub) == 1);
	wsb_broker_free(b);
}

/* A producer's control message with a pseq is answered, never published,
 * so its pseq could never be acked: refused (and the connection's last
 * publish, as any refusal), while one without a pseq is answered. */
static void test_control_with_pseq(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_sess *sub = join_quiet(b, NULL, 0), *pub = join_j(b, &pj);

	T_CHECK(drain(b, pub) == 1);
	in(b, pub, "{\"type\":\"ping\"}");
	in(b, pub, "{\"type\":\"subscribe\",\"types\":[\"x\"]}");
	T_CHECK(drain(b, pub) == 2 && strstr(pay[0], "pong") && strstr(pay[1], "subscribed"));
	in(b, pub, "{\"type\":\"ping\",\"producer\":\"feed\",\"pseq\":1}");
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":2}");
	T_CHECK(drain(b, pub) == 2 && strstr(pay[0], "INVALID_MESSAGE") && strstr(pay[0], "control message") &&
		strstr(pay[1], "\"code\":\"INVALID_MESSAGE\"") && strstr(pay[1], "reconnect"));
	T_CHECK(drain(b, sub) == 0);
	wsb_broker_free(b);
}

/* A message the broker cannot make room for (here a length whose stamped
 * copy would not fit in size_t, so nothing is allocated or read) is lost:
 * refused with INTERNAL_ERROR, and on a producer's connection it is the
 * last publish, so no later ack covers it. */
static void test_no_room_refuses(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_sess *sub = join_quiet(b, NULL, 0), *pub = join_j(b, &pj);

	T_CHECK(drain(b, pub) == 1);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":1}");
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "\"ack\""));
	wsb_broker_input(b, pub, "{", SIZE_MAX - 2);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"feed\",\"pseq\":3}");
	T_CHECK(drain(b, pub) == 2 && strstr(pay[0], "INTERNAL_ERROR") && strstr(pay[0], "out of memory") &&
		strstr(pay[1], "\"code\":\"INTERNAL_ERROR\"") && !strstr(pay[1], "\"ack\""));
	T_CHECK(drain(b, sub) == 1);
	wsb_broker_free(b);
}

/* ---- fan-out after the read (wsb_broker_input_more, broker_fan.c) ---- */

/* One run of a random script against a fresh broker: publishes of three
 * types (in runs, so a read's batch grows long) from two sessions, pings,
 * subscription changes, invalid input and types, reads ending (batched:
 * input_end) and takes, everything taken and every close appended to log.
 * The same seed gives the same script. Variant 1: queues so small that
 * sessions overflow mid-batch (a publisher is unsubscribed, others are
 * closed 4008); variant 2: two sessions share a filter that dies on a
 * message and stays dead. */
static size_t fan_script(int batched, int variant, unsigned seed, char *log, size_t cap)
{
	static const char *const types[] = { "a", "ab", "b" };
	const char *ta[] = { "a" }, *tg[] = { "a*" };
	struct wsb_join jp1 = { .flags = WSB_SESS_ECHO, .types = ta, .ntypes = 1 }, jp2 = { .subscribe_none = 1 };
	struct wsb_join ja = { .types = ta, .ntypes = 1 }, jg = { .types = tg, .ntypes = 1 };
	struct wsb_join jf = { .filter = variant == 2 ? "DIE" : "\"k\":1" };
	struct wsb_broker *b = variant == 1 ? mk(3000, 1u << 24, 0, 0, NULL) : mk_default();
	struct wsb_sess *v[6];
	size_t n = 0;
	unsigned type = 0;
	char m[160];

	v[0] = join_j(b, &jp1), v[1] = join_j(b, &jp2), v[2] = join_j(b, &ja);
	v[3] = variant == 2 ? join_j(b, &jf) : join_j(b, &jg);	/* 2: two sessions share a filter that dies */
	v[4] = variant == 1 ? join_j(b, &ja) : join_j(b, &jf), v[5] = join(b, NULL, 0);
	for (int i = 0; i < 6; i++)
		drain(b, v[i]);
	for (int step = 0; step < 4000; step++) {
		unsigned r = (seed = seed * 1103515245u + 12345u) >> 8, what = r % 100;
		struct wsb_sess *from = v[((r >> 8) & 7) == 0];	/* mostly one sender: batches grow */

		if (((r >> 14) & 7) == 0)
			type = (r >> 17) % 3;
		if (what < 60)
			snprintf(m, sizeof m, "{\"type\":\"%s\",\"k\":%u,\"i\":%d}", types[type], (r >> 12) % 3, step);
		else if (what < 62)
			snprintf(m, sizeof m, "{\"type\":\"ping\",\"data\":%d}", step);
		else if (what < 64)
			snprintf(m, sizeof m, "{\"type\":\"%s\",\"types\":[\"b\"]}", (r >> 9) & 1 ? "subscribe" : "unsubscribe");
		else if (what < 66)
			snprintf(m, sizeof m, "{\"type\":\"a\",");
		else if (what < 68)	/* refused after dispatch: the error follows what waits */
			snprintf(m, sizeof m, "{\"type\":\"a*\",\"i\":%d}", step);
		if (what < 68 && batched)
			wsb_broker_input_more(b, from, m, strlen(m));
		else if (what < 68)
			wsb_broker_input(b, from, m, strlen(m));
		else if (what < 95 && batched && (r >> 20) % 8 == 0)
			wsb_broker_input_end(b);
		else if (what >= 95) {
			size_t t = wsb_broker_take(b, v[(r >> 8) % 6], tbuf, BUFSZ, BUFSZ);

			n += (size_t)snprintf(log + n, cap - n, "|%u:", (r >> 8) % 6);
			T_CHECK(n + t < cap);
			memcpy(log + n, tbuf, t), n += t;
		}
	}
	if (batched)
		wsb_broker_input_end(b);
	for (int i = 0; i < 6; i++) {
		size_t t = wsb_broker_take(b, v[i], tbuf, BUFSZ, BUFSZ);

		n += (size_t)snprintf(log + n, cap - n, "|end%d:", i);
		T_CHECK(n + t < cap);
		memcpy(log + n, tbuf, t), n += t;
	}
	n += (size_t)snprintf(log + n, cap - n, "|closes %d %d|%" PRIu64, R.closes, R.close_code, stats(b).dropped);
	wsb_broker_free(b);
	return n;
}

/* Each session takes the same bytes, in the same order, and the same
 * sessions are closed, whether a read's publishes fan out one by one or
 * together after the read; and they do wait for the read's end (so the
 * batched path is the one tested). */
static void test_fan_after_read(void)
{
	size_t cap = 8u << 20, na, nb;
	char *a = malloc(cap), *bl = malloc(cap);
	struct wsb_broker *b;
	struct wsb_sess *sub, *pub;

	T_CHECK(a && bl);
	for (unsigned seed = 1; a && bl && seed <= 12; seed++) {
		na = fan_script(0, seed % 3, seed, a, cap);
		nb = fan_script(1, seed % 3, seed, bl, cap);
		T_CHECK(na == nb && !memcmp(a, bl, na));
		T_CHECK(na > 20000);	/* the script delivered plenty */
	}
	free(a);
	free(bl);
	b = mk_default();
	sub = join_quiet(b, NULL, 0);
	pub = join_quiet(b, NULL, 0);
	wsb_broker_input_more(b, pub, "{\"type\":\"t\",\"n\":1}", 18);
	wsb_broker_input_more(b, pub, "{\"type\":\"t\",\"n\":2}", 18);
	T_CHECK(wsb_broker_pending(sub) == 0);
	wsb_broker_input_end(b);
	T_CHECK(wsb_broker_pending(sub) == 2 && drain(b, sub) == 2 && strstr(pay[1], "\"n\":2"));
	wsb_broker_free(b);
}

/* Recovery: a journal line can name any producer and pseq; only a
 * producer the broker registered gets a position from it. */
static void test_restore_only_registered(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 10, 0, NULL);
	struct wsb_join pj = { .producer = "p", .subscribe_none = 1 };
	const char *l = "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":18446744073709551615,\"seq\":1}";
	struct wsb_sess *s;

	T_CHECK(wsb_broker_restore(b, l, strlen(l), 1) == 0);
	s = join_j(b, &pj);
	T_CHECK(drain(b, s) == 1 && strstr(pay[0], "\"accepted\":0,\"producer_secret\""));
	in(b, s, "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":1}");
	T_CHECK(drain(b, s) == 1 && !strcmp(pay[0], "{\"type\":\"ack\",\"pseq\":1}"));
	T_CHECK(stats(b).seq == 2 && stats(b).duplicates == 0);
	wsb_broker_free(b);
}

/* A full table forgets an idle producer, never one a connection holds. */
static void test_producer_table_keeps_held(void)
{
	struct wsb_broker_cfg cfg = { .max_producers = 2, .now = fixed_now };
	struct wsb_broker *b = wsb_broker_new(&cfg, NULL, NULL);
	struct wsb_join a = { .producer = "a" }, x = { .producer = "x" }, y = { .producer = "y" };
	struct wsb_sess *sa = join_j(b, &a), *sx;
	struct wsb_err err;

	in(b, sa, "{\"type\":\"t\",\"producer\":\"a\",\"pseq\":1}");
	sx = join_j(b, &x);
	T_CHECK(!wsb_broker_join_ex(b, NULL, &y, &err) && strstr(err.msg, "connected"));
	wsb_broker_leave(b, sx);
	T_CHECK(wsb_broker_join_ex(b, NULL, &y, &err) != NULL);	/* x was forgotten */
	T_CHECK(!wsb_broker_join_ex(b, NULL, &a, &err) && err.code == WSB_EXIT_NOPERM);
	wsb_broker_free(b);
}

static int h_producer_fail(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH],
			   struct wsb_err *err)
{
	return wsb_err_set(err, WSB_EXIT_IOERR, "disk full");
}

/* A registration that cannot be persisted refuses the join: a secret
 * handed out but not stored would be refused after a restart. */
static void test_producer_persist_fails(void)
{
	struct wsb_broker_cfg cfg = { .now = fixed_now };
	struct wsb_broker_hooks hooks = { .producer = h_producer_fail };
	struct wsb_broker *b = wsb_broker_new(&cfg, &hooks, NULL);
	struct wsb_join pj = { .producer = "p" };
	struct wsb_err err;

	T_CHECK(!wsb_broker_join_ex(b, NULL, &pj, &err) && err.code == WSB_EXIT_IOERR);
	T_CHECK(stats(b).connections == 0);
	wsb_broker_free(b);
}

/* Finding 12: at the end of the seq space publishing is refused
 * (SEQ_EXHAUSTED), never wrapped to 0; stats say so for /health. */
static void test_seq_exhausted(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_join pj = { .producer = "p", .subscribe_none = 1 };
	struct wsb_sess *sub = join_quiet(b, NULL, 0), *pub = join_j(b, &pj);
	struct wsb_sess *plain = join_quiet(b, NULL, 0);

	T_CHECK(drain(b, pub) == 1);
	wsb_broker_advance_seq(b, UINT64_MAX - 1);
	in(b, plain, "{\"type\":\"t\"}");
	T_CHECK(drain(b, sub) == 1 && strstr(pay[0], "\"seq\":18446744073709551615}"));
	T_CHECK(stats(b).seq_exhausted == 1);
	in(b, plain, "{\"type\":\"t\"}");
	T_CHECK(drain(b, plain) == 1 && strstr(pay[0], "\"code\":\"SEQ_EXHAUSTED\""));
	in(b, pub, "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":1}");
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "SEQ_EXHAUSTED"));	/* no ack */
	T_CHECK(drain(b, sub) == 0 && stats(b).seq == UINT64_MAX && stats(b).messages_in == 1);
	in(b, pub, "{\"type\":\"t\",\"producer\":\"p\",\"pseq\":1}");	/* resend: still none */
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "SEQ_EXHAUSTED"));
	wsb_broker_free(b);
}

/* Randomness is injected like the clock: the epoch, client ids and
 * producer secrets come from cfg.rand alone, and without entropy the broker
 * refuses to start (a repeated epoch would mix two numberings) and refuses
 * to issue a secret. */
static int rand_fails;

static int fake_rand(void *p, size_t n)
{
	if (rand_fails && !--rand_fails)
		return -1;
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)(0xa0 + i);
	return 0;
}

static void test_injected_rand(void)
{
	struct wsb_broker_cfg cfg = { .max_queue = 1u << 20, .now = fixed_now, .rand = fake_rand };
	struct wsb_join pj = { .producer = "feed", .subscribe_none = 1 };
	struct wsb_err err;
	struct wsb_broker *b = wsb_broker_new(&cfg, NULL, &err);
	struct wsb_sess *s;
	char secret[WSB_SECRET_HEX + 1];

	T_CHECK(b != NULL);
	T_STREQ(wsb_broker_epoch(b), "a4a5a6a7a8a9aaab");	/* bytes 4..11 of one draw */
	s = join(b, NULL, 0);
	T_STREQ(wsb_broker_client_id(s), "a0a1a2a3-1");
	s = wsb_broker_join_ex(b, NULL, &pj, &err);
	T_CHECK(s && drain(b, s) == 1);
	T_STREQ(secret_of(pay[0], secret), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	rand_fails = 1;		/* the next draw fails */
	pj.producer = "other";
	T_CHECK(!wsb_broker_join_ex(b, NULL, &pj, &err) && err.code == WSB_EXIT_OSERR &&
		strstr(err.msg, "entropy"));
	wsb_broker_free(b);
	rand_fails = 1;
	T_CHECK(!wsb_broker_new(&cfg, NULL, &err) && err.code == WSB_EXIT_OSERR &&
		strstr(err.msg, "epoch"));
	rand_fails = 0;
}

static struct wsb_sess *join_filtered(struct wsb_broker *b, void *conn, const char *type, const char *filter)
{
	struct wsb_join j = { .filter = filter, .types = &type, .ntypes = type != NULL };
	struct wsb_err err;

	return wsb_broker_join_ex(b, conn, &j, &err);
}

/* Subscribers with the same filter share one evaluation per message; a
 * filter is asked only about the types its session wants. */
static void test_filter_fanout(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *p = join_quiet(b, (void *)9, 0);
	struct wsb_sess *a = join_filtered(b, (void *)1, "x", "\"qty\":7");
	struct wsb_sess *c = join_filtered(b, (void *)2, "x", "\"qty\":7");
	struct wsb_sess *d = join_filtered(b, (void *)3, NULL, NULL);
	struct wsb_sess *y = join_filtered(b, (void *)4, "y", "qty");

	T_CHECK(a && c && d && y && FF[0].refs == 2 && FF[1].refs == 1);
	drain(b, a), drain(b, c), drain(b, d), drain(b, y);
	in(b, p, "{\"type\":\"x\",\"data\":{\"qty\":7}}");
	in(b, p, "{\"type\":\"x\",\"data\":{\"qty\":1}}");
	T_CHECK(ff_calls == 2 && ff_evals == 2);	/* one per message: y's type did not match */
	T_CHECK(drain(b, a) == 1 && strstr(pay[0], "\"qty\":7"));
	T_CHECK(drain(b, c) == 1 && strstr(pay[0], "\"qty\":7"));
	T_CHECK(drain(b, d) == 2);
	T_CHECK(drain(b, y) == 0);
	wsb_broker_leave(b, a);
	T_CHECK(FF[0].refs == 1);
	wsb_broker_free(b);
	T_CHECK(FF[0].refs == 0 && FF[1].refs == 0);
}

/* A filter that does not compile: greeting, the program's message in an
 * error, then the close; nothing is delivered meanwhile. */
static void test_filter_invalid(void)
{
	struct wsb_broker *b = mk_default();
	struct wsb_sess *p = join_quiet(b, (void *)9, 0);
	struct wsb_sess *a = join_filtered(b, (void *)1, NULL, "!oops");

	T_CHECK(a != NULL);
	in(b, p, "{\"type\":\"x\"}");
	T_CHECK(R.closes == 0);
	T_CHECK(drain(b, a) == 2 && STARTS(pay[0], "{\"type\":\"connection_established\""));
	T_CHECK(strstr(pay[1], "\"code\":\"INVALID_FILTER\"") && strstr(pay[1], "syntax error: oops"));
	T_CHECK(R.closes == 1 && R.close_code == 1008 && !strcmp(R.reason, "invalid filter"));
	T_CHECK(wsb_broker_pending(a) == 0);
	wsb_broker_free(b);
}

/* Over budget on a live message or while resuming: an error, then the
 * close; the handle is released at once. */
static void test_filter_over(void)
{
	struct wsb_broker *b = mk(1u << 20, 1u << 24, 10, 0, NULL);
	struct wsb_sess *p = join_quiet(b, (void *)9, 0);
	struct wsb_sess *a = join_filtered(b, (void *)1, NULL, "LOOP");
	struct wsb_join j = { .filter = "LOOP", .resume = 1, .since = 0 };
	struct wsb_err err;
	struct wsb_sess *r;

	drain(b, a);
	in(b, p, "{\"type\":\"x\"}");
	T_CHECK(FF[0].refs == 0 && R.closes == 0);
	T_CHECK(drain(b, a) == 1 && strstr(pay[0], "\"code\":\"FILTER_DROPPED\""));
	T_CHECK(R.closes == 1 && !strcmp(R.reason, "filter dropped"));
	in(b, p, "{\"type\":\"x\"}");
	r = wsb_broker_join_ex(b, (void *)2, &j, &err);
	T_CHECK(r && drain(b, r) == 1);		/* the greeting; history went through the filter */
	T_CHECK(drain(b, r) == 1 && strstr(pay[0], "FILTER_DROPPED"));
	T_CHECK(R.closes == 2);
	wsb_broker_free(b);
}

/* A resume and a snapshot read through the filter too. */
static void test_filter_resume(void)
{
	struct wsb_broker *b;
	struct wsb_sess *p, *r, *sn;
	struct wsb_join j = { .filter = "\"qty\":7", .resume = 1, .since = 0 };
	struct wsb_join k = { .filter = "\"qty\":7", .snapshot = 1 };
	struct wsb_err err;

	snap_bytes = 1 << 16;
	b = mk(1u << 20, 1u << 24, 10, 0, NULL);
	snap_bytes = 0;
	p = join_quiet(b, (void *)9, 0);
	in(b, p, "{\"type\":\"x\",\"data\":{\"qty\":7}}");
	in(b, p, "{\"type\":\"x\",\"data\":{\"qty\":1}}");
	in(b, p, "{\"type\":\"z\",\"data\":{\"qty\":7}}");
	r = wsb_broker_join_ex(b, (void *)1, &j, &err);
	sn = wsb_broker_join_ex(b, (void *)2, &k, &err);
	T_CHECK(r && drain(b, r) == 3);		/* greeting, seq 1, seq 3 */
	T_CHECK(strstr(pay[1], "\"seq\":1") && strstr(pay[2], "\"seq\":3"));
	T_CHECK(sn && drain(b, sn) == 2 && strstr(pay[1], "\"type\":\"z\""));	/* x's latest is qty 1 */
	wsb_broker_free(b);
}

int main(void)
{
	T_RUN(test_greeting);
	T_RUN(test_filter_fanout);
	T_RUN(test_filter_invalid);
	T_RUN(test_filter_over);
	T_RUN(test_filter_resume);
	T_RUN(test_publish_stamps);
	T_RUN(test_client_seq_replaced);
	T_RUN(test_duplicate_members);
	T_RUN(test_large_frame_headers);
	T_RUN(test_type_filtering);
	T_RUN(test_fanout_index_follows_changes);
	T_RUN(test_fanout_without_index);
	T_RUN(test_echo);
	T_RUN(test_probe_reaches_only_probers);
	T_RUN(test_stall);
	T_RUN(test_idle_memory);
	T_RUN(test_stall_budget);
	T_RUN(test_producer_acks);
	T_RUN(test_durable_acks);
	T_RUN(test_resume_and_gaps);
	T_RUN(test_restore);
	T_RUN(test_snapshot);
	T_RUN(test_snapshot_bounded);
	T_RUN(test_snapshot_keys);
	T_RUN(test_snapshot_pieces);
	T_RUN(test_ping_pong);
	T_RUN(test_subscribe_control);
	T_RUN(test_subscribe_errors);
	T_RUN(test_invalid_input);
	T_RUN(test_slow_consumer);
	T_RUN(test_slow_consumer_replies);
	T_RUN(test_greeting_never_closes);
	T_RUN(test_subscription_cap);
	T_RUN(test_subscribe_flood);
	T_RUN(test_unsubscribe_all);
	T_RUN(test_close_hook_may_leave);
	T_RUN(test_pressure);
	T_RUN(test_pressure_hysteresis);
	T_RUN(test_take_caps);
	T_RUN(test_shared_buffer);
	T_RUN(test_queue_growth_order);
	T_RUN(test_leave_with_pending);
	T_RUN(test_history);
	T_RUN(test_frame_max);
	T_RUN(test_null_hooks_and_clock);
	T_RUN(test_producer_secret);
	T_RUN(test_producer_unconfirmed);
	T_RUN(test_producer_fields_stripped);
	T_RUN(test_pseq_jump);
	T_RUN(test_refusal_is_last_publish);
	T_RUN(test_control_with_pseq);
	T_RUN(test_no_room_refuses);
	T_RUN(test_fan_after_read);
	T_RUN(test_restore_only_registered);
	T_RUN(test_producer_table_keeps_held);
	T_RUN(test_producer_persist_fails);
	T_RUN(test_seq_exhausted);
	T_RUN(test_injected_rand);
	return t_done();
}

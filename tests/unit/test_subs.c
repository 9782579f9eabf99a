#define T_SUITE "subs"
#include "t.h"

#include "frame.h"
#include "subs.h"

static unsigned what;

#define REQ(s, json, unsub, code, err) \
	wsb_subs_request((s), (json), strlen(json), (unsub), &what, (code), (err))

static const char *reply_json(const struct wsb_subs *s, char *out, size_t cap)
{
	struct wsb_msg *m = wsb_subs_reply(s, what);
	size_t n;
	const char *j = wsb_msg_json(m, &n);

	snprintf(out, cap, "%.*s", (int)n, j);
	wsb_msg_unref(m);
	return out;
}

/* All or nothing: one bad pattern leaves the set as it was. */
static void test_request_all_or_nothing(void)
{
	struct wsb_subs s;
	struct wsb_err err;
	const char *code = NULL;
	char buf[256];

	wsb_subs_init(&s);
	what = WSB_SUBS_TYPES;
	T_STREQ(reply_json(&s, buf, sizeof buf), "{\"type\":\"subscribed\",\"types\":[\"*\"]}");
	T_CHECK(REQ(&s, "{\"types\":[\"a.*\",\"b\"]}", 0, &code, &err) == 0);
	T_STREQ(reply_json(&s, buf, sizeof buf), "{\"type\":\"subscribed\",\"types\":[\"a.*\",\"b\"]}");
	T_CHECK(REQ(&s, "{\"types\":[\"c\",\"bad\\u0001\"]}", 0, &code, &err) == -1);
	T_STREQ(code, "INVALID_MESSAGE");
	T_CHECK(s.pats.n == 2);
	T_CHECK(REQ(&s, "{\"types\":\"a\"}", 0, &code, &err) == -1 && strstr(err.msg, "array"));
	T_CHECK(REQ(&s, "{\"other\":[\"x\"]}", 0, &code, &err) == 0 && s.pats.n == 2);
	T_CHECK(what == WSB_SUBS_TYPES);
	T_CHECK(REQ(&s, "{\"types\":[\"b\",\"a.*\"]}", 1, &code, &err) == 0);
	T_CHECK(!wsb_subs_active(&s) && s.bytes == 0);
	wsb_subs_free(&s);
}

/* The caps: WSB_PATTERNS_MAX patterns; a full request is undone whole. */
static void test_caps(void)
{
	struct wsb_subs s;
	struct wsb_err err;
	const char *code = NULL;
	char pat[16];

	wsb_subs_init(&s);
	for (int i = 0; i < WSB_PATTERNS_MAX; i++) {
		snprintf(pat, sizeof pat, "t%d", i);
		T_CHECK(wsb_subs_add(&s, pat, &err) == 0);
	}
	T_CHECK(wsb_subs_add(&s, "t0", &err) == 0);	/* already there: free */
	T_CHECK(wsb_subs_add(&s, "one-more", &err) == -1 && err.code == WSB_EXIT_USAGE);
	wsb_subs_none(&s);
	T_CHECK(s.pats.n == 0 && s.bytes == 0);
	T_CHECK(REQ(&s, "{\"types\":[\"x\"]}", 0, &code, &err) == 0);
	for (int i = 0; i < WSB_PATTERNS_MAX - 2; i++) {
		snprintf(pat, sizeof pat, "u%d", i);
		wsb_subs_add(&s, pat, &err);
	}
	T_CHECK(REQ(&s, "{\"types\":[\"y\",\"z\"]}", 0, &code, &err) == -1);
	T_STREQ(code, "TOO_MANY_PATTERNS");
	T_CHECK(s.pats.n == WSB_PATTERNS_MAX - 1);
	wsb_subs_free(&s);
}

/* Probes reach only a set that names "$probe" itself. */
static void test_probe_rule(void)
{
	struct wsb_subs s;
	struct wsb_err err;

	wsb_subs_init(&s);
	T_CHECK(wsb_subs_wants(&s, "$probe.1", 0, NULL) && !wsb_subs_wants(&s, "$probe.1", 1, NULL));
	wsb_subs_add(&s, "*", &err);
	T_CHECK(!wsb_subs_wants(&s, "$probe.1", 1, NULL));
	wsb_subs_add(&s, "$probe.*", &err);
	T_CHECK(wsb_subs_wants(&s, "$probe.1", 1, NULL) && wsb_subs_wants(&s, "x", 0, NULL));
	wsb_subs_free(&s);
}

int main(void)
{
	T_RUN(test_request_all_or_nothing);
	T_RUN(test_caps);
	T_RUN(test_probe_rule);
	return t_done();
}

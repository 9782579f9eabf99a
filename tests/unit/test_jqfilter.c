#define T_SUITE "jqfilter"
#include "t.h"

#include "jqfilter.h"

static const char msg[] = "{\"type\":\"order\",\"data\":{\"qty\":5,\"ts\":\"2026-11-22T03:11:40Z\",\"n\":1795317100123}}";

static int truthy(struct wsb_jqf *f, const char *json)
{
	struct wsb_err e;

	return wsb_jqf_truthy(f, json, strlen(json), &e);
}

static void test_compile_error(void)
{
	struct wsb_err e = { 0 };

	T_CHECK(!wsb_jqf_compile(".[", &e));
	T_CHECK(e.code == WSB_EXIT_USAGE);
	T_CHECK(strstr(e.msg, "syntax error") != NULL);
	T_CHECK(!strchr(e.msg, '\n'));
	T_CHECK(!wsb_jqf_compile("nosuchfn(1)", &e));
	T_CHECK(strstr(e.msg, "nosuchfn") != NULL);
}

static void test_truthiness(void)
{
	struct wsb_err e;
	struct wsb_jqf *f = wsb_jqf_compile(".data.qty > 3", &e);
	struct wsb_jqf *g = wsb_jqf_compile(".missing", &e);
	struct wsb_jqf *h = wsb_jqf_compile("empty", &e);
	struct wsb_jqf *k = wsb_jqf_compile(".data", &e);
	struct wsb_jqf *z = wsb_jqf_compile("0, false", &e);

	T_CHECK(f && g && h && k && z);
	T_CHECK(truthy(f, msg) == 1);
	T_CHECK(truthy(f, "{\"data\":{\"qty\":1}}") == 0);
	T_CHECK(truthy(g, msg) == 0);		/* null */
	T_CHECK(truthy(h, msg) == 0);		/* no output */
	T_CHECK(truthy(k, msg) == 1);		/* an object */
	T_CHECK(truthy(z, msg) == 1);		/* 0 is true in jq; only the first output counts */
	wsb_jqf_free(f);
	wsb_jqf_free(g);
	wsb_jqf_free(h);
	wsb_jqf_free(k);
	wsb_jqf_free(z);
}

static void test_paths(void)
{
	struct wsb_err e;
	struct wsb_jqf_out o;
	struct wsb_jqf *ts = wsb_jqf_compile(".data.ts", &e);
	struct wsb_jqf *n = wsb_jqf_compile(".data.n", &e);
	struct wsb_jqf *obj = wsb_jqf_compile(".data | {qty}", &e);

	T_CHECK(wsb_jqf_run(ts, msg, strlen(msg), &o, &e) == 1 && o.kind == WSB_JQF_STRING);
	T_STREQ(o.str, "2026-11-22T03:11:40Z");
	T_CHECK(o.len == 20);
	T_CHECK(wsb_jqf_run(n, msg, strlen(msg), &o, &e) == 1 && o.kind == WSB_JQF_NUMBER &&
		o.num == 1795317100123.0);
	T_STREQ(o.str, "1795317100123");
	T_CHECK(wsb_jqf_run(obj, msg, strlen(msg), &o, &e) == 1 && o.kind == WSB_JQF_OTHER);
	T_STREQ(o.str, "{\"qty\":5}");
	/* input need not be NUL-terminated: only len bytes are read */
	T_CHECK(wsb_jqf_run(ts, "{\"data\":{\"ts\":\"x\"}}garbage", 19, &o, &e) == 1);
	T_STREQ(o.str, "x");
	wsb_jqf_free(ts);
	wsb_jqf_free(n);
	wsb_jqf_free(obj);
}

static void test_runtime_error(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqf_out o;
	struct wsb_jqf *f = wsb_jqf_compile(".data.qty + \"x\"", &e);
	struct wsb_jqf *g = wsb_jqf_compile("error({\"code\":1})", &e);

	T_CHECK(wsb_jqf_run(f, msg, strlen(msg), &o, &e) == -1);
	T_CHECK(e.code == WSB_EXIT_DATAERR && strstr(e.msg, "cannot be added"));
	T_CHECK(wsb_jqf_truthy(g, msg, strlen(msg), &e) == -1);
	T_CHECK(strstr(e.msg, "{\"code\":1}") != NULL);
	/* still usable after an error */
	T_CHECK(wsb_jqf_run(f, "{\"data\":{\"qty\":\"a\"}}", 20, &o, &e) == 1);
	T_STREQ(o.str, "ax");
	/* input that is not JSON */
	T_CHECK(wsb_jqf_run(f, "{nope", 5, &o, &e) == -1);
	T_CHECK(strstr(e.msg, "invalid JSON") != NULL);
	wsb_jqf_free(f);
	wsb_jqf_free(g);
	wsb_jqf_free(NULL);
}

static void test_first_output_only(void)
{
	struct wsb_err e;
	struct wsb_jqf_out o;
	/* An endless generator: only its first output is ever computed. */
	struct wsb_jqf *f = wsb_jqf_compile("repeat(1)", &e);

	for (int i = 0; i < 100; i++)
		T_CHECK(wsb_jqf_run(f, "1", 1, &o, &e) == 1 && o.num == 1);
	wsb_jqf_free(f);
}

int main(void)
{
	T_RUN(test_compile_error);
	T_RUN(test_truthiness);
	T_RUN(test_paths);
	T_RUN(test_runtime_error);
	T_RUN(test_first_output_only);
	return t_done();
}

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

static void test_sandbox(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqf_out o;
	struct wsb_jqf *env = wsb_jqf_compile_sandboxed("[env, $ENV, input_filename, get_search_list]", &e);
	struct wsb_jqf *in = wsb_jqf_compile_sandboxed("[inputs]", &e);
	struct wsb_jqf *ok = wsb_jqf_compile_sandboxed("def f: .data.qty; f > 3", &e);

	T_CHECK(env && in && ok);
	T_CHECK(wsb_jqf_run(env, "1", 1, &o, &e) == 1);
	T_STREQ(o.str, "[{},{},null,[]]");
	T_CHECK(wsb_jqf_run(in, "1", 1, &o, &e) == 1);
	T_STREQ(o.str, "[]");
	T_CHECK(wsb_jqf_truthy(ok, msg, strlen(msg), &e) == 1);
	/* modules are never loaded: import does not even parse */
	T_CHECK(!wsb_jqf_compile_sandboxed("import \"a\" as a; .", &e));
	T_CHECK(e.code == WSB_EXIT_USAGE && strstr(e.msg, "import"));
	/* errors name the user's line, not the prelude's */
	T_CHECK(!wsb_jqf_compile_sandboxed(".a |\n .[", &e));
	T_CHECK(strstr(e.msg, "line 2") != NULL);
	T_CHECK(!wsb_jqf_compile_sandboxed(".[", &e));
	T_CHECK(strstr(e.msg, "line 1") != NULL && strstr(e.msg, "jq program '.['"));
	wsb_jqf_free(env);
	wsb_jqf_free(in);
	wsb_jqf_free(ok);
}

static void test_cpu_limit(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqf_out o;
	const char *loops[] = { "last(range(1e12))", "until(false; .)", "[repeat(.)] | length", "def f: f; f" };

	for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
		struct wsb_jqf *f = wsb_jqf_compile_sandboxed(loops[i], &e);

		T_CHECK(f != NULL);
		if (!f)
			continue;
		wsb_jqf_set_cpu_limit(f, 0.02);
		T_CHECK(wsb_jqf_run(f, "1", 1, &o, &e) == WSB_JQF_OVER);
		T_CHECK(strstr(e.msg, "CPU budget") != NULL);
		/* the program stays usable: the next run starts afresh */
		T_CHECK(wsb_jqf_truthy(f, "1", 1, &e) == WSB_JQF_OVER);
		wsb_jqf_free(f);
	}
}

static int collect(void *ud, const char *json, size_t len)
{
	char *acc = ud;

	strncat(acc, json, len);
	strcat(acc, ";");
	return strlen(acc) > 40 ? -1 : 0;
}

static void test_each(void)
{
	struct wsb_err e = { 0 };
	char acc[256] = "";
	struct wsb_jqf *f = wsb_jqf_compile(".data.qty, \"x\", {a: 1}", &e);
	struct wsb_jqf *csv = wsb_jqf_compile("split(\",\") | {type: .[0], data: {qty: (.[1] | tonumber)}}", &e);
	struct wsb_jqf *none = wsb_jqf_compile("empty", &e);
	struct wsb_jqf *many = wsb_jqf_compile("range(100)", &e);
	struct wsb_jqf *bad = wsb_jqf_compile("1, error(\"no\")", &e);

	T_CHECK(wsb_jqf_each(f, msg, strlen(msg), 0, collect, acc, &e) == 3);
	T_STREQ(acc, "5;\"x\";{\"a\":1};");
	acc[0] = '\0';
	T_CHECK(wsb_jqf_each(csv, "fill,12", 7, 1, collect, acc, &e) == 1);
	T_STREQ(acc, "{\"type\":\"fill\",\"data\":{\"qty\":12}};");
	T_CHECK(wsb_jqf_each(none, "1", 1, 0, collect, acc, &e) == 0);
	acc[0] = '\0';
	T_CHECK(wsb_jqf_each(many, "1", 1, 0, collect, acc, &e) == -1);	/* collect stopped it */
	acc[0] = '\0';
	T_CHECK(wsb_jqf_each(bad, "1", 1, 0, collect, acc, &e) == -1);
	T_STREQ(acc, "1;");
	T_CHECK(strstr(e.msg, "no") != NULL);
	T_CHECK(wsb_jqf_each(f, "{", 1, 0, collect, acc, &e) == -1 && strstr(e.msg, "invalid JSON"));
	wsb_jqf_free(f);
	wsb_jqf_free(csv);
	wsb_jqf_free(none);
	wsb_jqf_free(many);
	wsb_jqf_free(bad);
}

static void test_parsed_once(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqv *v = wsb_jqv_parse(msg, strlen(msg), &e);
	struct wsb_jqf *f = wsb_jqf_compile(".data.qty > 3", &e);
	struct wsb_jqf *g = wsb_jqf_compile(".data.qty > 9", &e);
	struct wsb_jqf *h = wsb_jqf_compile(".data.qty | test(\"a\")", &e);

	T_CHECK(v && f && g && h);
	if (!v || !f || !g || !h)
		return;
	for (int i = 0; i < 3; i++) {
		T_CHECK(wsb_jqf_test(f, v, &e) == 1);
		T_CHECK(wsb_jqf_test(g, v, &e) == 0);
	}
	T_CHECK(wsb_jqf_test(h, v, &e) == -1);
	T_CHECK(!wsb_jqv_parse("{\"a\":", 5, &e) && e.code == WSB_EXIT_DATAERR);
	wsb_jqv_free(v);
	wsb_jqv_free(NULL);
	wsb_jqf_free(f);
	wsb_jqf_free(g);
	wsb_jqf_free(h);
}

int main(void)
{
	T_RUN(test_compile_error);
	T_RUN(test_truthiness);
	T_RUN(test_paths);
	T_RUN(test_runtime_error);
	T_RUN(test_first_output_only);
	T_RUN(test_sandbox);
	T_RUN(test_cpu_limit);
	T_RUN(test_each);
	T_RUN(test_parsed_once);
	return t_done();
}

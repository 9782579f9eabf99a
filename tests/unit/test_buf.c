/* buf: growth, the hard cap, and that a failed append leaves the contents. */
#include <stdlib.h>

#include "buf.h"
#include "envbuf.h"
#include "t.h"

#define T_SUITE "buf"

static void test_append_grows(void)
{
	struct wsb_buf b = { 0 };
	struct wsb_err err = { 0 };
	char chunk[1000];

	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 100; i++)
		T_CHECK(wsb_buf_append(&b, chunk, sizeof chunk, &err) == 0);
	T_CHECK(b.len == 100000);
	T_CHECK(b.cap >= b.len);
	T_CHECK(b.p[99999] == 'x');
	wsb_buf_free(&b);
	T_CHECK(!b.p && !b.len && !b.cap);
}

static void test_cap_is_hard(void)
{
	struct wsb_buf b = { .max = 10 };
	struct wsb_err err = { 0 };

	T_CHECK(wsb_buf_append(&b, "0123456789", 10, &err) == 0);
	T_CHECK(b.cap == 10);
	T_CHECK(wsb_buf_append(&b, "x", 1, &err) == -1);
	T_CHECK(err.code == WSB_EXIT_DATAERR);
	T_CHECK(strstr(err.msg, "10 bytes") != NULL);
	T_CHECK(b.len == 10 && !memcmp(b.p, "0123456789", 10));
	wsb_buf_free(&b);
}

static void test_empty_append(void)
{
	struct wsb_buf b = { 0 };
	struct wsb_err err = { 0 };

	/* An empty first fragment: nothing allocated, nothing copied. */
	T_CHECK(wsb_buf_append(&b, NULL, 0, &err) == 0);
	T_CHECK(b.p == NULL && b.len == 0);
	wsb_buf_free(&b);
}

static void test_overflow_refused(void)
{
	struct wsb_buf b = { 0 };
	struct wsb_err err = { 0 };

	T_CHECK(wsb_buf_append(&b, "ab", 2, &err) == 0);
	T_CHECK(wsb_buf_reserve(&b, (size_t)-1, &err) == -1);
	T_CHECK(b.len == 2);
	wsb_buf_free(&b);
}

static void test_shrink(void)
{
	struct wsb_buf b = { 0 };
	struct wsb_err err = { 0 };
	char big[8192] = { 0 };

	T_CHECK(wsb_buf_append(&b, big, sizeof big, &err) == 0);
	wsb_buf_shrink(&b, 4096);
	T_CHECK(b.p == NULL && b.cap == 0 && b.len == 0);
	T_CHECK(wsb_buf_append(&b, "a", 1, &err) == 0);
	wsb_buf_shrink(&b, 4096);
	T_CHECK(b.p != NULL && b.len == 0);
	wsb_buf_reset(&b);
	wsb_buf_free(&b);
}

/* The one scan helper: the compact form in scratch, and a message it
 * cannot hold is an error with a reason, never a quiet return. */
static void test_envbuf_parse(void)
{
	struct wsb_buf sc = { 0 };
	struct wsb_env env;
	struct wsb_err err = { 0 };
	const char *m = "{ \"type\" : \"ack\", \"pseq\" : 3 }";

	T_CHECK(wsb_envbuf_parse(&sc, m, strlen(m), &env, &err) == 23);
	T_CHECK(sc.len == 23 && !memcmp(sc.p, "{\"type\":\"ack\",\"pseq\":3}", 23));
	T_CHECK(env.has_type && !strcmp(env.type, "ack"));
	T_CHECK(wsb_envbuf_parse(&sc, "{x", 2, &env, &err) == WSB_ENVBUF_INVALID);
	T_CHECK(err.code == WSB_EXIT_DATAERR && sc.len == 0);
	T_CHECK(wsb_envbuf_parse(&sc, "", 0, &env, &err) == WSB_ENVBUF_INVALID);
	wsb_buf_free(&sc);
	sc.max = 8;
	T_CHECK(wsb_envbuf_parse(&sc, m, strlen(m), &env, &err) == WSB_ENVBUF_NOROOM);
	T_CHECK(err.code == WSB_EXIT_DATAERR && strstr(err.msg, "cannot hold a 30-byte message"));
	wsb_buf_free(&sc);
}

static void test_grow_each(void)
{
	int *a = NULL;
	char *b = NULL;
	void **const p[] = { (void **)&a, (void **)&b };
	const size_t elem[] = { sizeof *a, sizeof *b };

	T_CHECK(wsb_grow_each(p, elem, 2, 4) == 0);
	a[3] = 7;
	b[3] = 'x';
	T_CHECK(wsb_grow_each(p, elem, 2, 1000) == 0);
	T_CHECK(a[3] == 7 && b[3] == 'x');	/* contents survive the growth */
	a[999] = 1;
	b[999] = 'y';
	/* cap * elem would overflow: refused without calling realloc */
	T_CHECK(wsb_grow_each(p, elem, 1, (size_t)-1 / 2) == -1);
	T_CHECK(a[999] == 1 && b[999] == 'y');
	free(a);
	free(b);
}

int main(void)
{
	T_RUN(test_append_grows);
	T_RUN(test_cap_is_hard);
	T_RUN(test_empty_append);
	T_RUN(test_overflow_refused);
	T_RUN(test_shrink);
	T_RUN(test_envbuf_parse);
	T_RUN(test_grow_each);
	return t_done();
}

#define T_SUITE "scope"
#include "t.h"

#include "scope.h"

static void test_parse_may(void)
{
	struct wsb_err err;
	unsigned may;

	T_CHECK(!wsb_scope_parse_may("pub", 3, &may, &err) && may == WSB_SCOPE_PUB);
	T_CHECK(!wsb_scope_parse_may("sub", 3, &may, &err) && may == WSB_SCOPE_SUB);
	T_CHECK(!wsb_scope_parse_may("pub,sub", 7, &may, &err) && may == (WSB_SCOPE_PUB | WSB_SCOPE_SUB));
	T_CHECK(!wsb_scope_parse_may("sub pub", 7, &may, &err) && may == (WSB_SCOPE_PUB | WSB_SCOPE_SUB));
	T_CHECK(wsb_scope_parse_may("pubsub", 6, &may, &err) < 0 && strstr(err.msg, "pubsub"));
	T_CHECK(wsb_scope_parse_may("admin", 5, &may, &err) < 0);
	T_CHECK(wsb_scope_parse_may("", 0, &may, &err) < 0);
	T_CHECK(wsb_scope_parse_may(",", 1, &may, &err) < 0);
}

static void test_types(void)
{
	struct wsb_scope s;
	struct wsb_err err;
	char g[64];

	wsb_scope_all(&s);
	T_CHECK(wsb_scope_glob(&s, 0, g, sizeof g) == -1);
	T_CHECK(!wsb_scope_set_types(&s, "order*,tick", 11, &err));
	T_STREQ(s.types, "order*,tick");
	T_CHECK(wsb_scope_glob(&s, 0, g, sizeof g) == 6 && !strcmp(g, "order*"));
	T_CHECK(wsb_scope_glob(&s, 1, g, sizeof g) == 4 && !strcmp(g, "tick"));
	T_CHECK(wsb_scope_glob(&s, 2, g, sizeof g) == -1);
	T_CHECK(wsb_scope_set_types(&s, "a,,b", 4, &err) < 0);
	T_CHECK(wsb_scope_set_types(&s, "a,", 2, &err) < 0);
	T_CHECK(wsb_scope_set_types(&s, "", 0, &err) < 0);
	T_CHECK(wsb_scope_set_types(&s, "a\tb", 3, &err) < 0);	/* control character */
	T_CHECK(!wsb_scope_add_type(&s, "x", &err) && !wsb_scope_add_type(&s, "y*", &err));
	T_STREQ(s.types, "x,y*");
	T_CHECK(wsb_scope_add_type(&s, "p,q", &err) < 0);
}

static void test_publish(void)
{
	struct wsb_scope s;
	struct wsb_err err;

	wsb_scope_all(&s);
	T_CHECK(wsb_scope_may_publish(&s, "anything"));
	T_CHECK(!wsb_scope_set_types(&s, "order*,tick", 11, &err));
	T_CHECK(wsb_scope_may_publish(&s, "order"));
	T_CHECK(wsb_scope_may_publish(&s, "order.new"));
	T_CHECK(wsb_scope_may_publish(&s, "tick"));
	T_CHECK(!wsb_scope_may_publish(&s, "ticks"));
	T_CHECK(!wsb_scope_may_publish(&s, "trade"));
	s.may = WSB_SCOPE_SUB;
	T_CHECK(!wsb_scope_may_publish(&s, "order"));
	T_CHECK(wsb_scope_may_subscribe(&s, "order"));
	s.may = WSB_SCOPE_PUB;
	T_CHECK(!wsb_scope_may_subscribe(&s, "order"));
}

static void test_covers(void)
{
	T_CHECK(wsb_scope_glob_covers("order*", "order*"));
	T_CHECK(wsb_scope_glob_covers("order*", "order.*"));
	T_CHECK(wsb_scope_glob_covers("order*", "order.new"));
	T_CHECK(wsb_scope_glob_covers("order*", "order?x*"));
	T_CHECK(wsb_scope_glob_covers("*", "*"));
	T_CHECK(wsb_scope_glob_covers("*", "a?b"));
	T_CHECK(wsb_scope_glob_covers("a?c", "abc"));
	T_CHECK(wsb_scope_glob_covers("a?c", "a?c"));
	T_CHECK(wsb_scope_glob_covers("*.new", "order.new"));
	T_CHECK(wsb_scope_glob_covers("*.new", "*.new"));
	T_CHECK(wsb_scope_glob_covers("*.new", "o*.new"));
	T_CHECK(!wsb_scope_glob_covers("order*", "*"));
	T_CHECK(!wsb_scope_glob_covers("order*", "ord*"));
	T_CHECK(!wsb_scope_glob_covers("order*", "?rder"));
	T_CHECK(!wsb_scope_glob_covers("a?", "a*"));	/* a* takes "abc" too */
	T_CHECK(!wsb_scope_glob_covers("a?c", "a*c"));
	T_CHECK(!wsb_scope_glob_covers("tick", "tick*"));
	T_CHECK(!wsb_scope_glob_covers("tick", "tic"));
	T_CHECK(!wsb_scope_glob_covers("*.new", "order.*"));
	T_CHECK(!wsb_scope_glob_covers("", "a"));
	T_CHECK(wsb_scope_glob_covers("a*b*c", "a1b2c"));
	T_CHECK(wsb_scope_glob_covers("a*b*c", "a*b*c"));
	T_CHECK(!wsb_scope_glob_covers("a*b*c", "a*c"));
}

static void test_producer_prefix(void)
{
	T_CHECK(wsb_scope_producer_ok(NULL, "anything"));
	T_CHECK(!wsb_scope_producer_ok("", "alice"));
	T_CHECK(wsb_scope_producer_ok("alice", "alice"));
	T_CHECK(wsb_scope_producer_ok("alice", "alice.orders"));
	T_CHECK(wsb_scope_producer_ok("alice", "alice:0a1b2c3d"));
	T_CHECK(!wsb_scope_producer_ok("alice", "alicex"));
	T_CHECK(!wsb_scope_producer_ok("alice", "alic"));
	T_CHECK(!wsb_scope_producer_ok("alice", "bob.alice"));
}

int main(void)
{
	T_RUN(test_parse_may);
	T_RUN(test_types);
	T_RUN(test_publish);
	T_RUN(test_covers);
	T_RUN(test_producer_prefix);
	return t_done();
}

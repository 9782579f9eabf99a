/* admit: the Origin policy (same origin, allow list, DNS-rebinding names),
 * Sec-WebSocket-Key validation, --allow-origin syntax, log sanitising. */
#include "admit.h"
#include "t.h"

#define T_SUITE "admit"

static char *allow_v[] = { "https://a.example", "http://127.0.0.1:9000" };
static const struct wsb_strlist allow = { allow_v, 2, 2, 0 };
static char *star_v[] = { "*" };
static const struct wsb_strlist star = { star_v, 1, 1, 0 };

static void test_no_origin_is_a_tool(void)
{
	T_CHECK(wsb_admit_origin(NULL, "127.0.0.1:8765", 0, NULL, ""));
	T_CHECK(wsb_admit_origin(NULL, NULL, 0, NULL, ""));
}

static void test_same_origin(void)
{
	T_CHECK(wsb_admit_origin("http://127.0.0.1:8765", "127.0.0.1:8765", 0, NULL, ""));
	T_CHECK(wsb_admit_origin("https://127.0.0.1:8765", "127.0.0.1:8765", 1, NULL, ""));
	T_CHECK(wsb_admit_origin("http://localhost:8765", "localhost:8765", 0, NULL, ""));
	T_CHECK(wsb_admit_origin("http://LOCALHOST:8765", "localhost:8765", 0, NULL, ""));
	T_CHECK(wsb_admit_origin("http://[::1]:8765", "[::1]:8765", 0, NULL, ""));
	T_CHECK(wsb_admit_origin("http://broker.lan:8765", "broker.lan:8765", 0, NULL, "broker.lan"));
	/* scheme, port, host must all match */
	T_CHECK(!wsb_admit_origin("https://127.0.0.1:8765", "127.0.0.1:8765", 0, NULL, ""));
	T_CHECK(!wsb_admit_origin("http://127.0.0.1:8765", "127.0.0.1:8765", 1, NULL, ""));
	T_CHECK(!wsb_admit_origin("http://127.0.0.1:8766", "127.0.0.1:8765", 0, NULL, ""));
	T_CHECK(!wsb_admit_origin("http://127.0.0.1", "127.0.0.1:8765", 0, NULL, ""));
	T_CHECK(!wsb_admit_origin("http://localhost:8765", "127.0.0.1:8765", 0, NULL, ""));
	T_CHECK(!wsb_admit_origin("http://127.0.0.1:8765", NULL, 0, NULL, ""));
}

static void test_rebinding_names_are_not_own(void)
{
	/* evil.example resolving to 127.0.0.1: Host and Origin agree, and
	 * still it is not this broker's page. */
	T_CHECK(!wsb_admit_origin("http://evil.example:8765", "evil.example:8765", 0, NULL, ""));
	T_CHECK(!wsb_admit_origin("http://127.0.0.1.:8765", "127.0.0.1.:8765", 0, NULL, ""));
	T_CHECK(!wsb_admit_host_is_own("0x7f.1:8765", ""));
	T_CHECK(!wsb_admit_host_is_own("", ""));
	T_CHECK(!wsb_admit_host_is_own("[::1", ""));
	T_CHECK(wsb_admit_host_is_own("127.0.0.1", ""));
	T_CHECK(wsb_admit_host_is_own("[::1]", ""));
}

static void test_allow_list_is_exact(void)
{
	T_CHECK(wsb_admit_origin("https://a.example", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(wsb_admit_origin("http://127.0.0.1:9000", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(!wsb_admit_origin("https://a.example.evil", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(!wsb_admit_origin("https://a.example.", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(!wsb_admit_origin("https://a.example:443", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(!wsb_admit_origin("http://a.example", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(!wsb_admit_origin("https://sub.a.example", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(!wsb_admit_origin("null", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(!wsb_admit_origin("", "127.0.0.1:8765", 0, &allow, ""));
	T_CHECK(wsb_admit_origin("null", "127.0.0.1:8765", 0, &star, ""));
	T_CHECK(wsb_admit_origin("https://evil.example", "x", 0, &star, ""));
}

static void test_ws_key(void)
{
	T_CHECK(wsb_admit_ws_key("dGhlIHNhbXBsZSBub25jZQ=="));	/* RFC 6455 §1.3 */
	T_CHECK(wsb_admit_ws_key("AAAAAAAAAAAAAAAAAAAAAA=="));
	T_CHECK(!wsb_admit_ws_key(""));
	T_CHECK(!wsb_admit_ws_key("dGhlIHNhbXBsZSBub25jZQ="));
	T_CHECK(!wsb_admit_ws_key("dGhlIHNhbXBsZSBub25jZQ==="));
	T_CHECK(!wsb_admit_ws_key("dGhlIHNhbXBsZSBub25jZR=="));	/* stray low bits */
	T_CHECK(!wsb_admit_ws_key("dGhlIHNhbXBsZS*ub25jZQ=="));
	T_CHECK(!wsb_admit_ws_key("not base64 at all, no no"));
	T_CHECK(!wsb_admit_ws_key("dGhlIHNhbXBsZSBub25jZQAA"));
}

static void test_allow_syntax(void)
{
	struct wsb_err err = { 0 };

	T_CHECK(wsb_admit_check_allow("*", &err) == 0);
	T_CHECK(wsb_admit_check_allow("null", &err) == 0);
	T_CHECK(wsb_admit_check_allow("https://a.example", &err) == 0);
	T_CHECK(wsb_admit_check_allow("http://127.0.0.1:8080", &err) == 0);
	T_CHECK(wsb_admit_check_allow("chrome-extension://abcdef", &err) == 0);
	T_CHECK(wsb_admit_check_allow("https://a.example/", &err) == -1);
	T_CHECK(err.code == WSB_EXIT_USAGE);
	T_CHECK(wsb_admit_check_allow("a.example", &err) == -1);
	T_CHECK(wsb_admit_check_allow("https://", &err) == -1);
	T_CHECK(wsb_admit_check_allow("https://a.example/app", &err) == -1);
	T_CHECK(wsb_admit_check_allow("https://u@a.example", &err) == -1);
}

static void test_printable(void)
{
	char out[8];

	wsb_admit_printable(out, sizeof out, "a\nb\x1b[c");
	T_STREQ(out, "a?b?[c");
	wsb_admit_printable(out, sizeof out, "0123456789");
	T_STREQ(out, "0123456");
	wsb_admit_printable(out, sizeof out, "\xff");
	T_STREQ(out, "?");
	wsb_admit_printable(out, sizeof out, NULL);
	T_STREQ(out, "");
}

static void test_conn_budget(void)
{
	T_CHECK(wsb_admit_conn_budget(64) == 48);
	T_CHECK(wsb_admit_conn_budget(1024) == 896);
	T_CHECK(wsb_admit_conn_budget(10) == 1);
	T_CHECK(wsb_admit_raise_nofile() >= 16);
}

int main(void)
{
	T_RUN(test_no_origin_is_a_tool);
	T_RUN(test_same_origin);
	T_RUN(test_rebinding_names_are_not_own);
	T_RUN(test_allow_list_is_exact);
	T_RUN(test_ws_key);
	T_RUN(test_allow_syntax);
	T_RUN(test_printable);
	T_RUN(test_conn_budget);
	return t_done();
}

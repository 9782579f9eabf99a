#define T_SUITE "access"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "access.h"
#include "auth.h"

static char path[64];

static const char *file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof path, "/tmp/wsb-test-access.%d", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_token_file_scopes(void)
{
	struct wsb_err err;
	struct wsb_grant g;
	const char *why = NULL;
	struct wsb_access *a = wsb_access_load(NULL, file("# tokens\n\nbare\n  reader  sub\nwriter pub types=order*,tick\n"
							   "both pub,sub  # a comment\nsw sub,pub types=x\n"), NULL, &err);

	T_CHECK(a != NULL && wsb_access_on(a));
	T_CHECK(wsb_access_check(a, "bare", 0, &g, &why) == 0 && g.scope.may == 3 && !g.scope.types[0] && !g.jwt);
	T_CHECK(wsb_access_check(a, "reader", 0, &g, &why) == 0 && g.scope.may == WSB_SCOPE_SUB);
	T_CHECK(wsb_access_check(a, "writer", 0, &g, &why) == 0 && g.scope.may == WSB_SCOPE_PUB);
	T_STREQ(g.scope.types, "order*,tick");
	T_CHECK(wsb_grant_producer_ok(&g, "any.id"));	/* tokens bind no producer ids */
	T_CHECK(wsb_access_check(a, "both", 0, &g, &why) == 0 && g.scope.may == 3);
	T_CHECK(wsb_access_check(a, "sw", 0, &g, &why) == 0 && g.scope.may == 3 && !strcmp(g.scope.types, "x"));
	T_CHECK(wsb_access_check(a, "# tokens", 0, &g, &why) < 0 && !strcmp(why, "invalid token"));
	T_CHECK(wsb_access_check(a, "read", 0, &g, &why) < 0);
	T_CHECK(wsb_access_check(a, "readerx", 0, &g, &why) < 0);
	T_CHECK(wsb_access_check(a, NULL, 0, &g, &why) < 0 && !strcmp(why, "authentication required"));
	T_CHECK(wsb_access_check(a, "", 0, &g, &why) < 0);
	wsb_access_free(a);
	unlink(path);
}

static void test_token_file_errors(void)
{
	struct wsb_err err;

	T_CHECK(!wsb_access_load(NULL, file("ok\nSECRETVALUE pubb\n"), NULL, &err));
	T_CHECK(strstr(err.msg, "line 2") && strstr(err.msg, "pubb") && !strstr(err.msg, "SECRETVALUE"));
	T_CHECK(err.code == WSB_EXIT_CONFIG);
	T_CHECK(!wsb_access_load(NULL, file("t pub sub\n"), NULL, &err) && strstr(err.msg, "line 1"));
	T_CHECK(!wsb_access_load(NULL, file("t types=\n"), NULL, &err));
	T_CHECK(!wsb_access_load(NULL, file("SAME\nSAME sub\n"), NULL, &err) && !strstr(err.msg, "SAME"));
	T_CHECK(!wsb_access_load(NULL, file("# nothing\n\n"), NULL, &err) && strstr(err.msg, "no token"));
	T_CHECK(!wsb_access_load(NULL, "/nonexistent/tokens", NULL, &err) && err.code == WSB_EXIT_CONFIG);
	T_CHECK(!wsb_access_load("a", file("b\n"), NULL, &err) && err.code == WSB_EXIT_USAGE);
	T_CHECK(!wsb_access_load(NULL, NULL, file("short\n"), &err) && strstr(err.msg, "16"));
	unlink(path);
}

static void test_none_and_single(void)
{
	struct wsb_err err;
	struct wsb_grant g;
	const char *why = NULL;
	struct wsb_access *a = wsb_access_load(NULL, NULL, NULL, &err);
	char d[80];

	T_CHECK(a && !wsb_access_on(a));
	T_CHECK(wsb_access_check(a, NULL, 0, &g, &why) == 0 && g.scope.may == 3);
	wsb_access_free(a);
	a = wsb_access_load("s3cret", NULL, NULL, &err);
	T_CHECK(a && wsb_access_on(a));
	T_CHECK(wsb_access_check(a, "s3cret", 0, &g, &why) == 0 && g.scope.may == 3);
	T_CHECK(wsb_access_check(a, "s3cre", 0, &g, &why) < 0);
	wsb_access_describe(a, d, sizeof d);
	T_STREQ(d, "1 token");
	wsb_access_free(a);
}

static void test_jwt_beside_tokens(void)
{
	struct wsb_err err;
	struct wsb_grant g;
	const char *why = NULL;
	struct wsb_access *a = wsb_access_load(NULL, NULL, file("0123456789abcdef0123456789abcdef\n"), &err);
	/* {"alg":"HS256","typ":"JWT"} . {"sub":"alice","scope":"pub"}, signed with the key above */
	const char *tok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInNjb3BlIjoicHViIn0."
			  "vsLEzlR0KhKBr15Wt0-Yjks1Ko98SmW9VJrVLlpU4r8";
	char d[80];

	T_CHECK(a && wsb_access_on(a));
	wsb_access_describe(a, d, sizeof d);
	T_STREQ(d, "0 tokens and a JWT secret");
	T_CHECK(wsb_access_check(a, tok, 1795317100, &g, &why) == 0);
	T_CHECK(g.jwt && g.scope.may == WSB_SCOPE_PUB && !strcmp(g.subject, "alice"));
	T_CHECK(wsb_grant_producer_ok(&g, "alice:12345678") && !wsb_grant_producer_ok(&g, "bob"));
	T_CHECK(wsb_access_check(a, "plain", 0, &g, &why) < 0 && !strcmp(why, "invalid token"));
	wsb_access_free(a);
	unlink(path);
}

static void test_client_first_token(void)
{
	struct wsb_err err;
	char out[WSB_TOKEN_MAX];

	T_CHECK(wsb_auth_load(NULL, file("# server tokens\n\n  first pub types=a\nsecond\n"), out, &err) == 1);
	T_STREQ(out, "first");
	T_CHECK(wsb_auth_load(NULL, file("only\n"), out, &err) == 1);
	T_STREQ(out, "only");
	T_CHECK(wsb_auth_load(NULL, file("# none\n"), out, &err) < 0);
	unlink(path);
}

int main(void)
{
	T_RUN(test_token_file_scopes);
	T_RUN(test_token_file_errors);
	T_RUN(test_none_and_single);
	T_RUN(test_jwt_beside_tokens);
	T_RUN(test_client_first_token);
	return t_done();
}

#define T_SUITE "jwt"
#include "t.h"

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define NOW 1795317100

/* header.payload.signature, signed with key (NULL: the given sig text). */
static const char *mk(const char *hdr, const char *pay, const char *key, const char *sig)
{
	static char tok[4096];
	unsigned char mac[32];
	unsigned ml = 0;
	size_t n;

	n = wsb_b64url_encode((const unsigned char *)hdr, strlen(hdr), tok);
	tok[n++] = '.';
	n += wsb_b64url_encode((const unsigned char *)pay, strlen(pay), tok + n);
	if (sig) {
		snprintf(tok + n, sizeof tok - n, ".%s", sig);
		return tok;
	}
	HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)tok, n, mac, &ml);
	tok[n++] = '.';
	wsb_b64url_encode(mac, ml, tok + n);
	return tok;
}

static const char *HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static int verify(const char *tok, struct wsb_jwt_claims *c, const char **why)
{
	return wsb_jwt_verify((const unsigned char *)KEY, strlen(KEY), tok, NOW, c, why);
}

static void test_b64url(void)
{
	unsigned char out[16];
	char enc[32];

	T_CHECK(wsb_b64url_decode("YWJj", 4, out, sizeof out) == 3 && !memcmp(out, "abc", 3));
	T_CHECK(wsb_b64url_decode("YWI", 3, out, sizeof out) == 2 && !memcmp(out, "ab", 2));
	T_CHECK(wsb_b64url_decode("YQ", 2, out, sizeof out) == 1 && out[0] == 'a');
	T_CHECK(wsb_b64url_decode("YR", 2, out, sizeof out) == -1);	/* stray bits */
	T_CHECK(wsb_b64url_decode("YQ==", 4, out, sizeof out) == -1);	/* no padding */
	T_CHECK(wsb_b64url_decode("Y", 1, out, sizeof out) == -1);
	T_CHECK(wsb_b64url_decode("+/", 2, out, sizeof out) == -1);	/* base64, not url */
	T_CHECK(wsb_b64url_decode("YWJjYWJj", 8, out, 5) == -1);	/* does not fit */
	wsb_b64url_encode((const unsigned char *)"\xfb\xff", 2, enc);
	T_STREQ(enc, "-_8");
}

static void test_valid(void)
{
	struct wsb_jwt_claims c;
	const char *why = NULL;
	char pay[256];

	snprintf(pay, sizeof pay, "{\"sub\":\"alice\",\"exp\":%d,\"nbf\":%d,\"scope\":\"pub\","
		 "\"types\":[\"order*\",\"tick\"]}", NOW + 60, NOW - 60);
	T_CHECK(verify(mk(HS, pay, KEY, NULL), &c, &why) == 0 && why == NULL);
	T_CHECK(c.scope.may == WSB_SCOPE_PUB);
	T_STREQ(c.scope.types, "order*,tick");
	T_CHECK(c.has_sub);
	T_STREQ(c.sub, "alice");
	/* No claims at all: everything, no subject. */
	T_CHECK(verify(mk(HS, "{}", KEY, NULL), &c, &why) == 0);
	T_CHECK(c.scope.may == (WSB_SCOPE_PUB | WSB_SCOPE_SUB) && !c.scope.types[0] && !c.has_sub);
	/* types as one string, scope space-separated, fractional exp */
	snprintf(pay, sizeof pay, "{\"scope\":\"sub pub\",\"types\":\"a*,b\",\"exp\":%d.5}", NOW);
	T_CHECK(verify(mk(HS, pay, KEY, NULL), &c, &why) == 0);
	T_STREQ(c.scope.types, "a*,b");
}

static void test_times(void)
{
	struct wsb_jwt_claims c;
	const char *why = NULL;
	char pay[128];

	snprintf(pay, sizeof pay, "{\"exp\":%d}", NOW - WSB_JWT_LEEWAY_S - 1);
	T_CHECK(verify(mk(HS, pay, KEY, NULL), &c, &why) < 0);
	T_STREQ(why, "JWT expired");
	snprintf(pay, sizeof pay, "{\"exp\":%d}", NOW - WSB_JWT_LEEWAY_S + 1);	/* within the leeway */
	T_CHECK(verify(mk(HS, pay, KEY, NULL), &c, &why) == 0);
	snprintf(pay, sizeof pay, "{\"nbf\":%d}", NOW + WSB_JWT_LEEWAY_S + 1);
	T_CHECK(verify(mk(HS, pay, KEY, NULL), &c, &why) < 0);
	T_STREQ(why, "JWT not yet valid");
	snprintf(pay, sizeof pay, "{\"nbf\":%d}", NOW + WSB_JWT_LEEWAY_S);
	T_CHECK(verify(mk(HS, pay, KEY, NULL), &c, &why) == 0);
	T_CHECK(verify(mk(HS, "{\"exp\":\"tomorrow\"}", KEY, NULL), &c, &why) < 0);
	T_STREQ(why, "JWT exp is not a number");
}

static void test_refused(void)
{
	struct wsb_jwt_claims c;
	const char *why = NULL;
	char tok[4096];

	T_CHECK(verify(mk(HS, "{}", "another secret of the same size!", NULL), &c, &why) < 0);
	T_STREQ(why, "JWT signature does not match");
	/* Payload changed after signing. */
	snprintf(tok, sizeof tok, "%s", mk(HS, "{\"scope\":\"sub\"}", KEY, NULL));
	T_CHECK(verify(tok, &c, &why) == 0);
	memcpy(tok, mk(HS, "{\"scope\":\"pub\"}", KEY, NULL), strrchr(tok, '.') - tok);	/* same length */
	T_CHECK(verify(tok, &c, &why) < 0);
	T_STREQ(why, "JWT signature does not match");
	/* alg none, with or without a signature; other algorithms. */
	T_CHECK(verify(mk("{\"alg\":\"none\"}", "{}", KEY, ""), &c, &why) < 0);
	T_STREQ(why, "JWT alg must be HS256");
	T_CHECK(verify(mk("{\"alg\":\"none\"}", "{}", KEY, NULL), &c, &why) < 0);
	T_STREQ(why, "JWT alg must be HS256");
	T_CHECK(verify(mk("{\"alg\":\"HS512\"}", "{}", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk("{\"alg\":\"hs256\"}", "{}", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk("{\"alg\":\"RS256\"}", "{}", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk("{\"typ\":\"JWT\"}", "{}", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk("{\"alg\":\"HS256\",\"crit\":[\"x\"]}", "{}", KEY, NULL), &c, &why) < 0);
	/* shapes */
	T_CHECK(verify("abc", &c, &why) < 0 && !strcmp(why, "malformed JWT"));
	T_CHECK(verify("a.b.c.d", &c, &why) < 0);
	T_CHECK(verify(mk(HS, "[1]", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk(HS, "not json", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk(HS, "{\"scope\":\"admin\"}", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk(HS, "{\"types\":[1]}", KEY, NULL), &c, &why) < 0);
	T_CHECK(verify(mk(HS, "{\"sub\":7}", KEY, NULL), &c, &why) < 0);
	T_CHECK(!wsb_jwt_shaped("a.b") && wsb_jwt_shaped("a.b.c") && !wsb_jwt_shaped("a.b+.c"));
}

static void test_long_subject(void)
{
	struct wsb_jwt_claims c;
	const char *why = NULL;
	char pay[256], sub[80];

	memset(sub, 'a', 70);
	sub[70] = '\0';
	snprintf(pay, sizeof pay, "{\"sub\":\"%s\"}", sub);
	T_CHECK(verify(mk(HS, pay, KEY, NULL), &c, &why) == 0);
	T_CHECK(c.has_sub && c.sub[0] == '\0');	/* may hold no producer id */
}

int main(void)
{
	T_RUN(test_b64url);
	T_RUN(test_valid);
	T_RUN(test_times);
	T_RUN(test_refused);
	T_RUN(test_long_subject);
	return t_done();
}

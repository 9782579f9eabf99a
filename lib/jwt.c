#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "envelope.h"

#define PART_MAX 2048			/* decoded header or payload */

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

long wsb_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	unsigned long acc = 0;
	size_t o = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one token, one spelling. */
	if (bits && (acc & ((1ul << bits) - 1)))
		return -1;
	return (long)o;
}

size_t wsb_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	unsigned long acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = tab[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = tab[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return o;
}

int wsb_jwt_shaped(const char *tok)
{
	int dots = 0;

	for (const char *p = tok; *p; p++) {
		if (*p == '.')
			dots++;
		else if (b64val((unsigned char)*p) < 0)
			return 0;
	}
	return dots == 2;
}

/* One part decoded and compacted (envelope.h), so members can be looked up. */
static int part_json(const char *in, size_t n, char *out, size_t *len)
{
	unsigned char raw[PART_MAX];
	long m = wsb_b64url_decode(in, n, raw, sizeof raw);
	struct wsb_env env;
	struct wsb_err err;
	ssize_t r;

	if (m <= 0)
		return -1;
	r = wsb_env_parse((const char *)raw, (size_t)m, out, NULL, &env, &err);
	if (r < 0)
		return -1;
	*len = (size_t)r;
	return 0;
}

static int header_ok(const char *h, size_t n, const char **why)
{
	struct wsb_span v;
	char alg[16];

	if (!wsb_env_lookup(h, n, "alg", &v) || wsb_env_string(h + v.off, v.len, alg, sizeof alg) < 0 ||
	    strcmp(alg, "HS256")) {
		*why = "JWT alg must be HS256";
		return -1;
	}
	if (wsb_env_lookup(h, n, "crit", &v)) {
		*why = "JWT has critical header parameters";
		return -1;
	}
	return 0;
}

static int sig_ok(const unsigned char *key, size_t keylen, const char *tok, size_t signed_len,
		  const char *sig, size_t sn)
{
	unsigned char mac[EVP_MAX_MD_SIZE], given[64];
	unsigned int ml = 0;
	long gl = wsb_b64url_decode(sig, sn, given, sizeof given);

	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)tok, signed_len, mac, &ml))
		return 0;
	return gl == (long)ml && ml == 32 && CRYPTO_memcmp(mac, given, ml) == 0;
}

/* A NumericDate claim: 1 and *t if present and a number, 0 if absent, -1
 * if of another kind. */
static int num_claim(const char *p, size_t n, const char *name, double *t)
{
	struct wsb_span v;
	char buf[40], *end;

	if (!wsb_env_lookup(p, n, name, &v))
		return 0;
	if (v.len >= sizeof buf || !strchr("-0123456789", p[v.off]))
		return -1;
	memcpy(buf, p + v.off, v.len);
	buf[v.len] = '\0';
	*t = strtod(buf, &end);
	return *end ? -1 : 1;
}

static int time_ok(const char *p, size_t n, int64_t now, const char **why)
{
	double t;
	int r = num_claim(p, n, "exp", &t);

	if (r < 0 || (r > 0 && t <= (double)(now - WSB_JWT_LEEWAY_S))) {
		*why = r < 0 ? "JWT exp is not a number" : "JWT expired";
		return -1;
	}
	r = num_claim(p, n, "nbf", &t);
	if (r < 0 || (r > 0 && t > (double)(now + WSB_JWT_LEEWAY_S))) {
		*why = r < 0 ? "JWT nbf is not a number" : "JWT not yet valid";
		return -1;
	}
	return 0;
}

static int add_glob(void *ud, const char *s, size_t n, int too_long)
{
	struct wsb_err err;

	return too_long || strlen(s) != n ? -1 : wsb_scope_add_type(ud, s, &err);
}

/* "scope" and "types" into c->scope; "sub" into c->sub. */
static int scope_claims(const char *p, size_t n, struct wsb_jwt_claims *c, const char **why)
{
	char buf[WSB_SCOPE_TYPES_MAX];
	struct wsb_span v;
	struct wsb_err err;
	ssize_t l;
	size_t skipped = 0;

	wsb_scope_all(&c->scope);
	*why = "JWT scope or types claim not usable";
	if (wsb_env_lookup(p, n, "scope", &v) &&
	    ((l = wsb_env_string(p + v.off, v.len, buf, sizeof buf)) < 0 ||
	     wsb_scope_parse_may(buf, (size_t)l, &c->scope.may, &err) < 0))
		return -1;
	if (wsb_env_lookup(p, n, "types", &v)) {
		if (p[v.off] == '"') {
			if ((l = wsb_env_string(p + v.off, v.len, buf, sizeof buf)) < 0 ||
			    wsb_scope_set_types(&c->scope, buf, (size_t)l, &err) < 0)
				return -1;
		} else if (wsb_env_strings(p + v.off, v.len, add_glob, &c->scope, &skipped) <= 0 || skipped) {
			return -1;
		}
	}
	c->has_sub = 0;
	if (wsb_env_lookup(p, n, "sub", &v)) {
		if (wsb_env_string(p + v.off, v.len, buf, sizeof buf) < 0) {
			*why = "JWT sub claim not usable";
			return -1;
		}
		c->has_sub = 1;
		/* Cut, a longer subject would grant the ids of a shorter one:
		 * such a token may hold no producer id at all. */
		if (strlen(buf) < sizeof c->sub)
			memcpy(c->sub, buf, strlen(buf) + 1);
		else
			c->sub[0] = '\0';
	}
	return 0;
}

int wsb_jwt_verify(const unsigned char *key, size_t keylen, const char *tok, int64_t now,
		   struct wsb_jwt_claims *c, const char **why)
{
	const char *d1, *d2;
	char hdr[PART_MAX], pay[PART_MAX];
	size_t hn, pn, n = strlen(tok);

	*why = "malformed JWT";
	if (n > WSB_JWT_MAX || !wsb_jwt_shaped(tok))
		return -1;
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	if (part_json(tok, (size_t)(d1 - tok), hdr, &hn) < 0)
		return -1;
	if (header_ok(hdr, hn, why) < 0)
		return -1;
	if (!sig_ok(key, keylen, tok, (size_t)(d2 - tok), d2 + 1, n - (size_t)(d2 + 1 - tok))) {
		*why = "JWT signature does not match";
		return -1;
	}
	*why = "malformed JWT";
	if (part_json(d1 + 1, (size_t)(d2 - d1 - 1), pay, &pn) < 0 || pay[0] != '{')
		return -1;
	if (time_ok(pay, pn, now, why) < 0 || scope_claims(pay, pn, c, why) < 0)
		return -1;
	*why = NULL;
	return 0;
}

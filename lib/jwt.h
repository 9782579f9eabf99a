/* jwt — verifying HS256 JSON Web Tokens (RFC 7519) for the door: base64url,
 * HMAC-SHA256 (OpenSSL), a constant-time signature compare, and the claims
 * wsbridge reads. Pure: the clock is the caller's; the secret never leaves.
 *
 * Refused: anything but three base64url parts; a header whose "alg" is not
 * exactly "HS256" ("none" and every other algorithm, whatever the
 * signature) or that has "crit"; a signature that does not match; "exp" at
 * or before now - leeway; "nbf" after now + leeway; claims of the wrong
 * JSON kind. Read: "scope" ("pub sub", "pub,sub"), "types" (an array of
 * globs or one comma-separated string) and "sub" (the producer id prefix,
 * scope.h).
 */
#ifndef WSB_JWT_H
#define WSB_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "scope.h"

#define WSB_JWT_MAX 4096		/* bytes of a token we look at */
#define WSB_JWT_LEEWAY_S 30		/* clock skew allowed on exp and nbf */

struct wsb_jwt_claims {
	struct wsb_scope scope;		/* "scope" and "types"; everything when absent */
	int has_sub;
	char sub[WSB_PRODUCER_ID_MAX + 1];	/* "sub", cut at the id length */
};

/* 1 if tok has the shape of a JWT (three base64url parts). */
int wsb_jwt_shaped(const char *tok);
/* Verifies tok with key at now (seconds since the epoch). 0 and the claims,
 * or -1 and *why: a short reason for the client and the log that never
 * quotes the token ("JWT expired", "JWT alg must be HS256", ...). */
int wsb_jwt_verify(const unsigned char *key, size_t keylen, const char *tok, int64_t now,
		   struct wsb_jwt_claims *c, const char **why);
/* base64url without padding: decoded length, or -1 (bad character,
 * impossible length, or more than cap bytes). */
long wsb_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);
/* Encodes n bytes into out (cap >= 4 * n / 3 + 2), NUL-terminated; the length. */
size_t wsb_b64url_encode(const unsigned char *in, size_t n, char *out);

#endif

/* access — the server's credentials, and who may do what with each:
 * --token, the lines of --token-file with their scopes, and HS256 JWTs
 * signed with --jwt-secret-file. Loaded whole or not at all (a reload that
 * fails keeps the previous set: the caller swaps only on success). Secrets
 * never reach an error message or a log line; what is refused is said
 * ("JWT expired"), never what was presented.
 *
 * --token-file: one credential per line; '#' comments and blank lines are
 * skipped. The first word is the token; optional words after it:
 *   pub | sub | pub,sub      what it may do (default both)
 *   types=GLOB[,GLOB...]     the types it may publish and subscribe to
 * A bare line is what the single --token always meant: everything.
 */
#ifndef WSB_ACCESS_H
#define WSB_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "proto.h"
#include "scope.h"

/* What the door grants one connection or request. */
struct wsb_grant {
	struct wsb_scope scope;
	int jwt;			/* from a JWT: producer ids are bound to subject */
	char subject[WSB_PRODUCER_ID_MAX + 1];	/* a JWT's "sub" ("": none) */
};

struct wsb_access;

/* From --token / --token-file / --jwt-secret-file (any may be NULL). An
 * empty set (none given) lets everyone in. NULL + err (WSB_EXIT_CONFIG,
 * naming file and line; WSB_EXIT_USAGE for --token with --token-file). */
struct wsb_access *wsb_access_load(const char *token, const char *token_file, const char *jwt_secret_file,
				   struct wsb_err *err);
void wsb_access_free(struct wsb_access *a);	/* wipes the secrets */
/* 1 if a credential is required. */
int wsb_access_on(const struct wsb_access *a);
/* "3 tokens and a JWT secret" for the log. */
void wsb_access_describe(const struct wsb_access *a, char *buf, size_t cap);
/* The credential given (NULL: none) at now (seconds since the epoch): 0
 * and *g, or -1 and *why ("authentication required", "invalid token",
 * "JWT expired", ...). Every token is compared in full, whichever matches. */
int wsb_access_check(const struct wsb_access *a, const char *given, int64_t now, struct wsb_grant *g,
		     const char **why);
/* May g hold producer id? (a JWT binds ids to its subject, scope.h) */
int wsb_grant_producer_ok(const struct wsb_grant *g, const char *id);
/* A URL query argument ("type=GLOB", "producer=ID") g does not allow: why
 * (for a 403), else NULL. */
const char *wsb_grant_arg(const struct wsb_grant *g, const char *arg);

#endif

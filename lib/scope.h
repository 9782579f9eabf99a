/* scope — what one credential allows: publishing, subscribing, and the
 * types both are limited to. A token-file line or a JWT's claims become a
 * scope at the door; the broker gets it as data with the join (broker.h)
 * and asks only the questions below. Pure, no I/O.
 *
 * Types are globs ('*', '?', as match.h). A publish of type T is in scope
 * when some glob matches T. A subscription pattern P is in scope when every
 * type P can match is matched by one glob: checked symbolically (a glob's
 * '*' may absorb any part of P, its '?' one byte or '?' of P, a literal only
 * the same literal), which is sound and exact for the usual cases
 * ("order*" covers "order.*" and "order.new", not "*" or "ord*").
 */
#ifndef WSB_SCOPE_H
#define WSB_SCOPE_H

#include <stddef.h>

#include "err.h"

enum { WSB_SCOPE_PUB = 1, WSB_SCOPE_SUB = 2 };
#define WSB_SCOPE_TYPES_MAX 512	/* bytes of the comma-separated globs */

struct wsb_scope {
	unsigned may;			/* WSB_SCOPE_PUB | WSB_SCOPE_SUB */
	char types[WSB_SCOPE_TYPES_MAX];	/* "order*,tick"; "": every type */
};

/* Everything: what a bare token allows. */
void wsb_scope_all(struct wsb_scope *s);
/* "pub", "sub", "pub,sub" (also space-separated, as OAuth scopes are):
 * the bits into *may. 0, or -1 + err naming the unknown word. */
int wsb_scope_parse_may(const char *list, size_t n, unsigned *may, struct wsb_err *err);
/* Sets the type globs from "g1,g2" (n bytes). 0, or -1 + err (an empty or
 * invalid glob, or more than WSB_SCOPE_TYPES_MAX bytes). */
int wsb_scope_set_types(struct wsb_scope *s, const char *globs, size_t n, struct wsb_err *err);
/* Appends one glob (a JWT's "types" array). 0 or -1 + err. */
int wsb_scope_add_type(struct wsb_scope *s, const char *glob, struct wsb_err *err);
/* Glob i of the type list into buf: its length, or -1 past the last (and
 * for a scope of every type). */
int wsb_scope_glob(const struct wsb_scope *s, size_t i, char *buf, size_t cap);

int wsb_scope_may_publish(const struct wsb_scope *s, const char *type);
/* The scope allows subscribing and covers every type pattern can match. */
int wsb_scope_may_subscribe(const struct wsb_scope *s, const char *pattern);
/* Does every string glob g matches also match cover? (the check above) */
int wsb_scope_glob_covers(const char *cover, const char *g);
/* A producer id a credential with this subject may hold: any when subject
 * is NULL (a token), none when it is "" (a JWT without "sub"), else the
 * subject itself or the subject followed by '.' or ':' and more
 * (wsbridge-pub --producer alice sends alice:RUN). */
int wsb_scope_producer_ok(const char *subject, const char *id);

#endif

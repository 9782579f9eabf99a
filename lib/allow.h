/* allow — what one session may do, a piece of the broker (broker.h): its
 * scope (the door's grant, scope.h) and its rate (ratelimit.h). It
 * decides and words the refusal; the broker sends it. Pure, no I/O.
 */
#ifndef WSB_ALLOW_H
#define WSB_ALLOW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ratelimit.h"
#include "scope.h"
#include "sessions.h"

/* At join: s keeps scope (NULL: everything; kept, not copied, so it must
 * outlive s); URL patterns must lie within it (-1 + err WSB_EXIT_NOPERM), and a session that named none starts with
 * the scope's types (or nothing, when it may not subscribe) rather than
 * "all types". Subscribe requests are held to it through s->subs.scope. */
int wsb_allow_join(struct wsb_sess *s, const struct wsb_scope *scope, const char *const *types, size_t ntypes,
		   int subscribe_none, struct wsb_err *err);
/* NULL if s may publish type, else the error code (FORBIDDEN) and text:
 * a read-only session (a browser under --browsers-read-only) may not, nor
 * one whose scope leaves type out. */
const char *wsb_allow_publish(const struct wsb_sess *s, const char *type, char *text, size_t cap);

enum { WSB_ALLOW_OK, WSB_ALLOW_SAY, WSB_ALLOW_QUIET };
/* A publish at now_ms spends a token of s's bucket and of its producer
 * id's. OK; SAY: refused, the first of a run (text for the log too);
 * QUIET: refused again. With pause nothing is refused: the tokens are
 * spent into debt and *wait_ms says how long not to read s (0: no need). */
int wsb_allow_rate(struct wsb_sess *s, const struct wsb_rate *r, int pause, uint64_t now_ms, uint64_t *wait_ms,
		   char *text, size_t cap);

#endif

/* subs — one session's subscription set: its type patterns, the
 * subscribe/unsubscribe requests that change it, the "subscribed" reply.
 *
 * Every pattern costs a glob match per published message, and the reply
 * lists them all, so both are bounded per session: WSB_PATTERNS_MAX
 * patterns, WSB_SUBS_BYTES of them as JSON (the reply then always fits
 * WSB_REPLY_MAX). A request is checked whole and applied all or nothing, so
 * it gets one answer however many patterns it holds. Pure, no I/O.
 */
#ifndef WSB_SUBS_H
#define WSB_SUBS_H

#include "err.h"
#include "match.h"
#include "msg.h"
#include "proto.h"	/* WSB_PATTERNS_MAX */

#define WSB_REPLY_MAX 8192	/* bytes of any reply: greeting, error, subscribed */
#define WSB_SUBS_BYTES (WSB_REPLY_MAX - 256)

struct wsb_subs {
	struct wsb_patterns pats;
	size_t bytes;		/* escaped patterns + commas: the reply's list */
};

void wsb_subs_init(struct wsb_subs *s);	/* "all types" */
void wsb_subs_free(struct wsb_subs *s);
int wsb_subs_active(const struct wsb_subs *s);	/* matches some type */
/* 0, or -1 + err (USAGE: invalid or too many; OSERR), the set unchanged. */
int wsb_subs_add(struct wsb_subs *s, const char *pat, struct wsb_err *err);
void wsb_subs_none(struct wsb_subs *s);
/* A subscribe (unsub 0) or unsubscribe request. 0: answer with
 * wsb_subs_reply (no "types": the set is unchanged); -1: the set is
 * unchanged, answer error *code with err. */
int wsb_subs_request(struct wsb_subs *s, const char *obj, size_t len, int unsub,
		     const char **code, struct wsb_err *err);
/* Does the set want type? A probe ("$probe.<id>") only if it names a
 * "$probe" pattern itself: never a set that takes everything. */
int wsb_subs_wants(const struct wsb_subs *s, const char *type, int probe);
struct wsb_msg *wsb_subs_reply(const struct wsb_subs *s);	/* sealed; NULL: ENOMEM */

#endif

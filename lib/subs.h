/* subs — one session's subscription set: its type patterns, its symbols,
 * the subscribe/unsubscribe requests that change them, the "subscribed"
 * reply, and the one rule that says whether a message is wanted.
 *
 * Every pattern is memory in fan-out's type index (typeidx.h), and the
 * reply lists them all, so both are bounded per session: WSB_PATTERNS_MAX
 * patterns, WSB_SUBS_BYTES of them as JSON; the same bounds hold for
 * symbols (the reply then always fits WSB_REPLY_MAX). A request is checked
 * whole and applied all or nothing, so it gets one answer however many
 * patterns it holds.
 *
 * Symbols are what the dashboards of the systems wsbridge replaces send
 * ({"type":"subscribe","symbols":["AAPL"]}): exact strings compared with a
 * message's symbol, the string at the broker's symbol key (--symbol-key, a
 * path of member names such as .data.symbol). A message without a string
 * there passes any symbol set; "*" (the initial set) means every symbol.
 * Pure, no I/O.
 */
#ifndef WSB_SUBS_H
#define WSB_SUBS_H

#include "err.h"
#include "match.h"
#include "msg.h"
#include "proto.h"	/* WSB_PATTERNS_MAX */
#include "scope.h"

#define WSB_REPLY_MAX 16384	/* bytes of any reply: greeting, error, subscribed */
#define WSB_SUBS_BYTES (8192 - 256)	/* each list of a "subscribed" reply */
#define WSB_SYMBOL_MAX WSB_TYPE_MAX	/* bytes in a decoded symbol */
#define WSB_SYMKEY_DEPTH 8		/* members in a symbol key path */
#define WSB_SYMKEY_NAME 64		/* bytes in one of them */

struct wsb_subs {
	struct wsb_patterns pats;
	size_t bytes;		/* escaped patterns + commas: the reply's list */
	/* NULL, or what a subscribe request may ask for: a pattern outside it
	 * refuses the request with FORBIDDEN (scope.h) */
	const struct wsb_scope *scope;
	struct wsb_patterns syms;	/* exact symbols; .all: every symbol */
	size_t sym_bytes;
};

/* Where a message's symbol is: ".data.symbol" as member names. */
struct wsb_symkey {
	size_t n;
	char name[WSB_SYMKEY_DEPTH][WSB_SYMKEY_NAME + 1];
};

/* A message's symbol, looked up once however many sessions ask (lazily:
 * only sessions with a symbol set pay for it). */
struct wsb_symcache {
	const struct wsb_symkey *key;	/* NULL: messages have no symbol */
	const char *obj;
	size_t len;
	int state;			/* 0 not looked up, 1 none, 2 v, 3 too long */
	char v[WSB_SYMBOL_MAX + 1];
};

void wsb_subs_init(struct wsb_subs *s);	/* "all types", every symbol */
void wsb_subs_free(struct wsb_subs *s);
int wsb_subs_active(const struct wsb_subs *s);	/* matches some type */
/* 0, or -1 + err (USAGE: invalid or too many; OSERR), the set unchanged. */
int wsb_subs_add(struct wsb_subs *s, const char *pat, struct wsb_err *err);
void wsb_subs_none(struct wsb_subs *s);
/* A subscribe (unsub 0) or unsubscribe request. 0: answer with
 * wsb_subs_reply (no "types": the set is unchanged); -1: the set is
 * unchanged, answer error *code with err (FORBIDDEN: a pattern outside
 * the scope). */
void wsb_subs_none(struct wsb_subs *s);	/* no type at all (symbols kept) */
/* A subscribe (unsub 0) or unsubscribe request, with "types", "symbols",
 * both or neither. 0: answer with wsb_subs_reply(s, *what) (*what: which
 * lists the request named, WSB_SUBS_TYPES when none); -1: nothing changed,
 * answer error *code with err. */
enum { WSB_SUBS_TYPES = 1, WSB_SUBS_SYMBOLS = 2 };
int wsb_subs_request(struct wsb_subs *s, const char *obj, size_t len, int unsub,
		     unsigned *what, const char **code, struct wsb_err *err);
/* Does the set want a message of type (and of the symbol c finds; c NULL:
 * symbols not considered)? A probe ("$probe.<id>") only if the set names a
 * "$probe" pattern itself: never a set that takes everything. */
int wsb_subs_wants(const struct wsb_subs *s, const char *type, int probe,
		   struct wsb_symcache *c);
/* The type half of wsb_subs_wants. */
int wsb_subs_type_wanted(const struct wsb_subs *s, const char *type, int probe);
/* The symbol half of wsb_subs_wants, for a caller that knows the type
 * matched (fan-out's type index, typeidx.h). */
int wsb_subs_wants_symbol(const struct wsb_subs *s, struct wsb_symcache *c);
/* {"type":"subscribed","types":[...],"symbols":[...]} with the lists in
 * what; sealed; NULL: ENOMEM. */
struct wsb_msg *wsb_subs_reply(const struct wsb_subs *s, unsigned what);

/* ".data.symbol" (jq's member syntax: '.' then [A-Za-z_][A-Za-z0-9_]*, at
 * most WSB_SYMKEY_DEPTH of them). 0, or -1 + err (USAGE). */
int wsb_symkey_parse(struct wsb_symkey *k, const char *path, struct wsb_err *err);
void wsb_symcache_init(struct wsb_symcache *c, const struct wsb_symkey *key, const char *obj,
		       size_t len);

/* What one reader (a session's history or snapshot read) wants: its set,
 * the broker's symbol key, whether it asked for the producer stamp, and
 * its ?filter= (pass, NULL: none), asked only about messages the set
 * wants. */
struct wsb_want {
	const struct wsb_subs *subs;
	const struct wsb_symkey *key;
	int stamp;
	int (*pass)(void *ud, const struct wsb_msg *m);
	void *ud;
};
/* wsb_subs_wants for a stored message (its type read from its JSON), then
 * wsb_want_pass. */
int wsb_want_msg(const struct wsb_want *w, const struct wsb_msg *m);
/* Whether w's filter passes m (no filter: 1). */
int wsb_want_pass(const struct wsb_want *w, const struct wsb_msg *m);
/* The form of m w reads (msg.h: wsb_msg_form); NULL: ENOMEM. */
struct wsb_msg *wsb_want_form(const struct wsb_want *w, struct wsb_msg *m);

#endif

/* match — type subscriptions: glob patterns ('*' any run of bytes, '?' one
 * byte, no escapes) and a subscriber's set of them. Pure, no I/O. */
#ifndef WSB_MATCH_H
#define WSB_MATCH_H

#include <stddef.h>

#include "err.h"

int wsb_match_glob(const char *pat, const char *s);	/* 1 if s matches pat */
/* 1 if pat is usable: 1..WSB_TYPE_MAX bytes, no control characters; else 0
 * and a reason in err. */
int wsb_match_pattern_ok(const char *pat, struct wsb_err *err);

/* A set of patterns. A new set is "all": it matches every type, as the
 * systems wsbridge replaces broadcast everything. The first add makes it an
 * explicit set; removing the last pattern leaves an empty set, which matches
 * nothing (so unsubscribing never silently turns into "everything"). */
struct wsb_patterns {
	char **v;
	size_t n, cap;
	int all;
};

void wsb_patterns_init(struct wsb_patterns *p);
int wsb_patterns_add(struct wsb_patterns *p, const char *pat);	/* 1 added, 0 already there, -1 ENOMEM */
int wsb_patterns_remove(struct wsb_patterns *p, const char *pat); /* 1 removed, 0 absent */
int wsb_patterns_match(const struct wsb_patterns *p, const char *type);
void wsb_patterns_free(struct wsb_patterns *p);

#endif

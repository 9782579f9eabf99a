/* typeidx — who may want a message of a given type, found without asking
 * every subscriber: the broker's fan-out index over the sessions' pattern
 * sets (match.h).
 *
 * Each member (an opaque pointer: the broker's session) registers its set
 * with wsb_typeidx_set whenever the set may have changed (the index keeps
 * its own copy and applies the difference). A type is then answered from
 * three places: the members whose set is "all"; the members with that exact
 * pattern (no '*' or '?'), looked up by hash; and the members with a glob
 * that matches it, computed by matching every glob once for that type and
 * cached per distinct type until a glob is added or removed anywhere (an
 * exact pattern changes nothing cached). So the cost per message is one
 * lookup plus one pointer per member found, whatever the number of
 * patterns, once each type has been seen.
 *
 * The answer is exactly wsb_patterns_match's, each member once; with probe
 * it is subs.h's probe rule (only "$probe" patterns, never an "all" set).
 * It says nothing of symbols, filters or anything else a member decides
 * itself: the caller still checks those.
 *
 * Out of memory while registering makes the index unusable (it cannot know
 * whom it missed): wsb_typeidx_find then says so, and the caller asks every
 * member itself, as it would without the index. The cache is bounded
 * (WSB_TYPEIDX_CACHE_TYPES types, WSB_TYPEIDX_CACHE_PTRS members in all
 * its lists) and starts over when full; if it cannot allocate, find matches
 * the globs without caching. find never fails otherwise and never
 * allocates for its answer. Pure, single-threaded, no I/O.
 */
#ifndef WSB_TYPEIDX_H
#define WSB_TYPEIDX_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"

#define WSB_TYPEIDX_CACHE_TYPES 4096
#define WSB_TYPEIDX_CACHE_PTRS (1u << 20)

struct wsb_typeidx_member;
struct wsb_typeidx_ent;
struct wsb_typeidx_all {
	struct wsb_typeidx_member *x;
	void *who;
};

struct wsb_typeidx_map {
	struct wsb_typeidx_ent **b;
	size_t nb, n;
};

struct wsb_typeidx {
	struct wsb_typeidx_map exact, cache;
	/* the lists find copies hold who itself: no member record is read */
	struct wsb_typeidx_all *all;	/* "all" sets */
	struct wsb_typeidx_member **globs;	/* sets with a glob */
	size_t nall, capall, nglobs, capglobs;
	/* changes whenever a glob comes or goes, or an exact pattern of a
	 * set that has globs (the cache leaves out who the exact list has) */
	uint64_t glob_gen;
	size_t members;
	size_t cached;		/* members in the cache's lists */
	void **out;		/* find's answer, room for every member */
	size_t outcap;
	int broken;		/* ENOMEM while registering: find says SIZE_MAX */
};

void wsb_typeidx_init(struct wsb_typeidx *ix);
void wsb_typeidx_free(struct wsb_typeidx *ix);	/* after every member is forgotten */
/* who's set is now p (*slot: its record, NULL before the first call;
 * the caller keeps it and passes it back). 0, or -1 on ENOMEM: the index
 * is unusable from now on (see above). */
int wsb_typeidx_set(struct wsb_typeidx *ix, struct wsb_typeidx_member **slot, void *who,
		    const struct wsb_patterns *p);
/* who leaves: its record is freed and *slot set to NULL (NULL is fine). */
void wsb_typeidx_forget(struct wsb_typeidx *ix, struct wsb_typeidx_member **slot);
/* The members whose set matches type (probe: under the probe rule), each
 * once, in *out (valid until the next call into the index); their number,
 * or SIZE_MAX when the index is unusable. */
size_t wsb_typeidx_find(struct wsb_typeidx *ix, const char *type, int probe, void *const **out);

#endif

#include "typeidx.h"

#include <stdlib.h>
#include <string.h>

struct wsb_typeidx_member {
	void *who;
	struct wsb_patterns p;	/* its own copy of the set it registered */
	size_t nglob;		/* patterns with '*' or '?' */
	size_t all_pos, glob_pos;	/* in ix->all / ix->globs, or NONE */
};

/* One key of a map: an exact pattern and its members, or a type and the
 * members a glob of theirs matches (valid while gen == ix->glob_gen). */
struct wsb_typeidx_ent {
	struct wsb_typeidx_ent *next;
	uint32_t h;
	uint64_t gen;
	void **v;		/* the members' who */
	size_t n, cap;
	char key[];
};

#define NONE SIZE_MAX

static int is_glob(const char *pat)
{
	return strpbrk(pat, "*?") != NULL;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* ---- the maps: chained, so a key can go when its last member does ---- */

static struct wsb_typeidx_ent *map_get(const struct wsb_typeidx_map *m, const char *key, uint32_t h)
{
	struct wsb_typeidx_ent *e;

	if (!m->nb)
		return NULL;
	for (e = m->b[h & (m->nb - 1)]; e; e = e->next)
		if (e->h == h && !strcmp(e->key, key))
			return e;
	return NULL;
}

static int map_grow(struct wsb_typeidx_map *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	struct wsb_typeidx_ent **b = calloc(nb, sizeof *b);

	if (!b)
		return -1;
	for (size_t i = 0; i < m->nb; i++)
		while (m->b[i]) {
			struct wsb_typeidx_ent *e = m->b[i];

			m->b[i] = e->next;
			e->next = b[e->h & (nb - 1)];
			b[e->h & (nb - 1)] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

static struct wsb_typeidx_ent *map_add(struct wsb_typeidx_map *m, const char *key, uint32_t h)
{
	size_t len = strlen(key);
	struct wsb_typeidx_ent *e;

	if (m->n >= m->nb && map_grow(m) < 0)
		return NULL;
	if (!(e = calloc(1, sizeof *e + len + 1)))
		return NULL;
	memcpy(e->key, key, len + 1);
	e->h = h;
	e->next = m->b[h & (m->nb - 1)];
	m->b[h & (m->nb - 1)] = e;
	m->n++;
	return e;
}

static void map_del(struct wsb_typeidx_map *m, struct wsb_typeidx_ent *e)
{
	struct wsb_typeidx_ent **pp = &m->b[e->h & (m->nb - 1)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	m->n--;
	free(e->v);
	free(e);
}

static void map_clear(struct wsb_typeidx_map *m)
{
	for (size_t i = 0; i < m->nb; i++)
		while (m->b[i])
			map_del(m, m->b[i]);
}

static void map_free(struct wsb_typeidx_map *m)
{
	map_clear(m);
	free(m->b);
	m->b = NULL;
	m->nb = 0;
}

/* ---- member lists ---- */

static int grow(void **v, size_t *cap, size_t n, size_t esz)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	if (!(p = realloc(*v, c * esz)))
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

static int who_push(struct wsb_typeidx_ent *e, void *who)
{
	if (grow((void **)&e->v, &e->cap, e->n, sizeof *e->v) < 0)
		return -1;
	e->v[e->n++] = who;
	return 0;
}

/* all and globs: members know their place, so removal is a swap. */
static int all_push(struct wsb_typeidx *ix, struct wsb_typeidx_member *x)
{
	if (grow((void **)&ix->all, &ix->capall, ix->nall, sizeof *ix->all) < 0)
		return -1;
	x->all_pos = ix->nall;
	ix->all[ix->nall++] = (struct wsb_typeidx_all){ x, x->who };
	return 0;
}

static void all_del(struct wsb_typeidx *ix, struct wsb_typeidx_member *x)
{
	ix->all[x->all_pos] = ix->all[--ix->nall];
	ix->all[x->all_pos].x->all_pos = x->all_pos;
	x->all_pos = NONE;
}

static int glob_push(struct wsb_typeidx *ix, struct wsb_typeidx_member *x)
{
	if (grow((void **)&ix->globs, &ix->capglobs, ix->nglobs, sizeof *ix->globs) < 0)
		return -1;
	x->glob_pos = ix->nglobs;
	ix->globs[ix->nglobs++] = x;
	return 0;
}

static void glob_del(struct wsb_typeidx *ix, struct wsb_typeidx_member *x)
{
	ix->globs[x->glob_pos] = ix->globs[--ix->nglobs];
	ix->globs[x->glob_pos]->glob_pos = x->glob_pos;
	x->glob_pos = NONE;
}

/* ---- registering ---- */

static int fail(struct wsb_typeidx *ix)
{
	ix->broken = 1;
	return -1;
}

/* One pattern of x into the index (x's copy already holds it). */
static int index_one(struct wsb_typeidx *ix, struct wsb_typeidx_member *x, const char *pat)
{
	uint32_t h;
	struct wsb_typeidx_ent *e;

	if (is_glob(pat)) {
		ix->glob_gen++;
		if (x->nglob++ == 0 && glob_push(ix, x) < 0)
			return fail(ix);
		return 0;
	}
	if (x->nglob)
		ix->glob_gen++;
	h = hash(pat);
	if (!(e = map_get(&ix->exact, pat, h)) && !(e = map_add(&ix->exact, pat, h)))
		return fail(ix);
	if (who_push(e, x->who) < 0)
		return fail(ix);
	return 0;
}

static void unindex_one(struct wsb_typeidx *ix, struct wsb_typeidx_member *x, const char *pat)
{
	uint32_t h;
	struct wsb_typeidx_ent *e;

	if (is_glob(pat)) {
		ix->glob_gen++;
		if (--x->nglob == 0)
			glob_del(ix, x);
		return;
	}
	if (x->nglob)
		ix->glob_gen++;
	h = hash(pat);
	if (!(e = map_get(&ix->exact, pat, h)))
		return;
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i] == x->who) {
			e->v[i] = e->v[--e->n];
			break;
		}
	if (!e->n)
		map_del(&ix->exact, e);
}

static int has(const struct wsb_patterns *p, const char *pat)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i], pat))
			return 1;
	return 0;
}

/* An "all" set matches whatever its list holds, so its list is not indexed. */
static void unindex_all(struct wsb_typeidx *ix, struct wsb_typeidx_member *x)
{
	if (x->p.all) {
		if (x->all_pos != NONE)
			all_del(ix, x);
	} else {
		for (size_t i = 0; i < x->p.n; i++)
			unindex_one(ix, x, x->p.v[i]);
	}
	wsb_patterns_free(&x->p);
}

static int index_all(struct wsb_typeidx *ix, struct wsb_typeidx_member *x, const struct wsb_patterns *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (wsb_patterns_add(&x->p, p->v[i]) < 0)
			return fail(ix);
	x->p.all = p->all;
	if (p->all)
		return all_push(ix, x) < 0 ? fail(ix) : 0;
	for (size_t i = 0; i < x->p.n; i++)
		if (index_one(ix, x, x->p.v[i]) < 0)
			return -1;
	return 0;
}

/* Only the difference when both are lists: a subscribe adds a pattern or
 * two to a set of up to 256, and a glob kept is a cache kept. */
static int update(struct wsb_typeidx *ix, struct wsb_typeidx_member *x, const struct wsb_patterns *p)
{
	size_t i = 0;

	if (x->p.all || p->all) {
		unindex_all(ix, x);
		return index_all(ix, x, p);
	}
	while (i < x->p.n)
		if (!has(p, x->p.v[i])) {
			unindex_one(ix, x, x->p.v[i]);
			wsb_patterns_remove(&x->p, x->p.v[i]);	/* the last one moves to i */
		} else {
			i++;
		}
	for (i = 0; i < p->n; i++) {
		int r = wsb_patterns_add(&x->p, p->v[i]);

		if (r < 0)
			return fail(ix);
		if (r > 0 && index_one(ix, x, p->v[i]) < 0)
			return -1;
	}
	x->p.all = 0;	/* an empty list stays an empty set */
	return 0;
}

static struct wsb_typeidx_member *member_new(struct wsb_typeidx *ix, void *who)
{
	struct wsb_typeidx_member *x;

	if (ix->members == ix->outcap) {
		size_t c = ix->outcap ? ix->outcap * 2 : 64;
		void **o = realloc(ix->out, c * sizeof *o);

		if (!o)
			return NULL;
		ix->out = o;
		ix->outcap = c;
	}
	if (!(x = calloc(1, sizeof *x)))
		return NULL;
	x->who = who;
	wsb_patterns_init(&x->p);
	x->p.all = 0;		/* registered as nothing until index_all */
	x->all_pos = x->glob_pos = NONE;
	ix->members++;
	return x;
}

int wsb_typeidx_set(struct wsb_typeidx *ix, struct wsb_typeidx_member **slot, void *who,
		    const struct wsb_patterns *p)
{
	if (ix->broken)
		return -1;
	if (!*slot) {
		if (!(*slot = member_new(ix, who)))
			return fail(ix);
		return index_all(ix, *slot, p);
	}
	return update(ix, *slot, p);
}

void wsb_typeidx_forget(struct wsb_typeidx *ix, struct wsb_typeidx_member **slot)
{
	struct wsb_typeidx_member *x = *slot;

	if (!x)
		return;
	unindex_all(ix, x);	/* a glob going bumps glob_gen: no cached list names x */
	if (x->glob_pos != NONE) {	/* only after ENOMEM half way */
		glob_del(ix, x);
		ix->glob_gen++;
	}
	ix->members--;
	free(x);
	*slot = NULL;
}

void wsb_typeidx_init(struct wsb_typeidx *ix)
{
	memset(ix, 0, sizeof *ix);
}

void wsb_typeidx_free(struct wsb_typeidx *ix)
{
	map_free(&ix->exact);
	map_free(&ix->cache);
	free(ix->all);
	free(ix->globs);
	free(ix->out);
	memset(ix, 0, sizeof *ix);
}

/* ---- finding ---- */

/* Whether x's globs take type, when its exact list does not already (so
 * nobody is in the answer twice). */
static int globs_match(const struct wsb_typeidx_member *x, const char *type, int probe)
{
	int hit = 0;

	for (size_t i = 0; i < x->p.n; i++) {
		const char *pat = x->p.v[i];

		if (!is_glob(pat)) {
			if (!strcmp(pat, type))
				return 0;
		} else if (!hit && (!probe || !strncmp(pat, "$probe", 6))) {
			hit = wsb_match_glob(pat, type);	/* subs.h: a probe wants "$probe" */
		}
	}
	return hit;
}

/* Every glob matched, straight into the answer: probes (each type is new,
 * so caching would only evict), and when the cache cannot allocate. */
static size_t scan(struct wsb_typeidx *ix, const char *type, int probe, size_t n)
{
	for (size_t i = 0; i < ix->nglobs; i++)
		if (globs_match(ix->globs[i], type, probe))
			ix->out[n++] = ix->globs[i]->who;
	return n;
}

/* The type's cached list, made (again) if glob_gen moved; NULL: ENOMEM. */
static struct wsb_typeidx_ent *cached(struct wsb_typeidx *ix, const char *type)
{
	uint32_t h = hash(type);
	struct wsb_typeidx_ent *e = map_get(&ix->cache, type, h);

	if (e && e->gen == ix->glob_gen)
		return e;
	if (!e) {
		if (ix->cache.n >= WSB_TYPEIDX_CACHE_TYPES || ix->cached >= WSB_TYPEIDX_CACHE_PTRS) {
			map_clear(&ix->cache);	/* start over rather than keep LRU order */
			ix->cached = 0;
		}
		if (!(e = map_add(&ix->cache, type, h)))
			return NULL;
	}
	ix->cached -= e->n;
	e->n = 0;
	for (size_t i = 0; i < ix->nglobs; i++)
		if (globs_match(ix->globs[i], type, 0) && who_push(e, ix->globs[i]->who) < 0) {
			map_del(&ix->cache, e);
			return NULL;
		}
	ix->cached += e->n;
	e->gen = ix->glob_gen;
	return e;
}

static size_t copy(struct wsb_typeidx *ix, size_t n, const struct wsb_typeidx_ent *e)
{
	if (e->n)	/* a cached list may be empty, and never allocated */
		memcpy(ix->out + n, e->v, e->n * sizeof *e->v);
	return n + e->n;
}

size_t wsb_typeidx_find(struct wsb_typeidx *ix, const char *type, int probe, void *const **out)
{
	struct wsb_typeidx_ent *e;
	size_t n = 0;

	*out = ix->out;
	if (ix->broken)
		return SIZE_MAX;
	for (size_t i = 0; !probe && i < ix->nall; i++)
		ix->out[n++] = ix->all[i].who;
	if ((e = map_get(&ix->exact, type, hash(type))))
		n = copy(ix, n, e);
	if (!ix->nglobs)
		return n;
	if (probe || !(e = cached(ix, type)))
		return scan(ix, type, probe, n);
	return copy(ix, n, e);
}

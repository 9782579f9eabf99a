#define T_SUITE "typeidx"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "subs.h"
#include "typeidx.h"

/* A member: a subscription set as the broker keeps it, and its record. */
struct mem {
	struct wsb_subs s;
	struct wsb_typeidx_member *rec;
	int live;
};

static int found(struct wsb_typeidx *ix, const char *type, int probe, const struct mem *m)
{
	void *const *v;
	size_t n = wsb_typeidx_find(ix, type, probe, &v);
	int k = 0;

	for (size_t i = 0; n != SIZE_MAX && i < n; i++)
		k += v[i] == m;
	return k;
}

static void sync(struct wsb_typeidx *ix, struct mem *m)
{
	T_CHECK(wsb_typeidx_set(ix, &m->rec, m, &m->s.pats) == 0);
}

static void add(struct wsb_typeidx *ix, struct mem *m, const char *pat)
{
	struct wsb_err err;

	T_CHECK(wsb_subs_add(&m->s, pat, &err) == 0);
	sync(ix, m);
}

static void test_exact_glob_all(void)
{
	struct wsb_typeidx ix;
	struct mem a = { 0 }, b = { 0 }, c = { 0 };

	wsb_typeidx_init(&ix);
	wsb_subs_init(&a.s);
	wsb_subs_init(&b.s);
	wsb_subs_init(&c.s);
	sync(&ix, &a);		/* "all" */
	add(&ix, &b, "trade");
	add(&ix, &c, "trade.*");
	add(&ix, &c, "t?ade");
	T_CHECK(found(&ix, "trade", 0, &a) == 1);
	T_CHECK(found(&ix, "trade", 0, &b) == 1);
	T_CHECK(found(&ix, "trade", 0, &c) == 1);	/* once, though "t?ade" and not "trade.*" */
	T_CHECK(found(&ix, "trade.btc", 0, &b) == 0);
	T_CHECK(found(&ix, "trade.btc", 0, &c) == 1);
	T_CHECK(found(&ix, "quote", 0, &a) == 1);
	T_CHECK(found(&ix, "quote", 0, &c) == 0);
	/* A probe reaches no "all" set and only "$probe" patterns. */
	T_CHECK(found(&ix, "$probe.x", 0, &a) == 1);
	T_CHECK(found(&ix, "$probe.x", 1, &a) == 0);
	add(&ix, &c, "*");
	T_CHECK(found(&ix, "$probe.x", 1, &c) == 0);
	add(&ix, &b, "$probe.*");
	T_CHECK(found(&ix, "$probe.x", 1, &b) == 1);
	add(&ix, &a, "$probe.y");	/* a is a list now: out of "all" */
	T_CHECK(found(&ix, "$probe.y", 1, &a) == 1);
	T_CHECK(found(&ix, "quote", 0, &a) == 0);
	wsb_typeidx_forget(&ix, &a.rec);
	wsb_typeidx_forget(&ix, &b.rec);
	wsb_typeidx_forget(&ix, &c.rec);
	T_CHECK(!a.rec && ix.members == 0);
	wsb_typeidx_free(&ix);
	wsb_subs_free(&a.s);
	wsb_subs_free(&b.s);
	wsb_subs_free(&c.s);
}

/* The cache must forget what a subscribe change makes untrue. */
static void test_invalidation(void)
{
	struct wsb_typeidx ix;
	struct mem a = { 0 }, b = { 0 };
	const char *code;
	unsigned what;
	struct wsb_err err;
	static const char unsub[] = "{\"type\":\"unsubscribe\",\"types\":[\"trade.*\"]}";

	wsb_typeidx_init(&ix);
	wsb_subs_init(&a.s);
	wsb_subs_init(&b.s);
	add(&ix, &a, "trade.*");
	add(&ix, &b, "quote");
	add(&ix, &b, "x*");	/* so a glob stays when a's goes */
	T_CHECK(found(&ix, "trade.btc", 0, &a) == 1);	/* cached now */
	T_CHECK(wsb_subs_request(&a.s, unsub, sizeof unsub - 1, 1, &what, &code, &err) == 0);
	sync(&ix, &a);
	T_CHECK(found(&ix, "trade.btc", 0, &a) == 0);
	add(&ix, &b, "*.btc");
	T_CHECK(found(&ix, "trade.btc", 0, &b) == 1);
	wsb_subs_none(&b.s);
	sync(&ix, &b);
	T_CHECK(found(&ix, "trade.btc", 0, &b) == 0);
	T_CHECK(found(&ix, "quote", 0, &b) == 0);
	/* Closing a session with a cached glob: nobody finds it. */
	add(&ix, &b, "trade.*");
	T_CHECK(found(&ix, "trade.eth", 0, &b) == 1);
	wsb_typeidx_forget(&ix, &b.rec);
	T_CHECK(found(&ix, "trade.eth", 0, &b) == 0);
	wsb_typeidx_forget(&ix, &a.rec);
	wsb_typeidx_free(&ix);
	wsb_subs_free(&a.s);
	wsb_subs_free(&b.s);
}

/* ---- property: the index says what matching every set says ---- */

static unsigned rnd(uint64_t *st, unsigned n)
{
	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(*st >> 33) % n;
}

/* Short strings over a small alphabet, so patterns and types collide. */
static void word(uint64_t *st, char *out, int pat)
{
	static const char alpha[] = "ab.";
	static const char *const probes[] = { "$probe", "$probe.", "$pro" };
	size_t n = 0, len = 1 + rnd(st, 5);

	if (rnd(st, 8) == 0)
		n = (size_t)sprintf(out, "%s", probes[rnd(st, 3)]);
	for (size_t i = 0; i < len; i++) {
		unsigned k = rnd(st, pat ? 10 : 6);

		out[n++] = k < 6 ? alpha[k % 3] : k < 9 ? '*' : '?';
	}
	out[n] = '\0';
}

enum { MEMBERS = 24, STEPS = 20000 };

static void check_all(struct wsb_typeidx *ix, struct mem *m, const char *type, int probe, int *bad)
{
	void *const *v;
	size_t n = wsb_typeidx_find(ix, type, probe, &v);
	int seen[MEMBERS] = { 0 };

	for (size_t i = 0; i < n; i++)
		seen[(struct mem *)v[i] - m]++;
	for (int i = 0; i < MEMBERS; i++) {
		int want = m[i].live && wsb_subs_wants(&m[i].s, type, probe, NULL);

		if (seen[i] != want && (*bad)++ < 5)
			printf("  type \"%s\" probe %d member %d: index %d, match %d\n", type, probe, i,
			       seen[i], want);
	}
}

static void step(struct wsb_typeidx *ix, struct mem *m, uint64_t *st, int *bad)
{
	struct mem *x = &m[rnd(st, MEMBERS)];
	char w[32];
	struct wsb_err err;

	unsigned op = rnd(st, 8);

	word(st, w, 1);
	if (!x->live && op)
		op = 0;		/* only joining changes a member that left */
	switch (op) {
	case 0:		/* join, or leave */
		if (x->live) {
			wsb_typeidx_forget(ix, &x->rec);
			wsb_subs_free(&x->s);
		} else {
			wsb_subs_init(&x->s);
		}
		x->live = !x->live;
		break;
	case 1:
		wsb_subs_none(&x->s);
		break;
	case 2:
	case 3:
		if (x->s.pats.n)
			wsb_patterns_remove(&x->s.pats, x->s.pats.v[rnd(st, (unsigned)x->s.pats.n)]);
		break;
	default:
		(void)wsb_subs_add(&x->s, w, &err);
	}
	if (x->live)
		T_CHECK(wsb_typeidx_set(ix, &x->rec, x, &x->s.pats) == 0);
	word(st, w, 0);
	check_all(ix, m, w, !strncmp(w, "$probe.", 7), bad);
}

/* Fixed seeds, and one from the clock (printed, to replay a failure). */
static void test_random_against_matching(void)
{
	uint64_t seeds[] = { 1, 2, 3, (uint64_t)time(NULL) };

	for (size_t k = 0; k < sizeof seeds / sizeof *seeds; k++) {
		struct wsb_typeidx ix;
		struct mem m[MEMBERS];
		uint64_t st = seeds[k];
		int bad = 0;

		memset(m, 0, sizeof m);
		wsb_typeidx_init(&ix);
		for (int i = 0; i < STEPS && bad < 5; i++)
			step(&ix, m, &st, &bad);
		if (bad)
			printf("  seed %llu\n", (unsigned long long)seeds[k]);
		T_CHECK(bad == 0);
		for (int i = 0; i < MEMBERS; i++)
			if (m[i].live) {
				wsb_typeidx_forget(&ix, &m[i].rec);
				wsb_subs_free(&m[i].s);
			}
		T_CHECK(ix.members == 0 && ix.nglobs == 0 && ix.nall == 0 && ix.exact.n == 0);
		wsb_typeidx_free(&ix);
	}
}

int main(void)
{
	T_RUN(test_exact_glob_all);
	T_RUN(test_invalidation);
	T_RUN(test_random_against_matching);
	return t_done();
}

#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

struct wsb_snap_ent {
	struct wsb_snap_ent *hnext;		/* hash chain */
	struct wsb_snap_ent *older, *newer;	/* update order */
	void *item;
	size_t cost;			/* item bytes + entry bytes */
	unsigned h;
	size_t tlen;
	long klen;			/* -1: no key */
	char kb[];			/* type, NUL, key, NUL */
};

struct wsb_snap {
	struct wsb_snap_ent **hash;
	size_t nbuckets;		/* a power of two */
	size_t max_bytes, max_entries;
	struct wsb_snap_ent *oldest, *newest;
	struct wsb_snap_stats st;
};

struct wsb_snap *wsb_snap_new(size_t max_bytes, size_t max_entries)
{
	struct wsb_snap *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->max_bytes = max_bytes;
	t->max_entries = max_entries ? max_entries : WSB_SNAP_ENTRIES_MAX;
	/* About four entries per chain at the cap, without a rehash. */
	t->nbuckets = 64;
	while (t->nbuckets < t->max_entries / 4 && t->nbuckets < 16384)
		t->nbuckets *= 2;
	t->hash = calloc(t->nbuckets, sizeof *t->hash);
	if (!t->hash) {
		free(t);
		return NULL;
	}
	return t;
}

void wsb_snap_free(struct wsb_snap *t)
{
	if (!t)
		return;
	free(t->hash);
	free(t);
}

static unsigned fnv(unsigned h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static unsigned key_hash(const char *type, size_t tlen, const char *key, long klen)
{
	unsigned h = fnv(2166136261u, type, tlen);

	/* The lengths are part of the key: ("a\0b", none) != ("a", "b"). */
	h = fnv(h, (const char *)&tlen, sizeof tlen);
	h = fnv(h, (const char *)&klen, sizeof klen);
	return klen > 0 ? fnv(h, key, (size_t)klen) : h;
}

static int ent_is(const struct wsb_snap_ent *e, unsigned h, const char *type, size_t tlen,
		  const char *key, long klen)
{
	return e->h == h && e->tlen == tlen && e->klen == klen && !memcmp(e->kb, type, tlen) &&
	       (klen <= 0 || !memcmp(e->kb + tlen + 1, key, (size_t)klen));
}

static void order_unlink(struct wsb_snap *t, struct wsb_snap_ent *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
}

static void order_push(struct wsb_snap *t, struct wsb_snap_ent *e)
{
	e->newer = NULL;
	e->older = t->newest;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
}

/* Unlinks e everywhere and frees it; returns its item. */
static void *ent_remove(struct wsb_snap *t, struct wsb_snap_ent *e)
{
	struct wsb_snap_ent **pp = &t->hash[e->h & (t->nbuckets - 1)];
	void *item = e->item;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	order_unlink(t, e);
	t->st.bytes -= e->cost;
	t->st.entries--;
	free(e);
	return item;
}

int wsb_snap_put(struct wsb_snap *t, const char *type, size_t tlen, const char *key, long klen,
		 void *item, size_t item_bytes, void **old)
{
	unsigned h = key_hash(type, tlen, key, klen);
	size_t kl = klen > 0 ? (size_t)klen : 0;
	size_t cost = item_bytes + sizeof(struct wsb_snap_ent) + tlen + kl + 2;
	struct wsb_snap_ent *e;

	*old = NULL;
	for (e = t->hash[h & (t->nbuckets - 1)]; e; e = e->hnext)
		if (ent_is(e, h, type, tlen, key, klen))
			break;
	if (cost > t->max_bytes) {
		if (e) {
			*old = ent_remove(t, e);
			t->st.evicted++;
		}
		return 0;
	}
	if (e) {
		*old = e->item;
		e->item = item;
		t->st.bytes = t->st.bytes - e->cost + cost;
		e->cost = cost;
		order_unlink(t, e);
		order_push(t, e);
		return 1;
	}
	e = malloc(sizeof *e + tlen + kl + 2);
	if (!e)
		return -1;
	e->item = item;
	e->cost = cost;
	e->h = h;
	e->tlen = tlen;
	e->klen = klen < 0 ? -1 : klen;
	memcpy(e->kb, type, tlen);
	e->kb[tlen] = '\0';
	if (kl)
		memcpy(e->kb + tlen + 1, key, kl);
	e->kb[tlen + 1 + kl] = '\0';
	e->hnext = t->hash[h & (t->nbuckets - 1)];
	t->hash[h & (t->nbuckets - 1)] = e;
	order_push(t, e);
	t->st.bytes += cost;
	t->st.entries++;
	return 1;
}

void *wsb_snap_trim(struct wsb_snap *t, int force)
{
	if (!t->oldest)
		return NULL;
	if (force)
		return ent_remove(t, t->oldest);
	if (t->st.bytes <= t->max_bytes && t->st.entries <= t->max_entries)
		return NULL;
	t->st.evicted++;
	return ent_remove(t, t->oldest);
}

const struct wsb_snap_ent *wsb_snap_oldest(const struct wsb_snap *t)
{
	return t->oldest;
}

const struct wsb_snap_ent *wsb_snap_newer(const struct wsb_snap_ent *e)
{
	return e->newer;
}

void *wsb_snap_item(const struct wsb_snap_ent *e)
{
	return e->item;
}

const char *wsb_snap_type(const struct wsb_snap_ent *e, size_t *tlen)
{
	if (tlen)
		*tlen = e->tlen;
	return e->kb;
}

void wsb_snap_stats(const struct wsb_snap *t, struct wsb_snap_stats *st)
{
	*st = t->st;
}

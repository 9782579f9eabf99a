#include "snapread.h"

void wsb_snap_update(struct wsb_snap *t, struct wsb_msg *m, const char *type, size_t tlen,
		     const char *key, long klen)
{
	void *old;

	if (wsb_snap_put(t, type, tlen, key, klen < 0 ? -1 : klen, m, m->len, &old) == 1)
		m->refs++;
	wsb_msg_unref(old);
	while ((old = wsb_snap_trim(t, 0)))
		wsb_msg_unref(old);
}

void wsb_snap_drain(struct wsb_snap *t)
{
	void *old;

	if (!t)
		return;
	while ((old = wsb_snap_trim(t, 1)))
		wsb_msg_unref(old);
	wsb_snap_free(t);
}

/* The entry's type is at hand; the symbol, when the set has any, is read
 * from the message. */
static int ent_matches(const struct wsb_snap_ent *e, const struct wsb_want *w)
{
	const struct wsb_msg *m = wsb_snap_item(e);
	struct wsb_symcache c;
	size_t len;
	const char *obj = wsb_msg_json(m, &len);

	wsb_symcache_init(&c, w->key, obj, len);
	return wsb_subs_wants(w->subs, wsb_snap_type(e, NULL), 0, &c);
}

size_t wsb_snap_bytes_for(const struct wsb_snap *t, const struct wsb_want *w)
{
	const struct wsb_snap_ent *e;
	size_t total = 0;

	for (e = wsb_snap_oldest(t); e; e = wsb_snap_newer(e))
		if (ent_matches(e, w))
			total += ((struct wsb_msg *)wsb_snap_item(e))->len;
	return total;
}

struct wsb_msg *wsb_snap_next(const struct wsb_snap *t, const struct wsb_want *w,
			      const struct wsb_snap_ent **e)
{
	*e = *e ? wsb_snap_newer(*e) : wsb_snap_oldest(t);
	while (*e && !(ent_matches(*e, w) && wsb_want_pass(w, wsb_snap_item(*e))))
		*e = wsb_snap_newer(*e);
	return *e ? wsb_snap_item(*e) : NULL;
}

int wsb_snap_read(const struct wsb_snap *t, const struct wsb_want *w, uint64_t *from,
		  uint64_t end, struct wsb_out *o, uint64_t *frames)
{
	const struct wsb_snap_ent *e;

	for (e = wsb_snap_oldest(t); e; e = wsb_snap_newer(e)) {
		struct wsb_msg *m = wsb_snap_item(e);

		if (m->seq <= *from)
			continue;
		if (m->seq > end)
			break;
		if (ent_matches(e, w) && m->len <= o->hard && wsb_want_pass(w, m)) {
			struct wsb_msg *f = wsb_want_form(w, m);

			if (!f || !wsb_out_put(o, f))
				return 1;
			++*frames;
		}
		*from = m->seq;
	}
	return 0;
}

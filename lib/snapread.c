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

static int ent_matches(const struct wsb_snap_ent *e, const struct wsb_patterns *pats)
{
	return wsb_patterns_match(pats, wsb_snap_type(e, NULL));
}

size_t wsb_snap_bytes_for(const struct wsb_snap *t, const struct wsb_patterns *pats)
{
	const struct wsb_snap_ent *e;
	size_t total = 0;

	for (e = wsb_snap_oldest(t); e; e = wsb_snap_newer(e))
		if (ent_matches(e, pats))
			total += ((struct wsb_msg *)wsb_snap_item(e))->len;
	return total;
}

struct wsb_msg *wsb_snap_next(const struct wsb_snap *t, const struct wsb_patterns *pats,
			      const struct wsb_snap_ent **e)
{
	*e = *e ? wsb_snap_newer(*e) : wsb_snap_oldest(t);
	while (*e && !ent_matches(*e, pats))
		*e = wsb_snap_newer(*e);
	return *e ? wsb_snap_item(*e) : NULL;
}

int wsb_snap_read(const struct wsb_snap *t, const struct wsb_patterns *pats,
		  int (*pass)(void *ud, const struct wsb_msg *m), void *ud, uint64_t *from,
		  uint64_t end, struct wsb_out *o, uint64_t *frames)
{
	const struct wsb_snap_ent *e;

	for (e = wsb_snap_oldest(t); e; e = wsb_snap_newer(e)) {
		struct wsb_msg *m = wsb_snap_item(e);

		if (m->seq <= *from)
			continue;
		if (m->seq > end)
			break;
		if (ent_matches(e, pats) && m->len <= o->hard && (!pass || pass(ud, m))) {
			if (!wsb_out_put(o, m))
				return 1;
			++*frames;
		}
		*from = m->seq;
	}
	return 0;
}

/* snapread — the snapshot table (snapshot.h) holding broker messages, and
 * its read-out for ?snapshot=1.
 *
 * The table holds a ref on each message it keeps and hands back whatever it
 * lets go of; these functions release those refs, so the broker never sees
 * an item. A snapshot bigger than one queue is read in pieces as the socket
 * drains: entries with seq in (*from, end], oldest update first. Entries
 * updated after the join have a later seq and come from history instead.
 */
#ifndef WSB_SNAPREAD_H
#define WSB_SNAPREAD_H

#include "msg.h"
#include "snapshot.h"
#include "subs.h"

/* m becomes the latest for (type, key); klen < 0: no key. */
void wsb_snap_update(struct wsb_snap *t, struct wsb_msg *m, const char *type, size_t tlen,
		     const char *key, long klen);
/* Releases every entry, then the table. NULL is fine. */
void wsb_snap_drain(struct wsb_snap *t);
/* Bytes of the entries w wants (their stamped form). */
size_t wsb_snap_bytes_for(const struct wsb_snap *t, const struct wsb_want *w);
/* Walks the wanted messages oldest first (stamped form: see
 * wsb_want_form), to queue a small snapshot at once: *e NULL starts; NULL
 * when done. */
struct wsb_msg *wsb_snap_next(const struct wsb_snap *t, const struct wsb_want *w,
			      const struct wsb_snap_ent **e);
/* Wanted entries, in w's form, with seq in (*from, end] into o while they fit; *from
 * advances, *frames counts them. 1 while some remain, 0 when done. */
int wsb_snap_read(const struct wsb_snap *t, const struct wsb_want *w, uint64_t *from,
		  uint64_t end, struct wsb_out *o, uint64_t *frames);

#endif

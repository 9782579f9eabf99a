/* snapshot — the latest message per type (and --snapshot-key value), for
 * ?snapshot=1, bounded in bytes and entries.
 *
 * A key is (type, key) compared by length, so a NUL or a separator byte
 * inside either part cannot make two keys collide; "no key" and the empty
 * key are different keys. Items are opaque to this module (the broker's
 * reference-counted messages): it never frees one, it hands back every item
 * it lets go of (replaced, refused or evicted) and the caller releases it.
 * It calls nothing outside itself.
 *
 * Bytes: each entry costs its item's bytes (as the caller states them, counted
 * in full even when history shares the message) plus the entry itself. While
 * the total passes max_bytes or the count passes max_entries, wsb_snap_trim
 * evicts the least recently updated entry. An item that alone costs more than
 * max_bytes is not kept, and the older value under its key is dropped too:
 * an outdated value must never pass for the latest. max_bytes 0: nothing is
 * kept (snapshots off).
 *
 * Order: an update makes an entry the newest, so oldest-to-newest is the
 * order of the last updates (seq order for the broker).
 */
#ifndef WSB_SNAPSHOT_H
#define WSB_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define WSB_SNAP_ENTRIES_MAX 65536	/* entry cap when none is given */

struct wsb_snap;
struct wsb_snap_ent;

struct wsb_snap_stats {
	uint64_t bytes;			/* items plus entries */
	uint64_t entries;
	uint64_t evicted;		/* entries let go for room (LRU, too big) */
};

/* NULL on ENOMEM. max_entries 0: WSB_SNAP_ENTRIES_MAX. */
struct wsb_snap *wsb_snap_new(size_t max_bytes, size_t max_entries);
/* The table must be empty (wsb_snap_trim with force until NULL). */
void wsb_snap_free(struct wsb_snap *t);

/* Makes item the latest for (type, key); klen < 0: no key. Returns 1 stored,
 * 0 not stored (too big, or off: the caller keeps its item), -1 out of
 * memory (not stored). *old receives the item it replaced or dropped, or
 * NULL. Call wsb_snap_trim afterwards. */
int wsb_snap_put(struct wsb_snap *t, const char *type, size_t tlen, const char *key, long klen,
		 void *item, size_t item_bytes, void **old);
/* Removes the least recently updated entry if the table is over a cap (or
 * if force and it is not empty) and returns its item; NULL otherwise. */
void *wsb_snap_trim(struct wsb_snap *t, int force);

/* Iteration, oldest update first; invalidated by put and trim. */
const struct wsb_snap_ent *wsb_snap_oldest(const struct wsb_snap *t);
const struct wsb_snap_ent *wsb_snap_newer(const struct wsb_snap_ent *e);
void *wsb_snap_item(const struct wsb_snap_ent *e);
/* The entry's type, NUL-terminated (its length in *tlen). */
const char *wsb_snap_type(const struct wsb_snap_ent *e, size_t *tlen);

void wsb_snap_stats(const struct wsb_snap *t, struct wsb_snap_stats *st);

#endif

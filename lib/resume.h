/* resume — the client side of the delivery guarantees (docs/protocol.md):
 * producer ids and the pseq splice for wsbridge-pub; for wsbridge-sub the
 * position in the server's numbering (dedup at a resume seam, gap records,
 * epoch changes) and the cursor-file record that keeps it across runs.
 * Pure: no I/O.
 */
#ifndef WSB_RESUME_H
#define WSB_RESUME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"	/* id and epoch lengths */

#define WSB_CURSOR_LEN 128	/* fixed record size of a cursor file, '\n' included */

/* 1..64 bytes of [A-Za-z0-9._:-]. */
int wsb_producer_id_ok(const char *id, size_t n);
/* A per-run id "pub-<host>-<pid>-<rnd as 4 hex>"; characters of host the
 * protocol does not allow become '_', and host is shortened to fit. */
void wsb_producer_id_make(char out[WSB_PRODUCER_ID_MAX + 1], const char *host, long pid, unsigned rnd);
/* Appends ,"producer":"ID","pseq":N as the last members of the compact
 * object obj[0..len) (in place; cap bytes available). ID must pass
 * wsb_producer_id_ok, so it needs no escaping. Returns the new length, or
 * -1 if obj is not a non-empty object or the result does not fit. */
ssize_t wsb_pseq_splice(char *obj, size_t len, size_t cap, const char *producer, uint64_t pseq);
/* The splice adds at most this many bytes. */
#define WSB_PSEQ_SPLICE_MAX (sizeof ",\"producer\":\"\",\"pseq\":" + WSB_PRODUCER_ID_MAX + 20)

/* 1..WSB_EPOCH_MAX bytes of [A-Za-z0-9_-]: safe in a URL and a file. */
int wsb_epoch_ok(const char *e, size_t n);

/* Where a subscriber stands in the server's numbering. Everything of epoch
 * up to seq was written out or is known to be missing (a gap), so a
 * reconnect asks for since=seq&epoch=epoch; printed is the highest seq
 * written in this epoch, below which a message is a seam duplicate. */
struct wsb_pos {
	char epoch[WSB_EPOCH_MAX + 1];	/* "" while unknown */
	uint64_t seq;
	uint64_t printed;
	int have;			/* seq means something: resume from it */
};

/* A resume point given by the user (--since, --cursor-file); epoch may be
 * NULL or "". */
void wsb_pos_start(struct wsb_pos *p, uint64_t seq, const char *epoch);
/* connection_established: the server's epoch (NULL if it sent none) and
 * its last seq. Without a position yet, that seq becomes one: what follows
 * on this connection is newer. A different epoch while we hold a position
 * is left alone: the server follows with a gap record when we asked with
 * the old epoch. A server without an epoch resets the position. */
void wsb_pos_greeting(struct wsb_pos *p, const char *epoch, int has_seq, uint64_t seq);
/* 1 if a data message (its "epoch" member, or NULL; its seq if it has one)
 * was already written: same epoch and seq <= printed. */
int wsb_pos_dup(const struct wsb_pos *p, const char *epoch, int has_seq, uint64_t seq);
/* The message was written out. */
void wsb_pos_advance(struct wsb_pos *p, const char *epoch, int has_seq, uint64_t seq);
/* A gap record: reason "epoch" moves to new_epoch from its start; any other
 * reason skips up to `to` (has_to 0: nothing to skip to). */
void wsb_pos_gap(struct wsb_pos *p, int epoch_reason, const char *new_epoch, int has_to, uint64_t to);

/* Cursor file: one JSON line {"seq":N,"epoch":"E"} padded with spaces to
 * WSB_CURSOR_LEN bytes with its '\n', so rewriting it in place with one
 * pwrite never leaves a tail of an older, longer record. Writes exactly
 * WSB_CURSOR_LEN bytes plus a NUL. */
void wsb_cursor_format(char out[WSB_CURSOR_LEN + 1], uint64_t seq, const char *epoch);
/* Parses a cursor (trailing white space allowed; "epoch" optional).
 * Returns 0, or -1 if text is not one. */
int wsb_cursor_parse(const char *text, size_t len, uint64_t *seq, char epoch[WSB_EPOCH_MAX + 1]);

#endif

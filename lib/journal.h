/* journal — wsbridge-serve's append-only message log (--journal DIR).
 *
 * Every accepted message is appended as one NDJSON line, the same bytes
 * wsbridge-sub prints, to segment files DIR/<first-seq, 20 digits>.ndjson,
 * so wsbridge-replay and jq read the journal directly. DIR/epoch holds the
 * history epoch (one line of hex), so a restarted server keeps its epoch and
 * subscribers resume without a gap.
 *
 * Durability: appends are buffered in memory and written by
 * wsb_journal_commit(): WSB_FSYNC_ALWAYS writes and fsyncs at every commit,
 * WSB_FSYNC_BATCH writes at every commit but fsyncs only when the caller's
 * batch timer says so (the `sync` argument), WSB_FSYNC_NEVER only writes.
 * wsb_journal_durable() is the highest seq that is where the policy says,
 * which is what the server may acknowledge.
 *
 * Segments rotate once bigger than segment_bytes; whole old segments are
 * removed while the journal is bigger than retain_bytes (never the current
 * one). No sockets; the library never prints. Errors (ENOSPC, EACCES, EIO)
 * are returned with the file named; after a write error the journal keeps
 * what it has not written (bounded by max_pending bytes) and retries at the
 * next commit, so a disk that recovers loses nothing.
 */
#ifndef WSB_JOURNAL_H
#define WSB_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "proto.h"	/* WSB_EPOCH_LEN */

enum wsb_fsync { WSB_FSYNC_ALWAYS = 0, WSB_FSYNC_BATCH = 1, WSB_FSYNC_NEVER = 2 };

struct wsb_journal_cfg {
	const char *dir;
	int fsync;			/* enum wsb_fsync */
	uint64_t segment_bytes;		/* rotate after this; 0: 64 MiB */
	uint64_t retain_bytes;		/* keep at most this many bytes; 0: no limit */
	uint64_t max_pending;		/* unwritten bytes kept across errors; 0: 64 MiB */
	/* Recovery holds no longer line in memory: a longer one is skipped
	 * (counted; its seq still counts as used). 0: 1 GiB + 64 KiB. */
	size_t max_line;
};

struct wsb_journal;

/* Called for each message line recovered, oldest first (len without '\n';
 * seq is the line's top-level "seq"). A line in the server's own shape,
 * ending in ,"seq":N}, is passed on after only that check: fn must parse
 * the line before trusting it (the server restores every line through the
 * envelope parser anyway, so checking it here would parse it twice). Its
 * seq counts as used whatever fn decides. Return -1 to abort the open. */
typedef int (*wsb_journal_fn)(void *ud, const char *line, size_t len, uint64_t seq);

/* Opens (creating DIR and DIR/epoch when missing: the epoch is then
 * `new_epoch`) and recovers: reads every segment in order, calls fn for each
 * line with a top-level "seq" (see wsb_journal_fn; a line without one, or longer than
 * max_line, is skipped and counted in *skipped; recovery memory is bounded
 * by max_line plus a constant), and truncates a torn last line (no '\n', or not
 * valid JSON) of the newest segment instead of failing. epoch receives the
 * journal's epoch (NUL-terminated), *last_seq the highest seq in use (0 if
 * none): the highest found, or the newest segment's first seq (its name) if
 * that is higher, since a segment is named after the seq it was created for
 * even when no line of it could be read back. NULL + err (WSB_EXIT_CONFIG or
 * WSB_EXIT_IOERR) on failure. */
struct wsb_journal *wsb_journal_open(const struct wsb_journal_cfg *cfg, const char *new_epoch,
				     char epoch[WSB_EPOCH_LEN + 1], uint64_t *last_seq,
				     size_t *skipped, wsb_journal_fn fn, void *ud,
				     struct wsb_err *err);
/* Buffers one message (no '\n') with its seq, which must increase. -1 +
 * err when max_pending would be exceeded (the message is not taken). */
int wsb_journal_append(struct wsb_journal *j, const char *msg, size_t len, uint64_t seq,
		       struct wsb_err *err);
/* Writes what is buffered (rotating segments as needed) and, for ALWAYS or
 * when sync is set, fsyncs. Returns 0, or -1 + err (the data stays buffered). */
int wsb_journal_commit(struct wsb_journal *j, int sync, struct wsb_err *err);
/* Highest seq durable under the policy (written for NEVER, written+fsynced
 * otherwise). */
uint64_t wsb_journal_durable(const struct wsb_journal *j);
/* Bytes appended but not yet written. */
size_t wsb_journal_pending(const struct wsb_journal *j);
/* Commits (with sync) what it can and closes. */
void wsb_journal_close(struct wsb_journal *j);

#endif

/* journal_int — what journal.c (open, append, commit, rotation) and
 * journal_recover.c (reading segments back, repairing a torn tail) share.
 * Private: included by those two files only, never by a caller of
 * journal.h.
 *
 * The segment list j->segs is sorted by first seq; the last one is the one
 * appended to. After wsb_journal_recover, every segment name is at most the
 * returned last seq, so a rotation never opens a name that already exists.
 */
#ifndef WSB_JOURNAL_INT_H
#define WSB_JOURNAL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "journal.h"

#define WSB_JSEG_DIGITS 20
#define WSB_JSEG_SUFFIX ".ndjson"
#define WSB_JSEG_NAME_LEN (WSB_JSEG_DIGITS + sizeof WSB_JSEG_SUFFIX - 1)

struct seg {
	uint64_t first;			/* the number in its name */
	uint64_t size;			/* bytes we know to be in it */
};

struct rec {
	size_t end;			/* offset in buf just past its '\n' */
	uint64_t seq;
};

struct wsb_journal {
	char *dir;
	int dirfd;			/* also holds the flock that keeps a second server out */
	int policy;
	uint64_t seg_max, retain, max_pending;
	size_t max_line;		/* recovery reads no longer line whole */

	struct seg *segs;		/* oldest first; the last is the one we append to */
	size_t nseg, segcap;
	int fd;				/* the last segment, or -1: the next write starts a new one */
	uint64_t durable_size;		/* size of the last segment at its last successful fsync */
	int resize;			/* the file may be longer than segs[nseg-1].size */
	int need_dirsync;		/* a segment was created and the directory not yet fsynced */

	/* buf.p[bstart..bwrite): written but not yet fsynced, kept so that a
	 * failed fsync can be answered by rewriting them (after a writeback
	 * error the kernel may have dropped those pages, and a later fsync
	 * would succeed without them). buf.p[bwrite..buf.len): not yet
	 * written. recs mirror buf by message. With WSB_FSYNC_NEVER,
	 * bstart == bwrite. */
	struct wsb_buf buf;
	size_t bstart, bwrite;
	struct rec *recs;
	size_t rstart, rwrite, rlen, rcap;

	uint64_t appended_seq, written_seq, durable_seq;
};

static inline int wsb_journal_oom(struct wsb_err *err)
{
	return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
}

/* DIR/<first, 20 digits>.ndjson's base name. */
void wsb_journal_seg_name(char out[WSB_JSEG_NAME_LEN + 1], uint64_t first);
/* -1 + err naming the segment: "<what> journal DIR/NAME: <strerror(errnum)>". */
int wsb_journal_seg_err(struct wsb_journal *j, struct wsb_err *err, int code, int errnum,
			const char *what, uint64_t first);
/* Appends a segment to j->segs; -1 when out of memory. */
int wsb_journal_seg_push(struct wsb_journal *j, uint64_t first, uint64_t size);

/* Lists DIR's segments, repairs the newest one's torn tail, and feeds every
 * line to fn (journal.h's wsb_journal_open contract). *last: the highest seq
 * in use. *skipped: lines not passed on. 0, or -1 + err. */
int wsb_journal_recover(struct wsb_journal *j, wsb_journal_fn fn, void *ud, uint64_t *last,
			size_t *skipped, struct wsb_err *err);

#endif

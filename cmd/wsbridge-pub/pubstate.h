/* pubstate — wsbridge-pub --state-file: what a restarted publisher needs
 * to go on exactly after the last acknowledged line.
 *
 * The file holds one JSON object: the producer id as sent (with its :RUN
 * suffix) and the secret the broker bound it to, the last acknowledged
 * pseq, and where that line ended: the input file's name, device and inode
 * (to tell the same file from a new one with the same name) and the byte
 * offset just past the line. A restart presents the same id and secret,
 * numbers lines from acked + 1 again from that offset, and the broker's
 * dedup drops whatever it already had: every line is delivered once.
 *
 * The file is replaced whole (write a temporary file, fsync, rename, fsync
 * the directory), so a crash leaves the old state or the new, never a mix.
 * No network, no logging: errors come back in struct wsb_err.
 */
#ifndef WSB_PUBSTATE_H
#define WSB_PUBSTATE_H

#include <stdint.h>

#include "err.h"
#include "proto.h"	/* producer id length */

#define WSB_PUBSTATE_SECRET 64		/* characters kept of a producer secret */
#define WSB_PUBSTATE_NAME 4096		/* bytes of an input file name */

struct wsb_pubstate {
	char producer[WSB_PRODUCER_ID_MAX + 1];	/* "" when the file was empty */
	char secret[WSB_PUBSTATE_SECRET + 1];	/* "" until the broker issued one */
	uint64_t acked;				/* last acknowledged pseq */
	char file[WSB_PUBSTATE_NAME];		/* input the last acked line came from; "" none */
	uint64_t dev, ino;			/* of that file when it was read */
	uint64_t offset;			/* bytes of it up to the end of that line */
};

/* Reads path into st (zeroed first). A missing or empty file is a fresh
 * start (*found 0). -1 + err: unreadable (74) or not a state file (65). */
int wsb_pubstate_load(const char *path, struct wsb_pubstate *st, int *found, struct wsb_err *err);
/* Replaces path with st atomically and durably. -1 + err (74). */
int wsb_pubstate_save(const char *path, const struct wsb_pubstate *st, struct wsb_err *err);

/* Where a restarted input begins. st's position applies to the operand named
 * st->file (dev and ino from fstat of the open input): WSB_RESUME_SEEK with
 * *off = st->offset when it is the same file and at least that long; else
 * WSB_RESUME_START (another file, or a shorter one: truncated or rotated,
 * read from its start; *why says which). */
enum { WSB_RESUME_START = 0, WSB_RESUME_SEEK = 1 };
int wsb_pubstate_resume(const struct wsb_pubstate *st, uint64_t dev, uint64_t ino, uint64_t size,
			uint64_t *off, const char **why);

#endif

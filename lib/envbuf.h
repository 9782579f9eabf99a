/* envbuf — a received message parsed into a growable scratch buffer: what
 * every client does with a server message (pub reads acks, sub prints the
 * compact form, the health probe reads pongs), written once.
 *
 * The compact form never outgrows the input, so scratch grows to the
 * message's length. A message that cannot be held is an error, never a
 * quiet return: the caller counts it, logs it, and sub exits 71 with it.
 */
#ifndef WSB_ENVBUF_H
#define WSB_ENVBUF_H

#include <sys/types.h>

#include "buf.h"
#include "envelope.h"

enum { WSB_ENVBUF_INVALID = -1, WSB_ENVBUF_NOROOM = -2 };

/* wsb_env_parse of msg into scratch->p (scratch->len is the compact
 * length). Returns that length; WSB_ENVBUF_INVALID when msg is not JSON or
 * not a message (err from wsb_env_parse); WSB_ENVBUF_NOROOM when scratch
 * could not grow to len (err: WSB_EXIT_OSERR, or WSB_EXIT_DATAERR past
 * scratch->max, "cannot hold a N-byte message: ..."). */
ssize_t wsb_envbuf_parse(struct wsb_buf *scratch, const char *msg, size_t len, struct wsb_env *env,
			 struct wsb_err *err);

#endif

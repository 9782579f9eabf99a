/* linemsg — one input line into the message it publishes, for every tool
 * that publishes lines (wsbridge-pub, wsbridge-serve --stdin): the line's
 * own JSON object compacted, with "type" spliced in from --type when it has
 * none, or with --raw the line itself as the data string of
 * {"type":TYPE,"data":"<line>"}. A top-level producer or pseq is dropped
 * (they are the broker's stamp). Pure: no I/O, no allocation.
 */
#ifndef WSB_LINEMSG_H
#define WSB_LINEMSG_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "proto.h"

struct wsb_linemsg {
	int has_type;			/* --type given */
	char member[WSB_TYPE_MAX * 6 + 16];	/* "type":"T", pre-escaped */
};

/* type: --type or NULL. */
void wsb_linemsg_init(struct wsb_linemsg *lm, const char *type);
/* Room the message of a len-byte line may need. */
size_t wsb_linemsg_cap(const struct wsb_linemsg *lm, size_t len);
/* The message for line[0..len) into out (cap from wsb_linemsg_cap), with
 * raw the line as the data string ({"data":...} without a type): its
 * length, 0 for a blank line (skip it), or -1 with err saying why the line
 * is not a message (invalid JSON, no type and no --type, a bad type). */
ssize_t wsb_linemsg_make(const struct wsb_linemsg *lm, const char *line, size_t len, int raw, char *out,
			 size_t cap, struct wsb_err *err);

#endif

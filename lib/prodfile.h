/* prodfile — DIR/producers, next to the journal: the producer ids
 * wsbridge-serve registered, each with the SHA-256 of its secret, so a
 * publisher that reconnects after a restart is recognised by its secret and
 * its position is restored from the journal (and nobody else's is).
 *
 * Only the broker writes it (one "ID HEX64\n" line per registration or new
 * secret, appended and, unless fsync is "never", fsynced); a later line for
 * an id replaces an earlier one. The secret itself is never written. A line
 * that cannot be written (a full disk) is kept in memory (at most 1 MiB)
 * and retried by wsb_prodfile_flush, which the server calls before every
 * journal commit: no journal line of a producer is stored, and nothing of it
 * acknowledged, before its registration is. The file grows by one line per new
 * producer id and is compacted at open to its last `keep` lines. No
 * sockets; the library never prints.
 */
#ifndef WSB_PRODFILE_H
#define WSB_PRODFILE_H

#include <stddef.h>

#include "err.h"
#include "producers.h"

struct wsb_prodfile;

/* Called for each valid line, oldest first. Return -1 to abort the load. */
typedef int (*wsb_prodfile_fn)(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH]);

/* Reads DIR/producers before journal recovery (a missing file or directory
 * is empty). Malformed lines are skipped and counted in *skipped; *lines is
 * every line, for wsb_prodfile_open. 0, or -1 + err (WSB_EXIT_IOERR). */
int wsb_prodfile_load(const char *dir, wsb_prodfile_fn fn, void *ud, size_t *lines,
		      size_t *skipped, struct wsb_err *err);
/* Once the journal directory exists: compacts the file to its last keep
 * lines when it has more than 2 * keep (temp file + rename), and opens it
 * for appending. sync: fsync every append. NULL + err (WSB_EXIT_IOERR). */
struct wsb_prodfile *wsb_prodfile_open(const char *dir, int sync, size_t keep, size_t lines,
				       struct wsb_err *err);
/* Appends (and fsyncs) one registration: 0 written, 1 kept for a retry
 * (err says why), -1 + err not even kept (past the 1 MiB). */
int wsb_prodfile_add(struct wsb_prodfile *pf, const char *id,
		     const unsigned char hash[WSB_SECRET_HASH], struct wsb_err *err);
/* Writes what is kept. 0 (nothing left), or -1 + err. */
int wsb_prodfile_flush(struct wsb_prodfile *pf, struct wsb_err *err);
void wsb_prodfile_close(struct wsb_prodfile *pf);

#endif

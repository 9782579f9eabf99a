/* replay_run — the wsbridge-replay program: files or stdin (gzip too) →
 * select (--type, --where, --from/--to) → schedule (lib/replay.h) → stdout.
 */
#ifndef WSB_REPLAY_RUN_H
#define WSB_REPLAY_RUN_H

#include "config.h"
#include "err.h"

/* Runs wsbridge-replay. Returns 0, or -1 with err->code the exit status (64
 * for a jq program that does not compile, 65 with --strict, 66, 74) and
 * err->msg what is not reported yet (empty if it was). */
int wsb_replay_run(const struct wsb_cfg *cfg, struct wsb_err *err);

#endif

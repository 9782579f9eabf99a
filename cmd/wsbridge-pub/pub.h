/* pub — wsbridge-pub: stdin (or files) → line reader → envelope → queue →
 * client transport. Lines are read only while the queue has room, so a
 * broker that is down or slow pushes back on the writer instead of losing
 * lines (or, with --drop-oldest, drops the oldest and counts them).
 */
#ifndef WSB_PUB_H
#define WSB_PUB_H

#include "config.h"
#include "err.h"

/* Runs until every input line is sent and the connection closed cleanly.
 * Returns 0, or -1 with err->code the exit status (65 with --strict, 66,
 * 69, 74, 75, 77) and err->msg what is not reported yet (empty if it was). */
int wsb_pub_run(const struct wsb_cfg *cfg, struct wsb_err *err);

#endif

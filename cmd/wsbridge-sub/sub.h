/* sub — wsbridge-sub: client transport → one compact JSON line per message
 * on stdout, written (not buffered) as each message arrives, so it works
 * live through `| jq`. Subscriptions travel in the URL, so every reconnect
 * subscribes again by itself.
 */
#ifndef WSB_SUB_H
#define WSB_SUB_H

#include "config.h"
#include "err.h"

/* Runs until --count messages, --timeout, a closed stdout (exit 0), or a
 * final connection failure. Returns 0, or -1 with err->code the exit status
 * and err->msg what is not reported yet (empty if it was). */
int wsb_sub_run(const struct wsb_cfg *cfg, struct wsb_err *err);

#endif

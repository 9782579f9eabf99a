/* ready — telling whoever started wsbridge-serve that it is up.
 *
 * --ready-fd N: once the broker listens, the port it listens on and a
 * newline ("8765\n") are written to descriptor N, which is then closed, so
 * a script or supervisor can wait for that line (or for EOF: a broker that
 * failed to start closes N by exiting) instead of polling; with
 * --listen ADDR:0 it is also how the port is learnt.
 * --pid-file F: the broker's pid and a newline, written (atomically: a
 * temporary file renamed) once it listens, removed when it stops cleanly.
 */
#ifndef WSB_READY_H
#define WSB_READY_H

#include "config.h"
#include "err.h"

/* Before starting: --ready-fd closes on exec. That it names an open
 * descriptor is wsb_cfg_check's (64). */
void wsb_ready_init(const struct wsb_cfg *cfg);
/* The broker listens on port: write the pid file, then the ready line.
 * -1 + err (74) when either cannot be written. */
int wsb_ready_announce(const struct wsb_cfg *cfg, int port, struct wsb_err *err);
/* Clean stop: the pid file goes. */
void wsb_ready_done(const struct wsb_cfg *cfg);

#endif

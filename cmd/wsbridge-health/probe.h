/* probe — the measuring half of wsbridge-health: /health over HTTP(S) with
 * libcurl (the only module that includes curl/curl.h; libcurl here has no
 * WebSocket support), the ping and the canary round trip over the
 * WebSocket with wsclient, and the --watch loop. health.c judges and
 * renders what is measured here.
 *
 * Every run is bounded by --timeout as a whole: the HTTP fetch gets the
 * budget, and the WebSocket part what the fetch left of it.
 */
#ifndef WSB_PROBE_H
#define WSB_PROBE_H

#include <stdio.h>

#include "config.h"
#include "err.h"
#include "health.h"

/* Largest /health answer read; a bigger one is not a wsbridge. */
#define WSB_PROBE_BODY_MAX (64 * 1024)

/* One probe, or one every cfg->watch seconds until SIGINT/SIGTERM, each
 * verdict written to stdout in cfg->health_format. Returns 0 for a healthy
 * (last) verdict, else -1 with err->code its exit status (the shared table,
 * or 1-3 with --format nagios) and an empty err->msg: the verdict was the
 * output. A setup failure (token file, curl) fills err->msg too. */
int wsb_probe_run(const struct wsb_cfg *cfg, struct wsb_err *err);

#endif

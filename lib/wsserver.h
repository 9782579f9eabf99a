/* wsserver — the server transport: libwebsockets serving the WebSocket
 * endpoint, /health, /metrics and / on one port, feeding the broker core.
 *
 * It owns sockets, reassembly of fragmented messages, size limits, auth,
 * pings, batched writes and shutdown; it knows nothing of subscriptions
 * (the broker decides who gets what). Runs until SIGINT/SIGTERM, then closes
 * every client with 1001 and returns 0.
 */
#ifndef WSB_WSSERVER_H
#define WSB_WSSERVER_H

#include "config.h"
#include "err.h"

/* Runs the broker described by cfg (checked by wsb_cfg_check). Returns 0
 * after a clean shutdown, or -1 with err (e.g. WSB_EXIT_UNAVAILABLE when the
 * address is in use). */
int wsb_server_run(const struct wsb_cfg *cfg, struct wsb_err *err);

#endif

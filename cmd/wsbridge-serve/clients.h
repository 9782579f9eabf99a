/* clients — GET /clients: every WebSocket connection as one JSON object,
 * for an operator asking "who is connected, and who is behind?".
 *
 *   {"clients":[{"id":"c1a2b3c4-7","remote":"127.0.0.1","path":"/ws",
 *     "query":"type=order*","producer":"","subscriptions":["order*"],
 *     "queued_bytes":0,"messages_in":3,"messages_out":120,
 *     "connected_since":"2026-12-01T21:00:00.000Z"}],"count":1}
 *
 * The query is kept without its secrets: token=, access_token= and
 * producer_secret= arguments never reach the answer (wsbridge-serve keeps
 * the query with the transport as wsb_clients_query_add left it). The
 * transport owns the connections; http.c hands them here as views, and the
 * broker's side of each comes from wsb_broker_sess_info. Pure: no sockets,
 * no clock.
 */
#ifndef WSB_CLIENTS_H
#define WSB_CLIENTS_H

#include <stddef.h>

#include "broker.h"
#include "buf.h"
#include "err.h"

struct wsb_conn_view {
	const char *remote;		/* peer address */
	const char *path;		/* request path, without the query */
	const char *query;		/* as wsb_clients_query_add left it */
	const struct wsb_sess *sess;	/* NULL: refused, closing */
};

/* Appends query argument arg ("type=a") to q (cap bytes, NUL-terminated),
 * unless it carries a secret. Too long for cap: left out, "..." noted. */
void wsb_clients_query_add(char *q, size_t cap, const char *arg);

/* The whole answer into out. -1 + err when out's cap is reached or memory
 * runs out. */
int wsb_clients_json(struct wsb_buf *out, const struct wsb_conn_view *v, size_t n, struct wsb_err *err);

#endif

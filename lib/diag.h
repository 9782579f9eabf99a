/* diag — a failed connection in words.
 *
 * libwebsockets 4.1.6 reports "Unable to connect" or "read failed" whatever
 * went wrong, and a refused upgrade only as a status code. After an attempt
 * has failed, these short probes of our own name the cause: "connection
 * refused", "the broker speaks TLS: use wss://", or for a 404 the path the
 * server's / says it serves. Each is blocking and bounded by timeout_ms;
 * none is on any path but a failure's. No logging.
 */
#ifndef WSB_DIAG_H
#define WSB_DIAG_H

#include <stddef.h>

/* Connects to host:port and, once connected, checks the other end speaks
 * what the URL's scheme says (tls 1: wss://, https://). Returns 0 with the
 * cause in out ("connection refused", "no answer within 2 s"...),
 * WSB_DIAG_SCHEME when the port speaks the other scheme (out: "the broker
 * speaks TLS: use wss://", or https:// when http is 1), or -1 when it found
 * nothing wrong. A wrong scheme is no passing trouble: no retry mends it. */
#define WSB_DIAG_SCHEME 1
int wsb_diag_connect(const char *host, int port, int tls, int http, int timeout_ms, char *out, size_t cap);

/* The WebSocket path the wsbridge-serve at host:port advertises at / (its
 * "endpoints":{"websocket":...}), fetched over http or https. 0 with the
 * path in out, or -1 (no answer, not a wsbridge). */
int wsb_diag_ws_path(const char *host, int port, int tls, const char *cafile, int insecure,
		     int timeout_ms, char *out, size_t cap);

#endif

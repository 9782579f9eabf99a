/* admit — who gets through the door: the pure decisions the server makes on
 * a WebSocket upgrade request before libwebsockets answers it (Origin,
 * Sec-WebSocket-Key, Host), kept free of sockets so they can be unit-tested
 * and fuzzed. wsserver reads the headers and acts on the answers.
 *
 * Origin policy (wsbridge(7), "ORIGIN AND CONNECTION POLICY"): browsers send
 * Origin on every cross-site WebSocket, so a missing Origin is a CLI tool or
 * bot and is let in; a browser page is let in only when its origin is this
 * broker's own (scheme://Host, Host naming this broker, see
 * wsb_admit_host_is_own) or listed exactly in --allow-origin ('*': any).
 *
 * Also the descriptor budget behind the default --max-connections (the one
 * function here that makes a system call).
 */
#ifndef WSB_ADMIT_H
#define WSB_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* 1 if a request with this Origin header (NULL: none) may upgrade. host is
 * the request's Host header (NULL: none), tls whether it came over TLS,
 * allow the --allow-origin list, listen_host --listen's host ("" for any). */
int wsb_admit_origin(const char *origin, const char *host, int tls, const struct wsb_strlist *allow,
		     const char *listen_host);

/* 1 if Host's name part (without port) names this broker without DNS in
 * between: an IP literal, "localhost", or listen_host. A name any other
 * resolver answer could point here (DNS rebinding) does not make a page
 * "same origin". */
int wsb_admit_host_is_own(const char *host, const char *listen_host);

/* 1 if key is a valid Sec-WebSocket-Key: base64 of exactly 16 bytes. */
int wsb_admit_ws_key(const char *key);

/* 0, or -1 with err if an --allow-origin entry cannot ever match what a
 * browser sends ("*", "null", or scheme://host[:port] with no path). */
int wsb_admit_check_allow(const char *entry, struct wsb_err *err);

/* Raises the soft RLIMIT_NOFILE to the hard one (capped at 2^20: lws sizes
 * its tables by it) and returns the limit now in force. */
uint64_t wsb_admit_raise_nofile(void);
/* The default --max-connections for nofile descriptors: an eighth, at least
 * 16, stays for the listener, journal, /health and refusals, so clients get
 * a 503 before accept() runs out of descriptors. */
uint64_t wsb_admit_conn_budget(uint64_t nofile);

/* Copies untrusted header text for a log line: at most cap-1 bytes, bytes
 * outside printable ASCII as '?', so a header cannot forge log lines. */
void wsb_admit_printable(char *dst, size_t cap, const char *src);

#endif

/* wsdoor — the part of the server transport (wsserver.h) that needs only
 * the request in hand, not the server's state: the door's checks that read
 * its headers (the RFC 6455 handshake, the credential and what it grants,
 * the URL against that grant) and the HTTP answers (replies, refusals).
 * Private to the transport: like wsserver.c it speaks libwebsockets.
 */
#ifndef WSB_WSDOOR_H
#define WSB_WSDOOR_H

#include <stddef.h>

#include "access.h"

struct lws;

/* A reply with content-length, cache-control: no-store and hdrs (NULL, or
 * name/value pairs "vary:", "accept" ending in NULL); HEAD gets the headers
 * only. 0, or -1 to close. */
int wsb_door_reply(struct lws *wsi, unsigned status, const char *ctype, const char *const *hdrs,
		   const char *body, size_t len);
/* A refusal: HTTP/1.1 status with {"error":error} (escaped) and extra
 * header lines (each ending in CRLF, or NULL), then the connection closes.
 * Returns -1, for the callback to return. */
int wsb_door_refuse(struct lws *wsi, int status, const char *reason, const char *error, const char *extra);
/* What lws 4.1.6 would answer with a 101 anyway (another version) or a
 * silently dropped socket (no Host, no or a bad key): RFC 6455 §4.2.1/§4.4.
 * 0, or -1 once refused. */
int wsb_door_upgrade(struct lws *wsi);
/* The request's credential (Authorization: Bearer, else ?token=: browsers
 * cannot set headers) checked with a (access.h) now: 0 and *g (also when
 * none is required), or -1 and *why. The copy read is wiped. */
int wsb_door_grant(struct lws *wsi, const struct wsb_access *a, struct wsb_grant *g, const char **why);
/* ?type= patterns and ?producer= within g: 0, or -1 once refused with 403
 * (logged with peer, the argument made printable). */
int wsb_door_scope(struct lws *wsi, const struct wsb_grant *g, const char *peer);
/* 1 if the request has an Origin header (a browser page). */
int wsb_door_browser(struct lws *wsi);

#endif

/* wsserver — the server transport: libwebsockets serving WebSocket clients
 * and plain HTTP requests (with POST bodies: wsserver_http.c) on one port. It knows nothing of messages,
 * subscriptions or documents: the program (cmd/wsbridge-serve) is reached
 * only through struct wsb_server_ops, as wsclient reaches its tools.
 *
 * It owns:
 * - the door, decided before lws answers an upgrade: path, shutdown,
 *   RFC 6455 handshake, Origin (admit.h), --max-connections(-per-ip),
 *   the credential (Authorization: Bearer, or ?token= for browsers) checked
 *   with access.h: none or a bad one is 401 with the reason, ?type=
 *   patterns outside its scope or a ?producer= its JWT subject does not
 *   allow are 403; each refusal an HTTP status with a JSON body, logged
 *   with the reason and never the credential; but a browser's (an Origin
 *   header) refused credential: that upgrade opens and is closed at once
 *   with 1008 "Invalid token" or "Authentication required", never reaching
 *   joined(), because a browser shows a 401 only as 1006 and old clients
 *   stop on 1008. The grant rides with the connection (wsb_server_grant).
 *   At EMFILE it stops polling the listener until a descriptor frees;
 * - reassembly of fragmented messages under --max-message (1009; binary:
 *   1003), --message-timeout for unfinished ones (1008), unmasked client
 *   frames (1002, checked by lwsio before lws parses them), invalid close
 *   payloads, pings (two missed intervals drop the client);
 * - batched writes: every WRITEABLE takes up to one 64 KiB batch of
 *   ready frames from take() into one scratch buffer, one lws_write(RAW);
 * - pausing publishers (reading) while the program asks for it, and one
 *   connection for a while (wsb_server_throttle, --rate-policy pause);
 * - SIGHUP: reload() on the event loop; the program may then swap the
 *   door's credentials and Origins (wsb_server_set_door) without dropping
 *   anyone;
 * - shutdown: on SIGINT/SIGTERM every client is closed with 1001 and
 *   wsb_server_run returns once they are gone (2 s at most).
 *
 * Single-threaded: every op runs on the event loop, inside wsb_server_run
 * (left() also inside wsb_server_free).
 */
#ifndef WSB_WSSERVER_H
#define WSB_WSSERVER_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "config.h"
#include "err.h"

struct wsb_server;
struct wsb_conn;		/* one WebSocket connection */

/* One plain HTTP request, valid during http(). */
struct wsb_http_req {
	const char *path;
	int get;			/* GET or HEAD (a HEAD reply carries no body) */
	int post;
	const char *accept;		/* the Accept header; NULL: none, or too long */
	const char *ctype;		/* the Content-Type header, or NULL */
	int64_t length;			/* Content-Length; -1: none */
	/* The door's verdict on its credential (Bearer or ?token=): granted
	 * (or none is required) with what grant says it may do. */
	int authorized;
	struct wsb_grant grant;
	int origin_ok;			/* no Origin, or one the door would let in */
	/* The second call for a request whose body was asked for: all of it. */
	int has_body;
	const char *body;
	size_t body_len;
	struct wsb_conn *conn;		/* for wsb_server_want_body/wsb_server_answer */
	void *wsi;			/* the transport's */
};

struct wsb_server_ops {
	/* conn passed the door and is open: its session handle, or NULL after
	 * wsb_server_close (NULL without it closes with 1011). Read the URL
	 * query with wsb_server_arg. */
	void *(*joined)(void *ud, struct wsb_conn *conn);
	/* One whole inbound text message from sess. */
	void (*input)(void *ud, void *sess, const char *msg, size_t len);
	/* The same for one of a read's messages, and the end of that read:
	 * the program may let a message's work wait for input_end, which
	 * comes before anything else it is asked. NULL: input, not told. */
	void (*input_more)(void *ud, void *sess, const char *msg, size_t len);
	void (*input_end)(void *ud);
	/* Whole frames for sess into out: up to soft bytes, or one frame up to
	 * hard (max_frame). Returns the bytes written. */
	size_t (*take)(void *ud, void *sess, unsigned char *out, size_t soft, size_t hard);
	/* Whether sess still has frames waiting after take(). */
	int (*pending)(void *ud, void *sess);
	/* sess's connection is gone: forget it. */
	void (*left)(void *ud, void *sess);
	/* Bytes held for unfinished inbound messages, whenever it changes. */
	void (*partial)(void *ud, size_t bytes);
	/* A plain HTTP request: answer with wsb_server_reply or
	 * wsb_server_refuse and return what it returned; or, for a POST, ask
	 * for its body (wsb_server_want_body) and return 0: http() is then
	 * called again with has_body set, and that call answers with
	 * wsb_server_answer, at once or later, and returns 0. */
	int (*http)(void *ud, struct wsb_http_req *rq);
	/* The connection of a request whose body was handed over closed
	 * before wsb_server_answer: forget conn. May be NULL. */
	void (*gone)(void *ud, struct wsb_conn *conn);
	/* Every 100 ms. */
	void (*tick)(void *ud);
	/* The timer set with wsb_server_timer fired. */
	void (*timer)(void *ud);
	/* A name for sess in log lines (its client id). */
	const char *(*name)(void *ud, void *sess);
	/* SIGHUP came (may be NULL). */
	void (*reload)(void *ud);
	/* Optional: the socket listens on port and SIGINT/SIGTERM are
	 * handled (once, from wsb_server_run). Non-zero stops the server at
	 * once: wsb_server_run returns -1. */
	int (*listening)(void *ud, int port);
};

struct wsb_server_cfg {
	/* --path, --listen, --tls-cert/--tls-key, --allow-origin,
	 * --max-connections(-per-ip), --max-message, --message-timeout,
	 * --ping-interval: checked by wsb_cfg_check and the program. */
	const struct wsb_cfg *opts;
	const char *iface;		/* numeric address to bind, "" for any */
	/* The door's credentials and the --allow-origin list; both the
	 * program's, alive until replaced by wsb_server_set_door. */
	const struct wsb_access *access;
	const struct wsb_strlist *origins;
	size_t max_frame;		/* the largest frame take() produces */
};

/* Listens (the context and its socket). NULL + err: WSB_EXIT_CONFIG when
 * the TLS certificate or key does not load, WSB_EXIT_UNAVAILABLE when the
 * address cannot be listened on, WSB_EXIT_OSERR. */
struct wsb_server *wsb_server_new(const struct wsb_server_cfg *cfg, const struct wsb_server_ops *ops,
				  void *ud, struct wsb_err *err);
/* Serves until SIGINT/SIGTERM and every client is closed (or 2 s). 0, or
 * -1 when listening() said to stop (its error is the program's). */
int wsb_server_run(struct wsb_server *srv);
/* Closes what is left (left() for each) and frees. NULL is fine. */
void wsb_server_free(struct wsb_server *srv);

/* The URL query argument i of conn ("type=a.*"), decoded, into buf: its
 * length, 0 for one that does not fit cap (skip it), -1 past the last. */
int wsb_server_arg(struct wsb_conn *conn, int i, char *buf, size_t cap);
/* What the door granted conn (access.h), or NULL when no credential is
 * required. Valid while conn is. */
const struct wsb_grant *wsb_server_grant(const struct wsb_conn *conn);
/* 1 if conn's upgrade had an Origin header (a browser page). */
int wsb_server_browser(const struct wsb_conn *conn);
/* conn's session handle (from joined()), or NULL. */
void *wsb_server_sess(const struct wsb_conn *conn);
/* 1 if conn negotiated permessage-deflate (--compress): it may be sent
 * compressed frames (RSV1); what it sends is inflated before input(). */
int wsb_server_compressed(const struct wsb_conn *conn);
/* What conn is, for the program's GET /clients: its peer address, the path
 * it asked for, and the query text the program set (wsb_server_set_query,
 * made without the secrets; "" until then). Valid while conn is. */
const char *wsb_server_peer(const struct wsb_conn *conn);
const char *wsb_server_path(const struct wsb_conn *conn);
const char *wsb_server_query(const struct wsb_conn *conn);
void wsb_server_set_query(struct wsb_conn *conn, const char *text);
/* The WebSocket connections one by one: the first after NULL, NULL after
 * the last. Only to read: none may close while the program walks them. */
struct wsb_conn *wsb_server_next(const struct wsb_server *srv, const struct wsb_conn *conn);
/* Frames are waiting for conn: take() at the next writable turn. */
void wsb_server_wake(struct wsb_conn *conn);
/* Close conn with code and reason once the kernel takes the close frame
 * (10 s at most); take() is not called again. The first call wins. */
void wsb_server_close(struct wsb_conn *conn, int code, const char *reason);
/* on: stop reading from every connection that publishes or is sending a
 * message (TCP pushes back); off: read again. */
void wsb_server_pause_publishers(struct wsb_server *srv, int on);
/* Do not read conn for us microseconds (pausing publishers may hold it
 * longer; a later call replaces the wait). */
void wsb_server_throttle(struct wsb_conn *conn, int64_t us);
/* New credentials and Origins for connections from now on (reload):
 * those already in keep what they were granted. */
void wsb_server_set_door(struct wsb_server *srv, const struct wsb_access *access,
			 const struct wsb_strlist *origins);
/* Stop as a signal would: refuse new clients, close every one with 1001,
 * wsb_server_run returns once they are gone (2 s at most). */
void wsb_server_stop(struct wsb_server *srv);
/* One-shot timer: timer() after us microseconds (>= 1), replacing a
 * pending one. */
void wsb_server_timer(struct wsb_server *srv, int64_t us);

/* Another descriptor served by the same loop (a Redis connection, through
 * a library that reads and writes it itself): event(ud, h, 0) when it is
 * readable or hung up, event(ud, h, 1) once after each
 * wsb_server_watch_write when it is writable. The transport polls a dup of
 * fd, so the owner closes fd as it likes; wsb_server_unwatch (also from
 * inside event) ends the watch. NULL if lws cannot adopt it. */
struct wsb_watch;
struct wsb_watch *wsb_server_watch(struct wsb_server *srv, int fd,
				   void (*event)(void *ud, void *h, int writable), void *ud, void *h);
void wsb_server_watch_write(struct wsb_watch *w);
void wsb_server_unwatch(struct wsb_watch *w);

struct wsb_server_stats {
	size_t partial_bytes;		/* held for unfinished inbound messages */
	int publishers_paused;
	int stopping;			/* a signal came: closing every client */
};
void wsb_server_stats(const struct wsb_server *srv, struct wsb_server_stats *st);

/* HTTP answers, from http(). A reply reply with content-length, cache-control: no-store and hdrs
 * (NULL, or name/value pairs "vary:", "accept" ending in NULL). */
int wsb_server_reply(struct wsb_http_req *rq, unsigned status, const char *ctype, const char *const *hdrs,
		     const char *body, size_t len);
/* Refusal: HTTP/1.1 status with {"error":error}, extra header lines (each
 * ending in CRLF, or NULL), then the connection closes. */
int wsb_server_refuse(struct wsb_http_req *rq, int status, const char *reason, const char *error,
		      const char *extra);
/* The door's token for a plain request (Authorization: Bearer, or
 * ?token=): 0 when it matches or none is required; -1 once refused with
 * 401, whatever the Origin (a browser's 1008 is for upgrades only), to be
 * returned from http(). */
int wsb_server_authorize(struct wsb_http_req *rq);
/* From http() for a POST: collect its body, at most cap bytes (more: 413
 * and the connection closes). What is held counts in partial(). 0. */
int wsb_server_want_body(struct wsb_http_req *rq, size_t cap);
/* The answer to a request whose body was handed over: status, a
 * retry-after header when retry_after (seconds) is not 0, and a JSON
 * body (copied), written when the socket can take it; the connection then
 * serves its next request. Not after gone(). 0, or -1 out of memory (the
 * request then stays unanswered until the client gives up). */
int wsb_server_answer(struct wsb_conn *conn, unsigned status, unsigned retry_after, const char *json, size_t len);

#endif

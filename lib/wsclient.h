/* wsclient — the client transport shared by wsbridge-pub, wsbridge-sub and
 * wsbridge-health: one WebSocket connection that comes back by itself
 * (exponential backoff with jitter), batched masked writes, reassembled
 * reads, and an optional input fd (stdin) served by the same event loop
 * with back-pressure. It knows nothing of envelopes or queues: the tool
 * decides what a message means and what to send.
 *
 * Nothing a server does can hang it or grow it without bound:
 * - every attempt has connect_timeout to reach an open WebSocket (TCP, TLS
 *   and the upgrade); past it the attempt fails ("no handshake within N s")
 *   and counts against retries like a refused connect;
 * - an open connection is pinged after ping_interval without a pong and
 *   dropped (then retried) when two more intervals pass without one;
 * - an inbound message is at most max_message bytes: a bigger one (one
 *   frame or many fragments) fails the connection with 1009, a binary one
 *   with 1003, for good (closed() gets that code and retry_ms -1: the same
 *   message would come again on a resume). Running out of memory while
 *   reassembling ends wsb_client_run with WSB_EXIT_OSERR;
 * - a text message that is not UTF-8 fails the connection with 1007, for
 *   good (RFC 6455 §8.1);
 * - a masked server frame (RFC 6455 §5.1) fails the connection with 1002,
 *   for good too. libwebsockets 4.1.6 would unmask it without telling, so
 *   lwsio checks the bytes before lws parses them (see lwsio.h).
 *
 * With compress the client offers permessage-deflate (RFC 7692, WSB_PMD_OFFER):
 * a server that answers without it gets plain frames as before; one that
 * agrees gets messages compressed when that makes them smaller (each on its
 * own), and its RSV1 messages are inflated within max_message (wsrx.h); an
 * answer that is not what was offered fails the connection with 1002, for
 * good (§5: "permessage-deflate answer refused: ...").
 */
#ifndef WSB_WSCLIENT_H
#define WSB_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

struct wsb_client;

/* closed()'s code for a URL whose scheme the port does not speak; neither
 * an HTTP status nor a close code. */
#define WSB_CLIENT_SCHEME 1
/* closed()'s code for a server certificate that is not trusted (--cafile,
 * --insecure): for good, as no retry brings another certificate. */
#define WSB_CLIENT_TLS_TRUST 2

struct wsb_client_ops {
	/* The WebSocket is open (after every successful (re)connect). */
	void (*opened)(void *ud);
	/* One whole inbound text message. */
	void (*message)(void *ud, const char *msg, size_t len);
	/* The socket can take more: call wsb_client_send() until it returns 0
	 * or nothing is left. The batch is written when this returns. */
	void (*writable)(void *ud);
	/* The connection closed or could not be made. code is the peer's close
	 * code, the close code this client failed the connection with (1009,
	 * 1003, 1002, 1007, 1011), the HTTP status of a refused upgrade (401, 403, 404...),
	 * WSB_CLIENT_SCHEME when the port speaks the other scheme (ws:// to
	 * TLS, wss:// to plain: for good, reason says which to use),
	 * WSB_CLIENT_TLS_TRUST for a refused certificate (for good too),
	 * or 0 for a failed attempt (reason: "cannot connect to URL: <cause in
	 * words>") or a timed-out handshake; retry_ms is when the next attempt starts, or -1
	 * when the client gives up (retries exhausted, refused by auth, or
	 * wsb_client_close was called): the loop then ends. */
	void (*closed)(void *ud, int code, const char *reason, int64_t retry_ms);
	/* Input fd: where to put up to *room bytes (return NULL or *room 0 to
	 * pause reading until wsb_client_input_resume). */
	char *(*in_buf)(void *ud, size_t *room);
	/* n bytes were read into the in_buf area; n == 0: end of input. */
	void (*in_data)(void *ud, size_t n);
	/* Reading the input failed (errno value). */
	void (*in_error)(void *ud, int errnum);
	/* The timer set with wsb_client_timer fired. */
	void (*timer)(void *ud);
	/* SIGINT or SIGTERM arrived. */
	void (*signal)(void *ud, int sig);
	/* Requested with wsb_client_defer: the events at hand are processed. */
	void (*deferred)(void *ud);
	/* Every interval given to wsb_client_every. */
	void (*tick)(void *ud);
};

struct wsb_client_cfg {
	const char *url;		/* ws://host:port/path?query or wss:// */
	/* Or several (nurls > 0: url is ignored): each attempt after a
	 * failed or lost connection goes to the next, in turn, with the
	 * usual backoff, and the tool's query (a resume point) goes along. */
	char *const *urls;
	size_t nurls;
	const char *query;		/* extra query arguments ("type=a&echo=1"), or NULL */
	const char *token;		/* sent as Authorization: Bearer, or NULL */
	const char *token_file;		/* or read from this file */
	double retry_min, retry_max;	/* seconds */
	int64_t retries;		/* consecutive failures before giving up; -1 never */
	int ping_interval;		/* seconds without a pong before a ping; 3x: drop */
	double connect_timeout;		/* seconds to an open WebSocket; 0: 10 */
	size_t max_message;		/* largest inbound message; 0: 16 MiB */
	const char *ca_file;		/* wss: trust only these CAs (PEM), or NULL: the system's */
	int insecure;			/* wss: accept any certificate and host name */
	int compress;			/* offer permessage-deflate (see below) */
	/* The tool calls wsb_client_proved (pub: an acknowledgement); else the
	 * first message from the server proves a connection. */
	int tool_proves;
};

/* The connection settings every client tool takes from its options:
 * --url, --token(-file), --retry-*, --retries, --cafile, --insecure,
 * --connect-timeout, --ping-interval, --max-message. */
void wsb_client_cfg_from(struct wsb_client_cfg *cc, const struct wsb_cfg *cfg, const char *query);

struct wsb_client *wsb_client_new(const struct wsb_client_cfg *cfg, const struct wsb_client_ops *ops,
				  void *ud, struct wsb_err *err);
void wsb_client_free(struct wsb_client *c);

/* Serves the connection (connecting first) until wsb_client_stop, a final
 * close, or an unrecoverable error. Returns 0, or -1 with err. */
int wsb_client_run(struct wsb_client *c, struct wsb_err *err);
/* Ends wsb_client_run at the next loop turn, without a close handshake. */
void wsb_client_stop(struct wsb_client *c);
/* Closes with 1000 once pending writes are out; closed() then reports -1. */
void wsb_client_close(struct wsb_client *c);
/* Closes the open connection with 1001 and reconnects as after a lost one
 * (the next URL, after the backoff): the server refused something the
 * client must send again elsewhere or later. */
void wsb_client_reconnect(struct wsb_client *c, const char *why);

/* This connection did what it is for: the backoff and the count of failed
 * attempts (retries) start over. Until then an open connection that ends
 * counts as a failed attempt, its delay growing like a refused connect's. */
void wsb_client_proved(struct wsb_client *c);

/* Ask for a writable() callback when the connection is open. */
void wsb_client_want_write(struct wsb_client *c);
/* From writable(): frames msg into the current batch. Returns 1, 0 when
 * the batch is full (send it at the next writable()), or -1 when msg cannot
 * be held (out of memory): the run then ends with that error (exit 71). */
int wsb_client_send(struct wsb_client *c, const char *msg, size_t len);

/* Serve fd (e.g. 0) as input in the event loop; see in_buf/in_data. */
int wsb_client_input(struct wsb_client *c, int fd, struct wsb_err *err);
void wsb_client_input_resume(struct wsb_client *c);

/* The exit status for a connection that ended for good with code (from
 * closed()): WSB_EXIT_NOPERM for 401/403/1008, WSB_EXIT_CONFIG for 404 (no
 * WebSocket at that path: retrying cannot help, closed() gets it at once
 * with a reason that names the path the server's / advertises) and for
 * WSB_CLIENT_SCHEME or WSB_CLIENT_TLS_TRUST,
 * WSB_EXIT_DATAERR for 1009/1003/1002/1007, else WSB_EXIT_UNAVAILABLE. */
int wsb_client_exit_code(int code);
/* From opened(): "connected to URL", or after failed attempts "reconnected
 * to URL after 12 s" (1: worth saying as loudly as the failures were). */
int wsb_client_open_text(const struct wsb_client *c, char *out, size_t cap);
/* closed()'s code and reason as one line naming the URL: a failed attempt
 * ("cannot connect to URL: connection refused", "...: the broker speaks
 * TLS: use wss://") or a lost connection ("disconnected from URL (...)"). */
void wsb_client_fail_text(const struct wsb_client *c, int code, const char *reason, char *out, size_t cap);
/* The reason for a refused upgrade: for 401/403 in words, without lws's
 * text or the token ("no token given (...)", "token refused"), else
 * lws_text. */
const char *wsb_client_refusal(int status, const char *lws_text, int token_given);
/* Appends "name=<value percent-encoded>" to a query string (with '&' when
 * not empty). Returns 0, or -1 if it does not fit in cap. */
int wsb_client_query_add(char *q, size_t cap, const char *name, const char *value);

/* Calls deferred() once the events of this loop turn are handled: how sub
 * writes every message of one network read with one write(2). */
void wsb_client_defer(struct wsb_client *c);

/* Replaces the extra query arguments for the next connection attempt (e.g.
 * since=SEQ&epoch=E on a reconnect). -1 if the result is too long. */
int wsb_client_set_query(struct wsb_client *c, const char *query);

/* From closed() with retry_ms >= 0: start the next attempt at once rather
 * than after the backoff delay (a slow-consumer close, where every moment
 * waited widens what has to be caught up). */
void wsb_client_retry_now(struct wsb_client *c);

/* Calls tick() every ms milliseconds from now on. */
void wsb_client_every(struct wsb_client *c, int64_t ms);

/* One-shot timer: timer() fires after ms (replaces a pending one); ms < 0
 * cancels. */
void wsb_client_timer(struct wsb_client *c, int64_t ms);

#endif

/* wsserver_int — what the two files of the server transport share:
 * wsserver.c (sockets, WebSocket connections, batched writes, the loop) and
 * wsserver_http.c (plain HTTP requests and their POST bodies). Private to
 * them; the door's request-only checks are wsdoor.c's.
 */
#ifndef WSB_WSSERVER_INT_H
#define WSB_WSSERVER_INT_H

#include <stdint.h>

#include <libwebsockets.h>

#include "buf.h"
#include "pmd.h"
#include "wsserver.h"

/* A batch is what one WRITEABLE callback sends in one lws_write(RAW): big
 * enough that a busy subscriber costs one syscall per few hundred messages
 * (see docs/design.md), small enough to keep per-client latency even. */
#define BATCH 65536
#define SHUTDOWN_GRACE_MS 2000
#define CLOSE_GRACE_S 10
/* lws's own receive buffer per connection: lwsio reads into a shared one
 * and hands lws only control frames (wssrx.h), whose payload is at most
 * 125 bytes; permessage-deflate wants 128 at least. */
#define RX_LWS 128

struct wsb_conn {
	struct lws *wsi;
	void *sess;			/* the program's, from joined() */
	struct wsb_conn *prev, *next;
	struct wsb_buf rx;		/* reassembly of a fragmented message */
	int rx_open;			/* a message has begun and not ended */
	uint64_t rx_since;		/* when it began, monotonic ms */
	size_t rx_counted;		/* reassembly bytes as counted in partial_bytes */
	int taking;			/* lwsio's receive path has its data frames */
	struct wsb_inflate *inflate;	/* its compressed messages' context, from the first */
	int close_code;			/* set: close at the next chance */
	int close_sent;
	char *close_reason;		/* ours, for the log (malloc'd) */
	int paused;
	int throttled;			/* --rate-policy pause: unread until sul_throttle */
	lws_sorted_usec_list_t sul_throttle;
	struct wsb_grant *grant;	/* what the door granted (malloc'd), or NULL: none asked */
	int is_ws;
	int unmasked;			/* sent an unmasked frame: close 1002 when writable */
	int counted;			/* in server.nconns */
	int browser;			/* the upgrade had an Origin header */
	char peer[48];			/* remote address, for --max-connections-per-ip */
	char *query;			/* what the program set to show of its query; NULL: "" */
	int peer_code;			/* the client's close code, 0: none yet */
	char *peer_reason;		/* its reason (malloc'd), or NULL */
	int compress;			/* negotiated permessage-deflate */
	struct wsb_conn_http *http;	/* plain HTTP only, made at its first request */
};

/* A plain HTTP request's body, and an answer given after it: apart, so a
 * WebSocket connection (thousands idle) does not carry it. */
struct wsb_conn_http {
	struct wsb_buf body;
	size_t body_counted;		/* body.cap as counted in partial_bytes */
	int body_on;			/* the program asked for this request's body */
	int waiting;			/* the body went to the program; no answer yet */
	char *ans;			/* the answer, written at HTTP_WRITEABLE */
	size_t ans_len;
	unsigned ans_status;
	unsigned ans_retry;		/* retry-after seconds; 0: none */
};

struct wsb_server {
	const struct wsb_cfg *cfg;
	struct wsb_server_ops ops;
	void *ud;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct wsb_conn *conns;
	unsigned char *scratch;		/* LWS_PRE + hard cap, shared by every write */
	size_t hard;
	const struct wsb_access *access;	/* the door's credentials */
	const struct wsb_strlist *origins;	/* --allow-origin */
	int pressure;
	size_t partial_bytes;		/* reassembly memory of unfinished messages */
	int stopping;
	uint64_t stop_at;		/* wsb_mono_ns */
	lws_retry_bo_t retry;
	lws_sorted_usec_list_t sul_tick, sul_timer;
	/* wsserver_rx.c: descriptors to read again (held bytes, wssrx.h),
	 * and the inflated form of a compressed message (shared) */
	lws_sorted_usec_list_t sul_more;
	struct wsb_buf more;
	struct wsb_buf inflated;
	char iface[64];			/* --listen host as a numeric address */
	/* the door: connection limits and the descriptor-limit episode */
	uint64_t max_conns, nconns;
	struct lws *listen_wsi;		/* learnt from the first accept */
	int emfile;			/* in an accept-failure episode */
	uint64_t emfile_at;		/* the episode's last failed accept (wsb_mono_ns) */
};

/* wsserver_http.c: the plain HTTP callbacks (HTTP, HTTP_BODY,
 * HTTP_BODY_COMPLETION, HTTP_WRITEABLE, CLOSED_HTTP) for c, lws's user
 * space of wsi. */
/* Gives back c's HTTP part (telling the program if an answer was awaited). */
void wsb_srv_http_free(struct wsb_server *s, struct wsb_conn *c);
int wsb_srv_http(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, enum lws_callback_reasons reason,
		 void *in, size_t len);

/* wsserver_rx.c: bytes held for unfinished inbound data went from old to now. */
void wsb_srv_partial(struct wsb_server *s, size_t old, size_t now);
/* wsserver_rx.c: c's data frames to lwsio's receive path (at ESTABLISHED). */
int wsb_srv_rx_start(struct wsb_server *s, struct wsb_conn *c);
/* wsserver_rx.c: a message lws parsed (RECEIVE), begun with the upgrade. */
int wsb_srv_receive(struct wsb_server *s, struct wsb_conn *c, const char *in, size_t len);
/* wsserver_rx.c: c's unfinished message is dropped (and uncounted). */
void wsb_srv_rx_drop(struct wsb_server *s, struct wsb_conn *c);
/* wsserver_rx.c: --message-timeout, from the tick. */
void wsb_srv_deadlines(struct wsb_server *s);
void wsb_srv_rx_free(struct wsb_server *s);
/* wsserver.c: c's name in log lines, or none before it has a session. */
const char *wsb_srv_name(struct wsb_server *s, struct wsb_conn *c, const char *none);

#endif

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
#include "wsctl.h"
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

struct wsb_own_out;

/* --rate-policy pause: a throttled connection's timer, made at its
 * first throttle (most connections never are). */
struct wsb_throttle {
	lws_sorted_usec_list_t sul;
	struct wsb_conn *c;
};

/* Thousands of these sit idle: flags are bytes, and what only some
 * connections use is behind pointers (docs/design.md). */
struct wsb_conn {
	struct lws *wsi;		/* lws's connection; NULL once it is our own */
	struct wsb_server *srv;
	void *sess;			/* the program's, from joined() */
	struct wsb_conn *prev, *next;
	struct wsb_buf rx;		/* reassembly of a message lws parsed (began with the upgrade) */
	uint64_t rx_since;		/* when the open message began, monotonic ms */
	size_t rx_counted;		/* reassembly bytes as counted in partial_bytes */
	struct wsb_inflate *inflate;	/* its compressed messages' context, from the first */
	char *close_reason;		/* ours, for the log (and our frame) (malloc'd) */
	char *peer_reason;		/* the client's close reason (malloc'd), or NULL */
	struct wsb_grant *grant;	/* what the door granted (malloc'd), or NULL: none asked */
	char *query;			/* what the program set to show of its query; NULL: "" */
	struct wsb_conn_http *http;	/* plain HTTP only, made at its first request */
	struct wsb_throttle *throttle;	/* --rate-policy pause: unread until it fires */
	int close_code;			/* set: close at the next chance */
	int peer_code;			/* the client's close code, 0: none yet */
	uint8_t rx_open;		/* a message has begun and not ended */
	uint8_t taking;			/* lwsio's receive path has its data frames */
	uint8_t close_sent;
	uint8_t paused;
	uint8_t throttled;
	uint8_t is_ws;
	uint8_t unmasked;		/* sent an unmasked frame: close 1002 when writable */
	uint8_t counted;		/* in server.nconns */
	uint8_t browser;		/* the upgrade had an Origin header */
	uint8_t compress;		/* negotiated permessage-deflate */
	/* An own connection (wsserver_own.c): read and written by us. */
	uint8_t own;
	uint8_t queued;			/* in server.wakes */
	uint8_t ev_in, ev_out;		/* what epoll watches for */
	uint8_t peer_closed;		/* the client's close frame came */
	uint8_t close_echo;		/* ... and ours answers it */
	uint8_t pinged;			/* a ping went since the last pong */
	uint8_t broken;			/* a write failed inside a read: drop it */
	int fd;				/* its descriptor (a dup of lws's) */
	uint32_t valid_s;		/* the last pong (or the upgrade), seconds */
	uint32_t close_at;		/* when the close began, seconds */
	struct wsb_own_out *out;	/* what the socket has not taken yet, or NULL */
	struct wsb_wsctl ctl;		/* control frames split over reads */
	char peer[48];			/* remote address, for --max-connections-per-ip */
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
	/* wsserver_own.c: our own connections' epoll set (watched by lws),
	 * and those to write at the end of this turn */
	int efd;
	struct wsb_watch *ew;
	struct wsb_buf wakes;		/* struct wsb_conn * */
	lws_sorted_usec_list_t sul_flush;
	uint32_t own_tick_s;
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
/* wsserver_rx.c: c's throttle timer, cancelled and freed. */
void wsb_srv_throttle_free(struct wsb_conn *c);
/* wsserver_rx.c: --message-timeout, from the tick. */
void wsb_srv_deadlines(struct wsb_server *s);
void wsb_srv_rx_free(struct wsb_server *s);
/* wsserver.c: c's name in log lines, or none before it has a session. */
const char *wsb_srv_name(struct wsb_server *s, struct wsb_conn *c, const char *none);
/* wsserver.c: c is gone: off the list, logged, its session left(). */
void wsb_srv_unlink(struct wsb_server *s, struct wsb_conn *c);
/* wsserver.c: c sent an unmasked frame: 1002. */
void wsb_srv_close_unmasked(struct wsb_server *s, struct wsb_conn *c);
/* wsserver_rx.c: a close c caused by what it sent, logged once. */
void wsb_srv_close_logged(struct wsb_server *s, struct wsb_conn *c, int code, const char *why);

/* c's socket, lws's or its own. */
static inline int wsb_srv_fd(const struct wsb_conn *c)
{
	return c->own ? c->fd : lws_get_socket_fd(c->wsi);
}

/* wsserver_own.c: connections taken from lws (see there). */
int wsb_own_init(struct wsb_server *s);
void wsb_own_free(struct wsb_server *s);
int wsb_own_take(struct wsb_server *s, struct wsb_conn *c, int fd);
void wsb_own_start(struct wsb_server *s, struct wsb_conn *c);
void wsb_own_wake(struct wsb_conn *c);
void wsb_own_closing(struct wsb_conn *c);
/* What epoll watches for follows c's pause, throttle and kept bytes. */
void wsb_own_arm(struct wsb_conn *c);
void wsb_own_read(struct wsb_server *s, struct wsb_conn *c);
void wsb_own_tick(struct wsb_server *s);

#endif

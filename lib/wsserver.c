#include "wsserver.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "admit.h"
#include "buf.h"
#include "log.h"
#include "lwsglue.h"
#include "lwsio.h"
#include "pmd.h"
#include "proto.h"
#include "sys.h"
#include "wsdoor.h"

#include "wsserver_int.h"

/* Seconds since t0 (a wsb_mono_ns reading). */
static double since(uint64_t t0)
{
	return (double)(wsb_mono_ns() - t0) / 1e9;
}

/* What the program may do to a connection. */

static void timer_cb(lws_sorted_usec_list_t *sul);

void wsb_server_stop(struct wsb_server *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	s->stop_at = wsb_mono_ns();
	for (struct wsb_conn *k = s->conns; k; k = k->next)
		wsb_server_close(k, WSB_CLOSE_GOING_AWAY, "server shutting down");
	lws_cancel_service(s->ctx);	/* the loop looks at stopping after this turn */
}

void *wsb_server_sess(const struct wsb_conn *c)
{
	return c->sess;
}

int wsb_server_browser(const struct wsb_conn *c)
{
	return c->browser;
}

void wsb_server_wake(struct wsb_conn *c)
{
	if (c->own)
		wsb_own_wake(c);
	else
		lws_callback_on_writable(c->wsi);
}

void wsb_server_close(struct wsb_conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	/* lws keeps its own copy for the close frame; ours is for the log
	 * (and for the frame, on our own connections). */
	c->close_reason = strdup(reason);
	if (c->own) {
		wsb_own_closing(c);
		return;
	}
	lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)reason,
			 strnlen(reason, 123));
	/* A slow consumer's socket may never become writable again. The close
	 * frame waits behind what the kernel already holds; a client that
	 * reads again within the grace period sees the code, and the timeout
	 * frees the socket of one that never does. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
	lws_callback_on_writable(c->wsi);
}

int wsb_server_compressed(const struct wsb_conn *c)
{
	return c->compress;
}

/* --compress: lws negotiates permessage-deflate and inflates what clients
 * send; this says which offers it may take (ours only has to be readable:
 * see pmd.h), and, asked again at ESTABLISHED, which connections took it. */
static int pmd_ok(struct wsb_server *s, struct lws *wsi)
{
	char h[512];

	return s->cfg->compress && lws_hdr_copy(wsi, h, sizeof h, WSI_TOKEN_EXTENSIONS) > 0 && wsb_pmd_offer_ok(h);
}

const struct wsb_grant *wsb_server_grant(const struct wsb_conn *c)
{
	return c->grant;
}

void wsb_server_set_door(struct wsb_server *s, const struct wsb_access *access, const struct wsb_strlist *origins)
{
	s->access = access;
	s->origins = origins;
}

void wsb_server_timer(struct wsb_server *s, int64_t us)
{
	lws_sul_schedule(s->ctx, 0, &s->sul_timer, timer_cb, us);
}

void wsb_server_stats(const struct wsb_server *s, struct wsb_server_stats *st)
{
	st->partial_bytes = s->partial_bytes;
	st->publishers_paused = s->pressure;
	st->stopping = s->stopping;
}

const char *wsb_server_peer(const struct wsb_conn *c)
{
	return c->peer;
}

/* The door lets in only the configured path. */
const char *wsb_server_path(const struct wsb_conn *c)
{
	return c->srv->cfg->path;
}

const char *wsb_server_query(const struct wsb_conn *c)
{
	return c->query ? c->query : "";
}

void wsb_server_set_query(struct wsb_conn *c, const char *text)
{
	char *q = strdup(text);

	if (q) {	/* out of memory: the old text stays */
		free(c->query);
		c->query = q;
	}
}

struct wsb_conn *wsb_server_next(const struct wsb_server *s, const struct wsb_conn *c)
{
	return c ? c->next : s->conns;
}

int wsb_server_arg(struct wsb_conn *c, int i, char *buf, size_t cap)
{
	int n;

	if (!c->wsi)		/* own: the upgrade's head is gone (joined() is over) */
		return -1;
	if (lws_hdr_fragment_length(c->wsi, WSI_TOKEN_HTTP_URI_ARGS, i) <= 0)
		return -1;
	n = lws_hdr_copy_fragment(c->wsi, buf, (int)cap, WSI_TOKEN_HTTP_URI_ARGS, i);
	return n > 0 ? n : 0;
}

/* HTTP: the program's documents and JSON errors. */

/* The door's answers (wsdoor.h), as every refusal here is written. */
static int refuse(struct lws *wsi, int status, const char *reason, const char *error, const char *extra)
{
	return wsb_door_refuse(wsi, status, reason, error, extra);
}

int wsb_server_reply(struct wsb_http_req *rq, unsigned status, const char *ctype, const char *const *hdrs,
		     const char *body, size_t len)
{
	return wsb_door_reply(rq->wsi, status, ctype, hdrs, body, len);
}

int wsb_server_refuse(struct wsb_http_req *rq, int status, const char *reason, const char *error,
		      const char *extra)
{
	return refuse(rq->wsi, status, reason, error, extra);
}

static int grant_of(struct wsb_server *s, struct lws *wsi, struct wsb_grant *g, const char **why)
{
	return wsb_door_grant(wsi, s->access, g, why);
}

/* Not check_token: an HTTP request is answered 401 whatever its Origin (the
 * 1008 for browsers is for WebSocket clients only). */
int wsb_server_authorize(struct wsb_http_req *rq)
{
	struct wsb_server *s = lws_context_user(lws_get_context(rq->wsi));
	struct wsb_grant g;
	const char *why = NULL;
	char peer[48] = "?";

	if (grant_of(s, rq->wsi, &g, &why) == 0)
		return 0;
	lws_get_peer_simple(rq->wsi, peer, sizeof peer);
	wsb_log(WSB_LOG_INFO, "refused GET %s from %s: %s", rq->path, peer, why);
	return refuse(rq->wsi, 401, "Unauthorized", why, "www-authenticate: Bearer\r\n");
}



/* A browser sees an HTTP 401 only as close 1006 with no reason, and the
 * old servers' clients stop reconnecting on 1008: so a browser's upgrade
 * (one with an Origin, which passed the Origin check) is let through and
 * closed with 1008 as soon as it opens (join); every other client gets the
 * 401 with the reason. */
static int check_token(struct wsb_server *s, struct lws *wsi, const char *peer)
{
	struct wsb_grant g;
	const char *why = NULL;

	if (!wsb_access_on(s->access))
		return 0;
	if (grant_of(s, wsi, &g, &why) < 0) {
		if (wsb_door_browser(wsi))
			return 0;	/* a browser: opened, then closed 1008 (join) */
		struct wsb_log_ctx lc = { .remote = peer, .status = 401, .reason = why };

		wsb_logx(WSB_LOG_INFO, &lc, "refused a connection from %s: %s", peer, why);
		return refuse(wsi, 401, "Unauthorized", why, "www-authenticate: Bearer\r\n");
	}
	return wsb_door_scope(wsi, &g, peer);
}

/* Cross-site WebSocket hijacking: any page a user opens may connect here. */
static int check_origin(struct wsb_server *s, struct lws *wsi, const char *peer)
{
	char origin[256], host[256] = "", shown[100];
	int has = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
	int n = has ? lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) : 0;

	if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0)
		host[0] = '\0';
	if (n >= 0 && wsb_admit_origin(has ? origin : NULL, host, s->cfg->tls_cert != NULL,
				       s->origins, s->cfg->listen_host))
		return 0;
	struct wsb_log_ctx lc = { .remote = peer, .status = 403, .reason = "origin not allowed" };

	wsb_admit_printable(shown, sizeof shown, n >= 0 ? origin : "(too long)");
	wsb_logx(WSB_LOG_INFO, &lc, "refused a connection from %s: origin %s not allowed (see --allow-origin)",
		 peer, shown);
	return refuse(wsi, 403, "Forbidden", "origin not allowed", NULL);
}

/* --max-connections and --max-connections-per-ip count WebSocket clients;
 * plain HTTP requests stay answered when they are reached. */
static int check_limits(struct wsb_server *s, struct lws *wsi, const char *peer)
{
	uint64_t same = 0, per_ip = s->cfg->max_connections_per_ip;
	struct wsb_log_ctx lc = { .remote = peer, .status = 503, .reason = "too many connections" };

	if (s->nconns >= s->max_conns) {
		wsb_logx(WSB_LOG_INFO, &lc, "refused a connection from %s: %" PRIu64 " clients (--max-connections)",
			 peer, s->nconns);
		return refuse(wsi, 503, "Service Unavailable", "too many connections", "retry-after: 1\r\n");
	}
	for (struct wsb_conn *c = s->conns; per_ip && c; c = c->next)
		same += c->counted && !strcmp(c->peer, peer);
	if (per_ip && same >= per_ip) {
		wsb_logx(WSB_LOG_INFO, &lc, "refused a connection from %s: %" PRIu64 " clients from it "
			 "(--max-connections-per-ip)", peer, same);
		return refuse(wsi, 503, "Service Unavailable", "too many connections from this address",
			      "retry-after: 1\r\n");
	}
	return 0;
}

/* The door, before lws answers an upgrade (HTTP_CONFIRM_UPGRADE) and
 * before the program hears of it: path, shutdown, RFC 6455 handshake, Origin,
 * connection limits, token. Each refusal is an HTTP status with a JSON body. */
static int filter_handshake(struct wsb_server *s, struct lws *wsi, const char *upgrade)
{
	char uri[512], peer[48] = "?";

	if (strcasecmp(upgrade, "websocket"))
		return refuse(wsi, 400, "Bad Request", "only websocket upgrades", NULL);
	lws_get_peer_simple(wsi, peer, sizeof peer);
	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, s->cfg->path))
		return refuse(wsi, 404, "Not Found", "not found", NULL);
	if (s->stopping)
		return refuse(wsi, 503, "Service Unavailable", "shutting down", NULL);
	if (wsb_door_upgrade(wsi) || check_origin(s, wsi, peer) || check_limits(s, wsi, peer))
		return -1;
	return check_token(s, wsi, peer);
}

/* lws rewrites the RFC's reserved close codes to 1002 before echoing, but
 * echoes codes >= 5000 and answers a 1-byte payload with an empty close;
 * both are protocol errors (RFC 6455 §5.5.1, §7.4). */
static int peer_close(struct wsb_conn *c, struct lws *wsi, const unsigned char *p, size_t len)
{
	static const char why[] = "invalid close payload";

	if (len != 1 && (len < 2 || ((p[0] << 8) | p[1]) < 5000)) {
		c->peer_code = len >= 2 ? (p[0] << 8) | p[1] : 1005;	/* 1005: no code given */
		free(c->peer_reason);
		c->peer_reason = strndup(len > 2 ? (const char *)p + 2 : "", len > 2 ? len - 2 : 0);
		return 0;
	}
	lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)why, sizeof why - 1);
	return -1;
}

/* After the door: the connection is the program's from here, but for a
 * browser whose credential was refused (check_token), which never reaches
 * it: closed 1008 with the old servers' words. The grant is decided again
 * (an HMAC at most) rather than carried over from the door's callback. */
static void join(struct wsb_server *s, struct wsb_conn *c)
{
	const char *why = NULL;
	struct wsb_grant g;
	int refused = wsb_access_on(s->access) && grant_of(s, c->wsi, &g, &why) < 0;

	c->is_ws = 1;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	/* Kept only where there is one: most brokers run without tokens. A
	 * grant that cannot be kept must not read as "none required". */
	if (wsb_access_on(s->access) && !refused && !(c->grant = malloc(sizeof g))) {
		wsb_server_close(c, WSB_CLOSE_INTERNAL, "internal error");
		return;
	}
	if (c->grant)
		*c->grant = g;
	if (refused) {
		wsb_log(WSB_LOG_INFO, "refused a connection from %s: %s (closed 1008 for a browser)", c->peer, why);
		wsb_server_close(c, WSB_CLOSE_POLICY,
				 strcmp(why, "authentication required") ? "Invalid token" : "Authentication required");
		return;
	}
	c->sess = s->ops.joined(s->ud, c);
	if (!c->sess)
		wsb_server_close(c, WSB_CLOSE_INTERNAL, "internal error");
}

const char *wsb_srv_name(struct wsb_server *s, struct wsb_conn *c, const char *none)
{
	return c->sess ? s->ops.name(s->ud, c->sess) : none;
}

/* One line per connection that ends, with the close that ended it: ours,
 * the client's, or none (1006, as RFC 6455 §7.1.5 names it). */
static void log_gone(struct wsb_server *s, struct wsb_conn *c)
{
	struct wsb_log_ctx lc = { wsb_srv_name(s, c, NULL), c->peer, c->close_code, 0,
				  c->close_reason ? c->close_reason : "" };

	if (!c->close_code) {
		lc.code = c->peer_code ? c->peer_code : 1006;
		lc.reason = !c->peer_code ? "closed without a close frame" : c->peer_reason ? c->peer_reason : "";
	}
	wsb_logx(WSB_LOG_DEBUG, &lc, "client %s (%s) disconnected: %d%s%s%s", lc.client ? lc.client : "-", c->peer,
		 lc.code, *lc.reason ? " (" : "", lc.reason, *lc.reason ? ")" : "");
}

void wsb_srv_unlink(struct wsb_server *s, struct wsb_conn *c)
{
	if (!c->is_ws)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->is_ws = 0;
	log_gone(s, c);
	if (c->sess) {
		void *sess = c->sess;

		c->sess = NULL;
		s->ops.left(s->ud, sess);
	}
	wsb_srv_rx_drop(s, c);
	free(c->query);
	free(c->grant);
	free(c->close_reason);
	free(c->peer_reason);
	c->query = c->close_reason = c->peer_reason = NULL;
	c->grant = NULL;
}

/* RFC 6455 §5.1: a client frame without the mask bit fails the connection.
 * lws 4.1.6 does not check it, so lwsio does, on the bytes before lws sees
 * them, and withholds the frame; this runs inside lws's read, so it only
 * notes it and the close goes out from WRITEABLE. */
static void guard_hook(void *owner)
{
	struct wsb_conn *c = owner;

	c->unmasked = 1;
	wsb_server_wake(c);
}

void wsb_srv_close_unmasked(struct wsb_server *s, struct wsb_conn *c)
{
	static const char why[] = "unmasked frame from the client";

	if (c->close_code)
		return;
	struct wsb_log_ctx lc = { wsb_srv_name(s, c, NULL), c->peer, LWS_CLOSE_STATUS_PROTOCOL_ERR, 0, why };

	wsb_logx(WSB_LOG_INFO, &lc, "closing %s: %s (1002)", wsb_srv_name(s, c, c->peer), why);
	wsb_server_close(c, LWS_CLOSE_STATUS_PROTOCOL_ERR, why);
}

static int writable(struct wsb_server *s, struct wsb_conn *c)
{
	size_t n;

	if (c->unmasked)
		wsb_srv_close_unmasked(s, c);

	/* Return -1 once: lws then sends the close frame and waits for the
	 * client's; a second -1 while it waits would drop the socket at once. */
	if (c->close_code)
		return c->close_sent ? 0 : (c->close_sent = 1, -1);
	if (lws_partial_buffered(c->wsi)) {	/* the last batch is still going out */
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	n = s->ops.take(s->ud, c->sess, s->scratch + LWS_PRE, BATCH, s->hard);
	if (n && lws_write(c->wsi, s->scratch + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
		return -1;
	if (s->ops.pending(s->ud, c->sess))
		lws_callback_on_writable(c->wsi);
	else if (s->stopping)
		wsb_server_close(c, WSB_CLOSE_GOING_AWAY, "server shutting down");
	return 0;
}

static int watch_new(int fd)
{
	struct wsb_err err;

	if (!wsb_lwsio_watch(fd, WSB_WSGUARD_SERVER, &err))
		return 0;
	/* Unchecked, it could send unmasked frames: not taken. */
	wsb_log(WSB_LOG_ERROR, "refusing a connection: %s", err.msg);
	return -1;
}

/* A plain connection lws holds no frame of becomes our own
 * (wsserver_own.c): c is then ours, not lws's user space, which is given
 * back; and the non-zero return has lws close its part without a close
 * frame or a shutdown (lwsio skips it), the socket living on in a dup. */
static int established(struct wsb_server *s, struct lws *wsi, struct wsb_conn *c)
{
	struct wsb_conn *own = lws_is_ssl(wsi) || lws_partial_buffered(wsi) ? NULL : calloc(1, sizeof *own);

	if (own && wsb_own_take(s, own, lws_get_socket_fd(wsi))) {
		free(own);
		own = NULL;
	}
	if (own) {
		wsb_srv_http_free(s, c);	/* upgraded after a plain request */
		lws_set_wsi_user(wsi, NULL);	/* frees c */
		c = own;
	} else {
		wsb_srv_http_free(s, c);	/* likewise (the memset would lose it) */
		memset(c, 0, sizeof *c);
		c->fd = -1;
	}
	c->wsi = wsi;
	c->srv = s;
	c->counted = 1;
	s->nconns++;
	lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
	c->browser = wsb_door_browser(wsi);
	c->compress = pmd_ok(s, wsi);
	if (wsb_lwsio_attach(wsb_srv_fd(c), guard_hook, c) == 1)
		c->unmasked = 1;	/* came with the upgrade request */
	join(s, c);
	/* Our own connection reads on even when the join closed it: its
	 * close handshake needs the client's answer (data is ignored). */
	if ((own || !c->close_code) && wsb_srv_rx_start(s, c))
		wsb_server_close(c, WSB_CLOSE_INTERNAL, "internal error");
	if (c->unmasked)
		wsb_srv_close_unmasked(s, c);
	if (own)
		wsb_own_start(s, c);
	return own != NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct wsb_server *s = lws_context_user(lws_get_context(wsi));
	struct wsb_conn *c = user;
	int sig;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
	case LWS_CALLBACK_HTTP_BODY:
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
	case LWS_CALLBACK_HTTP_WRITEABLE:
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		return wsb_srv_http(s, c, wsi, reason, in, len);
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* wsi is the listener here (user is lws's accept args): the
		 * only public way to reach it, for pause_accepting. in is the
		 * new socket: watched from its first byte, because a client may
		 * send frames in the same packet as its upgrade request. */
		s->listen_wsi = wsi;
		return watch_new((int)(lws_intptr_t)in);
	case LWS_CALLBACK_CONFIRM_EXTENSION_OKAY:
		return !pmd_ok(s, wsi);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return filter_handshake(s, wsi, in);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return 0;		/* decided at HTTP_CONFIRM_UPGRADE */
	case LWS_CALLBACK_ESTABLISHED:
		return established(s, wsi, c);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		return peer_close(c, wsi, in, len);
	case LWS_CALLBACK_RECEIVE:
		return wsb_srv_receive(s, c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writable(s, c);
	case LWS_CALLBACK_CLOSED:
		if (!c)
			return 0;	/* taken over: the connection lives on as our own */
		wsb_lwsio_unwatch(lws_get_socket_fd(wsi));	/* c is going: no hook into it */
		wsb_srv_throttle_free(c);
		wsb_srv_http_free(s, c);	/* upgraded after a plain request */
		if (c->counted)
			s->nconns--;
		c->counted = 0;
		wsb_srv_unlink(s, c);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (wsb_lwsglue_hupped() && s->ops.reload)
			s->ops.reload(s->ud);
		if (!s->stopping && (sig = wsb_lwsglue_signal())) {
			wsb_log(WSB_LOG_INFO, "signal %d: %s", sig,
				s->conns ? "closing all clients" : "no clients to close");
			wsb_server_stop(s);
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- descriptors of the program's, in the same loop (a Redis connection) ---- */

struct wsb_watch {
	struct lws *wsi;		/* NULL once lws closed it */
	void (*event)(void *ud, void *h, int writable);
	void *ud, *h;
};

/* lws owns a dup of the descriptor, so each side closes its own: the
 * owner's library (hiredis) closes the original whenever it likes. */
struct wsb_watch *wsb_server_watch(struct wsb_server *s, int fd, void (*event)(void *ud, void *h, int writable),
				   void *ud, void *h)
{
	struct wsb_watch *w = calloc(1, sizeof *w);
	lws_sock_file_fd_type d;

	if (!w)
		return NULL;
	d.filefd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d.filefd < 0 ||
	    !(w->wsi = lws_adopt_descriptor_vhost(s->vh, LWS_ADOPT_RAW_FILE_DESC, d, "wsbridge-watch", NULL))) {
		free(w);	/* lws closed the dup */
		return NULL;
	}
	w->event = event;
	w->ud = ud;
	w->h = h;
	lws_set_wsi_user(w->wsi, w);
	return w;
}

void wsb_server_watch_write(struct wsb_watch *w)
{
	if (w->wsi)
		lws_callback_on_writable(w->wsi);
}

void wsb_server_unwatch(struct wsb_watch *w)
{
	if (w->wsi) {
		lws_set_wsi_user(w->wsi, NULL);
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
	}
	free(w);
}

/* The owner reads and writes itself (lws only polls); at a hang-up lws
 * closes its dup, and one more readable event lets the owner see the end. */
static int watch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct wsb_watch *w = user;

	if (!w)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		w->event(w->ud, w->h, 0);
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		w->event(w->ud, w->h, 1);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		w->wsi = NULL;
		lws_set_wsi_user(wsi, NULL);
		w->event(w->ud, w->h, 0);	/* may unwatch (free) w */
		return 0;
	default:
		return 0;
	}
}

#define TICK_US (100 * LWS_US_PER_MS)
/* In a descriptor-limit episode, retry accept() this often even if no
 * socket of ours closed (a descriptor freed elsewhere also counts), and end
 * the episode (log it) after this long without a failed accept. */
#define ACCEPT_RETRY_S 1.0
#define ACCEPT_QUIET_S 5.0

/* At EMFILE lws logs, leaves the connection queued and returns; poll()
 * reports the listener readable at once again: a busy loop writing a log
 * line per turn. So stop polling the listener instead. lws itself polls it
 * again whenever one of its sockets closes (lws_accept_modulation), and
 * door_tick retries once a second, so at most one failed accept per freed
 * descriptor or second, and one log line per episode. */
static void pause_accepting(struct wsb_server *s)
{
	int e = wsb_lwsglue_accept_errno();

	if (!e)
		return;
	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		wsb_log(WSB_LOG_DEBUG, "accept: %s", strerror(e));	/* that one connection */
		return;
	}
	if (!s->emfile)
		wsb_log(WSB_LOG_ERROR, "accept: %s with %" PRIu64 " WebSocket clients: not accepting until a "
			"descriptor frees (raise ulimit -n or lower --max-connections)", strerror(e), s->nconns);
	s->emfile = 1;
	s->emfile_at = wsb_mono_ns();
	if (s->listen_wsi)
		lws_rx_flow_control(s->listen_wsi, 0);
}

static void door_tick(struct wsb_server *s)
{
	if (!s->emfile || !s->listen_wsi)
		return;
	if (since(s->emfile_at) >= ACCEPT_RETRY_S)
		lws_rx_flow_control(s->listen_wsi, 1);
	if (since(s->emfile_at) >= ACCEPT_QUIET_S) {
		s->emfile = 0;
		wsb_log(WSB_LOG_WARN, "accepting connections again");
	}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct wsb_server *s = lws_container_of(sul, struct wsb_server, sul_tick);

	s->ops.tick(s->ud);
	door_tick(s);
	wsb_srv_deadlines(s);
	wsb_own_tick(s);
	lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick, TICK_US);
}

static void timer_cb(lws_sorted_usec_list_t *sul)
{
	struct wsb_server *s = lws_container_of(sul, struct wsb_server, sul_timer);

	s->ops.timer(s->ud);
}

static void set_max_conns(struct wsb_server *s)
{
	uint64_t nofile = wsb_admit_raise_nofile(), fit = wsb_admit_conn_budget(nofile);

	s->max_conns = s->cfg->max_connections ? s->cfg->max_connections : fit;
	if (s->max_conns > fit)
		wsb_log(WSB_LOG_WARN, "--max-connections %" PRIu64 " is more than %" PRIu64 " descriptors "
			"allow: past that, new connections wait", s->max_conns, nofile);
}

/* lws's permessage-deflate, for negotiation and inbound inflation only:
 * our LWS_WRITE_RAW batches bypass its compression (ops-ws.c sends RAW
 * before any extension sees it), so frames go out as take() made them. */
static const struct lws_extension pmd_ext[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate, WSB_PMD_OFFER },
	{ NULL, NULL, NULL },
};

static int create_context(struct wsb_server *s, struct wsb_err *err)
{
	static struct lws_protocols protocols[3];
	struct lws_context_creation_info info;
	int ping = s->cfg->ping_interval >= 1 ? (int)s->cfg->ping_interval : 1;

	if (ping > 20000)
		ping = 20000;
	protocols[0] = (struct lws_protocols){
		.name = "wsbridge",
		.callback = callback,
		.per_session_data_size = sizeof(struct wsb_conn),
		.rx_buffer_size = RX_LWS,
		/* Without this lws splits every batch into 4 KiB sends. */
		.tx_packet_size = BATCH,
	};
	protocols[1] = (struct lws_protocols){ .name = "wsbridge-watch", .callback = watch_callback };
	/* lws pings an idle client after `ping` seconds; only a pong counts as a
	 * sign of life, and two missed intervals close the connection. */
	s->retry.secs_since_valid_ping = (uint16_t)ping;
	s->retry.secs_since_valid_hangup = (uint16_t)(ping * 3 > 65535 ? 65535 : ping * 3);

	memset(&info, 0, sizeof info);
	info.port = s->cfg->listen_port;
	info.iface = s->iface[0] ? s->iface : NULL;
	info.protocols = protocols;
	info.user = s;
	info.pt_serv_buf_size = BATCH;
	info.retry_and_idle_policy = &s->retry;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
	if (strchr(s->iface, ':'))
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
	info.vhost_name = "wsbridge";
	if (s->cfg->compress)
		info.extensions = pmd_ext;
	info.timeout_secs = 10;
	if (s->cfg->tls_cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = s->cfg->tls_cert;
		info.ssl_private_key_filepath = s->cfg->tls_key;
		/* No h2: our batched LWS_WRITE_RAW frames would bypass its framing. */
		info.alpn = "http/1.1";
	}
	wsb_lwsglue_clear();
	/* --reuse-port: several instances on one port (lwsio.h says why there) */
	wsb_lwsio_reuse_port(s->cfg->reuse_port);
	s->ctx = wsb_lwsglue_context(&info);
	wsb_lwsio_reuse_port(0);
	if (!s->ctx && wsb_lwsglue_tls_init_failed())
		return wsb_err_set(err, WSB_EXIT_CONFIG, "--tls-cert %s / --tls-key %s: not a PEM certificate and its private key",
				   s->cfg->tls_cert, s->cfg->tls_key);
	if (!s->ctx)
		return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "cannot listen on %s (address in use or not local?)",
				   s->cfg->listen);
	s->vh = lws_get_vhost_by_name(s->ctx, "wsbridge");
	lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick, TICK_US);
	if (wsb_own_init(s))	/* without it, lws keeps every connection */
		wsb_log(WSB_LOG_WARN, "epoll: %s: every connection stays with libwebsockets", strerror(errno));
	return 0;
}

static void set_lws_log(void)
{
	int lwsl = LLL_ERR;

	if (wsb_log_level() >= WSB_LOG_DEBUG + 1)
		lwsl |= LLL_WARN | LLL_NOTICE;
	else if (wsb_log_level() >= WSB_LOG_DEBUG)
		lwsl |= LLL_WARN;
	wsb_lwsglue_log(lwsl, 0);
}

struct wsb_server *wsb_server_new(const struct wsb_server_cfg *cfg, const struct wsb_server_ops *ops,
				  void *ud, struct wsb_err *err)
{
	struct wsb_server *s = calloc(1, sizeof *s);

	if (!s) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	s->cfg = cfg->opts;
	s->ops = *ops;
	s->ud = ud;
	s->efd = -1;
	s->access = cfg->access;
	s->origins = cfg->origins;
	snprintf(s->iface, sizeof s->iface, "%s", cfg->iface);
	s->hard = cfg->max_frame < BATCH ? BATCH : cfg->max_frame;
	s->scratch = malloc(LWS_PRE + s->hard);
	set_lws_log();
	set_max_conns(s);
	if (!s->scratch)
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	if (!s->scratch || create_context(s, err)) {
		wsb_server_free(s);
		return NULL;
	}
	return s;
}

int wsb_server_run(struct wsb_server *s)
{
	int rc = 0;

	wsb_lwsglue_signals(s->ctx, NULL);
	wsb_lwsglue_hup();
	wsb_log(WSB_LOG_INFO, "listening on %s%s%s:%d path %s%s%s", strchr(s->iface, ':') ? "[" : "",
		s->iface[0] ? s->iface : "0.0.0.0", strchr(s->iface, ':') ? "]" : "",
		lws_get_vhost_listen_port(s->vh), s->cfg->path, s->cfg->tls_cert ? " (TLS: https, wss)" : "",
		wsb_access_on(s->access) ? " (token required)" : "");
	/* Said once the signals are ours: a script that stops the broker as
	 * soon as it knows the port gets a clean stop. */
	if (s->ops.listening && s->ops.listening(s->ud, lws_get_vhost_listen_port(s->vh)))
		rc = -1;

	while (!rc && lws_service(s->ctx, 0) >= 0) {
		pause_accepting(s);
		if (!s->stopping)
			continue;
		if (!s->conns || since(s->stop_at) * 1000 > SHUTDOWN_GRACE_MS)
			break;
	}
	if (!rc)
		wsb_log(WSB_LOG_INFO, "stopped");
	wsb_lwsglue_unsignal(s->ctx, NULL);
	return rc;
}

void wsb_server_free(struct wsb_server *s)
{
	if (!s)
		return;
	if (s->ctx) {
		lws_sul_cancel(&s->sul_tick);
		lws_sul_cancel(&s->sul_timer);
		lws_sul_cancel(&s->sul_more);
		wsb_own_free(s);	/* left() for each of our own */
		/* Closes every wsi: CLOSED hands each session to left(). */
		lws_context_destroy(s->ctx);
	}
	wsb_srv_rx_free(s);
	free(s->scratch);
	free(s);
}

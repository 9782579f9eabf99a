/* The server transport's own connections: a plain (not TLS) WebSocket
 * connection whose upgrade lws completed is taken from lws at ESTABLISHED
 * and read and written here, with epoll, until it ends. lws's part of a
 * connection (its struct lws, WebSocket state, receive buffer and poll
 * slot: about 1 260 B) is then freed, which is what an idle connection
 * costs beyond our own state (docs/performance.md); and a delivery is one
 * write(2) with nothing of lws's in between.
 *
 * The door, the upgrade and plain HTTP stay lws's; so do TLS connections
 * and a connection whose first frames came in the upgrade's read (lws holds
 * them). Everything else a WebSocket connection does is done here as lws
 * did it: data frames through lwsio's receive path (wssrx.h, the same
 * checks), control frames (wsctl.h): a ping answered with a pong, a pong
 * as the sign of life (--ping-interval: pinged after one interval without
 * one, dropped after three), the close handshake both ways (our close
 * waits for the client's answer, CLOSE_GRACE_S at most; the client's is
 * echoed and the socket closed); batched writes from take(), the part a
 * full socket did not take kept and finished first; pausing (reading
 * stops: TCP pushes back).
 *
 * The epoll descriptor is one of lws's watched descriptors (a raw file),
 * so both share lws's loop. Writes wait for the end of the turn (a
 * timer due at once), so a publish that wakes a thousand subscribers
 * still sends each one batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jsonchar.h"
#include "log.h"
#include "lwsio.h"
#include "proto.h"
#include "sys.h"
#include "wsctl.h"

#include "wsserver_int.h"

/* What a write left: whole frames, sent before anything else; and the
 * pong for the latest ping that came meanwhile (RFC 6455 §5.5.3 lets a
 * pong answer only the most recent one), so a client that sends pings and
 * reads nothing makes us keep one pong, not one per ping. */
struct wsb_own_out {
	size_t len, off;
	uint8_t pong_len;
	unsigned char pong[WSB_WSCTL_FRAME_MAX];
	unsigned char p[];
};

static void flush(lws_sorted_usec_list_t *sul);

static uint32_t now_s(void)
{
	return (uint32_t)(wsb_mono_ns() / 1000000000u);
}

static void arm(struct wsb_server *s, struct wsb_conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	int in = !c->paused && !c->throttled, out = c->out != NULL;

	if (c->ev_in == in && c->ev_out == out)
		return;
	ev.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);
	c->ev_in = (uint8_t)in;
	c->ev_out = (uint8_t)out;
	epoll_ctl(s->efd, EPOLL_CTL_MOD, c->fd, &ev);
}

void wsb_own_arm(struct wsb_conn *c)
{
	arm(c->srv, c);
}

/* ---- ending a connection ---- */

static void unqueue(struct wsb_server *s, struct wsb_conn *c)
{
	struct wsb_conn **q = (struct wsb_conn **)(void *)s->wakes.p;

	for (size_t i = 0; c->queued && i < s->wakes.len / sizeof *q; i++)
		if (q[i] == c)
			q[i] = NULL;
	c->queued = 0;
}

/* The connection is gone: the program forgets its session, the socket is
 * closed, the memory given back. Never from inside the program's calls. */
static void drop(struct wsb_server *s, struct wsb_conn *c)
{
	/* The program first: whatever left() does to c (a wake, a throttle)
	 * is undone below, before c is freed. */
	wsb_srv_unlink(s, c);
	epoll_ctl(s->efd, EPOLL_CTL_DEL, c->fd, NULL);
	wsb_lwsio_unwatch(c->fd);
	close(c->fd);
	unqueue(s, c);
	wsb_srv_throttle_free(c);
	if (c->counted)
		s->nconns--;
	/* lws polls its listener again when one of its sockets closes; ours
	 * close behind its back, so in a descriptor-limit episode say it. */
	if (s->emfile && s->listen_wsi)
		lws_rx_flow_control(s->listen_wsi, 1);
	wsb_wsctl_free(&c->ctl);
	free(c->out);
	free(c);
}

/* ---- writing ---- */

static void queue(struct wsb_server *s, struct wsb_conn *c)
{
	struct wsb_err err;
	size_t was = s->wakes.len;

	if (c->queued)
		return;
	if (wsb_buf_append(&s->wakes, &c, sizeof c, &err)) {
		wsb_log(WSB_LOG_WARN, "%s: %s", wsb_srv_name(s, c, c->peer), err.msg);
		return;		/* out of memory: the next wake tries again */
	}
	c->queued = 1;
	/* Once per turn: a publish that wakes 5 000 subscribers would
	 * otherwise re-sort the timer 5 000 times. */
	if (!was)
		lws_sul_schedule(s->ctx, 0, &s->sul_flush, flush, 1);
}

void wsb_own_wake(struct wsb_conn *c)
{
	queue(c->srv, c);
}

/* Keeps p[0..n) to send before anything else. -1: out of memory. */
static int keep(struct wsb_conn *c, const unsigned char *p, size_t n)
{
	size_t have = c->out ? c->out->len - c->out->off : 0;
	struct wsb_own_out *o = malloc(sizeof *o + have + n);

	if (!o)
		return -1;
	if (have)
		memcpy(o->p, c->out->p + c->out->off, have);
	memcpy(o->p + have, p, n);
	o->len = have + n;
	o->off = 0;
	o->pong_len = c->out ? c->out->pong_len : 0;
	if (o->pong_len)
		memcpy(o->pong, c->out->pong, o->pong_len);
	free(c->out);
	c->out = o;
	return 0;
}

/* Writes p[0..n) after what is kept; what the socket does not take is
 * kept. 0, or -1: the connection is broken (or out of memory). */
static int send_bytes(struct wsb_conn *c, const unsigned char *p, size_t n)
{
	ssize_t w = 0;

	if (!c->out && n) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (w < 0)
			w = 0;
	}
	if ((size_t)w < n && keep(c, p + w, n - (size_t)w))
		return -1;
	return 0;
}

/* All that was kept went: the pong held meanwhile goes now. 1 if the
 * socket kept some of it, 0 if not, -1: broken. */
static int send_pong(struct wsb_conn *c)
{
	unsigned char f[WSB_WSCTL_FRAME_MAX];
	size_t n = c->out->pong_len;

	memcpy(f, c->out->pong, n);
	free(c->out);
	c->out = NULL;
	if (n && send_bytes(c, f, n))
		return -1;
	return c->out != NULL;
}

/* Sends what was kept. 1 while some is still kept, 0 when all went, -1:
 * broken. */
static int send_kept(struct wsb_conn *c)
{
	ssize_t w;

	if (!c->out)
		return 0;
	w = send(c->fd, c->out->p + c->out->off, c->out->len - c->out->off, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	if (w > 0)
		c->out->off += (size_t)w;
	if (c->out->off < c->out->len)
		return 1;
	return send_pong(c);
}

/* A control frame of ours, after everything kept. */
static int send_ctl(struct wsb_conn *c, const unsigned char *f, size_t n)
{
	if (send_bytes(c, f, n))
		return -1;
	arm(c->srv, c);
	return 0;
}

/* Our close frame, once: the code and reason wsb_server_close set, or
 * the client's own (an empty close is answered with an empty one). */
static int send_close(struct wsb_conn *c)
{
	unsigned char f[WSB_WSCTL_FRAME_MAX];
	int code = c->close_code ? c->close_code : c->peer_code == 1005 ? 0 : c->peer_code;

	c->close_sent = 1;
	return send_ctl(c, f, wsb_wsctl_close(f, code, c->close_code ? c->close_reason : c->peer_reason));
}

static int dropped(struct wsb_server *s, struct wsb_conn *c)
{
	drop(s, c);
	return -1;
}

/* One turn's writing for c: what was kept, then the close or one batch.
 * -1 when c was dropped. */
static int write_turn(struct wsb_server *s, struct wsb_conn *c)
{
	int k = send_kept(c), closing;
	size_t n;

	if (k < 0)
		return dropped(s, c);
	if (c->unmasked)
		wsb_srv_close_unmasked(s, c);
	closing = c->close_code || c->close_echo;
	if (!k && closing && !c->close_sent && send_close(c))
		return dropped(s, c);
	if (c->close_sent && !c->out && c->peer_closed)
		return dropped(s, c);	/* both closes went: the handshake is over */
	if (k || closing || !c->sess) {
		arm(s, c);
		return 0;
	}
	n = s->ops.take(s->ud, c->sess, s->scratch + LWS_PRE, BATCH, s->hard);
	if (send_bytes(c, s->scratch + LWS_PRE, n))
		return dropped(s, c);
	arm(s, c);
	if (!c->out && s->ops.pending(s->ud, c->sess))
		queue(s, c);
	else if (!c->out && s->stopping)
		wsb_server_close(c, WSB_CLOSE_GOING_AWAY, "server shutting down");
	return 0;
}

static void flush(lws_sorted_usec_list_t *sul)
{
	struct wsb_server *s = lws_container_of(sul, struct wsb_server, sul_flush);
	struct wsb_buf turn = s->wakes;
	struct wsb_conn **q = (struct wsb_conn **)(void *)turn.p;

	/* This turn's list is taken first: a write may queue for the next. */
	memset(&s->wakes, 0, sizeof s->wakes);
	for (size_t i = 0; i < turn.len / sizeof *q; i++)
		if (q[i]) {
			q[i]->queued = 0;
			write_turn(s, q[i]);
		}
	if (turn.cap > s->wakes.cap && !s->wakes.len) {
		wsb_buf_free(&s->wakes);
		s->wakes = turn;
		s->wakes.len = 0;
	} else {
		wsb_buf_free(&turn);
	}
}

/* ---- reading ---- */

static int valid_close(int code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* The client's close: checked, noted for the log, answered with its own
 * code (RFC 6455 §5.5.1) unless ours went first, which it answers. */
static int on_close(struct wsb_server *s, struct wsb_conn *c, const unsigned char *p, size_t len)
{
	int code = len >= 2 ? (p[0] << 8) | p[1] : 0;

	c->peer_closed = 1;
	if (len == 1 || (len >= 2 && !valid_close(code))) {
		wsb_srv_close_logged(s, c, 1002, "invalid close payload");
		return 1;
	}
	if (len > 2 && !wsb_jsonchar_utf8_valid((const char *)p + 2, len - 2)) {
		wsb_srv_close_logged(s, c, 1007, "close reason is not UTF-8");
		return 1;
	}
	c->peer_code = len >= 2 ? code : 1005;
	free(c->peer_reason);
	c->peer_reason = strndup(len > 2 ? (const char *)p + 2 : "", len > 2 ? len - 2 : 0);
	if (!c->close_code && !c->close_echo) {
		c->close_echo = 1;
		c->close_at = now_s();
	}
	queue(s, c);
	return 1;
}

/* One read's control frames: the pong for its latest ping goes once the
 * read is parsed (RFC 6455 §5.5.3 lets a pong answer only the most recent
 * ping), so a read full of pings costs one write, not one per ping. */
struct ctl_read {
	struct wsb_conn *c;
	size_t pong_len;
	unsigned char pong[WSB_WSCTL_FRAME_MAX];
};

static int on_ctl(void *ud, int op, const unsigned char *p, size_t len)
{
	struct ctl_read *r = ud;
	struct wsb_conn *c = r->c;

	if (op == WSB_OP_CLOSE)
		return on_close(c->srv, c, p, len);
	if (op == WSB_WSCTL_PONG) {
		c->valid_s = now_s();
		c->pinged = 0;
	} else {
		r->pong_len = wsb_wsctl_frame(r->pong, WSB_WSCTL_PONG, p, len);
	}
	return 0;
}

/* The pong of a read: after what is kept (held there, replacing an older
 * one, while the socket is full); none once a close is under way. 0, or
 * -1: broken. */
static int answer_ping(struct wsb_conn *c, const struct ctl_read *r)
{
	if (!r->pong_len || c->close_code || c->close_echo)
		return 0;
	if (!c->out)
		return send_ctl(c, r->pong, r->pong_len);
	memcpy(c->out->pong, r->pong, r->pong_len);
	c->out->pong_len = (uint8_t)r->pong_len;
	return 0;
}

/* One read of c's socket (or what lwsio holds for it). */
void wsb_own_read(struct wsb_server *s, struct wsb_conn *c)
{
	unsigned char buf[4096];
	struct ctl_read r = { .c = c };
	const char *why = NULL;
	ssize_t n = wsb_lwsio_read(c->fd, buf, sizeof buf);
	int code;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		drop(s, c);
		return;
	}
	if (n > 0 && (code = wsb_wsctl_feed(&c->ctl, buf, (size_t)n, on_ctl, &r, &why)))
		wsb_srv_close_logged(s, c, code, why);
	if (answer_ping(c, &r))
		drop(s, c);
}

/* lws saw the epoll descriptor readable: one batch of events (each
 * connection at most once in it, and only its own handling drops it), then
 * the writes they caused, without waiting for another turn. */
static void on_event(void *ud, void *h, int writable)
{
	struct wsb_server *s = ud;
	struct epoll_event ev[256];
	int n = epoll_wait(s->efd, ev, 256, 0);

	(void)h;
	(void)writable;
	for (int i = 0; i < n; i++) {
		struct wsb_conn *c = ev[i].data.ptr;

		if ((ev[i].events & EPOLLOUT) && write_turn(s, c))
			continue;
		/* A paused connection is not read; if it hangs up meanwhile
		 * (epoll reports that whatever it watches) it is gone. */
		if ((c->paused || c->throttled) && (ev[i].events & (EPOLLERR | EPOLLHUP)))
			drop(s, c);
		else if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			wsb_own_read(s, c);
	}
	if (s->wakes.len) {
		lws_sul_cancel(&s->sul_flush);
		flush(&s->sul_flush);
	}
}

/* ---- the program's calls, the tick, the start and the end ---- */

void wsb_own_closing(struct wsb_conn *c)
{
	c->close_at = now_s();
	queue(c->srv, c);
}

/* Once a second: closes that waited too long, and --ping-interval. */
static void keepalive(struct wsb_server *s, struct wsb_conn *c, uint32_t now, uint32_t ping)
{
	unsigned char f[WSB_WSCTL_FRAME_MAX];

	if (c->close_code || c->close_echo) {
		if (now - c->close_at >= CLOSE_GRACE_S)
			drop(s, c);
		return;
	}
	if (now - c->valid_s >= 3 * ping) {
		drop(s, c);		/* as lws: hung up, no close frame */
		return;
	}
	if (c->pinged || now - c->valid_s < ping)
		return;
	c->pinged = 1;
	if (send_ctl(c, f, wsb_wsctl_frame(f, WSB_WSCTL_PING, NULL, 0)))
		drop(s, c);
}

void wsb_own_tick(struct wsb_server *s)
{
	uint32_t now = now_s(), ping = s->cfg->ping_interval >= 1 ? (uint32_t)s->cfg->ping_interval : 1;
	struct wsb_conn *c, *next;

	if (now == s->own_tick_s)
		return;
	s->own_tick_s = now;
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->own)
			keepalive(s, c, now, ping);
	}
}

/* At ESTABLISHED, for a plain connection lws holds no frame byte of
 * (wsb_lwsio_fresh): c (ours) takes fd's socket under a dup of its own.
 * -1: not taken (lws keeps the connection). */
int wsb_own_take(struct wsb_server *s, struct wsb_conn *c, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	struct wsb_err err;
	int nfd;

	if (s->efd < 0 || !wsb_lwsio_fresh(fd) || (nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	/* Everything that can fail, before lws is told to let go: until the
	 * program's joined() nothing reads the events. */
	if (epoll_ctl(s->efd, EPOLL_CTL_ADD, nfd, &ev)) {
		close(nfd);
		return -1;
	}
	if (wsb_lwsio_move(fd, nfd, &err)) {
		epoll_ctl(s->efd, EPOLL_CTL_DEL, nfd, NULL);
		close(nfd);
		return -1;
	}
	c->ev_in = 1;
	c->fd = nfd;
	c->own = 1;
	c->valid_s = now_s();
	return 0;
}

/* After the program's joined(): lws's part is about to go. */
void wsb_own_start(struct wsb_server *s, struct wsb_conn *c)
{
	c->wsi = NULL;
	arm(s, c);
}

int wsb_own_init(struct wsb_server *s)
{
	s->efd = epoll_create1(EPOLL_CLOEXEC);
	if (s->efd < 0)
		return -1;
	if (!(s->ew = wsb_server_watch(s, s->efd, on_event, s, NULL))) {
		close(s->efd);
		s->efd = -1;
		return -1;
	}
	return 0;
}

void wsb_own_free(struct wsb_server *s)
{
	struct wsb_conn *c, *next;

	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->own)
			drop(s, c);
	}
	lws_sul_cancel(&s->sul_flush);
	wsb_buf_free(&s->wakes);
	if (s->ew)
		wsb_server_unwatch(s->ew);
	s->ew = NULL;
	if (s->efd >= 0)
		close(s->efd);
	s->efd = -1;
}

/* The server transport's receive side: data messages from lwsio's receive
 * path (wssrx.h) and, for messages lws began with the upgrade, from lws's
 * RECEIVE callback; the caps, inflation, pausing and --message-timeout. */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "jsonchar.h"
#include "log.h"
#include "lwsio.h"
#include "pmd.h"
#include "proto.h"
#include "sys.h"

#include "wsserver_int.h"

static uint64_t mono_ms(void)
{
	return wsb_mono_ns() / 1000000;
}

static struct wsb_server *server_of(struct wsb_conn *c)
{
	return c->srv;
}

/* Reading c (lws's flow control, or what our epoll watches) follows its
 * paused and throttled flags. */
static void flow(struct wsb_conn *c)
{
	if (c->own)
		wsb_own_arm(c);
	else
		lws_rx_flow_control(c->wsi, !c->paused && !c->throttled);
}

static void pause_conn(struct wsb_conn *c)
{
	if (!c->paused) {
		c->paused = 1;
		flow(c);
	}
}

/* ---- reading a connection again for what lwsio holds ---- */

/* A serving connection whose bytes are held where poll() cannot see them
 * is read again from the loop (a timer due at once), through lws, so that
 * lws's state (flow control, its parser, a close) applies as to any read. */
static void more_cb(lws_sorted_usec_list_t *sul)
{
	struct wsb_server *s = lws_container_of(sul, struct wsb_server, sul_more);
	size_t n = s->more.len / sizeof(int);
	int fds[64];

	/* Taken off first: a read may ask again. A stale descriptor (closed
	 * since, even reused) only gets a read that finds nothing. */
	if (n > 64)
		n = 64;
	memcpy(fds, s->more.p, n * sizeof(int));
	memmove(s->more.p, s->more.p + n * sizeof(int), s->more.len - n * sizeof(int));
	s->more.len -= n * sizeof(int);
	if (s->more.len)
		lws_sul_schedule(s->ctx, 0, &s->sul_more, more_cb, 1);
	for (size_t i = 0; i < n; i++) {
		struct lws_pollfd pfd = { .fd = fds[i], .events = POLLIN, .revents = POLLIN };
		struct wsb_conn *own = wsb_lwsio_own(fds[i]);

		if (own && !own->paused && !own->throttled)
			wsb_own_read(s, own);
		else if (!own)
			lws_service_fd(s->ctx, &pfd);
	}
}

static void want_more(struct wsb_server *s, struct wsb_conn *c)
{
	struct wsb_err err;
	int fd = wsb_srv_fd(c);

	if (wsb_buf_append(&s->more, &fd, sizeof fd, &err)) {
		/* Out of memory: the next bytes the client sends read it all. */
		wsb_log(WSB_LOG_WARN, "%s: %s", wsb_srv_name(s, c, c->peer), err.msg);
		return;
	}
	lws_sul_schedule(s->ctx, 0, &s->sul_more, more_cb, 1);
}

/* lwsio's hook, from inside a read: only noted. */
static void more_hook(void *owner)
{
	struct wsb_conn *c = owner;

	want_more(server_of(c), c);
}

/* Reading c again after a pause: what lwsio held goes first. */
static void resume_conn(struct wsb_server *s, struct wsb_conn *c)
{
	flow(c);
	if (wsb_lwsio_held(wsb_srv_fd(c)))
		want_more(s, c);
}

void wsb_server_pause_publishers(struct wsb_server *s, int on)
{
	s->pressure = on;
	/* Routine during bursts (a subscriber catching up): debug, not noise. */
	wsb_log(WSB_LOG_DEBUG, "%s publishers", on ? "pausing" : "resuming");
	if (on)
		return;
	for (struct wsb_conn *c = s->conns; c; c = c->next)
		if (c->paused) {
			c->paused = 0;
			if (!c->throttled)
				resume_conn(s, c);
		}
}

static void throttle_end(lws_sorted_usec_list_t *sul)
{
	struct wsb_conn *c = lws_container_of(sul, struct wsb_throttle, sul)->c;

	c->throttled = 0;
	if (!c->paused)
		resume_conn(server_of(c), c);
}

void wsb_server_throttle(struct wsb_conn *c, int64_t us)
{
	if (us < 1)
		us = 1;
	if (!c->throttle && !(c->throttle = calloc(1, sizeof *c->throttle))) {
		wsb_log(WSB_LOG_WARN, "%s: out of memory for --rate-policy pause: not paused",
			wsb_srv_name(c->srv, c, c->peer));
		return;
	}
	c->throttle->c = c;
	if (!c->throttled) {
		c->throttled = 1;
		flow(c);
	}
	lws_sul_schedule(c->srv->ctx, 0, &c->throttle->sul, throttle_end, us);
}

void wsb_srv_throttle_free(struct wsb_conn *c)
{
	if (c->throttle)
		lws_sul_cancel(&c->throttle->sul);
	free(c->throttle);
	c->throttle = NULL;
}

/* ---- messages ---- */

/* Returns whether c stopped reading (paused, throttled or closing). more:
 * within a feed, whose end (srx_end) tells the program (ops.input_end). */
static int deliver(struct wsb_server *s, struct wsb_conn *c, const char *msg, size_t len, int more)
{
	if (more && s->ops.input_more)
		s->ops.input_more(s->ud, c->sess, msg, len);
	else
		s->ops.input(s->ud, c->sess, msg, len);
	/* Stop reading this publisher until the queues drain; TCP pushes back. */
	if (s->pressure)
		pause_conn(c);
	return c->paused || c->throttled;
}

/* Reassembly memory held for c's unfinished message: the program counts it
 * (/health partial_bytes, --max-memory). */
void wsb_srv_partial(struct wsb_server *s, size_t old, size_t now)
{
	if (now == old)
		return;
	s->partial_bytes = s->partial_bytes - old + now;
	s->ops.partial(s->ud, s->partial_bytes);
}

static void rx_count(struct wsb_server *s, struct wsb_conn *c, size_t now)
{
	wsb_srv_partial(s, c->rx_counted, now);
	c->rx_counted = now;
}

void wsb_srv_rx_drop(struct wsb_server *s, struct wsb_conn *c)
{
	wsb_inflate_free(c->inflate);
	c->inflate = NULL;
	c->rx_open = 0;
	wsb_buf_free(&c->rx);
	if ((c->wsi || c->own) && c->taking)
		wsb_lwsio_drop(wsb_srv_fd(c));
	rx_count(s, c, 0);
}

/* A close the client caused by what it sent, said once in the log. */
void wsb_srv_close_logged(struct wsb_server *s, struct wsb_conn *c, int code, const char *why)
{
	struct wsb_log_ctx lc = { wsb_srv_name(s, c, NULL), c->peer, code, 0, why };

	if (!c->close_code)
		wsb_logx(WSB_LOG_INFO, &lc, "closing %s: %s (%d)", wsb_srv_name(s, c, c->peer), why, code);
	wsb_server_close(c, code, why);
}

static void too_big(struct wsb_server *s, struct wsb_conn *c)
{
	char why[96];

	snprintf(why, sizeof why, "message larger than %" PRIu64 " bytes", s->cfg->max_message);
	wsb_srv_rx_drop(s, c);
	wsb_srv_close_logged(s, c, WSB_CLOSE_TOO_BIG, why);
}

/* wssrx's: one whole message, inflated here if it came compressed. */
static int srx_message(void *ud, const char *msg, size_t len, int comp)
{
	struct wsb_conn *c = ud;
	struct wsb_server *s = server_of(c);
	int rc = 0;

	if (c->close_code)
		return 0;
	if (comp && !c->inflate)
		c->inflate = wsb_inflate_new();
	else if (comp && wsb_inflate_ended(c->inflate))
		wsb_inflate_reset(c->inflate);
	if (comp) {
		wsb_buf_reset(&s->inflated);
		if (!c->inflate || (rc = wsb_inflate(c->inflate, msg, len, 1, &s->inflated))) {
			s->inflated.len = 0;
			wsb_buf_shrink(&s->inflated, BATCH);
			if (rc == WSB_INFLATE_BIG)
				too_big(s, c);
			else
				wsb_srv_close_logged(s, c, rc == WSB_INFLATE_BAD ? 1002 : WSB_CLOSE_INTERNAL,
					     rc == WSB_INFLATE_BAD ? "invalid compressed data" : "out of memory");
			return 0;
		}
		msg = s->inflated.p ? s->inflated.p : "";
		len = s->inflated.len;
	}
	if (!wsb_jsonchar_utf8_valid(msg, len)) {
		wsb_srv_close_logged(s, c, 1007, "text message is not UTF-8");
		return 1;
	}
	rc = deliver(s, c, msg, len, 1);
	if (comp)
		wsb_buf_shrink(&s->inflated, BATCH);
	return rc;
}

static void srx_fail(void *ud, int code, const char *why)
{
	struct wsb_conn *c = ud;
	struct wsb_server *s = server_of(c);

	if (code == WSB_CLOSE_TOO_BIG)
		too_big(s, c);
	else
		wsb_srv_close_logged(s, c, code, why);
}

static int srx_partial(void *ud, size_t bytes, int began)
{
	struct wsb_conn *c = ud;
	struct wsb_server *s = server_of(c);

	if (began)
		c->rx_since = mono_ms();
	c->rx_open = bytes > 0 || began;
	rx_count(s, c, bytes);
	/* Unfinished messages count toward --max-memory: under pressure stop
	 * reading whoever is sending one, not only those that published. */
	if (c->rx_open && s->pressure)
		pause_conn(c);
	return c->paused || c->throttled;
}

/* The feed's messages are in: what waited for the batch goes now. */
static void srx_end(void *ud)
{
	struct wsb_conn *c = ud;
	struct wsb_server *s = server_of(c);

	if (s->ops.input_end)
		s->ops.input_end(s->ud);
	if (s->pressure)
		pause_conn(c);
}

static const struct wsb_wssrx_ops srx_ops = {
	.message = srx_message,
	.fail = srx_fail,
	.partial = srx_partial,
	.end = srx_end,
};

int wsb_srv_rx_start(struct wsb_server *s, struct wsb_conn *c)
{
	s->inflated.max = s->cfg->max_message;
	if (wsb_lwsio_serve(wsb_srv_fd(c), s->cfg->max_message, c->compress, &srx_ops, c, more_hook))
		return -1;
	c->taking = 1;
	return 0;
}

void wsb_srv_rx_free(struct wsb_server *s)
{
	wsb_buf_free(&s->inflated);
	wsb_buf_free(&s->more);
}

/* ---- messages lws parsed: begun in the upgrade's read ---- */

/* Reassembles fragments (lws's buffer is small, so it splits frames)
 * under the size cap. The buffer grows with what arrived, not with what a
 * header announces, so a connection paused mid-message holds only what it
 * sent. */
int wsb_srv_receive(struct wsb_server *s, struct wsb_conn *c, const char *in, size_t len)
{
	int first = lws_is_first_fragment(c->wsi);
	size_t remain = lws_remaining_packet_payload(c->wsi);
	int last = lws_is_final_fragment(c->wsi) && !remain;
	struct wsb_err err;

	if (c->close_code)
		return 0;
	if (lws_frame_is_binary(c->wsi)) {
		wsb_srv_close_logged(s, c, WSB_CLOSE_UNSUPPORTED, "binary frames are not supported: send JSON text");
		return 0;
	}
	if (first)
		wsb_buf_reset(&c->rx);
	c->rx.max = s->cfg->max_message;
	if (c->rx.len + len + remain > s->cfg->max_message) {
		too_big(s, c);
		return 0;
	}
	if (first && last) {		/* no copy */
		deliver(s, c, in, len, 0);
		return 0;
	}
	if (!c->rx_open) {
		c->rx_open = 1;
		c->rx_since = mono_ms();
	}
	if (wsb_buf_append(&c->rx, in, len, &err)) {
		wsb_srv_rx_drop(s, c);
		wsb_server_close(c, err.code == WSB_EXIT_DATAERR ? WSB_CLOSE_TOO_BIG : WSB_CLOSE_INTERNAL, err.msg);
		return 0;
	}
	if (last) {
		c->rx_open = 0;
		deliver(s, c, c->rx.p ? c->rx.p : "", c->rx.len, 0);
		wsb_buf_free(&c->rx);
	}
	rx_count(s, c, c->rx_open ? c->rx.cap : 0);
	if (c->rx_open && s->pressure)
		pause_conn(c);
	return 0;
}

/* --message-timeout: a connection that began a message and has not ended
 * it in time (a slow-loris at the frame level, or a client that died
 * mid-message) is closed with 1008 and its buffer freed at once. The clock
 * also runs while it is paused: otherwise paused partial messages could hold
 * the memory, and the pause, forever. */
void wsb_srv_deadlines(struct wsb_server *s)
{
	uint64_t now = mono_ms(), lim = (uint64_t)(s->cfg->message_timeout * 1000);

	for (struct wsb_conn *c = s->conns; c; c = c->next) {
		if (!c->rx_open || c->close_code || now - c->rx_since < lim)
			continue;
		struct wsb_log_ctx lc = { wsb_srv_name(s, c, NULL), c->peer, WSB_CLOSE_POLICY, 0,
					  "message not finished in time" };

		wsb_logx(WSB_LOG_INFO, &lc, "closing %s: message not finished within %gs (%zu bytes held)",
			 wsb_srv_name(s, c, "?"), s->cfg->message_timeout, c->rx_counted);
		wsb_srv_rx_drop(s, c);
		wsb_server_close(c, WSB_CLOSE_POLICY, "message not finished in time");
	}
}

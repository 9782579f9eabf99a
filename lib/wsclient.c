#include "wsclient_int.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "frame.h"
#include "jsonchar.h"
#include "log.h"
#include "lwsglue.h"
#include "lwsio.h"
#include "sys.h"

#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_MAX_MESSAGE ((size_t)16 << 20)


static void connect_now(lws_sorted_usec_list_t *sul);
static void next_url(struct wsb_client *c);
static int64_t now_us(void);

/* Before the socket number can be reused (by libcurl, say). */
static void unwatch(struct wsb_client *c)
{
	if (c->guard_fd >= 0)
		wsb_lwsio_unwatch(c->guard_fd);
	c->guard_fd = -1;
}

static void schedule_retry(struct wsb_client *c, int code, const char *reason, int terminal)
{
	int64_t delay = -1;

	lws_sul_cancel(&c->sul_handshake);
	unwatch(c);
	c->open = c->connecting = 0;
	c->wsi = NULL;
	if (c->closing || c->done) {
		terminal = 1;
	} else if (!terminal) {
		c->failures++;
		if (c->cfg.retries >= 0 && c->failures > c->cfg.retries)
			terminal = 1;
	}
	if (!terminal)
		delay = wsb_backoff_next(&c->backoff);
	if (!terminal && !c->down_since_us)
		c->down_since_us = now_us();
	c->retry_now = 0;
	c->ops->closed(c->ud, code, reason, delay);
	if (terminal) {
		c->done = 1;
		lws_cancel_service(c->ctx);
		return;
	}
	if (c->retry_now)
		delay = 1;
	next_url(c);	/* after closed(): what it says names the URL that failed */
	lws_sul_schedule(c->ctx, 0, &c->sul_retry, connect_now, delay * LWS_US_PER_MS);
}

static int64_t now_us(void)
{
	return (int64_t)(wsb_mono_ns() / 1000);
}

/* lws 4.1.6 has no bound of its own that reliably ends an attempt: when
 * the server accepts TCP and never answers the upgrade, its timeout frees
 * the connection without any callback, and the client would wait forever.
 * So every attempt carries its own timer; when it fires the attempt is
 * written off at once (retry or give up) and its connection killed, and
 * whatever lws reports later for that connection is ignored. */
static void handshake_timeout(lws_sorted_usec_list_t *sul)
{
	struct wsb_client *c = lws_container_of(sul, struct wsb_client, sul_handshake);
	struct lws *wsi = c->wsi;
	char why[sizeof c->shown + 64];

	if (!c->connecting)
		return;
	snprintf(why, sizeof why, "connection to %s: no handshake within %g s", c->shown, c->cfg.connect_timeout);
	c->abandoned = wsi;
	schedule_retry(c, 0, why, 0);
	if (wsi)
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void attempt_failed(struct wsb_client *c, const char *lws_text);

static void connect_now(lws_sorted_usec_list_t *sul)
{
	struct wsb_client *c = lws_container_of(sul, struct wsb_client, sul_retry);
	struct lws_client_connect_info i;

	if (c->done || c->closing)
		return;
	memset(&i, 0, sizeof i);
	i.context = c->ctx;
	i.vhost = c->vh;
	i.address = c->host;
	i.port = c->port;
	i.path = c->path;
	i.host = c->host;
	i.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
	if (c->tls && c->cfg.insecure)
		i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
				    LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	/* No h2: batched LWS_WRITE_RAW frames would bypass its framing. */
	i.alpn = "http/1.1";
	i.local_protocol_name = "wsbridge-client";
	i.userdata = c;
	i.pwsi = &c->wsi;
	i.retry_and_idle_policy = &c->idle;
	c->connecting = 1;
	c->peer_code = 0;
	c->peer_reason[0] = '\0';
	c->tls_verify_failed = 0;
	c->local_code = 0;
	c->local_retry = 0;
	wsb_lwsglue_clear();
	lws_sul_schedule(c->ctx, 0, &c->sul_handshake, handshake_timeout,
			 (lws_usec_t)(c->cfg.connect_timeout * LWS_US_PER_SEC));
	/* lws may already have reported the failure (CONNECTION_ERROR). */
	if (!lws_client_connect_via_info(&i) && c->connecting)
		attempt_failed(c, "cannot start the connection");
}

/* ws://host[:port][/path][?query] into host, port and path (+ the query);
 * lws gives "/" for a URL without a path, else the path without it. */
static int parse_url(struct wsb_client *c, const char *url, struct wsb_err *err)
{
	const char *prot, *ads, *p;
	int port;

	if (strlen(url) >= sizeof c->url)
		return wsb_err_set(err, WSB_EXIT_USAGE, "URL too long");
	strcpy(c->url, url);
	if (lws_parse_uri(c->url, &prot, &ads, &port, &p) || !*ads)
		return wsb_err_set(err, WSB_EXIT_USAGE, "invalid URL '%s'", url);
	c->tls = 0;
	if (!strcmp(prot, "wss") || !strcmp(prot, "https"))
		c->tls = 1;
	else if (strcmp(prot, "ws") && strcmp(prot, "http"))
		return wsb_err_set(err, WSB_EXIT_USAGE, "URL '%s': scheme must be ws:// or wss://", url);
	/* lws_parse_uri defaults to port 80 (443 for https only): ws URLs
	 * without a port mean the same. */
	if (c->tls && port == 80 && !strstr(url + strlen(prot) + 3, ":80"))
		port = 443;
	c->host = ads;
	c->port = port;
	if (strlen(p) + 2 > sizeof c->base)
		return wsb_err_set(err, WSB_EXIT_USAGE, "URL path too long");
	snprintf(c->base, sizeof c->base, "%s%s", *p == '/' ? "" : "/", p);
	wsb_log_redact(url, c->shown, sizeof c->shown);
	return wsb_client_set_query(c, c->query) ? wsb_err_set(err, WSB_EXIT_USAGE, "URL path too long") : 0;
}

static const char *url_at(const struct wsb_client *c, size_t i)
{
	return c->cfg.nurls ? c->cfg.urls[i] : c->cfg.url;
}

/* Every URL is checked up front (a typo in the third must not wait for two
 * failovers); the first is where the client starts. 1 if any is wss. */
static int parse_urls(struct wsb_client *c, struct wsb_err *err)
{
	size_t n = c->cfg.nurls ? c->cfg.nurls : 1;
	int tls = 0;

	for (size_t i = n; i-- > 0;) {
		if (parse_url(c, url_at(c, i), err))
			return -1;
		tls |= c->tls;
	}
	return tls;
}

/* After a failed or lost connection: the next URL, in turn. */
static void next_url(struct wsb_client *c)
{
	struct wsb_err err;

	if (c->cfg.nurls < 2)
		return;
	c->cur = (c->cur + 1) % c->cfg.nurls;
	if (parse_url(c, url_at(c, c->cur), &err))	/* checked at start: cannot fail */
		wsb_log(WSB_LOG_ERROR, "%s", err.msg);
}

int wsb_client_set_query(struct wsb_client *c, const char *query)
{
	size_t n = (size_t)snprintf(c->path, sizeof c->path, "%s", c->base);

	if (query != c->query && snprintf(c->query, sizeof c->query, "%s", query ? query : "") >=
					 (int)sizeof c->query)
		return -1;
	query = c->query;
	if (query && *query)
		n += (size_t)snprintf(c->path + n, sizeof c->path - n, "%s%s",
				      strchr(c->base, '?') ? "&" : "?", query);
	return n >= sizeof c->path ? -1 : 0;
}

/* Fails the open connection with code (1009, 1003, 1002, 1007, 1011): our close frame
 * goes out at the next WRITEABLE, and CLIENT_CLOSED reports the code with
 * retry_ms -1. */
static int fail_connection(struct wsb_client *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_connection(struct wsb_client *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->local_reason, sizeof c->local_reason, fmt, ap);
	va_end(ap);
	c->local_code = code;
	/* The close goes out from WRITEABLE (see writable()): returning -1
	 * here, inside the parser, made lws 4.1.6 go on parsing the same read
	 * into a half-closed connection and crash. Before ESTABLISHED (frames
	 * that came with the 101), ESTABLISHED asks. */
	if (c->open)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* RFC 6455 §5.1: a masked server frame fails the connection. lws 4.1.6
 * unmasks it without telling, so lwsio checks the bytes before lws parses
 * them and withholds the frame. This runs inside lws's read: it only notes
 * the failure (fail_connection closes from WRITEABLE). */
static void guard_hook(void *owner)
{
	struct wsb_client *c = owner;

	if (c->open && !c->local_code)
		fail_connection(c, 1002, "masked frame from the server");
}

/* The response to our upgrade request may arrive in the same read as the
 * first frames, so the socket is watched from before the request is sent. */
static int watch(struct wsb_client *c, struct lws *wsi)
{
	struct wsb_err e;

	unwatch(c);
	if (wsb_lwsio_watch(lws_get_socket_fd(wsi), WSB_WSGUARD_CLIENT, &e)) {
		wsb_log(WSB_LOG_ERROR, "%s", e.msg);
		return -1;
	}
	c->guard_fd = lws_get_socket_fd(wsi);
	wsb_wsrx_reset(&c->wsrx);
	wsb_lwsio_rx(c->guard_fd, &c->wsrx);
	wsb_wsext_init(&c->ext);
	if (c->cfg.compress)
		wsb_lwsio_ext(c->guard_fd, &c->ext);
	return 0;
}

/* Opening is not proof: a broker that accepts and then refuses (pub's
 * UNAVAILABLE) or hangs up must meet the growing delay of a refused
 * connect, not a reconnect every retry_min forever. Unless the tool
 * judges (cfg.tool_proves), a message from the server is proof. */
void wsb_client_proved(struct wsb_client *c)
{
	if (!c->open || c->proved)
		return;
	c->proved = 1;
	c->failures = 0;
	wsb_backoff_reset(&c->backoff);
}

static void deliver(struct wsb_client *c, const char *msg, size_t len)
{
	if (!c->cfg.tool_proves)
		wsb_client_proved(c);
	c->ops->message(c->ud, msg, len);
}

static int receive(struct wsb_client *c, const char *in, size_t len)
{
	size_t rest = lws_remaining_packet_payload(c->wsi);
	int first = lws_is_first_fragment(c->wsi);
	int last = lws_is_final_fragment(c->wsi) && !rest;
	struct wsb_err e;

	/* Failing: our close is out and lws waits (a bounded time) for the
	 * peer's; what arrives meanwhile is dropped, not buffered. */
	if (c->local_code)
		return 0;
	if (lws_frame_is_binary(c->wsi))
		return fail_connection(c, 1003, "binary message: only JSON text is accepted");
	if (first)
		wsb_buf_reset(&c->rx);
	/* rest is what the current frame still announces: one huge frame
	 * fails at its first bytes, endless fragments when they pass the cap. */
	if (len + rest > c->cfg.max_message - c->rx.len)
		return fail_connection(c, 1009, "message larger than %zu bytes (--max-message)",
				       c->cfg.max_message);
	if (first && last) {
		if (!wsb_jsonchar_utf8_valid(in, len))
			return fail_connection(c, 1007, "text message is not UTF-8");
		deliver(c, in, len);
		return 0;
	}
	if (wsb_buf_append(&c->rx, in, len, &e)) {
		/* Within the cap, so out of memory: nothing to retry. */
		c->fatal = e;
		c->done = 1;
		return fail_connection(c, 1011, "out of memory");
	}
	if (last) {
		if (!wsb_jsonchar_utf8_valid(c->rx.p, c->rx.len))
			fail_connection(c, 1007, "text message is not UTF-8");
		else
			deliver(c, c->rx.p, c->rx.len);
		wsb_buf_shrink(&c->rx, RX_KEEP);
	}
	return 0;
}

/* The receive path (wsrx.h), called from inside lws's read like receive(). */
static void rx_message(void *ud, const char *msg, size_t len)
{
	struct wsb_client *c = ud;

	if (!c->local_code)
		deliver(c, msg, len);
}

static void rx_fail(void *ud, int code, const char *why)
{
	struct wsb_client *c = ud;

	if (c->local_code)
		return;
	if (code == 1009) {
		fail_connection(c, 1009, "message larger than %zu bytes (--max-message)", c->cfg.max_message);
		return;
	}
	if (code == 1011) {	/* within the cap, so out of memory: nothing to retry */
		wsb_err_set(&c->fatal, WSB_EXIT_OSERR, "out of memory receiving a message");
		c->done = 1;
	}
	fail_connection(c, code, "%s", why);
}

static void rx_flush(lws_sorted_usec_list_t *sul)
{
	struct wsb_client *c = lws_container_of(sul, struct wsb_client, sul_rxflush);

	wsb_wsrx_flush(&c->wsrx);
}

/* Due at once: lws runs it before it next polls, after it has parsed the
 * read that made wsrx hold them. */
static void rx_held(void *ud)
{
	struct wsb_client *c = ud;

	lws_sul_schedule(c->ctx, 0, &c->sul_rxflush, rx_flush, 1);
}

static const struct wsb_wsrx_ops rx_ops = { rx_message, rx_fail, rx_held };

int wsb_client_send(struct wsb_client *c, const char *msg, size_t len)
{
	unsigned char key[4];
	size_t plain = wsb_frame_header_len(len, 1) + len, have = c->batch.len - LWS_PRE;
	size_t need = c->deflate ? wsb_deflate_bound(len) : plain;
	struct wsb_err e;

	if (have && have + plain > BATCH)
		return 0;
	/* One message bigger than a batch grows it. Failing that, the run
	 * ends with the error: "full" would wait forever for room. */
	if (wsb_buf_reserve(&c->batch, need, &e)) {
		wsb_err_set(&c->fatal, e.code, "cannot send a %zu-byte message: %s", len, e.msg);
		c->done = 1;
		return -1;
	}
	/* RFC 6455 §5.3: each frame's key from a strong source of entropy. */
	wsb_random_take(&c->masks, key, sizeof key);
	/* Compressed when that is smaller, else plain (RFC 7692 allows both;
	 * so does a deflater that could not be made). */
	c->batch.len += wsb_pmd_frame(c->deflate ? c->zd : NULL, msg, len, (unsigned char *)c->batch.p + c->batch.len,
				      need, key);
	return 1;
}

static int writable(struct wsb_client *c)
{
	size_t n;

	/* lws can call us while an earlier batch still sits in its buffer (the
	 * kernel took only part of it); writing or closing now would queue
	 * behind it or, for a close, throw it away. */
	if (lws_partial_buffered(c->wsi)) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->closing || c->local_code) {
		/* Once. lws then sends our close frame and waits for the peer's,
		 * but leaves POLLOUT armed, so WRITEABLE comes again at once;
		 * returning -1 then makes lws drop the socket on the spot
		 * (LRS_AWAITING_CLOSE_ACK: "we tried the polite way") with our
		 * last batches maybe still in the kernel's send queue. The next
		 * byte from the peer then meets a closed socket, the kernel
		 * answers RST and discards that queue: silent loss under load. */
		if (c->close_sent)
			return 0;
		c->close_sent = 1;
		if (c->local_code)
			lws_close_reason(c->wsi, (enum lws_close_status)c->local_code,
					 (unsigned char *)c->local_reason, strlen(c->local_reason));
		else
			lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
		return -1;
	}
	c->batch.len = LWS_PRE;
	c->ops->writable(c->ud);
	if (c->fatal.code || c->batch.len == LWS_PRE)
		return 0;
	/* RAW passes our pre-masked frames through untouched; lws keeps any
	 * unsent tail and finishes it before the next WRITEABLE. */
	n = c->batch.len - LWS_PRE;
	c->batch.len = LWS_PRE;
	if (lws_write(c->wsi, (unsigned char *)c->batch.p + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
		return -1;
	return 0;
}

static void peer_close(struct wsb_client *c, const unsigned char *in, size_t len)
{
	if (len >= 2) {
		c->peer_code = in[0] << 8 | in[1];
		snprintf(c->peer_reason, sizeof c->peer_reason, "%.*s", (int)(len - 2), (const char *)in + 2);
	}
}

/* Why an open connection ended: the peer's close, our own failure, or
 * silence (lws hangs up when no pong came for 3 ping intervals). */
static void lost(struct wsb_client *c)
{
	int hangup = c->idle.secs_since_valid_hangup;
	char why[sizeof c->shown + 64];

	lws_sul_cancel(&c->sul_rxflush);
	wsb_wsrx_flush(&c->wsrx);	/* they came before the end */
	if (c->local_code) {
		schedule_retry(c, c->local_code, c->local_reason, !c->local_retry);
		return;
	}
	if (!c->peer_code && now_us() - c->last_pong_us >= (int64_t)(hangup - 1) * 1000000) {
		snprintf(why, sizeof why, "connection to %s: no pong within %d s", c->shown, hangup);
		schedule_retry(c, 1006, why, 0);
		return;
	}
	/* 1008 (policy, auth), 1009 (too big), 1003 (binary): the server
	 * refuses what we are or send; retrying cannot help. */
	schedule_retry(c, c->peer_code ? c->peer_code : 1006,
		       c->peer_reason[0] ? c->peer_reason : "connection lost",
		       c->peer_code == 1008 || c->peer_code == 1009 || c->peer_code == 1003);
}

/* The longest a diagnosis of a failed attempt may hold the loop. */
static int diag_ms(const struct wsb_client *c)
{
	return c->cfg.connect_timeout < 2 ? (int)(c->cfg.connect_timeout * 1000) : 2000;
}

/* A failed attempt without an HTTP answer: lws only says "Unable to
 * connect" or "read failed", so a probe of our own names the cause, and
 * the reason names the URL (wsbridge(7) CONNECTING). */
static void attempt_failed(struct wsb_client *c, const char *lws_text)
{
	char cause[300], why[sizeof c->shown + 340];

	int r;

	unwatch(c);	/* the probe's socket may get this one's number */
	if ((r = wsb_diag_connect(c->host, c->port, c->tls, 0, diag_ms(c), cause, sizeof cause)) < 0)
		snprintf(cause, sizeof cause, "%s", lws_text);
	snprintf(why, sizeof why, "cannot connect to %s: %s", c->shown, cause);
	schedule_retry(c, r == WSB_DIAG_SCHEME ? WSB_CLIENT_SCHEME : 0, why, r == WSB_DIAG_SCHEME);	/* a wrong URL */
}

/* HTTP 404 on the upgrade: a wrong path in the URL, which no retry can
 * mend. The server's / says where its WebSocket is, if it is a wsbridge. */
static void wrong_path(struct wsb_client *c)
{
	char served[256], why[sizeof c->shown + 600];
	size_t plen = strcspn(c->base, "?");

	unwatch(c);	/* libcurl's socket may get this one's number */
	if (wsb_diag_ws_path(c->host, c->port, c->tls, c->cfg.ca_file, c->cfg.insecure, diag_ms(c), served,
			     sizeof served))
		snprintf(why, sizeof why, "cannot connect to %s: no WebSocket at \"%.*s\" (HTTP 404)", c->shown,
			 (int)plen, c->base);
	else
		snprintf(why, sizeof why, "cannot connect to %s: no WebSocket at \"%.*s\"; this broker serves %s",
			 c->shown, (int)plen, c->base, served);
	schedule_retry(c, 404, why, 1);
}

/* A failed attempt, said the way a user can act on. */
static void connect_error(struct wsb_client *c, struct lws *wsi, const char *in)
{
	int status = (int)lws_http_client_http_response(wsi);
	const char *tls_why = wsb_lwsglue_tls_why();
	char why[sizeof c->shown + 300];

	if (c->tls && (c->tls_verify_failed || (in && strstr(in, "cert didn't look good")))) {
		/* Like a wrong scheme, not transient: the same certificate
		 * comes back on every attempt, so it ends at once (78). */
		snprintf(why, sizeof why, "cannot connect to %s: TLS: certificate verify failed%s%s%s; "
			 "use --cafile FILE (the CA that signed it) or --insecure", c->shown, *tls_why ? " (" : "",
			 tls_why, *tls_why ? ")" : "");
		schedule_retry(c, WSB_CLIENT_TLS_TRUST, why, 1);
	} else if (status == 404) {
		wrong_path(c);
	} else if (status >= 300) {
		schedule_retry(c, status, wsb_client_refusal(status, in, c->token[0] || strstr(c->base, "token=")),
			       status == 401 || status == 403);
	} else {
		attempt_failed(c, c->tls && in && !strncmp(in, "connect SSL err", 15) ?
				  "TLS handshake failed (does the server speak TLS on this port?)" :
				  in ? in : "connection failed");
	}
}

/* Authorization, and with --compress our offer (pmd.h). */
static int add_headers(struct wsb_client *c, struct lws *wsi, unsigned char **p, unsigned char *end)
{
	char v[WSB_TOKEN_MAX + 8];
	int n = snprintf(v, sizeof v, "Bearer %s", c->token);

	if (c->token[0] && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)v, n, p, end))
		return -1;
	return c->cfg.compress && lws_add_http_header_by_token(wsi, WSI_TOKEN_EXTENSIONS, (unsigned char *)WSB_PMD_OFFER,
							       sizeof WSB_PMD_OFFER - 1, p, end) ? -1 : 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct wsb_client *c = lws_context_user(lws_get_context(wsi));

	if (wsi == c->abandoned) {
		if (reason == LWS_CALLBACK_WSI_DESTROY)
			c->abandoned = NULL;
		return 0;
	}
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return watch(c, wsi) || add_headers(c, wsi, in, *(unsigned char **)in + len) ? -1 : 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->wsi = wsi;
		c->open = 1;
		c->close_sent = 0;
		c->connecting = 0;
		c->proved = 0;
		c->last_pong_us = now_us();
		c->outage_us = c->down_since_us ? c->last_pong_us - c->down_since_us : 0;
		c->down_since_us = 0;
		c->reopened = c->was_open;
		c->was_open = 1;
		if ((c->deflate = c->ext.verdict > 0) && !c->zd)
			c->zd = wsb_deflate_new();
		if (c->ext.verdict < 0)	/* RFC 7692 §5 */
			fail_connection(c, 1002, "permessage-deflate answer refused: %s", c->ext.why);
		if (c->local_code)	/* or a frame that came with the 101 failed it */
			lws_callback_on_writable(wsi);
		lws_sul_cancel(&c->sul_handshake);
		c->ops->opened(c->ud);
		wsb_wsrx_take(&c->wsrx);
		if (c->wsrx.hold.len)	/* came with the 101 (--compress): after opened() */
			rx_held(c);
		if (wsb_lwsio_attach(c->guard_fd, guard_hook, c) == 1)
			guard_hook(c);	/* came with the 101 */
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return receive(c, in, len);
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		c->last_pong_us = now_us();
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return writable(c);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		peer_close(c, in, len);
		return 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* len is OpenSSL's preverify_ok; 0 fails the handshake. */
		if (!len)
			c->tls_verify_failed = 1;
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		connect_error(c, wsi, in);
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		/* An attempt lws itself gave up before the upgrade answer (its
		 * own timeout, the server hanging up): a failed attempt too. */
		if (c->connecting && wsi == c->wsi)
			attempt_failed(c, "connection closed before the WebSocket handshake");
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		lost(c);
		return 0;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "wsbridge-client", ws_callback, 0, BATCH, 0, NULL, BATCH },
	{ "wsbridge-input", wsb_client_in_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void defer_cb(lws_sorted_usec_list_t *sul)
{
	struct wsb_client *c = lws_container_of(sul, struct wsb_client, sul_defer);

	c->deferred = 0;
	if (c->ops->deferred)
		c->ops->deferred(c->ud);
}

void wsb_client_defer(struct wsb_client *c)
{
	if (c->deferred)
		return;
	c->deferred = 1;
	/* Due at once: lws runs it before it next waits in poll(). */
	lws_sul_schedule(c->ctx, 0, &c->sul_defer, defer_cb, 1);
}

static void every_cb(lws_sorted_usec_list_t *sul)
{
	struct wsb_client *c = lws_container_of(sul, struct wsb_client, sul_every);

	lws_sul_schedule(c->ctx, 0, &c->sul_every, every_cb, c->every_ms * LWS_US_PER_MS);
	if (c->ops->tick)
		c->ops->tick(c->ud);
}

void wsb_client_every(struct wsb_client *c, int64_t ms)
{
	c->every_ms = ms;
	lws_sul_schedule(c->ctx, 0, &c->sul_every, every_cb, ms * LWS_US_PER_MS);
}

static void timer_cb(lws_sorted_usec_list_t *sul)
{
	struct wsb_client *c = lws_container_of(sul, struct wsb_client, sul_timer);

	if (c->ops->timer)
		c->ops->timer(c->ud);
}

struct wsb_client *wsb_client_new(const struct wsb_client_cfg *cfg, const struct wsb_client_ops *ops,
				  void *ud, struct wsb_err *err)
{
	struct lws_context_creation_info info;
	struct wsb_client *c = calloc(1, sizeof *c);
	uint64_t seed = 0;
	int tls_any;

	if (!c) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	if (c->cfg.connect_timeout <= 0)
		c->cfg.connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	if (!c->cfg.max_message)
		c->cfg.max_message = DEFAULT_MAX_MESSAGE;
	c->rx.max = c->cfg.max_message;
	wsb_wsrx_init(&c->wsrx, c->cfg.max_message, &rx_ops, c);
	c->ops = ops;
	c->ud = ud;
	c->in_fd = -1;
	c->guard_fd = -1;
	if (snprintf(c->query, sizeof c->query, "%s", cfg->query ? cfg->query : "") >= (int)sizeof c->query) {
		wsb_err_set(err, WSB_EXIT_USAGE, "URL path too long");
		goto fail;
	}
	if ((tls_any = parse_urls(c, err)) < 0 || wsb_auth_load(cfg->token, cfg->token_file, c->token, err) < 0)
		goto fail;
	seed = wsb_random64();
	wsb_backoff_init(&c->backoff, (uint32_t)(cfg->retry_min * 1000), (uint32_t)(cfg->retry_max * 1000), seed);
	if (wsb_buf_reserve(&c->batch, LWS_PRE + BATCH, err))
		goto fail;
	c->batch.len = LWS_PRE;
	c->idle.secs_since_valid_ping = (uint16_t)(cfg->ping_interval > 0 && cfg->ping_interval <= 21845 ?
						   cfg->ping_interval : 30);
	c->idle.secs_since_valid_hangup = (uint16_t)(c->idle.secs_since_valid_ping * 3);

	/* Errors always reach the router (logged at debug): it picks out why a
	 * certificate was refused. */
	wsb_lwsglue_log(wsb_log_level() > WSB_LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, 1);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.user = c;
	/* Loading the system CA store costs ~35 ms and ~4 MB: only for wss. */
	info.options = tls_any ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	if (tls_any && cfg->ca_file) {
		FILE *f = fopen(cfg->ca_file, "r");

		if (!f) {
			wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "--cafile %s", cfg->ca_file);
			goto fail;
		}
		fclose(f);
		info.client_ssl_ca_filepath = cfg->ca_file;
	}
	/* lws's own limits stay behind ours, so ours decides and says why. */
	info.timeout_secs = (unsigned)(c->cfg.connect_timeout < 10 ? 10 : ceil(c->cfg.connect_timeout) + 1);
	info.connect_timeout_secs = info.timeout_secs;
	info.pt_serv_buf_size = BATCH;
	c->ctx = wsb_lwsglue_context(&info);
	if (!c->ctx) {
		wsb_err_set(err, WSB_EXIT_OSERR, "cannot create the WebSocket context");
		goto fail;
	}
	c->vh = lws_get_vhost_by_name(c->ctx, "default");
	return c;
fail:
	wsb_client_free(c);
	return NULL;
}

void wsb_client_free(struct wsb_client *c)
{
	if (!c)
		return;
	if (c->ctx) {
		lws_sul_cancel(&c->sul_retry);
		lws_sul_cancel(&c->sul_timer);
		lws_sul_cancel(&c->sul_defer);
		lws_sul_cancel(&c->sul_every);
		lws_sul_cancel(&c->sul_handshake);
		lws_sul_cancel(&c->sul_rxflush);
		wsb_lwsglue_unsignal(c->ctx, NULL);
		lws_context_destroy(c->ctx);
	}
	unwatch(c);
	wsb_buf_free(&c->rx);
	wsb_wsrx_free(&c->wsrx);
	wsb_deflate_free(c->zd);
	wsb_buf_free(&c->batch);
	free(c);
}

int wsb_client_run(struct wsb_client *c, struct wsb_err *err)
{
	struct sigaction saved[2];
	int rc = 0;

	wsb_err_clear(&c->fatal);
	wsb_lwsglue_signals(c->ctx, saved);
	lws_sul_schedule(c->ctx, 0, &c->sul_retry, connect_now, 1);
	while (!c->done)
		if (lws_service(c->ctx, 0) < 0) {
			rc = wsb_err_set(err, WSB_EXIT_SOFTWARE, "event loop failed");
			break;
		}
	if (c->fatal.code && !rc) {
		if (err)
			*err = c->fatal;
		rc = -1;
	}
	/* Callers such as wsbridge-health --watch run the client repeatedly. */
	wsb_lwsglue_unsignal(c->ctx, saved);
	return rc;
}

void wsb_client_stop(struct wsb_client *c)
{
	c->done = 1;
	lws_cancel_service(c->ctx);
}

void wsb_client_close(struct wsb_client *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->wsi && c->open) {
		lws_callback_on_writable(c->wsi);
		return;
	}
	/* An attempt under way is written off now, as a timed-out one is:
	 * nothing waits on it (a publisher with nothing to send exits at once),
	 * and whatever lws reports for it later is ignored. */
	if (c->wsi && c->connecting) {
		c->abandoned = c->wsi;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	unwatch(c);
	lws_sul_cancel(&c->sul_handshake);
	c->wsi = NULL;
	c->connecting = 0;
	lws_sul_cancel(&c->sul_retry);
	c->ops->closed(c->ud, 1000, "closed", -1);
	wsb_client_stop(c);
}

void wsb_client_reconnect(struct wsb_client *c, const char *why)
{
	if (!c->open || c->local_code || c->closing)
		return;
	fail_connection(c, 1001, "%s", why);
	c->local_retry = 1;
}

void wsb_client_want_write(struct wsb_client *c)
{
	if (c->open && c->wsi)
		lws_callback_on_writable(c->wsi);
}

void wsb_client_retry_now(struct wsb_client *c)
{
	c->retry_now = 1;
}

void wsb_client_timer(struct wsb_client *c, int64_t ms)
{
	if (ms < 0) {
		lws_sul_cancel(&c->sul_timer);
		return;
	}
	lws_sul_schedule(c->ctx, 0, &c->sul_timer, timer_cb, ms * LWS_US_PER_MS);
}

int wsb_client_open_text(const struct wsb_client *c, char *out, size_t cap)
{
	double s = (double)c->outage_us / 1e6;

	if (!c->outage_us) {
		snprintf(out, cap, "connected to %s", c->shown);
		return 0;
	}
	snprintf(out, cap, "%s to %s after %.*f s", c->reopened ? "reconnected" : "connected", c->shown,
		 s < 10 ? 1 : 0, s);
	return 1;
}

void wsb_client_fail_text(const struct wsb_client *c, int code, const char *reason, char *out, size_t cap)
{
	/* A failed attempt's reason already names the URL and the cause. */
	if (!code || code == 404 || code == WSB_CLIENT_SCHEME || code == WSB_CLIENT_TLS_TRUST)
		snprintf(out, cap, "%s", reason);
	else if (code == 401 || code == 403)
		snprintf(out, cap, "cannot connect to %s: refused (HTTP %d: %s)", c->shown, code, reason);
	else
		snprintf(out, cap, "disconnected from %s (code %d: %s)", c->shown, code, reason);
}

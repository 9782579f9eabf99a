/* wsserver_http — the HTTP side of the server transport (wsserver.h):
 * the door an upgrade passes before lws answers it, plain requests handed
 * to the program's http op, and POST bodies, collected under a cap and
 * answered when the program is ready (wsb_server_answer). */
#include "wsserver_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admit.h"
#include "auth.h"
#include "log.h"
#include "proto.h"

/* HTTP: the program's documents and JSON errors. */

/* hdrs: NULL, or name/value pairs ("vary:", "accept") ending in NULL. */
static int http_reply_hdrs(struct lws *wsi, unsigned status, const char *ctype, const char *const *hdrs,
			   const char *body, size_t len)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
	unsigned char *out;

	if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end))
		return -1;
	for (; hdrs && hdrs[0]; hdrs += 2)
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)hdrs[0], (const unsigned char *)hdrs[1],
						(int)strlen(hdrs[1]), &p, end))
			return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	/* HEAD: the same headers (content-length included), never a body (RFC 9110 §9.3.2). */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	out = malloc(LWS_PRE + len + 1);
	if (!out)
		return -1;
	memcpy(out + LWS_PRE, body, len);
	if (lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len) {
		free(out);
		return -1;
	}
	free(out);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}


/* Refuses a request with a real HTTP/1.1 status, a JSON body and extra
 * header lines (each ending in CRLF), then closes the connection.
 * lws_return_http_status() answers a refused upgrade as HTTP/1.0 with an
 * HTML page, which strict clients (Python websockets) reject as not HTTP
 * at all, hiding the status from them. */
int wsb_srv_refuse(struct lws *wsi, int status, const char *reason, const char *error, const char *extra)
{
	char buf[LWS_PRE + 512], *p = buf + LWS_PRE;
	int body, n;
	char json[160];

	body = snprintf(json, sizeof json, "{\"error\":\"%s\"}\n", error);
	n = snprintf(p, sizeof buf - LWS_PRE,
		     "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
		     "connection: close\r\n%s\r\n%s",
		     status, reason, body, extra ? extra : "",
		     lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) ? "" : json);
	lws_write(wsi, (unsigned char *)p, (size_t)n, LWS_WRITE_RAW);
	return -1;
}

int wsb_server_reply(struct wsb_http_req *rq, unsigned status, const char *ctype, const char *const *hdrs,
		     const char *body, size_t len)
{
	return http_reply_hdrs(rq->wsi, status, ctype, hdrs, body, len);
}

int wsb_server_refuse(struct wsb_http_req *rq, int status, const char *reason, const char *error,
		      const char *extra)
{
	return wsb_srv_refuse(rq->wsi, status, reason, error, extra);
}

/* An argument of the query wherever it is: lws_get_urlarg_by_name gives up
 * at the first argument longer than its buffer, hiding every one after it.
 * An argument longer than buf cannot be what we look for; it is skipped. */
static const char *query_arg(struct lws *wsi, const char *name, char *buf, int cap)
{
	size_t nl = strlen(name);
	int i, n;

	for (i = 0; (n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i)) > 0; i++) {
		if (n >= cap || lws_hdr_copy_fragment(wsi, buf, cap, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
			continue;
		if (!strncmp(buf, name, nl))
			return buf + nl;
	}
	return NULL;
}

/* The token a request carries (Authorization: Bearer, or ?token=): 1 it
 * is right (or none is required), 0 none given, -1 a wrong one. */
static int token_state(struct wsb_server *s, struct lws *wsi)
{
	char tok[WSB_TOKEN_MAX + 16];
	const char *given = NULL;
	int n;

	if (!s->token)
		return 1;
	n = lws_hdr_copy(wsi, tok, sizeof tok, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && !strncasecmp(tok, "Bearer ", 7))
		given = tok + 7;
	else
		given = query_arg(wsi, "token=", tok, sizeof tok);
	return !given ? 0 : wsb_auth_equal(given, s->token) ? 1 : -1;
}

static int check_token(struct wsb_server *s, struct lws *wsi, const char *peer)
{
	int t = token_state(s, wsi);
	struct wsb_log_ctx lc = { .remote = peer, .status = 401, .reason = t ? "invalid token" : "missing token" };

	if (t > 0)
		return 0;
	wsb_logx(WSB_LOG_INFO, &lc, "refused a connection from %s: %s token", peer, t ? "invalid" : "missing");
	return wsb_srv_refuse(wsi, 401, "Unauthorized", t ? "invalid token" : "authentication required",
		      "www-authenticate: Bearer\r\n");
}

/* What lws 4.1.6 would answer with a 101 anyway (another version) or a
 * silently dropped socket (no Host, no or a bad key): RFC 6455 §4.2.1/§4.4. */
static int check_upgrade(struct lws *wsi)
{
	char v[16], key[64];

	if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_VERSION) <= 0)
		return wsb_srv_refuse(wsi, 400, "Bad Request", "missing Sec-WebSocket-Version", NULL);
	if (strcmp(v, "13"))
		return wsb_srv_refuse(wsi, 426, "Upgrade Required", "unsupported WebSocket version: use 13",
			      "sec-websocket-version: 13\r\n");
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0)
		return wsb_srv_refuse(wsi, 400, "Bad Request", "missing Host header", NULL);
	if (lws_hdr_copy(wsi, key, sizeof key, WSI_TOKEN_KEY) <= 0 || !wsb_admit_ws_key(key))
		return wsb_srv_refuse(wsi, 400, "Bad Request", "missing or malformed Sec-WebSocket-Key", NULL);
	return 0;
}

/* Cross-site WebSocket hijacking: any page a user opens may connect here. */
static int origin_allowed(struct wsb_server *s, struct lws *wsi, char *origin, int cap, int *n)
{
	char host[256] = "";
	int has = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;

	*n = has ? lws_hdr_copy(wsi, origin, cap, WSI_TOKEN_ORIGIN) : 0;
	if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0)
		host[0] = '\0';
	return *n >= 0 && wsb_admit_origin(has ? origin : NULL, host, s->cfg->tls_cert != NULL,
					   &s->cfg->allow_origins, s->cfg->listen_host);
}

static int check_origin(struct wsb_server *s, struct lws *wsi, const char *peer)
{
	char origin[256], shown[100];
	int n;

	if (origin_allowed(s, wsi, origin, sizeof origin, &n))
		return 0;
	struct wsb_log_ctx lc = { .remote = peer, .status = 403, .reason = "origin not allowed" };

	wsb_admit_printable(shown, sizeof shown, n >= 0 ? origin : "(too long)");
	wsb_logx(WSB_LOG_INFO, &lc, "refused a connection from %s: origin %s not allowed (see --allow-origin)",
		 peer, shown);
	return wsb_srv_refuse(wsi, 403, "Forbidden", "origin not allowed", NULL);
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
		return wsb_srv_refuse(wsi, 503, "Service Unavailable", "too many connections", "retry-after: 1\r\n");
	}
	for (struct wsb_conn *c = s->conns; per_ip && c; c = c->next)
		same += c->counted && !strcmp(c->peer, peer);
	if (per_ip && same >= per_ip) {
		wsb_logx(WSB_LOG_INFO, &lc, "refused a connection from %s: %" PRIu64 " clients from it "
			 "(--max-connections-per-ip)", peer, same);
		return wsb_srv_refuse(wsi, 503, "Service Unavailable", "too many connections from this address",
			      "retry-after: 1\r\n");
	}
	return 0;
}

/* The door, before lws answers an upgrade (HTTP_CONFIRM_UPGRADE) and
 * before the program hears of it: path, shutdown, RFC 6455 handshake, Origin,
 * connection limits, token. Each refusal is an HTTP status with a JSON body. */
int wsb_srv_door(struct wsb_server *s, struct lws *wsi, const char *upgrade)
{
	char uri[512], peer[48] = "?";

	if (strcasecmp(upgrade, "websocket"))
		return wsb_srv_refuse(wsi, 400, "Bad Request", "only websocket upgrades", NULL);
	lws_get_peer_simple(wsi, peer, sizeof peer);
	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, s->cfg->path))
		return wsb_srv_refuse(wsi, 404, "Not Found", "not found", NULL);
	if (s->stopping)
		return wsb_srv_refuse(wsi, 503, "Service Unavailable", "shutting down", NULL);
	if (check_upgrade(wsi) || check_origin(s, wsi, peer) || check_limits(s, wsi, peer))
		return -1;
	return check_token(s, wsi, peer);
}

/* ---- plain requests and their bodies ---- */

static void body_account(struct wsb_server *s, struct wsb_conn *c)
{
	wsb_srv_partial(s, c->body_counted, c->body.cap);
	c->body_counted = c->body.cap;
}

static void body_drop(struct wsb_server *s, struct wsb_conn *c)
{
	wsb_buf_free(&c->body);
	c->body_on = 0;
	body_account(s, c);
}

static void fill_req(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, struct wsb_http_req *rq,
		     char *accept, size_t acap, char *ctype, size_t ccap)
{
	char len[32];
	int n;

	rq->get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) || lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI);
	rq->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
	rq->wsi = wsi;
	rq->conn = c;
	rq->length = -1;
	rq->authorized = token_state(s, wsi) > 0;
	rq->origin_ok = origin_allowed(s, wsi, accept, (int)acap, &n);
	if (lws_hdr_copy(wsi, accept, (int)acap, WSI_TOKEN_HTTP_ACCEPT) > 0)
		rq->accept = accept;
	if (lws_hdr_copy(wsi, ctype, (int)ccap, WSI_TOKEN_HTTP_CONTENT_TYPE) > 0)
		rq->ctype = ctype;
	if (lws_hdr_copy(wsi, len, sizeof len, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 && len[0] >= '0' && len[0] <= '9')
		rq->length = strtoll(len, NULL, 10);
}

/* The request (HTTP), or its whole body (BODY_COMPLETION), to the program. */
static int to_program(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, const char *path, int done)
{
	char accept[512], ctype[128], uri[512];
	struct wsb_http_req rq = { .path = path };

	if (!path && lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_POST_URI) > 0)
		rq.path = uri;
	if (!rq.path)
		return -1;
	fill_req(s, c, wsi, &rq, accept, sizeof accept, ctype, sizeof ctype);
	if (done) {
		rq.body = c->body.p ? c->body.p : "";
		rq.body_len = c->body.len;
		rq.has_body = 1;
		c->body_on = 0;
		c->waiting = 1;
	}
	return s->ops.http(s->ud, &rq);
}

static int body_chunk(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, const void *in, size_t len)
{
	struct wsb_err err;

	if (!c->body_on)
		return -1;	/* a body nobody asked for */
	if (wsb_buf_append(&c->body, in, len, &err)) {
		body_drop(s, c);
		return err.code == WSB_EXIT_DATAERR ? wsb_srv_refuse(wsi, 413, "Content Too Large", err.msg, NULL)
						    : wsb_srv_refuse(wsi, 503, "Service Unavailable", "out of memory", NULL);
	}
	body_account(s, c);
	return 0;
}

static int answer_out(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi)
{
	int r;

	if (!c->ans)
		return 0;
	r = http_reply_hdrs(wsi, c->ans_status, "application/json", NULL, c->ans, c->ans_len);
	free(c->ans);
	c->ans = NULL;
	return r;
}

int wsb_srv_http(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, enum lws_callback_reasons reason,
		 void *in, size_t len)
{
	int r;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		body_drop(s, c);	/* keep-alive: a new request */
		c->waiting = 0;
		c->wsi = wsi;
		return to_program(s, c, wsi, in, 0);
	case LWS_CALLBACK_HTTP_BODY:
		return body_chunk(s, c, wsi, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!c->body_on)
			return -1;
		r = to_program(s, c, wsi, NULL, 1);
		body_drop(s, c);
		return r;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return answer_out(s, c, wsi);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c->waiting && s->ops.gone)
			s->ops.gone(s->ud, c);
		c->waiting = 0;
		free(c->ans);
		c->ans = NULL;
		body_drop(s, c);
		return 0;
	default:
		return 0;
	}
}

int wsb_server_want_body(struct wsb_http_req *rq, size_t cap)
{
	struct wsb_conn *c = rq->conn;

	c->body.max = cap;
	c->body_on = 1;
	return 0;
}

int wsb_server_answer(struct wsb_conn *c, unsigned status, const char *json, size_t len)
{
	char *copy = malloc(len ? len : 1);

	c->waiting = 0;
	if (!copy)
		return -1;
	memcpy(copy, json, len);
	free(c->ans);
	c->ans = copy;
	c->ans_len = len;
	c->ans_status = status;
	lws_callback_on_writable(c->wsi);
	return 0;
}

/* wsserver_http — plain HTTP requests of the server transport (wsserver.h):
 * each handed to the program's http op with what the door says of it, and
 * POST bodies, collected under a cap the program sets and answered when
 * the program is ready (wsb_server_answer), from HTTP_WRITEABLE. */
#include "wsserver_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "wsdoor.h"

static void body_account(struct wsb_server *s, struct wsb_conn *c)
{
	wsb_srv_partial(s, c->http->body_counted, c->http->body.cap);
	c->http->body_counted = c->http->body.cap;
}

static void body_drop(struct wsb_server *s, struct wsb_conn *c)
{
	if (!c->http)
		return;
	wsb_buf_free(&c->http->body);
	c->http->body_on = 0;
	body_account(s, c);
}

/* The Origin rule of the door, for a request that changes something. */
static int origin_ok(struct wsb_server *s, struct lws *wsi)
{
	char origin[256], host[256] = "";
	int has = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
	int n = has ? lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) : 0;

	if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0)
		host[0] = '\0';
	return n >= 0 && wsb_admit_origin(has ? origin : NULL, host, s->cfg->tls_cert != NULL, s->origins,
					  s->cfg->listen_host);
}

static void fill_req(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, struct wsb_http_req *rq,
		     char *accept, size_t acap, char *ctype, size_t ccap)
{
	char len[32];
	const char *why = NULL;

	rq->get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) || lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI);
	rq->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
	rq->wsi = wsi;
	rq->conn = c;
	rq->length = -1;
	rq->authorized = wsb_door_grant(wsi, s->access, &rq->grant, &why) == 0;
	rq->origin_ok = origin_ok(s, wsi);
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
		rq.body = c->http->body.p ? c->http->body.p : "";
		rq.body_len = c->http->body.len;
		rq.has_body = 1;
		c->http->body_on = 0;
		c->http->waiting = 1;
	}
	return s->ops.http(s->ud, &rq);
}

static int body_chunk(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, const void *in, size_t len)
{
	struct wsb_err err;

	if (!c->http || !c->http->body_on)
		return -1;	/* a body nobody asked for */
	if (wsb_buf_append(&c->http->body, in, len, &err)) {
		body_drop(s, c);
		return err.code == WSB_EXIT_DATAERR ? wsb_door_refuse(wsi, 413, "Content Too Large", err.msg, NULL)
						    : wsb_door_refuse(wsi, 503, "Service Unavailable", "out of memory", NULL);
	}
	body_account(s, c);
	return 0;
}

/* c is lws's user space: completing the transaction (in the reply) may
 * free it, so nothing of c is touched after. */
static int answer_out(struct wsb_conn *c, struct lws *wsi)
{
	char *ans = c->http ? c->http->ans : NULL, secs[12];
	const char *const retry[] = { "retry-after:", secs, NULL };
	int r;

	if (!ans)
		return 0;
	c->http->ans = NULL;
	snprintf(secs, sizeof secs, "%u", c->http->ans_retry);
	r = wsb_door_reply(wsi, c->http->ans_status, "application/json", c->http->ans_retry ? retry : NULL, ans,
			   c->http->ans_len);
	free(ans);
	return r;
}

int wsb_srv_http(struct wsb_server *s, struct wsb_conn *c, struct lws *wsi, enum lws_callback_reasons reason,
		 void *in, size_t len)
{
	int r;

	/* A connection that failed before it had user space (plain HTTP to
	 * the TLS port: the handshake fails) is still closed through here. */
	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		body_drop(s, c);	/* keep-alive: a new request */
		if (!c->http && !(c->http = calloc(1, sizeof *c->http)))
			return wsb_door_refuse(wsi, 503, "Service Unavailable", "out of memory", NULL);
		c->http->waiting = 0;
		c->wsi = wsi;
		return to_program(s, c, wsi, in, 0);
	case LWS_CALLBACK_HTTP_BODY:
		return body_chunk(s, c, wsi, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!c->http || !c->http->body_on)
			return -1;
		r = to_program(s, c, wsi, NULL, 1);
		body_drop(s, c);
		return r;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return answer_out(c, wsi);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		/* The second: lws frees the user space (c) right after it when
		 * a transaction ends (lws_bind_protocol), without CLOSED_HTTP. */
		wsb_srv_http_free(s, c);
		return 0;
	default:
		return 0;
	}
}

void wsb_srv_http_free(struct wsb_server *s, struct wsb_conn *c)
{
	if (!c->http)
		return;
	if (c->http->waiting && s->ops.gone)
		s->ops.gone(s->ud, c);
	body_drop(s, c);
	free(c->http->ans);
	free(c->http);
	c->http = NULL;
}

int wsb_server_want_body(struct wsb_http_req *rq, size_t cap)
{
	struct wsb_conn *c = rq->conn;

	if (!c->http)
		return -1;
	c->http->body.max = cap;
	c->http->body_on = 1;
	return 0;
}

int wsb_server_answer(struct wsb_conn *c, unsigned status, unsigned retry_after, const char *json, size_t len)
{
	char *copy;

	if (!c->http)
		return -1;
	c->http->waiting = 0;
	if (!(copy = malloc(len ? len : 1)))
		return -1;
	memcpy(copy, json, len);
	free(c->http->ans);
	c->http->ans = copy;
	c->http->ans_len = len;
	c->http->ans_status = status;
	c->http->ans_retry = retry_after;
	lws_callback_on_writable(c->wsi);
	return 0;
}

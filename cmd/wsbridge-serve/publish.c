/* POST /publish (serve.h): one JSON message, or NDJSON lines, published
 * from plain HTTP, for cron jobs and scripts that have curl and no
 * WebSocket client.
 *
 * A body is all or nothing: every message is checked first with the
 * broker's own rules (wsb_broker_publish check_only), and only a body
 * without a bad line is published, so a script that fixes a line and posts
 * again never doubles the others. The answer is 200 with each message's
 * seq, or 400 with each bad line's error and nothing published. With
 * --journal it waits until the journal has stored the last of them, like
 * an ack: a 200 means stored.
 */
#include "serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "envelope.h"
#include "log.h"

/* An answer that waits for the journal. */
struct serve_wait {
	struct wsb_conn *conn;
	uint64_t last;			/* the batch's last seq */
	struct wsb_buf json;
	struct serve_wait *next;
};

/* The most a body may hold: --publish-lines messages of --max-message, but
 * at most half of --max-memory (it is held whole while it is checked). */
static size_t body_cap(const struct wsb_cfg *cfg)
{
	uint64_t cap = cfg->publish_lines * cfg->max_message;

	if (cfg->publish_lines && cap / cfg->publish_lines != cfg->max_message)
		cap = UINT64_MAX;
	if (cfg->max_memory && cap > cfg->max_memory / 2)
		cap = cfg->max_memory / 2;
	return cap > SIZE_MAX ? SIZE_MAX : (size_t)cap;
}

/* "application/json" or NDJSON, parameters (; charset=utf-8) aside: 1
 * JSON, 2 NDJSON, 0 other. Other types are refused: a browser can send
 * text/plain across origins without asking, never these. */
static int body_kind(const char *ctype)
{
	size_t n;

	if (!ctype)
		return 0;
	n = strcspn(ctype, "; \t");
	if (n == 16 && !strncasecmp(ctype, "application/json", n))
		return 1;
	if ((n == 20 && !strncasecmp(ctype, "application/x-ndjson", n)) ||
	    (n == 19 && !strncasecmp(ctype, "application/ndjson", n)) ||
	    (n == 21 && !strncasecmp(ctype, "application/jsonlines", n)))
		return 2;
	return 0;
}

/* The first call, before the body: everything that can be refused
 * without reading it. */
static int publish_head(struct serve *s, struct wsb_http_req *rq)
{
	struct wsb_broker_stats bst;
	struct wsb_server_stats st;
	size_t cap = body_cap(s->cfg);

	if (!rq->post)
		return wsb_server_refuse(rq, 405, "Method Not Allowed", "use POST", "allow: POST\r\n");
	if (!rq->origin_ok)
		return wsb_server_refuse(rq, 403, "Forbidden", "origin not allowed", NULL);
	if (!rq->authorized)
		return wsb_server_authorize(rq);	/* 401 with the reason, logged */
	if (!(rq->grant.scope.may & WSB_SCOPE_PUB))
		return wsb_server_refuse(rq, 403, "Forbidden", "this token may not publish", NULL);
	if (!body_kind(rq->ctype))
		return wsb_server_refuse(rq, 415, "Unsupported Media Type",
					 "Content-Type must be application/json or application/x-ndjson", NULL);
	if (rq->length < 0)
		return wsb_server_refuse(rq, 411, "Length Required", "Content-Length required", NULL);
	if (!rq->length)
		return wsb_server_refuse(rq, 400, "Bad Request", "empty body", NULL);
	if ((uint64_t)rq->length > cap)
		return wsb_server_refuse(rq, 413, "Content Too Large", "body larger than --publish-lines x --max-message",
					 NULL);
	if (s->cluster)		/* the seq would come back later, to a session */
		return wsb_server_refuse(rq, 503, "Service Unavailable",
					 "not in cluster mode: publish over the WebSocket", NULL);
	wsb_broker_stats(s->broker, &bst);
	if (bst.seq_exhausted)	/* the server's state, not the body's fault; no retry mends it */
		return wsb_server_refuse(rq, 503, "Service Unavailable",
					 "seq space exhausted (SEQ_EXHAUSTED) until the server starts a new epoch", NULL);
	wsb_server_stats(s->srv, &st);
	if (st.publishers_paused || s->degraded)
		return wsb_server_refuse(rq, 503, "Service Unavailable",
					 s->degraded ? "the journal cannot be written" : "publishers are paused: retry",
					 "retry-after: " SERVE_STR(SERVE_RETRY_AFTER_S) "\r\n");
	return wsb_server_want_body(rq, cap);
}

/* One message of the body: its bytes, and its line number. */
struct line {
	const char *p;
	size_t len;
	unsigned no;
};

/* The next non-empty line of an NDJSON body at *pos, or of a JSON body
 * its whole; 0 at the end. */
static int next_line(const struct wsb_http_req *rq, int kind, size_t *pos, unsigned *no, struct line *l)
{
	while (*pos < rq->body_len) {
		const char *p = rq->body + *pos, *nl = kind == 2 ? memchr(p, '\n', rq->body_len - *pos) : NULL;
		size_t n = nl ? (size_t)(nl - p) : rq->body_len - *pos;

		*pos += n + (nl != NULL);
		++*no;
		while (n && strchr(" \t\r", p[n - 1]))
			n--;
		while (n && strchr(" \t\r", *p))
			p++, n--;
		if (n) {
			*l = (struct line){ p, n, *no };
			return 1;
		}
	}
	return 0;
}

static int add_error(struct wsb_buf *out, unsigned no, const char *code, const char *msg)
{
	char line[2 * WSB_ERR_LEN + 96], esc[2 * WSB_ERR_LEN];
	int n;

	wsb_json_escape(esc, sizeof esc, msg, strlen(msg));
	n = snprintf(line, sizeof line, "%s{\"line\":%u,\"error\":{\"code\":\"%s\",\"message\":%s}}",
		     out->len ? "," : "", no, code, esc);
	return wsb_buf_append(out, line, (size_t)n, NULL);
}

/* Every line as the broker would take it: the bad ones' errors into out.
 * Returns the number of messages, or -1 if any is bad (or too many). */
static long check_all(struct serve *s, const struct wsb_http_req *rq, int kind, struct wsb_buf *out)
{
	size_t pos = 0;
	unsigned no = 0;
	long count = 0, bad = 0;
	struct line l;
	const char *code;
	struct wsb_err err;

	while (next_line(rq, kind, &pos, &no, &l)) {
		if ((uint64_t)++count > s->cfg->publish_lines) {
			add_error(out, l.no, "TOO_MANY", "more messages than --publish-lines in one body");
			return -1;
		}
		if (l.len > s->cfg->max_message) {
			snprintf(err.msg, sizeof err.msg, "message larger than %" PRIu64 " bytes (--max-message)",
				 s->cfg->max_message);
			bad += !add_error(out, l.no, "TOO_BIG", err.msg);
		} else if (!wsb_broker_publish(s->broker, l.p, l.len, &rq->grant.scope, 1, &code, &err)) {
			bad += !add_error(out, l.no, code, err.msg);
		}
	}
	if (!count)
		add_error(out, 1, "INVALID_MESSAGE", "no message in the body");
	return bad || !count ? -1 : count;
}

/* Publishes every line; their seqs into out. The last seq, or 0 if the
 * broker refused one after all (its seq space ran out meanwhile). */
static uint64_t publish_all(struct serve *s, const struct wsb_http_req *rq, int kind, struct wsb_buf *out)
{
	size_t pos = 0;
	unsigned no = 0;
	uint64_t seq = 0;
	struct line l;
	const char *code;
	struct wsb_err err;
	char item[64];
	int n;

	while (next_line(rq, kind, &pos, &no, &l)) {
		if (!(seq = wsb_broker_publish(s->broker, l.p, l.len, &rq->grant.scope, 0, &code, &err))) {
			add_error(out, l.no, code, err.msg);
			return 0;
		}
		n = snprintf(item, sizeof item, "%s{\"line\":%u,\"seq\":%" PRIu64 "}", out->len ? "," : "", l.no, seq);
		wsb_buf_append(out, item, (size_t)n, NULL);
	}
	return seq;
}

/* {"published":N,"epoch":E,"results":[...]} or {"published":0,...,"errors":[...]} */
static int build(struct serve *s, long published, const char *key, const struct wsb_buf *items,
		 struct wsb_buf *json)
{
	char head[128];
	int n = snprintf(head, sizeof head, "{\"published\":%ld,\"epoch\":\"%s\",\"%s\":[", published,
			 wsb_broker_epoch(s->broker), key);

	return wsb_buf_append(json, head, (size_t)n, NULL) || wsb_buf_append(json, items->p, items->len, NULL) ||
	       wsb_buf_append(json, "]}\n", 3, NULL) ? -1 : 0;
}

static int out_of_memory(struct wsb_conn *conn)
{
	static const char oom[] = "{\"error\":\"out of memory\"}\n";

	return wsb_server_answer(conn, 503, SERVE_RETRY_AFTER_S, oom, sizeof oom - 1);
}

static int answer(struct serve *s, struct wsb_conn *conn, unsigned status, long published, const char *key,
		  const struct wsb_buf *items)
{
	struct wsb_buf json = { 0 };
	int r = build(s, published, key, items, &json) ? out_of_memory(conn)
						       : wsb_server_answer(conn, status,
									   status == 503 ? SERVE_RETRY_AFTER_S : 0,
									   json.p, json.len);

	wsb_buf_free(&json);
	return r;
}

/* With a journal: answer once the last seq is stored (serve_publish_durable). */
static int wait_durable(struct serve *s, struct wsb_conn *conn, uint64_t last, long count,
			const struct wsb_buf *items)
{
	struct serve_wait *w = calloc(1, sizeof *w);

	if (!w || build(s, count, "results", items, &w->json)) {
		if (w)
			wsb_buf_free(&w->json);
		free(w);
		return out_of_memory(conn);
	}
	w->conn = conn;
	w->last = last;
	w->next = s->waiting;
	s->waiting = w;
	serve_publish_durable(s);
	return 0;
}

static int publish_body(struct serve *s, struct wsb_http_req *rq)
{
	int kind = body_kind(rq->ctype);
	struct wsb_buf items = { 0 };
	long count = check_all(s, rq, kind, &items);
	uint64_t last;
	int r;

	if (count < 0)
		r = answer(s, rq->conn, 400, 0, "errors", &items);
	else if (!(last = publish_all(s, rq, kind, &items)))
		r = answer(s, rq->conn, 503, 0, "errors", &items);
	else if (s->journal)
		r = wait_durable(s, rq->conn, last, count, &items);
	else
		r = answer(s, rq->conn, 200, count, "results", &items);
	wsb_buf_free(&items);
	return r < 0 ? -1 : 0;
}

int serve_publish_http(struct serve *s, struct wsb_http_req *rq)
{
	return rq->has_body ? publish_body(s, rq) : publish_head(s, rq);
}

static void unlink_wait(struct serve *s, struct serve_wait **pp)
{
	struct serve_wait *w = *pp;

	*pp = w->next;
	wsb_buf_free(&w->json);
	free(w);
}

void serve_publish_durable(struct serve *s)
{
	struct wsb_broker_stats st;
	static const char lost[] = "{\"error\":\"not stored: the journal cannot be written (see /health)\"}\n";

	wsb_broker_stats(s->broker, &st);
	for (struct serve_wait **pp = &s->waiting; *pp;) {
		struct serve_wait *w = *pp;

		if (w->last <= st.durable_seq)
			wsb_server_answer(w->conn, 200, 0, w->json.p, w->json.len);
		else if (s->lost_seq && w->last >= s->lost_seq)
			wsb_server_answer(w->conn, 503, SERVE_RETRY_AFTER_S, lost, sizeof lost - 1);
		else {
			pp = &w->next;
			continue;
		}
		unlink_wait(s, pp);
	}
}

void serve_publish_gone(void *ud, struct wsb_conn *conn)
{
	struct serve *s = ud;

	for (struct serve_wait **pp = &s->waiting; *pp; pp = &(*pp)->next)
		if ((*pp)->conn == conn) {
			unlink_wait(s, pp);
			return;
		}
}

void serve_publish_free(struct serve *s)
{
	while (s->waiting)
		unlink_wait(s, &s->waiting);
}

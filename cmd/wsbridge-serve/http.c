/* wsbridge-serve's HTTP documents (serve.h): what a probe, a scraper, a
 * script or a browser gets on the WebSocket port. */
#include "serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "cluster.h"
#include "console.h"
#include "envelope.h"
#include "sys.h"

static double uptime(const struct serve *s)
{
	return (double)(wsb_mono_ns() - s->started) / 1e9;
}

static int metrics_core(struct serve *s, char *buf, size_t cap);

static const char *const cluster_states[] = { "ok", "degraded", "down" };

/* --cluster's part of /health: its state, where Redis is (never the
 * password), how many instances heartbeat; why, when not ok (in why).
 * *down when publishes are refused: the instance cannot do its work. */
static const char *cluster_json(const struct serve *s, char *buf, size_t cap, char *why, size_t wcap,
				int *down)
{
	struct wsb_cluster_stats cs;
	int n;

	buf[0] = '\0';
	*down = 0;
	if (!s->cluster)
		return NULL;
	wsb_cluster_stats(s->cluster, &cs);
	n = snprintf(buf, cap, ",\"cluster\":\"%s\",\"cluster_name\":", cluster_states[cs.state]);
	n += (int)wsb_json_escape(buf + n, cap - (size_t)n, s->cfg->cluster_name, strlen(s->cfg->cluster_name));
	n += snprintf(buf + n, cap - (size_t)n, ",\"cluster_redis\":");
	n += (int)wsb_json_escape(buf + n, cap - (size_t)n, cs.addr, strlen(cs.addr));
	snprintf(buf + n, cap - (size_t)n, ",\"cluster_instances\":%" PRIu64, cs.instances);
	if (cs.state == WSB_CLUSTER_OK)
		return NULL;
	*down = cs.state == WSB_CLUSTER_DOWN;
	snprintf(why, wcap, "%s%s", *down ? "publishes refused (UNAVAILABLE): " : "",
		 cs.reason[0] ? cs.reason : "the cluster is not ok");
	return why;
}

/* Why this instance cannot take publishes now, or NULL: --cluster down
 * (UNAVAILABLE), a journal that cannot be written (nothing is acknowledged
 * or delivered until it can: POST /publish is 503 too), or the seq space
 * used up (SEQ_EXHAUSTED until a new epoch). Into buf. */
static const char *refusing(const struct serve *s, const struct wsb_broker_stats *st, const char *cwhy, int down,
			    char *buf, size_t cap)
{
	if (down)
		return cwhy;
	if (s->degraded)
		snprintf(buf, cap, "publishes not acknowledged (journal): %s", s->degraded_reason);
	else if (st->seq_exhausted)
		snprintf(buf, cap, "publishes refused (SEQ_EXHAUSTED): seq space exhausted until the server "
			 "starts a new epoch");
	else
		return NULL;
	return buf;
}

/* The status and its HTTP code: "unavailable" with 503 while publishes are
 * refused or never acknowledged (see refusing()), so a load balancer stops
 * sending publishers to an instance that cannot take them, with *retry
 * (seconds) since it may mend; "stopping" is 503 too, as the instance is
 * leaving, but with no *retry: a client should go elsewhere, not wait for
 * it. "degraded" (--cluster holding publishes a while) still works, 200. */
static int health_json(struct serve *s, char *buf, size_t cap, int *code, int *retry)
{
	struct wsb_broker_stats st;
	struct wsb_server_stats ts_;
	char ts[WSB_TS_LEN];

	char reason[2 * WSB_ERR_LEN] = "", rbuf[WSB_ERR_LEN + 64];
	const char *why, *refused;

	char cluster[600], cbuf[WSB_ERR_LEN];
	int down;
	const char *cwhy = cluster_json(s, cluster, sizeof cluster, cbuf, sizeof cbuf, &down);

	wsb_broker_stats(s->broker, &st);
	wsb_server_stats(s->srv, &ts_);
	wsb_env_timestamp_now(ts);
	refused = refusing(s, &st, cwhy, down, rbuf, sizeof rbuf);
	why = refused ? refused : cwhy;
	*code = refused || ts_.stopping ? 503 : 200;
	*retry = refused && !ts_.stopping;
	if (why) {
		memcpy(reason, ",\"reason\":", 10);
		wsb_json_escape(reason + 10, sizeof reason - 10, why, strlen(why));
	}
	return snprintf(buf, cap,
			"{\"status\":\"%s\"%s,\"active_connections\":%" PRIu64 ",\"subscribers\":%" PRIu64
			",\"uptime_s\":%.0f,\"messages_in\":%" PRIu64 ",\"messages_out\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"slow_consumers_closed\":%" PRIu64
			",\"slow_unsubscribed\":%" PRIu64 ",\"seq\":%" PRIu64
			",\"queued_bytes\":%" PRIu64 ",\"publishers_paused\":%s,\"epoch\":\"%s\",\"retained\":%" PRIu64
			",\"duplicates\":%" PRIu64 ",\"durable_seq\":%" PRIu64 ",\"snapshot_bytes\":%" PRIu64
			",\"snapshot_entries\":%" PRIu64 ",\"snapshot_evicted\":%" PRIu64 ",\"partial_bytes\":%zu"
			",\"memory_bytes\":%" PRIu64 ",\"journal\":%s%s,\"version\":\"%s\",\"timestamp\":\"%s\"}\n",
			ts_.stopping ? "stopping" : refused ? "unavailable" : why ? "degraded" : "healthy", reason, st.connections, st.subscribers,
			uptime(s), st.messages_in, st.messages_out, st.dropped,
			st.slow_consumers_closed, st.slow_unsubscribed, st.seq, st.queued_bytes,
			ts_.publishers_paused ? "true" : "false",
			wsb_broker_epoch(s->broker), st.retained, st.duplicates, st.durable_seq,
			st.snapshot_bytes, st.snapshot_entries, st.snapshot_evicted, ts_.partial_bytes,
			st.memory_bytes, s->journal ? "true" : "false", cluster, WSB_VERSION, ts);
}

/* --cluster's metrics, after the others. */
static int cluster_metrics(const struct serve *s, char *buf, size_t cap)
{
	struct wsb_cluster_stats cs;

	if (!s->cluster || !cap)
		return 0;
	wsb_cluster_stats(s->cluster, &cs);
	return snprintf(buf, cap,
		"# HELP wsbridge_cluster_up 1 when Redis answers on both connections.\n# TYPE wsbridge_cluster_up gauge\nwsbridge_cluster_up %d\n"
		"# HELP wsbridge_cluster_instances Instances heartbeating in Redis.\n# TYPE wsbridge_cluster_instances gauge\nwsbridge_cluster_instances %" PRIu64 "\n"
		"# HELP wsbridge_cluster_rtt_seconds Round trip of the last heartbeat to Redis.\n# TYPE wsbridge_cluster_rtt_seconds gauge\nwsbridge_cluster_rtt_seconds %.6f\n"
		"# HELP wsbridge_cluster_backlog Stream entries not yet read by this instance.\n# TYPE wsbridge_cluster_backlog gauge\nwsbridge_cluster_backlog %" PRIu64 "\n"
		"# HELP wsbridge_cluster_held Publishes held while Redis is away.\n# TYPE wsbridge_cluster_held gauge\nwsbridge_cluster_held %" PRIu64 "\n"
		"# HELP wsbridge_cluster_inflight Publishes sent to Redis and not answered yet.\n# TYPE wsbridge_cluster_inflight gauge\nwsbridge_cluster_inflight %" PRIu64 "\n"
		"# HELP wsbridge_cluster_reconnects_total Connections to Redis lost.\n# TYPE wsbridge_cluster_reconnects_total counter\nwsbridge_cluster_reconnects_total %" PRIu64 "\n",
		cs.state == WSB_CLUSTER_OK, cs.instances, cs.rtt_ms / 1000, cs.backlog, cs.held, cs.inflight,
		cs.reconnects);
}

/* ?filter=: how many programs the subscribers share, and what running
 * them cost. */
static int filter_metrics(struct serve *s, char *buf, size_t cap)
{
	struct serve_filter_stats f;

	serve_filters_stats(s, &f);
	return snprintf(buf, cap,
		"# HELP wsbridge_filters Distinct ?filter= programs in use (shared by equal texts).\n# TYPE wsbridge_filters gauge\nwsbridge_filters %" PRIu64 "\n"
		"# HELP wsbridge_filter_subscribers Connections with a ?filter=.\n# TYPE wsbridge_filter_subscribers gauge\nwsbridge_filter_subscribers %" PRIu64 "\n"
		"# HELP wsbridge_filter_evaluations_total Filter runs: one per distinct program per message.\n# TYPE wsbridge_filter_evaluations_total counter\nwsbridge_filter_evaluations_total %" PRIu64 "\n"
		"# HELP wsbridge_filter_errors_total Filter runs that failed at run time (taken as false).\n# TYPE wsbridge_filter_errors_total counter\nwsbridge_filter_errors_total %" PRIu64 "\n"
		"# HELP wsbridge_filters_dropped_total Filters dropped for --filter-time or --filter-memory.\n# TYPE wsbridge_filters_dropped_total counter\nwsbridge_filters_dropped_total %" PRIu64 "\n"
		"# HELP wsbridge_filter_worker_restarts_total Filter worker processes replaced.\n# TYPE wsbridge_filter_worker_restarts_total counter\nwsbridge_filter_worker_restarts_total %" PRIu64 "\n",
		f.programs, f.subscribers, f.evaluations, f.errors, f.dropped, f.restarts);
}

static int metrics_text(struct serve *s, char *buf, size_t cap)
{
	int n = metrics_core(s, buf, cap);

	if (n < 0 || (size_t)n >= cap)
		return n;
	return n + cluster_metrics(s, buf + n, cap - (size_t)n);
}

static int metrics_core(struct serve *s, char *buf, size_t cap)
{
	struct wsb_broker_stats st;
	struct wsb_server_stats ts;

	wsb_broker_stats(s->broker, &st);
	wsb_server_stats(s->srv, &ts);
	return snprintf(buf, cap,
		"# HELP wsbridge_connections Open WebSocket connections.\n# TYPE wsbridge_connections gauge\nwsbridge_connections %" PRIu64 "\n"
		"# HELP wsbridge_subscribers Connections subscribed to at least one type.\n# TYPE wsbridge_subscribers gauge\nwsbridge_subscribers %" PRIu64 "\n"
		"# HELP wsbridge_messages_in_total Messages published.\n# TYPE wsbridge_messages_in_total counter\nwsbridge_messages_in_total %" PRIu64 "\n"
		"# HELP wsbridge_messages_out_total Frames sent to clients.\n# TYPE wsbridge_messages_out_total counter\nwsbridge_messages_out_total %" PRIu64 "\n"
		"# HELP wsbridge_dropped_total Messages discarded from slow consumers' queues.\n# TYPE wsbridge_dropped_total counter\nwsbridge_dropped_total %" PRIu64 "\n"
		"# HELP wsbridge_slow_consumers_closed_total Connections closed with 4008.\n# TYPE wsbridge_slow_consumers_closed_total counter\nwsbridge_slow_consumers_closed_total %" PRIu64 "\n"
		"# HELP wsbridge_slow_unsubscribed_total Slow connections that publish, unsubscribed instead of closed.\n# TYPE wsbridge_slow_unsubscribed_total counter\nwsbridge_slow_unsubscribed_total %" PRIu64 "\n"
		"# HELP wsbridge_errors_total Error replies for invalid input.\n# TYPE wsbridge_errors_total counter\nwsbridge_errors_total %" PRIu64 "\n"
		"# HELP wsbridge_seq Last sequence number assigned.\n# TYPE wsbridge_seq gauge\nwsbridge_seq %" PRIu64 "\n"
		"# HELP wsbridge_queued_bytes Bytes waiting in subscriber queues.\n# TYPE wsbridge_queued_bytes gauge\nwsbridge_queued_bytes %" PRIu64 "\n"
		"# HELP wsbridge_snapshot_bytes Bytes held by the snapshot table.\n# TYPE wsbridge_snapshot_bytes gauge\nwsbridge_snapshot_bytes %" PRIu64 "\n"
		"# HELP wsbridge_snapshot_entries Entries in the snapshot table.\n# TYPE wsbridge_snapshot_entries gauge\nwsbridge_snapshot_entries %" PRIu64 "\n"
		"# HELP wsbridge_snapshot_evicted_total Snapshot entries evicted for room.\n# TYPE wsbridge_snapshot_evicted_total counter\nwsbridge_snapshot_evicted_total %" PRIu64 "\n"
		"# HELP wsbridge_partial_bytes Bytes held for unfinished inbound messages.\n# TYPE wsbridge_partial_bytes gauge\nwsbridge_partial_bytes %zu\n"
		"# HELP wsbridge_memory_bytes Bytes counted against --max-memory.\n# TYPE wsbridge_memory_bytes gauge\nwsbridge_memory_bytes %" PRIu64 "\n"
		"# HELP wsbridge_uptime_seconds Seconds since start.\n# TYPE wsbridge_uptime_seconds gauge\nwsbridge_uptime_seconds %.0f\n",
		st.connections, st.subscribers, st.messages_in, st.messages_out, st.dropped,
		st.slow_consumers_closed, st.slow_unsubscribed, st.errors, st.seq, st.queued_bytes, st.snapshot_bytes,
		st.snapshot_entries, st.snapshot_evicted, ts.partial_bytes, st.memory_bytes,
		uptime(s));
}

/* GET /clients: the connections, as the token holder may see them; the
 * transport's view of each (address, path, the query without secrets)
 * beside the broker's (wsb_broker_sess_info). */
static int serve_clients(struct serve *s, struct wsb_http_req *rq)
{
	struct wsb_buf body = { .max = (size_t)64 << 20 };
	struct wsb_conn_view *v;
	struct wsb_conn *c;
	struct wsb_err err;
	size_t n = 0;
	int r;

	if (wsb_server_authorize(rq))
		return -1;
	for (c = wsb_server_next(s->srv, NULL); c; c = wsb_server_next(s->srv, c))
		n++;
	v = calloc(n + 1, sizeof *v);
	n = 0;
	for (c = wsb_server_next(s->srv, NULL); v && c; c = wsb_server_next(s->srv, c))
		v[n++] = (struct wsb_conn_view){ wsb_server_peer(c), wsb_server_path(c), wsb_server_query(c),
						 wsb_server_sess(c) };
	if (!v || wsb_clients_json(&body, v, n, &err)) {
		free(v);
		wsb_buf_free(&body);
		return wsb_server_refuse(rq, 503, "Service Unavailable", "out of memory", NULL);
	}
	r = wsb_server_reply(rq, 200, "application/json", NULL, body.p, body.len);
	free(v);
	wsb_buf_free(&body);
	return r;
}

/* The console page (GET / from a browser, /console) and /wsbridge.js. The
 * page holds no data, so it needs no token; its CSP keeps it to its own
 * origin and out of frames (the publish box must not be clickjacked), and
 * no-referrer keeps a ?token= in its address out of any Referer. */
static int serve_console(struct wsb_http_req *rq, const char *path)
{
	static const char *const page_hdrs[] = {
		"content-security-policy:", "default-src 'none'; script-src 'self' 'unsafe-inline'; "
		"style-src 'unsafe-inline'; connect-src 'self' ws: wss:; img-src data:; base-uri 'none'; "
		"form-action 'none'; frame-ancestors 'none'",
		"x-content-type-options:", "nosniff", "referrer-policy:", "no-referrer", "vary:", "accept", NULL
	};
	/* A module a dashboard served elsewhere may import: it is public. */
	static const char *const js_hdrs[] = {
		"x-content-type-options:", "nosniff", "access-control-allow-origin:", "*", NULL
	};
	const char *ctype;
	const struct wsb_embedded *f = wsb_console_file(strcmp(path, "/") ? path : "/console", &ctype);

	if (!f)
		return wsb_server_refuse(rq, 404, "Not Found", "not found", NULL);
	return wsb_server_reply(rq, 200, ctype, strcmp(path, "/wsbridge.js") ? page_hdrs : js_hdrs,
			       (const char *)f->data, f->len);
}

static int is_console_path(const struct serve *s, const struct wsb_http_req *rq, const char *path)
{
	if (s->cfg->no_console)
		return 0;
	if (!strcmp(path, "/console") || !strcmp(path, "/wsbridge.js"))
		return 1;
	return !strcmp(path, "/") && rq->accept && wsb_console_wants_html(rq->accept);
}

/* GET / for scripts: what this broker is and offers. "features" lists
 * what a client may use beyond the protocol's core; the console shows its
 * publish box only when it names "console-publish", its filter box only
 * when it names "filter" (?filter=). */
static int serve_root(struct serve *s, struct wsb_http_req *rq, char *body, size_t cap)
{
	static const char *const hdrs[] = { "vary:", "accept", NULL };
	int con = !s->cfg->no_console;
	int n = snprintf(body, cap,
			 "{\"name\":\"wsbridge-serve\",\"version\":\"%s\",\"endpoints\":{\"websocket\":\"%s\","
			 "\"health\":\"/health\",\"metrics\":\"/metrics\",\"clients\":\"/clients\",\"publish\":\"/publish\"%s},"
			 "\"auth\":\"%s\",\"features\":[\"filter\"%s]}\n",
			 WSB_VERSION, s->cfg->path, con ? ",\"console\":\"/console\",\"client\":\"/wsbridge.js\"" : "",
			 wsb_access_on(s->access) ? "token" : "none", s->cfg->console_publish ? ",\"console-publish\"" : "");

	return wsb_server_reply(rq, 200, "application/json", con ? hdrs : NULL, body, (size_t)n);
}

int serve_http(void *ud, struct wsb_http_req *rq)
{
	struct serve *s = ud;
	const char *path = rq->path;
	char body[8192];
	int n;

	if (!strcmp(path, "/publish"))
		return serve_publish_http(s, rq);
	/* Every other endpoint is read-only: other methods on a known path get
	 * 405 with Allow, not the GET answer (a POST must not look accepted). */
	if ((!strcmp(path, "/health") || !strcmp(path, "/metrics") || !strcmp(path, "/") ||
	     !strcmp(path, "/clients") || !strcmp(path, s->cfg->path) || is_console_path(s, rq, path)) &&
	    !rq->get)
		return wsb_server_refuse(rq, 405, "Method Not Allowed", "method not allowed", "allow: GET, HEAD\r\n");
	if (is_console_path(s, rq, path))
		return serve_console(rq, path);
	if (!strcmp(path, "/health")) {
		static const char *const retry_hdrs[] = { "retry-after:", SERVE_STR(SERVE_RETRY_AFTER_S), NULL };
		int code, retry;

		n = health_json(s, body, sizeof body, &code, &retry);
		return wsb_server_reply(rq, code, "application/json", retry ? retry_hdrs : NULL, body, (size_t)n);
	}
	if (!strcmp(path, "/clients"))
		return serve_clients(s, rq);
	if (!strcmp(path, "/metrics")) {
		/* What is published and how much, for whoever holds a token; a
		 * liveness probe (/health) needs none. */
		if (wsb_server_authorize(rq))
			return -1;
		n = metrics_text(s, body, sizeof body);
		if (n > 0 && (size_t)n < sizeof body)
			n += filter_metrics(s, body + n, sizeof body - (size_t)n);
		if (n < 0 || (size_t)n >= sizeof body)
			return wsb_server_refuse(rq, 500, "Internal Server Error", "metrics too long", NULL);
		return wsb_server_reply(rq, 200, "text/plain; version=0.0.4", NULL, body, (size_t)n);
	}
	if (!strcmp(path, "/"))
		return serve_root(s, rq, body, sizeof body);
	if (!strcmp(path, s->cfg->path)) {
		n = snprintf(body, sizeof body, "{\"error\":\"upgrade required\",\"path\":\"%s\"}\n", s->cfg->path);
		return wsb_server_reply(rq, 426, "application/json", NULL, body, (size_t)n);
	}
	n = snprintf(body, sizeof body, "{\"error\":\"not found\"}\n");
	return wsb_server_reply(rq, 404, "application/json", NULL, body, (size_t)n);
}

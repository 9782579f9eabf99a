#include "wsserver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "admit.h"
#include "auth.h"
#include "broker.h"
#include "buf.h"
#include "console.h"
#include "envelope.h"
#include "jqfilter.h"
#include "journal.h"
#include "listen.h"
#include "log.h"
#include "prodfile.h"
#include "lwsglue.h"
#include "lwsio.h"
#include "sys.h"

/* A batch is what one WRITEABLE callback sends in one lws_write(RAW): big
 * enough that a busy subscriber costs one syscall per few hundred messages
 * (see docs/design.md), small enough to keep per-client latency even. */
#define BATCH 65536
#define SHUTDOWN_GRACE_MS 2000
#define CLOSE_GRACE_S 10
/* Reassembly memory a connection keeps between messages: beyond it the
 * buffer is given back once a big message is delivered. */
#define RX_KEEP 4096

struct conn {
	struct lws *wsi;
	struct wsb_sess *sess;
	struct conn *prev, *next;
	struct wsb_buf rx;		/* reassembly of a fragmented message */
	int rx_open;			/* a message has begun and not ended */
	uint64_t rx_since;		/* when it began, monotonic ms */
	size_t rx_counted;		/* rx.cap as counted in partial_bytes */
	int close_code;			/* set: close at the next chance */
	int close_sent;
	char close_reason[124];
	int published;			/* has published: paused under pressure */
	int paused;
	int is_ws;
	int unmasked;			/* sent an unmasked frame: close 1002 when writable */
	int counted;			/* in server.nconns */
	char peer[48];			/* remote address, for --max-connections-per-ip */
};

struct server {
	const struct wsb_cfg *cfg;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct wsb_broker *broker;
	struct conn *conns;
	unsigned char *scratch;		/* LWS_PRE + hard cap, shared by every write */
	size_t hard;
	char token[WSB_TOKEN_MAX];
	int has_token;
	int pressure;
	size_t partial_bytes;		/* reassembly memory of unfinished messages */
	int stopping;
	uint64_t started, stop_at;	/* wsb_mono_ns */
	lws_retry_bo_t retry;
	lws_sorted_usec_list_t sul_tick;
	char iface[64];			/* --listen host as a numeric address */
	/* the door: connection limits and the descriptor-limit episode */
	uint64_t max_conns, nconns;
	struct lws *listen_wsi;		/* learnt from the first accept */
	int emfile;			/* in an accept-failure episode */
	uint64_t emfile_at;	/* the episode's last failed accept (wsb_mono_ns) */
	/* --journal */
	struct wsb_jqf *snapkey;		/* --snapshot-key */
	struct wsb_journal *journal;
	struct wsb_prodfile *prodfile;	/* DIR/producers: registered producer ids */
	lws_sorted_usec_list_t sul_commit;
	int commit_armed;
	int degraded;			/* the journal cannot be written */
	uint64_t lost_seq;		/* first seq the journal refused: acks stop before it */
	char degraded_reason[WSB_ERR_LEN];
};

static uint64_t mono_ms(void)
{
	return wsb_mono_ns() / 1000000;
}

/* Seconds since t0 (a wsb_mono_ns reading). */
static double since(uint64_t t0)
{
	return (double)(wsb_mono_ns() - t0) / 1e9;
}

/* Broker hooks: the only way the core reaches a socket. */

static void hook_wake(void *ud, void *c)
{
	lws_callback_on_writable(((struct conn *)c)->wsi);
}

static void close_soon(struct conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
	lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)c->close_reason,
			 strlen(c->close_reason));
	/* A slow consumer's socket may never become writable again. The close
	 * frame waits behind what the kernel already holds; a client that
	 * reads again within the grace period sees the code, and the timeout
	 * frees the socket of one that never does. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
	lws_callback_on_writable(c->wsi);
}

static void hook_close(void *ud, void *cp, int code, const char *reason)
{
	struct conn *c = cp;

	wsb_log(WSB_LOG_INFO, "closing %s: %s (%d)", wsb_broker_client_id(c->sess), reason, code);
	close_soon(c, code, reason);
}

static void hook_pressure(void *ud, int on)
{
	struct server *s = ud;

	s->pressure = on;
	/* Routine during bursts (a subscriber catching up): debug, not noise. */
	wsb_log(WSB_LOG_DEBUG, "%s publishers", on ? "pausing" : "resuming");
	if (on)
		return;
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->paused) {
			c->paused = 0;
			lws_rx_flow_control(c->wsi, 1);
		}
}

/* HTTP: /health, /metrics, / and JSON errors. */

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

static int http_reply(struct lws *wsi, unsigned status, const char *ctype, const char *body, size_t len)
{
	return http_reply_hdrs(wsi, status, ctype, NULL, body, len);
}

static int health_json(struct server *s, char *buf, size_t cap)
{
	struct wsb_broker_stats st;
	char ts[WSB_TS_LEN];

	char reason[2 * WSB_ERR_LEN] = "";

	static const char exhausted[] = "seq space exhausted: publishing is refused (SEQ_EXHAUSTED) "
					"until the server starts a new epoch";
	const char *why;

	wsb_broker_stats(s->broker, &st);
	wsb_env_timestamp_now(ts);
	why = s->degraded ? s->degraded_reason : st.seq_exhausted ? exhausted : NULL;
	if (why) {
		memcpy(reason, ",\"reason\":", 10);
		wsb_json_escape(reason + 10, sizeof reason - 10, why, strlen(why));
	}
	return snprintf(buf, cap,
			"{\"status\":\"%s\"%s,\"active_connections\":%" PRIu64 ",\"subscribers\":%" PRIu64
			",\"uptime_s\":%.0f,\"messages_in\":%" PRIu64 ",\"messages_out\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"slow_consumers_closed\":%" PRIu64 ",\"seq\":%" PRIu64
			",\"queued_bytes\":%" PRIu64 ",\"publishers_paused\":%s,\"epoch\":\"%s\",\"retained\":%" PRIu64
			",\"duplicates\":%" PRIu64 ",\"durable_seq\":%" PRIu64 ",\"snapshot_bytes\":%" PRIu64
			",\"snapshot_entries\":%" PRIu64 ",\"snapshot_evicted\":%" PRIu64 ",\"partial_bytes\":%zu"
			",\"memory_bytes\":%" PRIu64 ",\"journal\":%s,\"version\":\"%s\",\"timestamp\":\"%s\"}\n",
			s->stopping ? "stopping" : why ? "degraded" : "healthy", reason, st.connections, st.subscribers,
			since(s->started), st.messages_in, st.messages_out, st.dropped,
			st.slow_consumers_closed, st.seq, st.queued_bytes, s->pressure ? "true" : "false",
			wsb_broker_epoch(s->broker), st.retained, st.duplicates, st.durable_seq,
			st.snapshot_bytes, st.snapshot_entries, st.snapshot_evicted, s->partial_bytes,
			st.memory_bytes, s->journal ? "true" : "false", WSB_VERSION, ts);
}

/* ---- journal: group commit, acks follow durability ---- */

static void commit_cb(lws_sorted_usec_list_t *sul);

static void set_degraded(struct server *s, const char *why)
{
	if (!why) {
		if (s->degraded)
			wsb_log(WSB_LOG_WARN, "journal writable again: acknowledging");
		s->degraded = 0;
		return;
	}
	if (!s->degraded || strcmp(why, s->degraded_reason))
		wsb_log(WSB_LOG_ERROR, "%s: not acknowledging until it can be written", why);
	s->degraded = 1;
	snprintf(s->degraded_reason, sizeof s->degraded_reason, "%s", why);
}

static void arm_commit(struct server *s, int64_t us)
{
	if (s->commit_armed)
		return;
	s->commit_armed = 1;
	lws_sul_schedule(s->ctx, 0, &s->sul_commit, commit_cb, us);
}

static void commit_now(struct server *s, int sync)
{
	struct wsb_err err = { 0 };

	/* Registrations first: a producer's lines are never stored (nor
	 * acknowledged) before the broker can recognise it after a restart. */
	if (wsb_prodfile_flush(s->prodfile, &err) || wsb_journal_commit(s->journal, sync, &err)) {
		set_degraded(s, err.msg);
		arm_commit(s, 500 * LWS_US_PER_MS);	/* retry: the disk may recover */
		return;
	}
	/* A message the journal never took is never stored: nothing from it
	 * on is acknowledged or delivered, and health stays degraded until a
	 * restart (publishers then resend what was not acknowledged). */
	if (s->lost_seq) {
		wsb_broker_durable(s->broker, s->lost_seq - 1 < wsb_journal_durable(s->journal)
						      ? s->lost_seq - 1 : wsb_journal_durable(s->journal));
		return;
	}
	set_degraded(s, NULL);
	wsb_broker_durable(s->broker, wsb_journal_durable(s->journal));
}

static void commit_cb(lws_sorted_usec_list_t *sul)
{
	struct server *s = lws_container_of(sul, struct server, sul_commit);

	s->commit_armed = 0;
	commit_now(s, s->cfg->fsync == WSB_FSYNC_BATCH);
}

static void hook_journal(void *ud, const char *msg, size_t len, uint64_t seq)
{
	struct server *s = ud;
	struct wsb_err err = { 0 };

	if (wsb_journal_append(s->journal, msg, len, seq, &err)) {
		if (!s->lost_seq)
			s->lost_seq = seq;
		set_degraded(s, err.msg);
	}
	/* always/never: right after this loop turn, so one fsync covers every
	 * message of one read (group commit); batch: every --fsync-interval,
	 * or at once when enough waits that subscribers should not get it all
	 * in one burst (the broker holds publishers past a quarter of
	 * --max-queue). */
	if (s->cfg->fsync != WSB_FSYNC_BATCH ||
	    wsb_journal_pending(s->journal) >= s->cfg->max_queue / 8) {
		if (s->commit_armed != 2) {
			s->commit_armed = 2;
			lws_sul_schedule(s->ctx, 0, &s->sul_commit, commit_cb, 1);
		}
		return;
	}
	arm_commit(s, (int64_t)(s->cfg->fsync_interval * 1e6));
}

static int hook_snapshot_key(void *ud, const char *msg, size_t len, char *key, size_t cap)
{
	struct server *s = ud;
	struct wsb_jqf_out out;

	if (wsb_jqf_run(s->snapkey, msg, len, &out, NULL) != 1 || out.kind == WSB_JQF_NULL ||
	    out.len >= cap)
		return -1;
	memcpy(key, out.str, out.len + 1);
	return (int)out.len;
}

static int hook_producer(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH],
			 struct wsb_err *err)
{
	struct server *s = ud;

	int r = wsb_prodfile_add(s->prodfile, id, hash, err);

	if (r < 0) {
		wsb_log(WSB_LOG_ERROR, "%s: refusing new producer %s", err->msg, id);
		return -1;
	}
	if (r > 0) {		/* kept: commit_now retries it before the journal */
		set_degraded(s, err->msg);
		arm_commit(s, 500 * LWS_US_PER_MS);
	}
	return 0;
}

static int restore_producer(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH])
{
	return wsb_broker_restore_producer(((struct server *)ud)->broker, id, hash);
}

static int restore_line(void *ud, const char *line, size_t len, uint64_t seq)
{
	struct server *s = ud;

	if (wsb_broker_restore(s->broker, line, len, seq))
		wsb_log(WSB_LOG_WARN, "journal: skipped a line that is not a message (seq %" PRIu64 ")", seq);
	return 0;
}

static int open_journal(struct server *s, struct wsb_err *err)
{
	struct wsb_journal_cfg jc = {
		.dir = s->cfg->journal,
		.fsync = s->cfg->fsync,
		.segment_bytes = s->cfg->journal_segment,
		.retain_bytes = s->cfg->journal_retain,
		.max_line = wsb_broker_frame_max(s->cfg->max_message),
	};
	char epoch[WSB_EPOCH_LEN + 1];
	uint64_t last = 0;
	size_t skipped = 0, plines = 0, pskipped = 0;

	/* Producers first: journal lines restore positions only for them. */
	if (wsb_prodfile_load(s->cfg->journal, restore_producer, s, &plines, &pskipped, err) < 0)
		return -1;
	if (pskipped)
		wsb_log(WSB_LOG_WARN, "%s/producers: skipped %zu malformed lines", s->cfg->journal, pskipped);
	s->journal = wsb_journal_open(&jc, wsb_broker_epoch(s->broker), epoch, &last, &skipped,
				      restore_line, s, err);
	if (!s->journal)
		return -1;
	s->prodfile = wsb_prodfile_open(s->cfg->journal, s->cfg->fsync != WSB_FSYNC_NEVER, 65536,
					plines, err);
	if (!s->prodfile)
		return -1;
	wsb_broker_set_epoch(s->broker, epoch);
	wsb_broker_advance_seq(s->broker, last);
	wsb_log(WSB_LOG_INFO, "journal %s: epoch %s, last seq %" PRIu64, s->cfg->journal, epoch, last);
	if (skipped)
		wsb_log(WSB_LOG_WARN, "journal %s: skipped %zu unreadable lines (not a message, or longer "
			"than --max-message allows)", s->cfg->journal, skipped);
	return 0;
}

static int metrics_text(struct server *s, char *buf, size_t cap)
{
	struct wsb_broker_stats st;

	wsb_broker_stats(s->broker, &st);
	return snprintf(buf, cap,
		"# HELP wsbridge_connections Open WebSocket connections.\n# TYPE wsbridge_connections gauge\nwsbridge_connections %" PRIu64 "\n"
		"# HELP wsbridge_subscribers Connections subscribed to at least one type.\n# TYPE wsbridge_subscribers gauge\nwsbridge_subscribers %" PRIu64 "\n"
		"# HELP wsbridge_messages_in_total Messages published.\n# TYPE wsbridge_messages_in_total counter\nwsbridge_messages_in_total %" PRIu64 "\n"
		"# HELP wsbridge_messages_out_total Frames sent to clients.\n# TYPE wsbridge_messages_out_total counter\nwsbridge_messages_out_total %" PRIu64 "\n"
		"# HELP wsbridge_dropped_total Messages discarded from slow consumers' queues.\n# TYPE wsbridge_dropped_total counter\nwsbridge_dropped_total %" PRIu64 "\n"
		"# HELP wsbridge_slow_consumers_closed_total Connections closed with 4008.\n# TYPE wsbridge_slow_consumers_closed_total counter\nwsbridge_slow_consumers_closed_total %" PRIu64 "\n"
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
		st.slow_consumers_closed, st.errors, st.seq, st.queued_bytes, st.snapshot_bytes,
		st.snapshot_entries, st.snapshot_evicted, s->partial_bytes, st.memory_bytes,
		since(s->started));
}

/* Refuses a request with a real HTTP/1.1 status, a JSON body and extra
 * header lines (each ending in CRLF), then closes the connection.
 * lws_return_http_status() answers a refused upgrade as HTTP/1.0 with an
 * HTML page, which strict clients (Python websockets) reject as not HTTP
 * at all, hiding the status from them. */
static int refuse(struct lws *wsi, int status, const char *reason, const char *error, const char *extra)
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

/* The console page (GET / from a browser, /console) and /wsbridge.js. The
 * page holds no data, so it needs no token; its CSP keeps it to its own
 * origin and out of frames (the publish box must not be clickjacked), and
 * no-referrer keeps a ?token= in its address out of any Referer. */
static int serve_console(struct lws *wsi, const char *path)
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
		return refuse(wsi, 404, "Not Found", "not found", NULL);
	return http_reply_hdrs(wsi, HTTP_STATUS_OK, ctype, strcmp(path, "/wsbridge.js") ? page_hdrs : js_hdrs,
			       (const char *)f->data, f->len);
}

static int is_console_path(const struct server *s, struct lws *wsi, const char *path)
{
	char accept[512];

	if (s->cfg->no_console)
		return 0;
	if (!strcmp(path, "/console") || !strcmp(path, "/wsbridge.js"))
		return 1;
	return !strcmp(path, "/") && lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT) > 0 &&
	       wsb_console_wants_html(accept);
}

/* GET / for scripts: what this broker is and offers. "features" lists
 * what a client may use beyond the protocol's core; the console shows its
 * publish box only when it names "console-publish". */
static int serve_root(struct server *s, struct lws *wsi, char *body, size_t cap)
{
	static const char *const hdrs[] = { "vary:", "accept", NULL };
	int con = !s->cfg->no_console;
	int n = snprintf(body, cap,
			 "{\"name\":\"wsbridge-serve\",\"version\":\"%s\",\"endpoints\":{\"websocket\":\"%s\","
			 "\"health\":\"/health\",\"metrics\":\"/metrics\"%s},\"auth\":\"%s\",\"features\":[%s]}\n",
			 WSB_VERSION, s->cfg->path, con ? ",\"console\":\"/console\",\"client\":\"/wsbridge.js\"" : "",
			 s->has_token ? "token" : "none", s->cfg->console_publish ? "\"console-publish\"" : "");

	return http_reply_hdrs(wsi, HTTP_STATUS_OK, "application/json", con ? hdrs : NULL, body, (size_t)n);
}

static int serve_http(struct server *s, struct lws *wsi, const char *path)
{
	char body[8192];
	int n;

	/* Every endpoint is read-only: other methods on a known path get 405
	 * with Allow, not the GET answer (a POST must not look accepted). */
	if ((!strcmp(path, "/health") || !strcmp(path, "/metrics") || !strcmp(path, "/") ||
	     !strcmp(path, s->cfg->path) || is_console_path(s, wsi, path)) &&
	    !lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) && !lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
		return refuse(wsi, 405, "Method Not Allowed", "method not allowed", "allow: GET, HEAD\r\n");
	if (is_console_path(s, wsi, path))
		return serve_console(wsi, path);
	if (!strcmp(path, "/health")) {
		n = health_json(s, body, sizeof body);
		return http_reply(wsi, HTTP_STATUS_OK, "application/json", body, (size_t)n);
	}
	if (!strcmp(path, "/metrics")) {
		n = metrics_text(s, body, sizeof body);
		return http_reply(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4", body, (size_t)n);
	}
	if (!strcmp(path, "/"))
		return serve_root(s, wsi, body, sizeof body);
	if (!strcmp(path, s->cfg->path)) {
		n = snprintf(body, sizeof body, "{\"error\":\"upgrade required\",\"path\":\"%s\"}\n", s->cfg->path);
		return http_reply(wsi, 426, "application/json", body, (size_t)n);
	}
	n = snprintf(body, sizeof body, "{\"error\":\"not found\"}\n");
	return http_reply(wsi, HTTP_STATUS_NOT_FOUND, "application/json", body, (size_t)n);
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

static int check_token(struct server *s, struct lws *wsi, const char *peer)
{
	char tok[WSB_TOKEN_MAX + 16];
	const char *given = NULL;
	int n;

	if (!s->has_token)
		return 0;
	n = lws_hdr_copy(wsi, tok, sizeof tok, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && !strncasecmp(tok, "Bearer ", 7))
		given = tok + 7;
	else
		given = query_arg(wsi, "token=", tok, sizeof tok);
	if (!given || !wsb_auth_equal(given, s->token)) {
		wsb_log(WSB_LOG_INFO, "refused a connection from %s: %s token", peer, given ? "invalid" : "missing");
		return refuse(wsi, 401, "Unauthorized", given ? "invalid token" : "authentication required",
			      "www-authenticate: Bearer\r\n");
	}
	return 0;
}

/* What lws 4.1.6 would answer with a 101 anyway (another version) or a
 * silently dropped socket (no Host, no or a bad key): RFC 6455 §4.2.1/§4.4. */
static int check_upgrade(struct lws *wsi)
{
	char v[16], key[64];

	if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_VERSION) <= 0)
		return refuse(wsi, 400, "Bad Request", "missing Sec-WebSocket-Version", NULL);
	if (strcmp(v, "13"))
		return refuse(wsi, 426, "Upgrade Required", "unsupported WebSocket version: use 13",
			      "sec-websocket-version: 13\r\n");
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0)
		return refuse(wsi, 400, "Bad Request", "missing Host header", NULL);
	if (lws_hdr_copy(wsi, key, sizeof key, WSI_TOKEN_KEY) <= 0 || !wsb_admit_ws_key(key))
		return refuse(wsi, 400, "Bad Request", "missing or malformed Sec-WebSocket-Key", NULL);
	return 0;
}

/* Cross-site WebSocket hijacking: any page a user opens may connect here. */
static int check_origin(struct server *s, struct lws *wsi, const char *peer)
{
	char origin[256], host[256] = "", shown[100];
	int has = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
	int n = has ? lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) : 0;

	if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0)
		host[0] = '\0';
	if (n >= 0 && wsb_admit_origin(has ? origin : NULL, host, s->cfg->tls_cert != NULL,
				       &s->cfg->allow_origins, s->cfg->listen_host))
		return 0;
	wsb_admit_printable(shown, sizeof shown, n >= 0 ? origin : "(too long)");
	wsb_log(WSB_LOG_INFO, "refused a connection from %s: origin %s not allowed (see --allow-origin)",
		peer, shown);
	return refuse(wsi, 403, "Forbidden", "origin not allowed", NULL);
}

/* --max-connections and --max-connections-per-ip count WebSocket clients;
 * /health and /metrics stay reachable when they are reached. */
static int check_limits(struct server *s, struct lws *wsi, const char *peer)
{
	uint64_t same = 0, per_ip = s->cfg->max_connections_per_ip;

	if (s->nconns >= s->max_conns) {
		wsb_log(WSB_LOG_INFO, "refused a connection from %s: %" PRIu64 " clients (--max-connections)",
			peer, s->nconns);
		return refuse(wsi, 503, "Service Unavailable", "too many connections", "retry-after: 1\r\n");
	}
	for (struct conn *c = s->conns; per_ip && c; c = c->next)
		same += c->counted && !strcmp(c->peer, peer);
	if (per_ip && same >= per_ip) {
		wsb_log(WSB_LOG_INFO, "refused a connection from %s: %" PRIu64 " clients from it "
			"(--max-connections-per-ip)", peer, same);
		return refuse(wsi, 503, "Service Unavailable", "too many connections from this address",
			      "retry-after: 1\r\n");
	}
	return 0;
}

/* The door, before lws answers an upgrade (HTTP_CONFIRM_UPGRADE) and
 * before any broker state: path, shutdown, RFC 6455 handshake, Origin,
 * connection limits, token. Each refusal is an HTTP status with a JSON body. */
static int filter_handshake(struct server *s, struct lws *wsi, const char *upgrade)
{
	char uri[512], peer[48] = "?";

	if (strcasecmp(upgrade, "websocket"))
		return refuse(wsi, 400, "Bad Request", "only websocket upgrades", NULL);
	lws_get_peer_simple(wsi, peer, sizeof peer);
	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, s->cfg->path))
		return refuse(wsi, 404, "Not Found", "not found", NULL);
	if (s->stopping)
		return refuse(wsi, 503, "Service Unavailable", "shutting down", NULL);
	if (check_upgrade(wsi) || check_origin(s, wsi, peer) || check_limits(s, wsi, peer))
		return -1;
	return check_token(s, wsi, peer);
}

/* lws rewrites the RFC's reserved close codes to 1002 before echoing, but
 * echoes codes >= 5000 and answers a 1-byte payload with an empty close;
 * both are protocol errors (RFC 6455 §5.5.1, §7.4). */
static int peer_close(struct lws *wsi, const unsigned char *p, size_t len)
{
	static const char why[] = "invalid close payload";

	if (len != 1 && (len < 2 || ((p[0] << 8) | p[1]) < 5000))
		return 0;
	lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)why, sizeof why - 1);
	return -1;
}

/* The URL query is the whole subscription request: type=GLOB (repeatable),
 * echo=1, subscribe=none, producer=ID, producer_secret=S, since=SEQ, epoch=E. */
#define MAX_TYPE_ARGS 64

static int join(struct server *s, struct conn *c)
{
	char arg[1024], types[MAX_TYPE_ARGS][WSB_TYPE_MAX + 1], producer[80] = "", epoch[40] = "";
	char secret[WSB_SECRET_HEX + 8];
	const char *tv[MAX_TYPE_ARGS];
	struct wsb_join j = { 0 };
	struct wsb_err err = { 0 };
	int i;

	for (i = 0; lws_hdr_fragment_length(c->wsi, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
		/* An argument too long for us (a huge token=) is skipped, not
		 * allowed to end the loop and drop the arguments after it. */
		if (lws_hdr_copy_fragment(c->wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) <= 0)
			continue;
		if (!strcmp(arg, "echo=1") || !strcmp(arg, "echo=true")) {
			j.flags |= WSB_SESS_ECHO;
		} else if (!strcmp(arg, "snapshot=1") || !strcmp(arg, "snapshot=true")) {
			j.snapshot = 1;
		} else if (!strcmp(arg, "subscribe=none")) {
			j.subscribe_none = 1;
		} else if (!strncmp(arg, "type=", 5)) {
			if (j.ntypes == MAX_TYPE_ARGS || strlen(arg + 5) > WSB_TYPE_MAX) {
				wsb_err_set(&err, WSB_EXIT_USAGE, "too many or too long type= arguments");
				break;
			}
			strcpy(types[j.ntypes], arg + 5);
			tv[j.ntypes] = types[j.ntypes];
			j.ntypes++;
		} else if (!strncmp(arg, "producer=", 9)) {
			snprintf(producer, sizeof producer, "%.79s", arg + 9);
			j.producer = producer;
		} else if (!strncmp(arg, "producer_secret=", 16)) {
			snprintf(secret, sizeof secret, "%.*s", (int)sizeof secret - 1, arg + 16);
			j.producer_secret = secret;
		} else if (!strncmp(arg, "since=", 6)) {
			/* Digits only, no wrap: strtoull takes "-1" and 2^64 as
			 * 2^64-1, which would silently skip all history. */
			j.resume = 1;
			if (wsb_env_uint(arg + 6, strlen(arg + 6), &j.since))
				wsb_err_set(&err, WSB_EXIT_USAGE,
					    "since= must be a seq: digits, 0 to 18446744073709551615");
		} else if (!strncmp(arg, "epoch=", 6)) {
			snprintf(epoch, sizeof epoch, "%.39s", arg + 6);
			j.epoch = epoch;
		}
	}
	j.types = tv;
	c->is_ws = 1;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	if (!err.msg[0])
		c->sess = wsb_broker_join_ex(s->broker, c, &j, &err);
	if (!c->sess) {
		if (err.code == WSB_EXIT_OSERR) {
			wsb_log(WSB_LOG_ERROR, "%s", err.msg);
			close_soon(c, WSB_CLOSE_INTERNAL, "out of memory");
		} else {
			if (j.producer)
				wsb_log(WSB_LOG_INFO, "refused producer %s: %s", j.producer, err.msg);
			close_soon(c, err.code == WSB_EXIT_IOERR ? WSB_CLOSE_INTERNAL : WSB_CLOSE_POLICY,
				   err.msg);
		}
		return 0;
	}
	wsb_log(WSB_LOG_DEBUG, "client %s connected%s%s", wsb_broker_client_id(c->sess),
		j.producer ? " as producer " : "", j.producer ? j.producer : "");
	return 0;
}

static void rx_drop(struct server *s, struct conn *c);

static void pause_conn(struct conn *c)
{
	if (!c->paused) {
		c->paused = 1;
		lws_rx_flow_control(c->wsi, 0);
	}
}

static void unlink_conn(struct server *s, struct conn *c)
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
	if (c->sess) {
		wsb_log(WSB_LOG_DEBUG, "client %s disconnected", wsb_broker_client_id(c->sess));
		wsb_broker_leave(s->broker, c->sess);
		c->sess = NULL;
	}
	rx_drop(s, c);
}

static void deliver(struct server *s, struct conn *c, const char *msg, size_t len)
{
	wsb_broker_input(s->broker, c->sess, msg, len);
	c->published = 1;
	/* Stop reading this publisher until the queues drain; TCP pushes back. */
	if (s->pressure)
		pause_conn(c);
}

/* Reassembly memory held for c's unfinished message: counted in /health
 * partial_bytes and, through the broker, against --max-memory. */
static void rx_account(struct server *s, struct conn *c)
{
	size_t now = c->rx_open ? c->rx.cap : 0;

	if (now == c->rx_counted)
		return;
	s->partial_bytes = s->partial_bytes - c->rx_counted + now;
	c->rx_counted = now;
	wsb_broker_transport_bytes(s->broker, s->partial_bytes);
}

static void rx_drop(struct server *s, struct conn *c)
{
	c->rx_open = 0;
	wsb_buf_free(&c->rx);
	rx_account(s, c);
}

/* Reassembles fragments (lws may split even small frames) under the size
 * cap. The buffer grows with what arrived, not with what a header
 * announces, so a connection paused mid-message holds only what it sent. */
static int receive(struct server *s, struct conn *c, const char *in, size_t len)
{
	int first = lws_is_first_fragment(c->wsi);
	size_t remain = lws_remaining_packet_payload(c->wsi);
	int last = lws_is_final_fragment(c->wsi) && !remain;
	struct wsb_err err;

	if (c->close_code)
		return 0;
	if (lws_frame_is_binary(c->wsi)) {
		close_soon(c, WSB_CLOSE_UNSUPPORTED, "binary frames are not supported: send JSON text");
		return 0;
	}
	if (first)
		wsb_buf_reset(&c->rx);
	if (c->rx.len + len + remain > s->cfg->max_message) {
		char why[96];

		snprintf(why, sizeof why, "message larger than %" PRIu64 " bytes", s->cfg->max_message);
		rx_drop(s, c);
		close_soon(c, WSB_CLOSE_TOO_BIG, why);
		return 0;
	}
	if (first && last) {		/* the common case: no copy */
		deliver(s, c, in, len);
		return 0;
	}
	if (!c->rx_open) {
		c->rx_open = 1;
		c->rx_since = mono_ms();
	}
	if (wsb_buf_append(&c->rx, in, len, &err)) {
		rx_drop(s, c);
		close_soon(c, err.code == WSB_EXIT_DATAERR ? WSB_CLOSE_TOO_BIG : WSB_CLOSE_INTERNAL, err.msg);
		return 0;
	}
	if (last) {
		c->rx_open = 0;
		deliver(s, c, c->rx.p ? c->rx.p : "", c->rx.len);
		wsb_buf_shrink(&c->rx, RX_KEEP);
	}
	rx_account(s, c);
	/* Unfinished messages count toward --max-memory: under pressure stop
	 * reading whoever is sending one, not only those that published. */
	if (c->rx_open && s->pressure)
		pause_conn(c);
	return 0;
}

/* --message-timeout: a connection that began a message and has not ended
 * it in time (a slow-loris at the frame level, or a client that died
 * mid-message) is closed with 1008 and its buffer freed at once. The clock
 * also runs while it is paused: otherwise paused partial messages could hold
 * the memory, and the pause, forever. */
static void check_deadlines(struct server *s)
{
	uint64_t now = mono_ms(), lim = (uint64_t)(s->cfg->message_timeout * 1000);

	for (struct conn *c = s->conns; c; c = c->next) {
		if (!c->rx_open || c->close_code || now - c->rx_since < lim)
			continue;
		wsb_log(WSB_LOG_INFO, "closing %s: message not finished within %gs (%zu bytes so far)",
			c->sess ? wsb_broker_client_id(c->sess) : "?", s->cfg->message_timeout, c->rx.len);
		rx_drop(s, c);
		close_soon(c, WSB_CLOSE_POLICY, "message not finished in time");
	}
}

/* RFC 6455 §5.1: a client frame without the mask bit fails the connection.
 * lws 4.1.6 does not check it, so lwsio does, on the bytes before lws sees
 * them, and withholds the frame; this runs inside lws's read, so it only
 * notes it and the close goes out from WRITEABLE. */
static void guard_hook(void *owner)
{
	struct conn *c = owner;

	c->unmasked = 1;
	lws_callback_on_writable(c->wsi);
}

static void close_unmasked(struct conn *c)
{
	static const char why[] = "unmasked frame from the client";

	if (c->close_code)
		return;
	wsb_log(WSB_LOG_INFO, "closing %s: %s (1002)", c->sess ? wsb_broker_client_id(c->sess) : c->peer, why);
	close_soon(c, LWS_CLOSE_STATUS_PROTOCOL_ERR, why);
}

static int writable(struct server *s, struct conn *c)
{
	size_t n;

	if (c->unmasked)
		close_unmasked(c);

	/* Return -1 once: lws then sends the close frame and waits for the
	 * client's; a second -1 while it waits would drop the socket at once. */
	if (c->close_code)
		return c->close_sent++ ? 0 : -1;
	if (lws_partial_buffered(c->wsi)) {	/* the last batch is still going out */
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	n = wsb_broker_take(s->broker, c->sess, s->scratch + LWS_PRE, BATCH, s->hard);
	if (n && lws_write(c->wsi, s->scratch + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
		return -1;
	if (wsb_broker_pending(c->sess))
		lws_callback_on_writable(c->wsi);
	else if (s->stopping)
		close_soon(c, WSB_CLOSE_GOING_AWAY, "server shutting down");
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

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct server *s = lws_context_user(lws_get_context(wsi));
	struct conn *c = user;
	int sig;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return serve_http(s, wsi, in);
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* wsi is the listener here (user is lws's accept args): the
		 * only public way to reach it, for pause_accepting. in is the
		 * new socket: watched from its first byte, because a client may
		 * send frames in the same packet as its upgrade request. */
		s->listen_wsi = wsi;
		return watch_new((int)(lws_intptr_t)in);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return filter_handshake(s, wsi, in);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return 0;		/* decided at HTTP_CONFIRM_UPGRADE */
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof *c);
		c->wsi = wsi;
		c->counted = 1;
		s->nconns++;
		lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
		c->rx.max = s->cfg->max_message;
		if (wsb_lwsio_attach(lws_get_socket_fd(wsi), guard_hook, c) == 1)
			c->unmasked = 1;	/* came with the upgrade request */
		join(s, c);
		if (c->unmasked)
			close_unmasked(c);
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		return peer_close(wsi, in, len);
	case LWS_CALLBACK_RECEIVE:
		return receive(s, c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writable(s, c);
	case LWS_CALLBACK_CLOSED:
		wsb_lwsio_unwatch(lws_get_socket_fd(wsi));	/* c is going: no hook into it */
		if (c->counted)
			s->nconns--;
		c->counted = 0;
		unlink_conn(s, c);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (!s->stopping && (sig = wsb_lwsglue_signal())) {
			wsb_log(WSB_LOG_INFO, "signal %d: %s", sig,
				s->conns ? "closing all clients" : "no clients to close");
			s->stopping = 1;
			s->stop_at = wsb_mono_ns();
			for (struct conn *k = s->conns; k; k = k->next)
				close_soon(k, WSB_CLOSE_GOING_AWAY, "server shutting down");
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
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
static void pause_accepting(struct server *s)
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

static void door_tick(struct server *s)
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
	struct server *s = lws_container_of(sul, struct server, sul_tick);

	wsb_broker_tick(s->broker);
	door_tick(s);
	check_deadlines(s);
	lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick, TICK_US);
}

/* The broker, the journal behind it and the write scratch: everything the
 * transport serves, before it listens. */
static int setup_core(struct server *s, struct wsb_err *err)
{
	struct wsb_broker_cfg bcfg = {
		.max_queue = s->cfg->max_queue,
		.max_memory = s->cfg->max_memory,
		.history = s->cfg->history,
		.history_bytes = s->cfg->history_bytes,
		.stall_ms = (uint64_t)(s->cfg->max_stall * 1000),
		.stall_window_ms = (uint64_t)(s->cfg->stall_window * 1000),
		.durable_acks = s->cfg->journal != NULL,
		.snapshot_bytes = s->cfg->snapshot_bytes,
		.greeting = "Connected to wsbridge-serve",
	};
	struct wsb_broker_hooks hooks = { s, hook_wake, hook_close, hook_pressure,
					  s->cfg->journal ? hook_journal : NULL,
					  s->cfg->snapshot_key ? hook_snapshot_key : NULL,
					  s->cfg->journal ? hook_producer : NULL };

	/* One largest message must always fit a subscriber's queue, or a single
	 * big publication would close every subscriber as "slow". */
	if (bcfg.max_queue < wsb_broker_frame_max(s->cfg->max_message))
		bcfg.max_queue = wsb_broker_frame_max(s->cfg->max_message);
	if (s->cfg->snapshot_key && !(s->snapkey = wsb_jqf_compile(s->cfg->snapshot_key, err)))
		return -1;
	s->broker = wsb_broker_new(&bcfg, &hooks, err);
	if (!s->broker)
		return -1;
	/* Before any client: the journal's epoch and history come first. */
	if (s->cfg->journal && open_journal(s, err))
		return -1;
	s->hard = wsb_broker_frame_max(s->cfg->max_message);
	if (s->hard < BATCH)
		s->hard = BATCH;
	s->scratch = malloc(LWS_PRE + s->hard);
	if (!s->scratch)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	return 0;
}

static int setup(struct server *s, struct wsb_err *err)
{
	static struct lws_protocols protocols[2];
	struct lws_context_creation_info info;
	int ping = s->cfg->ping_interval >= 1 ? (int)s->cfg->ping_interval : 1;

	if (ping > 20000)
		ping = 20000;
	if (setup_core(s, err))
		return -1;

	protocols[0] = (struct lws_protocols){
		.name = "wsbridge",
		.callback = callback,
		.per_session_data_size = sizeof(struct conn),
		.rx_buffer_size = BATCH,
		/* Without this lws splits every batch into 4 KiB sends. */
		.tx_packet_size = BATCH,
	};
	/* lws pings an idle client after `ping` seconds; only a pong counts as a
	 * sign of life, and two missed intervals close the connection. */
	s->retry.secs_since_valid_ping = (uint16_t)ping;
	s->retry.secs_since_valid_hangup = (uint16_t)(ping * 3 > 65535 ? 65535 : ping * 3);

	memset(&info, 0, sizeof info);
	info.port = s->cfg->listen_port ? s->cfg->listen_port : CONTEXT_PORT_NO_LISTEN_SERVER;
	if (!s->cfg->listen_port)
		info.port = 0;
	if (wsb_listen_check(s->cfg, s->iface, sizeof s->iface, err))
		return -1;
	info.iface = s->iface[0] ? s->iface : NULL;
	info.protocols = protocols;
	info.user = s;
	info.pt_serv_buf_size = BATCH;
	info.retry_and_idle_policy = &s->retry;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
	if (strchr(s->iface, ':'))
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
	info.vhost_name = "wsbridge";
	info.timeout_secs = 10;
	if (s->cfg->tls_cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = s->cfg->tls_cert;
		info.ssl_private_key_filepath = s->cfg->tls_key;
		/* No h2: our batched LWS_WRITE_RAW frames would bypass its framing. */
		info.alpn = "http/1.1";
	}
	wsb_lwsglue_clear();
	s->ctx = lws_create_context(&info);
	if (!s->ctx && wsb_lwsglue_tls_init_failed())
		return wsb_err_set(err, WSB_EXIT_CONFIG, "--tls-cert %s / --tls-key %s: not a PEM certificate and its private key",
				   s->cfg->tls_cert, s->cfg->tls_key);
	if (!s->ctx)
		return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "cannot listen on %s (address in use or not local?)",
				   s->cfg->listen);
	s->vh = lws_get_vhost_by_name(s->ctx, "wsbridge");
	lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick, TICK_US);
	return 0;
}

static void set_max_conns(struct server *s)
{
	uint64_t nofile = wsb_admit_raise_nofile(), fit = wsb_admit_conn_budget(nofile);

	s->max_conns = s->cfg->max_connections ? s->cfg->max_connections : fit;
	if (s->max_conns > fit)
		wsb_log(WSB_LOG_WARN, "--max-connections %" PRIu64 " is more than %" PRIu64 " descriptors "
			"allow: past that, new connections wait", s->max_conns, nofile);
}

/* Before anything is opened, so a wrong path is named rather than left to
 * lws's generic "cannot create context". */
static int tls_file_ok(const char *opt, const char *path, struct wsb_err *err)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "%s %s", opt, path);
	fclose(f);
	return 0;
}

int wsb_server_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	struct server s;
	int rc = 0, lwsl = LLL_ERR;

	memset(&s, 0, sizeof s);
	s.cfg = cfg;
	s.started = wsb_mono_ns();
	s.has_token = wsb_auth_load(cfg->token, cfg->token_file, s.token, err);
	if (s.has_token < 0)
		return -1;
	if (cfg->tls_cert &&
	    (tls_file_ok("--tls-cert", cfg->tls_cert, err) || tls_file_ok("--tls-key", cfg->tls_key, err)))
		return -1;
	if (wsb_log_level() >= WSB_LOG_DEBUG + 1)
		lwsl |= LLL_WARN | LLL_NOTICE;
	else if (wsb_log_level() >= WSB_LOG_DEBUG)
		lwsl |= LLL_WARN;
	wsb_lwsglue_log(lwsl, 0);
	set_max_conns(&s);

	if (setup(&s, err)) {
		rc = -1;
		goto out;
	}
	wsb_lwsglue_signals(s.ctx, NULL);

	wsb_log(WSB_LOG_INFO, "listening on %s%s%s:%d path %s%s%s", strchr(s.iface, ':') ? "[" : "",
		s.iface[0] ? s.iface : "0.0.0.0", strchr(s.iface, ':') ? "]" : "",
		lws_get_vhost_listen_port(s.vh), cfg->path, cfg->tls_cert ? " (TLS: https, wss)" : "",
		s.has_token ? " (token required)" : "");

	while (lws_service(s.ctx, 0) >= 0) {
		pause_accepting(&s);
		if (!s.stopping)
			continue;
		if (!s.conns || since(s.stop_at) * 1000 > SHUTDOWN_GRACE_MS)
			break;
	}
	wsb_log(WSB_LOG_INFO, "stopped");
out:
	wsb_lwsglue_unsignal(s.ctx, NULL);
	if (s.ctx) {
		lws_sul_cancel(&s.sul_tick);
		lws_sul_cancel(&s.sul_commit);
		lws_context_destroy(s.ctx);
	}
	if (s.journal)
		wsb_journal_close(s.journal);
	wsb_prodfile_close(s.prodfile);
	wsb_jqf_free(s.snapkey);
	/* lws_context_destroy closed every wsi, and CLOSED left the broker. */
	wsb_broker_free(s.broker);
	free(s.scratch);
	return rc;
}

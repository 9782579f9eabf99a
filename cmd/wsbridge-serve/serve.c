/* wsbridge-serve: the broker core on the server transport (serve.h). */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clients.h"
#include "cluster.h"
#include "envelope.h"
#include "jqfilter.h"
#include "listen.h"
#include "log.h"
#include "ready.h"
#include "sys.h"

/* ---- the broker's hooks: how the core reaches a connection ---- */

static void hook_wake(void *ud, void *conn)
{
	wsb_server_wake(conn);
}

static void hook_close(void *ud, void *conn, int code, const char *reason)
{
	const char *id = wsb_broker_client_id(wsb_server_sess(conn));
	struct wsb_log_ctx lc = { id, wsb_server_peer(conn), code, 0, reason };

	wsb_logx(WSB_LOG_INFO, &lc, "closing %s: %s (%d)", id, reason, code);
	wsb_server_close(conn, code, reason);
}

static void hook_pressure(void *ud, int on)
{
	wsb_server_pause_publishers(((struct serve *)ud)->srv, on);
}

/* --rate-policy pause: the broker accepted a message into debt. */
static void hook_throttle(void *ud, void *conn, uint64_t ms)
{
	wsb_server_throttle(conn, (int64_t)(ms * 1000));
}

static void hook_refused(void *ud, const char *client, const char *code, const char *text)
{
	wsb_log(WSB_LOG_INFO, "client %s: %s: %s", client, code, text);
}

static int hook_snapshot_key(void *ud, const char *msg, size_t len, char *key, size_t cap)
{
	struct serve *sv = ud;
	struct wsb_jqf_out out;

	if (wsb_jqf_run(sv->snapkey, msg, len, &out, NULL) != 1 || out.kind == WSB_JQF_NULL ||
	    out.len >= cap)
		return -1;
	memcpy(key, out.str, out.len + 1);
	return (int)out.len;
}

/* ---- the transport's ops ---- */

/* The URL query is the whole subscription request: type=GLOB (repeatable),
 * echo=1, stamp=1, snapshot=1, subscribe=none, producer=ID,
 * producer_secret=S, since=SEQ, epoch=E, filter=JQ. */
#define MAX_TYPE_ARGS 64

struct join_args {
	struct wsb_join j;
	char types[MAX_TYPE_ARGS][WSB_TYPE_MAX + 1];
	const char *tv[MAX_TYPE_ARGS];
	char producer[80], epoch[40], secret[WSB_SECRET_HEX + 8];
	char filter[WSB_FILTER_MAX + 1];
};

/* One argument into a; 0, or -1 with err for a request to refuse. */
static int join_arg(struct join_args *a, const char *arg, struct wsb_err *err)
{
	struct wsb_join *j = &a->j;

	if (!strcmp(arg, "echo=1") || !strcmp(arg, "echo=true")) {
		j->flags |= WSB_SESS_ECHO;
	} else if (!strcmp(arg, "stamp=1") || !strcmp(arg, "stamp=true")) {
		j->flags |= WSB_SESS_STAMP;	/* producer/pseq: the tools ask */
	} else if (!strcmp(arg, "snapshot=1") || !strcmp(arg, "snapshot=true")) {
		j->snapshot = 1;
	} else if (!strcmp(arg, "subscribe=none")) {
		j->subscribe_none = 1;
	} else if (!strncmp(arg, "type=", 5)) {
		if (j->ntypes == MAX_TYPE_ARGS || strlen(arg + 5) > WSB_TYPE_MAX)
			return wsb_err_set(err, WSB_EXIT_USAGE, "too many or too long type= arguments");
		strcpy(a->types[j->ntypes], arg + 5);
		a->tv[j->ntypes] = a->types[j->ntypes];
		j->ntypes++;
	} else if (!strncmp(arg, "producer=", 9)) {
		snprintf(a->producer, sizeof a->producer, "%.79s", arg + 9);
		j->producer = a->producer;
	} else if (!strncmp(arg, "producer_secret=", 16)) {
		snprintf(a->secret, sizeof a->secret, "%.*s", (int)sizeof a->secret - 1, arg + 16);
		j->producer_secret = a->secret;
	} else if (!strncmp(arg, "since=", 6)) {
		/* Digits only, no wrap: strtoull takes "-1" and 2^64 as
		 * 2^64-1, which would silently skip all history. */
		j->resume = 1;
		if (wsb_env_uint(arg + 6, strlen(arg + 6), &j->since))
			wsb_err_set(err, WSB_EXIT_USAGE, "since= must be a seq: digits, 0 to 18446744073709551615");
	} else if (!strncmp(arg, "epoch=", 6)) {
		snprintf(a->epoch, sizeof a->epoch, "%.39s", arg + 6);
		j->epoch = a->epoch;
	} else if (!strncmp(arg, "filter=", 7) && arg[7]) {
		/* Too long is refused, never cut: a shorter program is another one. */
		if (strlen(arg + 7) > WSB_FILTER_MAX)
			return wsb_err_set(err, WSB_EXIT_USAGE, "filter= longer than %d bytes", WSB_FILTER_MAX);
		strcpy(a->filter, arg + 7);
		j->filter = a->filter;
	}
	return 0;
}

static void *op_joined(void *ud, struct wsb_conn *conn)
{
	struct serve *sv = ud;
	struct join_args a;
	struct wsb_err err = { 0 };
	struct wsb_sess *sess = NULL;
	const struct wsb_grant *g = wsb_server_grant(conn);
	/* lws holds the whole request head in 4 KiB: no argument is longer,
	 * so a filter= too long for us is seen and refused, not skipped. */
	char arg[4096 + 16], shown[512] = "";
	int i, n;

	memset(&a.j, 0, sizeof a.j);
	a.j.scope = g ? &g->scope : NULL;
	/* An argument too long for us (a huge token=) is skipped, not allowed
	 * to end the loop and drop the arguments after it. GET /clients shows
	 * the query without its secrets. */
	for (i = 0; (n = wsb_server_arg(conn, i, arg, sizeof arg)) >= 0; i++) {
		if (n > 0)
			wsb_clients_query_add(shown, sizeof shown, arg);
		if (n > 0 && join_arg(&a, arg, &err))
			break;
	}
	wsb_server_set_query(conn, shown);
	a.j.types = a.tv;
	a.j.compress = wsb_server_compressed(conn);
	/* What may publish is the broker's may_publish(); who is read-only is
	 * decided here, from the options and the door (issue 10's token scopes
	 * add to this flag). */
	if (sv->cfg->browsers_read_only && wsb_server_browser(conn))
		a.j.flags |= WSB_SESS_READ_ONLY;
	if (!err.msg[0])
		sess = wsb_broker_join_ex(sv->broker, conn, &a.j, &err);
	struct wsb_log_ctx lc = { sess ? wsb_broker_client_id(sess) : NULL, wsb_server_peer(conn),
				  WSB_CLOSE_POLICY, 0, err.msg };

	if (sess) {
		lc.code = 0;
		lc.reason = NULL;
		wsb_logx(WSB_LOG_DEBUG, &lc, "client %s (%s) connected%s%s", lc.client, lc.remote,
			 a.j.producer ? " as producer " : "", a.j.producer ? a.j.producer : "");
		return sess;
	}
	if (err.code == WSB_EXIT_OSERR) {
		wsb_log(WSB_LOG_ERROR, "%s", err.msg);
		wsb_server_close(conn, WSB_CLOSE_INTERNAL, "out of memory");
		return NULL;
	}
	if (a.j.producer)
		wsb_logx(WSB_LOG_INFO, &lc, "refused producer %s: %s", a.j.producer, err.msg);
	wsb_server_close(conn, err.code == WSB_EXIT_IOERR ? WSB_CLOSE_INTERNAL : WSB_CLOSE_POLICY, err.msg);
	return NULL;
}

static void op_input(void *ud, void *sess, const char *msg, size_t len)
{
	wsb_broker_input(((struct serve *)ud)->broker, sess, msg, len);
}

static void op_input_more(void *ud, void *sess, const char *msg, size_t len)
{
	wsb_broker_input_more(((struct serve *)ud)->broker, sess, msg, len);
}

static void op_input_end(void *ud)
{
	wsb_broker_input_end(((struct serve *)ud)->broker);
}

static size_t op_take(void *ud, void *sess, unsigned char *out, size_t soft, size_t hard)
{
	return wsb_broker_take(((struct serve *)ud)->broker, sess, out, soft, hard);
}

static int op_pending(void *ud, void *sess)
{
	return wsb_broker_pending(sess);
}

static void op_left(void *ud, void *sess)
{
	wsb_broker_leave(((struct serve *)ud)->broker, sess);
}

/* Unfinished inbound messages count toward --max-memory. */
static void op_partial(void *ud, size_t bytes)
{
	wsb_broker_transport_bytes(((struct serve *)ud)->broker, bytes);
}

static void op_tick(void *ud)
{
	struct serve *sv = ud;

	wsb_broker_tick(sv->broker);
	if (sv->cluster)
		wsb_cluster_tick(sv->cluster);
	serve_input_resume(sv);
}

static void op_timer(void *ud)
{
	serve_commit_due(ud);
}

static const char *op_name(void *ud, void *sess)
{
	return wsb_broker_client_id(sess);
}

/* --ready-fd and --pid-file, once the port is known and a signal would
 * stop the broker cleanly; a failure to write either stops it (74). */
static int op_listening(void *ud, int port)
{
	struct serve *sv = ud;

	return wsb_ready_announce(sv->cfg, port, sv->err);
}

static const struct wsb_server_ops serve_ops = {
	.joined = op_joined, .input = op_input, .input_more = op_input_more, .input_end = op_input_end,
	.take = op_take, .pending = op_pending,
	.left = op_left, .partial = op_partial, .http = serve_http, .gone = serve_publish_gone, .tick = op_tick,
	.timer = op_timer, .name = op_name, .listening = op_listening, .reload = serve_door_reload,
};

/* ---- composition ---- */

static int new_broker(struct serve *sv, struct wsb_err *err)
{
	const struct wsb_cfg *cfg = sv->cfg;
	struct wsb_broker_cfg bcfg = {
		.max_queue = cfg->max_queue,
		.max_memory = cfg->max_memory,
		.history = cfg->history,
		.history_bytes = cfg->history_bytes,
		.stall_ms = (uint64_t)(cfg->max_stall * 1000),
		.stall_window_ms = (uint64_t)(cfg->stall_window * 1000),
		.durable_acks = cfg->journal != NULL,
		.snapshot_bytes = cfg->snapshot_bytes,
		.greeting = "Connected to wsbridge-serve",
		.rate = { cfg->rate_per_s, (double)cfg->burst },
		.rate_pause = cfg->rate_policy == WSB_RATE_PAUSE,
		.max_message = cfg->max_message,	/* told in the greeting */
		.request_types = (const char *const *)cfg->request_types.v,
		.nrequest_types = cfg->request_types.n,
		.symbol_key = cfg->symbol_key,
	};
	struct wsb_broker_hooks hooks = { .ud = sv, .wake = hook_wake, .close = hook_close,
					  .pressure = hook_pressure,
					  .snapshot_key = cfg->snapshot_key ? hook_snapshot_key : NULL,
					  .throttle = hook_throttle, .refused = hook_refused };

	/* One largest message must always fit a subscriber's queue, or a single
	 * big publication would close every subscriber as "slow". */
	if (bcfg.max_queue < wsb_broker_frame_max(cfg->max_message))
		bcfg.max_queue = wsb_broker_frame_max(cfg->max_message);
	if (cfg->snapshot_key && !(sv->snapkey = wsb_jqf_compile(cfg->snapshot_key, err)))
		return -1;
	if (cfg->journal)
		serve_journal_hooks(sv, &hooks);
	if (serve_filters_init(sv, err))
		return -1;
	serve_filters_hooks(sv, &hooks);
	sv->broker = wsb_broker_new(&bcfg, &hooks, err);
	return sv->broker ? 0 : -1;
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

/* The broker first, then the journal's epoch and history, then the
 * socket: no client can arrive before the state it would see. */
static int start(struct serve *sv, struct wsb_err *err)
{
	const struct wsb_cfg *cfg = sv->cfg;
	char iface[64];
	struct wsb_server_cfg tc = { .opts = cfg, .iface = iface };

	if (serve_door_load(sv, err))
		return -1;
	if (cfg->tls_cert &&
	    (tls_file_ok("--tls-cert", cfg->tls_cert, err) || tls_file_ok("--tls-key", cfg->tls_key, err)))
		return -1;
	wsb_ready_init(cfg);
	if (new_broker(sv, err) || (cfg->journal && serve_journal_open(sv, err)))
		return -1;
	if (wsb_listen_check(cfg, iface, sizeof iface, err))
		return -1;
	tc.access = sv->access;
	tc.origins = &sv->origins;
	tc.max_frame = wsb_broker_frame_max(cfg->max_message);
	sv->srv = wsb_server_new(&tc, &serve_ops, sv, err);
	if (!sv->srv)
		return -1;
	/* Listening, but nobody is served before the loop runs: the
	 * cluster's epoch and history are in place by then. */
	if (cfg->cluster && serve_cluster_open(sv, err))
		return -1;
	return cfg->stdin_pub ? serve_input_start(sv, err) : 0;
}

int wsb_serve_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	struct serve sv;
	int rc = -1;

	memset(&sv, 0, sizeof sv);
	sv.cfg = cfg;
	sv.err = err;
	sv.started = wsb_mono_ns();
	if (!start(&sv, err))
		rc = wsb_server_run(sv.srv);
	if (!rc && sv.stop_err.code) {		/* --stdin --strict, or stdin failed */
		*err = sv.stop_err;
		rc = -1;
	}
	if (!rc)
		wsb_ready_done(cfg);	/* a clean stop: the pid file goes */
	/* The cluster lets go of its watches before the transport goes, and
	 * every connection leaves the broker before the broker goes. */
	serve_cluster_close(&sv);
	serve_input_free(&sv);		/* its watch is the transport's */
	wsb_server_free(sv.srv);
	serve_publish_free(&sv);
	serve_journal_close(&sv);
	wsb_jqf_free(sv.snapkey);
	wsb_broker_free(sv.broker);
	serve_door_free(&sv);
	serve_filters_free(&sv);	/* after the broker, which closes its sessions' filters */
	return rc;
}

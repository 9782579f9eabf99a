#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "cluster.h"
#include "envelope.h"
#include "health.h"
#include "journal.h"
#include "log.h"
#include "match.h"
#include "producers.h"
#include "proto.h"
#include "replay.h"
#include "resume.h"
#include "subs.h"

void wsb_cfg_defaults(struct wsb_cfg *cfg, unsigned tool, const char *progname)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->tool = tool;
	cfg->progname = progname;
	cfg->log_format = WSB_LOG_TEXT;

	cfg->listen = "127.0.0.1:8765";
	cfg->path = "/ws";
	/* serve: what one publisher may send; clients: what they buffer from
	 * the broker, which also sends snapshots and replays larger ones. */
	cfg->max_message = tool & (WSB_TOOL_CLIENTS | WSB_TOOL_HEALTH) ? 16 << 20 : 1 << 20;
	cfg->max_queue = 1 << 20;
	cfg->max_memory = 256 << 20;
	cfg->max_stall = 1;
	cfg->stall_window = 10;
	cfg->ping_interval = 30;
	cfg->history = 10000;
	cfg->history_bytes = 64 << 20;
	cfg->snapshot_bytes = UINT64_MAX;	/* derived from --max-memory */
	cfg->symbol_key = ".data.symbol";
	cfg->message_timeout = 30;
	cfg->fsync = WSB_FSYNC_BATCH;
	cfg->fsync_interval = 0.01;
	cfg->journal_segment = 64 << 20;
	cfg->journal_retain = 1ULL << 30;
	cfg->publish_lines = 1000;
	cfg->filter_time = 0.05;
	cfg->filter_memory = 256 << 20;

	if (tool & (WSB_TOOL_PUB | WSB_TOOL_SUB)) {
		cfg->url = "ws://127.0.0.1:8765/ws";
		if (!wsb_strlist_add(&cfg->urls, (char *)"ws://127.0.0.1:8765/ws"))
			cfg->urls.replace = 1;
	}
	cfg->cluster_name = "wsbridge";
	cfg->cluster_timeout = 5;
	cfg->retry_min = 1;
	cfg->retry_max = 60;
	cfg->retries = -1;
	cfg->queue = 10000;
	cfg->max_line = 1 << 20;
	/* As many as --queue holds by default: over loopback the acks of one
	 * server write arrive long before 10000 messages are out, so the window
	 * never closes on a healthy broker, and a slow one is bounded. */
	cfg->max_inflight = 10000;
	cfg->linger = 30;

	cfg->speed = 1;
	cfg->loop = 1;

	/* health: its --url is the HTTP side of the same broker */
	if (tool == WSB_TOOL_HEALTH) {
		cfg->url = "http://127.0.0.1:8765";
		cfg->timeout = 5;
	}
	/* health probes a local broker and must answer fast; pub and sub
	 * include the WebSocket handshake of a possibly busy broker. */
	cfg->connect_timeout = tool == WSB_TOOL_HEALTH ? 2 : 10;
	cfg->ws_path = "/ws";
	cfg->warn_latency = cfg->crit_latency = -1;
	cfg->max_slow_consumers = cfg->max_dropped = -1;
}

int wsb_strlist_add(struct wsb_strlist *l, char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		char **v = realloc(l->v, cap * sizeof *v);

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

/* "ws://a/ws,ws://b/ws" would be taken as one URL whose host is "a" and
 * path "/ws,ws://b/ws": a comma in the host part is a list written the
 * way blanks should have written it (a query may hold commas). */
static int comma_list(const char *url, struct wsb_err *err)
{
	const char *a = strstr(url, "://");

	a = a ? a + 3 : url;
	if (!memchr(a, ',', strcspn(a, "/?#")) && !strstr(a, ",ws://") && !strstr(a, ",wss://"))
		return 0;
	return wsb_err_set(err, WSB_EXIT_USAGE, "--url '%.200s' is a comma-separated list: separate several "
			   "URLs with blanks in WSBRIDGE_URL, or repeat --url", url);
}

/* "127.0.0.1:8765", "[::1]:8765", "localhost:8765", ":8765" (every
 * address), or "8765" alone: the loopback address, like the default. */
static int parse_listen(struct wsb_cfg *cfg, struct wsb_err *err)
{
	const char *s = cfg->listen, *ps, *host = s;
	size_t hlen;
	char *end;
	long port;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		host = "127.0.0.1";
		hlen = strlen(host);
		ps = s;
	} else if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		host = s + 1;
		hlen = (size_t)(rb - host);
		ps = rb + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
		ps = colon + 1;
	}
	if (hlen >= sizeof cfg->listen_host)
		goto bad;
	memcpy(cfg->listen_host, host, hlen);
	cfg->listen_host[hlen] = '\0';
	port = strtol(ps, &end, 10);
	if (*ps && !*end && (port < 0 || port > 65535))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--listen: port %.20s is out of range (0 to 65535)", ps);
	if (!*ps || *end)
		goto bad;
	cfg->listen_port = (int)port;
	return 0;
bad:
	return wsb_err_set(err, WSB_EXIT_USAGE, "--listen: '%s' is not PORT or ADDR:PORT", s);
}

static int check_replay(struct wsb_cfg *cfg, struct wsb_err *err)
{
	struct wsb_replay_bound from, to;

	if (cfg->speed < 0)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--speed must be 0 (no waiting) or more");
	if (cfg->rate < 0)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--rate must not be negative (0: off)");
	if (cfg->max_line < 16)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--max-line must be at least 16");
	if (wsb_replay_bound_parse(cfg->from, &from))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--from: '%s' is neither a seq nor an ISO 8601 time", cfg->from);
	if (wsb_replay_bound_parse(cfg->to, &to))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--to: '%s' is neither a seq nor an ISO 8601 time", cfg->to);
	if (from.kind && from.kind == to.kind &&
	    (from.kind == WSB_BOUND_SEQ ? from.seq > to.seq : from.ms > to.ms))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--from is after --to: nothing would be replayed");
	if (cfg->time_field && !*cfg->time_field)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--time-field must not be empty");
	/* A second pass rereads the input, which a pipe cannot give. */
	if (cfg->loop != 1) {
		int stdin_used = !cfg->n_operands;

		for (int i = 0; i < cfg->n_operands; i++)
			stdin_used |= !strcmp(cfg->operands[i], "-");
		if (stdin_used)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--loop needs files: stdin cannot be read twice");
	}
	return 0;
}

static int check_sub(struct wsb_cfg *cfg, struct wsb_err *err)
{
	for (size_t i = 0; i < cfg->types.n; i++)
		if (!wsb_match_pattern_ok(cfg->types.v[i], err))
			return -1;
	if (cfg->since) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(cfg->since, &end, 10);
		if (!*cfg->since || *cfg->since == '-' || *cfg->since == '+' || *end || errno)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--since: '%s' is not a seq", cfg->since);
		cfg->since_seq = v;
		cfg->has_since = 1;
	}
	if (cfg->epoch && !wsb_epoch_ok(cfg->epoch, strlen(cfg->epoch)))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--epoch: '%s' is not an epoch", cfg->epoch);
	if (cfg->epoch && !cfg->has_since)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--epoch needs --since");
	if (cfg->has_since && cfg->from_start)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--since and --from-start exclude each other");
	/* A snapshot's messages are older than the history a resume replays
	 * after them, so the two cannot share one ordered stream. */
	if (cfg->snapshot && (cfg->has_since || cfg->from_start))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--snapshot cannot be combined with --since or --from-start");
	if (cfg->cursor_file && !*cfg->cursor_file)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--cursor-file must not be empty");
	/* --where travels in the URL as ?filter=, which the server caps. */
	if (cfg->where && (!*cfg->where || strlen(cfg->where) > WSB_FILTER_MAX))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--where must be 1 to %d bytes", WSB_FILTER_MAX);
	if (cfg->jq && !*cfg->jq)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--jq must not be empty");
	return 0;
}

/* The snapshot table counts toward --max-memory but cannot be shrunk by
 * pausing publishers, so it may take at most half of it; by default a
 * quarter, at most 16 MiB. */
static int check_memory(struct wsb_cfg *cfg, struct wsb_err *err)
{
	uint64_t half = cfg->max_memory / 2;

	if (cfg->snapshot_bytes == UINT64_MAX) {
		cfg->snapshot_bytes = 16 << 20;
		if (cfg->max_memory && cfg->snapshot_bytes > cfg->max_memory / 4)
			cfg->snapshot_bytes = cfg->max_memory / 4;
	} else if (cfg->max_memory && cfg->snapshot_bytes > half) {
		return wsb_err_set(err, WSB_EXIT_USAGE,
				   "--snapshot-bytes must be at most half of --max-memory (%" PRIu64 " bytes)", half);
	}
	if (cfg->message_timeout <= 0)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--message-timeout must be more than 0");
	return 0;
}

/* --rate N, N/s or N/m (a minute, for slow feeds); --burst defaults to one
 * second's worth, at least 1. */
static int check_rate(struct wsb_cfg *cfg, struct wsb_err *err)
{
	char *end;
	double n;

	if (!cfg->rate_limit) {
		if (cfg->burst || cfg->rate_policy != WSB_RATE_REJECT)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--burst and --rate-policy need --rate");
		return 0;
	}
	n = strtod(cfg->rate_limit, &end);
	if (!strcmp(end, "/m") || !strcmp(end, "/min"))
		n /= 60;
	else if (*end && strcmp(end, "/s"))
		end = NULL;
	if (!end || end == cfg->rate_limit || !(n > 0) || n > 1e9)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--rate takes N/s (or N/m), N > 0, e.g. --rate 100/s");
	cfg->rate_per_s = n;
	if (!cfg->burst)
		cfg->burst = n < 1 ? 1 : (uint64_t)ceil(n);
	return 0;
}

static int check_health(struct wsb_cfg *cfg, struct wsb_err *err)
{
	if (!cfg->url || (strncmp(cfg->url, "http://", 7) && strncmp(cfg->url, "https://", 8) &&
			  strncmp(cfg->url, "ws://", 5) && strncmp(cfg->url, "wss://", 6)) || strlen(cfg->url) < 7)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--url must be an http(s):// or ws(s):// URL of the broker");
	if (cfg->wait > 0 && cfg->watch > 0)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--wait and --watch do not go together");
	if (cfg->timeout <= 0 || cfg->connect_timeout <= 0)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--timeout and --connect-timeout must be more than 0");
	if (cfg->ws_path[0] != '/')
		return wsb_err_set(err, WSB_EXIT_USAGE, "--ws-path must start with '/'");
	if (cfg->warn_latency >= 0 && cfg->crit_latency >= 0 && cfg->warn_latency > cfg->crit_latency)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--warn-latency must not be above --crit-latency");
	if (cfg->max_slow_consumers < -1 || cfg->max_dropped < -1)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--max-slow-consumers and --max-dropped must be -1 (off) or more");
	/* --nagios is the short spelling of --format nagios. */
	if (cfg->nagios)
		cfg->health_format = WSB_HEALTH_NAGIOS;
	return 0;
}

/* --cluster: a Redis URL without a password in it, a name that is safe
 * inside a key, and no journal: in a cluster Redis keeps the messages. */
static int check_cluster(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	char host[256];
	int port, db;

	if (!cfg->cluster)
		return cfg->cluster_password_file
			       ? wsb_err_set(err, WSB_EXIT_USAGE, "--cluster-password-file needs --cluster")
			       : 0;
	if (wsb_cluster_parse_url(cfg->cluster, host, sizeof host, &port, &db, err))
		return -1;
	if (cfg->journal)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--journal and --cluster do not go together: "
				   "in a cluster, Redis keeps the messages");
	if (!cfg->cluster_name || !wsb_prods_id_ok(cfg->cluster_name, strlen(cfg->cluster_name)))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--cluster-name must be 1-64 of A-Z a-z 0-9 . _ : -");
	if (!(cfg->cluster_timeout > 0) || cfg->cluster_timeout > 3600)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--cluster-timeout must be more than 0 and at most 1h");
	return 0;
}

/* Browsers read and do not publish when a token guards the broker, since
 * a page holding the token could otherwise send anything to every other
 * dashboard; the console's publish box is the operator saying otherwise. */
static int check_old_clients(struct wsb_cfg *cfg, struct wsb_err *err)
{
	struct wsb_symkey k;
	struct wsb_err e2;

	if (cfg->browsers_read_only && cfg->browsers_may_publish)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--browsers-read-only and --browsers-may-publish contradict");
	if (cfg->browsers_read_only && cfg->console_publish)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--console-publish needs browsers that may publish "
				   "(drop --browsers-read-only)");
	if (!cfg->browsers_read_only && !cfg->browsers_may_publish && !cfg->console_publish)
		cfg->browsers_read_only = cfg->token || cfg->token_file || cfg->jwt_secret_file;
	for (size_t i = 0; i < cfg->request_types.n; i++)
		if (!wsb_env_type_ok(cfg->request_types.v[i], strlen(cfg->request_types.v[i]), &e2))
			return wsb_err_set(err, WSB_EXIT_USAGE, "--request-type: %s", e2.msg);
	if (wsb_symkey_parse(&k, cfg->symbol_key, &e2) < 0)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--symbol-key: %s", e2.msg);
	return 0;
}

/* --allow-origin entries a browser could never send are a typo that would
 * silently lock the operator's page out: refuse them at start. */
static int check_door(struct wsb_cfg *cfg, struct wsb_err *err)
{
	for (size_t i = 0; i < cfg->allow_origins.n; i++)
		if (wsb_admit_check_allow(cfg->allow_origins.v[i], err))
			return -1;
	if (cfg->max_connections_per_ip && cfg->max_connections &&
	    cfg->max_connections_per_ip > cfg->max_connections)
		return wsb_err_set(err, WSB_EXIT_USAGE,
				   "--max-connections-per-ip must not exceed --max-connections");
	if (!strcmp(cfg->path, "/publish"))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--path /publish is POST /publish's; choose another");
	if (cfg->publish_lines < 1)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--publish-lines must be at least 1");
	if (cfg->filter_time <= 0 || cfg->filter_time > 10)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--filter-time must be more than 0 and at most 10s");
	if (cfg->filter_memory && cfg->filter_memory < (32 << 20))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--filter-memory must be 0 (no limit) or at least 32M");
	if (cfg->console_publish && cfg->no_console)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--console-publish needs the console (drop --no-console)");
	if (!cfg->no_console && (!strcmp(cfg->path, "/console") || !strcmp(cfg->path, "/wsbridge.js")))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--path %s is the console's; choose another or --no-console",
				   cfg->path);
	return check_old_clients(cfg, err);
}

/* Before starting: a script waiting on --ready-fd learns of a wrong
 * number as a usage error, not as a broker that never says it is ready. */
static int check_ready(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	if (cfg->ready_fd && (cfg->ready_fd > 65535 || fcntl((int)cfg->ready_fd, F_GETFD) < 0))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--ready-fd %" PRIu64 ": not an open descriptor",
				   cfg->ready_fd);
	if (cfg->pid_file && !*cfg->pid_file)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--pid-file must not be empty");
	return 0;
}

/* How lines become messages: pub, and serve --stdin. */
static int check_lines(struct wsb_cfg *cfg, struct wsb_err *err)
{
	struct wsb_err e2;

	if (cfg->stdin_pub && cfg->cluster)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--stdin does not go with --cluster: publish with wsbridge-pub");
	if (cfg->tool == WSB_TOOL_SERVE && !cfg->stdin_pub && (cfg->type || cfg->raw || cfg->strict))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--type, --raw and --strict are for --stdin's lines: add --stdin");
	if (cfg->raw && !cfg->type && !cfg->jq && !cfg->type_from)
		return wsb_err_set(err, WSB_EXIT_USAGE, cfg->tool == WSB_TOOL_SERVE ? "--raw needs --type"
							: "--raw needs --type, --type-from or --jq");
	if (cfg->max_line < 16)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--max-line must be at least 16");
	if (cfg->type && !wsb_env_type_ok(cfg->type, strlen(cfg->type), &e2))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--type: %s", e2.msg);
	return 0;
}

int wsb_cfg_check(struct wsb_cfg *cfg, struct wsb_err *err)
{

	if (cfg->quiet)
		cfg->verbose = -1;
	if ((cfg->tool & (WSB_TOOL_SERVE | WSB_TOOL_CLIENTS | WSB_TOOL_HEALTH)) &&
	    (cfg->max_message < 64 || cfg->max_message > (1ULL << 30)))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--max-message must be between 64 and 1G");
	if (cfg->tool & WSB_TOOL_SERVE) {
		if (parse_listen(cfg, err))
			return -1;
		if (cfg->path[0] != '/')
			return wsb_err_set(err, WSB_EXIT_USAGE, "--path must start with '/'");
		if (cfg->max_queue < 1024)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--max-queue must be at least 1k");
		if (check_memory(cfg, err))
			return -1;
		if (cfg->max_stall > 0 && cfg->stall_window <= cfg->max_stall)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--stall-window must be longer than --max-stall");
		if (!cfg->tls_cert != !cfg->tls_key)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--tls-cert and --tls-key go together: give both or neither");
		if ((cfg->tls_cert && !*cfg->tls_cert) || (cfg->tls_key && !*cfg->tls_key))
			return wsb_err_set(err, WSB_EXIT_USAGE, "--tls-cert and --tls-key must not be empty");
	}
	if ((cfg->tool & WSB_TOOL_SERVE) &&
	    (check_door(cfg, err) || check_ready(cfg, err) || check_cluster(cfg, err) || check_rate(cfg, err)))
		return -1;
	if (cfg->tool & (WSB_TOOL_PUB | WSB_TOOL_SUB)) {
		for (size_t i = 0; i < cfg->urls.n; i++)
			if (!*cfg->urls.v[i])
				return wsb_err_set(err, WSB_EXIT_USAGE, "--url must not be empty");
			else if (comma_list(cfg->urls.v[i], err))
				return -1;
		if (cfg->urls.n)
			cfg->url = cfg->urls.v[0];
		if (!cfg->url || !*cfg->url)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--url must not be empty");
		if (cfg->retry_min <= 0 || cfg->retry_max < cfg->retry_min)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--retry-min must be > 0 and <= --retry-max");
		if (cfg->retry_max > 86400)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--retry-max must be at most 1 day");
		if (cfg->retries < -1)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--retries must be -1 (never give up) or more");
		if (cfg->cafile && !*cfg->cafile)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--cafile must not be empty");
		if (cfg->connect_timeout <= 0)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--connect-timeout must be more than 0");
		/* lws counts pings in whole seconds, and 3 of them in 16 bits. */
		if (cfg->ping_interval < 1 || cfg->ping_interval > 21600)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--ping-interval must be between 1s and 6h");
	}
	if ((cfg->tool & (WSB_TOOL_PUB | WSB_TOOL_SERVE)) && check_lines(cfg, err))
		return -1;
	if (cfg->tool & WSB_TOOL_PUB) {
		if (cfg->queue < 1)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--queue must be at least 1");
		if (cfg->producer && (!wsb_producer_id_ok(cfg->producer, strlen(cfg->producer)) ||
				      strlen(cfg->producer) > WSB_PRODUCER_NAME_MAX))
			return wsb_err_set(err, WSB_EXIT_USAGE, "--producer: '%s' is not 1 to %d characters of A-Z a-z 0-9 . _ : -",
					   cfg->producer, WSB_PRODUCER_NAME_MAX);
		if (cfg->max_inflight < 1)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--max-inflight must be at least 1");
		if (cfg->state_file && !*cfg->state_file)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--state-file must not be empty");
		/* Unacknowledged messages stay queued, so the queue bounds them. */
		if (cfg->max_inflight > cfg->queue)
			cfg->max_inflight = cfg->queue;
	}
	if ((cfg->tool & WSB_TOOL_SUB) && check_sub(cfg, err))
		return -1;
	if ((cfg->tool & WSB_TOOL_REPLAY) && check_replay(cfg, err))
		return -1;
	if ((cfg->tool & WSB_TOOL_HEALTH) && check_health(cfg, err))
		return -1;
	return 0;
}

void wsb_cfg_free(struct wsb_cfg *cfg)
{
	free(cfg->types.v);
	free(cfg->allow_origins.v);
	free(cfg->urls.v);
	while (cfg->env_copy) {		/* a chain: each block starts with the previous */
		char *prev;

		memcpy(&prev, cfg->env_copy, sizeof prev);
		free(cfg->env_copy);
		cfg->env_copy = prev;
	}
	free(cfg->request_types.v);
	free(cfg->operands);
	free(cfg->config_buf);
	cfg->config_buf = NULL;
	cfg->types.v = NULL;
	cfg->allow_origins.v = NULL;
	cfg->urls.v = NULL;
	cfg->env_copy = NULL;
	cfg->request_types.v = NULL;
	cfg->operands = NULL;
}

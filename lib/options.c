#include "options.h"
#include "options_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "health.h"
#include "journal.h"
#include "log.h"
#include "resume.h"

#define OFF(f) offsetof(struct wsb_cfg, f)
#define WSB_STR_(x) #x
#define WSB_STR(x) WSB_STR_(x)
#define NOFF ((size_t)-1)

#define S WSB_TOOL_SERVE
#define P WSB_TOOL_PUB
#define U WSB_TOOL_SUB
#define H WSB_TOOL_HEALTH
#define R WSB_TOOL_REPLAY
#define C WSB_TOOL_CLIENTS

/* Enum options: each choice names its value, so the order of a list says
 * only how --help shows it. */
static const struct wsb_choice fsync_choices[] = {
	{ "always", WSB_FSYNC_ALWAYS }, { "batch", WSB_FSYNC_BATCH }, { "never", WSB_FSYNC_NEVER }, { NULL, 0 },
};
static const struct wsb_choice log_format_choices[] = {
	{ "text", WSB_LOG_TEXT }, { "json", WSB_LOG_JSON }, { NULL, 0 },
};
static const struct wsb_choice gap_choices[] = {
	{ "mark", WSB_GAP_MARK }, { "stderr", WSB_GAP_STDERR }, { "fail", WSB_GAP_FAIL }, { NULL, 0 },
};
static const struct wsb_choice rate_policy_choices[] = {
	{ "reject", WSB_RATE_REJECT }, { "pause", WSB_RATE_PAUSE }, { NULL, 0 },
};
static const struct wsb_choice health_format_choices[] = {
	{ "json", WSB_HEALTH_JSON }, { "prometheus", WSB_HEALTH_PROMETHEUS }, { "nagios", WSB_HEALTH_NAGIOS }, { NULL, 0 },
};
/* The option code stores an enum through an int: the fields must be one. */
_Static_assert(sizeof(enum wsb_fsync) == sizeof(int) && sizeof(enum wsb_log_format) == sizeof(int) &&
		       sizeof(enum wsb_gap_mode) == sizeof(int) && sizeof(enum wsb_health_format) == sizeof(int) &&
		       sizeof(enum wsb_rate_policy) == sizeof(int),
	       "enum option fields are int-sized");

/* Grouped by tool; --help prints them in this order. */
static const struct wsb_opt table[] = {
	/* connection, shared by the clients */
	{ "url", 'u', WSB_OPT_LIST, "URL", C, OFF(urls), "broker WebSocket URL; repeat it (or list several in the variable) to fail over to the next", NULL, "WSBRIDGE_URL" },
	{ "token", 0, WSB_OPT_STR, "TOKEN", C | S | H, OFF(token), "shared secret: required by serve, sent by clients", NULL, "WSBRIDGE_TOKEN" },
	{ "token-file", 0, WSB_OPT_STR, "FILE", C | S | H, OFF(token_file), "serve: tokens, one a line with scopes; clients: send its first token", NULL, NULL },
	{ "retry-min", 0, WSB_OPT_SECONDS, "SECS", C, OFF(retry_min), "first reconnect delay", NULL, NULL },
	{ "retry-max", 0, WSB_OPT_SECONDS, "SECS", C, OFF(retry_max), "longest reconnect delay", NULL, NULL },
	{ "retries", 0, WSB_OPT_INT, "N", C, OFF(retries), "attempts after a failed one before giving up (-1: never)", NULL, NULL },
	{ "echo", 0, WSB_OPT_FLAG, NULL, C, OFF(echo), "also receive messages this connection publishes", NULL, NULL },
	{ "cafile", 0, WSB_OPT_STR, "FILE", C | H, OFF(cafile), "trust only the CA certificates in FILE to verify a wss:// or https:// server", NULL, NULL },
	{ "insecure", 'k', WSB_OPT_FLAG, NULL, C | H, OFF(insecure), "do not verify the server certificate (wss://, https://)", NULL, NULL },
	{ "connect-timeout", 0, WSB_OPT_SECONDS, "SECS", C | H, OFF(connect_timeout), "bound on each connect and handshake", NULL, NULL },

	/* serve */
	{ "listen", 'l', WSB_OPT_STR, "ADDR:PORT", S, OFF(listen), "address to listen on (port 0: any free port)", NULL, "WSBRIDGE_LISTEN" },
	{ "path", 0, WSB_OPT_STR, "PATH", S, OFF(path), "WebSocket endpoint path", NULL, NULL },
	{ "ready-fd", 0, WSB_OPT_UINT, "N", S, OFF(ready_fd), "when listening, write the port to fd N and close it", NULL, NULL },
	{ "pid-file", 0, WSB_OPT_STR, "FILE", S, OFF(pid_file), "write the pid to FILE when listening", NULL, NULL },
	{ "tls-cert", 0, WSB_OPT_STR, "FILE", S, OFF(tls_cert), "serve https and wss with this PEM certificate (chain); needs --tls-key", NULL, NULL },
	{ "tls-key", 0, WSB_OPT_STR, "FILE", S, OFF(tls_key), "PEM private key for --tls-cert", NULL, NULL },
	{ "allow-origin", 0, WSB_OPT_LIST, "URL", S, OFF(allow_origins), "also let browsers from this Origin in ('*': any)", NULL, NULL },
	{ "allow-origin-file", 0, WSB_OPT_STR, "FILE", S, OFF(allow_origin_file), "more --allow-origin entries, one a line; reread on SIGHUP", NULL, NULL },
	{ "jwt-secret-file", 0, WSB_OPT_STR, "FILE", S, OFF(jwt_secret_file), "also accept HS256 JWTs signed with the secret in FILE", NULL, NULL },
	{ "rate", 0, WSB_OPT_STR, "N/s", S, OFF(rate_limit), "messages a connection (and a producer id) may publish per second", NULL, NULL },
	{ "burst", 0, WSB_OPT_UINT, "M", S, OFF(burst), "messages over --rate at once (default: one second's worth)", NULL, NULL },
	{ "rate-policy", 0, WSB_OPT_ENUM, "POLICY", S, OFF(rate_policy), "over --rate: refuse (RATE_LIMITED) or pause reading", rate_policy_choices, NULL },
	{ "max-connections", 0, WSB_OPT_UINT, "N", S, OFF(max_connections), "WebSocket clients at once, then 503 (0: ulimit -n)", NULL, NULL },
	{ "max-connections-per-ip", 0, WSB_OPT_UINT, "N", S, OFF(max_connections_per_ip), "WebSocket clients per address (0: no limit)", NULL, NULL },
	{ "max-message", 0, WSB_OPT_SIZE, "BYTES", S | C | H, OFF(max_message), "largest inbound message; bigger closes with 1009", NULL, NULL },
	{ "max-queue", 0, WSB_OPT_SIZE, "BYTES", S, OFF(max_queue), "per-subscriber backlog before closing it with 4008", NULL, NULL },
	{ "max-memory", 0, WSB_OPT_SIZE, "BYTES", S, OFF(max_memory), "queues + snapshots + partial messages before pausing publishers", NULL, NULL },
	{ "message-timeout", 0, WSB_OPT_SECONDS, "SECS", S, OFF(message_timeout), "longest to receive one message, then 1008", NULL, NULL },
	{ "max-stall", 0, WSB_OPT_SECONDS, "SECS", S, OFF(max_stall), "time a lagging subscriber may pause publishers per window (0: never)", NULL, NULL },
	{ "stall-window", 0, WSB_OPT_SECONDS, "SECS", S, OFF(stall_window), "the window --max-stall counts in, per subscriber", NULL, NULL },
	{ "ping-interval", 0, WSB_OPT_SECONDS, "SECS", S | C, OFF(ping_interval), "idle time before a WebSocket ping; 2 missed close", NULL, NULL },
	{ "history", 0, WSB_OPT_UINT, "N", S, OFF(history), "messages retained in memory", NULL, NULL },
	{ "history-bytes", 0, WSB_OPT_SIZE, "BYTES", S, OFF(history_bytes), "bytes retained in memory", NULL, NULL },
	{ "snapshot-bytes", 0, WSB_OPT_SIZE, "BYTES", S, OFF(snapshot_bytes), "?snapshot=1 table (0: off; default: 16M, <= max-memory/4)", NULL, NULL },
	{ "snapshot-key", 0, WSB_OPT_STR, "JQ", S, OFF(snapshot_key), "?snapshot=1 keeps the latest per type and per this jq path", NULL, NULL },
	{ "journal", 'j', WSB_OPT_STR, "DIR", S, OFF(journal), "append every message to NDJSON segments in DIR; recover on start", NULL, NULL },
	{ "fsync", 0, WSB_OPT_ENUM, "POLICY", S, OFF(fsync), "when journal writes reach the disk (acks wait for it)", fsync_choices, NULL },
	{ "fsync-interval", 0, WSB_OPT_SECONDS, "SECS", S, OFF(fsync_interval), "group commit interval for --fsync batch", NULL, NULL },
	{ "journal-segment", 0, WSB_OPT_SIZE, "BYTES", S, OFF(journal_segment), "start a new journal segment after this size", NULL, NULL },
	{ "journal-retain", 0, WSB_OPT_SIZE, "BYTES", S, OFF(journal_retain), "remove the oldest segments beyond this total (0: keep all)", NULL, NULL },
	{ "stdin", 0, WSB_OPT_FLAG, NULL, S, OFF(stdin_pub), "also publish the NDJSON lines of standard input, as wsbridge-pub would (--type, --raw, --strict, --max-line)", NULL, NULL },
	{ "compress", 0, WSB_OPT_FLAG, NULL, S | P | U, OFF(compress), "permessage-deflate: serve: with clients that offer it, each message compressed once; pub, sub: offer it", NULL, NULL },
	{ "publish-lines", 0, WSB_OPT_UINT, "N", S, OFF(publish_lines), "messages one POST /publish may carry (body: N x --max-message, at most half --max-memory)", NULL, NULL },
	{ "filter-time", 0, WSB_OPT_SECONDS, "SECS", S, OFF(filter_time), "CPU one ?filter= may use on one message, then it is dropped", NULL, NULL },
	{ "filter-memory", 0, WSB_OPT_SIZE, "BYTES", S, OFF(filter_memory), "memory of the process running every ?filter= (0: no limit)", NULL, NULL },
	{ "no-console", 0, WSB_OPT_FLAG, NULL, S, OFF(no_console), "serve no console page (/, /console) nor /wsbridge.js", NULL, NULL },
	{ "console-publish", 0, WSB_OPT_FLAG, NULL, S, OFF(console_publish), "show a publish box on the console page", NULL, NULL },
	{ "browsers-read-only", 0, WSB_OPT_FLAG, NULL, S, OFF(browsers_read_only), "connections with an Origin may not publish (default with a token)", NULL, NULL },
	{ "browsers-may-publish", 0, WSB_OPT_FLAG, NULL, S, OFF(browsers_may_publish), "let connections with an Origin publish even with a token", NULL, NULL },
	{ "request-type", 0, WSB_OPT_LIST, "TYPE", S, OFF(request_types), "answer TYPE with the snapshot, never broadcast it (repeatable)", NULL, NULL },
	{ "symbol-key", 0, WSB_OPT_STR, "PATH", S, OFF(symbol_key), "where a message's symbol is, for subscribe \"symbols\"", NULL, NULL },
	{ "log-format", 0, WSB_OPT_ENUM, "FMT", S, OFF(log_format), "log lines as text or json", log_format_choices, NULL },
	{ "log-file", 0, WSB_OPT_STR, "FILE", S, OFF(log_file), "append log lines to FILE, reopened on SIGHUP (logrotate)", NULL, NULL },
	{ "reuse-port", 0, WSB_OPT_FLAG, NULL, S, OFF(reuse_port), "let other instances listen on the same port (SO_REUSEPORT)", NULL, NULL },
	{ "cluster", 0, WSB_OPT_STR, "URL", S, OFF(cluster), "one broker with every instance on this Redis: redis://HOST:PORT[/DB]", NULL, NULL },
	{ "cluster-name", 0, WSB_OPT_STR, "NAME", S, OFF(cluster_name), "instances with the same Redis and name are one broker", NULL, NULL },
	{ "cluster-password-file", 0, WSB_OPT_STR, "FILE", S, OFF(cluster_password_file), "the Redis password (AUTH), first line of FILE", NULL, NULL },
	{ "cluster-timeout", 0, WSB_OPT_SECONDS, "SECS", S, OFF(cluster_timeout), "Redis silent this long: reconnect, and refuse held publishes (UNAVAILABLE)", NULL, NULL },

	/* pub */
	{ "type", 't', WSB_OPT_STR, "TYPE", P | S, OFF(type), "type for lines that have none", NULL, NULL },
	{ "raw", 0, WSB_OPT_FLAG, NULL, P | S, OFF(raw), "send each line as {\"type\":TYPE,\"data\":\"<line>\"} (with --jq: the line as a string)", NULL, NULL },
	{ "jq", 0, WSB_OPT_STR, "JQ", P, OFF(jq), "turn each input into the messages this jq program outputs (0 or more)", NULL, NULL },
	{ "type-from", 0, WSB_OPT_STR, "PATH", P, OFF(type_from), "set each message's type from this jq path", NULL, NULL },
	{ "strict", 0, WSB_OPT_FLAG, NULL, P | R | S, OFF(strict), "exit 65 at the first invalid line instead of skipping it", NULL, NULL },
	{ "queue", 0, WSB_OPT_UINT, "N", P, OFF(queue), "messages kept while disconnected, then stop reading", NULL, NULL },
	{ "drop-oldest", 0, WSB_OPT_FLAG, NULL, P, OFF(drop_oldest), "while the broker is away drop the oldest, not wait (exit 75)", NULL, NULL },
	{ "max-line", 0, WSB_OPT_SIZE, "BYTES", P | R | S, OFF(max_line), "longest input line; longer lines are skipped", NULL, NULL },
	{ "producer", 0, WSB_OPT_STR, "ID", P, OFF(producer), "name for acks and dedup, [A-Za-z0-9._:-]{1," WSB_STR(WSB_PRODUCER_NAME_MAX) "}; a :RUN suffix is added (default pub-HOST-PID-RND)", NULL, NULL },
	{ "max-inflight", 0, WSB_OPT_UINT, "N", P, OFF(max_inflight), "messages sent but not yet acknowledged, at most (capped at --queue)", NULL, NULL },
	{ "state-file", 0, WSB_OPT_STR, "FILE", P, OFF(state_file), "resume after the last acked line (id, offsets)", NULL, NULL },
	{ "linger", 0, WSB_OPT_SECONDS, "SECS", P, OFF(linger), "at EOF or SIGINT/SIGTERM wait this long for the last acknowledgement, then exit 75 (0: no limit)", NULL, NULL },

	/* sub */
	{ "type", 't', WSB_OPT_LIST, "GLOB", U | R, OFF(types), "only these types ('*' and '?' globs; repeatable)", NULL, NULL },
	{ "count", 'c', WSB_OPT_UINT, "N", U, OFF(count), "exit 0 after N messages (--control lines do not count)", NULL, NULL },
	{ "timeout", 'W', WSB_OPT_SECONDS, "SECS", U, OFF(timeout), "give up after SECS: exit 75 if --count is not reached", NULL, NULL },
	{ "control", 0, WSB_OPT_FLAG, NULL, U, OFF(control), "also print control messages (connection_established, pong...)", NULL, NULL },
	{ "gap", 0, WSB_OPT_ENUM, "MODE", U, OFF(gap), "on a gap record: print it in-band and warn, only warn, or warn and exit 75", gap_choices, NULL },
	{ "since", 0, WSB_OPT_STR, "SEQ", U, OFF(since), "start with the retained messages after seq SEQ (see --epoch)", NULL, NULL },
	{ "epoch", 0, WSB_OPT_STR, "EPOCH", U, OFF(epoch), "the epoch --since counts in; another epoch on the server is reported as a gap", NULL, NULL },
	{ "from-start", 0, WSB_OPT_FLAG, NULL, U, OFF(from_start), "start with every retained message (since=0, no gap reported)", NULL, NULL },
	{ "cursor-file", 0, WSB_OPT_STR, "FILE", U, OFF(cursor_file), "resume from the seq and epoch in FILE and keep them there after each write", NULL, NULL },
	{ "snapshot", 0, WSB_OPT_FLAG, NULL, U, OFF(snapshot), "start with the latest retained message of each type (?snapshot=1)", NULL, NULL },
	{ "jq", 0, WSB_OPT_STR, "JQ", U, OFF(jq), "print every output of this jq program on each message instead", NULL, NULL },

	/* replay */
	{ "speed", 's', WSB_OPT_DOUBLE, "X", R, OFF(speed), "replay X times as fast as recorded (0: no waiting)", NULL, NULL },
	{ "rate", 'r', WSB_OPT_DOUBLE, "N", R, OFF(rate), "fixed N messages per second, ignoring timestamps and --speed (0: off)", NULL, NULL },
	{ "max-gap", 0, WSB_OPT_SECONDS, "SECS", R, OFF(max_gap), "shorten recorded gaps longer than SECS to SECS", NULL, NULL },
	{ "time-field", 0, WSB_OPT_STR, "PATH", R, OFF(time_field), "jq path of the timestamp: ISO 8601, epoch s or ms (default .timestamp)", NULL, NULL },
	{ "from", 0, WSB_OPT_STR, "SEQ|TIME", R, OFF(from), "start at this seq (digits) or ISO 8601 time, inclusive", NULL, NULL },
	{ "to", 0, WSB_OPT_STR, "SEQ|TIME", R, OFF(to), "stop after this seq (digits) or ISO 8601 time, inclusive", NULL, NULL },
	{ "where", 'w', WSB_OPT_STR, "JQ", R | U, OFF(where), "only messages for which the jq program is not false or null", NULL, NULL },
	{ "loop", 0, WSB_OPT_UINT, "N", R, OFF(loop), "replay the input N times, timestamps shifted (0: forever)", NULL, NULL },
	{ "restamp", 0, WSB_OPT_FLAG, NULL, R, OFF(restamp), "set \"timestamp\" to the time each message is replayed", NULL, NULL },
	{ "strip-seq", 0, WSB_OPT_FLAG, NULL, R, OFF(strip_seq), "remove \"seq\" so the messages can be re-published", NULL, NULL },

	/* health: its own --url row, since it takes the broker's http(s) side
	 * as well as the clients' ws:// URL ($WSBRIDGE_URL: see env_value) */
	{ "url", 'u', WSB_OPT_STR, "URL", H, OFF(url), "broker http(s):// base or ws(s):// URL", NULL, "WSBRIDGE_HEALTH_URL" },
	{ "timeout", 0, WSB_OPT_SECONDS, "SECS", H, OFF(timeout), "bound on the whole probe (HTTP, then --ws/--roundtrip): exit 75 past it", NULL, NULL },
	{ "ws", 0, WSB_OPT_FLAG, NULL, H, OFF(ws), "also open the WebSocket and time a ping to its pong", NULL, NULL },
	{ "roundtrip", 0, WSB_OPT_FLAG, NULL, H, OFF(roundtrip), "also publish a $probe canary and time it back through the broker", NULL, NULL },
	{ "ws-path", 0, WSB_OPT_STR, "PATH", H, OFF(ws_path), "WebSocket path on the --url host and port", NULL, NULL },
	{ "warn-latency", 0, WSB_OPT_DOUBLE, "MS", H, OFF(warn_latency), "WARNING when the slowest measured time exceeds MS (-1: off)", NULL, NULL },
	{ "crit-latency", 0, WSB_OPT_DOUBLE, "MS", H, OFF(crit_latency), "CRITICAL when the slowest measured time exceeds MS (-1: off)", NULL, NULL },
	{ "min-subscribers", 0, WSB_OPT_UINT, "N", H, OFF(min_subscribers), "WARNING with fewer than N subscribers", NULL, NULL },
	{ "max-slow-consumers", 0, WSB_OPT_INT, "N", H, OFF(max_slow_consumers), "WARNING when more than N slow consumers were closed (-1: off)", NULL, NULL },
	{ "max-dropped", 0, WSB_OPT_INT, "N", H, OFF(max_dropped), "WARNING when more than N messages were dropped (-1: off)", NULL, NULL },
	{ "format", 'f', WSB_OPT_ENUM, "FMT", H, OFF(health_format), "one JSON line, a Prometheus textfile snippet, or a monitoring-plugin line", health_format_choices, NULL },
	{ "nagios", 0, WSB_OPT_FLAG, NULL, H, OFF(nagios), "--format nagios: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", NULL, NULL },
	{ "watch", 0, WSB_OPT_SECONDS, "SECS", H, OFF(watch), "probe every SECS and print a line each, until SIGINT/SIGTERM", NULL, NULL },
	{ "wait", 0, WSB_OPT_SECONDS, "SECS", H, OFF(wait), "probe until healthy (0), at most SECS (75)", NULL, NULL },

	/* everyone */
	{ "config", 0, WSB_OPT_STR, "FILE", WSB_TOOL_ALL, OFF(config), "read options from FILE: 'name value' lines, # comments", NULL, NULL },
	{ "dump-config", 0, WSB_OPT_FLAG, NULL, WSB_TOOL_ALL, OFF(dump_config), "print the effective configuration as a --config file (secrets redacted) and exit", NULL, NULL },
	{ "verbose", 'v', WSB_OPT_COUNT, NULL, WSB_TOOL_ALL, OFF(verbose), "more log lines on stderr (repeatable)", NULL, NULL },
	{ "quiet", 'q', WSB_OPT_FLAG, NULL, WSB_TOOL_ALL, OFF(quiet), "errors only on stderr", NULL, NULL },
	{ "help", 'h', WSB_OPT_FLAG, NULL, WSB_TOOL_ALL, NOFF, "show this help and exit", NULL, NULL },
	{ "version", 'V', WSB_OPT_FLAG, NULL, WSB_TOOL_ALL, NOFF, "show the version and exit", NULL, NULL },
};

/* Examples: a long command continues on the next line after " \", so
 * each --help line stays within WSB_OPT_HELP_WIDTH. */
static const char *const ex_serve[] = {
	"wsbridge-serve                            # ws://127.0.0.1:8765/ws",
	"wsbridge-serve --listen 0.0.0.0:9000 --path /ws/trading",
	"curl -s http://127.0.0.1:8765/health",
	"wsbridge-serve --listen 0.0.0.0:8443 \\\n    --tls-cert /etc/wsbridge/cert.pem --tls-key /etc/wsbridge/key.pem",
	NULL,
};
static const char *const ex_pub[] = {
	"tail -f trades.log | wsbridge-pub --type trade",
	"echo '{\"type\":\"order\",\"data\":{\"symbol\":\"AAPL\"}}' | wsbridge-pub",
	"wsbridge-pub --raw --type log app.log",
	"wsbridge-pub --producer orders-feed --linger 10 <orders.ndjson \\\n    || echo 'not all acknowledged' >&2",
	NULL,
};
static const char *const ex_sub[] = {
	"wsbridge-sub --type order | jq .data.symbol",
	"wsbridge-sub --type 'position*' --type equity_update --count 10 --timeout 5",
	"wsbridge-sub --cursor-file orders.cursor --gap=fail --type order \\\n    >>orders.ndjson",
	"wsbridge-sub --snapshot --type 'quote*'   # current state first, then live",
	"wsbridge-sub --url wss://broker:8443/ws --cafile ca.pem --type order",
	NULL,
};
static const char *const ex_health[] = {
	"wsbridge-health              # http://127.0.0.1:8765/health, one JSON line",
	"wsbridge-health --roundtrip --crit-latency 200 || mail -s wsbridge ops  # cron",
	"wsbridge-health --nagios --url http://broker:8765 --ws \\\n    --warn-latency 50 --crit-latency 200",
	"wsbridge-health --format prometheus >wsbridge.prom.$$ \\\n    && mv wsbridge.prom.$$ /var/lib/node_exporter/wsbridge.prom",
	"wsbridge-health --watch 1 --ws                   # a terminal health monitor",
	"wsbridge-health --url https://broker:8443 --cafile ca.pem \\\n    --token-file /etc/wsbridge/token",
	NULL,
};
static const char *const ex_replay[] = {
	"wsbridge-replay --speed 10 day.ndjson | wsbridge-pub",
	"wsbridge-replay --speed 0 --strip-seq capture.ndjson.gz \\\n    | wsbridge-pub --url ws://staging:8765/ws",
	"wsbridge-replay --type 'order*' --from 2026-11-22T09:30:00Z \\\n    --to 2026-11-22T10:00:00Z day.ndjson",
	"wsbridge-replay --rate 100 --loop 0 --restamp \\\n    --where '.data.qty > 100' sample.ndjson",
	"wsbridge-replay --time-field .data.ts --max-gap 5 feed.ndjson",
	NULL,
};

/* wsbridge-health --format nagios is a monitoring plugin, and a plugin says
 * UNKNOWN (3) for bad arguments; the parser has seen the whole command line,
 * so the format counts wherever it was given. */
static int health_usage_exit(const struct wsb_cfg *cfg)
{
	return cfg->nagios || cfg->health_format == WSB_HEALTH_NAGIOS ? WSB_HEALTH_UNKNOWN : WSB_EXIT_USAGE;
}

static const struct wsb_tool_info tools[] = {
	{ WSB_TOOL_SERVE, "wsbridge-serve", "", "WebSocket pub/sub broker for JSON event streams", ex_serve, NULL },
	{ WSB_TOOL_PUB, "wsbridge-pub", "[URL] [FILE...]", "publish NDJSON lines from stdin or files to a wsbridge broker",
	  ex_pub, NULL },
	{ WSB_TOOL_SUB, "wsbridge-sub", "[URL]", "subscribe to a wsbridge broker and write each message as one JSON line",
	  ex_sub, NULL },
	{ WSB_TOOL_HEALTH, "wsbridge-health", "[URL]", "probe a wsbridge broker for cron, scripts and monitoring", ex_health,
	  health_usage_exit },
	{ WSB_TOOL_REPLAY, "wsbridge-replay", "[FILE...]", "replay recorded NDJSON with its original timing", ex_replay,
	  NULL },
};

const struct wsb_tool_info *wsb_opt_tool(unsigned tool)
{
	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
		if (tools[i].tool == tool)
			return &tools[i];
	return &tools[0];
}

const struct wsb_opt *wsb_opt_table(size_t *n)
{
	*n = sizeof table / sizeof table[0];
	return table;
}

int wsb_opt_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	default: return -1;
	}
	/* Accept "64k", "64KiB", "64kB" alike; anything else is a typo. */
	if (mul > 1 && (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b")))
		end += strlen(end);
	if (*end || (mul > 1 && v > UINT64_MAX / mul))
		return -1;
	*out = v * mul;
	return 0;
}

int wsb_opt_parse_seconds(const char *s, double *out)
{
	char *end;
	double v, mul = 1;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		mul = 0.001;
	else if (!strcmp(end, "s") || !*end)
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_int(const char *s, int64_t *out, int allow_neg)
{
	char *end;
	long long v;

	if (!*s || (!allow_neg && *s == '-'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*out = v;
	return 0;
}

static const struct wsb_choice *find_choice(const struct wsb_choice *c, const char *name)
{
	for (; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const char *wsb_opt_choice_name(const struct wsb_choice *c, int value)
{
	for (; c->name; c++)
		if (c->value == value)
			return c->name;
	return "";
}

/* "a|b|c", as --help, errors and --dump-options show the choices. */
const char *wsb_opt_choices_text(const struct wsb_choice *c, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; c->name && n < cap; c++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "|" : "", c->name);
	return buf;
}

static const struct wsb_opt *find_long(unsigned tool, const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if ((table[i].tools & tool) && strlen(table[i].name) == len &&
		    !strncmp(table[i].name, name, len))
			return &table[i];
	return NULL;
}

static const struct wsb_opt *find_short(unsigned tool, char c)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if ((table[i].tools & tool) && table[i].letter == c)
			return &table[i];
	return NULL;
}

/* Where a value came from. A higher source replaces what a lower one set
 * (a command-line --type replaces the file's list instead of adding to it);
 * within one source a list grows and -v counts. */
enum src { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_ARGV };

#define NTABLE (sizeof table / sizeof table[0])

struct pstate {
	unsigned char src[NTABLE];	/* per row: the source that set it last */
};

/* A flag's value in a file or the environment: "echo", "echo true". */
static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on", NULL }, *const no[] = { "0", "false", "no", "off", NULL };

	for (int i = 0; yes[i]; i++)
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
	for (int i = 0; no[i]; i++)
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	return -1;
}

/* A flag or count given a value (file, environment): the value sets it. */
static int store_switch(int *field, const struct wsb_opt *o, const char *val)
{
	int64_t i;

	if (!val) {
		*field = o->kind == WSB_OPT_COUNT ? *field + 1 : 1;
		return 0;
	}
	if (o->kind == WSB_OPT_FLAG)
		return parse_bool(val, field);
	if (parse_int(val, &i, 0) || i > 100)
		return -1;
	*field = (int)i;
	return 0;
}

static int store(struct wsb_cfg *cfg, struct pstate *st, enum src from, const struct wsb_opt *o, char *val,
		 const char *how, struct wsb_err *err)
{
	char *field = (char *)cfg + o->off;
	const struct wsb_choice *c;
	char buf[128];
	int64_t i;
	size_t row = (size_t)(o - table);

	if (st->src[row] < from && o->kind == WSB_OPT_LIST)
		((struct wsb_strlist *)(void *)field)->n = 0;
	if (st->src[row] < from && o->kind == WSB_OPT_COUNT)
		*(int *)field = 0;
	st->src[row] = (unsigned char)from;
	switch (o->kind) {
	case WSB_OPT_FLAG:
	case WSB_OPT_COUNT:
		if (store_switch((int *)field, o, val))
			break;
		return 0;
	case WSB_OPT_STR:
		*(const char **)field = val;
		return 0;
	case WSB_OPT_LIST: {
		struct wsb_strlist *l = (struct wsb_strlist *)(void *)field;

		/* The command line replaces what defaults, the file or the
		 * environment set (a URL operand too: add_operand). */
		if (from == SRC_ARGV && l->replace)
			l->n = 0;
		l->replace = from != SRC_ARGV;
		if (wsb_strlist_add(l, val))
			return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return 0;
	}
	case WSB_OPT_UINT:
		if (parse_int(val, &i, 0))
			break;
		*(uint64_t *)(void *)field = (uint64_t)i;
		return 0;
	case WSB_OPT_INT:
		if (parse_int(val, &i, 1))
			break;
		*(int64_t *)(void *)field = i;
		return 0;
	case WSB_OPT_SIZE:
		if (wsb_opt_parse_size(val, (uint64_t *)(void *)field))
			break;
		return 0;
	case WSB_OPT_SECONDS:
		if (wsb_opt_parse_seconds(val, (double *)(void *)field))
			break;
		return 0;
	case WSB_OPT_DOUBLE: {
		char *end;
		double d = strtod(val, &end);

		if (end == val || *end || !isfinite(d))
			break;
		*(double *)(void *)field = d;
		return 0;
	}
	case WSB_OPT_ENUM:
		if (!(c = find_choice(o->choices, val)))
			return wsb_err_set(err, WSB_EXIT_USAGE, "%s --%s: '%s' is not one of %s", how,
					   o->name, val, wsb_opt_choices_text(o->choices, buf, sizeof buf));
		*(int *)field = c->value;
		return 0;
	}
	return wsb_err_set(err, WSB_EXIT_USAGE, "%s --%s: invalid %s '%s'", how, o->name,
			   o->arg ? o->arg : "value", val);
}

/* Set only on the command line: --help, --version, --config (found before
 * anything else is read; its variable is WSBRIDGE_CONFIG) and --dump-config. */
int wsb_opt_argv_only(const struct wsb_opt *o)
{
	return o->off == NOFF || o->off == OFF(config) || o->off == OFF(dump_config);
}

/* A list from the environment is separated by blanks (WSBRIDGE_URL="ws://a/ws
 * ws://b/ws"), split in a copy the configuration owns: a chain of copies,
 * each block starting with the previous one's address, since several
 * variables may hold lists. */
static int env_list(struct wsb_cfg *cfg, struct pstate *st, const struct wsb_opt *o, const char *v,
		    const char *name, struct wsb_err *err)
{
	size_t n = strlen(v) + 1;
	char *block = malloc(sizeof(char *) + n), *save = NULL, *w, *copy;

	if (!block)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	memcpy(block, &cfg->env_copy, sizeof(char *));
	cfg->env_copy = block;
	copy = memcpy(block + sizeof(char *), v, n);
	for (w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
		if (store(cfg, st, SRC_ENV, o, w, name, err))
			return -1;
	return 0;
}

/* wsbridge-health takes the ws:// URL of the other tools too, so without
 * its own $WSBRIDGE_HEALTH_URL it honours theirs, $WSBRIDGE_URL. */
static char *env_value(const char *name)
{
	char *v = getenv(name);

	if ((!v || !*v) && !strcmp(name, "WSBRIDGE_HEALTH_URL"))
		v = getenv("WSBRIDGE_URL");
	return v;
}

/* Every option has a variable: the row's, or WSBRIDGE_ and the long name
 * in capitals with '_' for '-' (--max-queue: WSBRIDGE_MAX_QUEUE). "" for
 * the command-line-only ones. */
const char *wsb_opt_env_name(const struct wsb_opt *o, char *buf, size_t cap)
{
	size_t n = 0;

	/* Always in buf too: callers print buf (the dump did, and read
	 * uninitialised stack for the rows with a fixed name). */
	if (o->env) {
		snprintf(buf, cap, "%s", o->env);
		return buf;
	}
	buf[0] = '\0';
	if (wsb_opt_argv_only(o) && o->off != OFF(config))
		return buf;
	n = (size_t)snprintf(buf, cap, "WSBRIDGE_");
	for (const char *p = o->name; *p && n + 1 < cap; p++)
		buf[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	buf[n] = '\0';
	return buf;
}

static int apply_env(struct wsb_cfg *cfg, struct pstate *st, struct wsb_err *err)
{
	for (size_t i = 0; i < NTABLE; i++) {
		const struct wsb_opt *o = &table[i];
		char name[80];
		char *v;

		if (!(o->tools & cfg->tool) || wsb_opt_argv_only(o) || !(v = env_value(wsb_opt_env_name(o, name, sizeof name))) || !*v)
			continue;
		if (o->kind == WSB_OPT_LIST ? env_list(cfg, st, o, v, o->env ? o->env : name, err)
					    : store(cfg, st, SRC_ENV, o, v, o->env ? o->env : name, err))
			return -1;
	}
	return 0;
}


/* Handles one option that was found; *ai is advanced past a separate value.
 * out is NULL while parsing on after a usage error: --help and --version
 * then do nothing. */
static int take(struct wsb_cfg *cfg, struct pstate *st, const struct wsb_opt *o, char *inline_val, int argc,
		char **argv, int *ai, const char *spelled, FILE *out, struct wsb_err *err)
{
	char *val = inline_val;

	if (o->off == NOFF) {
		if (inline_val)
			return wsb_err_set(err, WSB_EXIT_USAGE, "option %s takes no value", spelled);
		if (!out)
			return WSB_OPT_RUN;
		if (!strcmp(o->name, "help"))
			wsb_optdoc_help(out, cfg->tool);
		else
			fprintf(out, "%s %s\n", cfg->progname, WSB_VERSION);
		return WSB_OPT_EXIT_OK;
	}
	if (!o->arg) {
		if (inline_val)
			return wsb_err_set(err, WSB_EXIT_USAGE, "option %s takes no value", spelled);
		return store(cfg, st, SRC_ARGV, o, NULL, "option", err);
	}
	if (!val) {
		if (*ai + 1 >= argc)
			return wsb_err_set(err, WSB_EXIT_USAGE, "option %s needs a value (%s)", spelled, o->arg);
		val = argv[++*ai];
	}
	return store(cfg, st, SRC_ARGV, o, val, "option", err);
}

/* Optimal string alignment distance (a swap of two neighbours costs 1),
 * capped: only small distances matter for a suggestion. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), d[40][40];

	if (la >= 40 || lb >= 40)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* "unknown option '--tpye' (did you mean --type?)", or which tool has it. */
static int unknown_long(unsigned tool, const char *name, size_t len, struct wsb_err *err)
{
	const struct wsb_opt *best = NULL, *other = find_long(WSB_TOOL_ALL, name, len);
	size_t bd = len / 3 > 2 ? len / 3 : 2;
	unsigned owner = other ? other->tools & ~tool : 0;

	if (other)	/* the first tool that has it */
		return wsb_err_set(err, WSB_EXIT_USAGE, "unknown option '--%.*s' (an option of %s, not of this tool)",
				   (int)len, name, wsb_opt_tool(owner & (0u - owner))->name);
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		size_t d;

		if (!(table[i].tools & tool))
			continue;
		d = edit_distance(name, len, table[i].name);
		/* A prefix of one option is what was meant too: --max-conn. */
		if (len >= 3 && !strncmp(table[i].name, name, len))
			d = 1;
		if (d <= bd && (!best || d < edit_distance(name, len, best->name)))
			best = &table[i];
	}
	if (best)
		return wsb_err_set(err, WSB_EXIT_USAGE, "unknown option '--%.*s' (did you mean --%s?)", (int)len, name,
				   best->name);
	return wsb_err_set(err, WSB_EXIT_USAGE, "unknown option '--%.*s'", (int)len, name);
}

/* The clients take their URL as an operand too: one that starts with ws://
 * or wss:// (health: also http:// or https://) is the URL, before "--";
 * any other operand is a FILE (pub), or an error. */
static int is_url_operand(unsigned tool, const char *a)
{
	if (!(tool & (WSB_TOOL_CLIENTS | WSB_TOOL_HEALTH)))
		return 0;
	if (!strncmp(a, "ws://", 5) || !strncmp(a, "wss://", 6))
		return 1;
	return tool == WSB_TOOL_HEALTH && (!strncmp(a, "http://", 7) || !strncmp(a, "https://", 8));
}

static int add_operand(struct wsb_cfg *cfg, char *a, int only_operands, int *url_seen, struct wsb_err *err)
{
	if (!only_operands && is_url_operand(cfg->tool, a)) {
		if ((*url_seen)++)
			return wsb_err_set(err, WSB_EXIT_USAGE, "two URLs: '%s' and '%s'", cfg->url, a);
		cfg->url = a;
		/* pub, sub: one more --url (it replaces the default and $WSBRIDGE_URL) */
		if (cfg->tool & WSB_TOOL_CLIENTS) {
			if (cfg->urls.replace)
				cfg->urls.n = cfg->urls.replace = 0;
			if (wsb_strlist_add(&cfg->urls, a))
				return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		}
		return 0;
	}
	cfg->operands[cfg->n_operands++] = a;
	return 0;
}

/* Hidden: the machine-readable tables scripts/gen-docs.sh builds the man
 * pages and completions from. 1 if name is one of them. */
static int dump(const char *name, const struct wsb_cfg *cfg, FILE *out)
{
	size_t nex;
	const struct wsb_exit_info *ex;

	if (!strcmp(name, "dump-options")) {
		wsb_optdoc_dump(out, cfg);
		return 1;
	}
	if (strcmp(name, "dump-exit-codes"))
		return 0;
	ex = wsb_exit_table(&nex);
	for (size_t k = 0; k < nex; k++)
		if (ex[k].tools & cfg->tool)
			fprintf(out, "%d\t%s\t%s\t%s\n", ex[k].code, ex[k].name, wsb_exit_meaning(&ex[k], cfg->tool),
				ex[k].meaning);
	return 1;
}

static int take_long(struct wsb_cfg *cfg, struct pstate *st, char *a, int argc, char **argv, int *ai, FILE *out,
		     struct wsb_err *err)
{
	char *name = a + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct wsb_opt *o = find_long(cfg->tool, name, len);

	if (!o && out && dump(name, cfg, out))
		return WSB_OPT_EXIT_OK;
	if (!o)
		return unknown_long(cfg->tool, name, len, err);
	return take(cfg, st, o, eq ? eq + 1 : NULL, argc, argv, ai, a, out, err);
}

/* Bundled short options: -vv, -c10, -t order */
static int take_short(struct wsb_cfg *cfg, struct pstate *st, char *a, int argc, char **argv, int *ai, FILE *out,
		      struct wsb_err *err)
{
	for (char *p = a + 1; *p; p++) {
		const struct wsb_opt *o = find_short(cfg->tool, *p);
		char spelled[3] = { '-', *p, 0 };
		int r, rest = o && o->arg && p[1];

		if (!o)
			return wsb_err_set(err, WSB_EXIT_USAGE, "unknown option '-%c'", *p);
		r = take(cfg, st, o, rest ? p + 1 : NULL, argc, argv, ai, spelled, out, err);
		if (r || rest)
			return r;
	}
	return WSB_OPT_RUN;
}

/* --config FILE: where the command line names it (the last one), found
 * before anything is stored since the file ranks below everything else. */
static const char *config_arg(unsigned tool, int argc, char **argv)
{
	const char *path = NULL;

	for (int ai = 1; ai < argc; ai++) {
		const char *a = argv[ai], *eq;
		const struct wsb_opt *o;

		if (!strcmp(a, "--"))
			break;
		if (a[0] != '-' || !a[1])
			continue;
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			o = find_long(tool, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (o && o->off == OFF(config))
				path = eq ? eq + 1 : ai + 1 < argc ? argv[ai + 1] : NULL;
			ai += o && o->arg && !eq;
			continue;
		}
		for (const char *p = a + 1; *p; p++)
			if ((o = find_short(tool, *p)) && o->arg) {
				ai += !p[1];
				break;
			}
	}
	return path;
}

/* One "name value" line of a config file (in place). 0: applied or blank;
 * -1 + err naming where. */
static int config_line(struct wsb_cfg *cfg, struct pstate *st, char *line, const char *where,
		       struct wsb_err *err)
{
	char *name, *val;
	size_t nlen, vlen;
	const struct wsb_opt *o;

	line += strspn(line, " \t");
	vlen = strlen(line);
	while (vlen && strchr(" \t\r", line[vlen - 1]))
		line[--vlen] = '\0';
	if (!*line || *line == '#')
		return 0;
	name = line + (line[0] == '-' && line[1] == '-' ? 2 : 0);
	nlen = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-");
	val = name + nlen;
	if (*val && !strchr(" \t=", *val))
		return wsb_err_set(err, WSB_EXIT_USAGE, "%s expected 'option value', not '%.40s'", where, line);
	val += strspn(val, " \t");
	val += *val == '=';
	val += strspn(val, " \t");
	name[nlen] = '\0';
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {	/* "keeps  spaces", "" */
		val[vlen - 1] = '\0';
		val++;
	}
	o = find_long(cfg->tool, name, nlen);
	if (!o)
		return wsb_err_set(err, WSB_EXIT_USAGE, "%s '%s' is not an option of %s", where, name,
				   cfg->progname);
	if (wsb_opt_argv_only(o))
		return wsb_err_set(err, WSB_EXIT_USAGE, "%s --%s is for the command line only", where, name);
	if (o->arg && !*val && vlen < 2)
		return wsb_err_set(err, WSB_EXIT_USAGE, "%s --%s needs a value (%s)", where, name, o->arg);
	return store(cfg, st, SRC_FILE, o, *val || o->arg ? val : NULL, where, err);
}

/* A config file that does not parse is a configuration error (78), not a
 * usage error: nothing on the command line is wrong. */
static int config_error(struct wsb_err *err)
{
	if (err->code == WSB_EXIT_USAGE)
		err->code = WSB_EXIT_CONFIG;
	return -1;
}

static int config_text(struct wsb_cfg *cfg, struct pstate *st, char *text, const char *name,
		       struct wsb_err *err)
{
	char where[300];
	unsigned lineno = 0;

	for (char *line = text, *nl; line; line = nl) {
		if ((nl = strchr(line, '\n')))
			*nl++ = '\0';
		snprintf(where, sizeof where, "%s:%u:", name, ++lineno);
		if (config_line(cfg, st, line, where, err))
			return config_error(err);
	}
	return 0;
}

int wsb_opt_config_text(struct wsb_cfg *cfg, char *text, const char *name, struct wsb_err *err)
{
	struct pstate st = { { 0 } };

	return config_text(cfg, &st, text, name, err);
}

/* Reads the file into cfg->config_buf, which the values point into. */
static int load_config(struct wsb_cfg *cfg, struct pstate *st, const char *path, struct wsb_err *err)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "--config %s", path);
	free(cfg->config_buf);
	cfg->config_buf = malloc(WSB_CONFIG_MAX + 1);
	n = cfg->config_buf ? fread(cfg->config_buf, 1, WSB_CONFIG_MAX + 1, f) : 0;
	if (cfg->config_buf && ferror(f)) {
		fclose(f);
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "--config %s", path);
	}
	fclose(f);
	if (!cfg->config_buf)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	if (n > WSB_CONFIG_MAX || memchr(cfg->config_buf, '\0', n))
		return wsb_err_set(err, WSB_EXIT_CONFIG, "--config %s: not a text file of at most %d bytes", path,
				   WSB_CONFIG_MAX);
	cfg->config_buf[n] = '\0';
	return config_text(cfg, st, cfg->config_buf, path, err);
}

int wsb_opt_parse(struct wsb_cfg *cfg, int argc, char **argv, FILE *out, struct wsb_err *err)
{
	const struct wsb_tool_info *ti = wsb_opt_tool(cfg->tool);
	struct wsb_err later;
	struct pstate st = { { 0 } };
	int only_operands = 0, url_seen = 0, failed = 0, r;
	const char *conf = config_arg(cfg->tool, argc, argv);

	if (!conf && (conf = getenv("WSBRIDGE_CONFIG")) && !*conf)
		conf = NULL;
	if (conf && load_config(cfg, &st, conf, err))
		return -1;
	if (apply_env(cfg, &st, err))
		return -1;
	cfg->operands = calloc((size_t)argc + 1, sizeof *cfg->operands);
	if (!cfg->operands)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	for (int ai = 1; ai < argc; ai++) {
		char *a = argv[ai];

		if (only_operands || a[0] != '-' || !a[1]) {
			if (add_operand(cfg, a, only_operands, &url_seen, failed ? &later : err))
				failed = 1;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_operands = 1;
			continue;
		}
		/* After the first error, parse on for the options a tool's
		 * usage_exit reads, but report only that first error. */
		r = (a[1] == '-' ? take_long : take_short)(cfg, &st, a, argc, argv, &ai, failed ? NULL : out,
							    failed ? &later : err);
		if (r == WSB_OPT_EXIT_OK)
			return r;
		if (!r)
			continue;
		if (failed && later.code != WSB_EXIT_USAGE)
			*err = later;	/* out of memory outranks a usage error */
		if ((failed ? later.code : err->code) != WSB_EXIT_USAGE)
			return -1;
		failed = 1;
	}
	if (failed)
		return -1;
	if (cfg->n_operands && !strstr(ti->operands, "FILE"))
		return wsb_err_set(err, WSB_EXIT_USAGE, "unexpected argument '%s'", cfg->operands[0]);
	return WSB_OPT_RUN;
}

int wsb_opt_usage_exit(const struct wsb_cfg *cfg)
{
	const struct wsb_tool_info *ti = wsb_opt_tool(cfg->tool);

	return ti->usage_exit ? ti->usage_exit(cfg) : WSB_EXIT_USAGE;
}


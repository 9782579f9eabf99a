/* config — the one configuration struct every binary fills from the option
 * table (options.c), the environment and defaults, and the checks between
 * options that no single option can make. No I/O.
 *
 * Each field is tagged with the tools that use it, mosquitto-style. Enum
 * options are stored as their enum type; the option table maps each choice
 * name to its value (options.c), so no value depends on a position.
 */
#ifndef WSB_CONFIG_H
#define WSB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "health.h"
#include "journal.h"
#include "log.h"
#include "tool.h"

/* wsbridge-serve --rate-policy: what happens to a message over --rate. */
enum wsb_rate_policy { WSB_RATE_REJECT, WSB_RATE_PAUSE };

/* wsbridge-sub --gap: what a gap record does. */
enum wsb_gap_mode { WSB_GAP_MARK, WSB_GAP_STDERR, WSB_GAP_FAIL };

struct wsb_strlist {
	char **v;			/* points into argv or the environment; not owned */
	size_t n, cap;
	int replace;			/* defaults or from the environment: the first
					 * command-line value replaces them */
};

struct wsb_cfg {
	unsigned tool;			/* the WSB_TOOL_* running */
	const char *progname;

	/* all */
	const char *config;		/* --config FILE */
	char *config_buf;		/* its text, owned: its values point into it */
	int dump_config;		/* --dump-config: print the effective configuration */
	int verbose;			/* -v count; -q sets -1 */
	int quiet;
	enum wsb_log_format log_format;
	const char *log_file;		/* serve: log here, reopened on SIGHUP */

	/* serve */
	const char *listen;		/* ADDR:PORT */
	char listen_host[64];		/* parsed by wsb_cfg_check */
	int listen_port;
	const char *path;
	uint64_t max_message;
	uint64_t max_queue;
	uint64_t max_memory;
	double max_stall;
	double stall_window;		/* --max-stall is a budget per this window */
	double ping_interval;
	uint64_t history;
	uint64_t history_bytes;
	const char *snapshot_key;	/* --snapshot-key JQPATH */
	uint64_t snapshot_bytes;	/* UINT64_MAX until wsb_cfg_check derives it */
	double message_timeout;		/* seconds to receive one whole message */
	const char *journal;		/* --journal DIR */
	enum wsb_fsync fsync;
	double fsync_interval;
	uint64_t journal_segment;
	uint64_t journal_retain;
	const char *token;		/* serve: required token; clients: token to send */
	const char *token_file;		/* serve: tokens with scopes (access.h); clients: the first */
	const char *jwt_secret_file;	/* serve: HS256 JWTs signed with this secret */
	const char *allow_origin_file;	/* serve: more --allow-origin entries, one a line */
	const char *rate_limit;		/* serve: --rate N/s as given; parsed into rate_per_s */
	double rate_per_s;		/* 0: no limit */
	uint64_t burst;			/* 0 until wsb_cfg_check: one second's worth */
	enum wsb_rate_policy rate_policy;
	const char *tls_cert;		/* serve: PEM certificate (chain); with tls_key: https/wss */
	const char *tls_key;		/* serve: PEM private key */
	struct wsb_strlist allow_origins;	/* --allow-origin: exact Origins also let in */
	uint64_t max_connections;	/* WebSocket clients at once; 0: from RLIMIT_NOFILE */
	uint64_t max_connections_per_ip;	/* 0: no per-address limit */
	uint64_t publish_lines;		/* messages in one POST /publish */
	int compress;			/* --compress: permessage-deflate */
	int stdin_pub;			/* --stdin: also publish stdin's lines (with type, raw, strict, max_line) */
	int no_console;			/* --no-console: no page at / and /console, no /wsbridge.js */
	int console_publish;		/* the page shows its publish box */
	const char *cluster;		/* --cluster redis://HOST:PORT[/DB] */
	const char *cluster_name;
	const char *cluster_password_file;
	double cluster_timeout;		/* Redis silent this long: reconnect; held publishes refused */
	int reuse_port;			/* SO_REUSEPORT on the listener */
	/* Connections with an Origin may not publish: --browsers-read-only, or
	 * by default with a token; wsb_cfg_check leaves the decision here. */
	int browsers_read_only;
	int browsers_may_publish;	/* --browsers-may-publish: the default off */
	struct wsb_strlist request_types;	/* --request-type: answered, never published */
	const char *symbol_key;		/* --symbol-key PATH (.data.symbol) */
	uint64_t ready_fd;		/* --ready-fd: write the port here when listening; 0: none */
	const char *pid_file;		/* --pid-file */
	double filter_time;		/* CPU seconds per ?filter= per message */
	uint64_t filter_memory;		/* bytes for the filters' worker; 0: no limit */

	/* pub, sub, health */
	const char *url;		/* health's; pub and sub: urls.v[0] once checked */
	struct wsb_strlist urls;	/* pub, sub: --url, tried in turn on reconnect */
	char *env_copy;			/* owned: environment lists split in place (a chain, options.c) */
	const char *cafile;		/* CA bundle that verifies the server (https, wss) */
	int insecure;			/* skip certificate checks (https, wss) */

	/* pub, sub */
	double retry_min, retry_max;
	int64_t retries;		/* -1: unlimited */
	int echo;			/* pub: see own messages (?echo=1); sub: also */

	/* pub */
	const char *type;		/* type for lines without one */
	int raw;
	int strict;			/* pub, replay */
	uint64_t queue;			/* messages kept while disconnected */
	int drop_oldest;
	uint64_t max_line;		/* pub, replay */
	const char *producer;		/* NULL: generated per run */
	uint64_t max_inflight;		/* sent, not yet acknowledged */
	double linger;			/* seconds to wait for acks at the end; 0: no limit */
	const char *state_file;		/* --state-file: resume after the last acked line */
	const char *jq;			/* pub: input to messages; sub: message to output lines */
	const char *type_from;		/* pub: jq path of the type */

	/* sub */
	struct wsb_strlist types;	/* --type globs (sub, replay) */
	uint64_t count;			/* 0: unlimited */
	double timeout;			/* 0: none */
	int control;
	enum wsb_gap_mode gap;
	const char *since;		/* --since SEQ as given; parsed into since_seq */
	uint64_t since_seq;
	int has_since;
	int from_start;
	const char *epoch;		/* --epoch: the epoch --since counts in */
	const char *cursor_file;
	int snapshot;

	/* replay (also: types, strict, max_line) */
	double speed;			/* recorded/replay time; 0: as fast as possible */
	double rate;			/* > 0: messages per second; wins over speed */
	const char *time_field;		/* jq path; NULL: top-level "timestamp" */
	const char *from, *to;		/* seq (all digits) or ISO 8601 time, inclusive */
	const char *where;		/* jq predicate (sub: run by the server, ?filter=) */
	uint64_t loop;			/* passes over the input; 0: forever */
	int restamp;
	int strip_seq;
	double max_gap;			/* seconds; 0: gaps are kept */

	/* health (also: url as the http(s) base, timeout as the whole probe's
	 * budget, token/token_file) */
	double connect_timeout;		/* seconds */
	int ws;				/* also time a ping over the WebSocket */
	int roundtrip;			/* also send a canary through the broker */
	const char *ws_path;		/* WebSocket path on the same host:port */
	double warn_latency, crit_latency;	/* ms; < 0: off */
	uint64_t min_subscribers;	/* 0: off */
	int64_t max_slow_consumers;	/* -1: off */
	int64_t max_dropped;		/* -1: off */
	enum wsb_health_format health_format;
	int nagios;			/* shortcut for --format nagios */
	double watch;			/* seconds between probes; 0: probe once */
	double wait;			/* --wait: probe until healthy, at most this long */

	/* operands (files for pub and replay) */
	char **operands;
	int n_operands;
};

/* Defaults for tool; must run before options are parsed. */
void wsb_cfg_defaults(struct wsb_cfg *cfg, unsigned tool, const char *progname);
/* Cross-option checks and derived fields (listen_host/port). -1 + err (code
 * WSB_EXIT_USAGE) on a bad combination. */
int wsb_cfg_check(struct wsb_cfg *cfg, struct wsb_err *err);
/* Appends s to l; -1 on ENOMEM. */
int wsb_strlist_add(struct wsb_strlist *l, char *s);
void wsb_cfg_free(struct wsb_cfg *cfg);

#endif

/* health — the pure half of wsbridge-health: read a /health answer, weigh it
 * and the probe's timings against the thresholds, and render the verdict as
 * a JSON line, a monitoring-plugin line or a Prometheus textfile snippet.
 *
 * No I/O and no clocks: the probes (cmd/wsbridge-health/probe.c) measure,
 * this module judges and writes into buffers the caller owns, so every rule
 * is unit-testable.
 *
 * Latency, the figure --warn-latency/--crit-latency compare against, is the
 * largest of the times measured in this run: the HTTP total time, the ping
 * → pong time (--ws) and the canary round trip (--roundtrip). The slowest
 * path is the one a user of the broker would feel.
 */
#ifndef WSB_HEALTH_H
#define WSB_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Monitoring-plugin levels; the values are the --nagios exit statuses. */
enum wsb_health_level {
	WSB_HEALTH_OK = 0,
	WSB_HEALTH_WARNING = 1,
	WSB_HEALTH_CRITICAL = 2,
	WSB_HEALTH_UNKNOWN = 3,
};

enum wsb_health_format { WSB_HEALTH_JSON = 0, WSB_HEALTH_PROMETHEUS, WSB_HEALTH_NAGIOS };

/* The numeric /health fields, in the order they are rendered. */
enum wsb_health_field {
	WSB_HF_ACTIVE_CONNECTIONS,
	WSB_HF_SUBSCRIBERS,
	WSB_HF_MESSAGES_IN,
	WSB_HF_MESSAGES_OUT,
	WSB_HF_DROPPED,
	WSB_HF_SLOW_CONSUMERS_CLOSED,
	WSB_HF_SEQ,
	WSB_HF_UPTIME_S,
	WSB_HF_QUEUED_BYTES,
	WSB_HF_COUNT
};

/* A parsed /health body. */
struct wsb_health {
	int valid;			/* a JSON object with a string "status" */
	char status[32];		/* "healthy", "stopping", "degraded"... (truncated) */
	char reason[200];		/* the server's "reason", if any */
	unsigned have;			/* bit (1 << WSB_HF_x) per field present */
	double v[WSB_HF_COUNT];		/* exact up to 2^53, plenty for counters */
	char *compact;			/* the whole answer, compacted, for "server" */
	size_t compact_len;
};

/* What one probe run measured. A time < 0 was not measured. */
enum wsb_health_state {
	WSB_PROBE_NOT_RUN = 0,
	WSB_PROBE_DONE,			/* got an answer (HTTP: any status code) */
	WSB_PROBE_UNREACHABLE,		/* no connection, refused, a TLS handshake failed */
	WSB_PROBE_TIMEOUT,		/* no answer in time */
	WSB_PROBE_BAD_ANSWER,		/* an answer, but not one we can use */
	WSB_PROBE_REFUSED,		/* authentication refused (401/403/1008) */
	WSB_PROBE_INTERRUPTED,		/* SIGINT/SIGTERM during the probe */
	WSB_PROBE_MISCONFIGURED,	/* the URL is wrong: no WebSocket at --ws-path or no /health
					 * at the path (404), the WebSocket path asked for /health
					 * (426), the other scheme (http/https, ws/wss), or a
					 * server certificate not trusted (--cafile, --insecure);
					 * the error says which */
};

struct wsb_health_probe {
	int http_state;			/* enum wsb_health_state */
	int http_code;			/* 0 without an answer */
	double connect_ms, total_ms;
	char http_error[WSB_ERR_LEN];
	int ws_state;			/* WSB_PROBE_NOT_RUN without --ws/--roundtrip */
	double ws_connect_ms;		/* handshake */
	double ws_ms;			/* ping → pong */
	double roundtrip_ms;		/* canary publish → delivery */
	char ws_error[WSB_ERR_LEN];
};

/* A negative limit is off; min_subscribers 0 is off. */
struct wsb_health_limits {
	double warn_latency_ms, crit_latency_ms;
	int64_t min_subscribers;
	int64_t max_slow_consumers;
	int64_t max_dropped;
};

#define WSB_HEALTH_REASONS 8

struct wsb_health_verdict {
	int level;			/* enum wsb_health_level */
	int exit_code;			/* in the shared table: 0, 1, 69, 75, 77 */
	double latency_ms;		/* < 0 when nothing was timed */
	int n_reasons;
	char reasons[WSB_HEALTH_REASONS][WSB_ERR_LEN];
};

/* Parses a /health answer into h (zeroed first). Returns 0, or -1 with err
 * when body is not a JSON object with a string "status" (h->valid is 0 then;
 * wsb_health_free is still needed). */
int wsb_health_parse(const char *body, size_t len, struct wsb_health *h, struct wsb_err *err);
void wsb_health_free(struct wsb_health *h);

void wsb_health_probe_init(struct wsb_health_probe *p);
void wsb_health_limits_init(struct wsb_health_limits *l);

/* The verdict on one run. h may be NULL when no body was parsed. */
void wsb_health_evaluate(const struct wsb_health *h, const struct wsb_health_probe *p,
			 const struct wsb_health_limits *l, struct wsb_health_verdict *v);

const char *wsb_health_level_name(int level);	/* "ok", "warning"... */

/* Renderers write NUL-terminated text into out (cap bytes) and return the
 * length the whole text needs, like snprintf: >= cap means truncated.
 * JSON: one line with '\n'. url and ts ("2026-...Z") are echoed in it. */
size_t wsb_health_render_json(char *out, size_t cap, const struct wsb_health *h,
			      const struct wsb_health_probe *p, const struct wsb_health_verdict *v,
			      const char *url, const char *ts);
/* "WSBRIDGE OK - 3 connections, 1 subscribers, latency 1.2ms | latency=1.2ms;50;200 ..." */
size_t wsb_health_render_nagios(char *out, size_t cap, const struct wsb_health *h,
				const struct wsb_health_probe *p, const struct wsb_health_limits *l,
				const struct wsb_health_verdict *v);
/* --watch on a terminal: one short line for a person, "12:00:01 healthy
 * conns 3 subs 1  in 120/s out 240/s  seq 5120  0.4 ms"; rates < 0 are not
 * known yet (the first probe). */
size_t wsb_health_render_human(char *out, size_t cap, const struct wsb_health *h,
			       const struct wsb_health_verdict *v, double rate_in, double rate_out,
			       const char *clock);
/* Textfile-collector snippet; ts_ms is the probe's time (epoch ms). */
size_t wsb_health_render_prometheus(char *out, size_t cap, const struct wsb_health *h,
				    const struct wsb_health_probe *p, const struct wsb_health_verdict *v,
				    int64_t ts_ms);

/* The /health URL for a base URL: "/health" is appended unless the URL
 * already has a path other than "/". A ws:// or wss:// URL (the one the
 * other tools take) gives http(s)://HOST:PORT/health whatever its path.
 * -1 if it does not fit or is not http(s) or ws(s). */
int wsb_health_url(const char *base, char *out, size_t cap);
/* The WebSocket URL on the same host and port: http→ws, https→wss, path
 * ws_path, no query; a ws(s):// base keeps its own path unless ws_path is
 * other than the default "/ws". -1 if it does not fit or base is neither. */
int wsb_health_ws_url(const char *base, const char *ws_path, char *out, size_t cap);

#endif

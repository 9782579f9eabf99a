#include "health.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

static const char *const field_names[WSB_HF_COUNT] = {
	"active_connections", "subscribers", "messages_in", "messages_out", "dropped",
	"slow_consumers_closed", "seq", "uptime_s", "queued_bytes",
};

/* ---- output buffer: snprintf semantics over several appends ---- */

struct obuf {
	char *p;
	size_t cap, n;
};

static void put(struct obuf *b, const char *s, size_t len)
{
	if (b->n < b->cap) {
		size_t room = b->cap - b->n - 1, k = len < room ? len : room;

		memcpy(b->p + b->n, s, k);
		b->p[b->n + k] = '\0';
	}
	b->n += len;
}

static void puts_(struct obuf *b, const char *s)
{
	put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void pf(struct obuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k > 0)
		put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void put_json_str(struct obuf *b, const char *s)
{
	size_t len = strlen(s), need = len * 6 + 3;
	char stack[1024], *t = need <= sizeof stack ? stack : malloc(need);

	if (!t)
		return;
	wsb_json_escape(t, need, s, len);
	puts_(b, t);
	if (t != stack)
		free(t);
}

static void obuf_init(struct obuf *b, char *out, size_t cap)
{
	b->p = out;
	b->cap = cap;
	b->n = 0;
	if (cap)
		out[0] = '\0';
}

/* ---- parsing ---- */

/* Decodes the string value at span into out, truncating to cap-1 bytes:
 * an over-long status must still be shown, not rejected. */
static int get_string(const char *obj, size_t len, const char *key, char *out, size_t cap)
{
	struct wsb_span sp;
	char *tmp;
	ssize_t n;

	if (!wsb_env_lookup(obj, len, key, &sp) || obj[sp.off] != '"')
		return -1;
	tmp = malloc(sp.len + 1);
	if (!tmp)
		return -1;
	n = wsb_env_string(obj + sp.off, sp.len, tmp, sp.len + 1);
	if (n >= 0)
		snprintf(out, cap, "%s", tmp);
	free(tmp);
	return n < 0 ? -1 : 0;
}

static int get_number(const char *obj, size_t len, const char *key, double *out)
{
	struct wsb_span sp;
	uint64_t u;
	char tmp[64], *end;

	if (!wsb_env_lookup(obj, len, key, &sp))
		return -1;
	if (!wsb_env_uint(obj + sp.off, sp.len, &u)) {
		*out = (double)u;
		return 0;
	}
	/* uptime_s may carry a fraction, a future counter a sign. */
	if (sp.len >= sizeof tmp || !(obj[sp.off] == '-' || (obj[sp.off] >= '0' && obj[sp.off] <= '9')))
		return -1;
	memcpy(tmp, obj + sp.off, sp.len);
	tmp[sp.len] = '\0';
	*out = strtod(tmp, &end);
	return *end || !isfinite(*out) ? -1 : 0;
}

int wsb_health_parse(const char *body, size_t len, struct wsb_health *h, struct wsb_err *err)
{
	struct wsb_env env;
	struct wsb_err e;
	ssize_t n;

	memset(h, 0, sizeof *h);
	h->compact = malloc(len ? len : 1);
	if (!h->compact)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	n = wsb_env_parse(body, len, h->compact, NULL, &env, &e);
	if (n == -WSB_ENV_INVALID_JSON)
		return wsb_err_set(err, WSB_EXIT_FAIL, "answer is not JSON (%s)", e.msg);
	if (n < 0)
		return wsb_err_set(err, WSB_EXIT_FAIL, "answer is not a JSON object");
	h->compact_len = (size_t)n;
	if (get_string(h->compact, h->compact_len, "status", h->status, sizeof h->status))
		return wsb_err_set(err, WSB_EXIT_FAIL, "answer has no string \"status\"");
	get_string(h->compact, h->compact_len, "reason", h->reason, sizeof h->reason);
	for (int i = 0; i < WSB_HF_COUNT; i++)
		if (!get_number(h->compact, h->compact_len, field_names[i], &h->v[i]))
			h->have |= 1u << i;
	h->valid = 1;
	return 0;
}

void wsb_health_free(struct wsb_health *h)
{
	free(h->compact);
	h->compact = NULL;
	h->compact_len = 0;
}

void wsb_health_probe_init(struct wsb_health_probe *p)
{
	memset(p, 0, sizeof *p);
	p->connect_ms = p->total_ms = p->ws_connect_ms = p->ws_ms = p->roundtrip_ms = -1;
}

void wsb_health_limits_init(struct wsb_health_limits *l)
{
	l->warn_latency_ms = l->crit_latency_ms = -1;
	l->min_subscribers = 0;
	l->max_slow_consumers = l->max_dropped = -1;
}

/* ---- evaluation ---- */

/* CRITICAL outranks UNKNOWN: "down" is more useful to a pager than "can't tell". */
static int rank(int level)
{
	static const int r[] = { 0, 1, 3, 2 };

	return r[level & 3];
}

__attribute__((format(printf, 4, 5))) static void add(struct wsb_health_verdict *v, int level,
						      int exit_code, const char *fmt, ...)
{
	va_list ap;

	if (rank(level) > rank(v->level))
		v->level = level;
	/* The first failure found names the exit status: HTTP before the
	 * WebSocket before thresholds, the order a person would check them. */
	if (!v->exit_code)
		v->exit_code = exit_code;
	if (v->n_reasons == WSB_HEALTH_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(v->reasons[v->n_reasons++], sizeof v->reasons[0], fmt, ap);
	va_end(ap);
}

static int has(const struct wsb_health *h, int f)
{
	return h && h->valid && (h->have & (1u << f));
}

static void eval_ws(const struct wsb_health_probe *p, struct wsb_health_verdict *v)
{
	switch (p->ws_state) {
	case WSB_PROBE_UNREACHABLE:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_UNAVAILABLE, "WebSocket unreachable: %s", p->ws_error);
		break;
	case WSB_PROBE_TIMEOUT:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_TEMPFAIL, "WebSocket timeout: %s", p->ws_error);
		break;
	case WSB_PROBE_BAD_ANSWER:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_FAIL, "WebSocket: %s", p->ws_error);
		break;
	case WSB_PROBE_REFUSED:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_NOPERM, "WebSocket refused: %s", p->ws_error);
		break;
	case WSB_PROBE_MISCONFIGURED:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_CONFIG, "WebSocket: %s", p->ws_error);
		break;
	case WSB_PROBE_INTERRUPTED:
		add(v, WSB_HEALTH_UNKNOWN, WSB_EXIT_TEMPFAIL, "interrupted");
		break;
	default:
		break;
	}
}

static void eval_figure(const struct wsb_health *h, int f, int64_t limit, int below,
			const char *opt, struct wsb_health_verdict *v)
{
	double x;

	if (limit < 0 || (below && limit == 0) || !h || !h->valid)
		return;
	if (!has(h, f)) {
		add(v, WSB_HEALTH_UNKNOWN, WSB_EXIT_FAIL, "server does not report %s (%s)",
		    field_names[f], opt);
		return;
	}
	x = h->v[f];
	if (below ? x < (double)limit : x > (double)limit)
		add(v, WSB_HEALTH_WARNING, WSB_EXIT_OK, "%s %.0f %s %lld (%s)", field_names[f], x,
		    below ? "<" : ">", (long long)limit, opt);
}

void wsb_health_evaluate(const struct wsb_health *h, const struct wsb_health_probe *p,
			 const struct wsb_health_limits *l, struct wsb_health_verdict *v)
{
	memset(v, 0, sizeof *v);
	v->latency_ms = -1;
	switch (p->http_state) {
	case WSB_PROBE_UNREACHABLE:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_UNAVAILABLE, "unreachable: %s", p->http_error);
		break;
	case WSB_PROBE_TIMEOUT:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_TEMPFAIL, "timeout: %s", p->http_error);
		break;
	case WSB_PROBE_REFUSED:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_NOPERM, "refused: %s", p->http_error);
		break;
	case WSB_PROBE_INTERRUPTED:
		add(v, WSB_HEALTH_UNKNOWN, WSB_EXIT_TEMPFAIL, "interrupted");
		break;
	case WSB_PROBE_BAD_ANSWER:
		add(v, WSB_HEALTH_UNKNOWN, WSB_EXIT_FAIL, "%s", p->http_error);
		break;
	case WSB_PROBE_MISCONFIGURED:
		add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_CONFIG, "%s", p->http_error);	/* it says what is wrong */
		break;
	case WSB_PROBE_DONE:
		/* A wsbridge /health that is not 200 (503: unavailable) says
		 * why in its status: one reason with both, not a bare code. */
		if (p->http_code != 200 && !(h && h->valid && strcmp(h->status, "healthy")))
			add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_FAIL, "HTTP %d", p->http_code);
		if (!h || !h->valid) {
			/* A 200 we cannot read is a wrong service or a proxy page:
			 * the probe cannot tell whether wsbridge is well. */
			if (p->http_code == 200)
				add(v, WSB_HEALTH_UNKNOWN, WSB_EXIT_FAIL, "%s",
				    p->http_error[0] ? p->http_error : "answer is not a wsbridge /health object");
		} else if (strcmp(h->status, "healthy")) {
			char code[24] = "";

			if (p->http_code != 200)
				snprintf(code, sizeof code, " (HTTP %d)", p->http_code);
			add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_FAIL, "server status \"%s\"%s%s%s", h->status, code,
			    h->reason[0] ? ": " : "", h->reason);
		}
		if (p->total_ms >= 0)
			v->latency_ms = p->total_ms;
		break;
	default:
		break;
	}
	eval_ws(p, v);
	if (p->ws_ms > v->latency_ms)
		v->latency_ms = p->ws_ms;
	if (p->roundtrip_ms > v->latency_ms)
		v->latency_ms = p->roundtrip_ms;

	if (v->latency_ms >= 0) {
		if (l->crit_latency_ms >= 0 && v->latency_ms > l->crit_latency_ms)
			add(v, WSB_HEALTH_CRITICAL, WSB_EXIT_FAIL, "latency %.1fms > %gms (--crit-latency)",
			    v->latency_ms, l->crit_latency_ms);
		else if (l->warn_latency_ms >= 0 && v->latency_ms > l->warn_latency_ms)
			add(v, WSB_HEALTH_WARNING, WSB_EXIT_OK, "latency %.1fms > %gms (--warn-latency)",
			    v->latency_ms, l->warn_latency_ms);
	}
	eval_figure(h, WSB_HF_SUBSCRIBERS, l->min_subscribers, 1, "--min-subscribers", v);
	eval_figure(h, WSB_HF_SLOW_CONSUMERS_CLOSED, l->max_slow_consumers, 0, "--max-slow-consumers", v);
	eval_figure(h, WSB_HF_DROPPED, l->max_dropped, 0, "--max-dropped", v);
	if (!v->exit_code && (v->level == WSB_HEALTH_CRITICAL || v->level == WSB_HEALTH_UNKNOWN))
		v->exit_code = WSB_EXIT_FAIL;
}

const char *wsb_health_level_name(int level)
{
	static const char *const n[] = { "ok", "warning", "critical", "unknown" };

	return n[level & 3];
}

/* ---- rendering ---- */

static void put_ms(struct obuf *b, const char *key, double ms, int comma)
{
	if (ms >= 0)
		pf(b, "%s\"%s\":%.3f", comma ? "," : "", key, ms);
	else
		pf(b, "%s\"%s\":null", comma ? "," : "", key);
}

size_t wsb_health_render_json(char *out, size_t cap, const struct wsb_health *h,
			      const struct wsb_health_probe *p, const struct wsb_health_verdict *v,
			      const char *url, const char *ts)
{
	struct obuf b;

	obuf_init(&b, out, cap);
	pf(&b, "{\"status\":\"%s\",\"http_code\":%d,\"server\":", wsb_health_level_name(v->level),
	   p->http_code);
	/* The server's own words verbatim: figures this version does not
	 * know (publishers_paused, version...) still reach the log. */
	if (h && h->valid)
		put(&b, h->compact, h->compact_len);
	else
		puts_(&b, "null");
	puts_(&b, ",\"probe\":{");
	put_ms(&b, "connect_ms", p->connect_ms, 0);
	put_ms(&b, "total_ms", p->total_ms, 1);
	put_ms(&b, "ws_connect_ms", p->ws_connect_ms, 1);
	put_ms(&b, "ws_ms", p->ws_ms, 1);
	put_ms(&b, "roundtrip_ms", p->roundtrip_ms, 1);
	put_ms(&b, "latency_ms", v->latency_ms, 1);
	puts_(&b, "},\"reasons\":[");
	for (int i = 0; i < v->n_reasons; i++) {
		if (i)
			puts_(&b, ",");
		put_json_str(&b, v->reasons[i]);
	}
	puts_(&b, "]");
	if (url) {
		puts_(&b, ",\"url\":");
		put_json_str(&b, url);
	}
	if (ts)
		pf(&b, ",\"timestamp\":\"%s\"", ts);
	puts_(&b, "}\n");
	return b.n;
}

size_t wsb_health_render_human(char *out, size_t cap, const struct wsb_health *h,
			       const struct wsb_health_verdict *v, double rate_in, double rate_out,
			       const char *clock)
{
	struct obuf b;

	obuf_init(&b, out, cap);
	pf(&b, "%s %-8s", clock, v->level == WSB_HEALTH_OK ? "healthy" : wsb_health_level_name(v->level));
	if (has(h, WSB_HF_ACTIVE_CONNECTIONS) && has(h, WSB_HF_SUBSCRIBERS))
		pf(&b, " conns %.0f subs %.0f", h->v[WSB_HF_ACTIVE_CONNECTIONS], h->v[WSB_HF_SUBSCRIBERS]);
	if (rate_in >= 0 && rate_out >= 0)
		pf(&b, "  in %.0f/s out %.0f/s", rate_in, rate_out);
	else if (h && h->valid)
		puts_(&b, "  in -/s out -/s");
	if (has(h, WSB_HF_SEQ))
		pf(&b, "  seq %.0f", h->v[WSB_HF_SEQ]);
	if (v->latency_ms >= 0)
		pf(&b, "  %.1f ms", v->latency_ms);
	if (v->n_reasons)
		pf(&b, "  %s", v->reasons[0]);
	puts_(&b, "\n");
	return b.n;
}

/* Plugin output is one line and '|' starts the performance data. */
static void put_plugin_text(struct obuf *b, const char *s)
{
	for (; *s; s++) {
		char c = *s == '|' ? '/' : (*s == '\n' || *s == '\r') ? ' ' : *s;

		put(b, &c, 1);
	}
}

static void perf_limit(struct obuf *b, double warn, double crit)
{
	if (warn < 0 && crit < 0)
		return;
	puts_(b, ";");
	if (warn >= 0)
		pf(b, "%g", warn);
	puts_(b, ";");
	if (crit >= 0)
		pf(b, "%g", crit);
}

size_t wsb_health_render_nagios(char *out, size_t cap, const struct wsb_health *h,
				const struct wsb_health_probe *p, const struct wsb_health_limits *l,
				const struct wsb_health_verdict *v)
{
	static const char *const up[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	/* perfdata label, field, unit ("c": a counter, per the plugin guidelines) */
	static const struct { const char *label; int f; const char *uom; } perf[] = {
		{ "conns", WSB_HF_ACTIVE_CONNECTIONS, "" },
		{ "subscribers", WSB_HF_SUBSCRIBERS, "" },
		{ "messages_in", WSB_HF_MESSAGES_IN, "c" },
		{ "messages_out", WSB_HF_MESSAGES_OUT, "c" },
		{ "dropped", WSB_HF_DROPPED, "c" },
		{ "slow_consumers_closed", WSB_HF_SLOW_CONSUMERS_CLOSED, "c" },
		{ "queued_bytes", WSB_HF_QUEUED_BYTES, "B" },
		{ "uptime", WSB_HF_UPTIME_S, "s" },
	};
	struct obuf b;
	const char *sep = "";

	obuf_init(&b, out, cap);
	pf(&b, "WSBRIDGE %s - ", up[v->level & 3]);
	for (int i = 0; i < v->n_reasons; i++) {
		puts_(&b, sep);
		put_plugin_text(&b, v->reasons[i]);
		sep = "; ";
	}
	if (has(h, WSB_HF_ACTIVE_CONNECTIONS) && has(h, WSB_HF_SUBSCRIBERS)) {
		pf(&b, "%s%.0f connections, %.0f subscribers", sep, h->v[WSB_HF_ACTIVE_CONNECTIONS],
		   h->v[WSB_HF_SUBSCRIBERS]);
		sep = ", ";
	}
	if (v->latency_ms >= 0)
		pf(&b, "%slatency %.1fms", sep, v->latency_ms);
	if (v->latency_ms < 0 && !(h && h->valid)) {
		puts_(&b, "\n");
		return b.n;
	}
	puts_(&b, " |");
	if (v->latency_ms >= 0) {
		pf(&b, " latency=%.3fms", v->latency_ms);
		perf_limit(&b, l->warn_latency_ms, l->crit_latency_ms);
	}
	if (p->ws_ms >= 0)
		pf(&b, " ws=%.3fms", p->ws_ms);
	if (p->roundtrip_ms >= 0)
		pf(&b, " roundtrip=%.3fms", p->roundtrip_ms);
	for (size_t i = 0; i < sizeof perf / sizeof perf[0]; i++) {
		if (!has(h, perf[i].f))
			continue;
		pf(&b, " %s=%.0f%s", perf[i].label, h->v[perf[i].f], perf[i].uom);
		/* "N:" is the plugin range "alert below N". */
		if (perf[i].f == WSB_HF_SUBSCRIBERS && l->min_subscribers > 0)
			pf(&b, ";%lld:", (long long)l->min_subscribers);
		else if (perf[i].f == WSB_HF_DROPPED && l->max_dropped >= 0)
			pf(&b, ";%lld", (long long)l->max_dropped);
		else if (perf[i].f == WSB_HF_SLOW_CONSUMERS_CLOSED && l->max_slow_consumers >= 0)
			pf(&b, ";%lld", (long long)l->max_slow_consumers);
	}
	puts_(&b, "\n");
	return b.n;
}

static void gauge(struct obuf *b, const char *name, const char *help, double val)
{
	pf(b, "# HELP %s %s\n# TYPE %s gauge\n%s ", name, help, name, name);
	/* Counts print whole ("1234567", not "1.234567e+06"), times with the
	 * microseconds they were measured in. */
	if (val == floor(val) && fabs(val) < 1e15)
		pf(b, "%.0f\n", val);
	else
		pf(b, "%.6f\n", val);
}

size_t wsb_health_render_prometheus(char *out, size_t cap, const struct wsb_health *h,
				    const struct wsb_health_probe *p, const struct wsb_health_verdict *v,
				    int64_t ts_ms)
{
	struct obuf b;
	char name[96];

	obuf_init(&b, out, cap);
	gauge(&b, "wsbridge_probe_up", "1 if /health answered over HTTP.",
	      p->http_state == WSB_PROBE_DONE);
	gauge(&b, "wsbridge_probe_success", "1 if the verdict is ok or warning.",
	      v->level == WSB_HEALTH_OK || v->level == WSB_HEALTH_WARNING);
	puts_(&b, "# HELP wsbridge_probe_status The verdict, one series per level.\n"
		  "# TYPE wsbridge_probe_status gauge\n");
	for (int i = 0; i < 4; i++)
		pf(&b, "wsbridge_probe_status{status=\"%s\"} %d\n", wsb_health_level_name(i), v->level == i);
	gauge(&b, "wsbridge_probe_http_code", "HTTP status of /health (0: no answer).", p->http_code);
	if (v->latency_ms >= 0)
		gauge(&b, "wsbridge_probe_latency_seconds",
		      "Largest of the HTTP, ping and round-trip times measured.", v->latency_ms / 1000);
	if (p->total_ms >= 0)
		gauge(&b, "wsbridge_probe_http_seconds", "Time to fetch /health.", p->total_ms / 1000);
	if (p->ws_ms >= 0)
		gauge(&b, "wsbridge_probe_ws_seconds", "WebSocket ping to pong.", p->ws_ms / 1000);
	if (p->roundtrip_ms >= 0)
		gauge(&b, "wsbridge_probe_roundtrip_seconds", "Canary publish to delivery.",
		      p->roundtrip_ms / 1000);
	/* Textfile collectors refuse sample timestamps: staleness is a gauge. */
	gauge(&b, "wsbridge_probe_timestamp_seconds", "When the probe ran (Unix time).",
	      (double)ts_ms / 1000);
	for (int i = 0; i < WSB_HF_COUNT; i++) {
		if (!has(h, i))
			continue;
		const char *f = field_names[i];
		/* Totals since the broker started are counters to Prometheus
		 * (rate() works on them); the rest are levels. */
		int counter = !strcmp(f, "messages_in") || !strcmp(f, "messages_out") ||
			      !strcmp(f, "dropped") || !strcmp(f, "slow_consumers_closed");

		snprintf(name, sizeof name, "wsbridge_health_%s%s", f, counter ? "_total" : "");
		if (counter)
			pf(&b, "# HELP %s As reported by /health.\n# TYPE %s counter\n%s %.17g\n", name, name,
			   name, h->v[i]);
		else
			gauge(&b, name, "As reported by /health.", h->v[i]);
	}
	return b.n;
}

/* ---- URLs ---- */

/* The scheme's length; *tls for https/wss, *ws for the WebSocket URL the
 * other tools take (its path is the WebSocket's, not an HTTP one). */
static size_t scheme_len(const char *u, int *tls, int *ws)
{
	static const struct { const char *s; int tls, ws; } known[] = {
		{ "http://", 0, 0 }, { "https://", 1, 0 }, { "ws://", 0, 1 }, { "wss://", 1, 1 },
	};

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strncmp(u, known[i].s, strlen(known[i].s))) {
			*tls = known[i].tls;
			*ws = known[i].ws;
			return strlen(known[i].s);
		}
	return 0;
}

int wsb_health_url(const char *base, char *out, size_t cap)
{
	int tls, ws, n;
	size_t s = scheme_len(base, &tls, &ws), auth, path;
	const char *rest;

	if (!s)
		return -1;
	auth = strcspn(base + s, "/?#");
	if (!auth)
		return -1;
	rest = base + s + auth;
	path = strcspn(rest, "?#");
	if (ws)
		n = snprintf(out, cap, "%s://%.*s/health", tls ? "https" : "http", (int)auth, base + s);
	else if (path > 1 || (path == 1 && rest[0] != '/'))
		n = snprintf(out, cap, "%s", base);
	else
		n = snprintf(out, cap, "%.*s/health%s", (int)(s + auth), base, rest + path);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int wsb_health_ws_url(const char *base, const char *ws_path, char *out, size_t cap)
{
	int tls, ws, n;
	size_t s = scheme_len(base, &tls, &ws), auth, path;
	const char *rest;

	if (!s)
		return -1;
	auth = strcspn(base + s, "/?#");
	if (!auth)
		return -1;
	rest = base + s + auth;
	path = strcspn(rest, "?#");
	if (!ws_path || !*ws_path)
		ws_path = "/ws";
	/* A ws:// URL names the WebSocket path itself; --ws-path other than
	 * the default still wins, since it was asked for. */
	if (ws && path > 1 && !strcmp(ws_path, "/ws"))
		n = snprintf(out, cap, "%s://%.*s%.*s", tls ? "wss" : "ws", (int)auth, base + s, (int)path, rest);
	else
		n = snprintf(out, cap, "%s://%.*s%s", tls ? "wss" : "ws", (int)auth, base + s, ws_path);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

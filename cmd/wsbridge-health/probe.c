#include "probe.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth.h"
#include "diag.h"
#include "envbuf.h"
#include "envelope.h"
#include "log.h"
#include "sys.h"
#include "wsclient.h"

static double now_ms(void)
{
	return (double)wsb_mono_ns() / 1e6;
}

/* ---- HTTP ---- */

struct body {
	struct wsb_buf buf;		/* max: WSB_PROBE_BODY_MAX */
	struct wsb_err err;		/* why the answer could not be held */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t len = size * nmemb;

	/* Returning short makes curl abort with CURLE_WRITE_ERROR. */
	if (wsb_buf_append(&b->buf, data, len, &b->err) < 0)
		return 0;
	return len;
}

static void http_error(struct wsb_health_probe *p, CURLcode rc, const char *errbuf, const struct body *b)
{
	const char *msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		p->http_state = WSB_PROBE_TIMEOUT;
		break;
	case CURLE_WRITE_ERROR:
		if (b->err.code == WSB_EXIT_DATAERR) {
			p->http_state = WSB_PROBE_BAD_ANSWER;
			snprintf(p->http_error, sizeof p->http_error, "answer larger than %d KiB",
				 WSB_PROBE_BODY_MAX / 1024);
			return;
		}
		if (b->err.code) {	/* out of memory: say so, not "unreachable" */
			p->http_state = WSB_PROBE_BAD_ANSWER;
			snprintf(p->http_error, sizeof p->http_error, "cannot hold the answer: %.180s",
				 b->err.msg);
			return;
		}
		p->http_state = WSB_PROBE_UNREACHABLE;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		/* A certificate (or CA file) not trusted is met on every attempt:
		 * the setup to mend, 78, as pub and sub say (WSB_CLIENT_TLS_TRUST).
		 * A failed handshake is also https:// to a plain port, which
		 * url_mistake() tells apart, so it stays unreachable here. */
		p->http_state = rc == CURLE_SSL_CONNECT_ERROR ? WSB_PROBE_UNREACHABLE : WSB_PROBE_MISCONFIGURED;
		snprintf(p->http_error, sizeof p->http_error,
			 "TLS: %.160s (curl %d; trust the server with --cafile FILE, or skip with --insecure)",
			 msg, (int)rc);
		return;
	default:
		/* Refused, unresolvable, reset, empty reply: nobody serves /health there. */
		p->http_state = WSB_PROBE_UNREACHABLE;
		break;
	}
	snprintf(p->http_error, sizeof p->http_error, "%.200s (curl %d)", msg, (int)rc);
}

/* A URL's parts as libcurl reads them; free with url_parts_free. */
struct url_parts {
	CURLU *u;
	char *host, *port, *scheme, *path;
};

static int url_parts(struct url_parts *up, const char *url)
{
	*up = (struct url_parts){ .u = curl_url() };
	if (!up->u || curl_url_set(up->u, CURLUPART_URL, url, 0) || curl_url_get(up->u, CURLUPART_HOST, &up->host, 0) ||
	    curl_url_get(up->u, CURLUPART_PORT, &up->port, CURLU_DEFAULT_PORT) ||
	    curl_url_get(up->u, CURLUPART_SCHEME, &up->scheme, 0) || curl_url_get(up->u, CURLUPART_PATH, &up->path, 0))
		return -1;
	return 0;
}

static void url_parts_free(struct url_parts *up)
{
	curl_free(up->host);
	curl_free(up->port);
	curl_free(up->scheme);
	curl_free(up->path);
	curl_url_cleanup(up->u);
}

/* An answer or a failure that says the URL itself is wrong, in words a
 * user can act on (exit 78, like a WebSocket path with no WebSocket):
 * the TLS port asked for plain HTTP or the other way round, no /health
 * at the path (404), or the path is the broker's WebSocket (426). */
static void url_mistake(const struct wsb_cfg *cfg, const char *url, struct wsb_health_probe *p)
{
	struct url_parts u = { 0 };
	char why[300];
	int ms = cfg->connect_timeout < 2 ? (int)(cfg->connect_timeout * 1000) : 2000;

	if (url_parts(&u, url))
		goto out;
	if (p->http_state == WSB_PROBE_UNREACHABLE &&
	    wsb_diag_connect(u.host, atoi(u.port), !strcmp(u.scheme, "https"), strncmp(cfg->url, "ws", 2), ms, why,
			     sizeof why) == WSB_DIAG_SCHEME) {
		/* The scheme to use is said in the kind the user wrote. */
		p->http_state = WSB_PROBE_MISCONFIGURED;
		snprintf(p->http_error, sizeof p->http_error, "wrong URL: %.100s: %.140s", cfg->url, why);
	} else if (p->http_state == WSB_PROBE_DONE && p->http_code == 404) {
		p->http_state = WSB_PROBE_MISCONFIGURED;
		snprintf(p->http_error, sizeof p->http_error,
			 "wrong URL: no /health at \"%.60s\" (HTTP 404): give the broker's address, %.5s://%.60s:%.5s", u.path,
			 u.scheme, u.host, u.port);
	} else if (p->http_state == WSB_PROBE_DONE && p->http_code == 426) {
		p->http_state = WSB_PROBE_MISCONFIGURED;
		snprintf(p->http_error, sizeof p->http_error,
			 "wrong URL: \"%.40s\" is the broker's WebSocket path (HTTP 426), not its /health: "
			 "give the broker's address, %.5s://%.40s:%.5s, or add --ws", u.path, u.scheme, u.host, u.port);
	}
out:
	url_parts_free(&u);
}

/* Fetches url (already ending in /health) into p (http_* fields) and a
 * malloc'ed body (*body, *len; NULL when there is none). token may be NULL. */
static void probe_http(const struct wsb_cfg *cfg, const char *url, const char *token, double budget_s,
		    struct wsb_health_probe *p, char **body, size_t *len)
{
	char errbuf[CURL_ERROR_SIZE] = "", auth[WSB_TOKEN_MAX + 32], ua[64];
	struct curl_slist *hdrs = NULL;
	struct body b = { .buf = { .max = WSB_PROBE_BODY_MAX } };
	long budget_ms = (long)(budget_s * 1000), conn_ms = (long)(cfg->connect_timeout * 1000);
	curl_off_t t;
	long code = 0;
	CURLcode rc;
	CURL *c;

	*body = NULL;
	*len = 0;
	if (budget_ms < 1)
		budget_ms = 1;
	if (conn_ms < 1 || conn_ms > budget_ms)
		conn_ms = budget_ms;
	if (!(c = curl_easy_init())) {
		p->http_state = WSB_PROBE_UNREACHABLE;
		snprintf(p->http_error, sizeof p->http_error, "cannot start libcurl");
		return;
	}
	snprintf(ua, sizeof ua, "wsbridge-health/%s", WSB_VERSION);
	/* NOSIGNAL: no SIGALRM for DNS timeouts in a process that also runs lws. */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, conn_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, budget_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* A redirect from /health is a misconfiguration to report, not follow. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (cfg->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->cafile);
	if (cfg->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		p->http_state = WSB_PROBE_DONE;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		p->http_code = (int)code;
		if (curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK)
			p->connect_ms = (double)t / 1000;
		if (curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK)
			p->total_ms = (double)t / 1000;
		*body = b.buf.p;
		*len = b.buf.len;
		b.buf.p = NULL;
	} else {
		http_error(p, rc, errbuf, &b);
	}
	url_mistake(cfg, url, p);
	wsb_buf_free(&b.buf);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	/* The Authorization line held the secret. */
	explicit_bzero(auth, sizeof auth);
}

/* ---- WebSocket: ping → pong, canary → delivery ---- */

struct wsp {
	const struct wsb_cfg *cfg;
	struct wsb_client *cl;
	struct wsb_health_probe *p;
	char type[48];			/* "$probe.<hex>" */
	char nonce[40];
	double budget_ms;
	double t_start, t_ping, t_canary;
	int sent, finished;
	struct wsb_buf scan;
};

static void rand_hex(char *out, size_t bytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];

	if (bytes > sizeof r)
		bytes = sizeof r;
	/* Uniqueness, not secrecy, is what the id needs. */
	for (size_t i = 0; i < bytes; i += 8) {
		uint64_t x = wsb_random64();

		memcpy(r + i, &x, bytes - i < 8 ? bytes - i : 8);
	}
	for (size_t i = 0; i < bytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * bytes] = '\0';
}

static int ws_complete(const struct wsp *w)
{
	return (!w->cfg->ws || w->p->ws_ms >= 0) && (!w->cfg->roundtrip || w->p->roundtrip_ms >= 0);
}

/* Sets the outcome once: later events (the close that follows) do not
 * overwrite the first thing that happened. */
__attribute__((format(printf, 3, 4))) static void ws_end(struct wsp *w, int state, const char *fmt, ...)
{
	va_list ap;

	if (w->finished)
		return;
	w->finished = 1;
	w->p->ws_state = state;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(w->p->ws_error, sizeof w->p->ws_error, fmt, ap);
		va_end(ap);
	}
	if (state == WSB_PROBE_DONE) {
		/* Leave politely, but do not let a peer that never answers the
		 * close hold the probe for the rest of the budget. */
		wsb_client_timer(w->cl, 1000);
		wsb_client_close(w->cl);
	} else {
		wsb_client_stop(w->cl);
	}
}

static void ws_opened(void *ud)
{
	struct wsp *w = ud;

	w->p->ws_connect_ms = now_ms() - w->t_start;
	wsb_client_want_write(w->cl);
}

static void ws_writable(void *ud)
{
	struct wsp *w = ud;
	char msg[256], ts[WSB_TS_LEN];
	int n;

	if (w->sent || w->finished)
		return;
	if (w->cfg->ws) {
		if (wsb_client_send(w->cl, "{\"type\":\"ping\"}", 15) <= 0)
			return;
		w->t_ping = now_ms();
	}
	if (w->cfg->roundtrip) {
		wsb_env_timestamp_now(ts);
		n = snprintf(msg, sizeof msg, "{\"type\":\"%s\",\"data\":{\"nonce\":\"%s\",\"sent\":\"%s\"}}",
			     w->type, w->nonce, ts);
		if (wsb_client_send(w->cl, msg, (size_t)n) <= 0)
			return;
		w->t_canary = now_ms();
	}
	w->sent = 1;
}

static int is_our_canary(const struct wsp *w, const char *obj, const struct wsb_env *env)
{
	struct wsb_span sp;
	char nonce[sizeof w->nonce];

	if (strcmp(env->type, w->type) || !env->data.len)
		return 0;
	if (!wsb_env_lookup(obj + env->data.off, env->data.len, "nonce", &sp))
		return 0;
	return wsb_env_string(obj + env->data.off + sp.off, sp.len, nonce, sizeof nonce) >= 0 &&
	       !strcmp(nonce, w->nonce);
}

static void ws_message(void *ud, const char *msg, size_t len)
{
	struct wsp *w = ud;
	struct wsb_env env;
	struct wsb_err e;
	double t = now_ms();
	ssize_t n;

	if (w->finished || !w->sent)
		return;
	n = wsb_envbuf_parse(&w->scan, msg, len, &env, &e);
	if (n == WSB_ENVBUF_NOROOM) {
		ws_end(w, WSB_PROBE_BAD_ANSWER, "%s", e.msg);
		return;
	}
	if (n < 0 || !env.has_type)
		return;
	if (w->cfg->ws && w->p->ws_ms < 0 && !strcmp(env.type, "pong")) {
		w->p->ws_ms = t - w->t_ping;
	} else if (w->cfg->roundtrip && w->p->roundtrip_ms < 0 && is_our_canary(w, w->scan.p, &env)) {
		w->p->roundtrip_ms = t - w->t_canary;
	} else if (!strcmp(env.type, "error") && !env.has_seq) {	/* with a seq: published */
		/* The broker refused the ping or the canary: it will not come back. */
		ws_end(w, WSB_PROBE_BAD_ANSWER, "broker replied %.*s", (int)(len > 150 ? 150 : len), msg);
		return;
	}
	if (ws_complete(w))
		ws_end(w, WSB_PROBE_DONE, NULL);
}

static void ws_closed(void *ud, int code, const char *reason, int64_t retry_ms)
{
	struct wsp *w = ud;

	if (w->finished)
		return;
	if (wsb_client_exit_code(code) == WSB_EXIT_NOPERM)
		ws_end(w, WSB_PROBE_REFUSED, "%s (%d)", reason, code);
	else if (code == 404 || code == WSB_CLIENT_SCHEME || code == WSB_CLIENT_TLS_TRUST)
		ws_end(w, WSB_PROBE_MISCONFIGURED, "%s", reason);	/* 78, as pub and sub */
	else if (w->p->ws_connect_ms >= 0)
		ws_end(w, WSB_PROBE_UNREACHABLE, "closed by the server before the %s came back (%d %s)",
		       w->cfg->roundtrip ? "canary" : "pong", code, reason);
	else
		ws_end(w, WSB_PROBE_UNREACHABLE, "%s%s(%d)", reason, *reason ? " " : "", code);
}

static void ws_timer(void *ud)
{
	struct wsp *w = ud;

	if (w->finished) {
		wsb_client_stop(w->cl);		/* the close handshake took too long */
		return;
	}
	if (w->p->ws_connect_ms < 0)
		ws_end(w, WSB_PROBE_TIMEOUT, "no WebSocket handshake within %.1fs", w->budget_ms / 1000);
	else if (w->cfg->ws && w->p->ws_ms < 0)
		ws_end(w, WSB_PROBE_TIMEOUT, "no pong within %.1fs", w->budget_ms / 1000);
	else
		ws_end(w, WSB_PROBE_TIMEOUT, "the canary did not come back within %.1fs", w->budget_ms / 1000);
}

static void ws_signal(void *ud, int sig)
{
	ws_end(ud, WSB_PROBE_INTERRUPTED, "signal %d", sig);
}

static const struct wsb_client_ops ws_ops = {
	.opened = ws_opened,
	.message = ws_message,
	.writable = ws_writable,
	.closed = ws_closed,
	.timer = ws_timer,
	.signal = ws_signal,
};

static void probe_ws(const struct wsb_cfg *cfg, const char *ws_url, const char *token, double budget_ms,
		     struct wsb_health_probe *p)
{
	char query[256] = "", id[17];
	struct wsp w = { .cfg = cfg, .p = p, .budget_ms = budget_ms };
	struct wsb_client_cfg cc = {
		.url = ws_url,
		.query = query,
		.token = token,
		.retry_min = 0.1,
		.retry_max = 0.1,
		.retries = 0,		/* a probe reports the first failure */
		.ping_interval = 30,
		/* The budget timer below bounds the handshake, and says so. */
		.connect_timeout = budget_ms / 1000 + 1,
		.max_message = (size_t)cfg->max_message,
		.ca_file = cfg->cafile,
		.insecure = cfg->insecure,
	};
	struct wsb_err err = { 0 };

	if (budget_ms < 1) {
		p->ws_state = WSB_PROBE_TIMEOUT;
		snprintf(p->ws_error, sizeof p->ws_error, "no time left after the HTTP probe");
		return;
	}
	rand_hex(id, 8);
	rand_hex(w.nonce, 8);
	snprintf(w.type, sizeof w.type, "$probe.%s", id);
	/* Subscribing to our own probe type only keeps the broker's traffic
	 * off this connection even for --ws alone (no type= means "all"). */
	wsb_client_query_add(query, sizeof query, "type", w.type);
	if (cfg->roundtrip)
		wsb_client_query_add(query, sizeof query, "echo", "1");
	w.cl = wsb_client_new(&cc, &ws_ops, &w, &err);
	if (!w.cl) {
		p->ws_state = WSB_PROBE_UNREACHABLE;
		snprintf(p->ws_error, sizeof p->ws_error, "%s", err.msg);
		return;
	}
	w.t_start = now_ms();
	wsb_client_timer(w.cl, (int64_t)budget_ms);
	if (wsb_client_run(w.cl, &err) && !w.finished) {
		p->ws_state = WSB_PROBE_UNREACHABLE;
		snprintf(p->ws_error, sizeof p->ws_error, "%s", err.msg);
	}
	if (!w.finished && p->ws_state == WSB_PROBE_NOT_RUN) {
		p->ws_state = WSB_PROBE_UNREACHABLE;
		snprintf(p->ws_error, sizeof p->ws_error, "connection ended");
	}
	wsb_client_free(w.cl);
	wsb_buf_free(&w.scan);
}

/* ---- one run, and the watch loop ---- */

struct run {
	const struct wsb_cfg *cfg;
	FILE *out;
	double budget;			/* seconds for one probe: --timeout, less near --wait's end */
	int silent;			/* --wait: judge only, no output */
	int human;			/* --watch on a terminal: a line for a person */
	int tty;			/* stdout is a terminal: the verdict is seen there */
	int last_level;			/* of the previous probe, -1 before the first */
	char last_reason[WSB_ERR_LEN];
	double prev_in, prev_out, prev_t;	/* messages_in/out at the previous probe */
	char url[2048], ws_url[2048];
	char token[WSB_TOKEN_MAX];
	int has_token;
	struct wsb_health_limits limits;
	char *line;
	size_t line_cap;
};

/* --watch on a terminal: rates from the change since the previous probe. */
static size_t render_human(struct run *r, const struct wsb_health *h, const struct wsb_health_verdict *v)
{
	double t = now_ms(), in = -1, out = -1;
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;
	int known = h && h->valid && (h->have & (1u << WSB_HF_MESSAGES_IN)) &&
		    (h->have & (1u << WSB_HF_MESSAGES_OUT));

	strftime(clock, sizeof clock, "%H:%M:%S", localtime_r(&now, &tm));
	if (known && r->prev_t > 0 && t > r->prev_t) {
		in = (h->v[WSB_HF_MESSAGES_IN] - r->prev_in) * 1000 / (t - r->prev_t);
		out = (h->v[WSB_HF_MESSAGES_OUT] - r->prev_out) * 1000 / (t - r->prev_t);
	}
	r->prev_t = known ? t : 0;
	if (known) {
		r->prev_in = h->v[WSB_HF_MESSAGES_IN];
		r->prev_out = h->v[WSB_HF_MESSAGES_OUT];
	}
	return wsb_health_render_human(r->line, r->line_cap, h, v, in < 0 ? -1 : in, out < 0 ? -1 : out, clock);
}

/* A failure is one line on stderr too, for cron and scripts whose stdout
 * goes to a file or nowhere; once per change while watching. */
static void say_failure(struct run *r, const struct wsb_health_verdict *v)
{
	const char *why = v->n_reasons ? v->reasons[0] : "";

	if (v->level == WSB_HEALTH_OK || r->silent || (r->tty && !r->cfg->quiet))
		return;
	if (r->cfg->watch > 0 && v->level == r->last_level && !strcmp(why, r->last_reason))
		return;
	wsb_log(WSB_LOG_ERROR, "%s: %s", wsb_health_level_name(v->level), why);
}

static int emit(struct run *r, const struct wsb_health *h, const struct wsb_health_probe *p,
		const struct wsb_health_verdict *v)
{
	char ts[WSB_TS_LEN];
	struct timespec now;
	size_t need;

	clock_gettime(CLOCK_REALTIME, &now);
	wsb_env_timestamp(ts, &now);
	for (;;) {
		switch (r->human ? -1 : (int)r->cfg->health_format) {
		case -1:
			need = render_human(r, h, v);
			break;
		case WSB_HEALTH_PROMETHEUS:
			need = wsb_health_render_prometheus(r->line, r->line_cap, h, p, v,
							    (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
			break;
		case WSB_HEALTH_NAGIOS:
			need = wsb_health_render_nagios(r->line, r->line_cap, h, p, &r->limits, v);
			break;
		default:
			need = wsb_health_render_json(r->line, r->line_cap, h, p, v, r->url, ts);
			break;
		}
		if (need < r->line_cap)
			break;
		free(r->line);
		r->line_cap = need + 1;
		if (!(r->line = malloc(r->line_cap))) {
			r->line_cap = 0;
			return -1;
		}
	}
	if (fputs(r->line, r->out) == EOF || fflush(r->out) == EOF)
		return -1;
	return 0;
}

/* --ws with an http(s) URL whose path is the broker's WebSocket (it
 * answered 426): that path is the one to open, /health the one to fetch,
 * as a ws:// URL with that path would say. 0 when both URLs changed. */
static int ws_path_from_url(struct run *r)
{
	struct url_parts u = { 0 };
	int n = -1;

	if (strcmp(r->cfg->ws_path, "/ws") || url_parts(&u, r->url))
		goto out;
	n = snprintf(r->ws_url, sizeof r->ws_url, "%s://%s:%s%s", strcmp(u.scheme, "https") ? "ws" : "wss", u.host,
		     u.port, u.path);
	if (n > 0 && (size_t)n < sizeof r->ws_url)
		n = snprintf(r->url, sizeof r->url, "%s://%s:%s/health", u.scheme, u.host, u.port);
	n = n > 0 && (size_t)n < sizeof r->url ? 0 : -1;
out:
	url_parts_free(&u);
	return n;
}

static int probe_once(struct run *r, int *exit_code)
{
	const struct wsb_cfg *cfg = r->cfg;
	struct wsb_health_probe p;
	struct wsb_health h;
	struct wsb_health_verdict v;
	struct wsb_err e = { 0 };
	double t0 = now_ms(), left;
	char *body;
	size_t len;
	int parsed = 0;

	wsb_health_probe_init(&p);
	memset(&h, 0, sizeof h);
	probe_http(cfg, r->url, r->has_token ? r->token : NULL, r->budget, &p, &body, &len);
	if ((cfg->ws || cfg->roundtrip) && p.http_state == WSB_PROBE_MISCONFIGURED && p.http_code == 426 &&
	    !ws_path_from_url(r)) {
		free(body);
		wsb_health_probe_init(&p);
		probe_http(cfg, r->url, r->has_token ? r->token : NULL, r->budget, &p, &body, &len);
	}
	if (p.http_state == WSB_PROBE_DONE) {
		parsed = !wsb_health_parse(body ? body : "", len, &h, &e);
		if (!parsed)
			snprintf(p.http_error, sizeof p.http_error, "%s", e.msg);
	}
	free(body);
	/* The WebSocket tells something even when /health says "stopping";
	 * but with no HTTP answer at all it would only repeat the failure. */
	if ((cfg->ws || cfg->roundtrip) && p.http_state == WSB_PROBE_DONE) {
		left = r->budget * 1000 - (now_ms() - t0);
		probe_ws(cfg, r->ws_url, r->has_token ? r->token : NULL, left, &p);
	}
	wsb_health_evaluate(parsed ? &h : NULL, &p, &r->limits, &v);
	*exit_code = cfg->health_format == WSB_HEALTH_NAGIOS ? v.level : v.exit_code;
	say_failure(r, &v);
	r->last_level = v.level;
	snprintf(r->last_reason, sizeof r->last_reason, "%s", v.n_reasons ? v.reasons[0] : "");
	r->line_cap = r->line_cap ? r->line_cap : 8192;
	if (!r->line && !(r->line = malloc(r->line_cap)))
		return -1;
	/* -q, for cron: nothing when healthy, and with the JSON format only
	 * the one stderr line when not (cron mails stdout too); a monitoring
	 * plugin's or a textfile's output still goes out. */
	if (r->silent || (cfg->quiet && (v.level == WSB_HEALTH_OK || cfg->health_format == WSB_HEALTH_JSON)))
		parsed = 0;
	else
		parsed = emit(r, parsed ? &h : NULL, &p, &v);
	wsb_health_free(&h);
	return parsed;
}

/* Sleeps until the next slot or a SIGINT/SIGTERM; returns the signal or 0.
 * The signals stay blocked for the whole loop and are taken here with
 * sigtimedwait, so one that lands during a probe is not lost: the probe
 * finishes (it is bounded) and the loop ends at once. */
static int wait_slot(const sigset_t *set, double until_ms)
{
	for (;;) {
		double left = until_ms - now_ms();
		struct timespec ts;
		int sig;

		if (left <= 0)
			left = 0;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1000) * 1e6);
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
	}
}

#define WAIT_PERIOD_MS 200

/* --wait: probe quietly every WAIT_PERIOD_MS until the broker is healthy,
 * then once more out loud (0); at the deadline or a signal one stderr line
 * says why it is not, and the status is 75. Each probe fits in what is
 * left of the wait. */
static int wait_healthy(struct run *r, const sigset_t *set, int *rc)
{
	double end = now_ms() + r->cfg->wait * 1000, next;
	int level = -1;

	r->silent = 1;
	for (;;) {
		double left = (end - now_ms()) / 1000;

		r->budget = left < r->cfg->timeout ? (left > 0.05 ? left : 0.05) : r->cfg->timeout;
		next = now_ms() + WAIT_PERIOD_MS;
		if (probe_once(r, rc))
			return -1;
		level = r->last_level;
		if (level == WSB_HEALTH_OK || now_ms() >= end || wait_slot(set, next < end ? next : end))
			break;
	}
	r->silent = 0;
	r->budget = r->cfg->timeout;
	if (level != WSB_HEALTH_OK) {
		wsb_log(WSB_LOG_ERROR, "not healthy within --wait %gs: %s", r->cfg->wait, r->last_reason);
		*rc = WSB_EXIT_TEMPFAIL;
		return 0;
	}
	return probe_once(r, rc);
}

int wsb_probe_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	struct run r = { .cfg = cfg, .out = stdout, .budget = cfg->timeout, .last_level = -1 };
	int rc = WSB_EXIT_SOFTWARE, got, nagios = cfg->health_format == WSB_HEALTH_NAGIOS;
	sigset_t set, old;
	double next;

	wsb_health_limits_init(&r.limits);
	r.limits.warn_latency_ms = cfg->warn_latency;
	r.limits.crit_latency_ms = cfg->crit_latency;
	r.limits.min_subscribers = (int64_t)cfg->min_subscribers;
	r.limits.max_slow_consumers = cfg->max_slow_consumers;
	r.limits.max_dropped = cfg->max_dropped;
	if (wsb_health_url(cfg->url, r.url, sizeof r.url) ||
	    wsb_health_ws_url(cfg->url, cfg->ws_path, r.ws_url, sizeof r.ws_url)) {
		wsb_err_set(err, WSB_EXIT_USAGE, "--url '%s' is not a usable http(s) URL", cfg->url);
		return wsb_err_exit(err, nagios ? WSB_HEALTH_UNKNOWN : WSB_EXIT_USAGE);
	}
	got = wsb_auth_load(cfg->token, cfg->token_file, r.token, err);
	if (got < 0)
		return wsb_err_exit(err, nagios ? WSB_HEALTH_UNKNOWN : err->code);
	r.has_token = got > 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		wsb_err_set(err, WSB_EXIT_SOFTWARE, "cannot initialise libcurl");
		return wsb_err_exit(err, nagios ? WSB_HEALTH_UNKNOWN : WSB_EXIT_SOFTWARE);
	}
	r.tty = isatty(fileno(r.out));
	r.human = r.tty && cfg->watch > 0 && cfg->health_format == WSB_HEALTH_JSON;
	if (cfg->watch <= 0 && cfg->wait <= 0) {
		if (probe_once(&r, &rc))
			goto write_failed;
		goto done;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (cfg->wait > 0) {
		got = wait_healthy(&r, &set, &rc);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (got)
			goto write_failed;
		goto done;
	}
	next = now_ms();
	for (;;) {
		if (probe_once(&r, &rc)) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			goto write_failed;
		}
		/* Slots on a fixed grid: a slow probe delays one line, not all
		 * that follow; a probe longer than the period skips slots. */
		next += cfg->watch * 1000;
		if (next < now_ms())
			next = now_ms();
		if (wait_slot(&set, next))
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	goto done;
write_failed:
	/* A reader that went away (| head -1) ends a watch normally. */
	if (errno != EPIPE) {
		wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot write the result");
		rc = nagios ? WSB_HEALTH_UNKNOWN : WSB_EXIT_IOERR;
	}
done:
	free(r.line);
	explicit_bzero(r.token, sizeof r.token);
	curl_global_cleanup();
	return wsb_err_exit(err, rc);
}

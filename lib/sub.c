#include "sub.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "lineio.h"
#include "log.h"
#include "match.h"
#include "wsclient.h"

struct sub {
	const struct wsb_cfg *cfg;
	struct wsb_client *cl;
	char *scan;			/* wsb_env_parse output (discarded) */
	size_t scan_cap;
	uint64_t got;
	char *out;			/* lines not yet written */
	size_t out_len, out_cap;
	int out_failed;
	int rc;
	struct wsb_err *err;
};

/* Types the broker speaks to us about the connection itself. */
static int is_control(const char *type)
{
	return !strcmp(type, "connection_established") || !strcmp(type, "pong") ||
	       !strcmp(type, "subscribed") || !strcmp(type, "error");
}

/* Output is gathered while one network read is processed and written with
 * one write(2) right after (wsb_client_defer): each message still leaves
 * before the next read, but a burst costs one syscall, not one per line. */
#define OUT_FLUSH 65536

static int flush(struct sub *s)
{
	if (!s->out_len || s->out_failed)
		return s->out_failed ? -1 : 0;
	if (wsb_write_all(1, s->out, s->out_len)) {
		s->out_failed = 1;
		s->out_len = 0;
		/* A reader that went away (| head -1) is a normal end. */
		if (errno == EPIPE) {
			if (!s->rc)
				s->rc = WSB_EXIT_OK;
		} else {
			wsb_err_errno(s->err, WSB_EXIT_IOERR, errno, "cannot write to stdout");
			if (!s->rc)
				s->rc = WSB_EXIT_IOERR;
		}
		wsb_client_stop(s->cl);
		return -1;
	}
	s->out_len = 0;
	return 0;
}

static void finish(struct sub *s, int rc)
{
	flush(s);
	if (!s->rc)
		s->rc = rc;
	wsb_client_stop(s->cl);
}

static void deferred(void *ud)
{
	flush(ud);
}

static int emit(struct sub *s, const char *msg, size_t len)
{
	if (s->out_failed)
		return -1;
	if (s->out_len + len + 1 > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap : OUT_FLUSH * 2;
		char *p;

		if (flush(s))
			return -1;
		while (cap < len + 1)
			cap *= 2;
		if (cap != s->out_cap) {
			if (!(p = realloc(s->out, cap))) {
				wsb_err_set(s->err, WSB_EXIT_OSERR, "out of memory");
				finish(s, WSB_EXIT_OSERR);
				return -1;
			}
			s->out = p;
			s->out_cap = cap;
		}
	}
	memcpy(s->out + s->out_len, msg, len);
	s->out[s->out_len + len] = '\n';
	s->out_len += len + 1;
	if (s->out_len >= OUT_FLUSH)
		return flush(s);
	wsb_client_defer(s->cl);
	return 0;
}

static void message(void *ud, const char *msg, size_t len)
{
	struct sub *s = ud;
	struct wsb_env env;
	struct wsb_err e;

	if (s->rc)
		return;
	if (len > s->scan_cap) {
		char *p = realloc(s->scan, len);

		if (!p)
			return;
		s->scan = p;
		s->scan_cap = len;
	}
	if (wsb_env_parse(msg, len, s->scan, NULL, &env, &e) < 0 || !env.has_type) {
		wsb_log(WSB_LOG_WARN, "ignored a message that is not a wsbridge envelope");
		return;
	}
	if (is_control(env.type)) {
		if (!strcmp(env.type, "error"))
			wsb_log(WSB_LOG_WARN, "broker error: %.*s", (int)(len > 300 ? 300 : len), msg);
		if (s->cfg->control)
			emit(s, msg, len);
		return;
	}
	/* The broker filters too; checking here keeps output exact even if a
	 * broker sends more than we asked for. */
	if (s->cfg->types.n) {
		size_t i;

		for (i = 0; i < s->cfg->types.n; i++)
			if (wsb_match_glob(s->cfg->types.v[i], env.type))
				break;
		if (i == s->cfg->types.n)
			return;
	}
	if (emit(s, msg, len))
		return;
	if (s->cfg->count && ++s->got >= s->cfg->count)
		finish(s, WSB_EXIT_OK);
}

static void opened(void *ud)
{
	struct sub *s = ud;

	wsb_log(WSB_LOG_INFO, "connected to %s", s->cfg->url);
}

static void writable(void *ud)
{
}

static void closed(void *ud, int code, const char *reason, int64_t retry_ms)
{
	struct sub *s = ud;

	if (retry_ms >= 0) {
		wsb_log(WSB_LOG_WARN, "disconnected (%d %s); retrying in %.1fs", code, reason,
			(double)retry_ms / 1000);
		return;
	}
	if (s->rc)
		return;
	wsb_err_set(s->err, wsb_client_exit_code(code), "%s (%d %s)",
		    wsb_client_exit_code(code) == WSB_EXIT_NOPERM ? "refused by the broker" : "giving up",
		    code, reason);
	finish(s, wsb_client_exit_code(code));
}

static void timer(void *ud)
{
	struct sub *s = ud;

	if (s->cfg->count) {
		wsb_err_set(s->err, WSB_EXIT_TEMPFAIL, "timeout: %" PRIu64 " of %" PRIu64 " messages in %gs",
			    s->got, s->cfg->count, s->cfg->timeout);
		finish(s, WSB_EXIT_TEMPFAIL);
		return;
	}
	finish(s, WSB_EXIT_OK);
}

static void on_signal(void *ud, int sig)
{
	finish(ud, WSB_EXIT_OK);
}

static const struct wsb_client_ops ops = {
	.opened = opened,
	.message = message,
	.writable = writable,
	.closed = closed,
	.timer = timer,
	.signal = on_signal,
	.deferred = deferred,
};

int wsb_sub_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	char query[4096] = "";
	struct sub s = { .cfg = cfg, .err = err };
	struct wsb_client_cfg ccfg = {
		.url = cfg->url,
		.token = cfg->token,
		.token_file = cfg->token_file,
		.retry_min = cfg->retry_min,
		.retry_max = cfg->retry_max,
		.retries = cfg->retries,
		.ping_interval = 30,
		.query = query,
	};
	int r;

	for (size_t i = 0; i < cfg->types.n; i++) {
		if (!wsb_match_pattern_ok(cfg->types.v[i], err)) {
			err->code = WSB_EXIT_USAGE;
			return WSB_EXIT_USAGE;
		}
		if (wsb_client_query_add(query, sizeof query, "type", cfg->types.v[i]))
			return wsb_err_set(err, WSB_EXIT_USAGE, "too many --type patterns"), WSB_EXIT_USAGE;
	}
	if (cfg->echo && wsb_client_query_add(query, sizeof query, "echo", "1"))
		return wsb_err_set(err, WSB_EXIT_USAGE, "too many --type patterns"), WSB_EXIT_USAGE;
	s.cl = wsb_client_new(&ccfg, &ops, &s, err);
	if (!s.cl)
		return err->code;
	if (cfg->timeout > 0)
		wsb_client_timer(s.cl, (int64_t)(cfg->timeout * 1000));
	if (wsb_client_run(s.cl, err)) {
		r = err->code;
	} else {
		flush(&s);
		r = s.rc;
	}
	wsb_client_free(s.cl);
	free(s.scan);
	free(s.out);
	return r;
}

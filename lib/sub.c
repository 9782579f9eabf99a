#include "sub.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "envelope.h"
#include "log.h"
#include "match.h"
#include "wsclient.h"

struct sub {
	const struct wsb_cfg *cfg;
	struct wsb_client *cl;
	char *scan;			/* wsb_env_parse output (discarded) */
	size_t scan_cap;
	uint64_t got;
	int rc;
	struct wsb_err *err;
};

/* Types the broker speaks to us about the connection itself. */
static int is_control(const char *type)
{
	return !strcmp(type, "connection_established") || !strcmp(type, "pong") ||
	       !strcmp(type, "subscribed") || !strcmp(type, "error");
}

static void finish(struct sub *s, int rc)
{
	if (!s->rc)
		s->rc = rc;
	wsb_client_stop(s->cl);
}

static int emit(struct sub *s, const char *msg, size_t len)
{
	struct iovec iov[2] = { { (void *)msg, len }, { "\n", 1 } };
	size_t want = len + 1;

	for (;;) {
		ssize_t n = writev(1, iov, 2);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* A reader that went away (| head -1) is a normal end. */
			if (errno == EPIPE) {
				finish(s, WSB_EXIT_OK);
			} else {
				wsb_err_errno(s->err, WSB_EXIT_IOERR, errno, "cannot write to stdout");
				finish(s, WSB_EXIT_IOERR);
			}
			return -1;
		}
		if ((size_t)n == want)
			return 0;
		/* Short write: finish the line byte-exact. */
		want -= (size_t)n;
		if ((size_t)n < iov[0].iov_len) {
			iov[0].iov_base = (char *)iov[0].iov_base + n;
			iov[0].iov_len -= (size_t)n;
		} else {
			iov[1].iov_base = (char *)iov[1].iov_base + ((size_t)n - iov[0].iov_len);
			iov[1].iov_len -= (size_t)n - iov[0].iov_len;
			iov[0].iov_len = 0;
		}
	}
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
	r = wsb_client_run(s.cl, err) ? err->code : s.rc;
	wsb_client_free(s.cl);
	free(s.scan);
	return r;
}

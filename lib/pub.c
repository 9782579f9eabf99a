#include "pub.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "lineio.h"
#include "log.h"
#include "msgq.h"
#include "wsclient.h"

struct pub {
	const struct wsb_cfg *cfg;
	struct wsb_client *cl;
	struct wsb_msgq *q;
	struct wsb_lines lines;
	char *buf;			/* one envelope being built */
	size_t buf_cap;
	char type_member[WSB_TYPE_MAX * 6 + 16];	/* "type":"T", pre-escaped */
	int next_file;			/* next operand to open */
	const char *in_name;		/* for messages: "stdin" or the file */
	int in_fd;
	int input_done;			/* every input fully read and queued */
	int stopping;			/* signal: no more input */
	uint64_t id, sent, skipped, dropped;
	int rc;
	struct wsb_err *err;
};

static void finish(struct pub *p, int rc)
{
	if (!p->rc)
		p->rc = rc;
	wsb_client_stop(p->cl);
}

static int queue_room(const struct pub *p)
{
	return p->cfg->drop_oldest || wsb_msgq_count(p->q) < p->cfg->queue;
}

static void maybe_close(struct pub *p)
{
	if ((p->input_done || p->stopping) && !wsb_msgq_count(p->q))
		wsb_client_close(p->cl);
}

static int bad_line(struct pub *p, uint64_t lineno, const char *why)
{
	wsb_log(WSB_LOG_WARN, "%s:%" PRIu64 ": %s%s", p->in_name, lineno, why,
		p->cfg->strict ? "" : " (skipped)");
	p->skipped++;
	if (p->cfg->strict) {
		wsb_err_set(p->err, WSB_EXIT_DATAERR, "%s", "");
		p->stopping = 1;
		if (!p->rc)
			p->rc = WSB_EXIT_DATAERR;
		maybe_close(p);
		return -1;
	}
	return 0;
}

/* Turns one input line into the message to send, in p->buf. Returns its
 * length, 0 to skip it, -1 to stop. */
static ssize_t envelope(struct pub *p, const char *line, size_t len, uint64_t lineno)
{
	struct wsb_env env;
	struct wsb_err e;
	ssize_t n;
	size_t tl = strlen(p->type_member);
	char *body;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	if (p->cfg->raw) {
		size_t need = wsb_json_escape(NULL, 0, line, len);

		n = snprintf(p->buf, p->buf_cap, "{%s\"data\":", p->type_member);
		wsb_json_escape(p->buf + n, p->buf_cap - (size_t)n, line, len);
		n += (ssize_t)need;
		p->buf[n++] = '}';
		return n;
	}
	/* Leave room in front to splice "type":"T", into objects without one. */
	body = p->buf + tl;
	n = wsb_env_parse(line, len, body, NULL, &env, &e);
	if (n < 0)
		return bad_line(p, lineno, e.msg);
	if (!env.has_type && !p->cfg->type)
		return bad_line(p, lineno, "no string \"type\" (give one with --type)");
	if (env.has_type && !wsb_env_type_ok(env.type, env.type_len, &e))
		return bad_line(p, lineno, e.msg);
	if (env.has_type) {
		memmove(p->buf, body, (size_t)n);
		return n;
	}
	/* body is "{...}": becomes {"type":"T",...} or {"type":"T"} */
	p->buf[0] = '{';
	memcpy(p->buf + 1, p->type_member, tl);
	if (n == 2) {
		p->buf[tl] = '}';	/* overwrite the trailing ',' */
		return (ssize_t)tl + 1;
	}
	/* body[0] was '{' and sits at p->buf[tl]; the member ends in ',' at tl. */
	memmove(p->buf + 1 + tl, body + 1, (size_t)n - 1);
	return (ssize_t)(tl + (size_t)n);
}

static void take_lines(struct pub *p)
{
	const char *line;
	size_t len;
	uint64_t lineno;
	int r;

	while (!p->stopping && queue_room(p) && (r = wsb_lines_next(&p->lines, &line, &len, &lineno))) {
		ssize_t n;

		if (r == WSB_LINE_TOOLONG) {
			if (bad_line(p, lineno, "line longer than --max-line"))
				return;
			continue;
		}
		n = envelope(p, line, len, lineno);
		if (n < 0)
			return;
		if (!n)
			continue;
		if (wsb_msgq_count(p->q) >= p->cfg->queue && wsb_msgq_drop_first(p->q))
			p->dropped++;
		if (wsb_msgq_push(p->q, p->buf, (size_t)n, ++p->id)) {
			wsb_err_set(p->err, WSB_EXIT_OSERR, "out of memory");
			finish(p, WSB_EXIT_OSERR);
			return;
		}
	}
	if (wsb_msgq_unsent(p->q))
		wsb_client_want_write(p->cl);
}

static int open_next(struct pub *p)
{
	const struct wsb_cfg *cfg = p->cfg;
	int fd;

	if (p->next_file >= cfg->n_operands)
		return 0;
	p->in_name = cfg->operands[p->next_file++];
	if (!strcmp(p->in_name, "-")) {
		fd = 0;
		p->in_name = "stdin";
	} else if ((fd = open(p->in_name, O_RDONLY | O_CLOEXEC)) < 0) {
		wsb_err_errno(p->err, WSB_EXIT_NOINPUT, errno, "cannot open %s", p->in_name);
		return -1;
	}
	p->in_fd = fd;
	wsb_lines_free(&p->lines);
	if (wsb_lines_init(&p->lines, p->cfg->max_line) || wsb_client_input(p->cl, fd, p->err))
		return -1;
	return 1;
}

static char *in_buf(void *ud, size_t *room)
{
	struct pub *p = ud;

	take_lines(p);
	if (p->stopping || !queue_room(p)) {
		*room = 0;
		return NULL;
	}
	*room = wsb_lines_room(&p->lines);
	return wsb_lines_wptr(&p->lines);
}

static void in_data(void *ud, size_t n)
{
	struct pub *p = ud;
	int r;

	if (n) {
		wsb_lines_commit(&p->lines, n);
		take_lines(p);
		return;
	}
	wsb_lines_eof(&p->lines);
	take_lines(p);
	if (!wsb_lines_done(&p->lines))
		return;		/* the rest is taken as the queue drains */
	if (p->in_fd > 0)
		close(p->in_fd);
	p->in_fd = -1;
	r = open_next(p);
	if (r < 0) {
		finish(p, p->err->code);
		return;
	}
	if (!r) {
		p->input_done = 1;
		maybe_close(p);
	}
}

static void in_error(void *ud, int errnum)
{
	struct pub *p = ud;

	wsb_err_errno(p->err, WSB_EXIT_IOERR, errnum, "cannot read %s", p->in_name);
	finish(p, WSB_EXIT_IOERR);
}

static void opened(void *ud)
{
	struct pub *p = ud;

	wsb_log(WSB_LOG_INFO, "connected to %s", p->cfg->url);
	if (wsb_msgq_unsent(p->q))
		wsb_client_want_write(p->cl);
}

static void writable(void *ud)
{
	struct pub *p = ud;
	const char *data;
	size_t len;
	uint64_t id;

	while (wsb_msgq_peek(p->q, &data, &len, &id)) {
		if (!wsb_client_send(p->cl, data, len))
			break;
		wsb_msgq_advance(p->q);
		/* Without acknowledgements a line is done once handed to the socket. */
		wsb_msgq_release(p->q, id);
		p->sent++;
	}
	if (wsb_msgq_unsent(p->q))
		wsb_client_want_write(p->cl);
	/* Room again: pull buffered lines, then wake the reader. */
	take_lines(p);
	if (!p->input_done && !p->stopping && queue_room(p))
		wsb_client_input_resume(p->cl);
	if (p->input_done && !wsb_lines_done(&p->lines))
		;
	else if (!p->input_done && wsb_lines_done(&p->lines) && p->in_fd < 0)
		p->input_done = 1;
	maybe_close(p);
}

static void message(void *ud, const char *msg, size_t len)
{
	struct wsb_env env;
	struct wsb_span v;
	char *copy = malloc(len);
	char text[512] = "";

	if (!copy)
		return;
	if (wsb_env_parse(msg, len, copy, NULL, &env, NULL) > 0 && env.has_type &&
	    !strcmp(env.type, "error")) {
		if (wsb_env_lookup(copy, len, "data", &v)) {
			struct wsb_span m;

			if (wsb_env_lookup(copy + v.off, v.len, "message", &m))
				wsb_env_string(copy + v.off + m.off, m.len, text, sizeof text);
		}
		wsb_log(WSB_LOG_WARN, "the broker refused a message: %s", text[0] ? text : "(no reason)");
	}
	free(copy);
}

static void closed(void *ud, int code, const char *reason, int64_t retry_ms)
{
	struct pub *p = ud;
	size_t left = wsb_msgq_count(p->q);

	if (retry_ms >= 0) {
		wsb_log(WSB_LOG_WARN, "disconnected (%d %s); retrying in %.1fs with %zu lines queued", code, reason,
			(double)retry_ms / 1000, left);
		return;
	}
	if ((p->input_done || p->stopping) && !left) {
		finish(p, WSB_EXIT_OK);
		return;
	}
	if (code == 1000 && p->rc) {
		finish(p, p->rc);
		return;
	}
	wsb_err_set(p->err, wsb_client_exit_code(code), "%s (%d %s); %zu lines not sent",
		    wsb_client_exit_code(code) == WSB_EXIT_NOPERM ? "refused by the broker" : "giving up",
		    code, reason, left);
	finish(p, wsb_client_exit_code(code));
}

static void on_signal(void *ud, int sig)
{
	struct pub *p = ud;

	if (p->stopping || !wsb_client_is_open(p->cl) || !wsb_msgq_count(p->q)) {
		if (wsb_msgq_count(p->q))
			wsb_err_set(p->err, WSB_EXIT_TEMPFAIL, "interrupted; %zu lines not sent",
				    wsb_msgq_count(p->q));
		finish(p, wsb_msgq_count(p->q) ? WSB_EXIT_TEMPFAIL : WSB_EXIT_OK);
		return;
	}
	/* First signal: stop reading, send what is queued, close. */
	p->stopping = 1;
	maybe_close(p);
}

static const struct wsb_client_ops ops = {
	.opened = opened,
	.message = message,
	.writable = writable,
	.closed = closed,
	.in_buf = in_buf,
	.in_data = in_data,
	.in_error = in_error,
	.signal = on_signal,
};

int wsb_pub_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	static char *stdin_operand[] = { "-" };
	struct wsb_cfg c2 = *cfg;
	struct wsb_client_cfg ccfg = {
		.url = cfg->url,
		.token = cfg->token,
		.token_file = cfg->token_file,
		.retry_min = cfg->retry_min,
		.retry_max = cfg->retry_max,
		.retries = cfg->retries,
		.ping_interval = 30,
		/* A publisher listens to nothing, so other publishers' traffic
		 * is not sent to it; with --echo it sees its own messages. */
		.query = cfg->echo ? "echo=1" : "subscribe=none",
	};
	struct pub p = { .cfg = &c2, .err = err, .in_fd = -1 };
	struct wsb_err e2;
	int r;

	if (!c2.n_operands) {
		c2.operands = stdin_operand;
		c2.n_operands = 1;
	}
	if (cfg->type) {
		size_t n;

		if (!wsb_env_type_ok(cfg->type, strlen(cfg->type), &e2))
			return wsb_err_set(err, WSB_EXIT_USAGE, "--type: %s", e2.msg);
		memcpy(p.type_member, "\"type\":", 7);
		n = 7 + wsb_json_escape(p.type_member + 7, sizeof p.type_member - 8, cfg->type, strlen(cfg->type));
		p.type_member[n] = ',';
		p.type_member[n + 1] = '\0';
	}
	/* Worst case of --raw: every byte escaped as \u00XX. */
	p.buf_cap = cfg->max_line * 6 + sizeof p.type_member + 16;
	p.buf = malloc(p.buf_cap);
	p.q = wsb_msgq_new();
	if (!p.buf || !p.q) {
		r = wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		goto out;
	}
	p.cl = wsb_client_new(&ccfg, &ops, &p, err);
	if (!p.cl || open_next(&p) < 0) {
		r = err->code;
		goto out;
	}
	if (wsb_client_run(p.cl, err)) {
		r = err->code;
		goto out;
	}
	r = p.rc;
	wsb_log(WSB_LOG_INFO, "sent %" PRIu64 " messages", p.sent);
	if (p.dropped)
		wsb_log(WSB_LOG_WARN, "dropped %" PRIu64 " oldest lines (--drop-oldest)", p.dropped);
	if (p.skipped && !cfg->strict)
		wsb_log(WSB_LOG_WARN, "skipped %" PRIu64 " invalid lines", p.skipped);
out:
	if (p.in_fd > 0)
		close(p.in_fd);
	wsb_client_free(p.cl);
	wsb_lines_free(&p.lines);
	wsb_msgq_free(p.q);
	free(p.buf);
	return r;
}

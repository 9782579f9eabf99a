#include "pub.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envbuf.h"
#include "envelope.h"
#include "jqfilter.h"
#include "lineio.h"
#include "log.h"
#include "msgq.h"
#include "producers.h"
#include "resume.h"
#include "sys.h"
#include "wsclient.h"

/* Each queued record starts with where its line came from (operand index,
 * line number), so the first unacknowledged line can be named at the end;
 * the message itself follows. */
#define REC_FILE 4u
#define REC_LINE 8u
#define REC_HDR (REC_FILE + REC_LINE)

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
	int eof_pending;		/* input at EOF, lines still buffered */
	int input_done;			/* every input fully read and queued */
	int stopping;			/* signal: no more input */
	int lingering;			/* the --linger deadline is set */
	char producer[WSB_PRODUCER_ID_MAX + 1];
	char query[256];		/* producer=ID&subscribe=none (or echo=1) */
	/* The secret the first greeting issued for our id: every reconnect
	 * presents it, or the broker refuses the id (docs/protocol.md). */
	char secret[WSB_SECRET_HEX + 1];
	/* The greeting of the current connection was seen: only then is it
	 * known what the server already has (accepted) and whether it
	 * acknowledges at all. */
	int ready;
	int down;			/* a connection attempt failed: --drop-oldest applies */
	int acks;			/* the server acknowledges (greeting named us) */
	int warned_noack;
	struct wsb_buf scan;		/* parse buffer for inbound frames */
	uint64_t id, sent, skipped, dropped;
	struct wsb_jqf *jq;		/* --jq and --type-from, as one program */
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
	/* --drop-oldest only while the broker is away; connected, a full
	 * queue pushes back on the input like any other time. */
	return wsb_msgq_count(p->q) < p->cfg->queue || (p->cfg->drop_oldest && p->down);
}

static void maybe_close(struct pub *p)
{
	if ((p->input_done || p->stopping) && !wsb_msgq_count(p->q))
		wsb_client_close(p->cl);
}

/* No more input will come: what is queued has --linger to be acknowledged. */
static void start_linger(struct pub *p)
{
	if (p->lingering || p->cfg->linger <= 0)
		return;
	p->lingering = 1;
	wsb_client_timer(p->cl, (int64_t)(p->cfg->linger * 1000 + 0.5));
}

static uint64_t inflight(const struct pub *p)
{
	return wsb_msgq_count(p->q) - wsb_msgq_unsent(p->q);
}

/* "N lines not acknowledged, first: FILE:LINE" for the error message. */
static void unacked_text(const struct pub *p, char *out, size_t cap)
{
	const char *data, *name = "?";
	size_t len, n = wsb_msgq_count(p->q);
	uint64_t id, line = 0;
	uint32_t file = 0;

	if (!wsb_msgq_first(p->q, &data, &len, &id)) {
		snprintf(out, cap, "0 lines not acknowledged");
		return;
	}
	memcpy(&file, data, REC_FILE);
	memcpy(&line, data + REC_FILE, REC_LINE);
	if ((int)file < p->cfg->n_operands)
		name = strcmp(p->cfg->operands[file], "-") ? p->cfg->operands[file] : "stdin";
	snprintf(out, cap, "%zu line%s not acknowledged, first: %s:%" PRIu64, n, n == 1 ? "" : "s", name, line);
}

static int bad_line(struct pub *p, uint64_t lineno, const char *why)
{
	wsb_log(p->cfg->strict ? WSB_LOG_ERROR : WSB_LOG_WARN, "%s:%" PRIu64 ": %s%s", p->in_name, lineno,
		why, p->cfg->strict ? "" : " (skipped)");
	p->skipped++;
	if (p->cfg->strict) {
		wsb_err_set(p->err, WSB_EXIT_DATAERR, "%s", "");
		p->stopping = 1;
		if (!p->rc)
			p->rc = WSB_EXIT_DATAERR;
		start_linger(p);
		maybe_close(p);
		return -1;
	}
	return 0;
}

/* Turns one input line into the message to send, in p->buf. Returns its
 * length, 0 to skip it, -1 to stop. */
static ssize_t envelope(struct pub *p, const char *line, size_t len, uint64_t lineno, int raw)
{
	/* Ours are appended after the parse; a line that carries them already
	 * (republished wsbridge-sub output) must not name another producer. */
	static const char *const drop[] = { "producer", "pseq", NULL };
	struct wsb_env env;
	struct wsb_err e;
	ssize_t n;
	size_t tl = strlen(p->type_member);
	char *out = p->buf + REC_HDR, *body;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	if (raw) {
		size_t need = wsb_json_escape(NULL, 0, line, len);

		n = snprintf(out, (p->buf_cap - REC_HDR), "{%s\"data\":", p->type_member);
		wsb_json_escape(out + n, (p->buf_cap - REC_HDR) - (size_t)n, line, len);
		n += (ssize_t)need;
		out[n++] = '}';
		return n;
	}
	/* Leave room in front to splice "type":"T", into objects without one. */
	body = out + tl;
	n = wsb_env_parse(line, len, body, drop, &env, &e);
	if (n < 0)
		return bad_line(p, lineno, e.msg);
	if (!env.has_type && !p->cfg->type)
		return bad_line(p, lineno, "no string \"type\" (give one with --type)");
	if (env.has_type && !wsb_env_type_ok(env.type, env.type_len, &e))
		return bad_line(p, lineno, e.msg);
	if (env.has_type) {
		memmove(out, body, (size_t)n);
		return n;
	}
	/* body is "{...}": becomes {"type":"T",...} or {"type":"T"} */
	out[0] = '{';
	memcpy(out + 1, p->type_member, tl);
	if (n == 2) {
		out[tl] = '}';	/* overwrite the trailing ',' */
		return (ssize_t)tl + 1;
	}
	/* body[0] was '{' and sits at out[tl]; the member ends in ',' at tl. */
	memmove(out + 1 + tl, body + 1, (size_t)n - 1);
	return (ssize_t)(tl + (size_t)n);
}

static void input_end(struct pub *p);

/* The message of n bytes in p->buf (after the record header) into the
 * queue: 0, or -1 to stop. */
static int queue_message(struct pub *p, ssize_t n, uint64_t lineno)
{
	uint32_t file = (uint32_t)(p->next_file - 1);

	/* pseq is the queue id, fixed here, so a resend is the same bytes
	 * and the server can tell it from a new message. */
	n = wsb_pseq_splice(p->buf + REC_HDR, (size_t)n, p->buf_cap - REC_HDR, p->producer, p->id + 1);
	if (n < 0)
		return bad_line(p, lineno, "too long with the producer id added");
	memcpy(p->buf, &file, REC_FILE);
	memcpy(p->buf + REC_FILE, &lineno, REC_LINE);
	/* Only --drop-oldest while the broker is away drops: one line's many
	 * --jq messages may pass --queue, and must not push each other out. */
	if (wsb_msgq_count(p->q) >= p->cfg->queue && p->cfg->drop_oldest && p->down &&
	    wsb_msgq_drop_first(p->q))
		p->dropped++;
	if (wsb_msgq_push(p->q, p->buf, REC_HDR + (size_t)n, ++p->id)) {
		wsb_err_set(p->err, WSB_EXIT_OSERR, "out of memory");
		finish(p, WSB_EXIT_OSERR);
		return -1;
	}
	return 0;
}

struct jq_line {
	struct pub *p;
	uint64_t lineno, outputs;
	int stop;		/* bad_line said to stop (--strict) */
	int flood;		/* more messages than --queue from one line */
};

static int jq_message(void *ud, const char *json, size_t len)
{
	struct jq_line *l = ud;
	ssize_t n;

	if (++l->outputs > l->p->cfg->queue) {
		l->flood = 1;
		return -1;
	}
	if (len > l->p->cfg->max_line)
		n = bad_line(l->p, l->lineno, "a --jq output longer than --max-line");
	else
		n = envelope(l->p, json, len, l->lineno, 0);
	if (n > 0)
		n = queue_message(l->p, n, l->lineno);
	l->stop = n < 0;
	return l->stop ? -1 : 0;
}

/* One input line through --jq/--type-from: 0..n messages. 0, or -1 to stop. */
static int jq_messages(struct pub *p, const char *line, size_t len, uint64_t lineno)
{
	struct jq_line l = { p, lineno, 0, 0, 0 };
	struct wsb_err e;
	char why[WSB_ERR_LEN + 16];

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	if (!len && !p->cfg->raw)
		return 0;
	if (wsb_jqf_each(p->jq, line, len, p->cfg->raw, jq_message, &l, &e) >= 0 || l.stop)
		return l.stop ? -1 : 0;
	if (l.flood)
		return bad_line(p, lineno, "--jq made more than --queue messages of one line");
	snprintf(why, sizeof why, "%s: %s", p->cfg->jq ? "--jq" : "--type-from", e.msg);
	return bad_line(p, lineno, why);
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
		if (p->jq) {
			if (jq_messages(p, line, len, lineno))
				return;
			continue;
		}
		n = envelope(p, line, len, lineno, p->cfg->raw);
		if (n < 0)
			return;
		if (n && queue_message(p, n, lineno))
			return;
	}
	if (wsb_msgq_unsent(p->q))
		wsb_client_want_write(p->cl);
	/* The last lines of an input at EOF were held back by a full queue. */
	if (p->eof_pending && !p->stopping && wsb_lines_done(&p->lines))
		input_end(p);
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

	if (n) {
		wsb_lines_commit(&p->lines, n);
		take_lines(p);
		return;
	}
	wsb_lines_eof(&p->lines);
	p->eof_pending = 1;
	/* take_lines ends the input once every line is queued; until then the
	 * rest is taken as the queue drains. */
	take_lines(p);
}

static void input_end(struct pub *p)
{
	int r;

	p->eof_pending = 0;
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
		start_linger(p);
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

	char url[1024];

	wsb_log(WSB_LOG_INFO, "connected to %s", wsb_log_redact(p->cfg->url, url, sizeof url));
	/* Nothing is sent before the greeting says what the server has. */
	p->ready = 0;
	wsb_msgq_rewind(p->q);
}

/* After acknowledgements or sends: pull buffered lines, wake the reader,
 * close when everything is through. */
static void progress(struct pub *p)
{
	take_lines(p);
	if (!p->input_done && !p->stopping && !p->eof_pending && queue_room(p))
		wsb_client_input_resume(p->cl);
	if (wsb_msgq_unsent(p->q) && inflight(p) < p->cfg->max_inflight)
		wsb_client_want_write(p->cl);
	maybe_close(p);
}

static void writable(void *ud)
{
	struct pub *p = ud;
	const char *data;
	size_t len;
	uint64_t id;

	if (!p->ready)
		return;
	while (inflight(p) < p->cfg->max_inflight && wsb_msgq_peek(p->q, &data, &len, &id)) {
		if (wsb_client_send(p->cl, data + REC_HDR, len - REC_HDR) <= 0)
			break;
		wsb_msgq_advance(p->q);
		/* Without acknowledgements a line is done once handed to the socket. */
		if (!p->acks)
			wsb_msgq_release(p->q, id);
		p->sent++;
	}
	progress(p);
}

static void keep_secret(struct pub *p, const char *v, size_t len)
{
	char q[sizeof p->query + 64];

	if (wsb_env_string(v, len, p->secret, sizeof p->secret) != WSB_SECRET_HEX) {
		p->secret[0] = '\0';
		return;
	}
	snprintf(q, sizeof q, "%s", p->query);
	if (wsb_client_query_add(q, sizeof q, "producer_secret", p->secret) ||
	    wsb_client_set_query(p->cl, q))
		wsb_log(WSB_LOG_WARN, "cannot keep the producer secret: a reconnect will be refused");
}

/* connection_established: with "producer" the server acknowledges, and
 * "accepted" is the last pseq it has of ours; everything after it is sent
 * (again), in order. */
static void greeting(struct pub *p, const char *obj, size_t len)
{
	struct wsb_span v;
	uint64_t accepted = 0;

	p->acks = wsb_env_lookup(obj, len, "producer", &v);
	if (p->acks && wsb_env_lookup(obj, len, "producer_secret", &v))
		keep_secret(p, obj + v.off, v.len);
	if (p->acks) {
		if (wsb_env_lookup(obj, len, "accepted", &v) && !wsb_env_uint(obj + v.off, v.len, &accepted))
			wsb_msgq_release(p->q, accepted);
		wsb_log(WSB_LOG_INFO, "producer %s: the broker has accepted up to pseq %" PRIu64 ", %zu to send",
			p->producer, accepted, wsb_msgq_count(p->q));
	} else if (!p->warned_noack) {
		p->warned_noack = 1;
		wsb_log(WSB_LOG_WARN, "the broker does not acknowledge messages (an older wsbridge-serve?): "
			"lines count as published once sent");
	}
	wsb_msgq_rewind(p->q);
	p->ready = 1;
	p->down = 0;
	progress(p);
}

static void message(void *ud, const char *msg, size_t len)
{
	struct pub *p = ud;
	struct wsb_env env;
	struct wsb_span v;
	char text[512] = "";
	const char *obj;
	struct wsb_err e;
	ssize_t olen;
	uint64_t n;

	/* A reply that cannot be held may be an ack: going on without it
	 * would wait forever for lines the broker already has. */
	olen = wsb_envbuf_parse(&p->scan, msg, len, &env, &e);
	if (olen == WSB_ENVBUF_NOROOM) {
		wsb_err_set(p->err, e.code, "%s", e.msg);
		finish(p, e.code);
		return;
	}
	if (olen <= 0 || !env.has_type)
		return;
	obj = p->scan.p;
	len = (size_t)olen;
	if (!strcmp(env.type, "ack")) {
		if (p->acks && wsb_env_lookup(obj, len, "pseq", &v) &&
		    !wsb_env_uint(obj + v.off, v.len, &n)) {
			wsb_msgq_release(p->q, n);
			progress(p);
		}
	} else if (!strcmp(env.type, "connection_established")) {
		greeting(p, obj, len);
	} else if (!strcmp(env.type, "error")) {
		if (wsb_env_lookup(obj, len, "data", &v)) {
			struct wsb_span m;

			if (wsb_env_lookup(obj + v.off, v.len, "message", &m))
				wsb_env_string(obj + v.off + m.off, m.len, text, sizeof text);
		}
		wsb_log(WSB_LOG_WARN, "the broker refused a message: %s", text[0] ? text : "(no reason)");
	}
}

static void closed(void *ud, int code, const char *reason, int64_t retry_ms)
{
	struct pub *p = ud;
	size_t left = wsb_msgq_count(p->q);
	char text[WSB_ERR_LEN];
	int rc;

	p->ready = 0;
	if (retry_ms >= 0) {
		p->down = 1;
		wsb_log(WSB_LOG_WARN, "%s (%s%s%.0d); retrying in %.1fs with %zu lines queued",
			code ? "disconnected" : "cannot connect", reason, code ? ", code " : "", code,
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
	rc = wsb_client_exit_code(code);
	unacked_text(p, text, sizeof text);
	wsb_err_set(p->err, rc, "%s (%d %s); %s", rc == WSB_EXIT_NOPERM ? "refused by the broker" : "giving up",
		    code, reason, text);
	finish(p, rc);
}

/* The --linger deadline: what is still queued now was not accepted. */
static void timer(void *ud)
{
	struct pub *p = ud;
	char text[WSB_ERR_LEN];

	if (!wsb_msgq_count(p->q)) {
		finish(p, WSB_EXIT_OK);
		return;
	}
	unacked_text(p, text, sizeof text);
	wsb_err_set(p->err, WSB_EXIT_TEMPFAIL, "%s after waiting %gs", text, p->cfg->linger);
	finish(p, WSB_EXIT_TEMPFAIL);
}

static void on_signal(void *ud, int sig)
{
	struct pub *p = ud;
	char text[WSB_ERR_LEN];

	if (p->stopping || !wsb_msgq_count(p->q)) {
		if (wsb_msgq_count(p->q)) {
			unacked_text(p, text, sizeof text);
			wsb_err_set(p->err, WSB_EXIT_TEMPFAIL, "interrupted; %s", text);
		}
		finish(p, wsb_msgq_count(p->q) ? WSB_EXIT_TEMPFAIL : WSB_EXIT_OK);
		return;
	}
	/* First signal: stop reading; what is queued has --linger to be
	 * acknowledged, then the connection closes. */
	p->stopping = 1;
	start_linger(p);
	maybe_close(p);
}

static const struct wsb_client_ops ops = {
	.opened = opened,
	.message = message,
	.writable = writable,
	.closed = closed,
	.timer = timer,
	.in_buf = in_buf,
	.in_data = in_data,
	.in_error = in_error,
	.signal = on_signal,
};

static struct wsb_jqf *compile_opt(const char *opt, const char *prog, struct wsb_err *err)
{
	struct wsb_err e;
	struct wsb_jqf *f = wsb_jqf_compile(prog, &e);

	if (!f)
		wsb_err_set(err, e.code, "%s: %s", opt, e.msg);
	return f;
}

/* --jq and --type-from as one program, each checked alone first so that a
 * mistake is named with its option and jq's message. Without --jq the
 * input itself is the message ({data: line} with --raw). The newline
 * keeps a trailing # comment from hiding the parenthesis. */
static struct wsb_jqf *jq_program(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	static const char set_type[] = "(%s\n) | (%s\n) as $wsb_type | if ($wsb_type | type) == \"string\" "
				       "then .type = $wsb_type else error(\"--type-from gave \\($wsb_type "
				       "| tojson), not a string\") end";
	const char *base = cfg->jq ? cfg->jq : cfg->raw ? "{data: .}" : ".";
	struct wsb_jqf *f;
	char *prog;

	if (!cfg->type_from)
		return compile_opt("--jq", cfg->jq, err);
	if (cfg->jq) {
		if (!(f = compile_opt("--jq", cfg->jq, err)))
			return NULL;
		wsb_jqf_free(f);
	}
	if (!(f = compile_opt("--type-from", cfg->type_from, err)))
		return NULL;
	wsb_jqf_free(f);
	if (!(prog = malloc(sizeof set_type + strlen(base) + strlen(cfg->type_from)))) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	sprintf(prog, set_type, base, cfg->type_from);
	f = compile_opt("--type-from", prog, err);
	free(prog);
	return f;
}

/* The producer id this run publishes as, and the query that names it. */
static int producer_query(struct pub *p, const struct wsb_cfg *cfg, struct wsb_err *err)
{
	if (cfg->producer) {
		/* Every run numbers its lines from 1, so the id on the wire gets
		 * a run suffix: a new run must not be taken for a resend of the
		 * last one's lines (they would be acknowledged and dropped).
		 * wsb_cfg_check keeps the name within WSB_PRODUCER_NAME_MAX. */
		snprintf(p->producer, sizeof p->producer, "%s:%08x", cfg->producer,
			 (unsigned)wsb_random64());
	} else {
		char host[256] = "";

		gethostname(host, sizeof host - 1);
		wsb_producer_id_make(p->producer, host, (long)getpid(), (unsigned)wsb_random64());
	}
	if (wsb_client_query_add(p->query, sizeof p->query, "producer", p->producer) ||
	    wsb_client_query_add(p->query, sizeof p->query, cfg->echo ? "echo" : "subscribe",
				 cfg->echo ? "1" : "none"))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--producer too long");
	return 0;
}

int wsb_pub_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	static char *stdin_operand[] = { "-" };
	struct wsb_cfg c2 = *cfg;
	struct wsb_client_cfg ccfg;
	struct pub p = { .cfg = &c2, .err = err, .in_fd = -1 };
	int r;

	/* A publisher listens to nothing (subscribe=none in query), so other
	 * publishers' traffic is not sent to it; with --echo it sees its own. */
	wsb_client_cfg_from(&ccfg, cfg, p.query);

	if (!c2.n_operands) {
		c2.operands = stdin_operand;
		c2.n_operands = 1;
	}
	if (producer_query(&p, cfg, err) < 0)
		return -1;
	if (cfg->type) {	/* checked by wsb_cfg_check */
		size_t n;

		memcpy(p.type_member, "\"type\":", 7);
		n = 7 + wsb_json_escape(p.type_member + 7, sizeof p.type_member - 8, cfg->type, strlen(cfg->type));
		p.type_member[n] = ',';
		p.type_member[n + 1] = '\0';
	}
	if ((cfg->jq || cfg->type_from) && !(p.jq = jq_program(cfg, err))) {
		r = -1;
		goto out;
	}
	/* Worst case of --raw: every byte escaped as \u00XX. */
	p.buf_cap = REC_HDR + cfg->max_line * 6 + sizeof p.type_member + 16 + WSB_PSEQ_SPLICE_MAX;
	p.buf = malloc(p.buf_cap);
	p.q = wsb_msgq_new();
	if (!p.buf || !p.q) {
		r = wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");	/* -1: err has it */
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
	/* Dropped lines were not accepted: exit 0 would say they were. */
	if (p.dropped && !r) {
		wsb_err_set(err, WSB_EXIT_TEMPFAIL, "dropped %" PRIu64 " oldest lines (--drop-oldest)", p.dropped);
		r = WSB_EXIT_TEMPFAIL;
	} else if (p.dropped) {
		wsb_log(WSB_LOG_WARN, "dropped %" PRIu64 " oldest lines (--drop-oldest)", p.dropped);
	}
	if (p.skipped && !cfg->strict)
		wsb_log(WSB_LOG_WARN, "skipped %" PRIu64 " invalid line%s", p.skipped, p.skipped == 1 ? "" : "s");
out:
	if (p.in_fd > 0)
		close(p.in_fd);
	wsb_client_free(p.cl);
	wsb_lines_free(&p.lines);
	wsb_msgq_free(p.q);
	wsb_jqf_free(p.jq);
	free(p.buf);
	wsb_buf_free(&p.scan);
	return wsb_err_exit(err, r);
}

#include "sub.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "envbuf.h"
#include "envelope.h"
#include "jqfilter.h"
#include "lineio.h"
#include "log.h"
#include "match.h"
#include "resume.h"
#include "wsclient.h"

struct sub {
	const struct wsb_cfg *cfg;
	struct wsb_client *cl;
	struct wsb_buf scan;		/* wsb_env_parse output: the compact form printed */
	uint64_t not_envelopes;		/* server messages reported and skipped */
	uint64_t got;
	struct wsb_buf out;		/* lines not yet written */
	int out_failed;
	int rc;
	int stopped;			/* finish() ran: rc may be 0, yet nothing more is printed */
	struct wsb_err *err;
	struct wsb_pos pos;		/* what has been written out */
	uint64_t dups, gaps;
	int greeted;			/* a connection_established was seen */
	int opened;			/* a connection was open at some point */
	char last_failure[1200];	/* why the last attempt failed */
	char base_query[4096];		/* the subscription; resume arguments go after it */
	int cursor_fd;			/* --cursor-file, or -1 */
	int cursor_sized;		/* the file holds exactly one record */
	char cursor_rec[WSB_CURSOR_LEN + 1];	/* last record written */
	struct wsb_jqf *jq;		/* --jq */
	uint64_t jq_failed;		/* messages --jq failed on */
};

/* Types the broker speaks to us about the connection itself. An "error"
 * with a seq is an application's, published like any message: the
 * broker's own carry none (and data.source "wsbridge"). */
static int is_control(const struct wsb_env *env)
{
	const char *type = env->type;

	if (!strcmp(type, "error"))
		return !env->has_seq;
	return !strcmp(type, "connection_established") || !strcmp(type, "pong") ||
	       !strcmp(type, "subscribed") || !strcmp(type, "ack");
}

/* Output is gathered while one network read is processed and written with
 * one write(2) right after (wsb_client_defer): each message still leaves
 * before the next read, but a burst costs one syscall, not one per line. */
#define OUT_FLUSH 65536

static void finish(struct sub *s, int rc);

/* Called only when nothing written to the buffer is still unwritten, so
 * the file never names a seq that stdout has not got: a crash between the
 * two writes repeats lines on the next run, it never skips any. */
static int save_cursor(struct sub *s)
{
	char rec[WSB_CURSOR_LEN + 1];

	if (s->cursor_fd < 0 || !s->pos.have)
		return 0;
	wsb_cursor_format(rec, s->pos.seq, s->pos.epoch);
	if (!strcmp(rec, s->cursor_rec))
		return 0;
	/* One pwrite of a fixed-size record: the file is always one whole
	 * record, old or new, never a mix, and no fsync is paid per write. */
	if (pwrite(s->cursor_fd, rec, WSB_CURSOR_LEN, 0) != WSB_CURSOR_LEN ||
	    (!s->cursor_sized && ftruncate(s->cursor_fd, WSB_CURSOR_LEN))) {
		wsb_err_errno(s->err, WSB_EXIT_IOERR, errno, "cannot write %s", s->cfg->cursor_file);
		s->out_failed = 1;
		finish(s, WSB_EXIT_IOERR);
		return -1;
	}
	s->cursor_sized = 1;
	memcpy(s->cursor_rec, rec, sizeof rec);
	return 0;
}

static int flush(struct sub *s)
{
	if (s->out_failed)
		return -1;
	if (!s->out.len)
		return save_cursor(s);
	if (wsb_write_all(1, s->out.p, s->out.len)) {
		s->out_failed = 1;
		wsb_buf_reset(&s->out);
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
	/* One huge line does not keep its buffer. */
	wsb_buf_shrink(&s->out, OUT_FLUSH * 2);
	return save_cursor(s);
}

static void finish(struct sub *s, int rc)
{
	s->stopped = 1;
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
	struct wsb_err e;

	if (s->out_failed)
		return -1;
	if (s->out.len && s->out.len + len + 1 > OUT_FLUSH * 2 && flush(s))
		return -1;
	/* Room for the whole line first: a half line must not be flushed. */
	if (wsb_buf_reserve(&s->out, len + 1, &e)) {
		wsb_err_set(s->err, WSB_EXIT_OSERR, "cannot hold a %zu-byte line: %s", len, e.msg);
		finish(s, WSB_EXIT_OSERR);
		return -1;
	}
	memcpy(s->out.p + s->out.len, msg, len);
	s->out.p[s->out.len + len] = '\n';
	s->out.len += len + 1;
	if (s->out.len >= OUT_FLUSH)
		return flush(s);
	wsb_client_defer(s->cl);
	return 0;
}

/* Decodes the string member key of obj into out; "" if absent or not one. */
static void member_string(const char *obj, size_t len, const char *key, char *out, size_t cap)
{
	struct wsb_span v;

	out[0] = '\0';
	if (wsb_env_lookup(obj, len, key, &v) && wsb_env_string(obj + v.off, v.len, out, cap) < 0)
		out[0] = '\0';
}

static void greeting(struct sub *s, const char *obj, size_t len, const struct wsb_env *env)
{
	char epoch[WSB_EPOCH_MAX + 1];

	member_string(obj, len, "epoch", epoch, sizeof epoch);
	if (epoch[0] && !wsb_epoch_ok(epoch, strlen(epoch)))
		epoch[0] = '\0';
	s->greeted = 1;
	wsb_pos_greeting(&s->pos, epoch[0] ? epoch : NULL, env->has_seq, env->seq);
	wsb_client_defer(s->cl);	/* the cursor may have moved */
}

/* {"type":"gap","from":F,"to":T|null,"reason":"evicted"|"epoch","epoch":"E"} */
static void gap(struct sub *s, const char *obj, size_t olen)
{
	char reason[32], epoch[WSB_EPOCH_MAX + 1], what[400];
	struct wsb_span v;
	uint64_t from = 0, to = 0;
	int has_to = 0, epoch_reason;

	member_string(obj, olen, "reason", reason, sizeof reason);
	member_string(obj, olen, "epoch", epoch, sizeof epoch);
	if (wsb_env_lookup(obj, olen, "from", &v))
		wsb_env_uint(obj + v.off, v.len, &from);
	if (wsb_env_lookup(obj, olen, "to", &v) && !wsb_env_uint(obj + v.off, v.len, &to))
		has_to = 1;
	epoch_reason = !strcmp(reason, "epoch");
	if (epoch_reason)
		snprintf(what, sizeof what, "the broker's history is a new one (epoch %s): messages from seq %" PRIu64
			 " of epoch %s on are unknown", epoch[0] ? epoch : "?", from, s->pos.epoch[0] ? s->pos.epoch : "?");
	else if (has_to)
		snprintf(what, sizeof what, "messages %" PRIu64 " to %" PRIu64 " were not delivered (%s)", from, to,
			 reason[0] ? reason : "no reason given");
	else
		snprintf(what, sizeof what, "messages after %" PRIu64 " were not delivered (%s)", from,
			 reason[0] ? reason : "no reason given");
	s->gaps++;
	if (s->cfg->gap == WSB_GAP_FAIL) {
		/* What came before the gap is complete: it goes out, and the
		 * cursor stays before the hole so a rerun fails the same way. */
		flush(s);
		wsb_err_set(s->err, WSB_EXIT_TEMPFAIL, "gap: %s", what);
		finish(s, WSB_EXIT_TEMPFAIL);
		return;
	}
	wsb_log(WSB_LOG_WARN, "gap: %s", what);
	if (s->cfg->gap == WSB_GAP_MARK && emit(s, obj, olen))
		return;
	wsb_pos_gap(&s->pos, epoch_reason, epoch, has_to, to);
	wsb_client_defer(s->cl);
}

/* The broker refused --where (a version that compiles it differently) or
 * dropped it (over its budget): nothing more will come, so say why and
 * stop; any other error is a warning. */
static void broker_error(struct sub *s, const char *obj, size_t n)
{
	struct wsb_span d;
	char code[32] = "", text[WSB_ERR_LEN] = "";
	int rc;

	if (wsb_env_lookup(obj, n, "data", &d)) {
		member_string(obj + d.off, d.len, "code", code, sizeof code);
		member_string(obj + d.off, d.len, "message", text, sizeof text);
	}
	rc = !strcmp(code, "INVALID_FILTER") ? WSB_EXIT_USAGE : !strcmp(code, "FILTER_DROPPED") ? WSB_EXIT_DATAERR
	   : !strcmp(code, "FILTER_UNAVAILABLE") ? WSB_EXIT_UNAVAILABLE : 0;
	if (!rc) {
		wsb_log(WSB_LOG_WARN, "broker error: %.*s", (int)(n > 300 ? 300 : n), obj);
		return;
	}
	wsb_err_set(s->err, rc, "--where: %s (%s)", text, code);
	finish(s, rc);
}

/* --jq: each output is one line. */
static int jq_line(void *ud, const char *json, size_t len)
{
	return emit(ud, json, len);
}

/* A message as --jq turns it into lines; a run-time error skips it. */
static int emit_message(struct sub *s, const char *obj, size_t n, const struct wsb_env *env)
{
	struct wsb_err e;

	if (!s->jq)
		return emit(s, obj, n);
	if (wsb_jqf_each(s->jq, obj, n, 0, jq_line, s, &e) >= 0 || s->out_failed || s->stopped)
		return s->out_failed ? -1 : 0;
	s->jq_failed++;
	if (env->has_seq)
		wsb_log(WSB_LOG_WARN, "--jq on seq %" PRIu64 ": %s", env->seq, e.msg);
	else
		wsb_log(WSB_LOG_WARN, "--jq: %s", e.msg);
	return 0;
}

/* A server message that is not a JSON object with a "type" is said on
 * stderr (why, and its start escaped onto one line), counted, and not
 * printed: stdout carries only whole envelopes, one per line. */
static void not_envelope(struct sub *s, const char *msg, size_t len, const struct wsb_err *e)
{
	char head[100];

	wsb_json_escape(head, sizeof head, msg, len > 60 ? 60 : len);
	s->not_envelopes++;
	wsb_log(WSB_LOG_WARN, "skipped a server message that is not a wsbridge envelope (%s): %s%s",
		e ? e->msg : "no \"type\"", head, len > 60 ? "..." : "");
}

static void message(void *ud, const char *msg, size_t len)
{
	struct sub *s = ud;
	struct wsb_env env;
	struct wsb_err e;
	const char *obj;
	ssize_t n;

	/* The rest of a network read after --count must not be printed (nor
	 * move the cursor past what was printed). */
	if (s->rc || s->stopped)
		return;
	/* What is printed is the compact form: a pretty-printed message from
	 * the server still makes exactly one line. */
	n = wsb_envbuf_parse(&s->scan, msg, len, &env, &e);
	if (n == WSB_ENVBUF_NOROOM) {
		wsb_err_set(s->err, WSB_EXIT_OSERR, "%s", e.msg);
		finish(s, WSB_EXIT_OSERR);
		return;
	}
	if (n < 0 || !env.has_type) {
		not_envelope(s, msg, len, n < 0 ? &e : NULL);
		return;
	}
	obj = s->scan.p;
	if (!strcmp(env.type, "gap")) {
		gap(s, obj, (size_t)n);
		return;
	}
	if (is_control(&env)) {
		if (!strcmp(env.type, "connection_established"))
			greeting(s, obj, (size_t)n, &env);
		if (s->cfg->control)
			emit(s, obj, (size_t)n);
		if (!strcmp(env.type, "error"))
			broker_error(s, obj, (size_t)n);
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
	/* A resume replays from the last seq we asked with; whatever reached
	 * us twice at that seam is dropped here. Messages carry no epoch (a
	 * top-level "epoch" is the publisher's data), so they belong to the
	 * one the greeting or the last gap record named. */
	if (wsb_pos_dup(&s->pos, NULL, env.has_seq, env.seq)) {
		s->dups++;
		return;
	}
	if (emit_message(s, obj, (size_t)n, &env))
		return;
	wsb_pos_advance(&s->pos, NULL, env.has_seq, env.seq);
	if (s->cfg->count && ++s->got >= s->cfg->count)
		finish(s, WSB_EXIT_OK);
}

static void opened(void *ud)
{
	struct sub *s = ud;
	char text[1200];
	int notable = wsb_client_open_text(s->cl, text, sizeof text);

	s->opened = 1;
	s->last_failure[0] = '\0';	/* what a later timeout repeats is only a current outage */
	wsb_log(notable ? WSB_LOG_WARN : WSB_LOG_INFO, "%s", text);
}

/* The subscription, then where to start: since=SEQ&epoch=E once there is
 * a position, and snapshot=1 until a connection has given us one. */
static int make_query(const struct sub *s, char *q, size_t cap)
{
	char num[24];

	snprintf(q, cap, "%s", s->base_query);
	if (s->pos.have) {
		snprintf(num, sizeof num, "%" PRIu64, s->pos.seq);
		if (wsb_client_query_add(q, cap, "since", num) ||
		    (s->pos.epoch[0] && wsb_client_query_add(q, cap, "epoch", s->pos.epoch)))
			return -1;
	}
	if (s->cfg->snapshot && !s->greeted && !s->pos.have && wsb_client_query_add(q, cap, "snapshot", "1"))
		return -1;
	return 0;
}

static void writable(void *ud)
{
}

static void closed(void *ud, int code, const char *reason, int64_t retry_ms)
{
	struct sub *s = ud;
	char what[1200];

	wsb_client_fail_text(s->cl, code, reason, what, sizeof what);
	if (retry_ms >= 0) {
		snprintf(s->last_failure, sizeof s->last_failure, "%s", what);
		char q[sizeof s->base_query + 128];

		/* Output held back for this read goes out before we wait. */
		flush(s);
		if (make_query(s, q, sizeof q) || wsb_client_set_query(s->cl, q))
			wsb_log(WSB_LOG_WARN, "the resume query does not fit; reconnecting without it");
		if (code == 4008) {
			/* Closed as a slow consumer: the history has what was missed,
			 * and every moment waited widens what must be caught up. */
			wsb_client_retry_now(s->cl);
			wsb_log(WSB_LOG_WARN, "closed as a slow consumer (4008 %s); resuming after seq %" PRIu64 " now",
				reason, s->pos.seq);
			return;
		}
		wsb_log(WSB_LOG_WARN, "%s; retrying in %.1fs", what, (double)retry_ms / 1000);
		return;
	}
	if (s->rc || s->stopped)
		return;
	wsb_err_set(s->err, wsb_client_exit_code(code), "%s%s",
		    wsb_client_exit_code(code) == WSB_EXIT_NOPERM ? "refused by the broker: " :
		    wsb_client_exit_code(code) == WSB_EXIT_CONFIG ? "" : "giving up: ", what);
	finish(s, wsb_client_exit_code(code));
}

static void timer(void *ud)
{
	struct sub *s = ud;

	/* "Record for a minute" with no broker must not leave an empty file
	 * and exit 0: never connected is a failure, and says why. */
	if (!s->opened) {
		wsb_err_set(s->err, WSB_EXIT_UNAVAILABLE, "never connected within --timeout %gs: %s", s->cfg->timeout,
			    s->last_failure[0] ? s->last_failure : "no answer yet");
		finish(s, WSB_EXIT_UNAVAILABLE);
		return;
	}
	if (s->cfg->count) {
		/* Under -q the warnings are not seen: the cause goes here. */
		wsb_err_set(s->err, WSB_EXIT_TEMPFAIL, "timeout: %" PRIu64 " of %" PRIu64 " messages in %gs%s%.180s",
			    s->got, s->cfg->count, s->cfg->timeout, s->last_failure[0] ? "; last trouble: " : "",
			    s->last_failure);
		finish(s, WSB_EXIT_TEMPFAIL);
		return;
	}
	finish(s, WSB_EXIT_OK);
}

/* A reader that went away (| head -1) is otherwise noticed only at the
 * next write, which may never come on a quiet stream. */
static void tick(void *ud)
{
	struct sub *s = ud;
	struct pollfd pfd = { .fd = 1, .events = 0 };

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
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
	.tick = tick,
};

/* --cursor-file: the position of an earlier run, if it left one. An empty
 * file (created, never written) is a fresh start. */
static int open_cursor(struct sub *s, uint64_t *seq, char epoch[WSB_EPOCH_MAX + 1], int *found)
{
	char buf[4096];
	ssize_t n;

	*found = 0;
	s->cursor_fd = open(s->cfg->cursor_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->cursor_fd < 0)
		return wsb_err_errno(s->err, WSB_EXIT_IOERR, errno, "cannot open %s", s->cfg->cursor_file);
	n = pread(s->cursor_fd, buf, sizeof buf, 0);
	if (n < 0)
		return wsb_err_errno(s->err, WSB_EXIT_IOERR, errno, "cannot read %s", s->cfg->cursor_file);
	if (!n)
		return 0;
	if ((size_t)n == sizeof buf || wsb_cursor_parse(buf, (size_t)n, seq, epoch))
		return wsb_err_set(s->err, WSB_EXIT_DATAERR, "%s is not a cursor file ({\"seq\":N,\"epoch\":\"E\"})",
				   s->cfg->cursor_file);
	s->cursor_sized = n == WSB_CURSOR_LEN;
	wsb_cursor_format(s->cursor_rec, *seq, epoch);
	*found = 1;
	return 0;
}

/* --where is the server's ?filter=: compiled here first, as the server
 * compiles it (sandboxed), so a mistake is exit 64 at once, with jq's
 * message, rather than after a connection. */
static int where_query(struct sub *s, struct wsb_err *err)
{
	struct wsb_err e;
	struct wsb_jqf *f = wsb_jqf_compile_sandboxed(s->cfg->where, &e);

	if (!f)
		return wsb_err_set(err, e.code, "--where: %s", e.msg);
	wsb_jqf_free(f);
	if (wsb_client_query_add(s->base_query, sizeof s->base_query, "filter", s->cfg->where))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--where and --type do not fit in one URL");
	return 0;
}

int wsb_sub_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	char query[sizeof ((struct sub *)0)->base_query + 128] = "";
	struct sub s = { .cfg = cfg, .err = err, .cursor_fd = -1 };
	uint64_t cseq = 0;
	char cepoch[WSB_EPOCH_MAX + 1] = "";
	int have_cursor = 0;
	struct wsb_client_cfg ccfg;
	struct wsb_err e;
	int r;

	wsb_client_cfg_from(&ccfg, cfg, query);
	/* The patterns are checked by wsb_cfg_check; only whether they fit
	 * the URL is known here, where the query is built. */
	for (size_t i = 0; i < cfg->types.n; i++)
		if (wsb_client_query_add(s.base_query, sizeof s.base_query, "type", cfg->types.v[i]))
			return wsb_err_set(err, WSB_EXIT_USAGE, "too many --type patterns for one URL");
	if (cfg->echo && wsb_client_query_add(s.base_query, sizeof s.base_query, "echo", "1"))
		return wsb_err_set(err, WSB_EXIT_USAGE, "too many --type patterns for one URL");
	/* The producer/pseq stamp goes only to clients that ask: we print it. */
	if (wsb_client_query_add(s.base_query, sizeof s.base_query, "stamp", "1"))
		return wsb_err_set(err, WSB_EXIT_USAGE, "too many --type patterns for one URL");
	if (cfg->where && where_query(&s, err))
		return -1;
	if (cfg->jq && !(s.jq = wsb_jqf_compile(cfg->jq, &e)))
		return wsb_err_set(err, e.code, "--jq: %s", e.msg);
	if (cfg->cursor_file && open_cursor(&s, &cseq, cepoch, &have_cursor)) {
		r = err->code;
		goto out;
	}
	/* Where to start: --since (in --epoch, else the cursor's epoch), else
	 * the cursor, else --from-start (since=0 in whatever epoch the server
	 * has), else the live stream only. */
	if (cfg->has_since)
		wsb_pos_start(&s.pos, cfg->since_seq, cfg->epoch ? cfg->epoch : cepoch);
	else if (have_cursor)
		wsb_pos_start(&s.pos, cseq, cepoch);
	else if (cfg->from_start)
		wsb_pos_start(&s.pos, 0, NULL);
	if (make_query(&s, query, sizeof query)) {
		r = wsb_err_set(err, WSB_EXIT_USAGE, "too many --type patterns for one URL");
		goto out;
	}
	s.cl = wsb_client_new(&ccfg, &ops, &s, err);
	if (!s.cl) {
		r = err->code;
		goto out;
	}
	if (cfg->timeout > 0)
		wsb_client_timer(s.cl, (int64_t)(cfg->timeout * 1000));
	wsb_client_every(s.cl, 500);
	if (wsb_client_run(s.cl, err)) {
		r = err->code;
	} else {
		flush(&s);
		r = s.rc;
	}
	if (s.dups)
		wsb_log(WSB_LOG_INFO, "dropped %" PRIu64 " messages received twice across a reconnect", s.dups);
	if (s.not_envelopes)
		wsb_log(WSB_LOG_WARN, "skipped %" PRIu64 " server messages that were not wsbridge envelopes",
			s.not_envelopes);
	/* Like jq, go on after a message it failed on, but do not end as if
	 * everything had been printed. */
	if (s.jq_failed && !r)
		r = wsb_err_set(err, WSB_EXIT_DATAERR, "--jq failed on %" PRIu64 " message%s", s.jq_failed,
				s.jq_failed == 1 ? "" : "s");
out:
	wsb_client_free(s.cl);
	if (s.cursor_fd >= 0)
		close(s.cursor_fd);
	wsb_buf_free(&s.scan);
	wsb_jqf_free(s.jq);
	wsb_buf_free(&s.out);
	return wsb_err_exit(err, r);
}

/* The wsbridge-replay loop: files → lines → envelope → selection → schedule
 * → stdout. Single-threaded and blocking: between messages the process
 * sleeps until an absolute deadline on CLOCK_MONOTONIC. */
#include "replay_run.h"
#include "replay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "envelope.h"
#include "jqfilter.h"
#include "lineio.h"
#include "log.h"
#include "match.h"
#include "sys.h"

#define WARN_MAX 10		/* per-line warnings of one kind before only counting */
#define OUT_CAP (64 * 1024)

struct rp {
	const struct wsb_cfg *cfg;
	struct wsb_err *err;
	struct wsb_jqf *where, *tfield, *setter;
	struct wsb_replay_bound from, to;
	struct wsb_replay_sched sched;
	struct wsb_replay_loop loop;
	uint64_t pass;
	int64_t shift_ms;
	int need_ts;			/* timing, a time window or loop shifting reads timestamps */
	int buffered;			/* no deadlines: batch writes */

	/* current input */
	const char *name;
	int fd;
	gzFile gz;
	int looked;			/* the first bytes of a plain input were checked for gzip */
	struct wsb_lines lines;

	char *buf, *buf2, *buf3;	/* compact message, with members dropped, setter input */
	size_t cap;
	struct wsb_buf out;		/* lines not yet written */

	uint64_t emitted, bad, no_ts, where_err, unwindowed, set_err;
	int rc;
	int stop;
};

static void sleep_until(int64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int fail(struct rp *r, int code)
{
	if (!r->rc)
		r->rc = code;
	r->stop = 1;
	return -1;
}

static int flush_out(struct rp *r)
{
	if (!r->out.len)
		return 0;
	if (wsb_write_all(STDOUT_FILENO, r->out.p, r->out.len)) {
		wsb_buf_reset(&r->out);
		/* The reader went away (| head): that is how a pipeline ends. */
		if (errno == EPIPE) {
			r->stop = 1;
			return -1;
		}
		wsb_err_errno(r->err, WSB_EXIT_IOERR, errno, "cannot write to stdout");
		return fail(r, WSB_EXIT_IOERR);
	}
	wsb_buf_shrink(&r->out, OUT_CAP);	/* one huge line does not keep its buffer */
	return 0;
}

static int emit(struct rp *r, const char *msg, size_t len)
{
	struct wsb_err e;

	if (r->out.len && r->out.len + len + 1 > OUT_CAP && flush_out(r))
		return -1;
	if (wsb_buf_reserve(&r->out, len + 1, &e)) {
		wsb_err_set(r->err, WSB_EXIT_OSERR, "cannot hold a %zu-byte line: %s", len, e.msg);
		return fail(r, WSB_EXIT_OSERR);
	}
	memcpy(r->out.p + r->out.len, msg, len);
	r->out.p[r->out.len + len] = '\n';
	r->out.len += len + 1;
	return r->buffered ? 0 : flush_out(r);
}

/* Only the first pass reports: later passes read the same lines again. */
static int quiet(const struct rp *r)
{
	return r->pass > 0;
}

static int bad_line(struct rp *r, uint64_t lineno, const char *why)
{
	r->bad++;
	if (r->cfg->strict) {
		wsb_err_set(r->err, WSB_EXIT_DATAERR, "%s:%" PRIu64 ": %s", r->name, lineno, why);
		return fail(r, WSB_EXIT_DATAERR);
	}
	if (!quiet(r))
		wsb_log(WSB_LOG_WARN, "%s:%" PRIu64 ": %s (skipped)", r->name, lineno, why);
	return 0;
}

/* The message's timestamp in ms and how it was written. 1, or 0 with why. */
static int get_ts(struct rp *r, size_t n, const struct wsb_env *env, int64_t *ms, int *style,
		  char *why, size_t why_cap)
{
	char s[64];
	ssize_t sl;

	if (!r->tfield) {
		*style = WSB_TS_ISO;
		if (!env->timestamp.len) {
			snprintf(why, why_cap, "no \"timestamp\"");
			return 0;
		}
		sl = wsb_env_string(r->buf + env->timestamp.off, env->timestamp.len, s, sizeof s);
		if (sl < 0 || wsb_env_parse_time(s, (size_t)sl, ms)) {
			snprintf(why, why_cap, "\"timestamp\" is not an ISO 8601 time");
			return 0;
		}
		return 1;
	}
	{
		struct wsb_jqf_out o;
		struct wsb_err e;
		int k = wsb_jqf_run(r->tfield, r->buf, n, &o, &e);

		if (k < 0) {
			snprintf(why, why_cap, "--time-field: %.200s", e.msg);
			return 0;
		}
		if (k == 0 || o.kind == WSB_JQF_NULL) {
			snprintf(why, why_cap, "no value at %s", r->cfg->time_field);
			return 0;
		}
		if (o.kind == WSB_JQF_STRING && !wsb_env_parse_time(o.str, o.len, ms)) {
			*style = WSB_TS_ISO;
			return 1;
		}
		if (o.kind == WSB_JQF_NUMBER && !wsb_replay_epoch_ms(o.num, ms)) {
			*style = o.num > 1e11 ? WSB_TS_EPOCH_MS : WSB_TS_EPOCH_S;
			return 1;
		}
		snprintf(why, why_cap, "%s is neither an ISO 8601 time nor epoch seconds/milliseconds",
			 r->cfg->time_field);
		return 0;
	}
}

static int in_window(const struct wsb_replay_bound *b, int is_from, const struct wsb_env *env,
		     int has_ts, int64_t ts, int *unknown)
{
	if (b->kind == WSB_BOUND_SEQ) {
		if (!env->has_seq)
			return *unknown = 1, 0;
		return is_from ? env->seq >= b->seq : env->seq <= b->seq;
	}
	if (b->kind == WSB_BOUND_TIME) {
		if (!has_ts)
			return *unknown = 1, 0;
		return is_from ? ts >= b->ms : ts <= b->ms;
	}
	return 1;
}

static int type_selected(const struct rp *r, const struct wsb_env *env)
{
	const struct wsb_strlist *t = &r->cfg->types;

	if (!t->n)
		return 1;
	if (!env->has_type)
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (wsb_match_glob(t->v[i], env->type))
			return 1;
	return 0;
}

/* Writes the output form of the message in r->buf[0..n) and returns a
 * pointer to it, *len its length; NULL if it could not be built. */
static const char *transform(struct rp *r, size_t n, int has_ts, int64_t ts, int style,
			     size_t *len)
{
	const char *drop[3];
	int nd = 0, shift_top = has_ts && r->pass && r->shift_ms && !r->tfield;
	const char *msg = r->buf;
	char tsv[64];
	size_t m = n, tl = 0;
	struct wsb_env env;
	struct wsb_err e;

	if (r->cfg->strip_seq)
		drop[nd++] = "seq";
	if (r->cfg->restamp) {
		struct timespec now;
		char iso[WSB_TS_LEN];

		clock_gettime(CLOCK_REALTIME, &now);
		wsb_env_timestamp(iso, &now);
		tl = (size_t)snprintf(tsv, sizeof tsv, "\"%s\"", iso);
	} else if (shift_top) {
		tl = wsb_replay_format_ts(tsv, sizeof tsv, ts, style);
	}
	if (tl)
		drop[nd++] = "timestamp";
	drop[nd] = NULL;
	if (nd) {
		ssize_t k = wsb_env_parse(r->buf, n, r->buf2, drop, &env, &e);

		if (k < 0)
			return NULL;
		m = (size_t)k;
		if (tl) {
			/* buf2 has room: cap exceeds n by more than a timestamp member. */
			m--;	/* the closing '}' */
			m += (size_t)sprintf(r->buf2 + m, "%s\"timestamp\":%s}", m > 1 ? "," : "", tsv);
		}
		msg = r->buf2;
	}
	if (has_ts && r->pass && r->shift_ms && r->tfield && !r->cfg->restamp && r->setter) {
		struct wsb_jqf_out o;
		size_t sl;
		int k;

		tl = wsb_replay_format_ts(tsv, sizeof tsv, ts, style);
		r->buf3[0] = '[';
		memcpy(r->buf3 + 1, msg, m);
		sl = 1 + m + (size_t)sprintf(r->buf3 + 1 + m, ",%s]", tsv);
		k = wsb_jqf_run(r->setter, r->buf3, sl, &o, &e);
		if (k == 1 && o.kind == WSB_JQF_OTHER) {
			*len = o.len;
			return o.str;
		}
		/* Not a settable path (".data.ts | tonumber"): the message goes
		 * out unshifted rather than not at all. */
		if (!r->set_err++)
			wsb_log(WSB_LOG_WARN, "--time-field %s cannot be rewritten (%s): looped messages keep their timestamps",
				r->cfg->time_field, k < 0 ? e.msg : "no object");
	}
	*len = m;
	return msg;
}

static int one_line(struct rp *r, const char *line, size_t len, uint64_t lineno)
{
	struct wsb_env env;
	struct wsb_err e;
	ssize_t n;
	int has_ts = 0, style = WSB_TS_ISO, unknown = 0;
	int64_t ts = 0, deadline, now;
	char why[WSB_ERR_LEN];
	const char *msg;
	size_t mlen;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	n = wsb_env_parse(line, len, r->buf, NULL, &env, &e);
	if (n < 0)
		return bad_line(r, lineno, e.msg);
	if (!type_selected(r, &env))
		return 0;
	if (r->need_ts)
		has_ts = get_ts(r, (size_t)n, &env, &ts, &style, why, sizeof why);
	if (!in_window(&r->from, 1, &env, has_ts, ts, &unknown) ||
	    !in_window(&r->to, 0, &env, has_ts, ts, &unknown)) {
		if (unknown && !quiet(r))
			r->unwindowed++;
		return 0;
	}
	if (r->where) {
		int k = wsb_jqf_truthy(r->where, r->buf, (size_t)n, &e);

		if (k < 0) {
			if (!quiet(r) && !r->where_err++)
				wsb_log(WSB_LOG_WARN, "%s:%" PRIu64 ": --where: %s (such messages are not replayed)",
					r->name, lineno, e.msg);
			return 0;
		}
		if (!k)
			return 0;
	}
	if (has_ts && !r->pass)
		wsb_replay_loop_see(&r->loop, ts);
	if (!has_ts && wsb_replay_sched_needs_ts(&r->sched)) {
		if (r->cfg->strict) {
			wsb_err_set(r->err, WSB_EXIT_DATAERR, "%s:%" PRIu64 ": %s", r->name, lineno, why);
			return fail(r, WSB_EXIT_DATAERR);
		}
		if (!quiet(r) && r->no_ts++ < WARN_MAX)
			wsb_log(WSB_LOG_WARN, "%s:%" PRIu64 ": %s: sent without waiting", r->name, lineno, why);
	}
	if (has_ts)
		ts += (int64_t)r->pass * r->shift_ms;
	now = (int64_t)wsb_mono_ns();
	deadline = wsb_replay_sched_next(&r->sched, now, has_ts, ts);
	if (deadline > now) {
		if (flush_out(r))
			return -1;
		sleep_until(deadline);
	}
	msg = transform(r, (size_t)n, has_ts, ts, style, &mlen);
	if (!msg)
		return bad_line(r, lineno, "cannot rebuild the message");
	r->emitted++;
	return emit(r, msg, mlen);
}

static int open_input(struct rp *r, const char *name, struct wsb_err *err)
{
	size_t nl = strlen(name);

	r->fd = -1;
	r->gz = NULL;
	r->looked = 0;
	if (!strcmp(name, "-")) {
		r->name = "stdin";
		r->fd = STDIN_FILENO;
	} else {
		r->name = name;
		r->fd = open(name, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			return wsb_err_errno(err, WSB_EXIT_NOINPUT, errno, "cannot open %s", name);
		/* Plain files go through read(2): gzread() waits to fill its
		 * whole buffer, which would stall a growing file. */
		if (nl > 3 && !strcmp(name + nl - 3, ".gz")) {
			r->gz = gzdopen(r->fd, "rb");
			if (!r->gz) {
				close(r->fd);
				return wsb_err_set(err, WSB_EXIT_OSERR, "%s: out of memory", name);
			}
			r->fd = -1;
		}
	}
	wsb_lines_free(&r->lines);
	if (wsb_lines_init(&r->lines, r->cfg->max_line))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	return 0;
}

static void close_input(struct rp *r)
{
	if (r->gz)
		gzclose(r->gz);
	else if (r->fd > STDIN_FILENO)
		close(r->fd);
	r->gz = NULL;
	r->fd = -1;
}

/* Reads more of the current input into the line buffer; 0 at end of input. */
static ssize_t fill(struct rp *r)
{
	size_t room = wsb_lines_room(&r->lines);
	char *w = wsb_lines_wptr(&r->lines);
	ssize_t got;

	/* Whatever is due has been waited for; do not hold it while blocked. */
	if (flush_out(r))
		return -1;
	if (r->gz) {
		int g = gzread(r->gz, w, (unsigned)(room > (1u << 30) ? (1u << 30) : room));

		if (g < 0) {
			int zerr;
			const char *m = gzerror(r->gz, &zerr);

			wsb_err_set(r->err, WSB_EXIT_IOERR, "%s: %s", r->name, zerr == Z_ERRNO ? strerror(errno) : m);
			return fail(r, WSB_EXIT_IOERR);
		}
		got = g;
	} else {
		do
			got = read(r->fd, w, room);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			wsb_err_errno(r->err, WSB_EXIT_IOERR, errno, "cannot read %s", r->name);
			return fail(r, WSB_EXIT_IOERR);
		}
	}
	/* A compressed stream read as text would be a screen of invalid
	 * lines and exit 0: gzip is recognised by name (.gz) only, because
	 * zlib cannot read a growing file, so say what to do instead. */
	if (!r->gz && !r->looked && got >= 2) {
		r->looked = 1;
		if ((unsigned char)w[0] == 0x1f && (unsigned char)w[1] == 0x8b) {
			wsb_err_set(r->err, WSB_EXIT_DATAERR, "%s: gzip data: name the file with its .gz ending, "
				    "or pipe it through zcat", r->name);
			return fail(r, WSB_EXIT_DATAERR);
		}
	}
	if (got > 0)
		wsb_lines_commit(&r->lines, (size_t)got);
	return got;
}

static int gz_damaged(struct rp *r)
{
	int zerr;
	const char *m = gzerror(r->gz, &zerr);

	if (zerr == Z_OK)
		return 0;
	if (zerr == Z_BUF_ERROR)
		wsb_err_set(r->err, WSB_EXIT_DATAERR, "%s: truncated gzip file (its end is missing)", r->name);
	else
		wsb_err_set(r->err, WSB_EXIT_DATAERR, "%s: damaged gzip file: %s", r->name, m);
	return fail(r, WSB_EXIT_DATAERR);
}

static void replay_input(struct rp *r)
{
	const char *line;
	size_t len;
	uint64_t lineno;
	int k;

	while (!r->stop) {
		k = wsb_lines_next(&r->lines, &line, &len, &lineno);
		if (k == WSB_LINE_OK) {
			one_line(r, line, len, lineno);
			continue;
		}
		if (k == WSB_LINE_TOOLONG) {
			bad_line(r, lineno, "line longer than --max-line");
			continue;
		}
		if (r->lines.eof)
			break;
		ssize_t got = fill(r);

		if (got < 0)
			break;
		if (!got) {
			/* zlib's gzread reports a truncated stream only here: the
			 * recording is damaged (65), what came before is out. */
			if (r->gz && gz_damaged(r))
				break;
			wsb_lines_eof(&r->lines);
		}
	}
}

static int compile(struct rp *r, struct wsb_err *err)
{
	const struct wsb_cfg *c = r->cfg;

	if (c->where && !(r->where = wsb_jqf_compile(c->where, err)))
		return -1;
	if (c->time_field) {
		char *prog;
		size_t pl = strlen(c->time_field) + 64;

		if (!(r->tfield = wsb_jqf_compile(c->time_field, err)))
			return -1;
		if (c->loop == 1 || c->restamp)
			return 0;
		/* Looped passes write the shifted time back where it was found;
		 * jq 1.6 binds $named args once, so the value rides in the input. */
		if (!(prog = malloc(pl)))
			return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		snprintf(prog, pl, ". as [$__wsb_m, $__wsb_v] | $__wsb_m | (%s) = $__wsb_v", c->time_field);
		r->setter = wsb_jqf_compile(prog, err);
		free(prog);
		if (!r->setter)
			return -1;
	}
	return 0;
}

/* What was left out, once at the end rather than per line. */
static void summary(const struct rp *r)
{
	if (r->no_ts > WARN_MAX)
		wsb_log(WSB_LOG_WARN, "%" PRIu64 " messages without a usable timestamp were sent without waiting",
			r->no_ts);
	if (r->unwindowed)
		wsb_log(WSB_LOG_WARN, "%" PRIu64 " messages without the %s --from/--to compares were left out",
			r->unwindowed,
			r->from.kind == WSB_BOUND_SEQ || r->to.kind == WSB_BOUND_SEQ ? "seq" : "timestamp");
	if (r->where_err > 1)
		wsb_log(WSB_LOG_WARN, "%" PRIu64 " messages left out on --where errors", r->where_err);
	if (r->bad && !r->cfg->strict)
		wsb_log(WSB_LOG_INFO, "%" PRIu64 " invalid line%s skipped", r->bad, r->bad == 1 ? "" : "s");
	wsb_log(WSB_LOG_DEBUG, "%" PRIu64 " messages replayed", r->emitted);
}

static int is_segment(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 7 && !strcmp(d->d_name + n - 7, ".ndjson");
}

/* Appends path, or for a directory (a --journal DIR) its segments in name
 * order, which is seq order: 20-digit first seqs. */
static int add_operand(struct wsb_strlist *l, const char *path, struct wsb_err *err)
{
	struct dirent **ents;
	struct stat st;
	char *f = NULL;
	int n, r = 0;

	if (strcmp(path, "-") && !stat(path, &st) && S_ISDIR(st.st_mode)) {
		if ((n = scandir(path, &ents, is_segment, alphasort)) < 0)
			return wsb_err_errno(err, WSB_EXIT_NOINPUT, errno, "cannot read the directory %s", path);
		if (!n)
			r = wsb_err_set(err, WSB_EXIT_NOINPUT, "%s: a directory with no journal segments (*.ndjson)",
					path);
		for (int i = 0; i < n; i++) {
			f = NULL;
			if (!r && (asprintf(&f, "%s/%s", path, ents[i]->d_name) < 0 || wsb_strlist_add(l, f))) {
				free(f);
				r = wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
			}
			free(ents[i]);
		}
		free(ents);
		return r;
	}
	if (access(path, R_OK) && strcmp(path, "-"))
		return wsb_err_errno(err, WSB_EXIT_NOINPUT, errno, "cannot open %s", path);
	if (!(f = strdup(path)) || wsb_strlist_add(l, f)) {
		free(f);
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	}
	return 0;
}

int wsb_replay_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	struct rp r = { .cfg = cfg, .err = err, .fd = -1 };
	char *stdin_only[] = { "-" };
	char **given = cfg->n_operands ? cfg->operands : stdin_only;
	struct wsb_strlist files = { 0 };
	char **ops = NULL;
	int nops = 0;

	wsb_err_clear(err);
	signal(SIGPIPE, SIG_IGN);
	wsb_replay_bound_parse(cfg->from, &r.from);
	wsb_replay_bound_parse(cfg->to, &r.to);
	wsb_replay_sched_init(&r.sched, cfg->speed, cfg->rate, cfg->max_gap);
	r.need_ts = wsb_replay_sched_needs_ts(&r.sched) || r.from.kind == WSB_BOUND_TIME ||
		    r.to.kind == WSB_BOUND_TIME || cfg->loop != 1;
	r.buffered = cfg->rate <= 0 && cfg->speed <= 0;
	/* Room for the line, a replaced timestamp member and the setter's [,]. */
	r.cap = (size_t)cfg->max_line + 128;
	r.buf = malloc(r.cap);
	r.buf2 = malloc(r.cap);
	r.buf3 = malloc(r.cap);
	if (!r.buf || !r.buf2 || !r.buf3) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		r.rc = WSB_EXIT_OSERR;
		goto out;
	}
	if (compile(&r, err)) {
		r.rc = err->code;
		goto out;
	}
	/* Find a missing file before replaying an hour of the one before it. */
	for (int i = 0; i < (cfg->n_operands ? cfg->n_operands : 1); i++)
		if (add_operand(&files, given[i], err)) {
			r.rc = err->code;
			goto out;
		}
	ops = files.v;
	nops = (int)files.n;
	for (r.pass = 0; !r.stop && (cfg->loop == 0 || r.pass < cfg->loop); r.pass++) {
		uint64_t before = r.emitted;

		for (int i = 0; i < nops && !r.stop; i++) {
			if (open_input(&r, ops[i], err)) {
				r.rc = err->code;
				r.stop = 1;
				break;
			}
			replay_input(&r);
			close_input(&r);
		}
		if (!r.pass)
			r.shift_ms = wsb_replay_loop_shift(&r.loop);
		/* Nothing selected: more passes would select nothing forever. */
		if (r.emitted == before)
			break;
	}
	flush_out(&r);
	summary(&r);
out:
	close_input(&r);
	wsb_lines_free(&r.lines);
	wsb_jqf_free(r.where);
	wsb_jqf_free(r.tfield);
	wsb_jqf_free(r.setter);
	free(r.buf);
	free(r.buf2);
	free(r.buf3);
	wsb_buf_free(&r.out);
	for (size_t i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	/* Already reported where it happened, or nothing to report. */
	if (r.rc == 0 || (r.rc && !err->msg[0]))
		err->msg[0] = '\0';
	return wsb_err_exit(err, r.rc);
}

#include "pub.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "envbuf.h"
#include "envelope.h"
#include "jqfilter.h"
#include "jqprog.h"
#include "lineio.h"
#include "linemsg.h"
#include "log.h"
#include "msgq.h"
#include "producers.h"
#include "pubstate.h"
#include "resume.h"
#include "sys.h"
#include "wsclient.h"

/* Each queued record starts with where its line came from (operand index,
 * line number, and the byte offset just past it for --state-file), so the
 * first unacknowledged line can be named at the end and an acknowledged
 * one remembered; the message itself follows. */
#define REC_FILE 4u
#define REC_LINE 8u
#define REC_OFF 8u
#define REC_HDR (REC_FILE + REC_LINE + REC_OFF)
#define STATE_SAVE_MS 200

/* What --state-file needs of each operand: which file it was. */
struct input_id {
	uint64_t dev, ino;
};

struct pub {
	const struct wsb_cfg *cfg;
	struct wsb_client *cl;
	struct wsb_msgq *q;
	struct wsb_lines lines;
	char *buf;			/* one envelope being built */
	size_t buf_cap;
	struct wsb_linemsg lm;		/* --type, --raw */
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
	/* The last warning that explains why lines may stay unacknowledged
	 * (a failed attempt, a refusal): a non-zero exit repeats it, so -q,
	 * which hides warnings, never hides the reason for the status. */
	char trouble[300];
	int acks;			/* the server acknowledges (greeting named us) */
	int warned_noack;
	struct wsb_buf scan;		/* parse buffer for inbound frames */
	uint64_t id, sent, skipped, dropped;
	struct wsb_jqf *jq;		/* --jq and --type-from, as one program */
	char *held;			/* --jq: a line's last message so far (buf_cap) */
	uint64_t broker_max;		/* the broker's --max-message (greeting); 0: unknown */
	struct input_id *inputs;	/* per operand, for --state-file */
	struct wsb_pubstate st;		/* --state-file: what is acknowledged */
	int st_found;			/* the state file had a position */
	int st_dirty;			/* st changed since it was written */
	double linger_end;		/* monotonic s: when --linger runs out */
	int finished;			/* finish() ran: its status and message stand */
	int rc;
	struct wsb_err *err;
};

static void finish(struct pub *p, int rc)
{
	if (!p->rc)
		p->rc = rc;
	p->finished = 1;
	wsb_client_stop(p->cl);
}

static int queue_room(const struct pub *p)
{
	/* --drop-oldest only while the broker is away; connected, a full
	 * queue pushes back on the input like any other time. */
	return wsb_msgq_count(p->q) < p->cfg->queue || (p->cfg->drop_oldest && p->down);
}

/* Read on while there is input and the queue has room (or may drop). */
static void wake_input(struct pub *p)
{
	if (!p->input_done && !p->stopping && !p->eof_pending && queue_room(p))
		wsb_client_input_resume(p->cl);
}

static void maybe_close(struct pub *p)
{
	if ((p->input_done || p->stopping) && !wsb_msgq_count(p->q))
		wsb_client_close(p->cl);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* No more input will come: what is queued has --linger to be acknowledged. */
static void start_linger(struct pub *p)
{
	if (p->lingering || p->cfg->linger <= 0)
		return;
	p->lingering = 1;
	p->linger_end = mono_s() + p->cfg->linger;
	wsb_client_timer(p->cl, (int64_t)(p->cfg->linger * 1000 + 0.5));
}

static uint64_t inflight(const struct pub *p)
{
	return wsb_msgq_count(p->q) - wsb_msgq_unsent(p->q);
}

/* The operand index, line number and end offset a queued record came from. */
static uint32_t rec_source(const char *data, uint64_t *line, uint64_t *off)
{
	uint32_t file = 0;

	memcpy(&file, data, REC_FILE);
	memcpy(line, data + REC_FILE, REC_LINE);
	memcpy(off, data + REC_FILE + REC_LINE, REC_OFF);
	return file;
}

/* The operand's name in messages ("stdin" for "-"). */
static const char *operand_name(const struct pub *p, uint32_t file)
{
	if ((int)file >= p->cfg->n_operands)
		return "?";
	return strcmp(p->cfg->operands[file], "-") ? p->cfg->operands[file] : "stdin";
}

/* "N lines not acknowledged, first: FILE:LINE" for the error message. */
static void unacked_text(const struct pub *p, char *out, size_t cap)
{
	const char *data;
	size_t len, n = wsb_msgq_count(p->q);
	uint64_t id, line = 0, off;
	uint32_t file;

	if (!wsb_msgq_first(p->q, &data, &len, &id)) {
		/* Given up before the input ended: nothing is lost, but what
		 * was still to come was not read. */
		snprintf(out, cap, "no line lost: none was queued%s, but %s was not read to its end",
			 p->skipped ? " (the ones read were skipped)" : "", p->in_name ? p->in_name : "the input");
		return;
	}
	file = rec_source(data, &line, &off);
	snprintf(out, cap, "%zu line%s not acknowledged, first: %s:%" PRIu64, n, n == 1 ? "" : "s",
		 operand_name(p, file), line);
}

/* --state-file: the record with pseq id is done (acknowledged, or refused
 * for good), so a restart starts after it. Written out by save_state. */
static void note_done(struct pub *p, const char *data, uint64_t id)
{
	uint64_t line;
	uint32_t file = rec_source(data, &line, &p->st.offset);

	p->st.acked = id;
	if ((int)file < p->cfg->n_operands) {
		snprintf(p->st.file, sizeof p->st.file, "%s", p->cfg->operands[file]);
		p->st.dev = p->inputs[file].dev;
		p->st.ino = p->inputs[file].ino;
	}
	p->st_dirty = 1;
}

/* Releases queued records up to pseq n (acknowledged, or handed to a broker
 * that does not acknowledge), remembering where the last of them ended. */
static void release_upto(struct pub *p, uint64_t n)
{
	const char *data;
	size_t len;
	uint64_t id;

	while (wsb_msgq_first(p->q, &data, &len, &id) && id <= n) {
		if (p->cfg->state_file)
			note_done(p, data, id);
		wsb_msgq_release(p->q, id);
	}
}

/* Writes --state-file if it changed; a failure ends the run (74): going on
 * would break the promise the file is for. */
static int save_state(struct pub *p)
{
	struct wsb_err e;

	if (!p->cfg->state_file || !p->st_dirty)
		return 0;
	if (wsb_pubstate_save(p->cfg->state_file, &p->st, &e)) {
		*p->err = e;
		finish(p, e.code);
		return -1;
	}
	p->st_dirty = 0;
	return 0;
}

static int bad_line_in(struct pub *p, const char *name, uint64_t lineno, const char *why)
{
	wsb_log(p->cfg->strict ? WSB_LOG_ERROR : WSB_LOG_WARN, "%s:%" PRIu64 ": %s%s", name, lineno,
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

static int bad_line(struct pub *p, uint64_t lineno, const char *why)
{
	return bad_line_in(p, p->in_name, lineno, why);
}

/* Turns one input line into the message to send, in p->buf. Returns its
 * length, 0 to skip it, -1 to stop. */
static ssize_t envelope(struct pub *p, const char *line, size_t len, uint64_t lineno, int raw)
{
	struct wsb_err e;
	ssize_t n = wsb_linemsg_make(&p->lm, line, len, raw, p->buf + REC_HDR, p->buf_cap - REC_HDR, &e);

	return n < 0 ? bad_line(p, lineno, e.msg) : n;
}

static void input_end(struct pub *p);

/* The message of n bytes at rec + REC_HDR (rec holds buf_cap) into the
 * queue, from input line lineno; off is where a resume (--state-file)
 * starts once it is acknowledged. 0, or -1 to stop. */
static int queue_message(struct pub *p, char *rec, ssize_t n, uint64_t lineno, uint64_t off)
{
	uint32_t file = (uint32_t)(p->next_file - 1);

	/* pseq is the queue id, fixed here, so a resend is the same bytes
	 * and the server can tell it from a new message. */
	n = wsb_pseq_splice(rec + REC_HDR, (size_t)n, p->buf_cap - REC_HDR, p->producer, p->id + 1);
	if (n < 0)
		return bad_line(p, lineno, "too long with the producer id added");
	memcpy(rec, &file, REC_FILE);
	memcpy(rec + REC_FILE, &lineno, REC_LINE);
	memcpy(rec + REC_FILE + REC_LINE, &off, REC_OFF);
	/* Only --drop-oldest while the broker is away drops: one line's many
	 * --jq messages may pass --queue, and must not push each other out. */
	if (wsb_msgq_count(p->q) >= p->cfg->queue && p->cfg->drop_oldest && p->down &&
	    wsb_msgq_drop_first(p->q))
		p->dropped++;
	if (wsb_msgq_push(p->q, rec, REC_HDR + (size_t)n, ++p->id)) {
		wsb_err_set(p->err, WSB_EXIT_OSERR, "out of memory");
		finish(p, WSB_EXIT_OSERR);
		return -1;
	}
	return 0;
}

/* One line's --jq messages. Each is held back until the next comes: all
 * but the last resume at the line's start (a restart sends the line
 * again), only the last after it, so --state-file never skips a message
 * of a line it did not see acknowledged whole. */
struct jq_line {
	struct pub *p;
	uint64_t lineno, start, outputs;
	ssize_t held;		/* bytes of the message in p->held; 0: none */
	int stop;		/* bad_line said to stop (--strict) */
	int flood;		/* more messages than --queue from one line */
};

static int jq_message(void *ud, const char *json, size_t len)
{
	struct jq_line *l = ud;
	struct pub *p = l->p;
	ssize_t n;

	if (++l->outputs > p->cfg->queue) {
		l->flood = 1;
		return -1;
	}
	if (len > p->cfg->max_line)
		n = bad_line(p, l->lineno, "a --jq output longer than --max-line");
	else
		n = envelope(p, json, len, l->lineno, 0);
	if (n > 0 && l->held)
		l->stop = queue_message(p, p->held, l->held, l->lineno, l->start) < 0;
	if (n > 0 && !l->stop) {
		memcpy(p->held + REC_HDR, p->buf + REC_HDR, (size_t)n);
		l->held = n;
	}
	l->stop = l->stop || n < 0;
	return l->stop ? -1 : 0;
}

/* One input line through --jq/--type-from: 0..n messages. 0, or -1 to stop. */
static int jq_messages(struct pub *p, const char *line, size_t len, uint64_t lineno, uint64_t start)
{
	struct jq_line l = { p, lineno, start, 0, 0, 0, 0 };
	struct wsb_err e;
	char why[WSB_ERR_LEN + 64];
	long r;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	if (!len && !p->cfg->raw)
		return 0;
	r = wsb_jqf_each(p->jq, line, len, p->cfg->raw, jq_message, &l, &e);
	if (l.held && !l.stop && queue_message(p, p->held, l.held, lineno, r >= 0 ? p->lines.consumed : start))
		return -1;
	if (r >= 0 || l.stop)
		return l.stop ? -1 : 0;
	if (l.flood)
		return bad_line(p, lineno, "--jq made more than --queue messages of one line");
	/* Like jq, what came before the error was output: say how much. */
	snprintf(why, sizeof why, "%s: %s (%" PRIu64 " message%s of it sent)", p->cfg->jq ? "--jq" : "--type-from",
		 e.msg, l.outputs, l.outputs == 1 ? "" : "s");
	return bad_line(p, lineno, why);
}

static void take_lines(struct pub *p)
{
	const char *line;
	size_t len;
	uint64_t lineno;
	int r;

	for (;;) {
		uint64_t start = p->lines.consumed;
		ssize_t n;

		if (p->stopping || !queue_room(p) || !(r = wsb_lines_next(&p->lines, &line, &len, &lineno)))
			break;
		if (r == WSB_LINE_TOOLONG) {
			if (bad_line(p, lineno, "line longer than --max-line"))
				return;
			continue;
		}
		if (p->jq) {
			if (jq_messages(p, line, len, lineno, start))
				return;
			continue;
		}
		n = envelope(p, line, len, lineno, p->cfg->raw);
		if (n < 0)
			return;
		if (n && queue_message(p, p->buf, n, lineno, p->lines.consumed))
			return;
	}
	if (wsb_msgq_unsent(p->q))
		wsb_client_want_write(p->cl);
	/* The last lines of an input at EOF were held back by a full queue. */
	if (p->eof_pending && !p->stopping && wsb_lines_done(&p->lines))
		input_end(p);
}

/* Identifies operand idx (open as fd) for --state-file and, for the file
 * the state's last acknowledged line came from, seeks past that line. */
static int resume_input(struct pub *p, int idx, int fd)
{
	const char *name = p->cfg->operands[idx], *why;
	struct stat sb;
	uint64_t off;

	if (!p->cfg->state_file)
		return 0;
	if (fstat(fd, &sb))
		return wsb_err_errno(p->err, WSB_EXIT_NOINPUT, errno, "cannot stat %s", p->in_name);
	p->inputs[idx].dev = (uint64_t)sb.st_dev;
	p->inputs[idx].ino = (uint64_t)sb.st_ino;
	if (!p->st_found || strcmp(name, p->st.file))
		return 0;
	p->st_found = 0;	/* once: the same name again later is read whole */
	if (!S_ISREG(sb.st_mode)) {
		wsb_log(WSB_LOG_WARN, "%s is not a regular file: it cannot be resumed, reading all of it",
			p->in_name);
		return 0;
	}
	if (wsb_pubstate_resume(&p->st, p->inputs[idx].dev, p->inputs[idx].ino, (uint64_t)sb.st_size, &off,
				&why) != WSB_RESUME_SEEK) {
		wsb_log(WSB_LOG_WARN, "%s is %s: reading it from the start", p->in_name, why);
		return 0;
	}
	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return wsb_err_errno(p->err, WSB_EXIT_NOINPUT, errno, "cannot seek in %s", p->in_name);
	p->lines.consumed = off;
	wsb_log(WSB_LOG_INFO, "resuming %s at byte %" PRIu64 ", after pseq %" PRIu64, p->in_name, off, p->st.acked);
	return 0;
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
	if (wsb_lines_init(&p->lines, p->cfg->max_line)) {
		wsb_err_set(p->err, WSB_EXIT_OSERR, "out of memory");
		return -1;
	}
	if (resume_input(p, p->next_file - 1, fd) || wsb_client_input(p->cl, fd, p->err))
		return -1;
	return 1;
}

static char *in_buf(void *ud, size_t *room)
{
	struct pub *p = ud;

	/* After finish() the input is nobody's business: the client's
	 * teardown still offers it (a hung-up input is read to EOF), and a
	 * read of the file closed by then would replace the run's error. */
	if (p->finished) {
		*room = 0;
		return NULL;
	}
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
	char text[1200];
	int notable = wsb_client_open_text(p->cl, text, sizeof text);

	wsb_log(notable ? WSB_LOG_WARN : WSB_LOG_INFO, "%s", text);
	/* Nothing is sent before the greeting says what the server has. */
	p->ready = 0;
	wsb_msgq_rewind(p->q);
}

/* After acknowledgements or sends: pull buffered lines, wake the reader,
 * close when everything is through. */
static void progress(struct pub *p)
{
	take_lines(p);
	wake_input(p);
	if (wsb_msgq_unsent(p->q) && inflight(p) < p->cfg->max_inflight)
		wsb_client_want_write(p->cl);
	maybe_close(p);
}

/* A queued line longer than the broker's --max-message (learnt from the
 * greeting: the line may have been read before it) is skipped and reported
 * like an invalid line instead of getting the connection closed with 1009.
 * It leaves the queue only from its head, once every line before it is
 * acknowledged, so that releasing it releases nothing else; its pseq stays
 * unused, a step the broker allows. Returns 1 when it was dropped. */
static int too_big(struct pub *p, const char *data, uint64_t id)
{
	const char *d;
	size_t l;
	uint64_t first, line, off;
	uint32_t file;
	char why[96];
	int r;

	if (!wsb_msgq_first(p->q, &d, &l, &first) || first != id)
		return 0;
	file = rec_source(data, &line, &off);
	snprintf(why, sizeof why, "longer than the broker's --max-message (%" PRIu64 " bytes)", p->broker_max);
	r = bad_line_in(p, operand_name(p, file), line, why);
	release_upto(p, id);
	/* --strict: nothing after the bad line goes out, as when it is found
	 * on reading; not noted as done, so a --state-file rerun reads it. */
	if (r)
		wsb_msgq_release(p->q, UINT64_MAX);
	return r ? 0 : 1;
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
		if (p->broker_max && len - REC_HDR > p->broker_max) {
			if (too_big(p, data, id))
				continue;
			break;
		}
		if (wsb_client_send(p->cl, data + REC_HDR, len - REC_HDR) <= 0)
			break;
		wsb_msgq_advance(p->q);
		/* Without acknowledgements a line is done once handed to the socket. */
		if (!p->acks)
			release_upto(p, id);
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
	/* At once, before any line is sent: a restart without the secret
	 * would be refused the id, and with another id it would send again
	 * what the broker already has. */
	if (p->cfg->state_file && strcmp(p->st.secret, p->secret)) {
		snprintf(p->st.secret, sizeof p->st.secret, "%s", p->secret);
		p->st_dirty = 1;
		save_state(p);
	}
}

/* connection_established: with "producer" the server acknowledges, and
 * "accepted" is the last pseq it has of ours; everything after it is sent
 * (again), in order. */
static void greeting(struct pub *p, const char *obj, size_t len)
{
	struct wsb_span v;
	uint64_t accepted = 0;

	p->acks = wsb_env_lookup(obj, len, "producer", &v);
	/* Lines longer than the broker takes are skipped when sent (too_big). */
	if (!wsb_env_lookup(obj, len, "max_message", &v) || wsb_env_uint(obj + v.off, v.len, &p->broker_max))
		p->broker_max = 0;
	if (p->acks && wsb_env_lookup(obj, len, "producer_secret", &v))
		keep_secret(p, obj + v.off, v.len);
	if (p->acks) {
		if (wsb_env_lookup(obj, len, "accepted", &v) && !wsb_env_uint(obj + v.off, v.len, &accepted))
			release_upto(p, accepted);
		wsb_log(WSB_LOG_INFO, "producer %s: the broker has accepted up to pseq %" PRIu64 ", %zu to send",
			p->producer, accepted, wsb_msgq_count(p->q));
	} else if (!p->warned_noack) {
		p->warned_noack = 1;
		wsb_log(WSB_LOG_WARN, "the broker does not acknowledge messages (an older wsbridge-serve?): "
			"lines count as published once sent");
	}
	if (!p->acks || !wsb_msgq_count(p->q))	/* UNAVAILABLE greets too: an ack */
		wsb_client_proved(p->cl);	/* proves the connection, or nothing to wait for */
	wsb_msgq_rewind(p->q);
	p->ready = 1;
	p->down = 0;
	progress(p);
}

/* An error without a seq: a line was refused, and the broker publishes and
 * acks nothing more on this connection (acks are cumulative: protocol.md). */
static void broker_error(struct pub *p, const char *obj, size_t len)
{
	char code[40] = "", text[512] = "", what[WSB_ERR_LEN];
	struct wsb_span v, m;

	if (wsb_env_lookup(obj, len, "data", &v)) {
		if (wsb_env_lookup(obj + v.off, v.len, "message", &m))
			wsb_env_string(obj + v.off + m.off, m.len, text, sizeof text);
		if (wsb_env_lookup(obj + v.off, v.len, "code", &m))
			wsb_env_string(obj + v.off + m.off, m.len, code, sizeof code);
	}
	if (p->finished)
		return;	/* the errors for the lines after the first say less */
	if (!strcmp(code, "UNAVAILABLE") || !strcmp(code, "RATE_LIMITED") || !strcmp(code, "INTERNAL_ERROR")) {
		/* Passing: resend from a new connection (maybe the next
		 * --url), from the greeting's count. */
		snprintf(p->trouble, sizeof p->trouble, "the broker could not publish (%s: %.200s)", code, text);
		wsb_log(WSB_LOG_WARN, "the broker is up but cannot publish now (%s: %s); "
			"reconnecting to send the unacknowledged lines again", code, text[0] ? text : "no reason given");
		snprintf(what, sizeof what, "resending after %s", code);
		wsb_client_reconnect(p->cl, what);
	} else if (!strcmp(code, "FORBIDDEN")) {
		/* Permission: no resend or linger can change it, so 77 now. */
		wsb_log(WSB_LOG_ERROR, "refused by the broker (FORBIDDEN): %s", text[0] ? text : "(no reason)");
		wsb_err_set(p->err, WSB_EXIT_NOPERM, "%s", "");
		finish(p, WSB_EXIT_NOPERM);
	} else {
		/* For good (SEQ_EXHAUSTED, a line the broker reads otherwise than
		 * pub, a code pub does not know): resending or --linger changes
		 * nothing, so 75 now, naming the code and the lines. */
		snprintf(p->trouble, sizeof p->trouble, "the broker refused a message%s%.40s%s: %.200s",
			 code[0] ? " (" : "", code, code[0] ? ")" : "", text[0] ? text : "(no reason)");
		unacked_text(p, what, sizeof what);
		wsb_err_set(p->err, WSB_EXIT_TEMPFAIL, "%s; %s", p->trouble, what);
		finish(p, WSB_EXIT_TEMPFAIL);
	}
}

static void message(void *ud, const char *msg, size_t len)
{
	struct pub *p = ud;
	struct wsb_env env;
	struct wsb_span v;
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
			wsb_client_proved(p->cl);
			release_upto(p, n);
			progress(p);
		}
	} else if (!strcmp(env.type, "connection_established")) {
		greeting(p, obj, len);
	} else if (!strcmp(env.type, "error") && !env.has_seq) {	/* with a seq: published */
		broker_error(p, obj, len);
	}
}

/* Given up with nothing queued: whether anything was left to send depends
 * on the rest of the input, which a file (not a pipe: it may never end)
 * can tell now, outside the event loop, so an input with nothing to send
 * ends 0 however reading and the failed connects interleaved. 1 when that
 * settled the run: input read out with nothing queued, or finish() ran
 * (--strict, a read error); 0 when a line is queued or a pipe is left. */
static int read_files_out(struct pub *p)
{
	struct stat sb;

	while (!p->input_done && !p->finished && !p->eof_pending && !wsb_msgq_count(p->q)) {
		size_t room = 0;
		char *b;
		ssize_t n;

		if (p->in_fd < 0 || fstat(p->in_fd, &sb) || !S_ISREG(sb.st_mode) || !(b = in_buf(p, &room)) || !room)
			return 0;
		n = read(p->in_fd, b, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			in_error(p, errno);
			break;
		}
		in_data(p, (size_t)n);
	}
	return p->finished || (p->input_done && !wsb_msgq_count(p->q));
}

static void closed(void *ud, int code, const char *reason, int64_t retry_ms)
{
	struct pub *p = ud;
	size_t left = wsb_msgq_count(p->q);
	char text[WSB_ERR_LEN], what[1200];
	int rc;

	p->ready = 0;
	/* The connection torn down after we decided (a second Ctrl-C) must not
	 * replace the reason given. */
	if (p->finished)
		return;
	wsb_client_fail_text(p->cl, code, reason, what, sizeof what);
	if (retry_ms >= 0) {
		p->down = 1;	/* --drop-oldest drops now: read what a full queue held back */
		wake_input(p);
		snprintf(p->trouble, sizeof p->trouble, "%.290s", what);
		if (p->lingering && mono_s() + (double)retry_ms / 1000 >= p->linger_end)
			wsb_log(WSB_LOG_WARN, "%s; giving up in %.1fs (--linger) with %zu line%s queued", what,
				p->linger_end - mono_s() > 0 ? p->linger_end - mono_s() : 0, left, left == 1 ? "" : "s");
		else
			wsb_log(WSB_LOG_WARN, "%s; retrying in %.1fs with %zu line%s queued", what,
				(double)retry_ms / 1000, left, left == 1 ? "" : "s");
		return;
	}
	if ((p->input_done || p->stopping) && !left) {
		finish(p, WSB_EXIT_OK);
		return;
	}
	if (!left && read_files_out(p)) {
		finish(p, WSB_EXIT_OK);	/* a status finish() already set stands */
		return;
	}
	if (code == 1000 && p->rc) {
		finish(p, p->rc);
		return;
	}
	rc = wsb_client_exit_code(code);
	unacked_text(p, text, sizeof text);
	wsb_err_set(p->err, rc, "%s%s; %s", rc == WSB_EXIT_NOPERM ? "refused by the broker: " :
		    rc == WSB_EXIT_CONFIG ? "" : "giving up: ", what, text);
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
	wsb_err_set(p->err, WSB_EXIT_TEMPFAIL, "%s after waiting %gs%s%s", text, p->cfg->linger,
		    p->trouble[0] ? "; last trouble: " : "", p->trouble);
	finish(p, WSB_EXIT_TEMPFAIL);
}

static void announce_wait(const struct pub *p)
{
	size_t n = wsb_msgq_count(p->q);
	double left = p->linger_end - mono_s();

	if (!n)
		return;
	if (p->lingering)
		wsb_log(WSB_LOG_WARN, "interrupted: waiting up to %.0f s for %zu unacknowledged line%s; "
			"Ctrl-C again to quit", left > 0 ? left : 0, n, n == 1 ? "" : "s");
	else
		wsb_log(WSB_LOG_WARN, "interrupted: waiting for %zu unacknowledged line%s (--linger 0: "
			"no limit); Ctrl-C again to quit", n, n == 1 ? "" : "s");
}

/* --state-file is written at most every STATE_SAVE_MS: an fsync per
 * acknowledgement would cap the rate, and what a crash loses of it is only
 * sent again under the same pseq, which the broker drops as a duplicate. */
static void tick(void *ud)
{
	save_state(ud);
}

static void on_signal(void *ud, int sig)
{
	struct pub *p = ud;
	char text[WSB_ERR_LEN];

	if (p->stopping || !wsb_msgq_count(p->q)) {
		if (wsb_msgq_count(p->q)) {
			unacked_text(p, text, sizeof text);
			wsb_err_set(p->err, WSB_EXIT_TEMPFAIL, "interrupted; %s%s%s", text,
				    p->trouble[0] ? "; last trouble: " : "", p->trouble);
		}
		finish(p, wsb_msgq_count(p->q) ? WSB_EXIT_TEMPFAIL : WSB_EXIT_OK);
		return;
	}
	/* First signal: stop reading; what is queued has --linger to be
	 * acknowledged, then the connection closes. Said at once: a user who
	 * pressed Ctrl-C must not be left guessing why nothing happens. */
	p->stopping = 1;
	start_linger(p);
	announce_wait(p);
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
	.tick = tick,
};

/* --state-file: a saved run goes on as the same producer (id with run
 * suffix, secret) after the last acked pseq; inputs before that line's are
 * done. A new state file is written once the broker issues a secret. */
static int load_state(struct pub *p, struct wsb_err *err)
{
	const struct wsb_cfg *cfg = p->cfg;
	size_t plen = cfg->producer ? strlen(cfg->producer) : 0;
	int found;

	if (!cfg->state_file)
		return 0;
	if (wsb_pubstate_load(cfg->state_file, &p->st, &found, err))
		return -1;
	if (!found) {
		snprintf(p->st.producer, sizeof p->st.producer, "%s", p->producer);
		p->st_dirty = 1;
		return 0;
	}
	if (cfg->producer && (strncmp(p->st.producer, cfg->producer, plen) || p->st.producer[plen] != ':'))
		return wsb_err_set(err, WSB_EXIT_USAGE, "%s belongs to producer %s, not --producer %s",
				   cfg->state_file, p->st.producer, cfg->producer);
	memcpy(p->producer, p->st.producer, sizeof p->producer);
	if (strlen(p->st.secret) == WSB_SECRET_HEX)
		memcpy(p->secret, p->st.secret, sizeof p->secret);
	p->id = p->st.acked;
	p->st_found = p->st.file[0] != '\0';
	for (int i = 0; p->st_found && i < cfg->n_operands; i++)
		if (!strcmp(cfg->operands[i], p->st.file)) {
			p->next_file = i;	/* the ones before it are done */
			return 0;
		}
	if (p->st_found)
		wsb_log(WSB_LOG_WARN, "%s: %s is not among the inputs now; reading them from the start",
			cfg->state_file, p->st.file);
	p->st_found = 0;
	return 0;
}

/* The producer id this run publishes as (with --state-file, the saved one
 * and its secret), and the query that names it. */
static int producer_query(struct pub *p, const struct wsb_cfg *cfg, struct wsb_err *err)
{
	if (cfg->producer) {
		/* Every run numbers its lines from 1, so the id gets a run suffix: a
		 * new run must not pass for a resend of the last one's (acked and
		 * dropped). wsb_cfg_check keeps it within WSB_PRODUCER_NAME_MAX. */
		snprintf(p->producer, sizeof p->producer, "%s:%08x", cfg->producer,
			 (unsigned)wsb_random64());
	} else {
		char host[256] = "";

		gethostname(host, sizeof host - 1);
		wsb_producer_id_make(p->producer, host, (long)getpid(), (unsigned)wsb_random64());
	}
	if (load_state(p, err))
		return -1;
	if (wsb_client_query_add(p->query, sizeof p->query, "producer", p->producer) ||
	    wsb_client_query_add(p->query, sizeof p->query, cfg->echo ? "echo" : "subscribe",
				 cfg->echo ? "1" : "none") ||
	    wsb_client_query_add(p->query, sizeof p->query, "stamp", "1") ||	/* producer/pseq (--echo) */
	    (p->secret[0] && wsb_client_query_add(p->query, sizeof p->query, "producer_secret", p->secret)))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--producer too long");
	return 0;
}

int wsb_pub_run(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	static char *stdin_operand[] = { "-" };
	struct wsb_cfg c2 = *cfg;
	struct wsb_client_cfg ccfg;
	struct pub p = { .cfg = &c2, .err = err, .in_fd = -1 };
	struct wsb_err e2;
	int r;

	/* A publisher listens to nothing (subscribe=none in query), so other
	 * publishers' traffic is not sent to it; with --echo it sees its own. */
	wsb_client_cfg_from(&ccfg, cfg, p.query);
	ccfg.tool_proves = 1;	/* an ack, not the greeting (see greeting()) */
	if (!c2.n_operands) {
		c2.operands = stdin_operand;
		c2.n_operands = 1;
	}
	if (producer_query(&p, cfg, err) < 0)
		return -1;
	wsb_linemsg_init(&p.lm, cfg->type);	/* checked by wsb_cfg_check */
	if ((cfg->jq || cfg->type_from) && !(p.jq = pub_jq_program(cfg, err)))
		return -1;	/* nothing is open yet */
	p.buf_cap = REC_HDR + wsb_linemsg_cap(&p.lm, cfg->max_line) + WSB_PSEQ_SPLICE_MAX;
	p.buf = malloc(p.buf_cap);
	p.held = p.jq ? malloc(p.buf_cap) : NULL;
	p.q = wsb_msgq_new();
	p.inputs = calloc((size_t)c2.n_operands, sizeof *p.inputs);
	if (!p.buf || !p.q || !p.inputs || (p.jq && !p.held)) {
		r = wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");	/* -1: err has it */
		goto out;
	}
	p.cl = wsb_client_new(&ccfg, &ops, &p, err);
	if (!p.cl || open_next(&p) < 0) {
		r = err->code;
		goto out;
	}
	if (cfg->state_file)
		wsb_client_every(p.cl, STATE_SAVE_MS);
	if (wsb_client_run(p.cl, err)) {
		r = err->code;
		goto out;
	}
	if (!p.rc)
		save_state(&p);
	else if (p.st_dirty)
		wsb_pubstate_save(cfg->state_file, &p.st, &e2);
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
		wsb_log(WSB_LOG_WARN, "skipped %" PRIu64 " line%s (invalid or too long)", p.skipped,
			p.skipped == 1 ? "" : "s");
out:
	if (p.in_fd > 0)
		close(p.in_fd);
	wsb_client_free(p.cl);
	wsb_lines_free(&p.lines);
	wsb_msgq_free(p.q);
	wsb_jqf_free(p.jq);
	free(p.buf);
	free(p.held);
	wsb_buf_free(&p.scan);
	free(p.inputs);
	explicit_bzero(&p.st, sizeof p.st);
	return wsb_err_exit(err, r);
}

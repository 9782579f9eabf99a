/* wsbridge-serve --stdin (serve.h): the broker is also its own publisher,
 * for a one-process bridge (tail -f trades.log | wsbridge-serve --stdin
 * --type trade). Lines become messages exactly as in wsbridge-pub
 * (lineio, linemsg: --type, --raw, --strict, --max-line) and are
 * published as no session's, like POST /publish. Back-pressure is pub's:
 * stdin is not read while publishers are paused, so a slow subscriber holds
 * the writer back through the pipe instead of growing memory. At the end of
 * the input every line is published (the rest of a pipe is read even after
 * the writer is gone) and the broker goes on serving; --strict stops it
 * with 65 at the first bad line.
 */
#include "serve.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"
#include "linemsg.h"
#include "log.h"

struct serve_input {
	struct wsb_lines lines;
	struct wsb_linemsg lm;
	char *msg;			/* one message, wsb_linemsg_cap(max_line) */
	size_t cap;
	uint64_t published, skipped;
	int eof;			/* read() said so */
	int done;			/* every line taken, or --strict stopped */
	struct wsb_watch *watch;	/* stdin polled by the transport, or NULL */
};

/* 0: go on; -1: --strict stops the broker. */
static int bad_line(struct serve *s, uint64_t lineno, const char *why)
{
	struct serve_input *in = s->input;

	in->skipped++;
	if (!s->cfg->strict) {
		wsb_log(WSB_LOG_WARN, "stdin:%" PRIu64 ": %s (skipped)", lineno, why);
		return 0;
	}
	wsb_log(WSB_LOG_ERROR, "stdin:%" PRIu64 ": %s", lineno, why);
	wsb_err_set(&s->stop_err, WSB_EXIT_DATAERR, "stopping at the first invalid line of stdin (--strict)");
	in->done = 1;
	wsb_server_stop(s->srv);
	return -1;
}

static int publish_line(struct serve *s, const char *line, size_t len, uint64_t lineno)
{
	struct serve_input *in = s->input;
	struct wsb_err err;
	const char *code;
	ssize_t n = wsb_linemsg_make(&in->lm, line, len, s->cfg->raw, in->msg, in->cap, &err);

	if (n < 0)
		return bad_line(s, lineno, err.msg);
	if (!n)
		return 0;
	if (!wsb_broker_publish(s->broker, in->msg, (size_t)n, NULL, 0, &code, &err))
		return bad_line(s, lineno, err.msg);
	in->published++;
	return 0;
}

/* Lines while publishers may publish: a publish can start a pause, which
 * stops this loop until it lifts (serve_input_resume). */
static void take_lines(struct serve *s)
{
	struct serve_input *in = s->input;
	struct wsb_server_stats st;
	const char *line;
	size_t len;
	uint64_t lineno;
	int r;

	for (;;) {
		wsb_server_stats(s->srv, &st);
		if (in->done || st.publishers_paused || st.stopping ||
		    !(r = wsb_lines_next(&in->lines, &line, &len, &lineno)))
			break;
		if (r == WSB_LINE_TOOLONG ? bad_line(s, lineno, "line longer than --max-line")
					  : publish_line(s, line, len, lineno))
			return;
	}
	if (!in->done && in->eof && wsb_lines_done(&in->lines)) {
		in->done = 1;
		wsb_log(WSB_LOG_INFO, "stdin: end of input: %" PRIu64 " published, %" PRIu64 " skipped",
			in->published, in->skipped);
	}
}

static void in_error(struct serve *s, int errnum)
{
	wsb_log(WSB_LOG_ERROR, "stdin: %s", strerror(errnum));
	wsb_err_set(&s->stop_err, WSB_EXIT_IOERR, "cannot read stdin: %s", strerror(errnum));
	s->input->done = 1;
	wsb_server_stop(s->srv);
}

/* One read into the line buffer, while publishers may publish and there
 * is room: 1 read something, 0 nothing to do now, -1 end or error. */
static int read_some(struct serve *s)
{
	struct serve_input *in = s->input;
	struct wsb_server_stats st;
	size_t room;
	ssize_t n;

	take_lines(s);
	wsb_server_stats(s->srv, &st);
	if (in->done || in->eof || st.publishers_paused || st.stopping || !(room = wsb_lines_room(&in->lines)))
		return 0;
	n = read(0, wsb_lines_wptr(&in->lines), room);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0) {
		in_error(s, errno);
		return -1;
	}
	if (n == 0) {
		in->eof = 1;
		wsb_lines_eof(&in->lines);
	} else {
		wsb_lines_commit(&in->lines, (size_t)n);
	}
	take_lines(s);
	return n ? 1 : -1;
}

/* stdin polled by the transport: readable, or hung up (then once more). No
 * room, or publishers paused: stop polling (it would wake us at once,
 * again and again) until the tick finds room. */
static void on_event(void *ud, void *h, int writable)
{
	struct serve *s = ud;
	struct serve_input *in = s->input;

	if (read_some(s) == 0 && in->watch) {
		wsb_server_unwatch(in->watch);
		in->watch = NULL;
	}
	if ((in->eof || in->done) && in->watch) {
		wsb_server_unwatch(in->watch);
		in->watch = NULL;
	}
}

int serve_input_start(struct serve *s, struct wsb_err *err)
{
	struct serve_input *in = calloc(1, sizeof *in);

	if (!(s->input = in))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	wsb_linemsg_init(&in->lm, s->cfg->type);
	in->cap = wsb_linemsg_cap(&in->lm, s->cfg->max_line);
	if (!(in->msg = malloc(in->cap)) || wsb_lines_init(&in->lines, s->cfg->max_line))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	if (!(in->watch = wsb_server_watch(s->srv, 0, on_event, s, NULL)))
		return wsb_err_set(err, WSB_EXIT_OSERR, "cannot watch stdin");
	return 0;
}

/* From the tick: lines read before a pause, then what stdin holds now,
 * read directly while it is readable (a pipe whose writer left, which lws
 * no longer polls: library notes, gotcha 7), then polling again. */
void serve_input_resume(struct serve *s)
{
	struct serve_input *in = s->input;
	struct pollfd pfd = { 0, POLLIN, 0 };

	if (!in || in->done)
		return;
	take_lines(s);
	while (!in->eof && !in->done && poll(&pfd, 1, 0) == 1 && read_some(s) == 1)
		;
	if (!in->eof && !in->done && !in->watch)
		in->watch = wsb_server_watch(s->srv, 0, on_event, s, NULL);
}

void serve_input_free(struct serve *s)
{
	if (!s->input)
		return;
	if (s->input->watch)
		wsb_server_unwatch(s->input->watch);
	wsb_lines_free(&s->input->lines);
	free(s->input->msg);
	free(s->input);
	s->input = NULL;
}

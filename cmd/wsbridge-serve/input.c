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

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lineio.h"
#include "linemsg.h"
#include "log.h"

struct serve_input {
	struct wsb_lines lines;
	struct wsb_linemsg lm;
	char *msg;			/* one message, wsb_linemsg_cap(max_line) */
	size_t cap;
	uint64_t published, skipped;
	int done;
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
	ssize_t n = wsb_linemsg_make(&in->lm, line, len, in->msg, in->cap, &err);

	if (n < 0)
		return bad_line(s, lineno, err.msg);
	if (!n)
		return 0;
	if (!wsb_broker_publish(s->broker, in->msg, (size_t)n, 0, &code, &err))
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
	if (!in->done && wsb_lines_done(&in->lines)) {
		in->done = 1;
		wsb_log(WSB_LOG_INFO, "stdin: end of input: %" PRIu64 " published, %" PRIu64 " skipped",
			in->published, in->skipped);
	}
}

static char *in_buf(void *ud, size_t *room)
{
	struct serve *s = ud;
	struct serve_input *in = s->input;

	take_lines(s);
	*room = in->done ? 0 : wsb_lines_room(&in->lines);
	return *room ? wsb_lines_wptr(&in->lines) : NULL;
}

static void in_data(void *ud, size_t n)
{
	struct serve *s = ud;

	if (n)
		wsb_lines_commit(&s->input->lines, n);
	else
		wsb_lines_eof(&s->input->lines);
	take_lines(s);
}

static void in_error(void *ud, int errnum)
{
	struct serve *s = ud;

	wsb_log(WSB_LOG_ERROR, "stdin: %s", strerror(errnum));
	wsb_err_set(&s->stop_err, WSB_EXIT_IOERR, "cannot read stdin: %s", strerror(errnum));
	s->input->done = 1;
	wsb_server_stop(s->srv);
}

void serve_input_ops(struct wsb_server_ops *ops)
{
	ops->in_buf = in_buf;
	ops->in_data = in_data;
	ops->in_error = in_error;
}

int serve_input_start(struct serve *s, struct wsb_err *err)
{
	struct serve_input *in = calloc(1, sizeof *in);

	if (!(s->input = in))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	wsb_linemsg_init(&in->lm, s->cfg->type, s->cfg->raw);
	in->cap = wsb_linemsg_cap(&in->lm, s->cfg->max_line);
	if (!(in->msg = malloc(in->cap)) || wsb_lines_init(&in->lines, s->cfg->max_line))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	return wsb_server_input(s->srv, 0, err);
}

void serve_input_resume(struct serve *s)
{
	if (!s->input || s->input->done)
		return;
	take_lines(s);		/* what was read before the pause */
	wsb_server_input_resume(s->srv);
}

void serve_input_free(struct serve *s)
{
	if (!s->input)
		return;
	wsb_lines_free(&s->input->lines);
	free(s->input->msg);
	free(s->input);
	s->input = NULL;
}

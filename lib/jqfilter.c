#include <jq.h>
#include <jv.h>

#include "jqfilter.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct wsb_jqf {
	jq_state *jq;
	char cb_msg[WSB_ERR_LEN];	/* first message libjq reported through the callback */
	jv held;			/* keeps out->str alive until the next run */
	int line_shift;			/* lines of prelude before the user's program */
	struct itimerval budget;	/* CPU per run; zero: none */
};

struct wsb_jqv {
	jv v;
};

/* Inert stand-ins for every builtin that reads the environment, the files
 * or the process's streams. Definitions must come first, so an import or
 * include after them is a syntax error: modules are never loaded. $ENV is
 * a variable, bound rather than defined. One line: line_shift. */
static const char sandbox[] =
	"def env: {}; def get_search_list: []; def get_prog_origin: null; def get_jq_origin: null; "
	"def modulemeta: error(\"modules are not available\"); def _input: error(\"no input\"); "
	"def input: _input; def inputs: empty; def debug: .; def stderr: .; def input_filename: null; "
	"def input_line_number: null; {} as $ENV |\n";

/* "at <top-level>, line N:" counts the prelude's line too. */
static void unshift_line(struct wsb_jqf *f)
{
	static const char at[] = "<top-level>, line ";
	char *p = strstr(f->cb_msg, at), *end, rest[WSB_ERR_LEN];
	long n;

	if (!f->line_shift || !p)
		return;
	p += sizeof at - 1;
	n = strtol(p, &end, 10);
	if (end == p || n <= f->line_shift)
		return;
	snprintf(rest, sizeof rest, "%s", end);
	snprintf(p, sizeof f->cb_msg - (size_t)(p - f->cb_msg), "%ld%s", n - f->line_shift, rest);
}

/* libjq hands the callback ownership of msg (execute.c default_err_cb). A
 * compile error arrives as the real message and then "jq: 1 compile error";
 * only the first is worth showing. */
static void err_cb(void *ud, jv msg)
{
	struct wsb_jqf *f = ud;

	if (!f->cb_msg[0]) {
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			const char *s = jv_string_value(msg);

			if (!strncmp(s, "jq: error: ", 11))
				s += 11;
			snprintf(f->cb_msg, sizeof f->cb_msg, "%s", s);
			/* jq quotes the program on a second line; errors here are one line. */
			for (char *p = f->cb_msg; *p; p++)
				if (*p == '\n' || *p == '\t')
					*p = ' ';
			for (size_t n = strlen(f->cb_msg); n && f->cb_msg[n - 1] == ' ';)
				f->cb_msg[--n] = '\0';
			unshift_line(f);
		} else {
			jv d = jv_dump_string(jv_copy(msg), 0);

			snprintf(f->cb_msg, sizeof f->cb_msg, "%s", jv_string_value(d));
			jv_free(d);
		}
	}
	jv_free(msg);
}

/* libjq cannot go on when malloc fails, and 1.6 then calls the handler it
 * was given, NULL by default: a jump to address 0. Die the way it meant
 * to (jqproc's worker is where that is expected to happen). */
static void out_of_memory(void *ud)
{
	(void)ud;
	abort();
}

/* debug has no callback by default, and the sandbox replaces it anyway;
 * a callback that drops the value keeps it off every stream regardless. */
static void debug_cb(void *ud, jv msg)
{
	jv_free(msg);
}

static struct wsb_jqf *compile(const char *prog, int sandboxed, struct wsb_err *err)
{
	struct wsb_jqf *f = calloc(1, sizeof *f);
	char *text = NULL;
	int ok;

	if (!f || !(f->jq = jq_init()) ||
	    (sandboxed && !(text = malloc(sizeof sandbox + strlen(prog))))) {
		if (f && f->jq)
			jq_teardown(&f->jq);
		free(f);
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	f->held = jv_null();
	jq_set_error_cb(f->jq, err_cb, f);
	jq_set_debug_cb(f->jq, debug_cb, NULL);
	jq_set_nomem_handler(f->jq, out_of_memory, NULL);
	if (sandboxed) {
		memcpy(text, sandbox, sizeof sandbox - 1);
		strcpy(text + sizeof sandbox - 1, prog);
		f->line_shift = 1;
	}
	/* Always an object: Debian's jq 1.6 double-frees an array here. */
	ok = jq_compile_args(f->jq, text ? text : prog, jv_object());
	free(text);
	if (!ok) {
		/* A long program would leave no room for jq's message. */
		wsb_err_set(err, WSB_EXIT_USAGE, "jq program '%.40s%s': %s", prog, strlen(prog) > 40 ? "..." : "",
			    f->cb_msg[0] ? f->cb_msg : "does not compile");
		wsb_jqf_free(f);
		return NULL;
	}
	f->cb_msg[0] = '\0';
	return f;
}

struct wsb_jqf *wsb_jqf_compile(const char *prog, struct wsb_err *err)
{
	return compile(prog, 0, err);
}

struct wsb_jqf *wsb_jqf_compile_sandboxed(const char *prog, struct wsb_err *err)
{
	return compile(prog, 1, err);
}

/* ---- the CPU budget ---- */

static jq_state *volatile budget_jq;	/* the run the timer may halt */
static volatile sig_atomic_t budget_hit;

/* Only stores: jq_halt() with values that own no memory sets three fields,
 * and jq_next() returns at its next instruction. */
static void on_prof(int sig)
{
	jq_state *jq = budget_jq;

	(void)sig;
	if (jq && !jq_halted(jq)) {
		budget_hit = 1;
		jq_halt(jq, jv_invalid(), jv_invalid());
	}
}

void wsb_jqf_set_cpu_limit(struct wsb_jqf *f, double seconds)
{
	static int installed;
	long us = seconds > 0 ? (long)(seconds * 1e6) : 0;

	if (us && !installed) {
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_prof;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPROF, &sa, NULL);
		installed = 1;
	}
	memset(&f->budget, 0, sizeof f->budget);
	f->budget.it_value.tv_sec = us / 1000000;
	f->budget.it_value.tv_usec = us % 1000000 + (us > 0 && us < 1);
}

/* jq_next under f's budget: jv_invalid() (no message) when it ran out, and
 * *over says so. */
static jv next(struct wsb_jqf *f, int *over)
{
	static const struct itimerval off;
	int timed = f->budget.it_value.tv_sec || f->budget.it_value.tv_usec;
	jv r;

	*over = 0;
	if (!timed)
		return jq_next(f->jq);
	budget_hit = 0;
	budget_jq = f->jq;
	setitimer(ITIMER_PROF, &f->budget, NULL);
	r = jq_next(f->jq);
	setitimer(ITIMER_PROF, &off, NULL);
	budget_jq = NULL;
	if (budget_hit) {
		*over = 1;
		jv_free(r);
		return jv_invalid();
	}
	return r;
}

void wsb_jqf_free(struct wsb_jqf *f)
{
	if (!f)
		return;
	jv_free(f->held);
	jq_teardown(&f->jq);
	free(f);
}

/* Sets err from an invalid r (consumed); 0 if r carried no message. */
static int invalid(jv r, const char *what, struct wsb_err *err)
{
	jv msg;

	if (!jv_invalid_has_msg(jv_copy(r))) {
		jv_free(r);
		return 0;
	}
	msg = jv_invalid_get_msg(r);
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		wsb_err_set(err, WSB_EXIT_DATAERR, "%s: %s", what, jv_string_value(msg));
	} else {
		jv d = jv_dump_string(msg, 0);

		/* error({"code":1}) raises a non-string; show it as JSON. */
		wsb_err_set(err, WSB_EXIT_DATAERR, "%s: %s", what, jv_string_value(d));
		msg = d;
	}
	jv_free(msg);
	return -1;
}

static int over_budget(struct wsb_err *err)
{
	wsb_err_set(err, WSB_EXIT_DATAERR, "jq program stopped: over its CPU budget");
	return WSB_JQF_OVER;
}

int wsb_jqf_run(struct wsb_jqf *f, const char *json, size_t len, struct wsb_jqf_out *out,
		struct wsb_err *err)
{
	jv in, r;
	int over;

	if (len > (size_t)INT32_MAX)
		return wsb_err_set(err, WSB_EXIT_DATAERR, "input too large for jq");
	jv_free(f->held);
	f->held = jv_null();
	in = jv_parse_sized(json, (int)len);
	if (!jv_is_valid(in))
		return invalid(in, "invalid JSON", err) ? -1 : 0;
	jq_start(f->jq, in, 0);
	r = next(f, &over);
	if (over)
		return over_budget(err);
	if (!jv_is_valid(r))
		return invalid(r, "jq", err);
	memset(out, 0, sizeof *out);
	switch (jv_get_kind(r)) {
	case JV_KIND_NULL: out->kind = WSB_JQF_NULL; break;
	case JV_KIND_FALSE: out->kind = WSB_JQF_FALSE; break;
	case JV_KIND_TRUE: out->kind = WSB_JQF_TRUE; break;
	case JV_KIND_NUMBER:
		out->kind = WSB_JQF_NUMBER;
		out->num = jv_number_value(r);
		break;
	case JV_KIND_STRING:
		out->kind = WSB_JQF_STRING;
		f->held = r;
		out->str = jv_string_value(r);
		out->len = (size_t)jv_string_length_bytes(jv_copy(r));
		return 1;
	default:
		out->kind = WSB_JQF_OTHER;
		break;
	}
	/* Every kind gets its JSON text, so callers can show or splice it. */
	f->held = jv_dump_string(r, 0);
	out->str = jv_string_value(f->held);
	out->len = strlen(out->str);
	return 1;
}

int wsb_jqf_truthy(struct wsb_jqf *f, const char *json, size_t len, struct wsb_err *err)
{
	struct wsb_jqf_out o;
	int r = wsb_jqf_run(f, json, len, &o, err);

	if (r <= 0)
		return r;
	return o.kind != WSB_JQF_NULL && o.kind != WSB_JQF_FALSE;
}

long wsb_jqf_each(struct wsb_jqf *f, const char *in, size_t len, int raw,
		  int (*out)(void *ud, const char *json, size_t len), void *ud, struct wsb_err *err)
{
	long n = 0;
	int over;
	jv v, r;

	if (len > (size_t)INT32_MAX)
		return wsb_err_set(err, WSB_EXIT_DATAERR, "input too large for jq");
	v = raw ? jv_string_sized(in, (int)len) : jv_parse_sized(in, (int)len);
	if (!jv_is_valid(v))
		return invalid(v, raw ? "not UTF-8" : "invalid JSON", err) ? -1 : 0;
	jq_start(f->jq, v, 0);
	while (r = next(f, &over), jv_is_valid(r)) {
		jv d = jv_dump_string(r, 0);
		int stop = out(ud, jv_string_value(d), (size_t)jv_string_length_bytes(jv_copy(d)));

		jv_free(d);
		if (stop)
			return -1;
		n++;
	}
	if (over)
		return over_budget(err);
	return invalid(r, "jq", err) ? -1 : n;
}

struct wsb_jqv *wsb_jqv_parse(const char *json, size_t len, struct wsb_err *err)
{
	struct wsb_jqv *v;
	jv p;

	if (len > (size_t)INT32_MAX) {
		wsb_err_set(err, WSB_EXIT_DATAERR, "input too large for jq");
		return NULL;
	}
	p = jv_parse_sized(json, (int)len);
	if (!jv_is_valid(p)) {
		if (!invalid(p, "invalid JSON", err))
			wsb_err_set(err, WSB_EXIT_DATAERR, "invalid JSON");
		return NULL;
	}
	if (!(v = malloc(sizeof *v))) {
		jv_free(p);
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	v->v = p;
	return v;
}

void wsb_jqv_free(struct wsb_jqv *v)
{
	if (!v)
		return;
	jv_free(v->v);
	free(v);
}

int wsb_jqf_test(struct wsb_jqf *f, const struct wsb_jqv *v, struct wsb_err *err)
{
	int over;
	jv r;

	jq_start(f->jq, jv_copy(v->v), 0);
	r = next(f, &over);
	if (over)
		return over_budget(err);
	if (!jv_is_valid(r))
		return invalid(r, "jq", err);
	switch (jv_get_kind(r)) {
	case JV_KIND_NULL:
	case JV_KIND_FALSE:
		return 0;
	default:
		jv_free(r);
		return 1;
	}
}

/* jqfilter — the one home of libjq: a user's jq program compiled once and
 * run on one JSON text at a time, keeping only its first output.
 *
 * Compiling costs ~33 ms in jq 1.6 (quadratic builtin linking), so a filter
 * is compiled once per process and reused for every message. Only this
 * module includes jq.h; callers see plain C values. Single-threaded: libjq
 * 1.6 refcounts are not atomic. No output except through wsb_err.
 */
#ifndef WSB_JQFILTER_H
#define WSB_JQFILTER_H

#include <stddef.h>

#include "err.h"

struct wsb_jqf;

enum wsb_jqf_kind {
	WSB_JQF_NULL = 1,
	WSB_JQF_FALSE,
	WSB_JQF_TRUE,
	WSB_JQF_NUMBER,
	WSB_JQF_STRING,
	WSB_JQF_OTHER,			/* array or object */
};

/* The first output of a run. str is owned by the filter and valid until its
 * next run or free: the decoded text of a string, or the compact JSON of
 * anything else. */
struct wsb_jqf_out {
	enum wsb_jqf_kind kind;
	double num;			/* WSB_JQF_NUMBER */
	const char *str;		/* NUL-terminated */
	size_t len;
};

/* Compiles prog. NULL with err (WSB_EXIT_USAGE and jq's own message, or
 * WSB_EXIT_OSERR) if it does not compile. */
struct wsb_jqf *wsb_jqf_compile(const char *prog, struct wsb_err *err);
void wsb_jqf_free(struct wsb_jqf *f);

/* Runs f on the JSON text json[0..len). Returns 1 with the first output in
 * *out, 0 if the program produced none (e.g. select() said no, or empty), or
 * -1 with err (WSB_EXIT_DATAERR: the input is not JSON, or jq's runtime error
 * such as "null (null) cannot be parsed as a number"). Only the first output
 * is computed, so generators that never end cost nothing extra. */
int wsb_jqf_run(struct wsb_jqf *f, const char *json, size_t len, struct wsb_jqf_out *out,
		struct wsb_err *err);

/* Runs f as a predicate, the way select() reads it: 1 if the first output
 * is neither false nor null, 0 if it is or there is none, -1 on error. */
int wsb_jqf_truthy(struct wsb_jqf *f, const char *json, size_t len, struct wsb_err *err);

#endif

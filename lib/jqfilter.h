/* jqfilter — the one home of libjq: a user's jq program compiled once and
 * run on one JSON text at a time (its first output, or every output).
 *
 * Compiling costs ~33 ms in jq 1.6 (quadratic builtin linking), so a filter
 * is compiled once per process and reused for every message. Only this
 * module includes jq.h; callers see plain C values. Single-threaded: libjq
 * 1.6 refcounts are not atomic. No output except through wsb_err.
 *
 * When memory runs out inside libjq the process aborts: jq 1.6 cannot go
 * on (and would otherwise call a null handler).
 *
 * Programs from the network (a subscriber's ?filter=) are compiled
 * sandboxed and may get a CPU budget; what neither can bound (one builtin
 * call that allocates or loops in C, a deep value that overflows the C
 * stack) is why the broker runs them in another process (jqproc.h).
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
/* The same for a program nobody vouches for: the builtins that reach past
 * the input (env and $ENV, input(s), debug, stderr, input_filename,
 * input_line_number, get_search_list, get_*_origin, modulemeta) are
 * replaced by inert ones and import/include do not parse, so the program
 * sees only the value it is given. jq's messages count lines as written. */
struct wsb_jqf *wsb_jqf_compile_sandboxed(const char *prog, struct wsb_err *err);
void wsb_jqf_free(struct wsb_jqf *f);

/* Each later run of f may use at most seconds of CPU (user + system); past
 * that it stops and returns WSB_JQF_OVER. jq_halt() is called from a SIGPROF
 * handler (ITIMER_PROF) and jq checks it between two instructions, so every
 * loop is cut, but not one builtin call that runs long in C. The process
 * must use neither SIGPROF nor ITIMER_PROF for anything else. 0: no limit. */
void wsb_jqf_set_cpu_limit(struct wsb_jqf *f, double seconds);
#define WSB_JQF_OVER (-2)

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

/* Runs f on one input and hands every output, as compact JSON, to out in
 * order (out returns 0 to go on, -1 to stop). The input is the JSON text
 * in[0..len), or with raw those bytes as one JSON string. Returns the
 * number of outputs; -1 with err for input that is not JSON or a runtime
 * error (after the outputs before it), and -1 when out stopped (err
 * untouched); WSB_JQF_OVER. */
long wsb_jqf_each(struct wsb_jqf *f, const char *in, size_t len, int raw,
		  int (*out)(void *ud, const char *json, size_t len), void *ud, struct wsb_err *err);

/* One parsed input for several programs: parsing costs more than a simple
 * predicate, so a message is parsed once however many filters test it. */
struct wsb_jqv;
/* NULL + err: WSB_EXIT_DATAERR (not JSON), WSB_EXIT_OSERR. */
struct wsb_jqv *wsb_jqv_parse(const char *json, size_t len, struct wsb_err *err);
void wsb_jqv_free(struct wsb_jqv *v);
/* wsb_jqf_truthy on a parsed input: 1, 0, -1 + err, WSB_JQF_OVER. */
int wsb_jqf_test(struct wsb_jqf *f, const struct wsb_jqv *v, struct wsb_err *err);

#endif

/* jqproc — jq programs nobody vouches for (subscribers' ?filter=), run in
 * a worker process so that nothing a program does can take the caller
 * with it.
 *
 * jq 1.6 has no bound on the time or memory of a run. jqfilter's CPU
 * budget (jq_halt between two instructions) ends every loop, but one
 * builtin call can allocate or loop in C ("x" * 1e9, .[1e9] = 1), freeing a
 * value nested deep enough overflows the C stack, and libjq aborts the
 * process when malloc fails. So the programs live in a worker: the calling
 * binary executed again (/proc/self/exe) with WSB_JQPROC_ENV set, which its
 * main() hands to wsb_jqproc_child(). The worker has no environment, no
 * descriptors but its socket, RLIMIT_DATA at cfg.mem bytes and no core
 * files, and dies with its parent. There each program gets cfg.cpu seconds
 * of CPU per message (WSB_JQP_OVER past it). A worker that does not answer
 * in time, or dies (memory, stack), is killed: the program it was running
 * is reported WSB_JQP_OVER and never run again, and the others are
 * compiled afresh in a new worker at the next call.
 *
 * Synchronous and single-threaded: each call waits for the worker's answer.
 * A compile costs ~33 ms (jq 1.6); a test is one round trip for all the
 * programs given, with the message parsed once. Pure of lws; no output.
 */
#ifndef WSB_JQPROC_H
#define WSB_JQPROC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WSB_JQPROC_ENV "WSBRIDGE_JQ_WORKER"

enum wsb_jqp_result {
	WSB_JQP_FALSE = 0,	/* first output false or null, or none */
	WSB_JQP_TRUE = 1,
	WSB_JQP_ERROR = 2,	/* a runtime error on this message: false */
	WSB_JQP_OVER = 3,	/* over its time or memory: the program is dead */
};

struct wsb_jqproc_cfg {
	double cpu;		/* CPU seconds per program per message (> 0) */
	uint64_t mem;		/* bytes of data the worker may hold; 0: no limit */
	double wait;		/* wall seconds an answer may take, beyond cpu per program */
	const char *exe;	/* the worker's binary; NULL: this one */
};

struct wsb_jqproc_stats {
	uint64_t programs;	/* compiled and not dropped */
	uint64_t restarts;	/* workers killed or lost */
	int pid;		/* the worker's, 0: none running */
};

/* No worker yet: it starts at the first compile. NULL on ENOMEM. */
struct wsb_jqproc *wsb_jqproc_new(const struct wsb_jqproc_cfg *cfg);
void wsb_jqproc_free(struct wsb_jqproc *p);	/* kills the worker */

/* Compiles text (sandboxed, see jqfilter.h) in the worker: its id (>= 0),
 * or -1 + err: WSB_EXIT_USAGE with jq's message, WSB_EXIT_UNAVAILABLE when
 * no worker could compile it (none starts, or it died or hung on it). */
int wsb_jqproc_compile(struct wsb_jqproc *p, const char *text, struct wsb_err *err);
/* Forgets program id. */
void wsb_jqproc_drop(struct wsb_jqproc *p, int id);

/* Programs ids[0..n) on the JSON text msg[0..len): res[i] is a
 * wsb_jqp_result. A message longer than cfg.mem / 16 is not run (every
 * result WSB_JQP_ERROR): parsed, it might not fit. A program dead before
 * or during the call is
 * WSB_JQP_OVER; if no worker can be started at all, the rest are
 * WSB_JQP_ERROR and -1 is returned (err says why), else 0. */
int wsb_jqproc_test(struct wsb_jqproc *p, const char *msg, size_t len, const int *ids, size_t n,
		    unsigned char *res, struct wsb_err *err);

void wsb_jqproc_stats(const struct wsb_jqproc *p, struct wsb_jqproc_stats *st);

/* For main(): in a worker (WSB_JQPROC_ENV set) serves its parent until it
 * goes away and returns the exit status; otherwise returns -1 at once. */
int wsb_jqproc_child(void);

#endif

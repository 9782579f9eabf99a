/* err — error values and the one exit-code table every binary shares.
 *
 * Library and program functions never exit: a fallible call returns -1 (or
 * NULL) and, when given a struct wsb_err, fills it with an exit code from the
 * table below and a one-line message that names the object ("cannot open
 * day.ndjson: No such file"). The programs' wsb_<tool>_run functions follow
 * the same rule, and one place, wsb_cli_main (cli.h), turns err into the one
 * stderr line and the exit status. A code with an empty message is a quiet
 * outcome: exit with it, print nothing (a health level, or an error already
 * logged where it happened). The table is printed, filtered to each tool's
 * rows, by every --help and copied into the man pages.
 */
#ifndef WSB_ERR_H
#define WSB_ERR_H

#include <stddef.h>

#include "tool.h"

#define WSB_ERR_LEN 256

/* Exit statuses, sysexits(3) numbering so scripts can reason about them. */
enum wsb_exit {
	WSB_EXIT_OK = 0,
	WSB_EXIT_FAIL = 1,		/* health: the server answered "not healthy" */
	WSB_EXIT_USAGE = 64,
	WSB_EXIT_DATAERR = 65,
	WSB_EXIT_NOINPUT = 66,
	WSB_EXIT_UNAVAILABLE = 69,
	WSB_EXIT_SOFTWARE = 70,
	WSB_EXIT_OSERR = 71,
	WSB_EXIT_IOERR = 74,
	WSB_EXIT_TEMPFAIL = 75,
	WSB_EXIT_NOPERM = 77,
	WSB_EXIT_CONFIG = 78,
};

struct wsb_err {
	int code;			/* an enum wsb_exit */
	char msg[WSB_ERR_LEN];
};

struct wsb_exit_info {
	int code;
	const char *name;
	const char *meaning;
	unsigned tools;			/* WSB_TOOL_* bits: who can exit with it */
};

/* Fills err (if not NULL) and returns -1, so callers can `return wsb_err_set(...)`. */
int wsb_err_set(struct wsb_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like wsb_err_set, appending ": strerror(errnum)". */
int wsb_err_errno(struct wsb_err *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void wsb_err_clear(struct wsb_err *err);
/* For a run function that tracks an exit status: 0 stays 0; -1 means err
 * already holds its code; any other status becomes err->code (a message not
 * yet reported stays, else the exit is quiet). Returns 0 or -1. */
int wsb_err_exit(struct wsb_err *err, int status);

/* The shared exit-code table, in ascending order; *n gets its length. */
const struct wsb_exit_info *wsb_exit_table(size_t *n);
/* A row's meaning in one tool's words (its --help and man page), since
 * what 0 or 65 means differs per tool; the row's own meaning is the
 * general one wsbridge(7) lists. */
const char *wsb_exit_meaning(const struct wsb_exit_info *e, unsigned tool);

#endif

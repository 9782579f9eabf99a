/* options — the declarative option table shared by all five binaries.
 *
 * One row per option is the single source for parsing, --help, the man
 * pages and the shell completions (scripts/gen-docs.sh reads the hidden
 * --dump-options output), so they cannot drift. Rows carry the tools they
 * belong to, so --url, --verbose and --help behave the same everywhere.
 */
#ifndef WSB_OPTIONS_H
#define WSB_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "err.h"

enum wsb_opt_kind {
	WSB_OPT_FLAG,		/* int = 1 */
	WSB_OPT_COUNT,		/* int++ */
	WSB_OPT_STR,		/* const char * */
	WSB_OPT_LIST,		/* struct wsb_strlist, repeatable */
	WSB_OPT_UINT,		/* uint64_t */
	WSB_OPT_INT,		/* int64_t, may be negative */
	WSB_OPT_SIZE,		/* uint64_t bytes: 512, 64k, 1M, 2G (powers of 1024) */
	WSB_OPT_SECONDS,	/* double: 1.5, 250ms, 30s, 5m, 1h */
	WSB_OPT_DOUBLE,		/* double */
	WSB_OPT_ENUM,		/* an enum field: the value of a choice */
};

/* One value of an enum option: its name on the command line and the enum
 * value stored in the field. A row's array ends with { NULL, 0 }. */
struct wsb_choice {
	const char *name;
	int value;
};

struct wsb_opt {
	const char *name;	/* long name without "--" */
	char letter;		/* short option, or 0 */
	enum wsb_opt_kind kind;
	const char *arg;	/* argument name in help, NULL for flags */
	unsigned tools;		/* WSB_TOOL_* bits */
	size_t off;		/* offsetof(struct wsb_cfg, field); (size_t)-1 for help/version */
	const char *help;	/* one sentence, no trailing period; --help wraps it */
	const struct wsb_choice *choices;	/* WSB_OPT_ENUM */
	const char *env;	/* environment variable that sets it, or NULL */
};

struct wsb_tool_info {
	unsigned tool;
	const char *name;	/* "wsbridge-sub" */
	const char *operands;	/* "[FILE...]" or "" */
	const char *summary;	/* one line: --help's second line and the man page's NAME */
	const char *const *examples;	/* NULL-terminated: "command  # comment" */
	/* The exit status of a usage error given what argv set, read once the
	 * whole command line is parsed (NULL: 64). */
	int (*usage_exit)(const struct wsb_cfg *cfg);
};

enum { WSB_OPT_RUN = 0, WSB_OPT_EXIT_OK = 1 };

const struct wsb_tool_info *wsb_opt_tool(unsigned tool);
const struct wsb_opt *wsb_opt_table(size_t *n);

/* Applies environment variables, then argv, to cfg (which holds defaults).
 * Returns WSB_OPT_RUN, WSB_OPT_EXIT_OK after printing --help, --version or
 * --dump-options to out, or -1 with err (code WSB_EXIT_USAGE) naming the
 * first bad option. After a usage error the rest of argv is still parsed
 * (--help and the dumps then do nothing, later errors are dropped), so
 * wsb_opt_usage_exit sees every option given, before or after the bad one.
 * Operands are left in cfg->operands. */
int wsb_opt_parse(struct wsb_cfg *cfg, int argc, char **argv, FILE *out, struct wsb_err *err);
/* The exit status for a usage error of cfg->tool: 64, or what the tool's
 * usage_exit says (wsbridge-health --format nagios: 3, UNKNOWN). */
int wsb_opt_usage_exit(const struct wsb_cfg *cfg);
/* The longest --help line, in columns. */
#define WSB_OPT_HELP_WIDTH 80
/* Parsers behind the kinds, exposed for tests and for other modules. */
int wsb_opt_parse_size(const char *s, uint64_t *out);
int wsb_opt_parse_seconds(const char *s, double *out);

#endif

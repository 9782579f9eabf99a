#include "cli.h"

#include <stdio.h>

#include "log.h"
#include "options.h"

int wsb_cli_init(struct wsb_cfg *cfg, unsigned tool, const char *progname, int argc, char **argv)
{
	struct wsb_err err = { 0 };
	int r, level;

	wsb_cfg_defaults(cfg, tool, progname);
	wsb_log_init(progname, WSB_LOG_WARN, WSB_LOG_TEXT);
	r = wsb_opt_parse(cfg, argc, argv, stdout, &err);
	if (r == WSB_OPT_EXIT_OK)
		return WSB_EXIT_OK;
	if (r < 0 || wsb_cfg_check(cfg, &err)) {
		fprintf(stderr, "%s: %s (try '%s --help')\n", progname, err.msg, progname);
		return err.code ? err.code : WSB_EXIT_USAGE;
	}
	/* The broker reports what it does by default; the tools speak up only
	 * about trouble, like the Unix filters they sit between. */
	level = (tool == WSB_TOOL_SERVE ? WSB_LOG_INFO : WSB_LOG_WARN) + cfg->verbose;
	if (cfg->quiet)
		level = WSB_LOG_ERROR;
	wsb_log_init(progname, level, cfg->log_format);
	return -1;
}

int wsb_cli_fail(const struct wsb_err *err)
{
	wsb_log(WSB_LOG_ERROR, "%s", err->msg);
	return err->code ? err->code : WSB_EXIT_SOFTWARE;
}

#include "cli.h"

#include <stdio.h>

#include "log.h"
#include "options.h"

static int usage_error(const struct wsb_cfg *cfg, const struct wsb_err *err)
{
	fprintf(stderr, "%s: %s (try '%s --help')\n", cfg->progname, err->msg, cfg->progname);
	if (err->code && err->code != WSB_EXIT_USAGE)
		return err->code;
	return wsb_opt_usage_exit(cfg);
}

/* The broker reports what it does by default; the tools speak up only
 * about trouble, like the Unix filters they sit between. */
static void log_setup(const struct wsb_cfg *cfg)
{
	int level = (cfg->tool == WSB_TOOL_SERVE ? WSB_LOG_INFO : WSB_LOG_WARN) + cfg->verbose;

	if (cfg->quiet)
		level = WSB_LOG_ERROR;
	wsb_log_init(cfg->progname, level, cfg->log_format);
}

static int run_error(const struct wsb_err *err)
{
	if (!err->code) {
		/* -1 without a code is a bug in the program, not a user's error. */
		wsb_log(WSB_LOG_ERROR, "internal error: %s", err->msg[0] ? err->msg : "no exit status");
		return WSB_EXIT_SOFTWARE;
	}
	if (err->msg[0])
		wsb_log(WSB_LOG_ERROR, "%s", err->msg);
	return err->code;
}

int wsb_cli_main(unsigned tool, wsb_cli_run_fn run, int argc, char **argv)
{
	const char *name = wsb_opt_tool(tool)->name;
	struct wsb_cfg cfg;
	struct wsb_err err = { 0 };
	int r, status = WSB_EXIT_OK;

	wsb_cfg_defaults(&cfg, tool, name);
	wsb_log_init(name, WSB_LOG_WARN, WSB_LOG_TEXT);
	r = wsb_opt_parse(&cfg, argc, argv, stdout, &err);
	if (r < 0 || (r == WSB_OPT_RUN && wsb_cfg_check(&cfg, &err))) {
		status = usage_error(&cfg, &err);
	} else if (r == WSB_OPT_RUN) {
		log_setup(&cfg);
		if ((cfg.log_file && wsb_log_open(cfg.log_file, &err)) || run(&cfg, &err))
			status = run_error(&err);
	}
	wsb_cfg_free(&cfg);
	return status;
}

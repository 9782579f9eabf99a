/* fuzz_options — argv from data, for each tool.
 * Input: a tool selector byte, then NUL-separated arguments. Parsing and the
 * cross-option checks never crash, and every refusal is a usage error (or
 * out of memory) with a message: a bad command line must exit 64, never
 * 70 or a signal. Only FILE operands are kept as operands: a URL operand
 * (ws://... for the clients) becomes the URL, and a tool without FILE
 * operands refuses any other. --help/--version/--dump-options go to
 * /dev/null. */
#include "fuzz.h"

#include "config.h"
#include "health.h"
#include "options.h"

#define MAX_ARGS 64

static const unsigned tools[] = { WSB_TOOL_SERVE, WSB_TOOL_PUB, WSB_TOOL_SUB, WSB_TOOL_HEALTH,
				  WSB_TOOL_REPLAY };
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	devnull = fopen("/dev/null", "w");
	return 0;
}

static void check_refusal(int rc, const struct wsb_err *err)
{
	if (rc < 0)
		FUZZ_CHECK((err->code == WSB_EXIT_USAGE || err->code == WSB_EXIT_OSERR) && err->msg[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *argv[MAX_ARGS + 2], *p, *end;
	struct wsb_cfg cfg;
	struct wsb_err err;
	int argc = 0, rc;
	unsigned tool;

	if (!size)
		return 0;
	if (!devnull)
		LLVMFuzzerInitialize(NULL, NULL);
	tool = tools[data[0] % 5];
	copy = fuzz_dup(data + 1, size - 1);
	argv[argc++] = "wsbridge-fuzz";
	for (p = copy, end = copy + size - 1; p <= end && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	wsb_cfg_defaults(&cfg, tool, "wsbridge-fuzz");
	memset(&err, 0, sizeof err);
	rc = wsb_opt_parse(&cfg, argc, argv, devnull, &err);
	FUZZ_CHECK(rc == WSB_OPT_RUN || rc == WSB_OPT_EXIT_OK || rc == -1);
	check_refusal(rc, &err);
	/* A usage error exits 64, or 3 for health under --format nagios. */
	if (rc == -1 && err.code == WSB_EXIT_USAGE)
		FUZZ_CHECK(wsb_opt_usage_exit(&cfg) == WSB_EXIT_USAGE ||
			   (tool == WSB_TOOL_HEALTH && wsb_opt_usage_exit(&cfg) == 3));
	if (rc == WSB_OPT_RUN) {
		if (!(tool & (WSB_TOOL_PUB | WSB_TOOL_REPLAY)))
			FUZZ_CHECK(cfg.n_operands == 0);
		memset(&err, 0, sizeof err);
		rc = wsb_cfg_check(&cfg, &err);
		FUZZ_CHECK(rc == 0 || rc == -1);
		check_refusal(rc, &err);
	}
	wsb_cfg_free(&cfg);
	free(copy);
	return 0;
}

/* wsbridge-serve — the broker. See wsbridge-serve(1). */
#include "cli.h"
#include "wsserver.h"

int main(int argc, char **argv)
{
	struct wsb_cfg cfg;
	struct wsb_err err = { 0 };
	int rc = wsb_cli_init(&cfg, WSB_TOOL_SERVE, "wsbridge-serve", argc, argv);

	if (rc < 0)
		rc = wsb_server_run(&cfg, &err) ? wsb_cli_fail(&err) : WSB_EXIT_OK;
	wsb_cfg_free(&cfg);
	return rc;
}

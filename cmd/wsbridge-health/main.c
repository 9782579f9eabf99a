/* wsbridge-health — see wsbridge-health(1). */
#include "cli.h"
#include "health.h"
#include "probe.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct wsb_cfg cfg;
	struct wsb_err err = { 0 };
	int rc = wsb_cli_init(&cfg, WSB_TOOL_HEALTH, "wsbridge-health", argc, argv);

	/* Monitoring plugins must say UNKNOWN (3) for bad arguments. */
	if (rc == WSB_EXIT_USAGE && wsb_health_argv_nagios(argc, argv))
		rc = WSB_HEALTH_UNKNOWN;
	if (rc < 0) {
		rc = wsb_probe_run(&cfg, stdout, &err);
		if (err.msg[0])
			wsb_cli_fail(&err);
	}
	wsb_cfg_free(&cfg);
	return rc;
}

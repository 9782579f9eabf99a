/* wsbridge-replay — see wsbridge-replay(1). */
#include "cli.h"
#include "replay.h"

int main(int argc, char **argv)
{
	struct wsb_cfg cfg;
	struct wsb_err err = { 0 };
	int rc = wsb_cli_init(&cfg, WSB_TOOL_REPLAY, "wsbridge-replay", argc, argv);

	if (rc < 0) {
		rc = wsb_replay_run(&cfg, &err);
		if (rc && err.msg[0])
			wsb_cli_fail(&err);
	}
	wsb_cfg_free(&cfg);
	return rc;
}

/* wsbridge-replay — see wsbridge-replay(1). */
#include "cli.h"
#include "replay_run.h"

int main(int argc, char **argv)
{
	return wsb_cli_main(WSB_TOOL_REPLAY, wsb_replay_run, argc, argv);
}

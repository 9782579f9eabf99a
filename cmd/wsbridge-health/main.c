/* wsbridge-health — see wsbridge-health(1). */
#include "cli.h"
#include "probe.h"

int main(int argc, char **argv)
{
	return wsb_cli_main(WSB_TOOL_HEALTH, wsb_probe_run, argc, argv);
}

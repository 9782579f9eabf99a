/* wsbridge-serve — the broker. See wsbridge-serve(1). */
#include "cli.h"
#include "wsserver.h"

int main(int argc, char **argv)
{
	return wsb_cli_main(WSB_TOOL_SERVE, wsb_server_run, argc, argv);
}

/* wsbridge-serve — the broker. See wsbridge-serve(1). */
#include "cli.h"
#include "serve.h"

int main(int argc, char **argv)
{
	return wsb_cli_main(WSB_TOOL_SERVE, wsb_serve_run, argc, argv);
}

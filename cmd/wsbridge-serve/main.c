/* wsbridge-serve — the broker. See wsbridge-serve(1). */
#include "cli.h"
#include "jqproc.h"
#include "serve.h"

int main(int argc, char **argv)
{
	/* Started again by ourselves to run ?filter= programs (jqproc.h). */
	int worker = wsb_jqproc_child();

	if (worker >= 0)
		return worker;
	return wsb_cli_main(WSB_TOOL_SERVE, wsb_serve_run, argc, argv);
}

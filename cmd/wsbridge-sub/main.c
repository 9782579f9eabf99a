/* wsbridge-sub — see wsbridge-sub(1). */
#include "cli.h"
#include "sub.h"

int main(int argc, char **argv)
{
	return wsb_cli_main(WSB_TOOL_SUB, wsb_sub_run, argc, argv);
}

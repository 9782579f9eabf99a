/* wsbridge-pub — see wsbridge-pub(1). */
#include "cli.h"
#include "pub.h"

int main(int argc, char **argv)
{
	return wsb_cli_main(WSB_TOOL_PUB, wsb_pub_run, argc, argv);
}

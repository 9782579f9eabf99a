/* tool — the five programs as bits, so a table row (an option, an exit
 * status) can say which programs it belongs to. */
#ifndef WSB_TOOL_H
#define WSB_TOOL_H

/* Tool bits: which binaries a row belongs to. */
enum {
	WSB_TOOL_SERVE = 1 << 0,
	WSB_TOOL_PUB = 1 << 1,
	WSB_TOOL_SUB = 1 << 2,
	WSB_TOOL_HEALTH = 1 << 3,
	WSB_TOOL_REPLAY = 1 << 4,
	WSB_TOOL_CLIENTS = WSB_TOOL_PUB | WSB_TOOL_SUB,
	WSB_TOOL_ALL = 0x1f,
};

#endif

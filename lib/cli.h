/* cli — the few lines every main() shares: defaults, environment and argv
 * into a checked config, logging set up, and errors turned into one stderr
 * line and an exit status from the shared table. The only lib module that
 * prints to the user besides log.c. */
#ifndef WSB_CLI_H
#define WSB_CLI_H

#include "config.h"
#include "err.h"

/* Fills cfg for tool from defaults, the environment and argv. Returns -1 when
 * the program should run on, else the exit status to return now (0 after
 * --help/--version, 64 after a usage error already reported on stderr). */
int wsb_cli_init(struct wsb_cfg *cfg, unsigned tool, const char *progname, int argc, char **argv);
/* Reports err on stderr (one line) and returns its exit status. */
int wsb_cli_fail(const struct wsb_err *err);

#endif

/* cli — the one main() every tool shares: defaults, environment and argv
 * into a checked config, logging set up, the program run, and its struct
 * wsb_err turned into one stderr line and the exit status from the shared
 * table. The only place that decides an exit status; besides log.c, the
 * only lib module that prints to the user.
 */
#ifndef WSB_CLI_H
#define WSB_CLI_H

#include "config.h"
#include "err.h"

/* A program: runs with a checked cfg and returns 0, or -1 with err filled.
 * err->code is the exit status; err->msg the line to print, or empty for a
 * quiet exit (already logged, or an outcome such as a health level). */
typedef int (*wsb_cli_run_fn)(const struct wsb_cfg *cfg, struct wsb_err *err);

/* parse → check → run → exit status. A usage error (from the parser or
 * wsb_cfg_check) prints "PROG: MSG (try 'PROG --help')" and returns the
 * tool's usage status (64; 3 for wsbridge-health --format nagios); a run
 * error logs err->msg and returns err->code (70 if the run left it 0).
 * --help, --version: 0. */
int wsb_cli_main(unsigned tool, wsb_cli_run_fn run, int argc, char **argv);

#endif

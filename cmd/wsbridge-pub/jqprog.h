/* jqprog — wsbridge-pub's --jq and --type-from as one jq program: each
 * input (a JSON line, or with --raw the line as a string) becomes every
 * output of --jq (or itself; {data: line} with --raw), and --type-from then
 * sets each one's type, which must be a string. */
#ifndef WSB_PUB_JQPROG_H
#define WSB_PUB_JQPROG_H

#include "config.h"
#include "err.h"
#include "jqfilter.h"

/* The compiled program, or NULL + err: WSB_EXIT_USAGE naming the option
 * and jq's message, WSB_EXIT_OSERR. */
struct wsb_jqf *pub_jq_program(const struct wsb_cfg *cfg, struct wsb_err *err);

#endif

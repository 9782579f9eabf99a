/* options_int — between options.c (parsing) and optdoc.c (printing). */
#ifndef WSB_OPTIONS_INT_H
#define WSB_OPTIONS_INT_H

#include <stdio.h>

#include "options.h"

/* "a|b|c", as --help, errors and --dump-options show the choices. */
const char *wsb_opt_choices_text(const struct wsb_choice *c, char *buf, size_t cap);
const char *wsb_opt_choice_name(const struct wsb_choice *c, int value);
/* --help, --version, --config, --dump-config: the command line only. */
int wsb_opt_argv_only(const struct wsb_opt *o);
/* The option's variable (WSBRIDGE_...), "" for none. */
const char *wsb_opt_env_name(const struct wsb_opt *o, char *buf, size_t cap);
void wsb_optdoc_help(FILE *out, unsigned tool);
void wsb_optdoc_dump(FILE *out, const struct wsb_cfg *cfg);

#endif

/* wsbridge-pub --jq and --type-from: the one program they make (jqprog.h). */
#include "jqprog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct wsb_jqf *compile_opt(const char *opt, const char *prog, struct wsb_err *err)
{
	struct wsb_err e;
	struct wsb_jqf *f = wsb_jqf_compile(prog, &e);

	if (!f)
		wsb_err_set(err, e.code, "%s: %s", opt, e.msg);
	return f;
}

/* --jq and --type-from as one program, each checked alone first so that a
 * mistake is named with its option and jq's message. Without --jq the
 * input itself is the message ({data: line} with --raw). The newline
 * keeps a trailing # comment from hiding the parenthesis. */
struct wsb_jqf *pub_jq_program(const struct wsb_cfg *cfg, struct wsb_err *err)
{
	static const char set_type[] = "(%s\n) | (%s\n) as $wsb_type | if ($wsb_type | type) == \"string\" "
				       "then .type = $wsb_type else error(\"--type-from gave \\($wsb_type "
				       "| tojson), not a string\") end";
	const char *base = cfg->jq ? cfg->jq : cfg->raw ? "{data: .}" : ".";
	struct wsb_jqf *f;
	char *prog;

	if (!cfg->type_from)
		return compile_opt("--jq", cfg->jq, err);
	if (cfg->jq) {
		if (!(f = compile_opt("--jq", cfg->jq, err)))
			return NULL;
		wsb_jqf_free(f);
	}
	if (!(f = compile_opt("--type-from", cfg->type_from, err)))
		return NULL;
	wsb_jqf_free(f);
	if (!(prog = malloc(sizeof set_type + strlen(base) + strlen(cfg->type_from)))) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	sprintf(prog, set_type, base, cfg->type_from);
	f = compile_opt("--type-from", prog, err);
	free(prog);
	return f;
}

/* optdoc — what the option table prints (options_int.h): --help, the
 * hidden --dump-options the man pages and completions are made from, and
 * --dump-config. Split from options.c, which parses. */
#include "options.h"
#include "options_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NOFF ((size_t)-1)

/* The default of o as a string, from the defaults in cfg, or "" if none. */
static const char *default_text(const struct wsb_opt *o, const struct wsb_cfg *cfg, char *buf,
				size_t cap)
{
	const char *field;
	uint64_t u;
	double d;

	buf[0] = '\0';
	if (o->off == NOFF || !cfg)
		return buf;
	field = (const char *)cfg + o->off;
	switch (o->kind) {
	case WSB_OPT_STR:
		if (*(const char *const *)(const void *)field)
			snprintf(buf, cap, "%s", *(const char *const *)(const void *)field);
		break;
	case WSB_OPT_UINT:
		if ((u = *(const uint64_t *)(const void *)field))
			snprintf(buf, cap, "%" PRIu64, u);
		break;
	case WSB_OPT_INT:
		snprintf(buf, cap, "%" PRId64, *(const int64_t *)(const void *)field);
		break;
	case WSB_OPT_SIZE:
		u = *(const uint64_t *)(const void *)field;
		if (u == UINT64_MAX)	/* derived from other options: the help says how */
			break;
		if (u && !(u % (1ULL << 30)))
			snprintf(buf, cap, "%" PRIu64 "G", u >> 30);
		else if (u && !(u % (1ULL << 20)))
			snprintf(buf, cap, "%" PRIu64 "M", u >> 20);
		else if (u && !(u % 1024))
			snprintf(buf, cap, "%" PRIu64 "k", u >> 10);
		else if (u)
			snprintf(buf, cap, "%" PRIu64, u);
		break;
	case WSB_OPT_SECONDS:
		if ((d = *(const double *)(const void *)field) > 0)
			snprintf(buf, cap, d < 1 ? "%gms" : "%gs", d < 1 ? d * 1000 : d);
		break;
	case WSB_OPT_DOUBLE:
		snprintf(buf, cap, "%g", *(const double *)(const void *)field);
		break;
	case WSB_OPT_ENUM:
		snprintf(buf, cap, "%s", wsb_opt_choice_name(o->choices, *(const int *)(const void *)field));
		break;
	case WSB_OPT_LIST: {
		const struct wsb_strlist *l = (const struct wsb_strlist *)(const void *)field;

		if (l->n == 1)
			snprintf(buf, cap, "%s", l->v[0]);
		break;
	}
	default:
		break;
	}
	return buf;
}

/* Word wrap for --help: text goes on from column col; a line that would pass
 * WSB_OPT_HELP_WIDTH breaks before the word and goes on at column indent. */
struct wrap {
	FILE *out;
	size_t col, indent;
};

static void wrap_word(struct wrap *w, const char *word, size_t len)
{
	if (w->col > w->indent && w->col + 1 + len > WSB_OPT_HELP_WIDTH) {
		fprintf(w->out, "\n%*s", (int)w->indent, "");
		w->col = w->indent;
	} else if (w->col > w->indent) {
		fputc(' ', w->out);
		w->col++;
	}
	fwrite(word, 1, len, w->out);
	w->col += len;
}

/* Every word of text; with whole set, text as one unbreakable word. */
static void wrap_text(struct wrap *w, const char *text, int whole)
{
	while (*text == ' ')
		text++;
	while (*text) {
		size_t len = whole ? strlen(text) : strcspn(text, " ");

		wrap_word(w, text, len);
		text += len;
		while (*text == ' ')
			text++;
	}
}

/* "  -u, --url URL            broker WebSocket URL (default ...) [$ENV]" */
static void help_row(FILE *out, const struct wsb_opt *o, const struct wsb_cfg *def)
{
	struct wrap w = { out, 29, 29 };
	char lhs[64], dflt[128], more[300], ch[128];

	snprintf(lhs, sizeof lhs, "%c%c%c --%s%s%s", o->letter ? '-' : ' ', o->letter ? o->letter : ' ',
		 o->letter ? ',' : ' ', o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	if (strlen(lhs) > 26)
		fprintf(out, "  %s\n%29s", lhs, "");
	else
		fprintf(out, "  %-26s ", lhs);
	w.col = 29;
	wrap_text(&w, o->help, 0);
	default_text(o, def, dflt, sizeof dflt);
	more[0] = '\0';
	if (o->kind == WSB_OPT_ENUM)
		snprintf(more, sizeof more, "(%s; default %s)", wsb_opt_choices_text(o->choices, ch, sizeof ch), dflt);
	else if (*dflt && o->kind != WSB_OPT_FLAG && o->kind != WSB_OPT_COUNT)
		snprintf(more, sizeof more, "(default %s)", dflt);
	/* A default is one unit: a long one gets a line of its own. */
	if (*more)
		wrap_text(&w, more, 1);
	if (o->env) {
		snprintf(more, sizeof more, "[$%s]", o->env);
		wrap_text(&w, more, 1);
	}
	fputc('\n', out);
}

void wsb_optdoc_help(FILE *out, unsigned tool)
{
	size_t nt;
	const struct wsb_opt *table = wsb_opt_table(&nt);
	const struct wsb_tool_info *ti = wsb_opt_tool(tool);
	struct wsb_cfg def;
	const struct wsb_exit_info *ex;
	size_t nex;

	wsb_cfg_defaults(&def, tool, ti->name);
	fprintf(out, "Usage: %s [OPTIONS]%s%s\n%s.\n\nOptions:\n", ti->name, *ti->operands ? " " : "",
		ti->operands, ti->summary);
	for (size_t i = 0; i < nt; i++)
		if (table[i].tools & tool)
			help_row(out, &table[i], &def);
	/* Only the statuses this tool can exit with. */
	fputs("\nExit status:\n", out);
	ex = wsb_exit_table(&nex);
	for (size_t i = 0; i < nex; i++) {
		struct wrap w = { out, 6, 6 };

		if (!(ex[i].tools & tool))
			continue;
		fprintf(out, "  %-3d ", ex[i].code);
		wrap_text(&w, wsb_exit_meaning(&ex[i], tool), 0);
		fputc('\n', out);
	}
	fputs("\nExamples:\n", out);
	for (const char *const *e = ti->examples; *e; e++) {
		/* a continued example: each line indented like the first */
		for (const char *l = *e; *l;) {
			size_t len = strcspn(l, "\n");

			fprintf(out, "  %.*s\n", (int)len, l);
			l += len + (l[len] == '\n');
		}
	}
	fprintf(out, "\nEvery option may also be set as WSBRIDGE_NAME (the long name in capitals, '_'\n"
		"for '-') or in a --config file; the command line wins, then the environment,\n"
		"then the file.\n");
	fprintf(out, "\nSee %s(1) and wsbridge(7).\n", ti->name);
	wsb_cfg_free(&def);
}

static const char *const kind_names[] = { "flag", "count", "string", "list", "uint", "int",
					  "size", "seconds", "number", "enum" };

/* Machine-readable table for one tool, one option per line, tab-separated:
 * long, short, arg, kind, choices ("a|b|c"), default, env, help. */
void wsb_optdoc_dump(FILE *out, const struct wsb_cfg *cfg)
{
	size_t nt;
	const struct wsb_opt *table = wsb_opt_table(&nt);
	struct wsb_cfg def;
	char dflt[128], ch[128], env[80];

	wsb_cfg_defaults(&def, cfg->tool, cfg->progname);
	for (size_t i = 0; i < nt; i++) {
		const struct wsb_opt *o = &table[i];

		if (!(o->tools & cfg->tool))
			continue;
		wsb_opt_env_name(o, env, sizeof env);
		fprintf(out, "%s\t%c\t%s\t%s\t%s\t%s\t%s\t%s\n", o->name, o->letter ? o->letter : '-',
			o->arg ? o->arg : "-", kind_names[o->kind], o->choices ? wsb_opt_choices_text(o->choices, ch, sizeof ch) : "-",
			*default_text(o, &def, dflt, sizeof dflt) ? dflt : "-", *env ? env : "-",
			o->help);
	}
	wsb_cfg_free(&def);
}

/* Never shown by --dump-config. */
static int is_secret(const struct wsb_opt *o)
{
	return !strcmp(o->name, "token");
}

/* "name value", quoted when the file syntax would otherwise change it. */
static void dump_kv(FILE *out, const char *name, const char *v)
{
	size_t n = strlen(v);

	if (strchr(v, '\n'))
		fprintf(out, "# %s: a value with a line break cannot be written here\n", name);
	else if (!n || strchr(" \t", v[0]) || strchr(" \t", v[n - 1]) || v[0] == '"')
		fprintf(out, "%s \"%s\"\n", name, v);
	else
		fprintf(out, "%s %s\n", name, v);
}

static void dump_row(FILE *out, const struct wsb_opt *o, const struct wsb_cfg *cfg)
{
	const char *field = (const char *)cfg + o->off, *str;
	const struct wsb_strlist *l = (const void *)field;
	char v[128];

	switch (o->kind) {
	case WSB_OPT_FLAG:
		fprintf(out, "%s %s\n", o->name, *(const int *)(const void *)field ? "true" : "false");
		return;
	case WSB_OPT_COUNT:
		fprintf(out, "%s %d\n", o->name, *(const int *)(const void *)field > 0 ? *(const int *)(const void *)field : 0);
		return;
	case WSB_OPT_LIST:
		for (size_t i = 0; i < l->n; i++)
			dump_kv(out, o->name, l->v[i]);
		if (!l->n)
			fprintf(out, "# %s\n", o->name);
		return;
	case WSB_OPT_STR:
		str = *(const char *const *)(const void *)field;
		if (!str)
			fprintf(out, "# %s\n", o->name);
		else
			dump_kv(out, o->name, is_secret(o) ? "***" : str);
		return;
	default:
		default_text(o, cfg, v, sizeof v);
		fprintf(out, "%s %s\n", o->name, *v ? v : "0");
	}
}

void wsb_opt_dump_config(FILE *out, const struct wsb_cfg *cfg)
{
	size_t nt;
	const struct wsb_opt *table = wsb_opt_table(&nt);

	fprintf(out, "# %s %s: the effective configuration (command line > environment\n"
		"# > --config file > default); '# name' is unset; secrets are shown as ***\n",
		cfg->progname, WSB_VERSION);
	for (size_t i = 0; i < nt; i++)
		if ((table[i].tools & cfg->tool) && !wsb_opt_argv_only(&table[i]))
			dump_row(out, &table[i], cfg);
}

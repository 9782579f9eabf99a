#define T_SUITE "options"
#include "t.h"

#include <stdarg.h>
#include <stdlib.h>

#include "config.h"
#include "health.h"
#include "options.h"

/* Parses argv (NULL-terminated) for tool into cfg; returns wsb_opt_parse's
 * result, with --help/--version output captured in out. */
static char out[65536];

static int parse(struct wsb_cfg *cfg, unsigned tool, struct wsb_err *err, ...)
{
	char *argv[32];
	int argc = 0, r;
	va_list ap;
	FILE *f = fmemopen(out, sizeof out, "w");

	argv[argc++] = "prog";
	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	wsb_cfg_defaults(cfg, tool, "wsbridge-test");
	r = wsb_opt_parse(cfg, argc, argv, f, err);
	fclose(f);
	return r;
}

static void test_sizes_and_seconds(void)
{
	uint64_t u;
	double d;

	T_CHECK(wsb_opt_parse_size("512", &u) == 0 && u == 512);
	T_CHECK(wsb_opt_parse_size("64k", &u) == 0 && u == 65536);
	T_CHECK(wsb_opt_parse_size("1M", &u) == 0 && u == 1048576);
	T_CHECK(wsb_opt_parse_size("2GiB", &u) == 0 && u == 2147483648ULL);
	T_CHECK(wsb_opt_parse_size("1.5M", &u) == -1);
	T_CHECK(wsb_opt_parse_size("-1", &u) == -1);
	T_CHECK(wsb_opt_parse_size("10x", &u) == -1);
	T_CHECK(wsb_opt_parse_size("", &u) == -1);
	T_CHECK(wsb_opt_parse_size("99999999999999999999", &u) == -1);
	T_CHECK(wsb_opt_parse_seconds("1.5", &d) == 0 && d == 1.5);
	T_CHECK(wsb_opt_parse_seconds("250ms", &d) == 0 && d > 0.2499 && d < 0.2501);
	T_CHECK(wsb_opt_parse_seconds("2m", &d) == 0 && d == 120);
	T_CHECK(wsb_opt_parse_seconds("1h", &d) == 0 && d == 3600);
	T_CHECK(wsb_opt_parse_seconds("-3", &d) == -1);
	T_CHECK(wsb_opt_parse_seconds("3 s", &d) == -1);
	T_CHECK(wsb_opt_parse_seconds("nan", &d) == -1);
}

static void test_long_short_and_bundles(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--url=ws://h:1/ws", "-t", "order", "--type", "tick*",
		      "-vvc5", "-W", "250ms", NULL) == WSB_OPT_RUN);
	T_CHECK(c.urls.n == 1);
	T_STREQ(c.urls.v[0], "ws://h:1/ws");
	T_CHECK(c.types.n == 2);
	T_STREQ(c.types.v[0], "order");
	T_STREQ(c.types.v[1], "tick*");
	T_CHECK(c.verbose == 2 && c.count == 5);
	T_CHECK(c.timeout > 0.24 && c.timeout < 0.26);
	wsb_cfg_free(&c);
}

static void test_errors_name_the_option(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--nope", NULL) == -1);
	T_CHECK(e.code == WSB_EXIT_USAGE && strstr(e.msg, "unknown option '--nope'"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "-Z", NULL) == -1);
	T_CHECK(strstr(e.msg, "unknown option '-Z'") != NULL);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--count", NULL) == -1);
	T_CHECK(strstr(e.msg, "--count needs a value") != NULL);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--count", "ten", NULL) == -1);
	T_CHECK(strstr(e.msg, "--count") && strstr(e.msg, "'ten'"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, "--log-format", "xml", NULL) == -1);
	T_CHECK(strstr(e.msg, "text|json") != NULL);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--control=yes", NULL) == -1);
	T_CHECK(strstr(e.msg, "takes no value") != NULL);
	wsb_cfg_free(&c);
	/* An option of another tool is unknown here. */
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--max-queue", "1M", NULL) == -1);
	wsb_cfg_free(&c);
	/* sub takes no operands; pub takes files. */
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "file", NULL) == -1);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "a.ndjson", "--", "-b", NULL) == WSB_OPT_RUN);
	T_CHECK(c.n_operands == 2);
	T_STREQ(c.operands[1], "-b");
	wsb_cfg_free(&c);
}

static void test_suggestions_and_url_operand(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--tpye", "x", NULL) == -1);
	T_CHECK(strstr(e.msg, "(did you mean --type?)") != NULL);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, "--max-conn", "3", NULL) == -1);
	T_CHECK(strstr(e.msg, "did you mean --max-connections") != NULL);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--max-queue", "1M", NULL) == -1);
	T_CHECK(strstr(e.msg, "an option of wsbridge-serve") != NULL);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--zzzzzzzz", NULL) == -1);
	T_CHECK(!strstr(e.msg, "did you mean"));
	wsb_cfg_free(&c);
	/* A ws:// operand is the URL; pub's others stay files, and after
	 * "--" even a ws:// one is a file. */
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "a.ndjson", "wss://h:1/ws", "--", "ws://x", NULL) == WSB_OPT_RUN);
	T_STREQ(c.url, "wss://h:1/ws");
	T_CHECK(c.n_operands == 2);
	T_STREQ(c.operands[1], "ws://x");
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "ws://a/ws", "ws://b/ws", NULL) == -1);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, "http://h:1", NULL) == WSB_OPT_RUN);
	T_STREQ(c.url, "http://h:1");
	wsb_cfg_free(&c);
}

static void test_env_then_argv(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	setenv("WSBRIDGE_URL", "ws://from-env:1/ws", 1);
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, NULL) == WSB_OPT_RUN);
	T_CHECK(c.urls.n == 1);
	T_STREQ(c.urls.v[0], "ws://from-env:1/ws");
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "-u", "ws://argv:2/ws", NULL) == WSB_OPT_RUN);
	T_CHECK(c.urls.n == 1);
	T_STREQ(c.urls.v[0], "ws://argv:2/ws");
	wsb_cfg_free(&c);
	/* Several in the variable, blank-separated; the command line replaces
	 * them all, and its own --url add up. */
	setenv("WSBRIDGE_URL", " ws://a:1/ws\tws://b:2/ws  ", 1);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, NULL) == WSB_OPT_RUN);
	T_CHECK(c.urls.n == 2);
	T_STREQ(c.urls.v[1], "ws://b:2/ws");
	T_CHECK(wsb_cfg_check(&c, &e) == 0);
	T_STREQ(c.url, "ws://a:1/ws");
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "-u", "ws://c:3/ws", "--url", "ws://d:4/ws", NULL) == WSB_OPT_RUN);
	T_CHECK(c.urls.n == 2);
	T_STREQ(c.urls.v[0], "ws://c:3/ws");
	T_STREQ(c.urls.v[1], "ws://d:4/ws");
	wsb_cfg_free(&c);
	/* Without either: the default, once. */
	unsetenv("WSBRIDGE_URL");
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, NULL) == WSB_OPT_RUN);
	T_CHECK(c.urls.n == 1);
	T_STREQ(c.urls.v[0], "ws://127.0.0.1:8765/ws");
	wsb_cfg_free(&c);
}

static void test_help_lists_only_the_tools_options(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--help", NULL) == WSB_OPT_EXIT_OK);
	T_CHECK(strstr(out, "Usage: wsbridge-sub") != NULL);
	T_CHECK(strstr(out, "--count N") != NULL);
	T_CHECK(strstr(out, "--max-queue") == NULL);
	T_CHECK(strstr(out, "Exit status:") && strstr(out, "  75 "));
	T_CHECK(strstr(out, "[$WSBRIDGE_URL]") != NULL);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, "--dump-options", NULL) == WSB_OPT_EXIT_OK);
	T_CHECK(strstr(out, "max-queue\t-\tBYTES\tsize\t-\t1M\t-\t") != NULL);
	wsb_cfg_free(&c);
}

static void test_cross_checks(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, "--listen", "[::1]:0", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == 0);
	T_STREQ(c.listen_host, "::1");
	T_CHECK(c.listen_port == 0);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, "--listen", "127.0.0.1", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && strstr(e.msg, "ADDR:PORT"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "--raw", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && strstr(e.msg, "--raw needs --type"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--retry-min", "5", "--retry-max", "1", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1);
	wsb_cfg_free(&c);
	/* --ready-fd names an open descriptor (2 is), checked before a start. */
	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, "--ready-fd", "2", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == 0);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, "--ready-fd", "65536", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && e.code == WSB_EXIT_USAGE && strstr(e.msg, "not an open descriptor"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "--state-file", "", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && strstr(e.msg, "--state-file"));
	wsb_cfg_free(&c);
}

static const unsigned all_tools[] = { WSB_TOOL_SERVE, WSB_TOOL_PUB, WSB_TOOL_SUB, WSB_TOOL_HEALTH, WSB_TOOL_REPLAY };
#define N_TOOLS (sizeof all_tools / sizeof all_tools[0])

/* Lookup takes the first matching row, so a second row with the same long
 * name or letter for a tool would be silently shadowed. */
static void test_names_and_letters_unique_per_tool(void)
{
	size_t n;
	const struct wsb_opt *t = wsb_opt_table(&n);

	for (size_t k = 0; k < N_TOOLS; k++)
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++) {
				if (!(t[i].tools & t[j].tools & all_tools[k]))
					continue;
				if (!strcmp(t[i].name, t[j].name) || (t[i].letter && t[i].letter == t[j].letter)) {
					printf("  tool %u: --%s / --%s\n", all_tools[k], t[i].name, t[j].name);
					T_CHECK(0);
				}
			}
}

/* The dump's default column for --name, from the last --dump-options. */
static const char *dumped_default(const char *name, char *buf, size_t cap)
{
	char key[64];
	const char *p;
	int col = 0;

	snprintf(key, sizeof key, "%s\t", name);
	for (p = out; p && strncmp(p, key, strlen(key)); p = strchr(p, '\n'), p = p ? p + 1 : p)
		;
	buf[0] = '\0';
	for (; p && *p && *p != '\n' && col < 5; p++)
		col += *p == '\t';
	if (p && col == 5)
		snprintf(buf, cap, "%.*s", (int)strcspn(p, "\t\n"), p);
	return buf;
}

/* Every enum choice stores its own value, and the default shown by
 * --dump-options (so by --help and the man pages) parses back to it. */
static void test_enum_values_round_trip(void)
{
	size_t n;
	const struct wsb_opt *t = wsb_opt_table(&n);
	struct wsb_cfg c, d;
	struct wsb_err e;
	char arg[128], dflt[64];

	for (size_t k = 0; k < N_TOOLS; k++)
		for (size_t i = 0; i < n; i++) {
			if (t[i].kind != WSB_OPT_ENUM || !(t[i].tools & all_tools[k]))
				continue;
			for (const struct wsb_choice *ch = t[i].choices; ch->name; ch++) {
				snprintf(arg, sizeof arg, "--%s=%s", t[i].name, ch->name);
				T_CHECK(parse(&c, all_tools[k], &e, arg, NULL) == WSB_OPT_RUN);
				T_CHECK(*(int *)(void *)((char *)&c + t[i].off) == ch->value);
				wsb_cfg_free(&c);
			}
			T_CHECK(parse(&d, all_tools[k], &e, "--dump-options", NULL) == WSB_OPT_EXIT_OK);
			dumped_default(t[i].name, dflt, sizeof dflt);
			T_CHECK(dflt[0] != '\0');
			snprintf(arg, sizeof arg, "--%s=%s", t[i].name, dflt);
			T_CHECK(parse(&c, all_tools[k], &e, arg, NULL) == WSB_OPT_RUN);
			T_CHECK(*(int *)(void *)((char *)&c + t[i].off) == *(int *)(void *)((char *)&d + t[i].off));
			wsb_cfg_free(&c);
			wsb_cfg_free(&d);
		}
	wsb_cfg_defaults(&c, WSB_TOOL_SERVE, "x");
	T_CHECK(c.fsync == WSB_FSYNC_BATCH);
	wsb_cfg_free(&c);
}

/* The client limits share rows with serve and health but not defaults:
 * serve's --max-message bounds what one publisher sends (1M), a client's
 * what it buffers from the broker (16M); health connects fast (2s). */
static void test_client_limits(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, NULL) == WSB_OPT_RUN && wsb_cfg_check(&c, &e) == 0);
	T_CHECK(c.max_message == 16 << 20 && c.connect_timeout == 10 && c.ping_interval == 30);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SERVE, &e, NULL) == WSB_OPT_RUN && c.max_message == 1 << 20);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, NULL) == WSB_OPT_RUN && c.connect_timeout == 2);
	T_CHECK(c.max_message == 16 << 20);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "--connect-timeout", "250ms", "--ping-interval", "2",
		      "--max-message", "64k", NULL) == WSB_OPT_RUN && wsb_cfg_check(&c, &e) == 0);
	T_CHECK(c.connect_timeout > 0.24 && c.connect_timeout < 0.26 && c.ping_interval == 2 &&
		c.max_message == 65536);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--connect-timeout", "0", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && strstr(e.msg, "--connect-timeout"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--ping-interval", "500ms", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && strstr(e.msg, "--ping-interval"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--max-message", "10", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && strstr(e.msg, "--max-message"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_REPLAY, &e, "--max-message", "1M", NULL) == -1);
	wsb_cfg_free(&c);
}

/* Every --help line fits an 80-column terminal, and the exit table shows
 * only the tool's own statuses. */
static void test_help_fits_and_exit_rows_are_the_tools(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	for (size_t k = 0; k < N_TOOLS; k++) {
		T_CHECK(parse(&c, all_tools[k], &e, "--help", NULL) == WSB_OPT_EXIT_OK);
		for (const char *l = out; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
			if (strcspn(l, "\n") > WSB_OPT_HELP_WIDTH) {
				printf("  %.*s\n", (int)strcspn(l, "\n"), l);
				T_CHECK(0);
			}
		T_CHECK(!strstr(out, "\n  1   ") == (all_tools[k] != WSB_TOOL_HEALTH));
		T_CHECK(!strstr(out, "\n  75  ") == (all_tools[k] == WSB_TOOL_SERVE || all_tools[k] == WSB_TOOL_REPLAY));
		T_CHECK(strstr(out, "\n  64  ") != NULL);
		wsb_cfg_free(&c);
	}
}

/* A monitoring plugin exits 3 on bad arguments: --format nagios counts
 * wherever it stands, before or after the bad option. */
static void test_health_usage_exit(void)
{
	struct wsb_cfg c;
	struct wsb_err e;

	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, "-f", "nagios", "--bogus", NULL) == -1);
	T_CHECK(e.code == WSB_EXIT_USAGE && strstr(e.msg, "--bogus"));
	T_CHECK(wsb_opt_usage_exit(&c) == WSB_HEALTH_UNKNOWN);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, "--bogus", "--format=nagios", "--timeout", "x", NULL) == -1);
	T_CHECK(strstr(e.msg, "--bogus") != NULL);	/* the first error is the one reported */
	T_CHECK(wsb_opt_usage_exit(&c) == WSB_HEALTH_UNKNOWN);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, "--url", "x", "--nagios", "-Z", NULL) == -1);
	T_CHECK(wsb_opt_usage_exit(&c) == WSB_HEALTH_UNKNOWN);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, "--bogus", "--", "--nagios", NULL) == -1);
	T_CHECK(wsb_opt_usage_exit(&c) == WSB_EXIT_USAGE);
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, "-f", "json", "--bogus", NULL) == -1);
	T_CHECK(wsb_opt_usage_exit(&c) == WSB_EXIT_USAGE);
	wsb_cfg_free(&c);
	/* after an error, --help does not print and exit 0 */
	out[0] = '\0';
	T_CHECK(parse(&c, WSB_TOOL_HEALTH, &e, "--bogus", "--help", NULL) == -1);
	T_CHECK(out[0] == '\0');
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "--bogus", NULL) == -1);
	T_CHECK(wsb_opt_usage_exit(&c) == WSB_EXIT_USAGE);
	wsb_cfg_free(&c);
}

/* Checks that once lived in the run functions: usage errors (64 + hint). */
static void test_pub_and_sub_checks(void)
{
	struct wsb_cfg c;
	struct wsb_err e;
	char name[80];

	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "--type", "ping", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && e.code == WSB_EXIT_USAGE && strstr(e.msg, "--type"));
	wsb_cfg_free(&c);
	memset(name, 'p', sizeof name);
	name[55] = '\0';
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "--producer", name, NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == 0);
	wsb_cfg_free(&c);
	name[55] = 'p';
	name[56] = '\0';
	T_CHECK(parse(&c, WSB_TOOL_PUB, &e, "--producer", name, NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && e.code == WSB_EXIT_USAGE && strstr(e.msg, "1 to 55"));
	wsb_cfg_free(&c);
	T_CHECK(parse(&c, WSB_TOOL_SUB, &e, "--type", "", NULL) == WSB_OPT_RUN);
	T_CHECK(wsb_cfg_check(&c, &e) == -1 && e.code == WSB_EXIT_USAGE);
	wsb_cfg_free(&c);
}

int main(void)
{
	T_RUN(test_sizes_and_seconds);
	T_RUN(test_long_short_and_bundles);
	T_RUN(test_errors_name_the_option);
	T_RUN(test_env_then_argv);
	T_RUN(test_help_lists_only_the_tools_options);
	T_RUN(test_cross_checks);
	T_RUN(test_client_limits);
	T_RUN(test_names_and_letters_unique_per_tool);
	T_RUN(test_enum_values_round_trip);
	T_RUN(test_help_fits_and_exit_rows_are_the_tools);
	T_RUN(test_health_usage_exit);
	T_RUN(test_pub_and_sub_checks);
	T_RUN(test_suggestions_and_url_operand);
	return t_done();
}

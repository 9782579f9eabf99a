#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "envelope.h"

static const char *prog = "wsbridge";
static int max_level = WSB_LOG_WARN;
static int fmt_json;
static FILE *log_out;			/* NULL: stderr */
static const char *log_path;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void wsb_log_init(const char *progname, int level, int format)
{
	prog = progname;
	max_level = level;
	fmt_json = format == WSB_LOG_JSON;
}

int wsb_log_level(void)
{
	return max_level;
}

/* ,"name":"value" for a set string member, escaped. */
static size_t ctx_str(char *out, size_t cap, const char *name, const char *v)
{
	size_t n;

	if (!v || cap < 16)
		return 0;
	n = (size_t)snprintf(out, cap, ",\"%s\":", name);
	if (n >= cap || n + wsb_json_escape(out + n, cap - n, v, strlen(v)) >= cap) {
		out[0] = '\0';		/* a field is whole or absent: the line stays JSON */
		return 0;
	}
	return strlen(out);
}

static size_t ctx_fields(char *out, size_t cap, const struct wsb_log_ctx *c)
{
	size_t n = 0;

	out[0] = '\0';
	if (!c)
		return 0;
	/* Members are bounded (ids, addresses, a 123-byte close reason), and
	 * cap leaves room for all of them. */
	n += ctx_str(out + n, cap - n, "client", c->client);
	n += ctx_str(out + n, cap - n, "remote", c->remote);
	if (c->code)
		n += (size_t)snprintf(out + n, cap - n, ",\"code\":%d", c->code);
	if (c->status)
		n += (size_t)snprintf(out + n, cap - n, ",\"status\":%d", c->status);
	n += ctx_str(out + n, cap - n, "reason", c->reason);
	return n;
}

static void vlog(int level, const struct wsb_log_ctx *ctx, const char *fmt, va_list ap)
{
	char msg[1024], line[3300], ts[WSB_TS_LEN];
	int n;

	if (level > max_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (level < 0)
		level = 0;
	if (level > WSB_LOG_DEBUG)
		level = WSB_LOG_DEBUG;
	if (fmt_json) {
		char esc[2100], fields[1100];

		wsb_env_timestamp_now(ts);
		wsb_json_escape(esc, sizeof esc, msg, strlen(msg));
		ctx_fields(fields, sizeof fields, ctx);
		n = snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"prog\":\"%s\",\"msg\":%s%s}\n",
			     ts, level_names[level], prog, esc, fields);
	} else {
		n = snprintf(line, sizeof line, "%s: %s%s\n", prog,
			     level <= WSB_LOG_WARN ? (level == WSB_LOG_ERROR ? "error: " : "warning: ") : "",
			     msg);
	}
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	/* One write(2)-sized fputs per line keeps lines whole when several
	 * processes share a terminal or log file. */
	fwrite(line, 1, (size_t)n, log_out ? log_out : stderr);
	fflush(log_out ? log_out : stderr);
}

int wsb_log_open(const char *path, struct wsb_err *err)
{
	FILE *f = fopen(path, "a");

	if (!f)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot open log file %s", path);
	if (log_out)
		fclose(log_out);
	log_out = f;
	log_path = path;
	return 0;
}

int wsb_log_reopen(struct wsb_err *err)
{
	return log_path ? wsb_log_open(log_path, err) : 0;
}

void wsb_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void wsb_logx(int level, const struct wsb_log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, ctx, fmt, ap);
	va_end(ap);
}

char *wsb_log_redact(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	if (!cap)
		return out;
	while (*s && o + 1 < cap) {
		int at_param = s[0] != '\0' && (o == 0 || s[-1] == '?' || s[-1] == '&');

		if (at_param && (!strncmp(s, "token=", 6) || !strncmp(s, "access_token=", 13) ||
				 !strncmp(s, "producer_secret=", 16))) {
			const char *eq = strchr(s, '=');

			while (s <= eq && o + 1 < cap)
				out[o++] = *s++;
			for (const char *r = "***"; *r && o + 1 < cap; r++)
				out[o++] = *r;
			while (*s && *s != '&')
				s++;
			continue;
		}
		out[o++] = *s++;
	}
	out[o] = '\0';
	return out;
}

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define S WSB_TOOL_SERVE
#define P WSB_TOOL_PUB
#define U WSB_TOOL_SUB
#define H WSB_TOOL_HEALTH
#define R WSB_TOOL_REPLAY

/* The tools column lists who can really exit with a code (traced from the
 * modules each program links), so each --help and man page shows only its
 * own rows; 70 is everyone's, as the fallback for an error with no code. */
static const struct wsb_exit_info exit_table[] = {
	{ WSB_EXIT_OK, "ok", "success: every line acknowledged, --count reached, or the reader of stdout went away", WSB_TOOL_ALL },
	{ WSB_EXIT_FAIL, "unhealthy", "wsbridge-health: the server answered but is not healthy", H },
	{ WSB_EXIT_USAGE, "usage", "bad option or argument", WSB_TOOL_ALL },
	{ WSB_EXIT_DATAERR, "dataerr", "bad input: an invalid or too long line with --strict, a message a client cannot take (too big, binary, not UTF-8), an unreadable recording (truncated .gz)", P | U | R },
	{ WSB_EXIT_NOINPUT, "noinput", "an input file cannot be opened", P | R },
	{ WSB_EXIT_UNAVAILABLE, "unavailable", "cannot connect, retries exhausted, or address in use", S | P | U | H },
	{ WSB_EXIT_SOFTWARE, "software", "internal error", WSB_TOOL_ALL },
	{ WSB_EXIT_OSERR, "oserr", "out of memory or another system failure", WSB_TOOL_ALL },
	{ WSB_EXIT_IOERR, "ioerr", "read or write error on stdin, stdout or a file", WSB_TOOL_ALL },
	{ WSB_EXIT_TEMPFAIL, "tempfail", "timeout; lines not acknowledged (--linger) or dropped (--drop-oldest); a gap with --gap=fail", P | U | H },
	{ WSB_EXIT_NOPERM, "noperm", "refused by the broker: authentication (HTTP 401/403, close 1008) or a publish outside the token's scope", P | U | H },
	{ WSB_EXIT_CONFIG, "config", "bad configuration: a --config file, an unreadable TLS, CA or token file; a wrong URL (no WebSocket or /health at its path, the other scheme); an untrusted server certificate", S | P | U | H | R },
};

/* Where a tool's own words differ from the general meaning. */
static const struct wsb_exit_info own_words[] = {
	{ WSB_EXIT_OK, NULL, "success: stopped by SIGTERM or SIGINT", S },
	{ WSB_EXIT_OK, NULL, "success: every line acknowledged (or sent, to a broker that does not acknowledge)", P },
	{ WSB_EXIT_OK, NULL, "success: --count reached, --timeout without --count, or the reader of stdout went away", U },
	{ WSB_EXIT_OK, NULL, "the server is healthy", H },
	{ WSB_EXIT_OK, NULL, "success: every input replayed, or the reader of stdout went away", R },
	{ WSB_EXIT_DATAERR, NULL, "bad input: an invalid or too long line with --strict; a message from the broker pub cannot take", P },
	{ WSB_EXIT_DATAERR, NULL, "a message sub cannot take: too big, binary, not UTF-8", U },
	{ WSB_EXIT_DATAERR, NULL, "an unreadable recording: an invalid or too long line with --strict, a truncated or damaged .gz, gzip data without the .gz name", R },
	{ WSB_EXIT_NOINPUT, NULL, "an input FILE cannot be opened", P },
	{ WSB_EXIT_NOINPUT, NULL, "an input file cannot be opened, or a directory holds no journal segments", R },
	{ WSB_EXIT_UNAVAILABLE, NULL, "cannot listen (the address is in use or not local), or --cluster cannot reach Redis at start", S },
	{ WSB_EXIT_UNAVAILABLE, NULL, "cannot connect and --retries is exhausted", P | U },
	{ WSB_EXIT_UNAVAILABLE, NULL, "the broker cannot be reached", H },
	{ WSB_EXIT_TEMPFAIL, NULL, "lines not acknowledged at the --linger deadline, refused by the broker, or dropped (--drop-oldest)", P },
	{ WSB_EXIT_TEMPFAIL, NULL, "--timeout before --count was reached; a gap with --gap=fail", U },
	{ WSB_EXIT_TEMPFAIL, NULL, "no answer within --timeout, interrupted, or not healthy when --wait ran out", H },
	{ WSB_EXIT_CONFIG, NULL, "bad configuration: a --config file, an unreadable TLS, token or other file", S },
	{ WSB_EXIT_CONFIG, NULL, "bad configuration: a --config file", R },
	{ WSB_EXIT_CONFIG, NULL, "bad configuration: a --config file, an unreadable CA or token file; a wrong URL: no WebSocket at its path (HTTP 404), or the other scheme (ws:// to TLS, wss:// to plain); a server certificate not trusted (--cafile, --insecure)", P | U },
	{ WSB_EXIT_CONFIG, NULL, "bad configuration: a --config file, an unreadable CA or token file; a wrong URL: no /health or no WebSocket at its path (HTTP 404), the WebSocket path asked for /health (426), or the other scheme; a server certificate not trusted (--cafile, --insecure)", H },
};

const char *wsb_exit_meaning(const struct wsb_exit_info *e, unsigned tool)
{
	for (size_t i = 0; i < sizeof own_words / sizeof own_words[0]; i++)
		if (own_words[i].code == e->code && (own_words[i].tools & tool))
			return own_words[i].meaning;
	return e->meaning;
}

const struct wsb_exit_info *wsb_exit_table(size_t *n)
{
	*n = sizeof exit_table / sizeof exit_table[0];
	return exit_table;
}

int wsb_err_set(struct wsb_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int wsb_err_errno(struct wsb_err *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
	return -1;
}

int wsb_err_exit(struct wsb_err *err, int status)
{
	if (!status)
		return 0;
	if (status > 0 && err)
		err->code = status;
	return -1;
}

void wsb_err_clear(struct wsb_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

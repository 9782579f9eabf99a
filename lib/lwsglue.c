#include "lwsglue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "log.h"

static volatile sig_atomic_t got_signal, got_hup;
static struct lws_context *signal_ctx;

static int quiet_log;
static int tls_init_failed;
static int accept_errno;
static char tls_why[96];

static void on_signal(int sig)
{
	got_signal = sig;
	/* A context being destroyed is NULL here first (valgrind caught a
	 * SIGSEGV when it was not). */
	if (signal_ctx)
		lws_cancel_service(signal_ctx);
}

void wsb_lwsglue_signals(struct lws_context *ctx, struct sigaction saved[2])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	signal_ctx = ctx;
	sigaction(SIGINT, &sa, saved ? &saved[0] : NULL);
	sigaction(SIGTERM, &sa, saved ? &saved[1] : NULL);
}

void wsb_lwsglue_unsignal(struct lws_context *ctx, const struct sigaction saved[2])
{
	if (saved) {
		sigaction(SIGINT, &saved[0], NULL);
		sigaction(SIGTERM, &saved[1], NULL);
	}
	if (signal_ctx == ctx)
		signal_ctx = NULL;
}

static void on_hup(int sig)
{
	got_hup = 1;
	if (signal_ctx)
		lws_cancel_service(signal_ctx);
}

void wsb_lwsglue_hup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

int wsb_lwsglue_hupped(void)
{
	int h = got_hup;

	got_hup = 0;
	return h;
}

int wsb_lwsglue_signal(void)
{
	int sig = got_signal;

	got_signal = 0;
	return sig;
}

/* "SSL error: <why> (preverify_ok=0;...)": CONNECTION_ERROR only says
 * "SSL err 1". */
static void note_tls_why(const char *line)
{
	const char *why = strstr(line, "SSL error: ");
	size_t k;

	if (!why)
		return;
	k = strcspn(why += 11, "(\r\n");
	while (k && why[k - 1] == ' ')
		k--;
	snprintf(tls_why, sizeof tls_why, "%.*s", (int)k, why);
}

static void emit(int level, const char *line)
{
	size_t n = strlen(line);
	const char *a = strstr(line, "accept: errno ");
	int to = level == LLL_ERR ? WSB_LOG_ERROR : level == LLL_WARN ? WSB_LOG_WARN : WSB_LOG_DEBUG;

	if (strstr(line, "init_server_ssl failed"))
		tls_init_failed = 1;
	if (a) {			/* logged once per episode by the server, not per try */
		accept_errno = atoi(a + 14);
		return;
	}
	/* How the server takes a plain connection over (wsserver_own.c):
	 * not a failure, and one line per connection. */
	if (strstr(line, "user ESTABLISHED failed connection"))
		return;
	note_tls_why(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	wsb_log(quiet_log ? WSB_LOG_DEBUG : to, "lws: %.*s", (int)n, line);
}

void wsb_lwsglue_log(int levels, int quiet)
{
	quiet_log = quiet;
	lws_set_log_level(levels, emit);
}

void wsb_lwsglue_clear(void)
{
	tls_init_failed = 0;
	accept_errno = 0;
	tls_why[0] = '\0';
}

int wsb_lwsglue_tls_init_failed(void)
{
	return tls_init_failed;
}

int wsb_lwsglue_accept_errno(void)
{
	int e = accept_errno;

	accept_errno = 0;
	return e;
}

const char *wsb_lwsglue_tls_why(void)
{
	return tls_why;
}

/* Weak: defined only when the sanitizer runtime is linked in. */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

struct lws_context *wsb_lwsglue_context(const struct lws_context_creation_info *info)
{
	struct lws_context *ctx;

	if (__lsan_disable)
		__lsan_disable();
	ctx = lws_create_context(info);
	if (__lsan_enable)
		__lsan_enable();
	return ctx;
}

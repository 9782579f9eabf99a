#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void wsb_cfg_defaults(struct wsb_cfg *cfg, unsigned tool, const char *progname)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->tool = tool;
	cfg->progname = progname;
	cfg->log_format = WSB_LOG_TEXT;

	cfg->listen = "127.0.0.1:8765";
	cfg->path = "/ws";
	cfg->max_message = 1 << 20;
	cfg->max_queue = 1 << 20;
	cfg->max_memory = 256 << 20;
	cfg->ping_interval = 30;
	cfg->history = 0;
	cfg->history_bytes = 0;

	if (tool & (WSB_TOOL_PUB | WSB_TOOL_SUB))
		cfg->url = "ws://127.0.0.1:8765/ws";
	cfg->retry_min = 1;
	cfg->retry_max = 60;
	cfg->retries = -1;
	cfg->queue = 10000;
	cfg->max_line = 1 << 20;
}

int wsb_strlist_add(struct wsb_strlist *l, char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		char **v = realloc(l->v, cap * sizeof *v);

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

/* "127.0.0.1:8765", "[::1]:8765", ":8765" (every address). */
static int parse_listen(struct wsb_cfg *cfg, struct wsb_err *err)
{
	const char *s = cfg->listen, *colon, *host = s;
	size_t hlen;
	char *end;
	long port;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
	}
	if (hlen >= sizeof cfg->listen_host)
		goto bad;
	memcpy(cfg->listen_host, host, hlen);
	cfg->listen_host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		goto bad;
	cfg->listen_port = (int)port;
	return 0;
bad:
	return wsb_err_set(err, WSB_EXIT_USAGE, "--listen: '%s' is not ADDR:PORT", s);
}

int wsb_cfg_check(struct wsb_cfg *cfg, struct wsb_err *err)
{
	if (cfg->quiet)
		cfg->verbose = -1;
	if (cfg->tool & WSB_TOOL_SERVE) {
		if (parse_listen(cfg, err))
			return -1;
		if (cfg->path[0] != '/')
			return wsb_err_set(err, WSB_EXIT_USAGE, "--path must start with '/'");
		if (cfg->max_message < 64 || cfg->max_message > (1ULL << 30))
			return wsb_err_set(err, WSB_EXIT_USAGE, "--max-message must be between 64 and 1G");
		if (cfg->max_queue < 1024)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--max-queue must be at least 1k");
	}
	if (cfg->tool & (WSB_TOOL_PUB | WSB_TOOL_SUB)) {
		if (!cfg->url || !*cfg->url)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--url must not be empty");
		if (cfg->retry_min <= 0 || cfg->retry_max < cfg->retry_min)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--retry-min must be > 0 and <= --retry-max");
		if (cfg->retry_max > 86400)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--retry-max must be at most 1 day");
		if (cfg->retries < -1)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--retries must be -1 (never give up) or more");
	}
	if (cfg->tool & WSB_TOOL_PUB) {
		if (cfg->raw && !cfg->type)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--raw needs --type");
		if (cfg->queue < 1)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--queue must be at least 1");
		if (cfg->max_line < 16)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--max-line must be at least 16");
	}
	return 0;
}

void wsb_cfg_free(struct wsb_cfg *cfg)
{
	free(cfg->types.v);
	free(cfg->operands);
	cfg->types.v = NULL;
	cfg->operands = NULL;
}

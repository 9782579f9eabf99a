/* wsbridge-serve's door files (serve.h): the credentials (access.h) and
 * the --allow-origin-file entries, read at start and again on SIGHUP. A
 * reload is all or nothing: whatever fails, the previous set stays and the
 * log says why; connections already in keep what they were granted. */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "log.h"

#define ORIGIN_FILE_MAX (64 << 10)

/* --allow-origin entries, then one per line of the file ('#' comments),
 * each checked as the option is (admit.h). */
static int load_origins(const struct wsb_cfg *cfg, struct wsb_strlist *l, char **text, struct wsb_err *err)
{
	FILE *f;
	size_t n;
	unsigned ln = 0;

	memset(l, 0, sizeof *l);
	*text = NULL;
	for (size_t i = 0; i < cfg->allow_origins.n; i++)
		if (wsb_strlist_add(l, cfg->allow_origins.v[i]))
			return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	if (!cfg->allow_origin_file)
		return 0;
	if (!(f = fopen(cfg->allow_origin_file, "r")))
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot read %s", cfg->allow_origin_file);
	*text = calloc(1, ORIGIN_FILE_MAX + 1);
	n = *text ? fread(*text, 1, ORIGIN_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (!*text || n > ORIGIN_FILE_MAX)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "%s: %s", cfg->allow_origin_file,
				   *text ? "larger than 64 KiB" : "out of memory");
	for (char *line = strtok(*text, "\n"); line; line = strtok(NULL, "\n")) {
		char *e = line + strlen(line);

		ln++;
		while (*line == ' ' || *line == '\t')
			line++;
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (!*line || *line == '#')
			continue;
		if (wsb_admit_check_allow(line, err) || wsb_strlist_add(l, line)) {
			char why[WSB_ERR_LEN];

			snprintf(why, sizeof why, "%s", err->msg);
			return wsb_err_set(err, WSB_EXIT_CONFIG, "%s line %u: %s", cfg->allow_origin_file, ln, why);
		}
	}
	return 0;
}

static void free_origins(struct wsb_strlist *l, char *text)
{
	free(l->v);
	free(text);
}

int serve_door_load(struct serve *sv, struct wsb_err *err)
{
	const struct wsb_cfg *cfg = sv->cfg;

	sv->access = wsb_access_load(cfg->token, cfg->token_file, cfg->jwt_secret_file, err);
	if (!sv->access)
		return -1;
	return load_origins(cfg, &sv->origins, &sv->origin_text, err);
}

void serve_door_free(struct serve *sv)
{
	wsb_access_free(sv->access);
	free_origins(&sv->origins, sv->origin_text);
	sv->access = NULL;
}

void serve_door_reload(void *ud)
{
	struct serve *sv = ud;
	const struct wsb_cfg *cfg = sv->cfg;
	struct wsb_err err = { 0 };
	struct wsb_access *a;
	struct wsb_strlist o;
	char *text, what[80];

	if (wsb_log_reopen(&err))
		wsb_log(WSB_LOG_ERROR, "SIGHUP: %s: still writing to the file open before", err.msg);
	a = wsb_access_load(cfg->token, cfg->token_file, cfg->jwt_secret_file, &err);
	if (!a || load_origins(cfg, &o, &text, &err)) {
		if (a) {
			wsb_access_free(a);
			free_origins(&o, text);
		}
		wsb_log(WSB_LOG_ERROR, "SIGHUP: reload failed, keeping the previous tokens, JWT secret and "
			"origins: %s", err.msg);
		return;
	}
	serve_door_free(sv);
	sv->access = a;
	sv->origins = o;
	sv->origin_text = text;
	wsb_server_set_door(sv->srv, sv->access, &sv->origins);
	wsb_access_describe(a, what, sizeof what);
	wsb_log(WSB_LOG_INFO, "SIGHUP: reloaded %s and %zu allowed origins; connected clients keep theirs",
		what, o.n);
}

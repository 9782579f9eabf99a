#include "access.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "jwt.h"

#define LINE_MAX_ 4096
#define JWT_SECRET_MIN 16	/* bytes: shorter HMAC keys can be guessed offline */
#define JWT_SECRET_MAX 1024

struct cred {
	char *token;
	struct wsb_scope scope;
};

struct wsb_access {
	struct cred *v;
	size_t n, cap;
	unsigned char *jwt_key;
	size_t jwt_len;
};

static void wipe(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

void wsb_access_free(struct wsb_access *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		wipe(a->v[i].token, strlen(a->v[i].token));
		free(a->v[i].token);
	}
	free(a->v);
	wipe(a->jwt_key, a->jwt_len);
	free(a->jwt_key);
	free(a);
}

static int add(struct wsb_access *a, const char *tok, size_t n, const struct wsb_scope *sc, struct wsb_err *err)
{
	if (n >= WSB_TOKEN_MAX)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "token longer than %d bytes", WSB_TOKEN_MAX - 1);
	for (size_t i = 0; i < a->n; i++)
		if (strlen(a->v[i].token) == n && !memcmp(a->v[i].token, tok, n))
			return wsb_err_set(err, WSB_EXIT_CONFIG, "the same token twice");
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct cred *v = realloc(a->v, cap * sizeof *v);

		if (!v)
			return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		a->v = v;
		a->cap = cap;
	}
	if (!(a->v[a->n].token = strndup(tok, n)))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	a->v[a->n++].scope = *sc;
	return 0;
}

/* The words after the token. */
static int scope_word(struct wsb_scope *sc, const char *w, size_t n, int *had_may, struct wsb_err *err)
{
	if (n > 6 && !memcmp(w, "types=", 6))
		return wsb_scope_set_types(sc, w + 6, n - 6, err);
	if (*had_may)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "two scope words (write pub,sub)");
	*had_may = 1;
	return wsb_scope_parse_may(w, n, &sc->may, err);
}

static int parse_line(struct wsb_access *a, char *line, struct wsb_err *err)
{
	struct wsb_scope sc;
	char *p = line, *tok;
	size_t tn;
	int had_may = 0;

	wsb_scope_all(&sc);
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	tok = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	tn = (size_t)(p - tok);
	for (;;) {
		char *w;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		w = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (scope_word(&sc, w, (size_t)(p - w), &had_may, err) < 0)
			return -1;
	}
	return add(a, tok, tn, &sc, err);
}

static int load_token_file(struct wsb_access *a, const char *file, struct wsb_err *err)
{
	char line[LINE_MAX_];
	unsigned ln = 0;
	FILE *f = fopen(file, "r");
	int rc = 0;

	if (!f)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot read token file %s", file);
	while (!rc && fgets(line, sizeof line, f)) {
		ln++;
		if (!strchr(line, '\n') && !feof(f))
			rc = wsb_err_set(err, WSB_EXIT_CONFIG, "line longer than %d bytes", LINE_MAX_ - 2);
		else
			rc = parse_line(a, line, err);
	}
	wipe(line, sizeof line);
	fclose(f);
	if (rc < 0) {
		char why[WSB_ERR_LEN];

		snprintf(why, sizeof why, "%s", err->msg);
		return wsb_err_set(err, err->code, "token file %s line %u: %s", file, ln, why);
	}
	if (!a->n)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "token file %s holds no token", file);
	return 0;
}

static int load_jwt_secret(struct wsb_access *a, const char *file, struct wsb_err *err)
{
	unsigned char buf[JWT_SECRET_MAX + 2];
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot read JWT secret file %s", file);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < JWT_SECRET_MIN || n > JWT_SECRET_MAX) {
		wipe(buf, sizeof buf);
		return wsb_err_set(err, WSB_EXIT_CONFIG, "JWT secret file %s: the secret must be %d to %d bytes",
				   file, JWT_SECRET_MIN, JWT_SECRET_MAX);
	}
	a->jwt_key = malloc(n);
	if (a->jwt_key)
		memcpy(a->jwt_key, buf, n);
	a->jwt_len = n;
	wipe(buf, sizeof buf);
	return a->jwt_key ? 0 : wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
}

struct wsb_access *wsb_access_load(const char *token, const char *token_file, const char *jwt_secret_file,
				   struct wsb_err *err)
{
	struct wsb_access *a = calloc(1, sizeof *a);
	struct wsb_scope all;
	int rc = 0;

	if (!a) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	wsb_scope_all(&all);
	if (token && token_file)
		rc = wsb_err_set(err, WSB_EXIT_USAGE, "--token and --token-file are exclusive");
	else if (token && !*token)
		rc = wsb_err_set(err, WSB_EXIT_CONFIG, "empty token");
	else if (token)
		rc = add(a, token, strlen(token), &all, err);
	else if (token_file)
		rc = load_token_file(a, token_file, err);
	if (!rc && jwt_secret_file)
		rc = load_jwt_secret(a, jwt_secret_file, err);
	if (rc) {
		wsb_access_free(a);
		return NULL;
	}
	return a;
}

int wsb_access_on(const struct wsb_access *a)
{
	return a && (a->n || a->jwt_key);
}

void wsb_access_describe(const struct wsb_access *a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%zu token%s%s", a->n, a->n == 1 ? "" : "s", a->jwt_key ? " and a JWT secret" : "");
}

/* Every token is compared in full: the time taken says nothing about which
 * one matched or how much of one did. */
static const struct cred *find(const struct wsb_access *a, const char *given)
{
	const struct cred *hit = NULL;

	for (size_t i = 0; i < a->n; i++)
		if (wsb_auth_equal(given, a->v[i].token))
			hit = &a->v[i];
	return hit;
}

int wsb_access_check(const struct wsb_access *a, const char *given, int64_t now, struct wsb_grant *g,
		     const char **why)
{
	const struct cred *c;

	memset(g, 0, sizeof *g);
	wsb_scope_all(&g->scope);
	if (!wsb_access_on(a))
		return 0;
	if (!given || !*given) {
		*why = "authentication required";
		return -1;
	}
	if ((c = find(a, given))) {
		g->scope = c->scope;
		return 0;
	}
	if (a->jwt_key && wsb_jwt_shaped(given)) {
		struct wsb_jwt_claims cl;

		if (wsb_jwt_verify(a->jwt_key, a->jwt_len, given, now, &cl, why) < 0)
			return -1;
		g->scope = cl.scope;
		g->jwt = 1;
		if (cl.has_sub)
			snprintf(g->subject, sizeof g->subject, "%s", cl.sub);
		return 0;
	}
	*why = "invalid token";
	return -1;
}

int wsb_grant_producer_ok(const struct wsb_grant *g, const char *id)
{
	return wsb_scope_producer_ok(g->jwt ? g->subject : NULL, id);
}

const char *wsb_grant_arg(const struct wsb_grant *g, const char *arg)
{
	if (!strncmp(arg, "type=", 5) && !wsb_scope_may_subscribe(&g->scope, arg + 5))
		return "type pattern outside this token's scope";
	if (!strncmp(arg, "producer=", 9) && !wsb_grant_producer_ok(g, arg + 9))
		return "producer id not allowed for this token's subject";
	return NULL;
}

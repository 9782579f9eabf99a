#include "subs.h"

#include <stdio.h>
#include <string.h>

#include "envelope.h"

void wsb_subs_init(struct wsb_subs *s)
{
	wsb_patterns_init(&s->pats);
	s->bytes = 0;
}

void wsb_subs_free(struct wsb_subs *s)
{
	wsb_patterns_free(&s->pats);
}

int wsb_subs_active(const struct wsb_subs *s)
{
	return s->pats.all || s->pats.n > 0;
}

static size_t json_len(const char *pat)
{
	char esc[WSB_TYPE_MAX * 6 + 3];

	return wsb_json_escape(esc, sizeof esc, pat, strlen(pat)) + 1;	/* and a comma */
}

/* A pattern already in the set never counts against the caps. */
int wsb_subs_add(struct wsb_subs *s, const char *pat, struct wsb_err *err)
{
	size_t jl;
	int r, all = s->pats.all;

	if (!wsb_match_pattern_ok(pat, err))
		return -1;
	jl = json_len(pat);
	r = wsb_patterns_add(&s->pats, pat);
	if (r < 0)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	if (r > 0 && (s->pats.n > WSB_PATTERNS_MAX || s->bytes + jl > WSB_SUBS_BYTES)) {
		wsb_patterns_remove(&s->pats, pat);
		s->pats.all = all;
		return wsb_err_set(err, WSB_EXIT_USAGE, "too many type patterns: at most %d, %d bytes as JSON",
				   WSB_PATTERNS_MAX, WSB_SUBS_BYTES);
	}
	if (r > 0)
		s->bytes += jl;
	return 0;
}

/* pat may be the set's own copy, which the removal frees: measure first. */
static void remove_one(struct wsb_subs *s, const char *pat)
{
	size_t jl = json_len(pat);

	if (wsb_patterns_remove(&s->pats, pat) > 0)
		s->bytes -= jl;
}

/* Patterns a failed subscribe added are the ones past n (adding appends),
 * so taking them off the end restores the set it found. */
static void truncate_to(struct wsb_subs *s, size_t n, int all)
{
	while (s->pats.n > n)
		remove_one(s, s->pats.v[s->pats.n - 1]);
	s->pats.all = all;
}

void wsb_subs_none(struct wsb_subs *s)
{
	truncate_to(s, 0, 0);
}

struct req {
	struct wsb_subs *s;
	int unsub;
	int apply;		/* 0: checking every pattern first; 1: changing the set */
	const char *code;	/* the error to answer, once */
	struct wsb_err *err;
};

static int check_one(struct req *c, const char *str, size_t n, int too_long)
{
	if (too_long)
		wsb_err_set(c->err, WSB_EXIT_USAGE,
			    "invalid type pattern \"%.32s...\": more than %d bytes", str, WSB_TYPE_MAX);
	else if (strlen(str) != n)
		wsb_err_set(c->err, WSB_EXIT_USAGE, "invalid type pattern: contains a NUL character");
	else if (!wsb_match_pattern_ok(str, c->err))
		;
	else
		return 0;
	c->code = "INVALID_MESSAGE";
	return -1;
}

/* For wsb_env_strings: -1 stops at the first refusal, whose reason is the
 * one answer the request gets. */
static int one(void *ud, const char *str, size_t n, int too_long)
{
	struct req *c = ud;

	if (!c->apply)
		return check_one(c, str, n, too_long);
	if (c->unsub) {
		/* The default set is listed as ["*"]: removing what the
		 * reply showed leaves nothing, as for any other pattern. */
		if (c->s->pats.all && !strcmp(str, "*"))
			wsb_subs_none(c->s);
		remove_one(c->s, str);
		return 0;
	}
	if (!wsb_subs_add(c->s, str, c->err))
		return 0;
	c->code = c->err->code == WSB_EXIT_OSERR ? "INTERNAL_ERROR" : "TOO_MANY_PATTERNS";
	return -1;
}

/* Dashboards written for the systems wsbridge replaces send
 * {"type":"subscribe","symbols":[...]}: no "types" changes nothing and is
 * answered with the current set, not an error. */
int wsb_subs_request(struct wsb_subs *s, const char *obj, size_t len, int unsub,
		     const char **code, struct wsb_err *err)
{
	struct req c = { .s = s, .unsub = unsub, .err = err };
	size_t skipped = 0, n0 = s->pats.n;
	int all0 = s->pats.all;
	struct wsb_span v;

	if (!wsb_env_lookup(obj, len, "types", &v))
		return 0;
	if (wsb_env_strings(obj + v.off, v.len, one, &c, &skipped) < 0 || skipped) {
		if (!c.code)
			wsb_err_set(err, WSB_EXIT_USAGE, "%s needs \"types\": an array of strings",
				    unsub ? "unsubscribe" : "subscribe");
		*code = c.code ? c.code : "INVALID_MESSAGE";
		return -1;
	}
	c.apply = 1;
	if (wsb_env_strings(obj + v.off, v.len, one, &c, NULL) < 0) {
		truncate_to(s, n0, all0);
		*code = c.code;
		return -1;
	}
	return 0;
}

int wsb_subs_wants(const struct wsb_subs *s, const char *type, int probe)
{
	if (!probe)
		return wsb_patterns_match(&s->pats, type);
	if (s->pats.all)
		return 0;
	for (size_t i = 0; i < s->pats.n; i++)
		if (!strncmp(s->pats.v[i], "$probe", 6) && wsb_match_glob(s->pats.v[i], type))
			return 1;
	return 0;
}

struct wsb_msg *wsb_subs_reply(const struct wsb_subs *s)
{
	size_t cap = s->bytes + 64, n;
	struct wsb_msg *m = wsb_msg_alloc(cap);
	char *p;

	if (!m)
		return NULL;
	p = wsb_msg_payload(m);
	n = (size_t)sprintf(p, "{\"type\":\"subscribed\",\"types\":[%s", s->pats.all ? "\"*\"" : "");
	for (size_t i = 0; !s->pats.all && i < s->pats.n; i++) {
		const char *pat = s->pats.v[i];

		if (i)
			p[n++] = ',';
		n += wsb_json_escape(p + n, cap - n, pat, strlen(pat));
	}
	memcpy(p + n, "]}", 2);
	wsb_msg_seal(m, n + 2);
	return m;
}

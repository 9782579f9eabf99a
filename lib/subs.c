#include "subs.h"

#include <stdio.h>
#include <string.h>

#include "envelope.h"

void wsb_subs_init(struct wsb_subs *s)
{
	wsb_patterns_init(&s->pats);
	wsb_patterns_init(&s->syms);
	s->bytes = s->sym_bytes = 0;
	s->scope = NULL;
}

void wsb_subs_free(struct wsb_subs *s)
{
	wsb_patterns_free(&s->pats);
	wsb_patterns_free(&s->syms);
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

/* Symbols use the same set type as patterns (an "all" flag and a list),
 * compared exactly. */
static int sym_add(struct wsb_subs *s, const char *sym, struct wsb_err *err)
{
	size_t jl = json_len(sym);
	int r;

	if (!strcmp(sym, "*")) {
		wsb_patterns_free(&s->syms);	/* back to every symbol */
		s->sym_bytes = 0;
		return 0;
	}
	if (s->syms.all && s->syms.n == 0)
		s->syms.all = 0;
	r = wsb_patterns_add(&s->syms, sym);
	if (r < 0)
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	if (r > 0 && (s->syms.n > WSB_PATTERNS_MAX || s->sym_bytes + jl > WSB_SUBS_BYTES)) {
		wsb_patterns_remove(&s->syms, sym);
		return wsb_err_set(err, WSB_EXIT_USAGE, "too many symbols: at most %d, %d bytes as JSON",
				   WSB_PATTERNS_MAX, WSB_SUBS_BYTES);
	}
	if (r > 0)
		s->sym_bytes += jl;
	return 0;
}

static void sym_remove(struct wsb_subs *s, const char *sym)
{
	size_t jl = json_len(sym);

	if (s->syms.all && !strcmp(sym, "*")) {
		s->syms.all = 0;	/* as for types: nothing left */
		return;
	}
	if (wsb_patterns_remove(&s->syms, sym) > 0)
		s->sym_bytes -= jl;
}

struct req {
	struct wsb_subs *s;
	int unsub;
	int syms;		/* the "symbols" list, not "types" */
	int apply;		/* 0: checking every pattern first; 1: changing the set */
	const char *code;	/* the error to answer, once */
	struct wsb_err *err;
};

static int forbidden(struct req *c, const char *pat)
{
	if (!(c->s->scope->may & WSB_SCOPE_SUB))
		wsb_err_set(c->err, WSB_EXIT_NOPERM, "this connection's token may not subscribe");
	else
		wsb_err_set(c->err, WSB_EXIT_NOPERM, "type pattern \"%.64s\" is outside this connection's "
			    "token scope (types=%.200s)", pat, c->s->scope->types);
	c->code = "FORBIDDEN";
	return -1;
}

static int check_one(struct req *c, const char *str, size_t n, int too_long)
{
	const char *what = c->syms ? "symbol" : "type pattern";

	if (too_long)
		wsb_err_set(c->err, WSB_EXIT_USAGE,
			    "invalid %s \"%.32s...\": more than %d bytes", what, str, WSB_TYPE_MAX);
	else if (strlen(str) != n)
		wsb_err_set(c->err, WSB_EXIT_USAGE, "invalid %s: contains a NUL character", what);
	else if (c->syms && n == 0)
		wsb_err_set(c->err, WSB_EXIT_USAGE, "invalid symbol: empty");
	else if (!c->syms && !wsb_match_pattern_ok(str, c->err))
		;
	else if (!c->syms && !c->unsub && c->s->scope && !wsb_scope_may_subscribe(c->s->scope, str))
		return forbidden(c, str);
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
	int r;

	if (!c->apply)
		return check_one(c, str, n, too_long);
	if (c->unsub) {
		/* The default set is listed as ["*"]: removing what the
		 * reply showed leaves nothing, as for any other pattern. */
		if (c->syms) {
			sym_remove(c->s, str);
		} else {
			if (c->s->pats.all && !strcmp(str, "*"))
				wsb_subs_none(c->s);
			remove_one(c->s, str);
		}
		return 0;
	}
	r = c->syms ? sym_add(c->s, str, c->err) : wsb_subs_add(c->s, str, c->err);
	if (!r)
		return 0;
	c->code = c->err->code == WSB_EXIT_OSERR ? "INTERNAL_ERROR"
			: c->syms ? "TOO_MANY_SYMBOLS" : "TOO_MANY_PATTERNS";
	return -1;
}

static int check_list(struct req *c, const char *obj, const struct wsb_span *v)
{
	size_t skipped = 0;

	if (wsb_env_strings(obj + v->off, v->len, one, c, &skipped) < 0 || skipped) {
		if (!c->code)
			wsb_err_set(c->err, WSB_EXIT_USAGE, "%s needs \"%s\": an array of strings",
				    c->unsub ? "unsubscribe" : "subscribe", c->syms ? "symbols" : "types");
		if (!c->code)
			c->code = "INVALID_MESSAGE";
		return -1;
	}
	return 0;
}

/* The state a failed request must leave: copies of both lists. */
struct saved {
	struct wsb_patterns pats, syms;
	size_t bytes, sym_bytes;
};

static int save(struct saved *v, const struct wsb_subs *s, unsigned what)
{
	const struct wsb_patterns *from[2] = { &s->pats, &s->syms };
	struct wsb_patterns *to[2] = { &v->pats, &v->syms };

	wsb_patterns_init(to[0]);
	wsb_patterns_init(to[1]);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; (what & (1u << k)) && i < from[k]->n; i++)
			if (wsb_patterns_add(to[k], from[k]->v[i]) < 0)
				return -1;
		to[k]->all = from[k]->all;
	}
	v->bytes = s->bytes;
	v->sym_bytes = s->sym_bytes;
	return 0;
}

static void restore(struct wsb_subs *s, struct saved *v, unsigned what)
{
	if (what & WSB_SUBS_TYPES) {
		wsb_patterns_free(&s->pats);
		s->pats = v->pats;
		s->bytes = v->bytes;
	} else {
		wsb_patterns_free(&v->pats);
	}
	if (what & WSB_SUBS_SYMBOLS) {
		wsb_patterns_free(&s->syms);
		s->syms = v->syms;
		s->sym_bytes = v->sym_bytes;
	} else {
		wsb_patterns_free(&v->syms);
	}
}

/* Dashboards written for the systems wsbridge replaces send
 * {"type":"subscribe","symbols":[...]}; wsbridge's own clients send
 * "types". Both lists are checked before either changes; a request with
 * neither is answered with the current types. */
int wsb_subs_request(struct wsb_subs *s, const char *obj, size_t len, int unsub,
		     unsigned *what, const char **code, struct wsb_err *err)
{
	struct req c = { .s = s, .unsub = unsub, .err = err };
	struct wsb_span v[2];
	static const char *const key[2] = { "types", "symbols" };
	struct saved sv;
	int rc = 0;

	*what = 0;
	for (int k = 0; k < 2; k++)
		if (wsb_env_lookup(obj, len, key[k], &v[k])) {
			*what |= 1u << k;
			c.syms = k;
			if (check_list(&c, obj, &v[k]) < 0)
				return *code = c.code, -1;
		}
	if (!*what)
		return *what = WSB_SUBS_TYPES, 0;
	if (save(&sv, s, *what) < 0) {
		restore(s, &sv, 0);
		*code = "INTERNAL_ERROR";
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	}
	c.apply = 1;
	for (int k = 0; k < 2 && !rc; k++)
		if (*what & (1u << k)) {
			c.syms = k;
			rc = wsb_env_strings(obj + v[k].off, v[k].len, one, &c, NULL) < 0 ? -1 : 0;
		}
	if (rc < 0) {
		restore(s, &sv, *what);
		*code = c.code;
		return -1;
	}
	restore(s, &sv, 0);	/* frees the copies */
	return 0;
}

/* The symbol at the key path: a string member, decoded. */
static void sym_lookup(struct wsb_symcache *c)
{
	const char *p = c->obj;
	size_t len = c->len;
	struct wsb_span v;
	ssize_t n;

	c->state = 1;
	for (size_t i = 0; i < c->key->n; i++) {
		if (!wsb_env_lookup(p, len, c->key->name[i], &v))
			return;
		p += v.off;
		len = v.len;
	}
	if (!len || p[0] != '"')
		return;
	n = wsb_env_string(p, len, c->v, sizeof c->v);
	c->state = n < 0 ? 3 : strlen(c->v) == (size_t)n ? 2 : 3;	/* a NUL matches nothing */
}

int wsb_subs_wants_symbol(const struct wsb_subs *s, struct wsb_symcache *c)
{
	if (!c || !c->key || s->syms.all)	/* no symbol key: s is not read */
		return 1;
	if (!c->state)
		sym_lookup(c);
	if (c->state == 1)
		return 1;	/* no symbol: not something a symbol set is about */
	for (size_t i = 0; c->state == 2 && i < s->syms.n; i++)
		if (!strcmp(s->syms.v[i], c->v))
			return 1;
	return 0;
}

/* A probe is not about symbols: its type alone decides. */
int wsb_subs_wants(const struct wsb_subs *s, const char *type, int probe,
		   struct wsb_symcache *c)
{
	return wsb_subs_type_wanted(s, type, probe) && (probe || wsb_subs_wants_symbol(s, c));
}

int wsb_subs_type_wanted(const struct wsb_subs *s, const char *type, int probe)
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

static size_t put_list(char *p, size_t cap, const char *name, const struct wsb_patterns *l)
{
	size_t n = (size_t)sprintf(p, ",\"%s\":[%s", name, l->all ? "\"*\"" : "");

	for (size_t i = 0; !l->all && i < l->n; i++) {
		if (i)
			p[n++] = ',';
		n += wsb_json_escape(p + n, cap - n, l->v[i], strlen(l->v[i]));
	}
	p[n++] = ']';
	return n;
}

struct wsb_msg *wsb_subs_reply(const struct wsb_subs *s, unsigned what)
{
	size_t cap = s->bytes + s->sym_bytes + 96, n;
	struct wsb_msg *m = wsb_msg_alloc(cap);
	char *p;

	if (!m)
		return NULL;
	p = wsb_msg_payload(m);
	n = (size_t)sprintf(p, "{\"type\":\"subscribed\"");
	if (what & WSB_SUBS_TYPES || !what)
		n += put_list(p + n, cap - n, "types", &s->pats);
	if (what & WSB_SUBS_SYMBOLS)
		n += put_list(p + n, cap - n, "symbols", &s->syms);
	p[n++] = '}';
	wsb_msg_seal(m, n);
	return m;
}

static int ident(const char *p, size_t n)
{
	if (!n || n > WSB_SYMKEY_NAME || (p[0] >= '0' && p[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(p[i] == '_' || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9')))
			return 0;
	return 1;
}

int wsb_symkey_parse(struct wsb_symkey *k, const char *path, struct wsb_err *err)
{
	const char *p = path;

	k->n = 0;
	while (*p == '.') {
		size_t n = strcspn(p + 1, ".");

		if (k->n == WSB_SYMKEY_DEPTH || !ident(p + 1, n))
			break;
		memcpy(k->name[k->n], p + 1, n);
		k->name[k->n++][n] = '\0';
		p += 1 + n;
	}
	if (*p || !k->n)
		return wsb_err_set(err, WSB_EXIT_USAGE, "symbol key '%s' is not a path like .data.symbol "
				   "(at most %d member names)", path, WSB_SYMKEY_DEPTH);
	return 0;
}

void wsb_symcache_init(struct wsb_symcache *c, const struct wsb_symkey *key, const char *obj,
		       size_t len)
{
	c->key = key && key->n ? key : NULL;
	c->obj = obj;
	c->len = len;
	c->state = 0;
}

int wsb_want_msg(const struct wsb_want *w, const struct wsb_msg *m)
{
	size_t len;
	const char *obj = wsb_msg_json(m, &len);
	char type[WSB_TYPE_MAX + 1];
	struct wsb_symcache c;
	struct wsb_span v;

	if (!wsb_env_lookup(obj, len, "type", &v) ||
	    wsb_env_string(obj + v.off, v.len, type, sizeof type) < 0)
		return 0;
	wsb_symcache_init(&c, w->key, obj, len);
	return wsb_subs_wants(w->subs, type, 0, &c) && wsb_want_pass(w, m);
}

int wsb_want_pass(const struct wsb_want *w, const struct wsb_msg *m)
{
	return !w->pass || w->pass(w->ud, m);
}

struct wsb_msg *wsb_want_form(const struct wsb_want *w, struct wsb_msg *m)
{
	return wsb_msg_form(m, w->stamp);
}

#include "allow.h"

#include <stdio.h>

#include "producers.h"

int wsb_allow_join(struct wsb_sess *s, const struct wsb_scope *scope, const char *const *types, size_t ntypes,
		   int subscribe_none, struct wsb_err *err)
{
	char g[WSB_TYPE_MAX + 1];
	int n;

	static struct wsb_scope all;

	if (!all.may)
		wsb_scope_all(&all);
	s->scope = scope ? scope : &all;
	s->subs.scope = s->scope;
	for (size_t i = 0; i < ntypes; i++)
		if (!wsb_scope_may_subscribe(s->scope, types[i]))
			return wsb_err_set(err, WSB_EXIT_NOPERM, "type pattern \"%.64s\" is outside this token's scope",
					   types[i]);
	if (ntypes || subscribe_none)
		return 0;
	if (!(s->scope->may & WSB_SCOPE_SUB)) {
		wsb_subs_none(&s->subs);
		return 0;
	}
	for (size_t i = 0; (n = wsb_scope_glob(s->scope, i, g, sizeof g)) >= 0; i++)
		if (n > 0 && wsb_subs_add(&s->subs, g, err) < 0)
			return -1;
	return 0;
}

const char *wsb_allow_publish(const struct wsb_sess *s, const char *type, char *text, size_t cap)
{
	if (s->read_only)
		snprintf(text, cap, "this connection may not publish (a browser's, and the broker runs with "
			 "--browsers-read-only)");
	else if (wsb_scope_may_publish(s->scope, type))
		return NULL;
	else if (!(s->scope->may & WSB_SCOPE_PUB))
		snprintf(text, cap, "this connection's token may not publish: not delivered");
	else
		snprintf(text, cap, "type \"%.64s\" is outside this connection's token scope (types=%.160s): "
			 "not delivered", type, s->scope->types);
	return "FORBIDDEN";
}

int wsb_allow_rate(struct wsb_sess *s, const struct wsb_rate *r, int pause, uint64_t now, uint64_t *wait_ms,
		   char *text, size_t cap)
{
	struct wsb_bucket *pb = s->prod ? &s->prod->bucket : NULL;
	uint64_t w, pw;
	int own;

	*wait_ms = 0;
	if (r->per_s <= 0)
		return WSB_ALLOW_OK;
	if (pause) {
		wsb_bucket_charge(&s->bucket, r, now);
		if (pb)
			wsb_bucket_charge(pb, r, now);
		w = wsb_bucket_wait_ms(&s->bucket, r, now);
		pw = pb ? wsb_bucket_wait_ms(pb, r, now) : 0;
		*wait_ms = w > pw ? w : pw;
		return WSB_ALLOW_OK;
	}
	own = wsb_bucket_ready(&s->bucket, r, now);
	if (own && (!pb || wsb_bucket_ready(pb, r, now))) {
		wsb_bucket_take(&s->bucket, r, now);
		if (pb)
			wsb_bucket_take(pb, r, now);
		s->limited = 0;
		return WSB_ALLOW_OK;
	}
	snprintf(text, cap, "over the rate limit (%g/s, burst %g%s): not delivered", r->per_s, r->burst,
		 own ? ", for this producer id" : "");
	if (s->limited)
		return WSB_ALLOW_QUIET;
	s->limited = 1;
	return WSB_ALLOW_SAY;
}

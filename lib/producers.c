#include "producers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "envelope.h"
#include "sys.h"

#define PROD_BUCKETS 4096

struct wsb_prods {
	struct wsb_prod *hash[PROD_BUCKETS];
	struct wsb_prod *lru_head, *lru_tail;
	size_t n, max;
	wsb_rand_fn rand;
};

struct wsb_prods *wsb_prods_new(size_t max, wsb_rand_fn rand)
{
	struct wsb_prods *t = calloc(1, sizeof *t);

	if (t) {
		t->max = max ? max : 65536;
		t->rand = rand ? rand : wsb_random_bytes;
	}
	return t;
}

void wsb_prods_free(struct wsb_prods *t)
{
	if (!t)
		return;
	while (t->lru_head) {
		struct wsb_prod *p = t->lru_head;

		t->lru_head = p->lnext;
		free(p);
	}
	free(t);
}

static unsigned id_hash(const char *id)
{
	unsigned h = 2166136261u;

	while (*id)
		h = (h ^ (unsigned char)*id++) * 16777619u;
	return h % PROD_BUCKETS;
}

static void lru_unlink(struct wsb_prods *t, struct wsb_prod *p)
{
	if (p->lprev)
		p->lprev->lnext = p->lnext;
	else
		t->lru_head = p->lnext;
	if (p->lnext)
		p->lnext->lprev = p->lprev;
	else
		t->lru_tail = p->lprev;
}

static void lru_front(struct wsb_prods *t, struct wsb_prod *p)
{
	p->lprev = NULL;
	p->lnext = t->lru_head;
	if (t->lru_head)
		t->lru_head->lprev = p;
	t->lru_head = p;
	if (!t->lru_tail)
		t->lru_tail = p;
}

int wsb_prods_id_ok(const char *id, size_t n)
{
	if (!n || n > WSB_PRODUCER_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

struct wsb_prod *wsb_prods_find(struct wsb_prods *t, const char *id)
{
	for (struct wsb_prod *p = t->hash[id_hash(id)]; p; p = p->hnext)
		if (!strcmp(p->id, id)) {
			lru_unlink(t, p);
			lru_front(t, p);
			return p;
		}
	return NULL;
}

/* Forget the producer silent the longest that nobody holds: should it come
 * back, it may duplicate what it resends, but memory stays bounded. A held
 * id is never forgotten, or a flood of new ids could free it for a third
 * party to claim. 0, or -1 if every id is held. */
static int evict_one(struct wsb_prods *t)
{
	struct wsb_prod *old = t->lru_tail, **pp;

	while (old && old->owner)
		old = old->lprev;
	if (!old)
		return -1;
	lru_unlink(t, old);
	for (pp = &t->hash[id_hash(old->id)]; *pp != old; pp = &(*pp)->hnext)
		;
	*pp = old->hnext;
	free(old);
	t->n--;
	return 0;
}

static struct wsb_prod *create(struct wsb_prods *t, const char *id)
{
	unsigned h = id_hash(id);
	struct wsb_prod *p;

	if (t->n >= t->max && evict_one(t) < 0)
		return NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	snprintf(p->id, sizeof p->id, "%s", id);
	p->hnext = t->hash[h];
	t->hash[h] = p;
	lru_front(t, p);
	t->n++;
	return p;
}

struct wsb_prod *wsb_prods_restore(struct wsb_prods *t, const char *id,
				   const unsigned char hash[WSB_SECRET_HASH])
{
	struct wsb_prod *p = wsb_prods_find(t, id);

	if (!p)
		p = create(t, id);
	if (p)
		memcpy(p->hash, hash, WSB_SECRET_HASH);
	return p;
}

void wsb_secret_hash(const char *secret, unsigned char out[WSB_SECRET_HASH])
{
	SHA256((const unsigned char *)secret, strlen(secret), out);
}

void wsb_hex(char *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Lowercase only: it is what wsb_hex writes and the broker issues. */
static int nibble(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *d = c ? strchr(digits, c) : NULL;

	return d ? (int)(d - digits) : -1;
}

int wsb_unhex(unsigned char *out, size_t n, const char *s, size_t len)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* 16 random bytes. Unlike an epoch or a client id, a secret must not be
 * guessable, so there is no clock fallback: no entropy, no secret. */
static int issue(struct wsb_prods *t, struct wsb_prod *p, struct wsb_claim *c,
		 struct wsb_err *err)
{
	unsigned char r[WSB_SECRET_HEX / 2];

	if (t->rand(r, sizeof r) < 0)
		return wsb_err_set(err, WSB_EXIT_OSERR, "cannot draw a producer secret: no entropy");
	wsb_hex(c->issued, r, sizeof r);
	wsb_secret_hash(c->issued, p->hash);
	c->changed = 1;
	return 0;
}

/* The id is known: only its secret opens it, or nothing at all when
 * nothing of it was accepted yet and nobody holds it. */
static int claim_known(struct wsb_prods *t, struct wsb_prod *p, const char *secret,
		       struct wsb_claim *c, struct wsb_err *err)
{
	unsigned char h[WSB_SECRET_HASH];

	if (secret) {
		wsb_secret_hash(secret, h);
		if (CRYPTO_memcmp(h, p->hash, sizeof h))
			return wsb_err_set(err, WSB_EXIT_NOPERM, "wrong producer_secret for producer %s",
					   p->id);
		c->replaced = p->owner;
		return 0;
	}
	if (p->last || p->durable || p->owner)
		return wsb_err_set(err, WSB_EXIT_NOPERM,
				   "producer %s is taken: reconnecting needs its producer_secret", p->id);
	return issue(t, p, c, err);
}

int wsb_prods_claim(struct wsb_prods *t, const char *id, const char *secret, void *owner,
		    struct wsb_claim *c, struct wsb_err *err)
{
	struct wsb_prod *p;
	unsigned char h[WSB_SECRET_HASH];

	memset(c, 0, sizeof *c);
	if (!wsb_prods_id_ok(id, strlen(id)))
		return wsb_err_set(err, WSB_EXIT_USAGE, "invalid producer id (1-%d of A-Z a-z 0-9 . _ : -)",
				   WSB_PRODUCER_ID_MAX);
	if (secret && wsb_unhex(h, WSB_SECRET_HEX / 2, secret, strlen(secret)) < 0)
		return wsb_err_set(err, WSB_EXIT_USAGE, "invalid producer_secret (%d hex characters)",
				   WSB_SECRET_HEX);
	p = wsb_prods_find(t, id);
	if (p) {
		if (claim_known(t, p, secret, c, err) < 0)
			return -1;
	} else {
		p = create(t, id);
		if (!p)
			return wsb_err_set(err, WSB_EXIT_OSERR, "cannot add producer %s: %s", id,
					   t->n >= t->max ? "every known producer is connected" : "out of memory");
		if (secret) {
			wsb_secret_hash(secret, p->hash);	/* adopted */
			c->changed = 1;
		} else if (issue(t, p, c, err) < 0) {
			return -1;
		}
	}
	p->owner = owner;
	c->prod = p;
	return 0;
}

void wsb_prods_release(struct wsb_prod *p, void *owner)
{
	if (p && p->owner == owner)
		p->owner = NULL;
}

int wsb_prods_read(const char *obj, size_t len, char id[WSB_PRODUCER_ID_MAX + 1], uint64_t *pseq)
{
	struct wsb_span v;
	ssize_t n;

	if (!wsb_env_lookup(obj, len, "pseq", &v) || wsb_env_uint(obj + v.off, v.len, pseq))
		return 0;
	if (!wsb_env_lookup(obj, len, "producer", &v))
		return 0;
	n = wsb_env_string(obj + v.off, v.len, id, WSB_PRODUCER_ID_MAX + 1);
	return n > 0 && wsb_prods_id_ok(id, (size_t)n);
}

int wsb_prods_check(const struct wsb_prod *p, const char *obj, size_t n, uint64_t *pseq,
		    const char **code, struct wsb_err *err)
{
	char id[WSB_PRODUCER_ID_MAX + 1];
	struct wsb_span pv, iv;
	int has_p = wsb_env_lookup(obj, n, "pseq", &pv), has_i = wsb_env_lookup(obj, n, "producer", &iv);
	ssize_t il;

	if (!has_p && !has_i)
		return 2;
	il = has_i ? wsb_env_string(obj + iv.off, iv.len, id, sizeof id) : -1;
	if (!has_p || wsb_env_uint(obj + pv.off, pv.len, pseq) || il < 0 ||
	    (size_t)il != strlen(p->id) || memcmp(id, p->id, (size_t)il)) {
		*code = "PRODUCER_MISMATCH";
		return wsb_err_set(err, WSB_EXIT_DATAERR, "\"producer\" must be this connection's id "
				   "(%s), with an integer \"pseq\"", p->id);
	}
	if (*pseq <= p->last)
		return 0;
	if (*pseq - p->last > WSB_PSEQ_JUMP_MAX) {
		*code = "PSEQ_JUMP";
		return wsb_err_set(err, WSB_EXIT_DATAERR, "pseq %llu is too far past the last accepted "
				   "(%llu): at most %llu ahead", (unsigned long long)*pseq,
				   (unsigned long long)p->last, (unsigned long long)WSB_PSEQ_JUMP_MAX);
	}
	return 1;
}

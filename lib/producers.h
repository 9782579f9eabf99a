/* producers — who may publish as a producer id, and how far each one got.
 *
 * The broker deduplicates and acknowledges by producer id, and the id is in
 * every delivered message, so the id alone must not be enough to act as a
 * producer (docs/design.md, "Producer ids are bound"). The first connection
 * that claims an unknown id is issued a random secret (128 bits, 32 hex
 * characters, from the caller's randomness); only its SHA-256 is kept. To use the id
 * again a connection presents the secret; a wrong one, or none, is refused,
 * except for an id nothing was accepted from yet and that nobody holds (a
 * publisher that lost its greeting before reading the secret may claim it
 * afresh: there is nothing of it to protect). A correct secret takes the id
 * over from a still-open connection (the caller closes that one), so there
 * is at most one live connection per id. A secret presented for an unknown
 * id (the broker restarted without a journal) is adopted.
 *
 * The table is bounded (max ids; least recently used first out) but never
 * forgets an id that a live connection holds. Pure: secrets come from the
 * rand function given to wsb_prods_new, which may fail (no entropy: no
 * secret, the claim is refused).
 */
#ifndef WSB_PRODUCERS_H
#define WSB_PRODUCERS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "proto.h"	/* id and secret lengths, WSB_PSEQ_JUMP_MAX */
#include "ratelimit.h"

#define WSB_SECRET_HASH 32		/* bytes of a secret's SHA-256 (never on the wire) */

struct wsb_prod {
	struct wsb_prod *hnext;		/* hash chain */
	struct wsb_prod *lprev, *lnext;	/* LRU list, most recent at head */
	uint64_t last;			/* highest pseq accepted */
	uint64_t durable;		/* highest pseq stored (journal) */
	void *owner;			/* the live session holding the id, or NULL */
	unsigned char hash[WSB_SECRET_HASH];
	char id[WSB_PRODUCER_ID_MAX + 1];
	/* --rate per producer: kept with the id, so reconnecting does not
	 * refill it (the broker spends it) */
	struct wsb_bucket bucket;
};

struct wsb_prods;

/* Fills p with n unpredictable bytes: 0, or -1 when there is no entropy. */
typedef int (*wsb_rand_fn)(void *p, size_t n);

/* max 0: 65536; rand NULL: wsb_random_bytes (sys.h). */
struct wsb_prods *wsb_prods_new(size_t max, wsb_rand_fn rand);
void wsb_prods_free(struct wsb_prods *t);

/* 1..64 bytes of [A-Za-z0-9._:-]. */
int wsb_prods_id_ok(const char *id, size_t n);
/* The entry for id (marked recently used), or NULL. */
struct wsb_prod *wsb_prods_find(struct wsb_prods *t, const char *id);
/* Recovery: id is known with this secret hash (a later call for the same id
 * replaces the hash). NULL on ENOMEM or when the table is full of held ids. */
struct wsb_prod *wsb_prods_restore(struct wsb_prods *t, const char *id,
				   const unsigned char hash[WSB_SECRET_HASH]);

struct wsb_claim {
	struct wsb_prod *prod;		/* now held by owner */
	void *replaced;			/* the live session it was taken from, or NULL */
	char issued[WSB_SECRET_HEX + 1];	/* a new secret to hand out, or "" */
	int changed;			/* prod->hash is new: persist it */
};

/* Binds id to owner (see above). secret is what the connection presented
 * (NULL: none). 0, or -1 + err: WSB_EXIT_USAGE for a malformed id or
 * secret, WSB_EXIT_NOPERM for a wrong or missing secret, WSB_EXIT_OSERR. */
int wsb_prods_claim(struct wsb_prods *t, const char *id, const char *secret, void *owner,
		    struct wsb_claim *c, struct wsb_err *err);
/* owner leaves: the id is free to be taken with its secret. */
void wsb_prods_release(struct wsb_prod *p, void *owner);

/* Reads "producer" and "pseq" of a compact message: 1 if both are valid. */
int wsb_prods_read(const char *obj, size_t len, char id[WSB_PRODUCER_ID_MAX + 1], uint64_t *pseq);
/* A message obj[0..n) from p's connection: 1 new (its pseq in *pseq), 0 a
 * duplicate, 2 no producer members (published unacknowledged), -1 refused
 * with the error *code and err: producer/pseq must name p's id, and pseq
 * may not jump past WSB_PSEQ_JUMP_MAX. Changes nothing. */
int wsb_prods_check(const struct wsb_prod *p, const char *obj, size_t n, uint64_t *pseq,
		    const char **code, struct wsb_err *err);

/* SHA-256 of a secret; the secret itself is never stored. */
void wsb_secret_hash(const char *secret, unsigned char out[WSB_SECRET_HASH]);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void wsb_hex(char *out, const unsigned char *p, size_t n);
/* Parses 2n lowercase hex characters of s into out. 0, or -1 if s is not
 * that. */
int wsb_unhex(unsigned char *out, size_t n, const char *s, size_t len);

#endif

/* sessions — the broker's connections and what waits to be written to
 * them: each session's queue of shared frames, its close request, its
 * stall budget, and fan-out of a published message to every queue.
 *
 * Queues are bounded in bytes: a message that would take a queue past
 * max_queue (plus a quarter while a journal batch is released all at once)
 * drops the whole queue and asks the transport to close the session with
 * 4008, unless the session has published something: then it is
 * unsubscribed instead (hooks.unsubscribed tells it why) and stays open,
 * because what a connection publishes must not be lost for not reading (a
 * bot that only sends never reads). Out of memory closes it with 1011. Close requests wait until
 * wsb_sessions_flush, which the broker calls once its own state is
 * consistent, so a transport that leaves from inside close() cannot free a
 * session still being iterated over. A backlog past 3/4 of max_queue starts
 * a stall (stall.h), under 1/2 ends it; `stalling` is what the broker's
 * pressure policy reads. Counts are kept here and read by the broker's
 * stats. Never calls into the broker: the hooks it needs are given to it.
 *
 * A session with a filter (?filter=, an opaque handle the broker got from
 * its program) gets a message only if the filter passes it: fan-out asks
 * filter_eval once per message for every such session the type reached,
 * so the program can run each distinct filter once. One over its budget
 * marks its session filter_over and counts it in `filters_over`, for the
 * broker to answer.
 */
#ifndef WSB_SESSIONS_H
#define WSB_SESSIONS_H

#include "acks.h"
#include "envelope.h"
#include "msg.h"
#include "proto.h"
#include "ratelimit.h"
#include "ring.h"
#include "scope.h"
#include "stall.h"
#include "subs.h"
#include "typeidx.h"

/* What only a producer's session needs (about 200 B): most connections
 * never bind a producer id, and at 10 000 idle ones every byte counts. */
struct wsb_sess_pub {
	char producer[WSB_PRODUCER_ID_MAX + 1];
	char secret[WSB_SECRET_HEX + 1];	/* issued at join, for the greeting only */
	/* the code its first refused publish got (a string constant): acks
	 * are cumulative, so nothing after it is published or acknowledged
	 * until it reconnects (broker_refuse.c); NULL: none */
	const char *refused;
	struct wsb_acks acks;
};

struct wsb_sess {
	/* What fan-out reads of every session the type reaches, together:
	 * three cache lines instead of eight, which with thousands of
	 * subscribers was most of fan-out's time (docs/performance.md). */
	void *conn;
	int echo;		/* receives its own publications */
	int closing;		/* slow consumer or ENOMEM: never queued to again */
	int stamp;		/* receives producer/pseq (?stamp=1, msg.h) */
	int replay;		/* resume: reading history, not a live queue (rseq) */
	int snap;		/* a ?snapshot=1 read in pieces (snap_seq) */
	int filter_over;	/* 1: went over its budget, not yet answered */
	void *filter;		/* ?filter=: the program's handle, or NULL */
	struct wsb_ring q;	/* of struct wsb_msg *, oldest first */
	size_t qbytes;
	struct wsb_stall stall;	/* is this backlog holding publishers back? */
	/* the rest */
	int compress;		/* negotiated permessage-deflate: gets compressed frames */
	/* who may do what (the join's scope, scope.h, which outlives the
	 * session: the transport's grant): publish checks it, subs.scope is it */
	const struct wsb_scope *scope;
	struct wsb_bucket bucket;	/* --rate per connection (ratelimit.h) */
	int limited;		/* its last publish was refused for the rate */
	unsigned forbidden_said;	/* FORBIDDEN publishes so far (the first is logged) */
	int read_only;		/* may not publish (the broker's may_publish) */
	uint64_t published;	/* messages accepted from it */
	int counted;		/* counted in stats.subscribers */
	size_t idx;		/* in the set */
	struct wsb_subs subs;	/* type patterns (subs.h) */
	struct wsb_typeidx_member *ix;	/* its record in the set's type index */
	struct wsb_sess *close_next;
	int close_pending;
	int close_code;
	const char *close_reason;
	char id[32];
	uint64_t num;			/* unique per broker */
	/* acknowledged publishing: pub is made when a ?producer= id is
	 * bound (wsb_sess_pub_alloc) and stays when prod is taken over */
	struct wsb_prod *prod;		/* held while the session lives (producers.h) */
	struct wsb_sess_pub *pub;
	/* resume: reading history from seq rseq (replay above) */
	uint64_t rseq;
	/* ?snapshot=1 bigger than max_queue (snap above): sent in pieces as
	 * the socket drains, entries with seq in (snap_seq, snap_end]; then
	 * history. */
	uint64_t snap_seq, snap_end;
	/* for GET /clients (wsb_broker_sess_info); the broker keeps them */
	uint64_t n_in, n_out;		/* messages it sent; frames taken for it */
	char joined[WSB_TS_LEN];	/* ISO 8601 UTC */
	struct wsb_sessions *set;	/* for wsb_sess_pass */
	/* close with 1008 and this reason once the queue is out (an error
	 * reply that explains the close goes first) */
	const char *close_after;
};

struct wsb_sessions {
	/* given by the broker */
	size_t max_queue;	/* 0: no limit */
	struct wsb_stall_cfg stall_cfg;
	uint64_t (*mono_ms)(void);
	void *ud;
	void (*wake)(void *ud, void *conn);
	void (*close)(void *ud, void *conn, int code, const char *reason);
	/* A publishing session's queue overflowed: it was emptied and s
	 * subscribes to nothing now; the owner (the broker) tells it. */
	void *owner;
	/* (also a filter refused or dropped) the owner says why: error code, text */
	void (*unsubscribed)(void *owner, struct wsb_sess *s, const char *code, const char *text);
	const struct wsb_symkey *symkey;	/* where a message's symbol is (subs.h) */
	/* ?filter= (broker.h): open, close, and res[i] for filters[i]: 1
	 * deliver, 0 not, -1 over budget */
	void *(*filter_open)(void *ud, const char *text, struct wsb_err *err);
	void (*filter_close)(void *ud, void *filter);
	void (*filter_eval)(void *ud, const char *msg, size_t len, void *const *filters, size_t n,
			    signed char *res);
	int releasing;		/* a journal batch is being fanned out */
	/* state */
	struct wsb_sess **v;	/* an array, in no order */
	/* who may want a type: fan-out asks it rather than every session
	 * (typeidx.h; zeroed memory is an empty index) */
	struct wsb_typeidx ix;
	size_t n, cap;
	/* fan-out's filtered sessions, their handles and verdicts (cap each) */
	struct wsb_sess **fs;
	void **fv;
	signed char *fr;
	size_t filters_over;	/* sessions with filter_over set */
	size_t nfiltered;	/* sessions with a filter: a batch then fans out
				 * message by message (fanout_many) */
	uint64_t subs_gen;	/* moves at every wsb_sess_subs_changed */
	struct wsb_sess *close_head, *close_tail;
	size_t stalling;	/* sessions in WSB_STALL_ON */
	size_t stall_spent;	/* sessions in WSB_STALL_SPENT: tick ends their window */
	unsigned ticks;		/* every tenth frees empty queues' slots */
	uint64_t queued_bytes;	/* each message once however many queues hold it */
	uint64_t dropped, slow_closed, slow_unsubscribed, messages_out;
};

/* A new session with an empty queue and "all types", or NULL on ENOMEM. */
struct wsb_sess *wsb_sessions_add(struct wsb_sessions *set, void *conn, int echo);
/* Forgets s (its close request too) and frees it. */
void wsb_sessions_remove(struct wsb_sessions *set, struct wsb_sess *s);
void wsb_sessions_free(struct wsb_sessions *set);
/* Ends the sessions marked filter_over (FILTER_DROPPED, then 1008),
 * then hands the close requests out. */
void wsb_sessions_flush(struct wsb_sessions *set);

/* s's subscription set may have changed: the type index learns it. Call
 * after anything changes s->subs outside this module. */
void wsb_sess_subs_changed(struct wsb_sessions *set, struct wsb_sess *s);
/* Queues m (a ref); limit 0: ignore max_queue (the greeting, before the
 * transport knows the session). */
void wsb_sess_enqueue(struct wsb_sessions *set, struct wsb_sess *s, struct wsb_msg *m, int limit);
/* Drops the queue (counted if count) and ends any stall; s stays. */
void wsb_sess_release(struct wsb_sessions *set, struct wsb_sess *s, int count);
/* The frames of the queue into o, oldest first (msg.h rules). */
void wsb_sess_fill(struct wsb_sessions *set, struct wsb_sess *s, struct wsb_out *o);
/* Re-checks the stall marks (call after take). */
void wsb_sess_stall_check(struct wsb_sessions *set, struct wsb_sess *s);

/* m to every session that wants it (type and symbol, subs.h), in the form
 * the session reads (msg.h), but from (unless it asked for echo) and those
 * catching up, which are woken to read it there. */
void wsb_sessions_fanout(struct wsb_sessions *set, struct wsb_msg *m,
			 const struct wsb_sess *from, const char *type, int probe);
/* As wsb_sessions_fanout (probe 0) for k <= WSB_FANOUT_BATCH messages of
 * one type from one session, in one walk: each session gets them in order. */
#define WSB_FANOUT_BATCH 64
void wsb_sessions_fanout_many(struct wsb_sessions *set, struct wsb_msg *const *m, size_t k,
			      const struct wsb_sess *from, const char *type);
/* m (a record, not a message) to every session subscribed to something,
 * but those reading history or a snapshot, which find holes there. */
void wsb_sessions_broadcast(struct wsb_sessions *set, struct wsb_msg *m);
/* s's ?filter= (after its greeting): 0, or -1 when it does not open: s
 * gets nothing more and an error (INVALID_FILTER and jq's message, or
 * FILTER_UNAVAILABLE when the program cannot run filters now), and
 * wsb_sess_close_after closes it with 1008 once that is out. */
int wsb_sess_filter_join(struct wsb_sessions *set, struct wsb_sess *s, const char *text);
/* wsb_want's pass (subs.h) for a reader, ud the session: whether its
 * filter passes m; one over its budget marks it filter_over and says 0. */
int wsb_sess_pass(void *ud, const struct wsb_msg *m);
/* From take(): ends the sessions marked filter_over (FILTER_DROPPED), then
 * closes s if what explains its close is out. */
void wsb_sess_close_after(struct wsb_sessions *set, struct wsb_sess *s);
/* An acknowledgement is waiting to be sent to s. */
static inline int wsb_sess_ack_due(const struct wsb_sess *s)
{
	return s->pub && s->pub->acks.due > s->pub->acks.sent;
}

/* s's producer part (zeroed, acks ready), made once: 0, or -1 and err
 * on ENOMEM. */
int wsb_sess_pub_alloc(struct wsb_sess *s, struct wsb_err *err);
/* Ends spent stall windows, and (every tenth call) frees the slots of
 * empty queues; call every 100 ms or so. */
void wsb_sessions_tick(struct wsb_sessions *set);

#endif

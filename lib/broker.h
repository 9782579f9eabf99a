/* broker — the transport-free pub/sub core.
 *
 * The server transport hands it whole inbound text messages and takes whole
 * pre-framed outbound frames; the broker never sees a socket. A published
 * message is parsed once, stamped with a strictly increasing seq (and a
 * timestamp if it has none), serialised once and framed once into one
 * reference-counted buffer, which every matching subscriber's queue points
 * at. Replies to one session (greeting, pong, subscribed, error) travel the
 * same queue, so a session's output stays in order.
 *
 * Limits: a session whose queued bytes would pass max_queue is a slow
 * consumer: its queue is dropped (counted in `dropped`) and hooks.close asks
 * the transport to close it with 4008; one that has published something is
 * unsubscribed from everything instead, with an error SLOW_CONSUMER, and
 * keeps publishing (sessions.h). hooks.pressure(1) asks the transport
 * to stop reading publishers while all queued messages together pass
 * max_memory (until under 3/4 of it; snapshots and the transport's
 * unfinished messages count too), or while some session's backlog is
 * past 3/4 of max_queue (until under 1/2), for at most stall_ms in total per
 * stall_window_ms for each session (lib/stall.h): a consumer slower than a
 * burst catches up, one that is stuck or steadily slower does not hold
 * anyone for longer. pressure(0) lifts it. Zero limits mean "none".
 *
 * Integrity: seq, producer and pseq are the broker's stamp. A plain
 * connection's top-level producer/pseq are removed; a producer id is held
 * by one live connection and opened only with its secret (producers.h); a
 * producer's pseq must name its own id and not jump past WSB_PSEQ_JUMP_MAX;
 * at the end of the seq space publishing is refused (SEQ_EXHAUSTED), never
 * wrapped. A producer's acks are cumulative, so its connection's first
 * refused publish (any error code) is its last: later ones get the same
 * code, are neither delivered nor acked, until it reconnects
 * (broker_refuse.c).
 *
 * Who may do what: a session joins with a scope (scope.h; the transport's
 * door decided it from the credential), and the broker holds it to it: a
 * publish outside it gets error FORBIDDEN and goes nowhere, a subscribe
 * naming a pattern outside it gets error FORBIDDEN and changes nothing, and
 * a session that did not name types starts with the scope's types (or
 * nothing, if it may not subscribe). With cfg.rate every publish spends a
 * token of the session's bucket and of its producer id's (ratelimit.h):
 * over the rate it is refused with RATE_LIMITED, or, with rate_pause,
 * accepted and hooks.throttle asks the transport not to read the
 * connection until the buckets refill: nothing is lost.
 * Sequencer (cluster mode, lib/cluster.h): with one set
 * (wsb_broker_set_sequencer) a publish is not numbered here. The broker
 * checks it as always, stamps its timestamp and hands it to seq.submit;
 * the sequencer answers every submit, in submit order, with
 * wsb_broker_submitted (acks follow it), and feeds every message of the
 * shared stream, this instance's own included, in stream order to
 * wsb_broker_sequenced, which numbers, retains and fans it out. So every
 * instance delivers one order with one seq series. The broker stays
 * I/O-free: the sequencer owns the network.
 * Old clients (the systems wsbridge replaces): get_state, request_snapshot
 * and the configured request types are answered with the snapshot and
 * never published; heartbeat is answered like ping; subscribe/unsubscribe
 * take "symbols" as well as "types"; a read-only session (join flags) gets
 * FORBIDDEN for a publish. The broker's own error replies carry no seq and
 * data.source "wsbridge", so an application may publish type "error".
 *
 * Filters: a session may carry a jq predicate (?filter=), which the
 * program compiles and runs through hooks (the core knows no jq). It is
 * asked only for messages whose type the session wants, live, resumed or
 * from a snapshot, with every filtered session a message reaches in one
 * call. A filter that does not compile, or later goes over its budget,
 * gets its session an error reply (INVALID_FILTER, FILTER_DROPPED) and
 * then a close with 1008, after the reply is out.
 *
 * Single-threaded; every call runs on the transport's event loop.
 */
#ifndef WSB_BROKER_H
#define WSB_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "producers.h"
#include "proto.h"	/* close codes, limits */
#include "ratelimit.h"
#include "scope.h"

struct wsb_broker;
struct wsb_sess;

struct wsb_broker_hooks {
	void *ud;
	/* conn's queue went from empty to non-empty: arrange a writable callback. */
	void (*wake)(void *ud, void *conn);
	/* close conn with code/reason (slow consumer); the broker has already
	 * stopped queueing to it. The transport still calls wsb_broker_leave. */
	void (*close)(void *ud, void *conn, int code, const char *reason);
	/* on=1: queued memory passed max_memory; on=0: it fell below 3/4. */
	void (*pressure)(void *ud, int on);
	/* Every accepted message, stamped (no frame header), in seq order, for
	 * the journal. May be NULL. */
	void (*journal)(void *ud, const char *msg, size_t len, uint64_t seq);
	/* The snapshot key of a message (--snapshot-key), written to key (cap
	 * bytes); its length, or -1 for none (the message then counts per type
	 * only). NULL: snapshots are per type. */
	int (*snapshot_key)(void *ud, const char *msg, size_t len, char *key, size_t cap);
	/* A producer id was registered or given a new secret (hash: its
	 * SHA-256): persist it before the greeting hands the secret out. -1 +
	 * err refuses the join. May be NULL. */
	int (*producer)(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH],
			struct wsb_err *err);
	/* rate_pause: do not read conn for ms milliseconds. May be NULL. */
	void (*throttle)(void *ud, void *conn, uint64_t ms);
	/* A publish or subscribe of client was refused with error code
	 * (FORBIDDEN; RATE_LIMITED once per run of refusals), for the log.
	 * text holds no secret. May be NULL. */
	void (*refused)(void *ud, const char *client, const char *code, const char *text);
	/* ?filter=TEXT: a handle for it (equal texts may share one), or NULL
	 * + err, whose message the client gets. NULL hooks: filters refused. */
	void *(*filter_open)(void *ud, const char *text, struct wsb_err *err);
	void (*filter_close)(void *ud, void *filter);
	/* One stamped message against filters[0..n) (a handle may repeat):
	 * res[i] 1 deliver, 0 not, -1 over its budget (dropped). */
	void (*filter_eval)(void *ud, const char *msg, size_t len, void *const *filters, size_t n,
			    signed char *res);
};

struct wsb_broker_cfg {
	size_t max_queue;		/* bytes queued per session before 4008 */
	size_t max_memory;		/* bytes of queued messages before pressure */
	size_t history;			/* messages retained for resume (0: none) */
	size_t history_bytes;		/* and at most this many bytes of them */
	uint64_t stall_ms;		/* longest a backlog may pause publishers; 0: never */
	uint64_t stall_window_ms;	/* per this window, per session; 0: 10 * stall_ms */
	int durable_acks;		/* acks wait for wsb_broker_durable() (journal) */
	size_t max_producers;		/* producers remembered for dedup; 0: 65536 */
	/* ?snapshot=1 table (snapshot.h): bytes, 0: no snapshots; entries, 0:
	 * WSB_SNAP_ENTRIES_MAX. Its bytes count toward max_memory. */
	size_t snapshot_bytes, snapshot_entries;
	const char *greeting;		/* "message" of connection_established */
	/* The transport's largest inbound message, told in the greeting so a
	 * publisher can skip a line that would be refused; 0: not told. */
	uint64_t max_message;
	/* Wall clock for timestamps; NULL means clock_gettime(CLOCK_REALTIME). */
	void (*now)(struct timespec *ts);
	/* Monotonic milliseconds for stall timing; NULL: wsb_mono_ns (sys.h). */
	uint64_t (*mono_ms)(void);
	/* Randomness for the epoch, client ids and producer secrets (see
	 * wsb_rand_fn); NULL: wsb_random_bytes (sys.h). The broker does no I/O
	 * of its own. Without entropy wsb_broker_new fails (an epoch that may
	 * repeat would let a resume read another lifetime's numbering) and a
	 * producer id needing a secret is refused. */
	wsb_rand_fn rand;
	/* --rate, --burst: per session and per producer id; per_s 0: none */
	struct wsb_rate rate;
	int rate_pause;			/* --rate-policy pause: throttle, never refuse */
	/* Types answered with the snapshot and never published, besides
	 * get_state and request_snapshot (--request-type). */
	const char *const *request_types;
	size_t nrequest_types;
	/* Where a message's symbol is (--symbol-key, subs.h); NULL: .data.symbol. */
	const char *symbol_key;
};

struct wsb_broker_stats {
	uint64_t connections;		/* sessions joined and not left */
	uint64_t subscribers;		/* of them, sessions subscribed to something */
	uint64_t messages_in;		/* messages published */
	uint64_t messages_out;		/* frames handed to the transport (deliveries, replies) */
	uint64_t dropped;		/* messages discarded from slow consumers' queues */
	uint64_t slow_consumers_closed;
	uint64_t slow_unsubscribed;	/* slow publishers unsubscribed instead of closed */
	uint64_t errors;		/* error replies sent for bad input */
	uint64_t seq;			/* last seq assigned */
	uint64_t queued_bytes;		/* bytes of messages waiting in any queue */
	uint64_t retained;		/* messages in history */
	uint64_t duplicates;		/* resent messages recognised and not delivered again */
	uint64_t durable_seq;		/* highest seq acks may cover */
	uint64_t snapshot_bytes;	/* held by the snapshot table */
	uint64_t snapshot_entries;
	uint64_t snapshot_evicted;	/* entries let go for room (least recently updated first) */
	uint64_t memory_bytes;		/* what max_memory is compared with */
	uint64_t seq_exhausted;		/* 1: seq reached 2^64-1, publishing is refused */
};

/* A publish handed to the sequencer: the compact, timestamped message
 * without seq, the publishing session's number, and its producer stamp
 * (producer NULL: a plain publish, not deduplicated). */
struct wsb_submit {
	const char *msg;
	size_t len;
	uint64_t from;
	const char *producer;
	uint64_t pseq;
	const unsigned char *hash;	/* the producer's secret hash (producers.h) */
};

struct wsb_broker_seq {
	void *ud;
	/* 0: taken (answered later by wsb_broker_submitted), -1: refused now
	 * (the publisher gets an UNAVAILABLE error). */
	int (*submit)(void *ud, const struct wsb_submit *sm);
};

/* What the sequencer says of a submit. */
enum wsb_seq_result {
	WSB_SEQ_OK,		/* appended at seq */
	WSB_SEQ_DUP,		/* the producer's pseq was there already */
	WSB_SEQ_UNAVAILABLE,	/* not appended (the backplane is away): refused, retryable */
	WSB_SEQ_NOPERM,		/* the producer id is bound to another secret */
};

/* What a connection asks for when it joins (URL query arguments). */
struct wsb_join {
	unsigned flags;			/* WSB_SESS_* */
	const char *producer;		/* ?producer=ID: acknowledged publishing */
	const char *producer_secret;	/* ?producer_secret=S, or NULL */
	int resume;			/* ?since= given */
	uint64_t since;
	const char *epoch;		/* ?epoch=, or NULL */
	int subscribe_none;		/* ?subscribe=none */
	int snapshot;			/* ?snapshot=1: latest per type (and key) first */
	const char *const *types;	/* ?type= patterns */
	size_t ntypes;
	int compress;			/* the connection negotiated permessage-deflate:
					 * published messages go compressed (pmd.h) */
	const struct wsb_scope *scope;	/* what it may do (kept, not copied: it must outlive
					 * the session, as the transport's grant does); NULL: everything */
	const char *filter;		/* ?filter=JQ, or NULL */
};

enum {
	WSB_SESS_ECHO = 1,		/* receive own publications too */
	WSB_SESS_STAMP = 2,		/* receive producer/pseq (?stamp=1) */
	WSB_SESS_READ_ONLY = 4,		/* may not publish (--browsers-read-only) */
};

struct wsb_broker *wsb_broker_new(const struct wsb_broker_cfg *cfg,
				  const struct wsb_broker_hooks *hooks, struct wsb_err *err);
void wsb_broker_free(struct wsb_broker *b);

/* A new session for transport connection conn. Queues the
 * connection_established greeting (with client_id and the last seq).
 * Subscriptions start as "all types". NULL + err on ENOMEM. */
struct wsb_sess *wsb_broker_join(struct wsb_broker *b, void *conn, unsigned flags,
				 struct wsb_err *err);
/* A session with everything wsb_join asks for; the greeting reflects it
 * (producer position and, for a newly issued secret, producer_secret;
 * epoch). NULL + err: WSB_EXIT_USAGE for an invalid pattern, producer id or
 * secret, WSB_EXIT_NOPERM for a producer id held under another secret or a
 * pattern outside the scope (both close with 1008), WSB_EXIT_OSERR on ENOMEM, or what hooks.producer said.
 * A filter that does not open still joins: the greeting, an INVALID_FILTER
 * error with the program's message, then the close. */
struct wsb_sess *wsb_broker_join_ex(struct wsb_broker *b, void *conn, const struct wsb_join *j,
				    struct wsb_err *err);
/* Subscribe before the first message flows (URL ?type=...); no reply. 0, or
 * -1 with err for an invalid pattern. */
int wsb_broker_subscribe(struct wsb_broker *b, struct wsb_sess *s, const char *pattern,
			 struct wsb_err *err);
void wsb_broker_leave(struct wsb_broker *b, struct wsb_sess *s);
const char *wsb_broker_client_id(const struct wsb_sess *s);

/* What the broker knows of one session, read-only, for GET /clients. The
 * pointers stay valid until the next broker call. */
struct wsb_sess_info {
	const char *id;			/* client_id */
	const char *producer;		/* the producer id it publishes as, or "" */
	const char *since;		/* when it joined, ISO 8601 UTC */
	uint64_t queued_bytes;		/* waiting in its queue */
	uint64_t messages_in;		/* messages it sent */
	uint64_t messages_out;		/* frames handed to the transport for it */
	int all_types;			/* subscribed to every type */
	const char *const *patterns;	/* else these globs (none: ?subscribe=none) */
	size_t npatterns;
};
void wsb_broker_sess_info(const struct wsb_sess *s, struct wsb_sess_info *info);

/* One whole inbound text message from s. ping, heartbeat, subscribe,
 * unsubscribe and the request types are answered; other reserved types,
 * invalid input and a read-only session's publish get an error reply; any
 * other object with a string type is published. Never fails the session. */
void wsb_broker_input(struct wsb_broker *b, struct wsb_sess *s, const char *msg, size_t len);
/* The same for one of several messages of a read: its publish may wait to
 * fan out with the read's next ones (each subscriber gets the same
 * messages in the same order, in one walk; broker_fan.c) until
 * wsb_broker_input_end, which the caller must call before it returns to
 * its loop; any other broker call fans out what waits first. */
void wsb_broker_input_more(struct wsb_broker *b, struct wsb_sess *s, const char *msg, size_t len);
void wsb_broker_input_end(struct wsb_broker *b);

/* Publishes msg as no session's (HTTP publish, serve --stdin): the checks
 * and stamp of a plain connection's message (seq, producer and pseq are
 * removed; control and reserved types are refused; a type outside scope,
 * unless it is NULL, is FORBIDDEN). The seq it got, or 0
 * with *code ("INVALID_JSON", "INVALID_MESSAGE", "SEQ_EXHAUSTED") and err.
 * check_only: nothing is published; 1 if it would be, else 0 as above.
 * With durable_acks the message reaches subscribers once the journal has
 * it (wsb_broker_durable), like any other. */
uint64_t wsb_broker_publish(struct wsb_broker *b, const char *msg, size_t len, const struct wsb_scope *scope,
			    int check_only, const char **code, struct wsb_err *err);

/* Moves whole pending frames for s into out, oldest first, while they fit in
 * soft bytes; the first frame is taken even when bigger than soft as long as
 * it fits in hard. Returns the bytes written (0: nothing pending, or the
 * session is closing). */
size_t wsb_broker_take(struct wsb_broker *b, struct wsb_sess *s, unsigned char *out,
		       size_t soft, size_t hard);
int wsb_broker_pending(const struct wsb_sess *s);
/* Call every 100 ms or so: ends stalls that spent their budget, and starts
 * new stall windows. */
void wsb_broker_tick(struct wsb_broker *b);
/* The largest frame the broker can produce for a message of max_message bytes. */
size_t wsb_broker_frame_max(size_t max_message);

void wsb_broker_stats(const struct wsb_broker *b, struct wsb_broker_stats *st);
/* Bytes the transport holds for unfinished inbound messages: counted with
 * queued bytes and snapshots against max_memory (may pause publishers). */
void wsb_broker_transport_bytes(struct wsb_broker *b, size_t bytes);

/* The history's epoch (16 hex characters). */
const char *wsb_broker_epoch(const struct wsb_broker *b);
/* Journal recovery, before any session joins: adopt the journal's epoch,
 * then feed every recovered message (stamped, compact, as journaled) in seq
 * order: it enters history, snapshots and the producers' positions (it is
 * never handed to hooks.journal). 0, or -1 if the line is not a message. */
void wsb_broker_set_epoch(struct wsb_broker *b, const char *epoch);
int wsb_broker_restore(struct wsb_broker *b, const char *line, size_t len, uint64_t seq);
/* Recovery, before wsb_broker_restore: a producer id the broker registered
 * (from the file hooks.producer writes). Only such ids get their position
 * back from restored lines. 0, or -1 (invalid id, ENOMEM). */
int wsb_broker_restore_producer(struct wsb_broker *b, const char *id,
				const unsigned char hash[WSB_SECRET_HASH]);
/* After restoring: seqs up to seq were handed out (the journal's last line,
 * even one that did not restore); new messages continue after it. */
void wsb_broker_advance_seq(struct wsb_broker *b, uint64_t seq);
/* With durable_acks: messages up to seq are stored; acks may cover them. */
void wsb_broker_durable(struct wsb_broker *b, uint64_t seq);

/* Cluster mode, before any session joins (seq is copied). */
void wsb_broker_set_sequencer(struct wsb_broker *b, const struct wsb_broker_seq *seq);
/* The outcome of the submit of (from, pseq): OK and DUP acknowledge it;
 * UNAVAILABLE and NOPERM send an error, and a producer session then gets
 * no more acks (it must reconnect and resend: an ack is cumulative, and
 * nothing after a refused pseq may imply it). from may have left. */
void wsb_broker_submitted(struct wsb_broker *b, uint64_t from, uint64_t pseq,
			  enum wsb_seq_result r);
/* One message of the shared stream, as submitted (no seq), at seq; origin
 * is the session number that submitted it when it was this instance's,
 * else 0. Seqs at or below the last one are ignored (read twice); a jump
 * past the next one first sends a gap record (reason "cluster") to every
 * subscriber. 0, or -1 if it is not a message. */
int wsb_broker_sequenced(struct wsb_broker *b, const char *msg, size_t len, uint64_t seq,
			 uint64_t origin);
/* Seqs from..to (to 0: unknown) are lost for good: a gap record with
 * reason to every subscriber, and the numbering continues after to. */
void wsb_broker_gap(struct wsb_broker *b, uint64_t from, uint64_t to, const char *reason);
/* on: hold publishers (the sequencer is away), as memory pressure does. */
void wsb_broker_hold(struct wsb_broker *b, int on);

#endif

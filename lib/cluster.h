/* cluster — several wsbridge-serve instances as one broker, on Redis.
 *
 * The broker's sequencer (broker.h, "Sequencer") in cluster mode. A
 * publish goes to Redis as one EVALSHA of a Lua script that checks the
 * producer's secret hash and pseq (dedup state lives in Redis, so a
 * publisher may resend to any instance), takes the next seq (INCR) and
 * appends the message to a stream with that seq as its id (XADD
 * {NAME}:stream MAXLEN ~ N SEQ-0). The reply acknowledges it
 * (wsb_broker_submitted). Every instance reads the stream on a second
 * connection (XREAD BLOCK from its last id) and hands each entry to
 * wsb_broker_sequenced: one order, one seq series, one epoch (kept in
 * Redis, {NAME}:epoch) on every instance.
 *
 * Redis away: publishes are held (wsb_broker_hold pauses publishers) for
 * up to `timeout`, then refused (UNAVAILABLE, state "down"); both
 * connections come back with backoff, the stream is read on from the last
 * id, and what the stream no longer holds becomes a gap record (reason
 * "cluster"). A submit whose connection died unanswered is refused: Redis
 * may have it, so its producer resends and dedup drops the copy.
 *
 * No event loop and no sockets of its own: the loop owner watches the
 * descriptors it is given (loop.watch) and calls wsb_cluster_event; time
 * comes from wsb_cluster_tick (every 100 ms or so). Only redis.c talks
 * hiredis. Startup is blocking: wsb_cluster_open reaches Redis (or fails),
 * adopts the cluster's epoch and fills history from the stream's tail
 * before any client is served.
 */
#ifndef WSB_CLUSTER_H
#define WSB_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "err.h"

struct wsb_cluster;

struct wsb_cluster_cfg {
	const char *url;		/* redis://HOST:PORT[/DB] */
	const char *password;		/* AUTH, or NULL */
	const char *name;		/* keys are {NAME}:... */
	uint64_t stream_len;		/* entries the stream keeps (MAXLEN ~) */
	uint64_t history;		/* entries read back into history at start */
	double timeout;			/* seconds; see above */
	size_t inflight_max;		/* bytes submitted, unanswered, before holding publishers */
};

struct wsb_cluster_loop {
	void *ud;
	/* Watch fd: readable always, writable once after each want_write;
	 * call wsb_cluster_event(cl, h, ...) for it. The watch handle, or NULL. */
	void *(*watch)(void *ud, int fd, void *h);
	void (*want_write)(void *ud, void *w);
	void (*unwatch)(void *ud, void *w);	/* the descriptor is gone */
};

enum wsb_cluster_state { WSB_CLUSTER_OK, WSB_CLUSTER_DEGRADED, WSB_CLUSTER_DOWN };

struct wsb_cluster_stats {
	enum wsb_cluster_state state;
	const char *addr;		/* host:port[/db], never the password */
	const char *reason;		/* why not ok, or "" */
	uint64_t instances;		/* heartbeating instances, this one included */
	double rtt_ms;			/* last heartbeat's round trip */
	uint64_t backlog;		/* stream entries not read here yet */
	uint64_t held;			/* publishes waiting for Redis */
	uint64_t inflight;		/* publishes sent, unanswered */
	uint64_t reconnects;
};

/* redis://HOST:PORT[/DB] (no user or password: --cluster-password-file).
 * 0, or -1 + err (WSB_EXIT_USAGE). */
int wsb_cluster_parse_url(const char *url, char *host, size_t cap, int *port, int *db,
			  struct wsb_err *err);
/* Connects, adopts the epoch, restores history, installs itself as b's
 * sequencer. NULL + err (WSB_EXIT_UNAVAILABLE: Redis unreachable). */
struct wsb_cluster *wsb_cluster_open(const struct wsb_cluster_cfg *cfg, struct wsb_broker *b,
				     const struct wsb_cluster_loop *loop, struct wsb_err *err);
/* h's descriptor is readable (writable 0) or writable (1). */
void wsb_cluster_event(struct wsb_cluster *cl, void *h, int writable);
void wsb_cluster_tick(struct wsb_cluster *cl);
void wsb_cluster_stats(const struct wsb_cluster *cl, struct wsb_cluster_stats *st);
void wsb_cluster_free(struct wsb_cluster *cl);

#endif

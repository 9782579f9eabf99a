/* redis — the one file that includes hiredis.h (0.14): an asynchronous
 * connection driven by someone else's event loop, a blocking one for
 * startup, and replies read through accessors, so hiredis's types stay in
 * redis.c.
 *
 * The async connection never waits: the owner of the loop watches
 * wsb_redis_fd, calls wsb_redis_read / wsb_redis_write when it is
 * readable / writable, and ops.want_write asks for the next writable
 * event (commands are buffered and go out together then: a pipeline, one
 * write per loop turn). hiredis 0.14 has no timeouts; the caller keeps
 * its own clock and calls wsb_redis_close. When the connection ends, for
 * any reason, every pending callback gets a NULL reply, then ops.lost is
 * called once, then the connection is freed: after wsb_redis_read,
 * wsb_redis_write or wsb_redis_close the pointer may be gone.
 */
#ifndef WSB_REDIS_H
#define WSB_REDIS_H

#include <stddef.h>

#include "err.h"

struct wsb_redis;
struct wsb_redis_reply;

enum wsb_redis_type {
	WSB_REDIS_STR, WSB_REDIS_ARR, WSB_REDIS_INT, WSB_REDIS_NIL, WSB_REDIS_STATUS, WSB_REDIS_ERR,
};

struct wsb_redis_ops {
	void *ud;
	void (*want_write)(void *ud, struct wsb_redis *r);
	/* The TCP connection is up (ok 1) or could not be made (ok 0: lost follows). */
	void (*connected)(void *ud, struct wsb_redis *r, int ok);
	void (*lost)(void *ud, struct wsb_redis *r, const char *why);
};

/* rep is NULL when the connection ended before the reply came. */
typedef void (*wsb_redis_cb)(void *ud, const struct wsb_redis_reply *rep, void *priv);

/* Starts a non-blocking connect. NULL + err if it cannot even start. */
struct wsb_redis *wsb_redis_connect(const char *host, int port, const struct wsb_redis_ops *ops,
				    struct wsb_err *err);
int wsb_redis_fd(const struct wsb_redis *r);
void wsb_redis_read(struct wsb_redis *r);
void wsb_redis_write(struct wsb_redis *r);
/* Queues a command (argv[i] of lens[i] bytes). 0, or -1 if the connection
 * is closing. */
int wsb_redis_cmd(struct wsb_redis *r, wsb_redis_cb cb, void *priv, int argc, const char **argv,
		  const size_t *lens);
/* Ends the connection now (pending callbacks get NULL, then lost). */
void wsb_redis_close(struct wsb_redis *r);

enum wsb_redis_type wsb_redis_type(const struct wsb_redis_reply *rep);
long long wsb_redis_int(const struct wsb_redis_reply *rep);
/* STR, STATUS, ERR: the text and its length; else "" and 0. */
const char *wsb_redis_str(const struct wsb_redis_reply *rep, size_t *len);
size_t wsb_redis_n(const struct wsb_redis_reply *rep);	/* ARR: elements */
const struct wsb_redis_reply *wsb_redis_at(const struct wsb_redis_reply *rep, size_t i);

/* Blocking, for startup: connect within timeout_ms; commands wait for
 * their reply (same bound). NULL + err (WSB_EXIT_UNAVAILABLE). */
struct wsb_redis_sync;
struct wsb_redis_sync *wsb_redis_sync_connect(const char *host, int port, int timeout_ms,
					      struct wsb_err *err);
/* The reply (free it), or NULL + err when the connection failed. An error
 * reply is a reply: check its type. */
struct wsb_redis_reply *wsb_redis_sync_cmd(struct wsb_redis_sync *s, int argc, const char **argv,
					   const size_t *lens, struct wsb_err *err);
void wsb_redis_reply_free(struct wsb_redis_reply *rep);
void wsb_redis_sync_close(struct wsb_redis_sync *s);

#endif

#include "redis.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

/* Our side of one async context: hiredis's ev hooks point here. */
struct wsb_redis {
	redisAsyncContext *ac;
	struct wsb_redis_ops ops;
	char why[128];
};

/* hiredis asks to write: the loop owner arranges a writable event. Read
 * interest is permanent (the loop watches POLLIN all along), and the
 * loop drops write interest after each event by itself, so the other
 * hooks have nothing to do. */
static void ev_add_write(void *p)
{
	struct wsb_redis *r = p;

	r->ops.want_write(r->ops.ud, r);
}

/* Called once by hiredis as it frees the context, whatever ended it,
 * after every pending callback got its NULL reply: the one place that
 * reports the end and frees our side. */
static void ev_cleanup(void *p)
{
	struct wsb_redis *r = p;
	const char *e = r->ac->errstr[0] ? r->ac->errstr : r->ac->c.errstr;

	if (!r->why[0])
		snprintf(r->why, sizeof r->why, "%s", e[0] ? e : "connection closed");
	r->ops.lost(r->ops.ud, r, r->why);
	free(r);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct wsb_redis *r = ac->ev.data;

	if (status != REDIS_OK)
		snprintf(r->why, sizeof r->why, "connect: %s", ac->errstr[0] ? ac->errstr : "failed");
	r->ops.connected(r->ops.ud, r, status == REDIS_OK);
}

struct wsb_redis *wsb_redis_connect(const char *host, int port, const struct wsb_redis_ops *ops,
				    struct wsb_err *err)
{
	struct wsb_redis *r = calloc(1, sizeof *r);
	redisAsyncContext *ac;

	if (!r) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	ac = redisAsyncConnect(host, port);
	if (!ac || ac->err) {
		wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "redis %s:%d: %s", host, port,
			    ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		free(r);
		return NULL;
	}
	r->ac = ac;
	r->ops = *ops;
	ac->ev.data = r;
	ac->ev.addWrite = ev_add_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	return r;
}

int wsb_redis_fd(const struct wsb_redis *r)
{
	return r->ac->c.fd;
}

void wsb_redis_read(struct wsb_redis *r)
{
	redisAsyncHandleRead(r->ac);
}

void wsb_redis_write(struct wsb_redis *r)
{
	redisAsyncHandleWrite(r->ac);
}

struct call {
	wsb_redis_cb cb;
	void *priv;
};

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct wsb_redis *r = ac->ev.data;
	struct call c = *(struct call *)priv;

	free(priv);
	c.cb(r->ops.ud, reply, c.priv);
}

int wsb_redis_cmd(struct wsb_redis *r, wsb_redis_cb cb, void *priv, int argc, const char **argv,
		  const size_t *lens)
{
	struct call *c = malloc(sizeof *c);

	if (!c)
		return -1;
	c->cb = cb;
	c->priv = priv;
	if (redisAsyncCommandArgv(r->ac, on_reply, c, argc, argv, lens) != REDIS_OK) {
		free(c);
		return -1;
	}
	return 0;
}

void wsb_redis_close(struct wsb_redis *r)
{
	if (!r->why[0])
		snprintf(r->why, sizeof r->why, "closed: no answer in time");
	redisAsyncFree(r->ac);	/* deferred by hiredis when inside its callback */
}

enum wsb_redis_type wsb_redis_type(const struct wsb_redis_reply *rep)
{
	switch (((const redisReply *)rep)->type) {
	case REDIS_REPLY_STRING:
		return WSB_REDIS_STR;
	case REDIS_REPLY_ARRAY:
		return WSB_REDIS_ARR;
	case REDIS_REPLY_INTEGER:
		return WSB_REDIS_INT;
	case REDIS_REPLY_STATUS:
		return WSB_REDIS_STATUS;
	case REDIS_REPLY_ERROR:
		return WSB_REDIS_ERR;
	default:
		return WSB_REDIS_NIL;
	}
}

long long wsb_redis_int(const struct wsb_redis_reply *rep)
{
	const redisReply *r = (const redisReply *)rep;

	return r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
}

const char *wsb_redis_str(const struct wsb_redis_reply *rep, size_t *len)
{
	const redisReply *r = (const redisReply *)rep;
	int has = r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
		  r->type == REDIS_REPLY_ERROR;

	*len = has ? r->len : 0;
	return has ? r->str : "";
}

size_t wsb_redis_n(const struct wsb_redis_reply *rep)
{
	const redisReply *r = (const redisReply *)rep;

	return r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
}

const struct wsb_redis_reply *wsb_redis_at(const struct wsb_redis_reply *rep, size_t i)
{
	return (const struct wsb_redis_reply *)((const redisReply *)rep)->element[i];
}

/* ---- blocking, for startup ---- */

struct wsb_redis_sync *wsb_redis_sync_connect(const char *host, int port, int timeout_ms,
					      struct wsb_err *err)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(host, port, tv);

	if (!c || c->err) {
		wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "cannot reach redis at %s:%d: %s", host, port,
			    c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	return (struct wsb_redis_sync *)c;
}

struct wsb_redis_reply *wsb_redis_sync_cmd(struct wsb_redis_sync *s, int argc, const char **argv,
					   const size_t *lens, struct wsb_err *err)
{
	redisContext *c = (redisContext *)s;
	redisReply *r = redisCommandArgv(c, argc, argv, lens);

	if (!r)
		wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "redis: %s", c->errstr[0] ? c->errstr : "no reply");
	return (struct wsb_redis_reply *)r;
}

void wsb_redis_reply_free(struct wsb_redis_reply *rep)
{
	freeReplyObject(rep);
}

void wsb_redis_sync_close(struct wsb_redis_sync *s)
{
	if (s)
		redisFree((redisContext *)s);
}

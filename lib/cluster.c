#include "cluster.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "backoff.h"
#include "log.h"
#include "producers.h"
#include "redis.h"
#include "sys.h"

/* A stream read blocks this long in Redis; the connection is given up
 * when an answer is later than that plus the timeout. */
#define BLOCK_MS 1000
#define READ_COUNT "1024"
#define BEAT_MS 1000
#define BEAT_TTL_MS "3000"		/* an instance silent this long is not counted */
#define PRODUCER_TTL_S "604800"		/* dedup state of a silent producer: a week */
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 2000

/* Publish: KEYS seq, stream, the producer's key; ARGV message, maxlen,
 * origin, producer id ("" for none), pseq, secret hash. 1.. the seq, 0 a
 * duplicate, -1 the id is bound to another secret. pseq is compared as a
 * decimal string: Lua numbers are doubles. */
static const char lua_pub[] =
	"local id = ARGV[4]\n"
	"if id ~= '' then\n"
	"  local h = redis.call('HGET', KEYS[3], 'h')\n"
	"  if not h then redis.call('HSET', KEYS[3], 'h', ARGV[6])\n"
	"  elseif h ~= ARGV[6] then return -1 end\n"
	"  local last = redis.call('HGET', KEYS[3], 'p') or '0'\n"
	"  local p = ARGV[5]\n"
	"  redis.call('EXPIRE', KEYS[3], " PRODUCER_TTL_S ")\n"
	"  if #p < #last or (#p == #last and p <= last) then return 0 end\n"
	"  redis.call('HSET', KEYS[3], 'p', p)\n"
	"end\n"
	"local s = redis.call('INCR', KEYS[1])\n"
	"redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d-0', s), 'm', ARGV[1], 'o', ARGV[3])\n"
	"return s\n";
/* Hello: KEYS epoch, seq, generation; ARGV a new epoch, the highest seq
 * this instance saw, a new generation. {epoch, seq, generation}: a missing
 * epoch is set (a new cluster, or Redis lost its data), a seq behind ours
 * is raised to it (so no seq is handed out twice), and the generation
 * names this lifetime of Redis's data: when it changes under an instance,
 * what Redis had acknowledged may be gone. */
static const char lua_hello[] =
	"local e = redis.call('GET', KEYS[1])\n"
	"if not e then e = ARGV[1]; redis.call('SET', KEYS[1], e) end\n"
	"local g = redis.call('GET', KEYS[3])\n"
	"if not g then g = ARGV[3]; redis.call('SET', KEYS[3], g) end\n"
	"local s = redis.call('GET', KEYS[2]) or '0'\n"
	"local m = ARGV[2]\n"
	"if #s < #m or (#s == #m and s < m) then redis.call('SET', KEYS[2], m); s = m end\n"
	"return {e, s, g}\n";
/* Heartbeat: KEYS instances, seq; ARGV id, ttl ms. {instances, seq}. */
static const char lua_beat[] =
	"local t = redis.call('TIME')\n"
	"local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
	"redis.call('ZADD', KEYS[1], now, ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))\n"
	"return {redis.call('ZCARD', KEYS[1]), redis.call('GET', KEYS[2]) or '0'}\n";

struct rconn {
	struct wsb_redis *r;		/* NULL: not connected */
	void *w;			/* the loop's watch */
	int up;				/* answered its first real command */
	uint64_t waiting;		/* commands unanswered */
	uint64_t wait_since;		/* last progress while waiting, ms */
	uint64_t retry_at;
	struct wsb_backoff bo;
	const char *name;
};

/* A publish waiting for the command connection. */
struct held {
	struct held *next;
	struct wsb_submit sm;		/* msg and producer point into data */
	unsigned char hash[WSB_SECRET_HASH];
	char data[];
};

struct pubrec {
	uint64_t from, pseq;
	size_t bytes;
};

struct wsb_cluster {
	struct wsb_cluster_cfg cfg;
	struct wsb_broker *b;
	struct wsb_cluster_loop loop;
	char host[256], addr[300], password[512];
	int port, db;
	char k_seq[160], k_stream[160], k_epoch[160], k_inst[160], k_prod[160], k_gen[160];
	char gen[40];			/* the generation of Redis's data we read */
	char sha_pub[41], sha_hello[41], sha_beat[41];
	char id[17], epoch[80], maxlen[24];
	struct rconn cmd, rd;
	uint64_t last_seq;		/* the last stream entry handed to the broker */
	struct held *hq, *hq_tail;
	uint64_t nheld, inflight, inflight_bytes, down_since;
	int down, fatal, closing, holding;
	char reason[200];
	uint64_t beat_at, beat_sent, instances, cluster_seq, reconnects;
	double rtt_ms;
};

static uint64_t now_ms(void)
{
	return wsb_mono_ns() / 1000000;
}

static void sha1_hex(const char *s, char out[41])
{
	unsigned char h[SHA_DIGEST_LENGTH];

	SHA1((const unsigned char *)s, strlen(s), h);
	wsb_hex(out, h, sizeof h);
}

int wsb_cluster_parse_url(const char *url, char *host, size_t cap, int *port, int *db,
			  struct wsb_err *err)
{
	const char *p = url, *colon, *slash;
	char *end;
	long v;

	if (strncmp(p, "redis://", 8))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--cluster must be redis://HOST:PORT[/DB]");
	p += 8;
	if (strchr(p, '@'))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--cluster: no password in the URL "
				   "(it would show in ps): use --cluster-password-file");
	colon = strrchr(p, ':');
	slash = strchr(p, '/');
	if (!colon || colon == p || (slash && slash < colon) || (size_t)(colon - p) >= cap)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--cluster must be redis://HOST:PORT[/DB]");
	snprintf(host, cap, "%.*s", (int)(colon - p), p);
	v = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || v < 1 || v > 65535 || (*end && *end != '/'))
		return wsb_err_set(err, WSB_EXIT_USAGE, "--cluster: invalid port in %s", url);
	*port = (int)v;
	*db = 0;
	if (*end == '/' && end[1]) {
		const char *d = end + 1;

		v = strtol(d, &end, 10);
		if (end == d || *end || v < 0 || v > 65535)
			return wsb_err_set(err, WSB_EXIT_USAGE, "--cluster: invalid database in %s", url);
		*db = (int)v;
	}
	return 0;
}

/* ---- connections ---- */

static void conn_start(struct wsb_cluster *cl, struct rconn *c);

static struct rconn *conn_of(struct wsb_cluster *cl, const struct wsb_redis *r)
{
	return r == cl->cmd.r ? &cl->cmd : r == cl->rd.r ? &cl->rd : NULL;
}

static void send_cmd(struct wsb_cluster *cl, struct rconn *c, wsb_redis_cb cb, void *priv, int argc,
		     const char **argv, const size_t *lens)
{
	if (!c->waiting)
		c->wait_since = now_ms();
	if (wsb_redis_cmd(c->r, cb, priv, argc, argv, lens) == 0) {
		c->waiting++;
		return;
	}
	cb(cl, NULL, priv);	/* closing: answered as lost */
}

/* Argument lengths of NUL-terminated strings. */
static void lens_of(int argc, const char **argv, size_t *lens)
{
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
}

/* A reply arrived on c: progress, as far as the timeout is concerned. */
static void answered(struct rconn *c)
{
	if (c->waiting)
		c->waiting--;
	c->wait_since = now_ms();
}

static void set_reason(struct wsb_cluster *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_reason(struct wsb_cluster *cl, const char *fmt, ...)
{
	char r[sizeof cl->reason];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r, sizeof r, fmt, ap);
	va_end(ap);
	if (strcmp(r, cl->reason))
		wsb_log(WSB_LOG_WARN, "cluster: %s", r);
	snprintf(cl->reason, sizeof cl->reason, "%s", r);
}

/* Publishers wait while the command connection is away (and we still
 * hold rather than refuse), or while too much is unanswered. */
static void update_hold(struct wsb_cluster *cl)
{
	int want = (!cl->cmd.up && !cl->down && !cl->fatal) ||
		   cl->inflight_bytes > cl->cfg.inflight_max;

	if (want != cl->holding) {
		cl->holding = want;
		wsb_broker_hold(cl->b, want);
	}
}

static void pub_send(struct wsb_cluster *cl, const struct wsb_submit *sm);

static void flush_held(struct wsb_cluster *cl)
{
	while (cl->hq && cl->cmd.up) {
		struct held *h = cl->hq;

		cl->hq = h->next;
		if (!cl->hq)
			cl->hq_tail = NULL;
		cl->nheld--;
		pub_send(cl, &h->sm);
		free(h);
	}
}

static void refuse_held(struct wsb_cluster *cl)
{
	while (cl->hq) {
		struct held *h = cl->hq;

		cl->hq = h->next;
		cl->nheld--;
		wsb_broker_submitted(cl->b, h->sm.from, h->sm.pseq, WSB_SEQ_UNAVAILABLE);
		free(h);
	}
	cl->hq_tail = NULL;
}

static void on_want_write(void *ud, struct wsb_redis *r)
{
	struct wsb_cluster *cl = ud;
	struct rconn *c = conn_of(cl, r);

	if (c && c->w)
		cl->loop.want_write(cl->loop.ud, c->w);
}

static void on_connected(void *ud, struct wsb_redis *r, int ok)
{
	struct rconn *c = conn_of(ud, r);

	if (ok && c)
		wsb_log(WSB_LOG_DEBUG, "cluster: %s connection open", c->name);
}

static void on_lost(void *ud, struct wsb_redis *r, const char *why)
{
	struct wsb_cluster *cl = ud;
	struct rconn *c = conn_of(cl, r);

	if (!c)
		return;
	if (c->w)
		cl->loop.unwatch(cl->loop.ud, c->w);
	c->r = NULL;
	c->w = NULL;
	c->waiting = 0;
	if (cl->closing)
		return;
	if (c->up || !cl->reason[0])
		set_reason(cl, "redis %s: %s; reconnecting", cl->addr, why);
	c->up = 0;
	c->retry_at = now_ms() + wsb_backoff_next(&c->bo);
	cl->reconnects++;
	if (c == &cl->cmd && !cl->down_since)
		cl->down_since = now_ms();
	update_hold(cl);
}

/* AUTH, SELECT, SCRIPT LOAD: an error is a wrong setting or a Redis that
 * lost its scripts (loaded again on every connect). */
static void preamble_cb(void *ud, const struct wsb_redis_reply *rep, void *priv)
{
	struct wsb_cluster *cl = ud;
	struct rconn *c = priv;
	size_t n;

	if (!rep)
		return;
	answered(c);
	if (wsb_redis_type(rep) == WSB_REDIS_ERR) {
		set_reason(cl, "redis %s refused the setup: %s", cl->addr, wsb_redis_str(rep, &n));
		wsb_redis_close(c->r);
	}
}

static void preamble(struct wsb_cluster *cl, struct rconn *c)
{
	char db[16];
	const char *auth[] = { "AUTH", cl->password }, *sel[] = { "SELECT", db };
	size_t lens[2];

	if (cl->password[0]) {
		lens_of(2, auth, lens);
		send_cmd(cl, c, preamble_cb, c, 2, auth, lens);
	}
	if (cl->db) {
		snprintf(db, sizeof db, "%d", cl->db);
		lens_of(2, sel, lens);
		send_cmd(cl, c, preamble_cb, c, 2, sel, lens);
	}
}

/* ---- the command connection: hello, publishes, heartbeats ---- */

/* {epoch, seq, generation} of the hello script: 0, or -1 if malformed. A
 * generation other than ours means Redis lost its data since we read it. */
static int hello_read(struct wsb_cluster *cl, const struct wsb_redis_reply *rep, int *lost)
{
	const char *e, *g;
	size_t n, gn;

	if (wsb_redis_type(rep) != WSB_REDIS_ARR || wsb_redis_n(rep) != 3)
		return -1;
	e = wsb_redis_str(wsb_redis_at(rep, 0), &n);
	g = wsb_redis_str(wsb_redis_at(rep, 2), &gn);
	*lost = cl->gen[0] && (gn != strlen(cl->gen) || memcmp(g, cl->gen, gn));
	snprintf(cl->gen, sizeof cl->gen, "%.*s", (int)gn, g);
	if (n >= sizeof cl->epoch)
		return -1;
	if (n != strlen(cl->epoch) || memcmp(e, cl->epoch, n)) {
		snprintf(cl->reason, sizeof cl->reason, "the cluster's epoch changed to %.*s (Redis lost its "
			 "data and another instance started a new numbering): restart this instance",
			 (int)(n > 32 ? 32 : n), e);
		return 1;
	}
	return 0;
}

static void hello_cb(void *ud, const struct wsb_redis_reply *rep, void *priv)
{
	struct wsb_cluster *cl = ud;
	int lost = 0, r;
	size_t n;

	if (!rep)
		return;
	answered(&cl->cmd);
	if ((r = hello_read(cl, rep, &lost)) < 0) {
		set_reason(cl, "redis %s: unexpected answer to hello: %s", cl->addr, wsb_redis_str(rep, &n));
		wsb_redis_close(cl->cmd.r);
		return;
	}
	if (r > 0) {
		cl->fatal = 1;
		wsb_log(WSB_LOG_ERROR, "cluster: %s", cl->reason);
		refuse_held(cl);
		update_hold(cl);
		return;
	}
	if (lost) {	/* what Redis acknowledged after our last seq may be gone */
		wsb_log(WSB_LOG_ERROR, "cluster: redis %s lost its data: numbering on after seq %" PRIu64
			", a gap record to every subscriber", cl->addr, cl->last_seq);
		wsb_broker_gap(cl->b, cl->last_seq + 1, 0, "cluster");
	}
	cl->cmd.up = 1;
	cl->down = 0;
	cl->down_since = 0;
	if (cl->rd.up)
		cl->reason[0] = '\0';
	wsb_backoff_reset(&cl->cmd.bo);
	wsb_log(WSB_LOG_INFO, "cluster: publishing through redis %s", cl->addr);
	flush_held(cl);
	update_hold(cl);
}

static void cmd_start(struct wsb_cluster *cl)
{
	char last[24], gen[17];
	const char *load[3][3] = { { "SCRIPT", "LOAD", lua_pub }, { "SCRIPT", "LOAD", lua_hello },
				   { "SCRIPT", "LOAD", lua_beat } };
	const char *hello[] = { "EVALSHA", cl->sha_hello, "3", cl->k_epoch, cl->k_seq, cl->k_gen,
				cl->epoch, last, gen };
	size_t lens[9];
	uint64_t r = wsb_random64();

	preamble(cl, &cl->cmd);
	for (int i = 0; i < 3; i++) {
		lens_of(3, load[i], lens);
		send_cmd(cl, &cl->cmd, preamble_cb, &cl->cmd, 3, load[i], lens);
	}
	snprintf(last, sizeof last, "%" PRIu64, cl->last_seq);
	wsb_hex(gen, (const unsigned char *)&r, sizeof r);
	lens_of(9, hello, lens);
	send_cmd(cl, &cl->cmd, hello_cb, NULL, 9, hello, lens);
}

static void pub_cb(void *ud, const struct wsb_redis_reply *rep, void *priv)
{
	struct wsb_cluster *cl = ud;
	struct pubrec pr = *(struct pubrec *)priv;
	enum wsb_seq_result r = WSB_SEQ_UNAVAILABLE;
	size_t n;

	free(priv);
	cl->inflight--;
	cl->inflight_bytes -= pr.bytes;
	if (rep) {
		answered(&cl->cmd);
		if (wsb_redis_type(rep) == WSB_REDIS_INT) {
			long long v = wsb_redis_int(rep);

			r = v > 0 ? WSB_SEQ_OK : v == 0 ? WSB_SEQ_DUP : WSB_SEQ_NOPERM;
		} else {
			set_reason(cl, "redis %s refused a publish: %s", cl->addr, wsb_redis_str(rep, &n));
		}
	}
	wsb_broker_submitted(cl->b, pr.from, pr.pseq, r);
	update_hold(cl);
}

static void pub_send(struct wsb_cluster *cl, const struct wsb_submit *sm)
{
	char origin[48], pseq[24], hash[2 * WSB_SECRET_HASH + 1] = "", key[sizeof cl->k_prod + 80];
	const char *argv[] = { "EVALSHA", cl->sha_pub, "3", cl->k_seq, cl->k_stream, key, sm->msg,
			       cl->maxlen, origin, sm->producer ? sm->producer : "", pseq, hash };
	size_t lens[12];
	struct pubrec *pr = malloc(sizeof *pr);

	if (!pr) {
		wsb_broker_submitted(cl->b, sm->from, sm->pseq, WSB_SEQ_UNAVAILABLE);
		return;
	}
	*pr = (struct pubrec){ sm->from, sm->pseq, sm->len };
	snprintf(origin, sizeof origin, "%s:%" PRIu64, cl->id, sm->from);
	snprintf(pseq, sizeof pseq, "%" PRIu64, sm->pseq);
	snprintf(key, sizeof key, "%s%s", cl->k_prod, sm->producer ? sm->producer : "");
	if (sm->hash)
		wsb_hex(hash, sm->hash, WSB_SECRET_HASH);
	argv[6] = "";		/* the message is not NUL-terminated: its length is given */
	lens_of(12, argv, lens);
	argv[6] = sm->msg;
	lens[6] = sm->len;
	cl->inflight++;
	cl->inflight_bytes += sm->len;
	send_cmd(cl, &cl->cmd, pub_cb, pr, 12, argv, lens);
}

static int hold(struct wsb_cluster *cl, const struct wsb_submit *sm)
{
	size_t plen = sm->producer ? strlen(sm->producer) + 1 : 0;
	struct held *h = malloc(sizeof *h + sm->len + plen);

	if (!h)
		return -1;
	h->next = NULL;
	h->sm = *sm;
	memcpy(h->data, sm->msg, sm->len);
	h->sm.msg = h->data;
	if (sm->producer) {
		memcpy(h->data + sm->len, sm->producer, plen);
		h->sm.producer = h->data + sm->len;
	}
	if (sm->hash) {
		memcpy(h->hash, sm->hash, sizeof h->hash);
		h->sm.hash = h->hash;
	}
	if (cl->hq_tail)
		cl->hq_tail->next = h;
	else
		cl->hq = h;
	cl->hq_tail = h;
	cl->nheld++;
	return 0;
}

/* The broker's sequencer hook. */
static int submit(void *ud, const struct wsb_submit *sm)
{
	struct wsb_cluster *cl = ud;

	if (cl->fatal || cl->down)
		return -1;
	if (cl->cmd.up && !cl->hq) {
		pub_send(cl, sm);
	} else if (hold(cl, sm) < 0) {
		return -1;
	}
	update_hold(cl);
	return 0;
}

static void beat_cb(void *ud, const struct wsb_redis_reply *rep, void *priv)
{
	struct wsb_cluster *cl = ud;
	size_t n;

	if (!rep)
		return;
	answered(&cl->cmd);
	if (wsb_redis_type(rep) != WSB_REDIS_ARR || wsb_redis_n(rep) != 2)
		return;
	cl->rtt_ms = (double)(wsb_mono_ns() / 1000 - cl->beat_sent) / 1000;
	cl->instances = (uint64_t)wsb_redis_int(wsb_redis_at(rep, 0));
	cl->cluster_seq = strtoull(wsb_redis_str(wsb_redis_at(rep, 1), &n), NULL, 10);
}

static void beat(struct wsb_cluster *cl)
{
	const char *argv[] = { "EVALSHA", cl->sha_beat, "2", cl->k_inst, cl->k_seq, cl->id, BEAT_TTL_MS };
	size_t lens[7];

	cl->beat_sent = wsb_mono_ns() / 1000;
	lens_of(7, argv, lens);
	send_cmd(cl, &cl->cmd, beat_cb, NULL, 7, argv, lens);
}

/* ---- the read connection: the stream, in order ---- */

static void xread(struct wsb_cluster *cl);

/* An entry: [id "SEQ-0", [field, value, ...]] with m (the message) and o
 * (origin "INSTANCE:SESSION"). */
static void feed(struct wsb_cluster *cl, const struct wsb_redis_reply *e)
{
	const struct wsb_redis_reply *f;
	const char *id, *m = NULL, *o = "";
	size_t n, mlen = 0, olen = 0, idl = strlen(cl->id);
	uint64_t seq, origin = 0;

	if (wsb_redis_n(e) != 2 || wsb_redis_type(f = wsb_redis_at(e, 1)) != WSB_REDIS_ARR)
		return;
	id = wsb_redis_str(wsb_redis_at(e, 0), &n);
	seq = strtoull(id, NULL, 10);
	for (size_t i = 0; i + 1 < wsb_redis_n(f); i += 2) {
		const char *k = wsb_redis_str(wsb_redis_at(f, i), &n);

		if (n == 1 && *k == 'm')
			m = wsb_redis_str(wsb_redis_at(f, i + 1), &mlen);
		else if (n == 1 && *k == 'o')
			o = wsb_redis_str(wsb_redis_at(f, i + 1), &olen);
	}
	if (olen > idl + 1 && !memcmp(o, cl->id, idl) && o[idl] == ':')
		origin = strtoull(o + idl + 1, NULL, 10);
	if (!seq || !m)
		return;
	if (wsb_broker_sequenced(cl->b, m, mlen, seq, origin) < 0)
		wsb_log(WSB_LOG_WARN, "cluster: stream entry %" PRIu64 " is not a message: skipped", seq);
	if (seq > cl->last_seq)
		cl->last_seq = seq;
}

static void feed_all(struct wsb_cluster *cl, const struct wsb_redis_reply *entries, int reverse)
{
	size_t k = wsb_redis_n(entries);

	for (size_t i = 0; i < k; i++)
		feed(cl, wsb_redis_at(entries, reverse ? k - 1 - i : i));
}

static void xread_cb(void *ud, const struct wsb_redis_reply *rep, void *priv)
{
	struct wsb_cluster *cl = ud;
	size_t n;

	if (!rep)
		return;
	answered(&cl->rd);
	if (wsb_redis_type(rep) == WSB_REDIS_ERR) {
		set_reason(cl, "redis %s refused to read the stream: %s", cl->addr, wsb_redis_str(rep, &n));
		wsb_redis_close(cl->rd.r);
		return;
	}
	/* [[stream, [entry...]]], or nil when BLOCK ran out */
	if (wsb_redis_type(rep) == WSB_REDIS_ARR && wsb_redis_n(rep) == 1 &&
	    wsb_redis_n(wsb_redis_at(rep, 0)) == 2)
		feed_all(cl, wsb_redis_at(wsb_redis_at(rep, 0), 1), 0);
	xread(cl);
}

/* The stream connection answers: it is up (an XREAD may block a while). */
static void rd_ping_cb(void *ud, const struct wsb_redis_reply *rep, void *priv)
{
	struct wsb_cluster *cl = ud;

	if (!rep)
		return;
	answered(&cl->rd);
	if (wsb_redis_type(rep) == WSB_REDIS_ERR)
		return;		/* the XREAD after it fails too, and says why */
	cl->rd.up = 1;
	wsb_backoff_reset(&cl->rd.bo);
	if (cl->cmd.up && !cl->fatal)
		cl->reason[0] = '\0';
}

static void xread(struct wsb_cluster *cl)
{
	char block[16], from[32];
	const char *argv[] = { "XREAD", "BLOCK", block, "COUNT", READ_COUNT, "STREAMS", cl->k_stream, from };
	size_t lens[8];

	snprintf(block, sizeof block, "%d", BLOCK_MS);
	snprintf(from, sizeof from, "%" PRIu64 "-0", cl->last_seq);
	lens_of(8, argv, lens);
	send_cmd(cl, &cl->rd, xread_cb, NULL, 8, argv, lens);
}

static void conn_start(struct wsb_cluster *cl, struct rconn *c)
{
	struct wsb_redis_ops ops = { cl, on_want_write, on_connected, on_lost };
	struct wsb_err err;

	c->r = wsb_redis_connect(cl->host, cl->port, &ops, &err);
	if (!c->r) {
		c->retry_at = now_ms() + wsb_backoff_next(&c->bo);
		set_reason(cl, "%s", err.msg);
		return;
	}
	c->w = cl->loop.watch(cl->loop.ud, wsb_redis_fd(c->r), c->r);
	if (!c->w) {
		wsb_redis_close(c->r);	/* on_lost schedules the retry */
		return;
	}
	if (c == &cl->cmd) {
		cmd_start(cl);
	} else {
		const char *ping[] = { "PING" };
		size_t len = 4;

		preamble(cl, c);
		send_cmd(cl, c, rd_ping_cb, NULL, 1, ping, &len);
		xread(cl);
	}
}

/* ---- time ---- */

static void conn_tick(struct wsb_cluster *cl, struct rconn *c, uint64_t now, uint64_t limit)
{
	if (!c->r) {
		if (now >= c->retry_at)
			conn_start(cl, c);
		return;
	}
	if (c->waiting && now - c->wait_since > limit) {
		set_reason(cl, "redis %s: no answer within %gs on the %s connection", cl->addr,
			   cl->cfg.timeout, c->name);
		wsb_redis_close(c->r);
	}
}

void wsb_cluster_tick(struct wsb_cluster *cl)
{
	uint64_t now = now_ms(), to = (uint64_t)(cl->cfg.timeout * 1000);

	conn_tick(cl, &cl->cmd, now, to);
	conn_tick(cl, &cl->rd, now, to + BLOCK_MS);
	/* Held long enough: refuse them (publishers resend, to this or
	 * another instance) and refuse new ones until Redis answers again. */
	if (!cl->cmd.up && cl->down_since && now - cl->down_since > to && !cl->down) {
		cl->down = 1;
		wsb_log(WSB_LOG_ERROR, "cluster: redis %s unreachable for %gs: refusing publishes "
			"(UNAVAILABLE) until it is back", cl->addr, cl->cfg.timeout);
		refuse_held(cl);
		update_hold(cl);
	}
	if (cl->cmd.up && now >= cl->beat_at) {
		cl->beat_at = now + BEAT_MS;
		beat(cl);
	}
}

void wsb_cluster_event(struct wsb_cluster *cl, void *h, int writable)
{
	struct wsb_redis *r = h;

	if (!conn_of(cl, r))
		return;
	if (writable)
		wsb_redis_write(r);
	else
		wsb_redis_read(r);
}

void wsb_cluster_stats(const struct wsb_cluster *cl, struct wsb_cluster_stats *st)
{
	memset(st, 0, sizeof *st);
	st->state = cl->fatal || cl->down ? WSB_CLUSTER_DOWN
		    : cl->cmd.up && cl->rd.up ? WSB_CLUSTER_OK : WSB_CLUSTER_DEGRADED;
	st->addr = cl->addr;
	st->reason = st->state == WSB_CLUSTER_OK ? "" : cl->reason;
	st->instances = cl->instances;
	st->rtt_ms = cl->rtt_ms;
	st->backlog = cl->cluster_seq > cl->last_seq ? cl->cluster_seq - cl->last_seq : 0;
	st->held = cl->nheld;
	st->inflight = cl->inflight;
	st->reconnects = cl->reconnects;
}

/* ---- startup ---- */

static struct wsb_redis_reply *sync_cmd(struct wsb_cluster *cl, struct wsb_redis_sync *s, int argc,
					const char **argv, struct wsb_err *err)
{
	size_t lens[12], n;
	struct wsb_redis_reply *rep;

	lens_of(argc, argv, lens);
	rep = wsb_redis_sync_cmd(s, argc, argv, lens, err);
	if (rep && wsb_redis_type(rep) == WSB_REDIS_ERR) {
		wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "redis %s: %s: %s", cl->addr, argv[0],
			    wsb_redis_str(rep, &n));
		wsb_redis_reply_free(rep);
		return NULL;
	}
	return rep;
}

/* The epoch (adopted, or ours if the cluster has none) and history: the
 * stream's last entries, oldest first; the live read goes on after them. */
static int startup_read(struct wsb_cluster *cl, struct wsb_redis_sync *s, struct wsb_err *err)
{
	char count[24], gen[17];
	uint64_t r = wsb_random64();
	const char *hello[] = { "EVALSHA", cl->sha_hello, "3", cl->k_epoch, cl->k_seq, cl->k_gen,
				cl->epoch, "0", gen };
	const char *tail[] = { "XREVRANGE", cl->k_stream, "+", "-", "COUNT", count };
	struct wsb_redis_reply *rep;
	const char *e;
	size_t n;
	int lost;

	wsb_hex(gen, (const unsigned char *)&r, sizeof r);
	if (!(rep = sync_cmd(cl, s, 9, hello, err)))
		return -1;
	e = wsb_redis_type(rep) == WSB_REDIS_ARR && wsb_redis_n(rep) == 3
		    ? wsb_redis_str(wsb_redis_at(rep, 0), &n) : NULL;
	if (e) {	/* the cluster's epoch, whatever we drew */
		snprintf(cl->epoch, sizeof cl->epoch, "%.*s", (int)(n < sizeof cl->epoch ? n : 0), e);
		hello_read(cl, rep, &lost);
		cl->last_seq = strtoull(wsb_redis_str(wsb_redis_at(rep, 1), &n), NULL, 10);
	}
	wsb_redis_reply_free(rep);
	if (!e || !cl->epoch[0])
		return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "redis %s: unexpected hello answer", cl->addr);
	wsb_broker_set_epoch(cl->b, cl->epoch);
	snprintf(count, sizeof count, "%" PRIu64, cl->cfg.history ? cl->cfg.history : 1);
	if (!(rep = sync_cmd(cl, s, 6, tail, err)))
		return -1;
	if (cl->cfg.history)
		feed_all(cl, rep, 1);
	else if (wsb_redis_n(rep) == 1)
		cl->last_seq = strtoull(wsb_redis_str(wsb_redis_at(wsb_redis_at(rep, 0), 0), &n), NULL, 10);
	wsb_redis_reply_free(rep);
	wsb_broker_advance_seq(cl->b, cl->last_seq);
	return 0;
}

static int startup(struct wsb_cluster *cl, struct wsb_err *err)
{
	char db[16];
	const char *auth[] = { "AUTH", cl->password }, *sel[] = { "SELECT", db };
	const char *scripts[] = { lua_pub, lua_hello, lua_beat };
	struct wsb_redis_sync *s;
	struct wsb_redis_reply *rep;
	uint64_t t0 = now_ms();
	int rc = -1;

	/* Redis may be starting too (a boot, a script): try for the timeout. */
	while (!(s = wsb_redis_sync_connect(cl->host, cl->port, (int)(cl->cfg.timeout * 1000), err))) {
		if (now_ms() - t0 >= (uint64_t)(cl->cfg.timeout * 1000))
			return -1;
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	snprintf(db, sizeof db, "%d", cl->db);
	if (cl->password[0]) {
		if (!(rep = sync_cmd(cl, s, 2, auth, err)))
			goto out;
		wsb_redis_reply_free(rep);
	}
	if (!(rep = sync_cmd(cl, s, 2, sel, err)))
		goto out;
	wsb_redis_reply_free(rep);
	for (int i = 0; i < 3; i++) {
		const char *load[] = { "SCRIPT", "LOAD", scripts[i] };

		if (!(rep = sync_cmd(cl, s, 3, load, err)))
			goto out;
		wsb_redis_reply_free(rep);
	}
	rc = startup_read(cl, s, err);
out:
	wsb_redis_sync_close(s);
	return rc;
}

static void names(struct wsb_cluster *cl)
{
	const char *nm = cl->cfg.name;
	uint64_t r = wsb_random64();

	snprintf(cl->k_seq, sizeof cl->k_seq, "{%s}:seq", nm);
	snprintf(cl->k_stream, sizeof cl->k_stream, "{%s}:stream", nm);
	snprintf(cl->k_epoch, sizeof cl->k_epoch, "{%s}:epoch", nm);
	snprintf(cl->k_gen, sizeof cl->k_gen, "{%s}:generation", nm);
	snprintf(cl->k_inst, sizeof cl->k_inst, "{%s}:instances", nm);
	snprintf(cl->k_prod, sizeof cl->k_prod, "{%s}:producer:", nm);
	sha1_hex(lua_pub, cl->sha_pub);
	sha1_hex(lua_hello, cl->sha_hello);
	sha1_hex(lua_beat, cl->sha_beat);
	wsb_hex(cl->id, (const unsigned char *)&r, sizeof r);
	snprintf(cl->maxlen, sizeof cl->maxlen, "%" PRIu64, cl->cfg.stream_len);
	snprintf(cl->addr, sizeof cl->addr, "%s:%d%s%.0d", cl->host, cl->port, cl->db ? "/" : "", cl->db);
	cl->cmd.name = "command";
	cl->rd.name = "stream";
	wsb_backoff_init(&cl->cmd.bo, RETRY_MIN_MS, RETRY_MAX_MS, r);
	wsb_backoff_init(&cl->rd.bo, RETRY_MIN_MS, RETRY_MAX_MS, r >> 7);
}

struct wsb_cluster *wsb_cluster_open(const struct wsb_cluster_cfg *cfg, struct wsb_broker *b,
				     const struct wsb_cluster_loop *loop, struct wsb_err *err)
{
	struct wsb_cluster *cl = calloc(1, sizeof *cl);
	struct wsb_broker_seq seq = { cl, submit };

	if (!cl) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	cl->cfg = *cfg;
	cl->b = b;
	cl->loop = *loop;
	if (cfg->password && strlen(cfg->password) >= sizeof cl->password) {
		wsb_err_set(err, WSB_EXIT_CONFIG, "--cluster-password-file: password too long");
		goto fail;
	}
	snprintf(cl->password, sizeof cl->password, "%s", cfg->password ? cfg->password : "");
	if (wsb_cluster_parse_url(cfg->url, cl->host, sizeof cl->host, &cl->port, &cl->db, err) < 0)
		goto fail;
	names(cl);
	/* Our candidate epoch: the cluster's own wins if it has one. */
	snprintf(cl->epoch, sizeof cl->epoch, "%s", wsb_broker_epoch(b));
	if (startup(cl, err) < 0)
		goto fail;
	wsb_broker_set_sequencer(b, &seq);
	conn_start(cl, &cl->cmd);
	conn_start(cl, &cl->rd);
	wsb_log(WSB_LOG_INFO, "cluster %s on redis %s: epoch %s, seq %" PRIu64, cfg->name, cl->addr,
		cl->epoch, cl->last_seq);
	return cl;
fail:
	memset(cl->password, 0, sizeof cl->password);
	free(cl);
	return NULL;
}

void wsb_cluster_free(struct wsb_cluster *cl)
{
	if (!cl)
		return;
	cl->closing = 1;
	refuse_held(cl);
	if (cl->cmd.r)
		wsb_redis_close(cl->cmd.r);
	if (cl->rd.r)
		wsb_redis_close(cl->rd.r);
	memset(cl->password, 0, sizeof cl->password);
	free(cl);
}

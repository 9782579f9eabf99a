#include "broker.h"
#include "broker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acks.h"
#include "allow.h"
#include "envelope.h"
#include "frame.h"
#include "history.h"
#include "pmd.h"
#include "producers.h"
#include "reply.h"
#include "sessions.h"
#include "snapread.h"
#include "subs.h"
#include "sys.h"

/* What this file keeps: the public API, joining (greeting, resume point,
 * producer binding, snapshot), input dispatch and publish, the pressure
 * policy and the stats: the code that ties the pieces together. The pieces
 * own their types and never call back into this file; what they need of
 * the broker they get as arguments or as fields of their own structs:
 *   sessions   sessions, their frame queues, closes, stalls, fan-out
 *   subs       a session's patterns and (un)subscribe requests
 *   history    retained messages and the resume reader
 *   snapread   the snapshot table's messages and its reader
 *   acks       acks and messages waiting for the journal
 *   producers  producer ids, secrets, positions, dedup checks
 *   reply      the JSON the broker writes itself (stamp, replies, records)
 *   msg, ring  the shared frame buffer; the FIFO every queue is built on
 * Cluster mode (the sequencer's calls) is broker_seq.c, the same broker
 * through the private broker_int.h. */

#define GREETING_MAX 2048	/* escaped greeting, leaves room for the rest */
#define SNAP_KEY_MAX 256	/* --snapshot-key values longer count per type only */


void wsb_brk_now_ts(const struct wsb_broker *b, char out[WSB_TS_LEN])
{
	struct timespec ts;

	if (b->cfg.now)
		b->cfg.now(&ts);
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	wsb_env_timestamp(out, &ts);
}

/* ---- memory and pressure ---- */

/* What --max-memory counts: queued messages (each once, those waiting for
 * the journal too), the snapshot table, and what the transport holds for
 * unfinished inbound messages. The snapshot table is capped below
 * max_memory (wsb_cfg_check), so pausing publishers can always bring the
 * total back under the limit. */
static uint64_t memory_used(const struct wsb_broker *b)
{
	struct wsb_snap_stats ss = { 0 };

	if (b->snap)
		wsb_snap_stats(b->snap, &ss);
	return b->ss.queued_bytes + b->pq_bytes + ss.bytes + b->transport_bytes;
}

/* A zero max_queue, max_memory or history_bytes means "no limit": broker.h
 * leaves zero open, and as a limit it would close or pause everything. The
 * off threshold is floor(max_memory * 3 / 4), computed without overflow. */
void wsb_brk_check_pressure(struct wsb_broker *b)
{
	int want;

	uint64_t used = memory_used(b);

	if (b->cfg.max_memory) {
		if (!b->mem_pressure && used > b->cfg.max_memory)
			b->mem_pressure = 1;
		else if (b->mem_pressure && used < b->cfg.max_memory / 4 * 3 +
				 b->cfg.max_memory % 4 * 3 / 4)
			b->mem_pressure = 0;
	}
	/* Messages waiting for the journal reach every subscriber at once when
	 * it commits: past a quarter of max_queue, hold publishers until then. */
	want = b->mem_pressure || b->ss.stalling > 0 || b->hold ||
	       (b->cfg.max_queue && b->pq_bytes > b->cfg.max_queue / 4);
	if (want != b->pressure) {
		b->pressure = want;
		if (b->hooks.pressure)
			b->hooks.pressure(b->hooks.ud, want);
	}
}

static uint64_t mono_ms_default(void)
{
	return wsb_mono_ns() / 1000000;
}

/* A reply owned by one session: queued, and the builder's ref dropped
 * (which frees it at once if the session could not take it). */
static void reply(struct wsb_broker *b, struct wsb_sess *s, struct wsb_msg *m)
{
	wsb_brk_fan_flush(b);	/* after what was published before it */
	if (!m)
		return;
	wsb_sess_enqueue(&b->ss, s, m, 1);
	wsb_msg_unref(m);
}

void wsb_brk_reply_error(struct wsb_broker *b, struct wsb_sess *s, const char *code,
			const char *text)
{
	char ts[WSB_TS_LEN];

	b->st.errors++;
	if (s->closing)
		return;
	wsb_brk_now_ts(b, ts);
	reply(b, s, wsb_reply_error(ts, code, text));
}

/* The sessions piece unsubscribed s (sessions.h): a slow publisher whose
 * queue it emptied, or a filter refused or dropped. The error says why,
 * first in line for whenever it reads. */
static void slow_unsubscribed(void *owner, struct wsb_sess *s, const char *code, const char *text)
{
	wsb_brk_reply_error(owner, s, code, text);
}

/* ---- sessions ---- */

static void sess_recount(struct wsb_broker *b, struct wsb_sess *s)
{
	int want = wsb_subs_active(&s->subs);

	wsb_sess_subs_changed(&b->ss, s);	/* after every change to s->subs */
	if (want != s->counted) {
		if (want)
			b->st.subscribers++;
		else
			b->st.subscribers--;
		s->counted = want;
	}
}

static void greet(struct wsb_broker *b, struct wsb_sess *s)
{
	char ts[WSB_TS_LEN];
	struct wsb_msg *m = wsb_msg_alloc(b->greeting_len + 340 + WSB_PRODUCER_ID_MAX + WSB_SECRET_HEX);
	char *p;
	size_t n;

	if (!m)
		return;
	wsb_brk_now_ts(b, ts);
	p = wsb_msg_payload(m);
	n = (size_t)sprintf(p, "{\"type\":\"connection_established\",\"timestamp\":\"%s\",\"message\":",
			    ts);
	memcpy(p + n, b->greeting, b->greeting_len);
	n += b->greeting_len;
	n += (size_t)sprintf(p + n, ",\"client_id\":\"%s\",\"seq\":%llu,\"epoch\":\"%s\"", s->id,
			     (unsigned long long)b->st.seq, b->epoch);
	if (b->cfg.max_message)
		n += (size_t)sprintf(p + n, ",\"max_message\":%llu", (unsigned long long)b->cfg.max_message);
	if (s->prod) {
		/* With a journal, only what is stored counts as accepted: the
		 * publisher drops what the greeting covers from its queue. */
		uint64_t acc = b->cfg.durable_acks ? s->prod->durable : s->prod->last;

		n += (size_t)sprintf(p + n, ",\"producer\":\"%s\",\"accepted\":%llu", s->pub->producer,
				     (unsigned long long)acc);
		/* Only to the connection that claimed the id; kept nowhere. */
		if (s->pub->secret[0])
			n += (size_t)sprintf(p + n, ",\"producer_secret\":\"%s\"", s->pub->secret);
		memset(s->pub->secret, 0, sizeof s->pub->secret);
	}
	p[n++] = '}';
	wsb_msg_seal(m, n);
	wsb_sess_enqueue(&b->ss, s, m, 0);
	wsb_msg_unref(m);
}

/* The epoch names this lifetime of the numbering and the prefix this
 * lifetime's client ids: both must differ from every earlier run's. */
static int draw_ids(struct wsb_broker *b, struct wsb_err *err)
{
	unsigned char r[4 + WSB_EPOCH_LEN / 2];

	if (b->cfg.rand(r, sizeof r) < 0)
		return wsb_err_set(err, WSB_EXIT_OSERR, "cannot draw the broker's epoch: no entropy");
	b->id_prefix = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
	wsb_hex(b->epoch, r + 4, WSB_EPOCH_LEN / 2);
	return 0;
}

/* ---- public API ---- */

static int set_greeting(struct wsb_broker *b, const char *g, struct wsb_err *err)
{
	char one[1];
	size_t need = wsb_json_escape(one, sizeof one, g, strlen(g));

	if (need > GREETING_MAX)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "greeting too long: %zu bytes as JSON, at most %d",
				   need, GREETING_MAX);
	b->greeting = malloc(need + 1);
	if (!b->greeting)
		return wsb_err_set(err, WSB_EXIT_OSERR, "cannot create broker: out of memory");
	wsb_json_escape(b->greeting, need + 1, g, strlen(g));
	b->greeting_len = need;
	return 0;
}

static int alloc_parts(struct wsb_broker *b, struct wsb_err *err)
{
	const struct wsb_broker_cfg *c = &b->cfg;

	if (wsb_hist_init(&b->hist, c->history, c->history_bytes) < 0 ||
	    (c->snapshot_bytes && !(b->snap = wsb_snap_new(c->snapshot_bytes, c->snapshot_entries))) ||
	    !(b->prods = wsb_prods_new(c->max_producers, c->rand)))
		return wsb_err_set(err, WSB_EXIT_OSERR, "cannot create broker: out of memory");
	return 0;
}

struct wsb_broker *wsb_broker_new(const struct wsb_broker_cfg *cfg,
				  const struct wsb_broker_hooks *hooks, struct wsb_err *err)
{
	struct wsb_broker *b = calloc(1, sizeof *b);

	if (!b) {
		wsb_err_set(err, WSB_EXIT_OSERR, "cannot create broker: out of memory");
		return NULL;
	}
	b->cfg = *cfg;
	if (!b->cfg.mono_ms)
		b->cfg.mono_ms = mono_ms_default;
	if (b->cfg.rate.burst < 1)
		b->cfg.rate.burst = 1;	/* a bucket that never holds a token refuses everything */
	if (!b->cfg.rand)
		b->cfg.rand = wsb_random_bytes;
	if (hooks)
		b->hooks = *hooks;
	b->ss = (struct wsb_sessions){ .max_queue = cfg->max_queue, .mono_ms = b->cfg.mono_ms,
				       .stall_cfg = { cfg->stall_ms, cfg->stall_window_ms },
				       .ud = b->hooks.ud, .wake = b->hooks.wake, .close = b->hooks.close,
				       .owner = b, .unsubscribed = slow_unsubscribed,
				       .symkey = &b->symkey, .filter_open = b->hooks.filter_open,
				       .filter_close = b->hooks.filter_close, .filter_eval = b->hooks.filter_eval };
	wsb_pend_init(&b->pq);
	if (wsb_symkey_parse(&b->symkey, cfg->symbol_key ? cfg->symbol_key : ".data.symbol", err) < 0 ||
	    set_greeting(b, cfg->greeting ? cfg->greeting : "Connected to wsbridge", err) < 0 ||
	    alloc_parts(b, err) < 0 || draw_ids(b, err) < 0) {
		wsb_broker_free(b);
		return NULL;
	}
	return b;
}

void wsb_broker_free(struct wsb_broker *b)
{
	if (!b)
		return;
	wsb_brk_fan_flush(b);	/* its refs */
	wsb_sessions_free(&b->ss);
	wsb_hist_free(&b->hist);
	wsb_pend_free(&b->pq);
	wsb_snap_drain(b->snap);
	wsb_prods_free(b->prods);
	wsb_deflate_free(b->zd);
	free(b->greeting);
	free(b);
}

const char *wsb_broker_epoch(const struct wsb_broker *b)
{
	return b->epoch;
}

void wsb_broker_advance_seq(struct wsb_broker *b, uint64_t seq)
{
	if (seq > b->st.seq)
		b->st.seq = seq;
	if (seq > b->st.durable_seq)
		b->st.durable_seq = seq;
}

int wsb_broker_restore_producer(struct wsb_broker *b, const char *id,
				const unsigned char hash[WSB_SECRET_HASH])
{
	if (!wsb_prods_id_ok(id, strlen(id)))
		return -1;
	return wsb_prods_restore(b->prods, id, hash) ? 0 : -1;
}

void wsb_broker_set_epoch(struct wsb_broker *b, const char *epoch)
{
	snprintf(b->epoch, sizeof b->epoch, "%s", epoch);
}

/* A stamped message enters history and the snapshot table. */
void wsb_brk_retain(struct wsb_broker *b, struct wsb_msg *m, const char *type, size_t tlen)
{
	char key[SNAP_KEY_MAX];
	long klen = -1;
	size_t len;
	const char *obj = wsb_msg_json(m, &len);

	wsb_hist_push(&b->hist, m);
	b->st.retained = b->hist.r.n;
	if (!b->snap)
		return;
	if (b->hooks.snapshot_key)
		klen = b->hooks.snapshot_key(b->hooks.ud, obj, len, key, sizeof key);
	wsb_snap_update(b->snap, m, type, tlen, key, klen);
}

/* A stored or streamed message moves its producer's position, if the
 * broker registered that id itself (from the file only it writes, or a
 * claim here): client content never carries these members
 * (wsb_broker_input strips or checks them). In cluster mode this makes a
 * greeting here say what the cluster accepted from a publisher that was
 * connected elsewhere. */
int wsb_brk_position_from(struct wsb_broker *b, const char *obj, size_t len)
{
	char pid[WSB_PRODUCER_ID_MAX + 1];
	uint64_t pseq;
	struct wsb_prod *pr;

	if (!wsb_prods_read(obj, len, pid, &pseq))
		return 0;
	if ((pr = wsb_prods_find(b->prods, pid)) && pseq > pr->last)
		pr->last = pr->durable = pseq;
	return 1;	/* it carries a producer stamp */
}

int wsb_broker_restore(struct wsb_broker *b, const char *line, size_t len, uint64_t seq)
{
	struct wsb_msg *m = wsb_msg_alloc(len);
	struct wsb_env env;
	ssize_t n;

	if (!m)
		return -1;
	n = wsb_env_parse(line, len, wsb_msg_payload(m), NULL, &env, NULL);
	if (n < 0 || !env.has_type) {
		wsb_msg_unref(m);
		return -1;
	}
	wsb_msg_seal(m, (size_t)n);
	m->seq = seq;
	if (seq > b->st.seq)
		b->st.seq = seq;
	b->st.durable_seq = b->st.seq;	/* it came from the journal */
	m->stamped = wsb_brk_position_from(b, wsb_msg_payload(m), (size_t)n);	/* plain readers get it without (msg.h) */
	wsb_brk_retain(b, m, env.type, env.type_len);
	wsb_msg_unref(m);
	return 0;
}

static struct wsb_sess *sess_new(struct wsb_broker *b, void *conn, unsigned flags,
				 struct wsb_err *err)
{
	struct wsb_sess *s = wsb_sessions_add(&b->ss, conn, !!(flags & WSB_SESS_ECHO));

	if (!s) {
		wsb_err_set(err, WSB_EXIT_OSERR, "cannot add session: out of memory");
		return NULL;
	}
	s->stamp = !!(flags & WSB_SESS_STAMP);
	s->read_only = !!(flags & WSB_SESS_READ_ONLY);
	s->num = ++b->id_next;
	snprintf(s->id, sizeof s->id, "%08x-%llu", (unsigned)b->id_prefix,
		 (unsigned long long)s->num);
	b->st.connections++;
	sess_recount(b, s);
	return s;
}

struct wsb_sess *wsb_broker_join(struct wsb_broker *b, void *conn, unsigned flags,
				 struct wsb_err *err)
{
	struct wsb_join j = { .flags = flags };

	return wsb_broker_join_ex(b, conn, &j, err);
}

/* Where a resuming session starts reading history, and the gap records an
 * epoch change calls for (queued after the greeting). */
static void resume_from(struct wsb_broker *b, struct wsb_sess *s, const struct wsb_join *j)
{
	int epoch_changed = j->epoch && strcmp(j->epoch, b->epoch);

	if (epoch_changed) {
		struct wsb_msg *m = wsb_reply_gap_msg(j->since + 1, 0, "epoch", b->epoch);

		if (m)
			wsb_sess_enqueue(&b->ss, s, m, 0);
		wsb_msg_unref(m);
		s->rseq = 1;	/* all of the new epoch is news to it */
	} else if (!j->epoch && !j->since) {
		s->rseq = wsb_hist_oldest(&b->hist, b->st.seq + 1);	/* --from-start */
	} else {
		s->rseq = j->since == UINT64_MAX ? UINT64_MAX : j->since + 1;	/* no wrap to 0 */
	}
	if (s->rseq <= b->st.seq)
		s->replay = 1;	/* take() reports what history cannot cover */
}

/* ?producer=ID: s holds the id (producers.h) or the join fails. A
 * connection that held it before is closed at once: a half-open socket
 * must not keep the real publisher out, and there is one live connection
 * per id. Called before s is known to the transport, so the old session's
 * close goes straight to hooks.close rather than through close_later. */
static int producer_bind(struct wsb_broker *b, struct wsb_sess *s, const struct wsb_join *j,
			 struct wsb_err *err)
{
	struct wsb_claim c;
	struct wsb_sess *old;

	if (wsb_sess_pub_alloc(s, err) < 0 ||
	    wsb_prods_claim(b->prods, j->producer, j->producer_secret, s, &c, err) < 0)
		return -1;
	if (c.changed && b->hooks.producer &&
	    b->hooks.producer(b->hooks.ud, c.prod->id, c.prod->hash, err) < 0) {
		wsb_prods_release(c.prod, s);
		return -1;
	}
	s->prod = c.prod;
	snprintf(s->pub->producer, sizeof s->pub->producer, "%s", c.prod->id);
	memcpy(s->pub->secret, c.issued, sizeof s->pub->secret);
	old = c.replaced;
	if (old && old != s) {
		old->prod = NULL;	/* publishes nothing more (wsb_broker_input) */
		if (!old->closing) {
			old->closing = 1;
			wsb_sess_release(&b->ss, old, 1);
			if (b->hooks.close)
				b->hooks.close(b->hooks.ud, old->conn, WSB_CLOSE_POLICY,
					       "producer taken over by a newer connection");
		}
	}
	return 0;
}

/* The latest message of every matching type/key, oldest first: queued at
 * once when it fits max_queue, otherwise read in pieces by take() as the
 * socket drains (a snapshot bigger than one queue is not a slow consumer). */
static struct wsb_want want_of(const struct wsb_broker *b, const struct wsb_sess *s)
{
	return (struct wsb_want){ &s->subs, &b->symkey, s->stamp, s->filter ? wsb_sess_pass : NULL, (void *)s };
}

/* 1 if it is queued or will be read in pieces; 0 if it cannot be now. */
static int snap_send(struct wsb_broker *b, struct wsb_sess *s)
{
	const struct wsb_snap_ent *e = NULL;
	struct wsb_want w = want_of(b, s);
	struct wsb_msg *m, *f;

	if (!b->snap)
		return 1;
	if (b->cfg.max_queue && s->qbytes + wsb_snap_bytes_for(b->snap, &w) > b->cfg.max_queue) {
		/* Read in pieces, then a resume from here: a session already
		 * reading history cannot start that over. */
		if (s->replay)
			return 0;
		s->snap = 1;
		s->snap_seq = 0;
		s->snap_end = b->st.seq;
		return 1;
	}
	while ((m = wsb_snap_next(b->snap, &w, &e)))
		if ((f = wsb_want_form(&w, m)))
			wsb_sess_enqueue(&b->ss, s, f, 1);
	return 1;
}

struct wsb_sess *wsb_broker_join_ex(struct wsb_broker *b, void *conn, const struct wsb_join *j,
				    struct wsb_err *err)
{
	struct wsb_sess *s;

	wsb_brk_fan_flush(b);	/* a newcomer does not get what was published before it */
	if (!(s = sess_new(b, conn, j->flags, err)))
		return NULL;
	wsb_brk_compress(b, s, j->compress);
	if (j->subscribe_none)
		wsb_subs_none(&s->subs);
	if (wsb_allow_join(s, j->scope, j->types, j->ntypes, j->subscribe_none, err) < 0) {
		wsb_broker_leave(b, s);
		return NULL;
	}
	for (size_t i = 0; i < j->ntypes; i++)
		if (wsb_subs_add(&s->subs, j->types[i], err) < 0) {
			wsb_broker_leave(b, s);
			return NULL;
		}
	sess_recount(b, s);
	if (j->producer && producer_bind(b, s, j, err) < 0) {
		wsb_broker_leave(b, s);
		return NULL;
	}
	wsb_brk_now_ts(b, s->joined);
	greet(b, s);
	if (j->filter && wsb_sess_filter_join(&b->ss, s, j->filter) < 0)
		return s;	/* refused with an error, closed after it */
	if (j->resume)
		resume_from(b, s, j);
	else if (j->snapshot)
		(void)snap_send(b, s);
	return s;
}

int wsb_broker_subscribe(struct wsb_broker *b, struct wsb_sess *s, const char *pattern,
			 struct wsb_err *err)
{
	int r;

	wsb_brk_fan_flush(b);
	r = wsb_subs_add(&s->subs, pattern, err);
	sess_recount(b, s);
	return r;
}

void wsb_broker_leave(struct wsb_broker *b, struct wsb_sess *s)
{
	if (!s)
		return;
	wsb_brk_fan_flush(b);	/* s may be what waits's sender */
	b->st.connections--;
	if (s->counted)
		b->st.subscribers--;
	wsb_prods_release(s->prod, s);
	if (b->last_from == s)
		b->last_from = NULL;
	wsb_sessions_remove(&b->ss, s);
	wsb_brk_check_pressure(b);
}

const char *wsb_broker_client_id(const struct wsb_sess *s)
{
	return s->id;
}

void wsb_broker_sess_info(const struct wsb_sess *s, struct wsb_sess_info *info)
{
	*info = (struct wsb_sess_info){
		.id = s->id,
		.producer = s->pub ? s->pub->producer : "",
		.since = s->joined,
		.queued_bytes = s->qbytes,
		.messages_in = s->n_in,
		.messages_out = s->n_out,
		.all_types = s->subs.pats.all,
		.patterns = (const char *const *)s->subs.pats.v,
		.npatterns = s->subs.pats.n,
	};
}

/* ---- acknowledgements ---- */

void wsb_brk_ack_ready(struct wsb_broker *b, struct wsb_sess *s, uint64_t pseq)
{
	if (s->pub && wsb_acks_ready(&s->pub->acks, pseq) && !s->q.n && !s->closing && b->hooks.wake)
		b->hooks.wake(b->hooks.ud, s->conn);
}

/* An accepted (or duplicate) message at seq from s: ackable now, or once
 * the journal has it. */
static void ack_later(struct wsb_broker *b, struct wsb_sess *s, uint64_t seq, uint64_t pseq)
{
	if (!b->cfg.durable_acks || seq <= b->st.durable_seq)
		wsb_brk_ack_ready(b, s, pseq);
	else if (s->pub)
		wsb_acks_wait(&s->pub->acks, seq, pseq);
}

/* ---- input: publish and control messages (fan-out: broker_fan.c) ---- */

/* Health probes ("$probe.<id>", published by wsbridge-health --roundtrip)
 * reach only sessions that named a "$probe" pattern themselves: never a
 * dashboard subscribed to everything, never history. */
static int is_probe(const struct wsb_env *env)
{
	return env->type_len > 7 && !strncmp(env->type, "$probe.", 7);
}

/* Dedup and the seq space: 1 publish (*pr the producer to advance, or
 * NULL), 0 do not (a duplicate, acknowledged; or refused with a reply). */
static int admit(struct wsb_broker *b, struct wsb_sess *from, const char *p, size_t n, int probe,
		 uint64_t *pseq, struct wsb_prod **pr)
{
	int r = 2;

	*pr = NULL;
	/* Only a connection that holds ?producer=ID (with its secret) is
	 * deduplicated and acknowledged, and only for that id. */
	if (!probe && from && from->prod) {
		const char *code = NULL;
		struct wsb_err err;

		r = wsb_prods_check(from->prod, p, n, pseq, &code, &err);
		if (r < 0)
			wsb_brk_refuse(b, from, code, err.msg, 0);
	}
	if (r == 0) {
		/* A resend after a reconnect: delivered before, so only
		 * acknowledged (once what came before is stored; never after
		 * a refusal, which the ack would cover). */
		b->st.duplicates++;
		if (!from->pub->refused)	/* r is 0 for a producer only */
			ack_later(b, from, b->st.seq, *pseq);
	}
	/* Wrapping would hand out seqs that subscribers and the journal
	 * already hold: refuse instead, and /health says so. */
	if (r > 0 && !probe && b->st.seq == UINT64_MAX) {
		if (from)
			wsb_brk_refuse(b, from, "SEQ_EXHAUSTED", "the server's seq space is exhausted: "
				       "nothing more can be published in this epoch", 0);
		return 0;
	}
	if (r == 1)
		*pr = from->prod;
	return r > 0;
}

void wsb_brk_publish(struct wsb_broker *b, struct wsb_sess *from, struct wsb_msg *m,
		     const struct wsb_env *env, size_t n, size_t cap)
{
	int probe = is_probe(env);
	char ts[WSB_TS_LEN], *p = wsb_msg_payload(m);
	uint64_t pseq = 0;
	struct wsb_prod *pr;
	size_t o;

	if (!admit(b, from, p, n, probe, &pseq, &pr)) {
		wsb_msg_unref(m);
		return;
	}
	if (b->seq.submit && !probe) {
		wsb_brk_submit(b, from, m, env, n, pseq, pr);
		return;
	}
	if (!env->timestamp.len)
		wsb_brk_now_ts(b, ts);
	/* A probe is seen by its prober alone: it takes no seq, so nobody
	 * else's numbering (or a duplicate's ack) waits on it. */
	m->seq = probe ? b->st.seq : ++b->st.seq;
	o = wsb_reply_stamp(p, n, env->timestamp.len ? NULL : ts, m->seq);
	/* Pretty-printed input leaves the buffer much bigger than the compact
	 * message; history may hold it for a long time, so give it back. */
	if (cap - o > 1024) {
		m = wsb_msg_shrink(m, o);
		p = wsb_msg_payload(m);	/* the block may have moved */
	}
	wsb_msg_seal(m, o);
	m->stamped = from && from->prod;	/* its producer/pseq, for ?stamp=1 only */
	b->st.messages_in++;
	if (from)
		from->published++;
	if (pr) {
		pr->last = pseq;
		if (!b->cfg.durable_acks)
			pr->durable = pseq;
		ack_later(b, from, m->seq, pseq);
	}
	if (!probe && b->hooks.journal)
		b->hooks.journal(b->hooks.ud, p, o, m->seq);
	if (!probe)
		wsb_brk_retain(b, m, env->type, env->type_len);
	wsb_brk_fan(b, m, from, env->type, probe);
	wsb_msg_unref(m);
}

/* All or nothing, and one answer: the whole new set ("subscribed") or one
 * error with the set unchanged (subs.h). */
static void control_subscribe(struct wsb_broker *b, struct wsb_sess *s, const char *obj,
			      size_t len, int unsub)
{
	const char *code = NULL;
	struct wsb_err err;
	unsigned what;

	if (wsb_subs_request(&s->subs, obj, len, unsub, &what, &code, &err) < 0) {
		/* The operator sees a scope refusal too (hooks.refused), without
		 * the request: its content is the client's business. Not a
		 * publish: the connection publishes on (broker_refuse.c). */
		wsb_brk_reply_error(b, s, code, err.msg);
		if (!strcmp(code, "FORBIDDEN") && b->hooks.refused)
			b->hooks.refused(b->hooks.ud, s->id, code, err.msg);
		return;
	}
	sess_recount(b, s);
	if (!s->closing)
		reply(b, s, wsb_subs_reply(&s->subs, what));
}

static void control_ping(struct wsb_broker *b, struct wsb_sess *s, const char *obj,
			 const struct wsb_env *env)
{
	char ts[WSB_TS_LEN];

	if (s->closing)
		return;
	wsb_brk_now_ts(b, ts);
	reply(b, s, wsb_reply_pong(ts, obj + env->data.off, env->data.len));
}

/* By length too: a decoded type may hold "\u0000" ("ping\u0000x" is not ping). */
static int type_is(const struct wsb_env *env, const char *name)
{
	size_t n = strlen(name);

	return env->type_len == n && !memcmp(env->type, name, n);
}

/* The old dashboards' way to ask for the current state (get_state,
 * request_snapshot) and the operator's --request-type names: answered, never
 * published, so one dashboard's request does not reach every other one. */
static int is_request(const struct wsb_broker *b, const struct wsb_env *env)
{
	if (type_is(env, "get_state") || type_is(env, "request_snapshot"))
		return 1;
	for (size_t i = 0; i < b->cfg.nrequest_types; i++)
		if (type_is(env, b->cfg.request_types[i]))
			return 1;
	return 0;
}

/* Answered by the broker, never published. */
static int is_control(const struct wsb_broker *b, const struct wsb_env *env)
{
	return type_is(env, "ping") || type_is(env, "heartbeat") || type_is(env, "subscribe") ||
	       type_is(env, "unsubscribe") || is_request(b, env);
}

/* The answer is what ?snapshot=1 gives at join: the latest message of each
 * type (and key) the session subscribes to, in its own queue. */
static void control_request(struct wsb_broker *b, struct wsb_sess *s)
{
	if (s->closing)
		return;
	if (!b->snap)
		wsb_brk_reply_error(b, s, "NO_SNAPSHOT", "this broker keeps no snapshot (--snapshot-bytes 0)");
	else if (!s->snap && !snap_send(b, s))
		wsb_brk_reply_error(b, s, "BUSY", "still catching up on history: ask again once caught up");
}

/* 1 if m went on to publish (which owns it now), 0 if it was a control
 * message or refused with an error reply. */
static int dispatch(struct wsb_broker *b, struct wsb_sess *s, struct wsb_msg *m, ssize_t r,
		    const struct wsb_env *env, struct wsb_err *err, size_t cap)
{
	const char *p = wsb_msg_payload(m);
	int control = r >= 0 && env->has_type && is_control(b, env);
	struct wsb_span v;

	if (r < 0 || !env->has_type || control)
		wsb_brk_fan_flush(b);	/* not a publish: what waits goes first */
	/* What cannot be read might have been a publish: refused as one; so
	 * is a producer's control message that carries a pseq, which its
	 * next ack would otherwise cover (broker_refuse.c). */
	if (r == -WSB_ENV_INVALID_JSON)
		wsb_brk_refuse(b, s, "INVALID_JSON", err->msg, 0);
	else if (r < 0)
		wsb_brk_refuse(b, s, "INVALID_MESSAGE", err->msg, 0);	/* not an object, repeated "type"... */
	else if (!env->has_type)
		wsb_brk_refuse(b, s, "INVALID_MESSAGE",
			       env->type_v.len && p[env->type_v.off] == '"'
				       ? "message \"type\" must be 1 to 128 bytes"
				       : "message has no string \"type\"", 0);
	else if (control && s->prod && wsb_env_lookup(p, (size_t)r, "pseq", &v))
		wsb_brk_refuse(b, s, "INVALID_MESSAGE", "a control message (ping, subscribe, a request) is "
			       "answered, never published: with a pseq no ack could say what became of it", 0);
	else if (type_is(env, "ping") || type_is(env, "heartbeat"))
		control_ping(b, s, p, env);
	else if (is_request(b, env))
		control_request(b, s);
	else if (type_is(env, "subscribe") || type_is(env, "unsubscribe"))
		control_subscribe(b, s, p, (size_t)r, env->type[0] == 'u');
	else if (wsb_brk_refused_before(b, s))
		;
	else if (!is_probe(env) && !wsb_env_type_ok(env->type, env->type_len, err))
		wsb_brk_refuse(b, s, "INVALID_MESSAGE", err->msg, 0);
	else if (!wsb_brk_may_publish(b, s, env->type))
		;
	else
		return wsb_brk_publish(b, s, m, env, (size_t)r, cap), 1;
	return 0;
}

void wsb_broker_input(struct wsb_broker *b, struct wsb_sess *s, const char *msg, size_t len)
{
	wsb_brk_fan_flush(b);
	wsb_brk_input(b, s, msg, len);
}

void wsb_brk_input(struct wsb_broker *b, struct wsb_sess *s, const char *msg, size_t len)
{
	/* seq, producer and pseq are the broker's stamp: a plain connection's
	 * are removed, so neither a subscriber nor journal recovery can take
	 * them for the broker's; a producer's are checked in publish. */
	static const char *const drop_plain[] = { "seq", "producer", "pseq", NULL };
	static const char *const drop_prod[] = { "seq", NULL };
	struct wsb_env env;
	struct wsb_err err;
	size_t cap = len + WSB_STAMP_MAX;
	struct wsb_msg *m;
	ssize_t r;

	s->n_in++;
	/* Taken over by a newer connection of its producer: whatever it still
	 * sends is not that producer's any more. */
	if (s->pub && !s->prod)
		return;
	if (cap < len || !(m = wsb_msg_alloc(cap))) {
		/* Lost here, so no later ack of a producer's may cover it. */
		wsb_brk_refuse(b, s, "INTERNAL_ERROR", "out of memory: not published, send it again", 0);
		return;
	}
	wsb_err_clear(&err);
	r = wsb_env_parse(msg, len, wsb_msg_payload(m), s->prod ? drop_prod : drop_plain, &env, &err);
	if (!dispatch(b, s, m, r, &env, &err, cap))
		wsb_msg_unref(m);
	wsb_sessions_flush(&b->ss);
	wsb_brk_check_pressure(b);
}

/* ---- delivery ---- */

/* The session's own queue first, then a snapshot in pieces, then history. */
static void fill(struct wsb_broker *b, struct wsb_sess *s, struct wsb_out *o)
{
	struct wsb_want w = want_of(b, s);

	wsb_sess_fill(&b->ss, s, o);
	if (s->snap && !s->q.n &&
	    !wsb_snap_read(b->snap, &w, &s->snap_seq, s->snap_end, o, &b->ss.messages_out)) {
		/* Once the snapshot is out, a resume from the seq it joined at. */
		s->snap = 0;
		s->rseq = s->snap_end + 1;
		s->replay = s->rseq <= b->st.seq;
	}
	if (s->replay && !s->q.n && !s->snap) {
		struct wsb_hist_view v = { b->cfg.durable_acks ? b->st.durable_seq : UINT64_MAX,
					   b->st.seq + 1, b->epoch, 0 };

		s->replay = wsb_hist_read(&b->hist, &v, &w, &s->rseq, o);
		b->ss.messages_out += v.frames;
	}
}

size_t wsb_broker_take(struct wsb_broker *b, struct wsb_sess *s, unsigned char *out,
		       size_t soft, size_t hard)
{
	struct wsb_out o = { out, 0, soft > hard ? hard : soft, hard, s->compress ? b->zd : NULL };

	uint64_t out_before;

	wsb_brk_fan_flush(b);
	if (s->closing)
		return 0;	/* out is only known to hold hard bytes: soft <= hard */
	if (wsb_sess_ack_due(s) && wsb_reply_ack(&o, s->pub->acks.due))
		s->pub->acks.sent = s->pub->acks.due;
	out_before = b->ss.messages_out;
	fill(b, s, &o);
	s->n_out += b->ss.messages_out - out_before;	/* GET /clients */
	wsb_sess_close_after(&b->ss, s);
	if (s->stall.state == WSB_STALL_ON)
		wsb_sess_stall_check(&b->ss, s);
	wsb_brk_check_pressure(b);
	return o.total;
}

void wsb_broker_tick(struct wsb_broker *b)
{
	wsb_brk_fan_flush(b);
	wsb_sessions_tick(&b->ss);
	wsb_brk_check_pressure(b);
}

int wsb_broker_pending(const struct wsb_sess *s)
{
	if (s->closing)
		return 0;
	if (!s->q.n && (wsb_sess_ack_due(s) || s->replay || s->snap || s->close_after))
		return 1;
	return s->q.n > (size_t)INT32_MAX ? INT32_MAX : (int)s->q.n;
}

/* Replies do not grow with the inbound message, so they have their own
 * bound (WSB_REPLY_MAX): a "subscribed" reply always fits the transport's
 * buffer even when max_message is tiny. */
size_t wsb_broker_frame_max(size_t max_message)
{
	size_t n = max_message + WSB_STAMP_MAX;

	if (n < max_message)
		return SIZE_MAX;
	if (n < WSB_REPLY_MAX)
		n = WSB_REPLY_MAX;
	return n + WSB_FRAME_HDR_MAX;
}

void wsb_broker_stats(const struct wsb_broker *b, struct wsb_broker_stats *st)
{
	struct wsb_snap_stats ss = { 0 };

	*st = b->st;
	st->queued_bytes = b->ss.queued_bytes + b->pq_bytes;
	st->dropped = b->ss.dropped;
	st->slow_consumers_closed = b->ss.slow_closed;
	st->slow_unsubscribed = b->ss.slow_unsubscribed;
	st->messages_out = b->ss.messages_out;
	if (b->snap)
		wsb_snap_stats(b->snap, &ss);
	st->snapshot_bytes = ss.bytes;
	st->snapshot_entries = ss.entries;
	st->snapshot_evicted = ss.evicted;
	st->memory_bytes = memory_used(b);
	st->seq_exhausted = b->st.seq == UINT64_MAX;
}

void wsb_broker_transport_bytes(struct wsb_broker *b, size_t bytes)
{
	b->transport_bytes = bytes;
	wsb_brk_check_pressure(b);
}

#include "sessions.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define TRIM_TICKS 10	/* empty queues are freed every 10th tick (about 1 s) */
#define PREFETCH 8	/* sessions ahead: fan-out's walk (see there) */

static void filter_close(struct wsb_sessions *set, struct wsb_sess *s);

static void close_later(struct wsb_sessions *set, struct wsb_sess *s, int code, const char *reason)
{
	s->close_code = code;
	s->close_reason = reason;
	s->close_pending = 1;
	s->close_next = NULL;
	if (set->close_tail)
		set->close_tail->close_next = s;
	else
		set->close_head = s;
	set->close_tail = s;
}

static void close_unlink(struct wsb_sessions *set, struct wsb_sess *s)
{
	struct wsb_sess **pp, *prev = NULL;

	for (pp = &set->close_head; *pp; prev = *pp, pp = &(*pp)->close_next) {
		if (*pp == s) {
			*pp = s->close_next;
			if (set->close_tail == s)
				set->close_tail = prev;
			break;
		}
	}
	s->close_pending = 0;
}

static void filters_over(struct wsb_sessions *set);

void wsb_sessions_flush(struct wsb_sessions *set)
{
	struct wsb_sess *s;

	filters_over(set);
	while ((s = set->close_head)) {
		set->close_head = s->close_next;
		if (!set->close_head)
			set->close_tail = NULL;
		s->close_pending = 0;
		if (set->close)
			set->close(set->ud, s->conn, s->close_code, s->close_reason);
	}
}

/* Keeps the counts of stalling and spent sessions in step. */
static void stall_count(struct wsb_sessions *set, int from, int to)
{
	set->stalling += (to == WSB_STALL_ON) - (from == WSB_STALL_ON);
	set->stall_spent += (to == WSB_STALL_SPENT) - (from == WSB_STALL_SPENT);
}

static void stall_off(struct wsb_sessions *set, struct wsb_sess *s)
{
	int from = s->stall.state;

	wsb_stall_end(&s->stall, from == WSB_STALL_ON ? set->mono_ms() : 0);
	stall_count(set, from, WSB_STALL_NONE);
}

/* A spent budget stays spent until its window ends (wsb_sessions_tick),
 * whatever the backlog does meanwhile. */
void wsb_sess_stall_check(struct wsb_sessions *set, struct wsb_sess *s)
{
	size_t q = set->max_queue;

	if (!q || !set->stall_cfg.max_ms)
		return;
	if (s->stall.state == WSB_STALL_NONE && s->qbytes > q / 4 * 3)
		stall_count(set, WSB_STALL_NONE,
			    wsb_stall_begin(&s->stall, &set->stall_cfg, set->mono_ms()));
	else if (s->stall.state == WSB_STALL_ON && s->qbytes < q / 2)
		stall_off(set, s);
}

static struct wsb_msg *q_head(const struct wsb_sess *s)
{
	return *(struct wsb_msg **)wsb_ring_at(&s->q, 0);
}

static struct wsb_msg *q_pop(struct wsb_sessions *set, struct wsb_sess *s)
{
	struct wsb_msg *m = q_head(s);

	wsb_ring_pop(&s->q);
	s->qbytes -= m->len;
	if (--m->qrefs == 0)
		set->queued_bytes -= m->len;
	return m;
}

static void q_release(struct wsb_sessions *set, struct wsb_sess *s, int count)
{
	while (s->q.n) {
		wsb_msg_unref(q_pop(set, s));
		if (count)
			set->dropped++;
	}
}

void wsb_sess_release(struct wsb_sessions *set, struct wsb_sess *s, int count)
{
	stall_off(set, s);
	q_release(set, s, count);
}

/* A slow session that publishes keeps its connection and loses only what
 * it was sent: told once it reads (if ever), its publishing goes on. */
static void sess_unsubscribe(struct wsb_sessions *set, struct wsb_sess *s)
{
	wsb_sess_release(set, s, 1);
	set->dropped++;		/* the message that did not fit */
	set->slow_unsubscribed++;
	wsb_subs_none(&s->subs);
	wsb_sess_subs_changed(set, s);
	if (set->unsubscribed)
		set->unsubscribed(set->owner, s, "SLOW_CONSUMER", "too slow to receive: what was waiting for "
				  "this connection was dropped and it is unsubscribed from everything; what it "
				  "publishes is still accepted; subscribe again to receive");
}

static void sess_drop(struct wsb_sessions *set, struct wsb_sess *s, int code, const char *reason)
{
	if (code == WSB_CLOSE_SLOW && s->published && wsb_subs_active(&s->subs)) {
		sess_unsubscribe(set, s);
		return;
	}
	s->closing = 1;
	wsb_sess_release(set, s, 1);
	set->dropped++;		/* the message that did not fit */
	if (code == WSB_CLOSE_SLOW)
		set->slow_closed++;
	close_later(set, s, code, reason);
}

void wsb_sess_enqueue(struct wsb_sessions *set, struct wsb_sess *s, struct wsb_msg *m, int limit)
{
	struct wsb_msg **slot;
	size_t q = set->max_queue;

	if (s->closing)
		return;
	/* A committed journal batch arrives all at once; it may overrun the cap
	 * by the quarter that publishers were allowed to get ahead. */
	if (limit && q && s->qbytes + m->len > q + (set->releasing ? q / 4 : 0)) {
		sess_drop(set, s, WSB_CLOSE_SLOW, "slow consumer");
		return;
	}
	slot = wsb_ring_push(&s->q);
	if (!slot) {
		sess_drop(set, s, WSB_CLOSE_INTERNAL, "out of memory");
		return;
	}
	*slot = m;
	s->qbytes += m->len;
	m->refs++;
	if (m->qrefs++ == 0)
		set->queued_bytes += m->len;
	if (s->q.n == 1 && set->wake)
		set->wake(set->ud, s->conn);
	if (s->stall.state == WSB_STALL_NONE)
		wsb_sess_stall_check(set, s);
}

void wsb_sess_fill(struct wsb_sessions *set, struct wsb_sess *s, struct wsb_out *o)
{
	while (s->q.n) {
		struct wsb_msg *m = q_head(s);

		if (o->total == 0 && m->len > o->hard) {
			/* Cannot happen when hard >= wsb_broker_frame_max():
			 * dropping keeps the session alive rather than stuck. */
			wsb_msg_unref(q_pop(set, s));
			set->dropped++;
			continue;
		}
		if (!wsb_out_put(o, m))
			break;
		set->messages_out++;
		wsb_msg_unref(q_pop(set, s));
		if (o->total >= o->soft)
			break;
	}
	/* The first take (n_out is counted after it) is the greeting's:
	 * giving its slots back at once leaves no hole in the heap for a
	 * connection that stays idle (trim() would free them later, when
	 * newer connections have been allocated around them). */
	if (!s->q.n && !s->n_out && s->q.cap)
		wsb_ring_free(&s->q);
}

/* Fan-out's scratch grows with the set, so fan-out never allocates. */
static int grow(struct wsb_sessions *set)
{
	size_t cap = set->cap ? set->cap * 2 : 16;
	void **const p[] = { (void **)&set->v, (void **)&set->fs, (void **)&set->fv, (void **)&set->fr };
	const size_t elem[] = { sizeof *set->v, sizeof *set->fs, sizeof *set->fv, sizeof *set->fr };

	if (wsb_grow_each(p, elem, 4, cap))
		return -1;
	set->cap = cap;
	return 0;
}

struct wsb_sess *wsb_sessions_add(struct wsb_sessions *set, void *conn, int echo)
{
	struct wsb_sess *s;

	if (set->n == set->cap && grow(set))
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	wsb_ring_init(&s->q, sizeof(struct wsb_msg *));	/* its slots come with the first message */
	s->conn = conn;
	s->set = set;
	s->echo = echo;
	wsb_subs_init(&s->subs);
	s->idx = set->n;
	set->v[set->n++] = s;
	wsb_sess_subs_changed(set, s);
	return s;
}

int wsb_sess_pub_alloc(struct wsb_sess *s, struct wsb_err *err)
{
	if (s->pub)
		return 0;
	s->pub = calloc(1, sizeof *s->pub);
	if (!s->pub)
		return wsb_err_set(err, WSB_EXIT_OSERR, "cannot add session: out of memory");
	wsb_acks_init(&s->pub->acks);
	return 0;
}

/* A failure leaves the index unusable, and fan-out then asks every
 * session (typeidx.h): nothing is lost for it, only time. */
void wsb_sess_subs_changed(struct wsb_sessions *set, struct wsb_sess *s)
{
	set->subs_gen++;
	(void)wsb_typeidx_set(&set->ix, &s->ix, s, &s->subs.pats);
}

static void sess_free(struct wsb_sessions *set, struct wsb_sess *s)
{
	filter_close(set, s);
	wsb_typeidx_forget(&set->ix, &s->ix);
	q_release(set, s, 0);
	wsb_ring_free(&s->q);
	if (s->pub)
		wsb_acks_free(&s->pub->acks);
	free(s->pub);
	wsb_subs_free(&s->subs);
	free(s);
}

void wsb_sessions_remove(struct wsb_sessions *set, struct wsb_sess *s)
{
	struct wsb_sess *last;

	if (s->close_pending)
		close_unlink(set, s);
	if (s->filter_over == 1)
		set->filters_over--;
	stall_off(set, s);
	last = set->v[--set->n];
	set->v[s->idx] = last;
	last->idx = s->idx;
	sess_free(set, s);
}

void wsb_sessions_free(struct wsb_sessions *set)
{
	for (size_t i = 0; i < set->n; i++)
		sess_free(set, set->v[i]);
	wsb_typeidx_free(&set->ix);
	free(set->v);
	free(set->fs);
	free(set->fv);
	free(set->fr);
}

static void filter_over(struct wsb_sessions *set, struct wsb_sess *s)
{
	if (!s->filter_over) {
		s->filter_over = 1;
		set->filters_over++;
	}
}

/* s receives nothing more: no subscription, no filter, no reading;
 * unsubscribed() says why (an error reply), and wsb_sess_close_after
 * closes it with 1008 and reason once that is out. */
static void sess_end(struct wsb_sessions *set, struct wsb_sess *s, const char *code, const char *text,
		     const char *reason)
{
	wsb_subs_none(&s->subs);
	wsb_sess_subs_changed(set, s);
	s->replay = s->snap = 0;
	filter_close(set, s);
	s->close_after = reason;
	if (set->unsubscribed)
		set->unsubscribed(set->owner, s, code, text);
}

int wsb_sess_filter_join(struct wsb_sessions *set, struct wsb_sess *s, const char *text)
{
	struct wsb_err err = { 0 };
	int jq;

	if (set->filter_open && (s->filter = set->filter_open(set->ud, text, &err))) {
		set->nfiltered++;
		return 0;
	}
	if (!set->filter_open)
		wsb_err_set(&err, WSB_EXIT_UNAVAILABLE, "this server has no filters");
	jq = err.code == WSB_EXIT_USAGE;	/* jq's own message: the program is wrong */
	sess_end(set, s, jq ? "INVALID_FILTER" : "FILTER_UNAVAILABLE", err.msg,
		     jq ? "invalid filter" : "filters unavailable");
	return -1;
}

static void filter_close(struct wsb_sessions *set, struct wsb_sess *s)
{
	if (s->filter && set->filter_close)
		set->filter_close(set->ud, s->filter);
	if (s->filter)
		set->nfiltered--;
	s->filter = NULL;
}

void wsb_sess_close_after(struct wsb_sessions *set, struct wsb_sess *s)
{
	filters_over(set);
	if (!s->close_after || s->q.n || s->closing)
		return;
	s->closing = 1;
	if (set->close)
		set->close(set->ud, s->conn, WSB_CLOSE_POLICY, s->close_after);
}

static void filters_over(struct wsb_sessions *set)
{
	if (!set->filters_over)
		return;
	set->filters_over = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct wsb_sess *s = set->v[i];

		if (s->filter_over != 1)
			continue;
		s->filter_over = 2;
		sess_end(set, s, "FILTER_DROPPED",
			     "the filter went over its time or memory budget on a message and was dropped",
			     "filter dropped");
	}
}

int wsb_sess_pass(void *ud, const struct wsb_msg *m)
{
	struct wsb_sess *s = ud;
	struct wsb_sessions *set = s->set;
	signed char r = 0;
	size_t len;
	const char *json;

	if (!s->filter)
		return 1;
	if (s->filter_over || !set->filter_eval)
		return 0;
	json = wsb_msg_json(m, &len);
	set->filter_eval(set->ud, json, len, &s->filter, 1, &r);
	if (r < 0)
		filter_over(set, s);
	return r > 0;
}

/* m in the form s reads (with or without the producer stamp). */
static void enqueue_form(struct wsb_sessions *set, struct wsb_sess *s, struct wsb_msg *m)
{
	struct wsb_msg *f = wsb_msg_form(m, s->stamp);

	if (!f)
		sess_drop(set, s, WSB_CLOSE_INTERNAL, "out of memory");
	else
		wsb_sess_enqueue(set, s, f, 1);
}

/* The filtered sessions fan-out collected: one call for all of them. */
static void fanout_filtered(struct wsb_sessions *set, struct wsb_msg *m, size_t n)
{
	size_t len;
	const char *json = wsb_msg_json(m, &len);

	memset(set->fr, 0, n);
	if (set->filter_eval)
		set->filter_eval(set->ud, json, len, set->fv, n, set->fr);
	for (size_t i = 0; i < n; i++) {
		if (set->fr[i] > 0 && !set->fs[i]->closing)
			enqueue_form(set, set->fs[i], m);
		else if (set->fr[i] < 0)
			filter_over(set, set->fs[i]);
	}
}

/* The session's lines far ahead, its queue's next slot (found from the
 * first) nearer. */
static void prefetch(void *const *who, size_t i, size_t n)
{
	if (i + 2 * PREFETCH < n) {
		const struct wsb_sess *s = who[i + 2 * PREFETCH];

		__builtin_prefetch(&s->conn);
		__builtin_prefetch(&s->q);
		__builtin_prefetch(&s->stall);
	}
	if (i + PREFETCH < n) {
		const struct wsb_sess *s = who[i + PREFETCH];
		void *slot = wsb_ring_next(&s->q);

		if (slot)
			__builtin_prefetch(slot, 1);
	}
}

/* One session the type reached: the rest of what decides (sender, symbol,
 * catching up, filter) and the queue. */
static void consider(struct wsb_sessions *set, struct wsb_sess *s, struct wsb_msg *m,
		     const struct wsb_sess *from, struct wsb_symcache *c, size_t *nf)
{
	if (s->closing || (s == from && !s->echo) || !wsb_subs_wants_symbol(&s->subs, c))
		return;
	/* Catching up from history (or a snapshot, then history): it will
	 * read this one there. */
	if (s->replay || s->snap) {
		if (set->wake)
			set->wake(set->ud, s->conn);
		return;
	}
	if (s->filter) {
		if (!s->filter_over) {
			set->fs[*nf] = s;
			set->fv[(*nf)++] = s->filter;
		}
		return;
	}
	enqueue_form(set, s, m);
}

/* The index names the sessions whose patterns match; only when it is
 * unusable (typeidx.h) is every session asked. The fields consider()
 * reads sit on several cache lines of a session, so they are fetched a
 * few sessions ahead: with thousands of sessions that wait is most of
 * the walk. */
void wsb_sessions_fanout(struct wsb_sessions *set, struct wsb_msg *m,
			 const struct wsb_sess *from, const char *type, int probe)
{
	struct wsb_symcache c;
	size_t len, nf = 0, n;
	const char *obj = wsb_msg_json(m, &len);
	void *const *who;
	struct wsb_symcache *cp = &c;

	wsb_symcache_init(&c, set->symkey, obj, len);
	if (probe)
		cp = NULL;	/* subs.h: a probe is not about symbols */
	n = wsb_typeidx_find(&set->ix, type, probe, &who);
	if (n == SIZE_MAX) {
		for (size_t i = 0; i < set->n; i++)
			if (wsb_subs_type_wanted(&set->v[i]->subs, type, probe))
				consider(set, set->v[i], m, from, cp, &nf);
	} else {
		for (size_t i = 0; i < n; i++) {
			prefetch(who, i, n);
			consider(set, who[i], m, from, cp, &nf);
		}
	}
	if (nf)
		fanout_filtered(set, m, nf);
}

/* One reached session, all k in order. What one message does to it can
 * change what it wants (a slow publisher unsubscribed, a session ended):
 * one by one, the next message would not have reached it, so it gets no
 * more of the batch. */
static void take_all(struct wsb_sessions *set, struct wsb_sess *s, struct wsb_msg *const *m, size_t k,
		     const struct wsb_sess *from, struct wsb_symcache *c, const char *type)
{
	uint64_t gen = set->subs_gen;
	size_t nf = 0;

	for (size_t j = 0; j < k; j++) {
		if (set->subs_gen != gen && !wsb_subs_type_wanted(&s->subs, type, 0))
			return;
		consider(set, s, m[j], from, &c[j], &nf);	/* nf stays 0: no filters here */
	}
}

/* Each reached session takes all k at once: its lines are fetched once
 * for the batch rather than once per message, which with thousands of
 * sessions was the walk's cost. Each session still gets what it would
 * have got one by one, in order. With filtered sessions about, one by
 * one: their filters run once per message for all of them together, and
 * a filter that dies on one message must not have been asked about the
 * next for some sessions already. */
void wsb_sessions_fanout_many(struct wsb_sessions *set, struct wsb_msg *const *m, size_t k,
			      const struct wsb_sess *from, const char *type)
{
	struct wsb_symcache c[WSB_FANOUT_BATCH];
	void *const *who;
	size_t n;

	if (k == 1 || k > WSB_FANOUT_BATCH || set->nfiltered) {
		for (size_t j = 0; j < k; j++)
			wsb_sessions_fanout(set, m[j], from, type, 0);
		return;
	}
	for (size_t j = 0, len; j < k; j++) {
		const char *obj = wsb_msg_json(m[j], &len);

		wsb_symcache_init(&c[j], set->symkey, obj, len);
	}
	n = wsb_typeidx_find(&set->ix, type, 0, &who);
	if (n == SIZE_MAX) {
		for (size_t i = 0; i < set->n; i++)
			if (wsb_subs_type_wanted(&set->v[i]->subs, type, 0))
				take_all(set, set->v[i], m, k, from, c, type);
	} else {
		for (size_t i = 0; i < n; i++) {
			prefetch(who, i, n);
			take_all(set, who[i], m, k, from, c, type);
		}
	}
}

/* An idle connection should not keep a queue's slots (264 B each with
 * thousands of them): a queue found empty gives them back, and the next
 * message allocates them again. Done here, not when fill() empties it,
 * so a subscriber that keeps up does not pay a malloc per message. */
static void trim(struct wsb_sessions *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct wsb_sess *s = set->v[i];

		if (!s->q.n && s->q.cap)
			wsb_ring_free(&s->q);
	}
}

void wsb_sessions_tick(struct wsb_sessions *set)
{
	uint64_t now;

	if (++set->ticks % TRIM_TICKS == 0)
		trim(set);
	if (!set->stalling && !set->stall_spent)
		return;
	now = set->mono_ms();
	for (size_t i = 0; i < set->n; i++) {
		struct wsb_sess *s = set->v[i];
		int from = s->stall.state;

		if (from == WSB_STALL_NONE || !wsb_stall_tick(&s->stall, &set->stall_cfg, now))
			continue;
		stall_count(set, from, s->stall.state);
		wsb_sess_stall_check(set, s);	/* a new window: it may pause again */
	}
}

void wsb_sessions_broadcast(struct wsb_sessions *set, struct wsb_msg *m)
{
	for (size_t i = 0; i < set->n; i++) {
		struct wsb_sess *s = set->v[i];

		if (wsb_subs_active(&s->subs) && !s->replay && !s->snap)
			wsb_sess_enqueue(set, s, m, 0);
	}
}

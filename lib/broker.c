#include "broker.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "envelope.h"
#include "frame.h"
#include "match.h"
#include "producers.h"
#include "snapshot.h"
#include "stall.h"

/* Room the stamping may add to a compact message: the closing '}' is
 * rewritten as `,"timestamp":"2026-11-22T03:11:40.123Z"` (39 bytes; at most
 * 46 should a clock report a year past 9999, WSB_TS_LEN bounds it) plus
 * `,"seq":18446744073709551615}` (28 bytes). 80 covers both with slack and is
 * what wsb_broker_frame_max() promises the transport. A pong adds at most 69
 * bytes to the data it echoes, so it fits the same bound. */
#define STAMP_MAX 80

/* Replies (greeting, errors, subscribed) do not grow with the inbound
 * message, so they get their own bound; the subscription set is refused
 * beyond it so that a "subscribed" reply always fits the transport's buffer
 * even when max_message is tiny. */
#define REPLY_MAX 8192
#define GREETING_MAX 2048	/* escaped greeting, leaves room for the rest */

#define QUEUE_MIN 16
#define WSB_EPOCH_HEX 16
#define REPLAY_SCAN 4096	/* history entries looked at per take() */

/* A subscriber whose backlog passes 3/4 of max_queue pauses the publishers
 * (NATS does the same) so a consumer that is merely slower than a burst
 * catches up instead of being closed; lib/stall.h keeps its budget, so one
 * that is steadily slower stops holding anyone back and meets the 4008 cap. */

struct msg {
	size_t refs;		/* queues + history + the builder while building */
	size_t qrefs;		/* session queues holding it: queued_bytes counts it once */
	uint64_t seq;		/* 0 for replies */
	size_t off;		/* frame start in buf */
	size_t len;		/* frame bytes (header + payload) */
	unsigned char buf[];	/* WSB_FRAME_HDR_MAX reserved, then the payload */
};

#define SNAP_KEY_MAX 256	/* --snapshot-key values longer count per type only */

struct pend {
	uint64_t seq, pseq;
};

struct pending {
	struct msg *m;
	uint64_t from;			/* publishing session's num: echo rules */
	char type[WSB_TYPE_MAX + 1];
};

struct wsb_sess {
	void *conn;
	unsigned flags;
	int closing;		/* slow consumer or ENOMEM: never queued to again */
	struct wsb_stall stall;	/* is this backlog holding publishers back? */
	int counted;		/* counted in stats.subscribers */
	size_t idx;		/* in b->sess */
	struct msg **q;		/* ring, qcap is a power of two */
	size_t qcap, qhead, qn, qbytes;
	struct wsb_patterns pats;
	size_t pat_bytes;	/* escaped patterns + commas: size of the subscribed list */
	/* Close requests are made after the broker is done with its own state,
	 * so a transport that calls wsb_broker_leave from inside hooks.close
	 * cannot free a session the broker is still iterating over. */
	struct wsb_sess *close_next;
	int close_pending;
	int close_code;
	const char *close_reason;
	char id[32];
	uint64_t num;			/* unique per broker */
	/* acknowledged publishing */
	char producer[WSB_PRODUCER_MAX + 1];
	struct wsb_prod *prod;		/* held while the session lives (producers.h) */
	char secret[WSB_SECRET_HEX + 1];	/* issued at join, for the greeting only */
	uint64_t ack_due, ack_sent;	/* highest pseq ackable / acked */
	struct pend *pend;		/* (seq, pseq) waiting to be durable */
	size_t pcap, phead, pn;
	/* resume: reading history from seq rseq instead of a live queue */
	int replay;
	uint64_t rseq;
	/* ?snapshot=1 bigger than max_queue: sent in pieces as the socket
	 * drains, entries with seq in (snap_seq, snap_end]; then history. */
	int snap;
	uint64_t snap_seq, snap_end;
	/* for GET /clients (wsb_broker_sess_info) */
	uint64_t n_in, n_out;
	char joined[WSB_TS_LEN];
};

struct wsb_broker {
	struct wsb_broker_cfg cfg;
	struct wsb_broker_hooks hooks;
	char *greeting;		/* escaped, with quotes */
	size_t greeting_len;
	uint32_t id_prefix;
	uint64_t id_next;
	struct wsb_sess **sess;	/* an array: fan-out walks it linearly */
	size_t nsess, sess_cap;
	struct wsb_sess *close_head, *close_tail;
	int pressure;		/* what hooks.pressure last said */
	int mem_pressure;	/* queued_bytes passed max_memory (with hysteresis) */
	size_t stalling;	/* sessions in WSB_STALL_ON */
	size_t stall_spent;	/* sessions in WSB_STALL_SPENT: tick ends their window */
	struct wsb_stall_cfg stall_cfg;
	struct wsb_snap *snap;		/* latest per type/key (snapshot.h) */
	size_t transport_bytes;		/* held by the transport: unfinished messages */
	struct wsb_prods *prods;	/* producer ids, secrets and positions */
	struct pending *pq;		/* published, waiting for the journal */
	size_t pq_cap, pq_head, pq_n, pq_bytes;
	int releasing;			/* fanning out a committed batch */
	char epoch[WSB_EPOCH_HEX + 1];
	struct msg **hist;	/* ring of cfg.history entries */
	size_t hhead, hn, hbytes;
	struct wsb_broker_stats st;
};

static int msg_producer(const char *obj, size_t len, char id[WSB_PRODUCER_MAX + 1], uint64_t *pseq);
static void hist_push(struct wsb_broker *b, struct msg *m);
static int msg_matches(const struct msg *m, const struct wsb_sess *s);
static void snap_update(struct wsb_broker *b, struct msg *m, const char *type, size_t tlen,
			const char *obj, size_t len);
static void snap_send(struct wsb_broker *b, struct wsb_sess *s);
static size_t snap_fill(struct wsb_broker *b, struct wsb_sess *s, unsigned char *out, size_t total,
			size_t soft, size_t hard);
static void snap_free(struct wsb_broker *b);
static void pend_release(struct wsb_broker *b, uint64_t seq);
static struct msg *hist_at(const struct wsb_broker *b, size_t i);
static size_t gap_frame(const struct wsb_broker *b, unsigned char *out, size_t room, uint64_t from,
			uint64_t to, const char *reason);

static void now_ts(const struct wsb_broker *b, char out[WSB_TS_LEN])
{
	struct timespec ts;

	if (b->cfg.now)
		b->cfg.now(&ts);
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	wsb_env_timestamp(out, &ts);
}

/* A frame handed to the transport: counted for /health and per session. */
static void count_out(struct wsb_broker *b, struct wsb_sess *s)
{
	b->st.messages_out++;
	s->n_out++;
}

static size_t put_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static size_t put(char *out, const char *s, size_t n)
{
	memcpy(out, s, n);
	return n;
}

#define PUTS(out, lit) put((out), (lit), sizeof(lit) - 1)

/* ---- messages ---- */

static struct msg *msg_alloc(size_t payload_cap)
{
	struct msg *m = malloc(sizeof *m + WSB_FRAME_HDR_MAX + payload_cap);

	if (!m)
		return NULL;
	m->refs = 1;
	m->qrefs = 0;
	m->seq = 0;
	m->off = m->len = 0;
	return m;
}

static char *msg_payload(struct msg *m)
{
	return (char *)m->buf + WSB_FRAME_HDR_MAX;
}

/* The header goes right in front of the payload, so the frame is one
 * contiguous run of bytes that every subscriber can be handed as is. */
static void msg_seal(struct msg *m, size_t plen)
{
	unsigned char hdr[WSB_FRAME_HDR_MAX];
	size_t h = wsb_frame_header(hdr, plen, WSB_OP_TEXT, NULL);

	m->off = WSB_FRAME_HDR_MAX - h;
	memcpy(m->buf + m->off, hdr, h);
	m->len = h + plen;
}

static void msg_unref(struct msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}

/* ---- session queues ---- */

static void close_later(struct wsb_broker *b, struct wsb_sess *s, int code, const char *reason)
{
	s->close_code = code;
	s->close_reason = reason;
	s->close_pending = 1;
	s->close_next = NULL;
	if (b->close_tail)
		b->close_tail->close_next = s;
	else
		b->close_head = s;
	b->close_tail = s;
}

static void close_unlink(struct wsb_broker *b, struct wsb_sess *s)
{
	struct wsb_sess **pp, *prev = NULL;

	for (pp = &b->close_head; *pp; prev = *pp, pp = &(*pp)->close_next) {
		if (*pp == s) {
			*pp = s->close_next;
			if (b->close_tail == s)
				b->close_tail = prev;
			break;
		}
	}
	s->close_pending = 0;
}

static void flush_closes(struct wsb_broker *b)
{
	struct wsb_sess *s;

	while ((s = b->close_head)) {
		b->close_head = s->close_next;
		if (!b->close_head)
			b->close_tail = NULL;
		s->close_pending = 0;
		if (b->hooks.close)
			b->hooks.close(b->hooks.ud, s->conn, s->close_code, s->close_reason);
	}
}

/* What --max-memory counts: queued messages (each once), the snapshot
 * table, and what the transport holds for unfinished inbound messages. The
 * snapshot table is capped below max_memory (wsb_cfg_check), so pausing
 * publishers can always bring the total back under the limit. */
static uint64_t memory_used(const struct wsb_broker *b)
{
	struct wsb_snap_stats ss = { 0 };

	if (b->snap)
		wsb_snap_stats(b->snap, &ss);
	return b->st.queued_bytes + ss.bytes + b->transport_bytes;
}

/* A zero max_queue, max_memory or history_bytes means "no limit": broker.h
 * leaves zero open, and as a limit it would close or pause everything. The
 * off threshold is floor(max_memory * 3 / 4), computed without overflow. */
static void check_pressure(struct wsb_broker *b)
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
	want = b->mem_pressure || b->stalling > 0 ||
	       (b->cfg.max_queue && b->pq_bytes > b->cfg.max_queue / 4);
	if (want != b->pressure) {
		b->pressure = want;
		if (b->hooks.pressure)
			b->hooks.pressure(b->hooks.ud, want);
	}
}

static uint64_t mono_ms(const struct wsb_broker *b)
{
	struct timespec ts;

	if (b->cfg.mono_ms)
		return b->cfg.mono_ms();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Keeps the broker's counts of stalling and spent sessions in step. */
static void stall_count(struct wsb_broker *b, int from, int to)
{
	b->stalling += (to == WSB_STALL_ON) - (from == WSB_STALL_ON);
	b->stall_spent += (to == WSB_STALL_SPENT) - (from == WSB_STALL_SPENT);
}

static void stall_off(struct wsb_broker *b, struct wsb_sess *s)
{
	int from = s->stall.state;

	wsb_stall_end(&s->stall, from == WSB_STALL_ON ? mono_ms(b) : 0);
	stall_count(b, from, WSB_STALL_NONE);
}

/* A spent budget stays spent until its window ends (wsb_broker_tick),
 * whatever the backlog does meanwhile. */
static void stall_check(struct wsb_broker *b, struct wsb_sess *s)
{
	size_t q = b->cfg.max_queue;

	if (!q || !b->cfg.stall_ms)
		return;
	if (s->stall.state == WSB_STALL_NONE && s->qbytes > q / 4 * 3)
		stall_count(b, WSB_STALL_NONE, wsb_stall_begin(&s->stall, &b->stall_cfg, mono_ms(b)));
	else if (s->stall.state == WSB_STALL_ON && s->qbytes < q / 2)
		stall_off(b, s);
}

static struct msg *q_pop(struct wsb_broker *b, struct wsb_sess *s)
{
	struct msg *m = s->q[s->qhead];

	s->qhead = (s->qhead + 1) & (s->qcap - 1);
	s->qn--;
	s->qbytes -= m->len;
	if (--m->qrefs == 0)
		b->st.queued_bytes -= m->len;
	return m;
}

static void q_release(struct wsb_broker *b, struct wsb_sess *s, int count_dropped)
{
	while (s->qn) {
		msg_unref(q_pop(b, s));
		if (count_dropped)
			b->st.dropped++;
	}
}

static int q_grow(struct wsb_sess *s)
{
	size_t cap = s->qcap * 2, first;
	struct msg **q;

	if (cap < s->qcap)
		return -1;
	q = realloc(s->q, cap * sizeof *q);
	if (!q)
		return -1;
	/* Unwrap: the part that wrapped to the front moves behind the old end. */
	first = s->qcap - s->qhead;
	if (first < s->qn)
		memcpy(q + s->qcap, q, (s->qn - first) * sizeof *q);
	s->q = q;
	s->qcap = cap;
	return 0;
}

static void sess_drop(struct wsb_broker *b, struct wsb_sess *s, int code, const char *reason)
{
	s->closing = 1;
	stall_off(b, s);
	q_release(b, s, 1);
	b->st.dropped++;	/* the message that did not fit */
	if (code == WSB_CLOSE_SLOW)
		b->st.slow_consumers_closed++;
	close_later(b, s, code, reason);
}

/* limit 0 is for the greeting only: closing a session inside join would hand
 * the transport a close request for a session it has not been given yet. */
static void enqueue_lim(struct wsb_broker *b, struct wsb_sess *s, struct msg *m, int limit)
{
	if (s->closing)
		return;
	/* A committed journal batch arrives all at once; it may overrun the cap
	 * by the quarter that publishers were allowed to get ahead. */
	if (limit && b->cfg.max_queue &&
	    s->qbytes + m->len > b->cfg.max_queue + (b->releasing ? b->cfg.max_queue / 4 : 0)) {
		sess_drop(b, s, WSB_CLOSE_SLOW, "slow consumer");
		return;
	}
	if (s->qn == s->qcap && q_grow(s) < 0) {
		sess_drop(b, s, WSB_CLOSE_INTERNAL, "out of memory");
		return;
	}
	s->q[(s->qhead + s->qn) & (s->qcap - 1)] = m;
	s->qn++;
	s->qbytes += m->len;
	m->refs++;
	if (m->qrefs++ == 0)
		b->st.queued_bytes += m->len;
	if (s->qn == 1 && b->hooks.wake)
		b->hooks.wake(b->hooks.ud, s->conn);
	if (s->stall.state == WSB_STALL_NONE)
		stall_check(b, s);
}

static void enqueue(struct wsb_broker *b, struct wsb_sess *s, struct msg *m)
{
	enqueue_lim(b, s, m, 1);
}

/* A reply owned by one session: built, queued, and the builder's ref dropped
 * (which frees it at once if the session could not take it). */
static void reply(struct wsb_broker *b, struct wsb_sess *s, struct msg *m, size_t plen)
{
	msg_seal(m, plen);
	enqueue(b, s, m);
	msg_unref(m);
}

static void reply_error(struct wsb_broker *b, struct wsb_sess *s, const char *code,
			const char *text)
{
	char ts[WSB_TS_LEN];
	char esc[WSB_ERR_LEN * 6 + 3];
	size_t elen, n;
	struct msg *m;
	char *p;

	b->st.errors++;
	if (s->closing)
		return;
	elen = wsb_json_escape(esc, sizeof esc, text, strnlen(text, WSB_ERR_LEN));
	if (elen >= sizeof esc)
		return;		/* cannot happen: WSB_ERR_LEN bounds text */
	m = msg_alloc(elen + 128);
	if (!m)
		return;
	now_ts(b, ts);
	p = msg_payload(m);
	n = (size_t)sprintf(p, "{\"type\":\"error\",\"timestamp\":\"%s\",\"data\":{\"code\":\"%s\","
			    "\"message\":%s}}", ts, code, esc);
	reply(b, s, m, n);
}

/* ---- sessions ---- */

static void sess_recount(struct wsb_broker *b, struct wsb_sess *s)
{
	int want = s->pats.all || s->pats.n > 0;

	if (want != s->counted) {
		if (want)
			b->st.subscribers++;
		else
			b->st.subscribers--;
		s->counted = want;
	}
}

static size_t pat_json_len(const char *pat)
{
	char esc[WSB_TYPE_MAX * 6 + 3];

	return wsb_json_escape(esc, sizeof esc, pat, strlen(pat));
}

/* Every pattern costs a glob match per published message, and the
 * "subscribed" reply lists them all: both are bounded per session. */
#define PATTERNS_MAX 256
#define PATTERN_BYTES (REPLY_MAX - 256)
enum { ADD_FULL = -2, ADD_NOMEM = -1, ADD_BAD = 0, ADD_OK = 1 };

/* ADD_OK added or already there; otherwise refused with err. A pattern
 * already in the set never counts against the caps. */
static int sess_add(struct wsb_broker *b, struct wsb_sess *s, const char *pat,
		    struct wsb_err *err)
{
	size_t jl;
	int r, all = s->pats.all;

	if (!wsb_match_pattern_ok(pat, err))
		return ADD_BAD;
	jl = pat_json_len(pat) + 1;
	r = wsb_patterns_add(&s->pats, pat);
	if (r < 0) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return ADD_NOMEM;
	}
	if (r > 0 && (s->pats.n > PATTERNS_MAX || s->pat_bytes + jl > PATTERN_BYTES)) {
		wsb_patterns_remove(&s->pats, pat);
		s->pats.all = all;
		wsb_err_set(err, WSB_EXIT_USAGE, "too many type patterns: at most %d, %d bytes as JSON",
			    PATTERNS_MAX, PATTERN_BYTES);
		return ADD_FULL;
	}
	if (r > 0)
		s->pat_bytes += jl;
	sess_recount(b, s);
	return ADD_OK;
}

/* pat may be the set's own copy, which the removal frees: measure first. */
static void sess_remove(struct wsb_broker *b, struct wsb_sess *s, const char *pat)
{
	size_t jl = pat_json_len(pat) + 1;

	if (wsb_patterns_remove(&s->pats, pat) > 0)
		s->pat_bytes -= jl;
	sess_recount(b, s);
}

static void greet(struct wsb_broker *b, struct wsb_sess *s)
{
	char ts[WSB_TS_LEN];
	struct msg *m = msg_alloc(b->greeting_len + 340 + WSB_PRODUCER_MAX + WSB_SECRET_HEX);
	char *p;
	size_t n;

	if (!m)
		return;
	now_ts(b, ts);
	p = msg_payload(m);
	n = (size_t)sprintf(p, "{\"type\":\"connection_established\",\"timestamp\":\"%s\",\"message\":",
			    ts);
	n += put(p + n, b->greeting, b->greeting_len);
	n += (size_t)sprintf(p + n, ",\"client_id\":\"%s\",\"seq\":%llu,\"epoch\":\"%s\"", s->id,
			     (unsigned long long)b->st.seq, b->epoch);
	if (b->cfg.max_message)
		n += (size_t)sprintf(p + n, ",\"max_message\":%llu", (unsigned long long)b->cfg.max_message);
	if (s->prod) {
		/* With a journal, only what is stored counts as accepted: the
		 * publisher drops what the greeting covers from its queue. */
		uint64_t acc = b->cfg.durable_acks ? s->prod->durable : s->prod->last;

		n += (size_t)sprintf(p + n, ",\"producer\":\"%s\",\"accepted\":%llu", s->producer,
				     (unsigned long long)acc);
		/* Only to the connection that claimed the id; kept nowhere. */
		if (s->secret[0])
			n += (size_t)sprintf(p + n, ",\"producer_secret\":\"%s\"", s->secret);
		memset(s->secret, 0, sizeof s->secret);
	}
	p[n++] = '}';
	msg_seal(m, n);
	enqueue_lim(b, s, m, 0);
	msg_unref(m);
}

static uint32_t random_prefix(void)
{
	uint32_t v = 0;
	struct timespec ts;
	int fd;

	if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
		return v;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, &v, sizeof v);

		close(fd);
		if (r == (ssize_t)sizeof v)
			return v;
	}
	/* Uniqueness only has to hold across restarts of one server, so clock
	 * and pid are enough when the kernel has no entropy to give. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^ (uint32_t)getpid() << 16;
}

/* ---- public API ---- */

struct wsb_broker *wsb_broker_new(const struct wsb_broker_cfg *cfg,
				  const struct wsb_broker_hooks *hooks, struct wsb_err *err)
{
	struct wsb_broker *b = calloc(1, sizeof *b);
	const char *g;
	char *esc = NULL, one[1];
	size_t need;

	if (!b)
		goto enomem;
	b->cfg = *cfg;
	b->stall_cfg.max_ms = cfg->stall_ms;
	b->stall_cfg.window_ms = cfg->stall_window_ms;
	if (hooks)
		b->hooks = *hooks;
	g = cfg->greeting ? cfg->greeting : "Connected to wsbridge";
	need = wsb_json_escape(one, sizeof one, g, strlen(g));
	if (need > GREETING_MAX) {
		free(b);
		wsb_err_set(err, WSB_EXIT_CONFIG, "greeting too long: %zu bytes as JSON, at most %d",
			    need, GREETING_MAX);
		return NULL;
	}
	esc = malloc(need + 1);
	if (!esc)
		goto enomem;
	wsb_json_escape(esc, need + 1, g, strlen(g));
	b->greeting = esc;
	b->greeting_len = need;
	if (cfg->history) {
		if (cfg->history > SIZE_MAX / sizeof *b->hist)
			goto enomem;
		b->hist = malloc(cfg->history * sizeof *b->hist);
		if (!b->hist)
			goto enomem;
	}
	if (cfg->snapshot_bytes && !(b->snap = wsb_snap_new(cfg->snapshot_bytes, cfg->snapshot_entries)))
		goto enomem;
	b->prods = wsb_prods_new(cfg->max_producers);
	if (!b->prods)
		goto enomem;
	b->id_prefix = random_prefix();
	snprintf(b->epoch, sizeof b->epoch, "%08x%08x", (unsigned)random_prefix(),
		 (unsigned)random_prefix());
	return b;
enomem:
	if (b) {
		free(b->greeting);
		free(b->hist);
		free(b);
	}
	wsb_err_set(err, WSB_EXIT_OSERR, "cannot create broker: out of memory");
	return NULL;
}

static void sess_free(struct wsb_broker *b, struct wsb_sess *s)
{
	q_release(b, s, 0);
	free(s->q);
	free(s->pend);
	wsb_patterns_free(&s->pats);
	free(s);
}

void wsb_broker_free(struct wsb_broker *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nsess; i++)
		sess_free(b, b->sess[i]);
	free(b->sess);
	for (i = 0; i < b->hn; i++)
		msg_unref(b->hist[(b->hhead + i) % b->cfg.history]);
	free(b->hist);
	while (b->pq_n) {
		msg_unref(b->pq[b->pq_head].m);
		b->pq_head = (b->pq_head + 1) % b->pq_cap;
		b->pq_n--;
	}
	free(b->pq);
	snap_free(b);
	wsb_prods_free(b->prods);
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

int wsb_broker_restore(struct wsb_broker *b, const char *line, size_t len, uint64_t seq)
{
	struct msg *m = msg_alloc(len);
	char pid[WSB_PRODUCER_MAX + 1];
	struct wsb_env env;
	uint64_t pseq;
	ssize_t n;

	if (!m)
		return -1;
	n = wsb_env_parse(line, len, msg_payload(m), NULL, &env, NULL);
	if (n < 0 || !env.has_type) {
		free(m);
		return -1;
	}
	msg_seal(m, (size_t)n);
	m->seq = seq;
	if (seq > b->st.seq)
		b->st.seq = seq;
	b->st.durable_seq = b->st.seq;	/* it came from the journal */
	/* A line can name any producer; only one the broker registered
	 * itself (wsb_broker_restore_producer, from the file only it writes)
	 * gets a position, and client content never carries these members
	 * (wsb_broker_input strips or checks them). */
	if (msg_producer(msg_payload(m), (size_t)n, pid, &pseq)) {
		struct wsb_prod *pr = wsb_prods_find(b->prods, pid);

		if (pr && pseq > pr->last)
			pr->last = pr->durable = pseq;
	}
	hist_push(b, m);
	snap_update(b, m, env.type, env.type_len, msg_payload(m), (size_t)n);
	msg_unref(m);
	return 0;
}

static struct wsb_sess *sess_new(struct wsb_broker *b, void *conn, unsigned flags,
				 struct wsb_err *err)
{
	struct wsb_sess *s;

	if (b->nsess == b->sess_cap) {
		size_t cap = b->sess_cap ? b->sess_cap * 2 : 16;
		struct wsb_sess **v = realloc(b->sess, cap * sizeof *v);

		if (!v)
			goto enomem;
		b->sess = v;
		b->sess_cap = cap;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		goto enomem;
	s->q = malloc(QUEUE_MIN * sizeof *s->q);
	if (!s->q) {
		free(s);
		goto enomem;
	}
	s->qcap = QUEUE_MIN;
	s->conn = conn;
	s->flags = flags;
	wsb_patterns_init(&s->pats);
	s->num = ++b->id_next;
	snprintf(s->id, sizeof s->id, "%08x-%llu", (unsigned)b->id_prefix,
		 (unsigned long long)s->num);
	s->idx = b->nsess;
	b->sess[b->nsess++] = s;
	b->st.connections++;
	sess_recount(b, s);
	return s;
enomem:
	wsb_err_set(err, WSB_EXIT_OSERR, "cannot add session: out of memory");
	return NULL;
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
		struct msg *m = msg_alloc(200);

		if (m) {
			size_t n = gap_frame(b, m->buf, WSB_FRAME_HDR_MAX + 200, j->since + 1, 0, "epoch");

			/* gap_frame wrote a whole frame at buf: keep it as is. */
			m->off = 0;
			m->len = n;
			enqueue_lim(b, s, m, 0);
			msg_unref(m);
		}
		s->rseq = 1;	/* all of the new epoch is news to it */
	} else if (!j->epoch && !j->since) {
		s->rseq = b->hn ? hist_at(b, 0)->seq : b->st.seq + 1;	/* --from-start */
	} else {
		s->rseq = j->since == UINT64_MAX ? UINT64_MAX : j->since + 1;	/* no wrap to 0 */
	}
	if (s->rseq <= b->st.seq)
		s->replay = 1;	/* replay_fill reports what history cannot cover */
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

	if (wsb_prods_claim(b->prods, j->producer, j->producer_secret, s, &c, err) < 0)
		return -1;
	if (c.changed && b->hooks.producer &&
	    b->hooks.producer(b->hooks.ud, c.prod->id, c.prod->hash, err) < 0) {
		wsb_prods_release(c.prod, s);
		return -1;
	}
	s->prod = c.prod;
	snprintf(s->producer, sizeof s->producer, "%s", c.prod->id);
	memcpy(s->secret, c.issued, sizeof s->secret);
	old = c.replaced;
	if (old && old != s) {
		old->prod = NULL;	/* publishes nothing more (wsb_broker_input) */
		if (!old->closing) {
			old->closing = 1;
			stall_off(b, old);
			q_release(b, old, 1);
			if (b->hooks.close)
				b->hooks.close(b->hooks.ud, old->conn, WSB_CLOSE_POLICY,
					       "producer taken over by a newer connection");
		}
	}
	return 0;
}

struct wsb_sess *wsb_broker_join_ex(struct wsb_broker *b, void *conn, const struct wsb_join *j,
				    struct wsb_err *err)
{
	struct wsb_sess *s = sess_new(b, conn, j->flags, err);

	if (!s)
		return NULL;
	if (j->subscribe_none)
		wsb_broker_subscribe_none(b, s);
	for (size_t i = 0; i < j->ntypes; i++)
		if (sess_add(b, s, j->types[i], err) != 1) {
			wsb_broker_leave(b, s);
			return NULL;
		}
	if (j->producer && producer_bind(b, s, j, err) < 0) {
		wsb_broker_leave(b, s);
		return NULL;
	}
	now_ts(b, s->joined);
	greet(b, s);
	if (j->resume)
		resume_from(b, s, j);
	else if (j->snapshot)
		snap_send(b, s);
	return s;
}

int wsb_broker_subscribe(struct wsb_broker *b, struct wsb_sess *s, const char *pattern,
			 struct wsb_err *err)
{
	return sess_add(b, s, pattern, err) == 1 ? 0 : -1;
}

void wsb_broker_subscribe_none(struct wsb_broker *b, struct wsb_sess *s)
{
	while (s->pats.n)
		sess_remove(b, s, s->pats.v[s->pats.n - 1]);
	s->pats.all = 0;
	sess_recount(b, s);
}

void wsb_broker_leave(struct wsb_broker *b, struct wsb_sess *s)
{
	struct wsb_sess *last;

	if (!s)
		return;
	if (s->close_pending)
		close_unlink(b, s);
	stall_off(b, s);
	last = b->sess[--b->nsess];
	b->sess[s->idx] = last;
	last->idx = s->idx;
	b->st.connections--;
	if (s->counted)
		b->st.subscribers--;
	wsb_prods_release(s->prod, s);
	sess_free(b, s);
	check_pressure(b);
}

const char *wsb_broker_client_id(const struct wsb_sess *s)
{
	return s->id;
}

void wsb_broker_sess_info(const struct wsb_sess *s, struct wsb_sess_info *info)
{
	*info = (struct wsb_sess_info){
		.id = s->id,
		.producer = s->producer,
		.since = s->joined,
		.queued_bytes = s->qbytes,
		.messages_in = s->n_in,
		.messages_out = s->n_out,
		.all_types = s->pats.all,
		.patterns = (const char *const *)s->pats.v,
		.npatterns = s->pats.n,
	};
}

static void hist_push(struct wsb_broker *b, struct msg *m)
{
	size_t cap = b->cfg.history, lim = b->cfg.history_bytes;

	if (!cap)
		return;
	if (lim && m->len > lim) {
		/* Keeping older messages around a hole would let a resume skip
		 * this one silently; an empty history makes the gap visible. */
		while (b->hn) {
			msg_unref(b->hist[b->hhead]);
			b->hhead = (b->hhead + 1) % cap;
			b->hn--;
		}
		b->hbytes = 0;
		b->st.retained = 0;
		return;
	}
	while (b->hn && (b->hn == cap || (lim && b->hbytes + m->len > lim))) {
		struct msg *old = b->hist[b->hhead];

		b->hbytes -= old->len;
		msg_unref(old);
		b->hhead = (b->hhead + 1) % cap;
		b->hn--;
	}
	b->hist[(b->hhead + b->hn) % cap] = m;
	b->hn++;
	b->hbytes += m->len;
	m->refs++;
	b->st.retained = b->hn;
}

/* ---- producers: dedup of resent messages ---- */

/* Reads "producer" and "pseq" of a compact message. 1 if both are valid. */
static int msg_producer(const char *obj, size_t len, char id[WSB_PRODUCER_MAX + 1], uint64_t *pseq)
{
	struct wsb_span v;
	ssize_t n;

	if (!wsb_env_lookup(obj, len, "pseq", &v) || wsb_env_uint(obj + v.off, v.len, pseq))
		return 0;
	if (!wsb_env_lookup(obj, len, "producer", &v))
		return 0;
	n = wsb_env_string(obj + v.off, v.len, id, WSB_PRODUCER_MAX + 1);
	return n > 0 && wsb_prods_id_ok(id, (size_t)n);
}

/* ---- acknowledgements ---- */

static void ack_ready(struct wsb_broker *b, struct wsb_sess *s, uint64_t pseq)
{
	if (pseq <= s->ack_due)
		return;
	s->ack_due = pseq;
	if (!s->qn && !s->closing && b->hooks.wake)
		b->hooks.wake(b->hooks.ud, s->conn);
}

/* An accepted (or duplicate) message at seq from s: ackable now, or once
 * the journal has it. */
static void ack_later(struct wsb_broker *b, struct wsb_sess *s, uint64_t seq, uint64_t pseq)
{
	if (!b->cfg.durable_acks || seq <= b->st.durable_seq) {
		ack_ready(b, s, pseq);
		return;
	}
	if (s->pn == s->pcap) {
		size_t cap = s->pcap ? s->pcap * 2 : 64, i;
		struct pend *v = malloc(cap * sizeof *v);

		if (!v)
			return;	/* not acked: the publisher resends, dedup drops it */
		for (i = 0; i < s->pn; i++)
			v[i] = s->pend[(s->phead + i) % s->pcap];
		free(s->pend);
		s->pend = v;
		s->pcap = cap;
		s->phead = 0;
	}
	s->pend[(s->phead + s->pn) % s->pcap] = (struct pend){ seq, pseq };
	s->pn++;
}

void wsb_broker_durable(struct wsb_broker *b, uint64_t seq)
{
	if (seq <= b->st.durable_seq)
		return;
	b->st.durable_seq = seq;
	pend_release(b, seq);
	flush_closes(b);
	check_pressure(b);
	for (size_t i = 0; i < b->nsess; i++) {
		struct wsb_sess *s = b->sess[i];
		uint64_t top = 0;

		while (s->pn && s->pend[s->phead].seq <= seq) {
			top = s->pend[s->phead].pseq;
			s->phead = (s->phead + 1) % s->pcap;
			s->pn--;
		}
		if (top)
			ack_ready(b, s, top);
	}
}

/* {"type":"ack","pseq":N} as a frame into out; its length (0 if no room). */
static size_t ack_frame(struct wsb_sess *s, unsigned char *out, size_t room)
{
	char p[64];
	size_t n = PUTS(p, "{\"type\":\"ack\",\"pseq\":");

	n += put_u64(p + n, s->ack_due);
	p[n++] = '}';
	if (room < n + 2)
		return 0;
	out[0] = 0x81;		/* FIN, text */
	out[1] = (unsigned char)n;
	memcpy(out + 2, p, n);
	s->ack_sent = s->ack_due;
	return n + 2;
}

/* ---- history lookup for resume ---- */

static struct msg *hist_at(const struct wsb_broker *b, size_t i)
{
	return b->hist[(b->hhead + i) % b->cfg.history];
}

/* Index of the first retained message with seq >= seq (b->hn if none). */
static size_t hist_find(const struct wsb_broker *b, uint64_t seq)
{
	size_t lo = 0, hi = b->hn;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (hist_at(b, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int msg_matches(const struct msg *m, const struct wsb_sess *s)
{
	const char *obj = (const char *)m->buf + WSB_FRAME_HDR_MAX;
	size_t len = m->len - (WSB_FRAME_HDR_MAX - m->off);
	char type[WSB_TYPE_MAX + 1];
	struct wsb_span v;

	if (!wsb_env_lookup(obj, len, "type", &v) ||
	    wsb_env_string(obj + v.off, v.len, type, sizeof type) < 0)
		return 0;
	return wsb_patterns_match(&s->pats, type);
}

/* ---- snapshots ---- */

static void snap_update(struct wsb_broker *b, struct msg *m, const char *type, size_t tlen,
			const char *obj, size_t len)
{
	char key[SNAP_KEY_MAX];
	long klen = -1;
	void *old;

	if (!b->snap)
		return;
	if (b->hooks.snapshot_key)
		klen = b->hooks.snapshot_key(b->hooks.ud, obj, len, key, sizeof key);
	if (wsb_snap_put(b->snap, type, tlen, key, klen < 0 ? -1 : klen, m, m->len, &old) == 1)
		m->refs++;
	msg_unref(old);
	while ((old = wsb_snap_trim(b->snap, 0)))
		msg_unref(old);
}

static void snap_free(struct wsb_broker *b)
{
	void *old;

	if (!b->snap)
		return;
	while ((old = wsb_snap_trim(b->snap, 1)))
		msg_unref(old);
	wsb_snap_free(b->snap);
}

static int snap_matches(const struct wsb_snap_ent *e, const struct wsb_sess *s)
{
	return wsb_patterns_match(&s->pats, wsb_snap_type(e, NULL));
}

/* The latest message of every matching type/key, oldest first: queued at
 * once when it fits max_queue, otherwise read in pieces by take() as the
 * socket drains (a snapshot bigger than one queue is not a slow consumer). */
static void snap_send(struct wsb_broker *b, struct wsb_sess *s)
{
	const struct wsb_snap_ent *e;
	size_t total = s->qbytes;

	if (!b->snap)
		return;
	for (e = wsb_snap_oldest(b->snap); e; e = wsb_snap_newer(e))
		if (snap_matches(e, s))
			total += ((struct msg *)wsb_snap_item(e))->len;
	if (b->cfg.max_queue && total > b->cfg.max_queue) {
		s->snap = 1;
		s->snap_seq = 0;
		s->snap_end = b->st.seq;
		return;
	}
	for (e = wsb_snap_oldest(b->snap); e; e = wsb_snap_newer(e))
		if (snap_matches(e, s))
			enqueue_lim(b, s, wsb_snap_item(e), 1);
}

/* Snapshot entries after snap_seq into out while they fit. Entries updated
 * since the join have a later seq and come from history instead, where
 * they sit in order with everything else published meanwhile: once the
 * snapshot is out the session continues as a resume from snap_end. */
static size_t snap_fill(struct wsb_broker *b, struct wsb_sess *s, unsigned char *out, size_t total,
			size_t soft, size_t hard)
{
	const struct wsb_snap_ent *e;

	for (e = wsb_snap_oldest(b->snap); e; e = wsb_snap_newer(e)) {
		struct msg *m = wsb_snap_item(e);

		if (m->seq <= s->snap_seq)
			continue;
		if (m->seq > s->snap_end)
			break;
		if (snap_matches(e, s) && m->len <= hard) {
			if ((total && total + m->len > soft) || m->len > hard - total)
				return total;
			memcpy(out + total, m->buf + m->off, m->len);
			total += m->len;
			count_out(b, s);
		}
		s->snap_seq = m->seq;
	}
	s->snap = 0;
	s->rseq = s->snap_end + 1;
	s->replay = s->rseq <= b->st.seq;
	return total;
}

/* Health probes ("$probe.<id>", published by wsbridge-health --roundtrip)
 * reach only sessions that named a "$probe" pattern themselves: never a
 * dashboard subscribed to everything, never history. */
static int is_probe(const struct wsb_env *env)
{
	return env->type_len > 7 && !strncmp(env->type, "$probe.", 7);
}

static int probe_wanted(const struct wsb_sess *s, const char *type)
{
	if (s->pats.all)
		return 0;
	for (size_t i = 0; i < s->pats.n; i++)
		if (!strncmp(s->pats.v[i], "$probe", 6) && wsb_match_glob(s->pats.v[i], type))
			return 1;
	return 0;
}

/* ---- fan-out, at once or once durable ---- */

static void fanout(struct wsb_broker *b, struct msg *m, const struct wsb_sess *from,
		   const char *type, int probe)
{
	for (size_t i = 0; i < b->nsess; i++) {
		struct wsb_sess *s = b->sess[i];

		if (s->closing || (s == from && !(s->flags & WSB_SESS_ECHO)))
			continue;
		if (probe ? probe_wanted(s, type) : wsb_patterns_match(&s->pats, type)) {
			/* Catching up from history (or a snapshot, then
			 * history): it will read this one there. */
			if (s->replay || s->snap) {
				if (b->hooks.wake)
					b->hooks.wake(b->hooks.ud, s->conn);
				continue;
			}
			enqueue(b, s, m);
		}
	}
}

/* Messages waiting for the journal before fan-out; their bytes count as
 * queued memory, so a journal that cannot keep up (or a full disk) pauses
 * publishers instead of growing without bound. */
static int pend_push(struct wsb_broker *b, struct msg *m, const struct wsb_sess *from,
		     const char *type)
{
	struct pending *e;

	if (b->pq_n == b->pq_cap) {
		size_t cap = b->pq_cap ? b->pq_cap * 2 : 256, i;
		struct pending *v = malloc(cap * sizeof *v);

		if (!v)
			return -1;
		for (i = 0; i < b->pq_n; i++)
			v[i] = b->pq[(b->pq_head + i) % b->pq_cap];
		free(b->pq);
		b->pq = v;
		b->pq_cap = cap;
		b->pq_head = 0;
	}
	e = &b->pq[(b->pq_head + b->pq_n) % b->pq_cap];
	e->m = m;
	e->from = from ? from->num : 0;
	snprintf(e->type, sizeof e->type, "%s", type);
	m->refs++;
	b->pq_n++;
	b->pq_bytes += m->len;
	b->st.queued_bytes += m->len;
	return 0;
}

static void pend_release(struct wsb_broker *b, uint64_t seq)
{
	while (b->pq_n) {
		struct pending *e = &b->pq[b->pq_head];
		const struct wsb_sess *from = NULL;

		if (e->m->seq > seq)
			break;
		for (size_t i = 0; e->from && i < b->nsess; i++)
			if (b->sess[i]->num == e->from)
				from = b->sess[i];
		{
			char pid[WSB_PRODUCER_MAX + 1];
			uint64_t pseq;
			struct wsb_prod *pr;
			const char *obj = (const char *)e->m->buf + WSB_FRAME_HDR_MAX;

			if (msg_producer(obj, e->m->len - (WSB_FRAME_HDR_MAX - e->m->off), pid, &pseq) &&
			    (pr = wsb_prods_find(b->prods, pid)) && pseq > pr->durable)
				pr->durable = pseq;
		}
		b->st.queued_bytes -= e->m->len;
		b->pq_bytes -= e->m->len;
		b->releasing = 1;
		fanout(b, e->m, from, e->type, 0);
		b->releasing = 0;
		msg_unref(e->m);
		b->pq_head = (b->pq_head + 1) % b->pq_cap;
		b->pq_n--;
	}
}

/* A message from a producer's connection: 1 new (its pseq in *pseq), 0 a
 * duplicate, 2 no producer members (published unacknowledged), -1 refused
 * with an error reply: producer/pseq must name this connection's id, and
 * pseq may not jump past WSB_PSEQ_JUMP_MAX (the position does not move). */
static int producer_check(struct wsb_broker *b, struct wsb_sess *s, const char *obj, size_t n,
			  uint64_t *pseq)
{
	const struct wsb_prod *pr = s->prod;
	char id[WSB_PRODUCER_MAX + 1], text[WSB_ERR_LEN];
	struct wsb_span pv, iv;
	int has_p = wsb_env_lookup(obj, n, "pseq", &pv), has_i = wsb_env_lookup(obj, n, "producer", &iv);
	ssize_t il;

	if (!has_p && !has_i)
		return 2;
	il = has_i ? wsb_env_string(obj + iv.off, iv.len, id, sizeof id) : -1;
	if (!has_p || wsb_env_uint(obj + pv.off, pv.len, pseq) || il < 0 ||
	    (size_t)il != strlen(pr->id) || memcmp(id, pr->id, (size_t)il)) {
		snprintf(text, sizeof text, "\"producer\" must be this connection's id (%s), "
			 "with an integer \"pseq\"", pr->id);
		reply_error(b, s, "PRODUCER_MISMATCH", text);
		return -1;
	}
	if (*pseq <= pr->last)
		return 0;
	if (*pseq - pr->last > WSB_PSEQ_JUMP_MAX) {
		snprintf(text, sizeof text, "pseq %llu is too far past the last accepted (%llu): "
			 "at most %llu ahead", (unsigned long long)*pseq, (unsigned long long)pr->last,
			 (unsigned long long)WSB_PSEQ_JUMP_MAX);
		reply_error(b, s, "PSEQ_JUMP", text);
		return -1;
	}
	return 1;
}

static void publish(struct wsb_broker *b, struct wsb_sess *from, struct msg *m,
		    const struct wsb_env *env, size_t n, size_t cap)
{
	int probe = is_probe(env);
	char *p = msg_payload(m);
	size_t o = n - 1;	/* overwrite the closing '}' */
	uint64_t pseq = 0;
	struct wsb_prod *pr = NULL;
	int r = 2;

	/* Only a connection that holds ?producer=ID (with its secret) is
	 * deduplicated and acknowledged, and only for that id. */
	if (!probe && from && from->prod)
		r = producer_check(b, from, p, n, &pseq);
	if (r == 0) {
		/* A resend after a reconnect: delivered before, so only
		 * acknowledged (once what came before is stored). */
		b->st.duplicates++;
		ack_later(b, from, b->st.seq, pseq);
	}
	if (r == 1)
		pr = from->prod;
	/* Wrapping would hand out seqs that subscribers and the journal
	 * already hold: refuse instead, and /health says so. */
	if (r > 0 && !probe && b->st.seq == UINT64_MAX) {
		reply_error(b, from, "SEQ_EXHAUSTED", "the server's seq space is exhausted: "
			    "nothing more can be published in this epoch");
		r = -1;
	}
	if (r <= 0) {
		msg_unref(m);
		return;
	}

	if (!env->timestamp.len) {
		char ts[WSB_TS_LEN];

		now_ts(b, ts);
		o += PUTS(p + o, ",\"timestamp\":\"");
		o += put(p + o, ts, strlen(ts));
		p[o++] = '"';
	}
	/* A probe is seen by its prober alone: it takes no seq, so nobody
	 * else's numbering (or a duplicate's ack) waits on it. */
	m->seq = probe ? b->st.seq : ++b->st.seq;
	o += PUTS(p + o, ",\"seq\":");
	o += put_u64(p + o, m->seq);
	p[o++] = '}';
	/* Pretty-printed input leaves the buffer much bigger than the compact
	 * message; history may hold it for a long time, so give it back. */
	if (cap - o > 1024) {
		struct msg *small = realloc(m, sizeof *m + WSB_FRAME_HDR_MAX + o);

		if (small) {
			m = small;
			p = msg_payload(m);	/* the block may have moved */
		}
	}
	msg_seal(m, o);
	b->st.messages_in++;
	if (pr) {
		pr->last = pseq;
		if (!b->cfg.durable_acks)
			pr->durable = pseq;
		ack_later(b, from, m->seq, pseq);
	}
	if (!probe && b->hooks.journal)
		b->hooks.journal(b->hooks.ud, p, o, m->seq);
	if (!probe) {
		hist_push(b, m);
		snap_update(b, m, env->type, env->type_len, p, o);
	}
	/* With a journal, nobody sees a message before it is stored: a crash
	 * can then only lose what nobody saw, and the seqs a restart hands
	 * out again were never delivered. */
	if (!probe && b->cfg.durable_acks && m->seq > b->st.durable_seq) {
		if (pend_push(b, m, from, env->type))
			fanout(b, m, from, env->type, 0);	/* ENOMEM: deliver now */
	} else {
		fanout(b, m, from, env->type, probe);
	}
	msg_unref(m);
}

struct sub_ctx {
	struct wsb_broker *b;
	struct wsb_sess *s;
	int unsub;
	int apply;		/* 0: checking every pattern first; 1: changing the set */
	const char *code;	/* the error to answer, once */
	struct wsb_err err;
};

static int sub_check(struct sub_ctx *c, const char *str, size_t n, int too_long)
{
	if (too_long)
		wsb_err_set(&c->err, WSB_EXIT_USAGE,
			    "invalid type pattern \"%.32s...\": more than %d bytes", str, WSB_TYPE_MAX);
	else if (strlen(str) != n)
		wsb_err_set(&c->err, WSB_EXIT_USAGE, "invalid type pattern: contains a NUL character");
	else if (!wsb_match_pattern_ok(str, &c->err))
		;
	else
		return 0;
	c->code = "INVALID_MESSAGE";
	return -1;
}

/* For wsb_env_strings: -1 stops at the first refusal, whose reason is the
 * one answer the request gets. */
static int sub_one(void *ud, const char *str, size_t n, int too_long)
{
	struct sub_ctx *c = ud;
	int r;

	if (!c->apply)
		return sub_check(c, str, n, too_long);
	if (c->unsub) {
		/* The default set is listed as ["*"]: removing what the
		 * reply showed leaves nothing, as for any other pattern. */
		if (c->s->pats.all && !strcmp(str, "*"))
			wsb_broker_subscribe_none(c->b, c->s);
		sess_remove(c->b, c->s, str);
		return 0;
	}
	r = sess_add(c->b, c->s, str, &c->err);
	if (r == ADD_OK)
		return 0;
	c->code = r == ADD_FULL ? "TOO_MANY_PATTERNS" : "INTERNAL_ERROR";
	return -1;
}

/* Patterns a failed subscribe added are the ones past n0 (adding appends),
 * so taking them off the end restores the set it found. */
static void sub_undo(struct wsb_broker *b, struct wsb_sess *s, size_t n0, int all0)
{
	while (s->pats.n > n0)
		sess_remove(b, s, s->pats.v[s->pats.n - 1]);
	s->pats.all = all0;
	sess_recount(b, s);
}

static void reply_subscribed(struct wsb_broker *b, struct wsb_sess *s)
{
	struct msg *m;
	char *p;
	size_t n, i;

	if (s->closing)
		return;
	m = msg_alloc(s->pat_bytes + 64);
	if (!m)
		return;
	p = msg_payload(m);
	n = PUTS(p, "{\"type\":\"subscribed\",\"types\":[");
	if (s->pats.all) {
		n += PUTS(p + n, "\"*\"");
	} else {
		for (i = 0; i < s->pats.n; i++) {
			const char *pat = s->pats.v[i];

			if (i)
				p[n++] = ',';
			n += wsb_json_escape(p + n, s->pat_bytes + 64 - n, pat, strlen(pat));
		}
	}
	n += PUTS(p + n, "]}");
	reply(b, s, m, n);
}

/* All or nothing, and one answer: the whole new set ("subscribed") or one
 * error with the set unchanged, however many patterns the request holds,
 * so a huge bad request cannot fill the sender's queue with errors. */
static void control_subscribe(struct wsb_broker *b, struct wsb_sess *s, const char *obj,
			      size_t len, int unsub)
{
	struct sub_ctx c = { .b = b, .s = s, .unsub = unsub };
	size_t skipped = 0, n0 = s->pats.n;
	int all0 = s->pats.all;
	struct wsb_span v;

	/* Dashboards written for the systems wsbridge replaces send
	 * {"type":"subscribe","symbols":[...]}: no "types" changes nothing
	 * and is answered with the current set, not an error. */
	if (!wsb_env_lookup(obj, len, "types", &v)) {
		reply_subscribed(b, s);
		return;
	}
	if (wsb_env_strings(obj + v.off, v.len, sub_one, &c, &skipped) < 0 || skipped) {
		if (!c.code)
			wsb_err_set(&c.err, WSB_EXIT_USAGE, "%s needs \"types\": an array of strings",
				    unsub ? "unsubscribe" : "subscribe");
		reply_error(b, s, c.code ? c.code : "INVALID_MESSAGE", c.err.msg);
		return;
	}
	c.apply = 1;
	if (wsb_env_strings(obj + v.off, v.len, sub_one, &c, NULL) < 0) {
		sub_undo(b, s, n0, all0);
		reply_error(b, s, c.code, c.err.msg);
		return;
	}
	reply_subscribed(b, s);
}

static void control_ping(struct wsb_broker *b, struct wsb_sess *s, const char *obj,
			 const struct wsb_env *env)
{
	char ts[WSB_TS_LEN];
	struct msg *m;
	char *p;
	size_t n;

	if (s->closing)
		return;
	m = msg_alloc(env->data.len + 80);
	if (!m)
		return;
	now_ts(b, ts);
	p = msg_payload(m);
	n = PUTS(p, "{\"type\":\"pong\",\"timestamp\":\"");
	n += put(p + n, ts, strlen(ts));
	p[n++] = '"';
	if (env->data.len) {
		n += PUTS(p + n, ",\"data\":");
		n += put(p + n, obj + env->data.off, env->data.len);
	}
	p[n++] = '}';
	reply(b, s, m, n);
}

/* By length too: a decoded type may hold "\u0000", and "ping\u0000x" is
 * not a ping. */
static int type_is(const struct wsb_env *env, const char *name)
{
	size_t n = strlen(name);

	return env->type_len == n && !memcmp(env->type, name, n);
}

void wsb_broker_input(struct wsb_broker *b, struct wsb_sess *s, const char *msg, size_t len)
{
	/* seq, producer and pseq are the broker's stamp: a plain connection's
	 * are removed, so neither a subscriber nor journal recovery can take
	 * them for the broker's; a producer's are checked in publish. */
	static const char *const drop_plain[] = { "seq", "producer", "pseq", NULL };
	static const char *const drop_prod[] = { "seq", NULL };
	struct wsb_env env;
	struct wsb_err err;
	size_t cap = len + STAMP_MAX;
	struct msg *m;
	ssize_t r;
	char *p;

	/* Taken over by a newer connection of its producer: whatever it still
	 * sends is not that producer's any more. */
	s->n_in++;
	if (s->producer[0] && !s->prod)
		return;
	if (cap < len || !(m = msg_alloc(cap)))
		return;
	p = msg_payload(m);
	wsb_err_clear(&err);
	r = wsb_env_parse(msg, len, p, s->prod ? drop_prod : drop_plain, &env, &err);
	if (r == -WSB_ENV_INVALID_JSON) {
		reply_error(b, s, "INVALID_JSON", err.msg);
	} else if (r < 0) {
		reply_error(b, s, "INVALID_MESSAGE", err.msg);	/* not an object, repeated "type"... */
	} else if (!env.has_type) {
		reply_error(b, s, "INVALID_MESSAGE",
			    env.type_v.len && p[env.type_v.off] == '"'
				    ? "message \"type\" must be 1 to 128 bytes"
				    : "message has no string \"type\"");
	} else if (type_is(&env, "ping")) {
		control_ping(b, s, p, &env);
	} else if (type_is(&env, "subscribe") || type_is(&env, "unsubscribe")) {
		control_subscribe(b, s, p, (size_t)r, env.type[0] == 'u');
	} else if (!is_probe(&env) && !wsb_env_type_ok(env.type, env.type_len, &err)) {
		reply_error(b, s, "INVALID_MESSAGE", err.msg);
	} else {
		publish(b, s, m, &env, (size_t)r, cap);
		m = NULL;
	}
	if (m)
		free(m);
	flush_closes(b);
	check_pressure(b);
}

/* A gap record as a frame: seqs from..to (to 0: unknown, "null") are lost. */
static size_t gap_frame(const struct wsb_broker *b, unsigned char *out, size_t room, uint64_t from,
			uint64_t to, const char *reason)
{
	char p[160];
	size_t n = PUTS(p, "{\"type\":\"gap\",\"from\":");

	n += put_u64(p + n, from);
	n += PUTS(p + n, ",\"to\":");
	if (to)
		n += put_u64(p + n, to);
	else
		n += PUTS(p + n, "null");
	n += (size_t)sprintf(p + n, ",\"reason\":\"%s\",\"epoch\":\"%s\"}", reason, b->epoch);
	if (room < n + 2)
		return 0;
	out[0] = 0x81;
	out[1] = (unsigned char)n;	/* always < 126 */
	memcpy(out + 2, p, n);
	return n + 2;
}

/* Resume: whole frames from history from seq rseq on, in seq order, while
 * they fit; a gap record first when history no longer reaches back to rseq.
 * Once the cursor has passed the newest retained message, the session
 * joins the live stream (publish queues to it again) with no hole or
 * duplicate at the seam, as everything here runs on one thread. */
static size_t replay_fill(struct wsb_broker *b, struct wsb_sess *s, unsigned char *out, size_t total,
			  size_t soft, size_t hard)
{
	size_t i, scanned = 0;
	uint64_t oldest = b->hn ? hist_at(b, 0)->seq : b->st.seq + 1;
	uint64_t lim = b->cfg.durable_acks ? b->st.durable_seq : UINT64_MAX;

	if (s->rseq < oldest) {
		size_t g = gap_frame(b, out + total, hard - total, s->rseq, oldest - 1, "evicted");

		if (!g)
			return total;
		total += g;
		count_out(b, s);
		s->rseq = oldest;
	}
	for (i = hist_find(b, s->rseq); i < b->hn && scanned < REPLAY_SCAN; i++, scanned++) {
		struct msg *m = hist_at(b, i);

		if (m->seq > lim)	/* not stored yet: it comes live once it is */
			break;
		if (m->len > hard && msg_matches(m, s)) {
			/* Bigger than any write can hold (restored under a larger
			 * --max-message): said, not skipped silently or retried. */
			size_t g = gap_frame(b, out + total, hard - total, m->seq, m->seq, "too_big");

			if (!g)
				break;
			total += g;
			s->rseq = m->seq + 1;
			continue;
		}
		if (msg_matches(m, s)) {
			if ((total && total + m->len > soft) || m->len > hard - total)
				break;
			memcpy(out + total, m->buf + m->off, m->len);
			total += m->len;
			count_out(b, s);
		}
		s->rseq = m->seq + 1;
	}
	if (i >= b->hn || hist_at(b, i)->seq > lim)
		s->replay = 0;
	return total;
}

size_t wsb_broker_take(struct wsb_broker *b, struct wsb_sess *s, unsigned char *out,
		       size_t soft, size_t hard)
{
	size_t total = 0;

	if (s->closing)
		return 0;
	if (soft > hard)
		soft = hard;	/* out is only known to hold hard bytes */
	if (s->ack_due > s->ack_sent)
		total += ack_frame(s, out, hard);
	while (s->qn) {
		struct msg *m = s->q[s->qhead];

		if (total == 0 && m->len > hard) {
			/* Cannot happen when hard >= wsb_broker_frame_max():
			 * dropping keeps the session alive rather than stuck. */
			msg_unref(q_pop(b, s));
			b->st.dropped++;
			continue;
		}
		if (total && total + m->len > soft)
			break;
		memcpy(out + total, m->buf + m->off, m->len);
		total += m->len;
		count_out(b, s);
		msg_unref(q_pop(b, s));
		if (total >= soft)
			break;
	}
	if (s->snap && !s->qn)
		total = snap_fill(b, s, out, total, soft, hard);
	if (s->replay && !s->qn && !s->snap)
		total = replay_fill(b, s, out, total, soft, hard);
	if (s->stall.state == WSB_STALL_ON)
		stall_check(b, s);
	check_pressure(b);
	return total;
}

void wsb_broker_tick(struct wsb_broker *b)
{
	uint64_t now;

	if (!b->stalling && !b->stall_spent)
		return;
	now = mono_ms(b);
	for (size_t i = 0; i < b->nsess; i++) {
		struct wsb_sess *s = b->sess[i];
		int from = s->stall.state;

		if (from == WSB_STALL_NONE || !wsb_stall_tick(&s->stall, &b->stall_cfg, now))
			continue;
		stall_count(b, from, s->stall.state);
		stall_check(b, s);	/* a new window: it may pause again */
	}
	check_pressure(b);
}

int wsb_broker_pending(const struct wsb_sess *s)
{
	if (s->closing)
		return 0;
	if (!s->qn && (s->ack_due > s->ack_sent || s->replay || s->snap))
		return 1;
	return s->qn > (size_t)INT32_MAX ? INT32_MAX : (int)s->qn;
}

size_t wsb_broker_frame_max(size_t max_message)
{
	size_t n = max_message + STAMP_MAX;

	if (n < max_message)
		return SIZE_MAX;
	if (n < REPLY_MAX)
		n = REPLY_MAX;
	return n + WSB_FRAME_HDR_MAX;
}

void wsb_broker_stats(const struct wsb_broker *b, struct wsb_broker_stats *st)
{
	struct wsb_snap_stats ss = { 0 };

	*st = b->st;
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
	check_pressure(b);
}

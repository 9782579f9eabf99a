/* The broker in cluster mode (broker.h, "Sequencer"): what a sequencer
 * calls, and the hand-over of a publish to it. Part of the broker: it
 * shares struct wsb_broker with broker.c through broker_int.h. */
#include "broker.h"
#include "broker_int.h"

#include "envelope.h"
#include "reply.h"
#include "sessions.h"

/* A producer's session then publishes nothing more (broker_refuse.c). */
static void refuse_unavailable(struct wsb_broker *b, struct wsb_sess *s)
{
	wsb_brk_refuse(b, s, "UNAVAILABLE", "the cluster backplane is unavailable: not published, "
		       "send it again (after reconnecting, for a producer)", 0);
}

/* Timestamped here, numbered by the stream: wsb_broker_sequenced fans it
 * out, on every instance, and wsb_broker_submitted acknowledges it. The
 * producer's position moves only then, so a refused message is never
 * taken for a duplicate of itself. */
void wsb_brk_submit(struct wsb_broker *b, struct wsb_sess *from, struct wsb_msg *m,
		   const struct wsb_env *env, size_t n, uint64_t pseq, const struct wsb_prod *pr)
{
	char ts[WSB_TS_LEN], *p = wsb_msg_payload(m);
	struct wsb_submit sm = { p, n, from->num, pr ? pr->id : NULL, pseq, pr ? pr->hash : NULL };
	int refused = from->pub && from->pub->refused;

	if (!refused && !env->timestamp.len) {
		wsb_brk_now_ts(b, ts);
		sm.len = wsb_reply_stamp_ts(p, n, ts);
	}
	if (refused || b->seq.submit(b->seq.ud, &sm) < 0)
		refuse_unavailable(b, from);
	wsb_msg_unref(m);
}

void wsb_broker_set_sequencer(struct wsb_broker *b, const struct wsb_broker_seq *seq)
{
	b->seq = *seq;
}

void wsb_broker_submitted(struct wsb_broker *b, uint64_t from, uint64_t pseq,
			  enum wsb_seq_result r)
{
	struct wsb_sess *s = wsb_brk_sess_by_num(b, from);

	wsb_brk_fan_flush(b);
	if (!s || s->closing)
		return;
	if (r == WSB_SEQ_UNAVAILABLE) {
		refuse_unavailable(b, s);
	} else if (r == WSB_SEQ_NOPERM) {
		wsb_brk_refuse(b, s, "PRODUCER_SECRET", "the cluster has another producer_secret for this id", 0);
	} else if (pseq && s->prod && !s->pub->refused) {
		if (r == WSB_SEQ_DUP)
			b->st.duplicates++;
		if (pseq > s->prod->last)
			s->prod->last = s->prod->durable = pseq;
		wsb_brk_ack_ready(b, s, pseq);
	}
	wsb_sessions_flush(&b->ss);
	wsb_brk_check_pressure(b);
}

int wsb_broker_sequenced(struct wsb_broker *b, const char *msg, size_t len, uint64_t seq,
			 uint64_t origin)
{
	struct wsb_msg *m;
	struct wsb_env env;
	ssize_t n;
	size_t o;

	wsb_brk_fan_flush(b);
	if (seq <= b->st.seq)
		return 0;
	if (seq > b->st.seq + 1)
		wsb_broker_gap(b, b->st.seq + 1, seq - 1, "cluster");
	b->st.seq = b->st.durable_seq = seq;
	if (!(m = wsb_msg_alloc(len + WSB_STAMP_MAX)))	/* len: what this side submitted */
		return -1;
	if ((n = wsb_env_parse(msg, len, wsb_msg_payload(m), NULL, &env, NULL)) < 0 || !env.has_type)
		return wsb_msg_unref(m), -1;
	o = wsb_reply_stamp(wsb_msg_payload(m), (size_t)n, NULL, seq);
	wsb_msg_seal(m, o);
	m->seq = seq;
	b->st.messages_in++;
	m->stamped = wsb_brk_position_from(b, wsb_msg_payload(m), o);	/* producer/pseq: ?stamp=1 only */
	wsb_brk_retain(b, m, env.type, env.type_len);
	wsb_sessions_fanout(&b->ss, m, origin ? wsb_brk_sess_by_num(b, origin) : NULL, env.type, 0);
	wsb_msg_unref(m);
	wsb_sessions_flush(&b->ss);
	wsb_brk_check_pressure(b);
	return 0;
}

void wsb_broker_gap(struct wsb_broker *b, uint64_t from, uint64_t to, const char *reason)
{
	struct wsb_msg *m = wsb_reply_gap_msg(from, to, reason, b->epoch);

	wsb_brk_fan_flush(b);
	if (to > b->st.seq)
		b->st.seq = b->st.durable_seq = to;
	if (m)
		wsb_sessions_broadcast(&b->ss, m);
	wsb_msg_unref(m);
	wsb_sessions_flush(&b->ss);
}

void wsb_broker_hold(struct wsb_broker *b, int on)
{
	b->hold = on;
	wsb_brk_check_pressure(b);
}


/* broker_fan — when a published message fans out (broker.h): at once;
 * after the read it came in, with the read's other publishes of its type
 * (wsb_broker_input_more, wsb_broker_input_end); or, with durable acks,
 * once the journal has it. Part of the broker: it shares struct
 * wsb_broker with broker.c through broker_int.h.
 *
 * Why batch: with thousands of subscribers, fanning out one message walks
 * every reached session's cache lines (its queue, connection, stall
 * state), and a read brings tens to hundreds of messages; walking them
 * once per read instead of once per message was most of the walk's cost.
 * Only consecutive publishes of one type from one session go together,
 * and anything else the broker does first fans out what waits (reply(),
 * every entry point that reads or changes sessions), so each session gets
 * exactly what, and in the order, it would have got one by one.
 */
#include <string.h>

#include "broker_int.h"
#include "msg.h"
#include "producers.h"

/* Messages waiting for the journal before fan-out; their bytes count as
 * queued memory, so a journal that cannot keep up (or a full disk) pauses
 * publishers instead of growing without bound. */
static int pend_push(struct wsb_broker *b, struct wsb_msg *m, const struct wsb_sess *from,
		     const char *type)
{
	if (wsb_pend_push(&b->pq, m, from ? from->num : 0, type) < 0)
		return -1;
	b->pq_bytes += m->len;
	return 0;
}

struct wsb_sess *wsb_brk_sess_by_num(struct wsb_broker *b, uint64_t num)
{
	if (b->last_from && b->last_from->num == num)
		return b->last_from;
	for (size_t i = 0; num && i < b->ss.n; i++)
		if (b->ss.v[i]->num == num)
			return b->last_from = b->ss.v[i];
	return NULL;
}

/* The producer's stored position moves with the journal. */
static void pend_durable(struct wsb_broker *b, const struct wsb_msg *m)
{
	char pid[WSB_PRODUCER_ID_MAX + 1];
	uint64_t pseq;
	struct wsb_prod *pr;
	size_t len;
	const char *obj = wsb_msg_json(m, &len);

	if (wsb_prods_read(obj, len, pid, &pseq) && (pr = wsb_prods_find(b->prods, pid)) &&
	    pseq > pr->durable)
		pr->durable = pseq;
}

static void pend_release(struct wsb_broker *b, uint64_t seq)
{
	struct wsb_pend *e;

	while ((e = wsb_pend_due(&b->pq, seq))) {
		struct wsb_msg *m = e->m;

		pend_durable(b, m);
		b->pq_bytes -= m->len;
		b->ss.releasing = 1;
		wsb_sessions_fanout(&b->ss, m, wsb_brk_sess_by_num(b, e->from), e->type, 0);
		b->ss.releasing = 0;
		wsb_ring_pop(&b->pq);
		wsb_msg_unref(m);
	}
}

void wsb_broker_durable(struct wsb_broker *b, uint64_t seq)
{
	if (seq <= b->st.durable_seq)
		return;
	wsb_brk_fan_flush(b);
	b->st.durable_seq = seq;
	pend_release(b, seq);
	wsb_sessions_flush(&b->ss);
	wsb_brk_check_pressure(b);
	for (size_t i = 0; i < b->ss.n; i++) {
		struct wsb_sess *s = b->ss.v[i];
		uint64_t top = s->pub ? wsb_acks_durable(&s->pub->acks, seq) : 0;

		if (top)
			wsb_brk_ack_ready(b, s, top);
	}
}

void wsb_brk_fan_flush(struct wsb_broker *b)
{
	size_t n = b->nfan;

	if (!n)
		return;
	b->nfan = 0;	/* before: what fan-out calls may flush again */
	wsb_sessions_fanout_many(&b->ss, b->fan, n, b->fan_from, b->fan_type);
	for (size_t i = 0; i < n; i++)
		wsb_msg_unref(b->fan[i]);
}

/* Batched while b->batching, else at once; with durable acks, once the
 * journal has it: a crash can then only lose what nobody saw, and the
 * seqs a restart hands out again were never delivered. */
void wsb_brk_fan(struct wsb_broker *b, struct wsb_msg *m, struct wsb_sess *from, const char *type,
		 int probe)
{
	if (!probe && b->cfg.durable_acks && m->seq > b->st.durable_seq) {
		wsb_brk_fan_flush(b);
		if (pend_push(b, m, from, type))
			wsb_sessions_fanout(&b->ss, m, from, type, 0);	/* ENOMEM: now */
		return;
	}
	if (probe || !b->batching || strlen(type) > WSB_TYPE_MAX) {
		wsb_brk_fan_flush(b);
		wsb_sessions_fanout(&b->ss, m, from, type, probe);
		return;
	}
	if (b->nfan && (b->fan_from != from || strcmp(b->fan_type, type) || b->nfan == WSB_FANOUT_BATCH))
		wsb_brk_fan_flush(b);
	if (!b->nfan) {
		b->fan_from = from;
		strcpy(b->fan_type, type);
	}
	m->refs++;
	b->fan[b->nfan++] = m;
}

void wsb_broker_input_more(struct wsb_broker *b, struct wsb_sess *s, const char *msg, size_t len)
{
	b->batching = 1;
	wsb_brk_input(b, s, msg, len);
	b->batching = 0;
}

void wsb_broker_input_end(struct wsb_broker *b)
{
	wsb_brk_fan_flush(b);
	wsb_sessions_flush(&b->ss);
	wsb_brk_check_pressure(b);
}

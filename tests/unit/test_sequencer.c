/* The broker in cluster mode: publishes go to a sequencer, the stream
 * numbers and fans them out, acks follow the sequencer's answer. */
#define T_SUITE "sequencer"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "broker.h"

#define BUFSZ (1u << 16)

static unsigned char tbuf[BUFSZ];
static char pay[64][1024];
static int npay;

struct seqrec {
	int submits, refuse;
	char msg[1024], producer[80];
	uint64_t from, pseq;
	int has_hash;
};
static struct seqrec Q;
static int pressure;

static int h_submit(void *ud, const struct wsb_submit *sm)
{
	struct seqrec *q = ud;

	if (q->refuse)
		return -1;
	q->submits++;
	snprintf(q->msg, sizeof q->msg, "%.*s", (int)sm->len, sm->msg);
	snprintf(q->producer, sizeof q->producer, "%s", sm->producer ? sm->producer : "");
	q->from = sm->from;
	q->pseq = sm->pseq;
	q->has_hash = sm->hash != NULL;
	return 0;
}

static void h_pressure(void *ud, int on)
{
	pressure = on;
}

static void fixed_now(struct timespec *ts)
{
	ts->tv_sec = 1795317100;
	ts->tv_nsec = 0;
}

static struct wsb_broker *mk(void)
{
	struct wsb_broker_cfg cfg = { .max_queue = 1u << 20, .max_memory = 1u << 24, .history = 100,
				      .now = fixed_now };
	struct wsb_broker_hooks hooks = { .pressure = h_pressure };
	struct wsb_broker_seq seq = { &Q, h_submit };
	struct wsb_err err;
	struct wsb_broker *b = wsb_broker_new(&cfg, &hooks, &err);

	memset(&Q, 0, sizeof Q);
	T_CHECK(b != NULL);
	wsb_broker_set_sequencer(b, &seq);
	return b;
}

/* Payloads of the frames take() gives (small frames only). */
static int drain(struct wsb_broker *b, struct wsb_sess *s)
{
	size_t n = wsb_broker_take(b, s, tbuf, BUFSZ, BUFSZ), i = 0;

	npay = 0;
	while (i + 2 <= n && npay < 64) {
		size_t len = tbuf[i + 1] & 0x7f, h = 2;

		if (len == 126) {
			len = (size_t)tbuf[i + 2] << 8 | tbuf[i + 3];
			h = 4;
		}
		snprintf(pay[npay++], sizeof pay[0], "%.*s", (int)len, (const char *)tbuf + i + h);
		i += h + len;
	}
	return npay;
}

static struct wsb_sess *join(struct wsb_broker *b, void *conn, const char *producer)
{
	struct wsb_join j = { .producer = producer };
	struct wsb_err err;
	struct wsb_sess *s = wsb_broker_join_ex(b, conn, &j, &err);

	T_CHECK(s != NULL);
	T_CHECK(drain(b, s) == 1);	/* the greeting */
	return s;
}

static void in(struct wsb_broker *b, struct wsb_sess *s, const char *msg)
{
	wsb_broker_input(b, s, msg, strlen(msg));
}

/* Another instance's message at seq. */
static int seqd(struct wsb_broker *b, const char *msg, uint64_t seq)
{
	return wsb_broker_sequenced(b, msg, strlen(msg), seq, 0);
}

static void test_stream_numbers(void)
{
	struct wsb_broker *b = mk();
	struct wsb_sess *pub = join(b, (void *)1, NULL), *sub = join(b, (void *)2, NULL);
	struct wsb_broker_stats st;

	in(b, pub, "{\"type\":\"t\",\"data\":1}");
	T_CHECK(Q.submits == 1);
	/* Stamped with its timestamp, not numbered, and delivered to nobody yet. */
	T_STREQ(Q.msg, "{\"type\":\"t\",\"data\":1,\"timestamp\":\"2026-11-22T03:11:40.000Z\"}");
	T_CHECK(drain(b, sub) == 0);
	wsb_broker_stats(b, &st);
	T_CHECK(st.seq == 0);

	/* Another instance's message comes first in the stream: one order. */
	T_CHECK(seqd(b, "{\"type\":\"t\",\"data\":0,\"timestamp\":\"x\"}", 1) == 0);
	T_CHECK(wsb_broker_sequenced(b, Q.msg, strlen(Q.msg), 2, Q.from) == 0);
	T_CHECK(drain(b, sub) == 2);
	T_STREQ(pay[0], "{\"type\":\"t\",\"data\":0,\"timestamp\":\"x\",\"seq\":1}");
	T_CHECK(strstr(pay[1], "\"data\":1,") && strstr(pay[1], ",\"seq\":2}"));
	/* Its own publish is not echoed to the publisher; the other is. */
	T_CHECK(drain(b, pub) == 1 && strstr(pay[0], "\"seq\":1}"));
	/* Read twice (a reconnect): ignored. */
	T_CHECK(wsb_broker_sequenced(b, Q.msg, strlen(Q.msg), 2, 0) == 0);
	T_CHECK(drain(b, sub) == 0);
	wsb_broker_stats(b, &st);
	T_CHECK(st.seq == 2 && st.messages_in == 2 && st.retained == 2);
	wsb_broker_free(b);
}

static void test_stream_gap(void)
{
	struct wsb_broker *b = mk();
	struct wsb_sess *sub = join(b, (void *)2, NULL);

	T_CHECK(seqd(b, "{\"type\":\"t\"}", 1) == 0);
	T_CHECK(seqd(b, "{\"type\":\"t\"}", 5) == 0);
	T_CHECK(drain(b, sub) == 3);
	T_CHECK(strstr(pay[1], "\"type\":\"gap\",\"from\":2,\"to\":4") != NULL);
	T_CHECK(strstr(pay[1], "\"reason\":\"cluster\"") != NULL);
	T_STREQ(pay[2], "{\"type\":\"t\",\"seq\":5}");
	/* Lost for good and unknown how far: the numbering jumps past it. */
	wsb_broker_gap(b, 6, 9, "cluster");
	T_CHECK(drain(b, sub) == 1 && strstr(pay[0], "\"from\":6,\"to\":9"));
	T_CHECK(seqd(b, "{\"type\":\"t\"}", 10) == 0);
	T_CHECK(drain(b, sub) == 1 && !strcmp(pay[0], "{\"type\":\"t\",\"seq\":10}"));
	wsb_broker_free(b);
}

static void test_acks_follow_sequencer(void)
{
	struct wsb_broker *b = mk();
	struct wsb_sess *p = join(b, (void *)1, "prod-1");
	uint64_t from;

	in(b, p, "{\"type\":\"t\",\"producer\":\"prod-1\",\"pseq\":1}");
	T_CHECK(Q.submits == 1 && !strcmp(Q.producer, "prod-1") && Q.pseq == 1 && Q.has_hash);
	T_CHECK(drain(b, p) == 0);	/* no ack before the stream has it */
	from = Q.from;
	wsb_broker_submitted(b, from, 1, WSB_SEQ_OK);
	T_CHECK(drain(b, p) == 1);
	T_STREQ(pay[0], "{\"type\":\"ack\",\"pseq\":1}");
	/* A duplicate the cluster recognised is acknowledged too. */
	in(b, p, "{\"type\":\"t\",\"producer\":\"prod-1\",\"pseq\":2}");
	wsb_broker_submitted(b, from, 2, WSB_SEQ_DUP);
	T_CHECK(drain(b, p) == 1 && !strcmp(pay[0], "{\"type\":\"ack\",\"pseq\":2}"));
	/* Refused: an error, and nothing after it is published or acked,
	 * since an ack of 4 would cover 3. */
	in(b, p, "{\"type\":\"t\",\"producer\":\"prod-1\",\"pseq\":3}");
	in(b, p, "{\"type\":\"t\",\"producer\":\"prod-1\",\"pseq\":4}");
	T_CHECK(Q.submits == 4);
	wsb_broker_submitted(b, from, 3, WSB_SEQ_UNAVAILABLE);
	wsb_broker_submitted(b, from, 4, WSB_SEQ_OK);
	T_CHECK(drain(b, p) == 1 && strstr(pay[0], "\"code\":\"UNAVAILABLE\""));
	in(b, p, "{\"type\":\"t\",\"producer\":\"prod-1\",\"pseq\":5}");
	T_CHECK(Q.submits == 4);
	T_CHECK(drain(b, p) == 1 && strstr(pay[0], "\"code\":\"UNAVAILABLE\""));
	/* Even a resend of what was acked: refused again, not acked. */
	in(b, p, "{\"type\":\"t\",\"producer\":\"prod-1\",\"pseq\":2}");
	T_CHECK(drain(b, p) == 1 && strstr(pay[0], "\"code\":\"UNAVAILABLE\"") && Q.submits == 4);
	/* The session left: a late answer finds nobody. */
	wsb_broker_leave(b, p);
	wsb_broker_submitted(b, from, 6, WSB_SEQ_OK);
	wsb_broker_free(b);
}

static void test_refused_and_hold(void)
{
	struct wsb_broker *b = mk();
	struct wsb_sess *p = join(b, (void *)1, NULL);

	Q.refuse = 1;
	in(b, p, "{\"type\":\"t\"}");
	T_CHECK(drain(b, p) == 1 && strstr(pay[0], "\"code\":\"UNAVAILABLE\""));
	/* A plain publisher is not cut off: the next one goes when it can. */
	Q.refuse = 0;
	in(b, p, "{\"type\":\"t\"}");
	T_CHECK(Q.submits == 1);
	/* Probes stay local: seen by their prober only, no seq. */
	in(b, p, "{\"type\":\"$probe.x\"}");
	T_CHECK(Q.submits == 1);
	wsb_broker_hold(b, 1);
	T_CHECK(pressure == 1);
	wsb_broker_hold(b, 0);
	T_CHECK(pressure == 0);
	wsb_broker_free(b);
}

int main(void)
{
	T_RUN(test_stream_numbers);
	T_RUN(test_stream_gap);
	T_RUN(test_acks_follow_sequencer);
	T_RUN(test_refused_and_hold);
	return t_done();
}

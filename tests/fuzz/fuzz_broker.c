/* fuzz_broker — operation sequences on the transport-free broker.
 * Input: a configuration header (queue, memory and history limits, stall
 * time, durable acks, snapshot keys), then ops: join, subscribe, input
 * (publish, ping, subscribe/unsubscribe, producer lines, raw bytes), take,
 * tick (the injected clocks advance), durable, leave.
 * Invariants: take never writes past hard nor returns more than soft except
 * for one single frame; everything taken is whole unmasked text frames of
 * valid JSON objects; a session's published messages arrive in seq order;
 * the journal hook sees strictly increasing seqs; a closed session gets
 * nothing more; the greeting tells the transport's max_message; a session's
 * counts (GET /clients) grow by one per input and by the frames take()
 * handed it, acks and too_big gaps aside, like the broker's own; once
 * everyone left, no connection, subscriber or queued byte is counted;
 * ASan's leak check sees every buffer freed. */
#include "fuzz.h"

#include <inttypes.h>

#include "broker.h"
#include "envelope.h"
#include "frame.h"

#define NSESS 6
#define MAX_MESSAGE 4096

struct slot {
	struct wsb_sess *s;
	int closed;		/* hooks.close was called: the transport closes it */
	int check_order;
	uint64_t last_seq;
};

static struct {
	struct slot sl[NSESS];
	struct wsb_broker *b;
	uint64_t mono;
	uint64_t journal_seq;
	int pressure;
	int batched;		/* input() as the server does: wsb_broker_input_more */
} F;

static const char *const types[] = { "a", "b", "order", "tick.x", "tick.y", "snapshot", "ping" };
static const char *const pats[] = { "*", "a", "tick.*", "o?der", "b*", "", "\x01", "zz" };

static void f_now(struct timespec *ts)
{
	ts->tv_sec = 1795317100 + (time_t)(F.mono / 1000);
	ts->tv_nsec = (long)(F.mono % 1000) * 1000000L;
}

static uint64_t f_mono(void)
{
	return F.mono;
}

static void h_wake(void *ud, void *conn)
{
}

static void h_close(void *ud, void *conn, int code, const char *reason)
{
	struct slot *sl = conn;

	FUZZ_CHECK(reason != NULL);	/* may come from inside join (sl->s unset) */
	FUZZ_CHECK(code >= 1000 && code < 5000);
	sl->closed = 1;
}

static void h_pressure(void *ud, int on)
{
	F.pressure = on;
}

static void h_journal(void *ud, const char *msg, size_t len, uint64_t seq)
{
	FUZZ_CHECK(seq > F.journal_seq);
	FUZZ_CHECK(len >= 2 && msg[0] == '{' && msg[len - 1] == '}' && !memchr(msg, '\n', len));
	F.journal_seq = seq;
}

/* The first member's value, as a snapshot key: exercises keyed snapshots
 * and messages without a key. */
static int h_snapkey(void *ud, const char *msg, size_t len, char *key, size_t cap)
{
	size_t n = len > 3 && msg[len - 2] == '1' ? 3 : 0;

	if (!n || n > cap)
		return -1;
	memcpy(key, msg + 1, n);
	return (int)n;
}

/* One frame's payload: a JSON object; published messages in seq order.
 * Returns 1 if the broker counts it as a message out: not an ack, nor a
 * gap record for a message too big to send. */
static int check_payload(struct slot *sl, const char *p, size_t len)
{
	char *out = malloc(len ? len : 1);
	struct wsb_env env;
	struct wsb_span v;
	ssize_t n = wsb_env_parse(p, len, out, NULL, &env, NULL);
	uint64_t mm;
	int counted = 1;

	FUZZ_CHECK(n >= 0);
	if (sl->check_order && env.has_type && env.has_seq && !wsb_env_type_reserved(env.type)) {
		FUZZ_CHECK(env.seq > sl->last_seq);
		sl->last_seq = env.seq;
	}
	if (env.has_type && !strcmp(env.type, "connection_established"))
		FUZZ_CHECK(wsb_env_lookup(out, (size_t)n, "max_message", &v) &&
			   !wsb_env_uint(out + v.off, v.len, &mm) && mm == MAX_MESSAGE);
	if (env.has_type && !strcmp(env.type, "ack"))
		counted = 0;
	if (env.has_type && !strcmp(env.type, "gap") && memmem(out, (size_t)n, "\"too_big\"", 9))
		counted = 0;
	free(out);
	return counted;
}

/* Splits out[0..n) into frames; returns how many, and in *counted how many
 * count as messages out. */
static int check_frames(struct slot *sl, const unsigned char *p, size_t n, int *counted)
{
	size_t i = 0;
	int frames = 0;

	*counted = 0;

	while (i < n) {
		uint64_t len;
		size_t h = 2;

		FUZZ_CHECK(n - i >= 2 && p[i] == (0x80 | WSB_OP_TEXT) && !(p[i + 1] & 0x80));
		len = p[i + 1] & 0x7f;
		if (len >= 126) {
			h = len == 126 ? 4 : 10;
			FUZZ_CHECK(n - i >= h);
			len = 0;
			for (size_t k = 2; k < h; k++)
				len = len << 8 | p[i + k];
		}
		FUZZ_CHECK(len <= n - i - h);
		*counted += check_payload(sl, (const char *)p + i + h, (size_t)len);
		i += h + (size_t)len;
		frames++;
	}
	return frames;
}

static void op_take(struct fuzz_in *in, struct slot *sl)
{
	size_t hard = wsb_broker_frame_max(MAX_MESSAGE), soft = 1 + fuzz_u16(in) % 70000;
	struct wsb_sess_info before, after;
	struct wsb_broker_stats st0, st1;
	unsigned char *out;
	int counted = 0;
	size_t n;

	if (fuzz_u8(in) % 8 == 0)
		hard = 1 + fuzz_u16(in) % hard;	/* a transport with less room than it should */
	out = malloc(hard);
	wsb_broker_sess_info(sl->s, &before);
	wsb_broker_stats(F.b, &st0);
	n = wsb_broker_take(F.b, sl->s, out, soft, hard);
	wsb_broker_sess_info(sl->s, &after);
	wsb_broker_stats(F.b, &st1);
	FUZZ_CHECK(n <= hard);
	FUZZ_CHECK(!sl->closed || n == 0);
	if (n) {
		int frames = check_frames(sl, out, n, &counted);

		FUZZ_CHECK(n <= soft || frames == 1);
	}
	FUZZ_CHECK(after.messages_out - before.messages_out == (uint64_t)counted);
	FUZZ_CHECK(st1.messages_out - st0.messages_out == (uint64_t)counted);
	FUZZ_CHECK(!strcmp(after.id, wsb_broker_client_id(sl->s)));
	free(out);
}

static void op_join(struct fuzz_in *in, struct slot *sl)
{
	static char producer[8];
	const char *tv[2];
	unsigned f = fuzz_u8(in), arg = fuzz_u8(in);
	struct wsb_join j;
	struct wsb_err err;

	memset(&j, 0, sizeof j);
	j.flags = f & 1 ? WSB_SESS_ECHO : 0;
	if (f & 2) {
		snprintf(producer, sizeof producer, "p%u", arg % 3);
		j.producer = producer;
	}
	j.resume = !!(f & 4);
	j.since = arg % 16;
	j.epoch = f & 8 ? "0000000000000000" : NULL;
	j.subscribe_none = !!(f & 16);
	j.snapshot = !!(f & 32);
	tv[0] = pats[arg % 8];
	tv[1] = pats[(arg >> 3) % 8];
	j.types = tv;
	j.ntypes = f >> 6;
	if (j.ntypes > 2)
		j.ntypes = 2;
	memset(sl, 0, sizeof *sl);
	sl->s = f == 0 ? wsb_broker_join(F.b, sl, 0, &err) : wsb_broker_join_ex(F.b, sl, &j, &err);
	if (!sl->s)
		FUZZ_CHECK(err.msg[0]);
	sl->check_order = !j.snapshot;
}

static void input(struct slot *sl, const char *msg, size_t len)
{
	char *copy = fuzz_dup(msg, len);
	struct wsb_sess_info before, after;

	wsb_broker_sess_info(sl->s, &before);
	if (F.batched)	/* the server's way: fan-out may wait for input_end */
		wsb_broker_input_more(F.b, sl->s, copy, len);
	else
		wsb_broker_input(F.b, sl->s, copy, len);
	wsb_broker_sess_info(sl->s, &after);
	FUZZ_CHECK(after.messages_in == before.messages_in + 1);
	free(copy);
}

static void op_publish(struct fuzz_in *in, struct slot *sl)
{
	unsigned t = fuzz_u8(in), d = fuzz_u8(in), pseq = fuzz_u8(in);
	char m[160];
	int n;

	if (t & 0x80)
		n = snprintf(m, sizeof m, "{\"type\":\"%s\",\"producer\":\"p%u\",\"pseq\":%u,\"data\":%u}",
			     types[t % 7], d % 3, pseq, d);
	else
		n = snprintf(m, sizeof m, "{\"type\":\"%s\",\"data\":{\"v\":%u,\"pad\":\"%.*s\"}}",
			     types[t % 7], d, (int)(pseq % 100),
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	input(sl, m, (size_t)n);
}

static void op_control(struct fuzz_in *in, struct slot *sl)
{
	unsigned c = fuzz_u8(in), a = fuzz_u8(in);
	char m[160];
	int n;

	if (c % 3 == 0)
		n = snprintf(m, sizeof m, "{\"type\":\"ping\",\"data\":%u}", a);
	else
		n = snprintf(m, sizeof m, "{\"type\":\"%s\",\"types\":[\"%s\",\"%s\"]}",
			     c % 3 == 1 ? "subscribe" : "unsubscribe", pats[a % 8], pats[(a >> 3) % 8]);
	input(sl, m, (size_t)n);
}

static void op(struct fuzz_in *in)
{
	unsigned o = fuzz_u8(in), k = fuzz_u8(in) % NSESS;
	struct slot *sl = &F.sl[k];
	struct wsb_err err;
	size_t len;
	const uint8_t *raw;

	/* A read ends now and then; input switches between one by one and
	 * batched, and every other call below must see the batch out. */
	if (o & 0x80)
		wsb_broker_input_end(F.b);
	if ((o & 0x60) == 0x60)
		F.batched ^= 1;

	if (o % 9 == 0) {
		if (!sl->s)
			op_join(in, sl);
		return;
	}
	if (o % 9 == 6) {		/* time passes, with or without sessions */
		F.mono += fuzz_u8(in) * 20u;
		wsb_broker_tick(F.b);
		return;
	}
	if (!sl->s)
		return;
	switch (o % 9) {
	case 1:
		(void)wsb_broker_subscribe(F.b, sl->s, pats[fuzz_u8(in) % 8], &err);
		break;
	case 2:
		op_publish(in, sl);
		break;
	case 3:
		raw = fuzz_bytes(in, 255, &len);
		input(sl, (const char *)raw, len);
		break;
	case 4:
		op_control(in, sl);
		break;
	case 5:
		op_take(in, sl);
		break;
	case 7:
		wsb_broker_leave(F.b, sl->s);
		sl->s = NULL;
		break;
	default: {
		struct wsb_broker_stats st;

		unsigned back = fuzz_u8(in) % 4;

		wsb_broker_stats(F.b, &st);	/* the journal never claims more than seq */
		wsb_broker_durable(F.b, st.seq >= back ? st.seq - back : 0);
		break;
	}
	}
}

static struct wsb_broker *mk(struct fuzz_in *in)
{
	unsigned f = fuzz_u8(in);
	struct wsb_broker_cfg cfg = {
		.max_queue = (fuzz_u16(in) + 1u) * 16u,
		.max_memory = fuzz_u16(in) * 64u,
		.history = fuzz_u8(in),
		.history_bytes = fuzz_u16(in) * 8u,
		.stall_ms = fuzz_u8(in) * 10u,
		.durable_acks = f & 1,
		.max_producers = f >> 5,
		.greeting = f & 2 ? "hello \"fuzz\"" : NULL,
		.now = f_now,
		.mono_ms = f_mono,
		.snapshot_bytes = f & 8 ? 1u << (10 + (f >> 4) % 8) : 0,
		.max_message = MAX_MESSAGE,
	};
	struct wsb_broker_hooks hooks = { .wake = h_wake, .close = h_close, .pressure = h_pressure,
					  .journal = h_journal, .snapshot_key = f & 4 ? h_snapkey : NULL };
	struct wsb_err err;
	struct wsb_broker *b = wsb_broker_new(&cfg, &hooks, &err);

	FUZZ_CHECK(b != NULL);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct wsb_broker_stats st;
	int k;

	memset(&F, 0, sizeof F);
	F.mono = 1000;
	F.b = mk(&in);
	while (in.n)
		op(&in);
	for (k = 0; k < NSESS; k++)
		if (F.sl[k].s)
			wsb_broker_leave(F.b, F.sl[k].s);
	wsb_broker_stats(F.b, &st);
	/* With durable acks, messages wait for the journal (and count as
	 * queued) until it has them: let it catch up, as it would. */
	wsb_broker_durable(F.b, st.seq);
	wsb_broker_stats(F.b, &st);
	FUZZ_CHECK(st.connections == 0 && st.subscribers == 0);
	FUZZ_CHECK(st.queued_bytes == 0);
	FUZZ_CHECK(st.seq >= F.journal_seq);
	wsb_broker_free(F.b);
	return 0;
}

#define T_SUITE "msgq"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "msgq.h"

/* Byte j of the record with key k: depends on both, so a record read from
 * the wrong place, shifted by a byte, or overwritten shows up. */
static unsigned char pat(uint64_t k, size_t j)
{
	return (unsigned char)((k * 2654435761u >> 11) ^ (j * 31) ^ (j >> 8) ^ k);
}

static void fill(char *buf, size_t len, uint64_t k)
{
	size_t j;

	for (j = 0; j < len; j++)
		buf[j] = (char)pat(k, j);
}

static int same(const char *data, size_t len, uint64_t k)
{
	size_t j;

	for (j = 0; j < len; j++)
		if ((unsigned char)data[j] != pat(k, j))
			return 0;
	return 1;
}

static int push_pat(struct wsb_msgq *q, size_t len, uint64_t id)
{
	char *buf = malloc(len ? len : 1);
	int r;

	if (!buf)
		return -1;
	fill(buf, len, id);
	r = wsb_msgq_push(q, buf, len, id);
	free(buf);
	return r;
}

static int counters(const struct wsb_msgq *q, size_t count, size_t unsent, size_t bytes)
{
	return wsb_msgq_count(q) == count && wsb_msgq_unsent(q) == unsent && wsb_msgq_bytes(q) == bytes;
}

/* 1 if the cursor record is id with len bytes of pattern id. */
static int peek_is(const struct wsb_msgq *q, uint64_t id, size_t len)
{
	const char *d = NULL;
	size_t l = 0;
	uint64_t i = 0;

	return wsb_msgq_peek(q, &d, &l, &i) == 1 && i == id && l == len && d && same(d, l, id);
}

static int first_is(const struct wsb_msgq *q, uint64_t id, size_t len)
{
	const char *d = NULL;
	size_t l = 0;
	uint64_t i = 0;

	return wsb_msgq_first(q, &d, &l, &i) == 1 && i == id && l == len && d && same(d, l, id);
}

static void test_push_peek_advance_order(void)
{
	struct wsb_msgq *q = wsb_msgq_new();
	const char *d;
	size_t l;
	uint64_t i;

	T_CHECK(q);
	T_CHECK(wsb_msgq_push(q, "alpha", 5, 1) == 0);
	T_CHECK(wsb_msgq_push(q, "be", 2, 2) == 0);
	T_CHECK(wsb_msgq_push(q, "{\"x\":3}", 7, 7) == 0);

	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1);
	T_CHECK(l == 5 && i == 1 && !memcmp(d, "alpha", 5));
	/* peek does not move the cursor */
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1 && i == 1);
	wsb_msgq_advance(q);
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1);
	T_CHECK(l == 2 && i == 2 && !memcmp(d, "be", 2));
	wsb_msgq_advance(q);
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1);
	T_CHECK(l == 7 && i == 7 && !memcmp(d, "{\"x\":3}", 7));
	wsb_msgq_advance(q);
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 0);
	/* advancing with nothing unsent changes nothing */
	wsb_msgq_advance(q);
	T_CHECK(counters(q, 3, 0, 14));
	/* the head is untouched by sending */
	T_CHECK(wsb_msgq_first(q, &d, &l, &i) == 1 && i == 1 && l == 5 && !memcmp(d, "alpha", 5));

	/* a record pushed after the cursor caught up is the next one peeked */
	T_CHECK(wsb_msgq_push(q, "z", 1, 9) == 0);
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1 && i == 9 && l == 1 && d[0] == 'z');
	wsb_msgq_free(q);
}

static void test_release_moves_head_and_cursor(void)
{
	struct wsb_msgq *q = wsb_msgq_new();
	uint64_t id;

	for (id = 10; id <= 50; id += 10)
		T_CHECK(push_pat(q, (size_t)id, id) == 0);
	wsb_msgq_advance(q);
	wsb_msgq_advance(q);	/* 10, 20 sent; cursor on 30 */
	T_CHECK(counters(q, 5, 3, 150));

	T_CHECK(wsb_msgq_release(q, 5) == 0);	/* below the head: nothing */
	T_CHECK(counters(q, 5, 3, 150));
	T_CHECK(wsb_msgq_release(q, 10) == 1);	/* exact id */
	T_CHECK(counters(q, 4, 3, 140));
	T_CHECK(first_is(q, 20, 20));
	T_CHECK(peek_is(q, 30, 30));
	T_CHECK(wsb_msgq_release(q, 25) == 1);	/* between ids releases up to 20 only */
	T_CHECK(counters(q, 3, 3, 120));
	T_CHECK(first_is(q, 30, 30));
	T_CHECK(peek_is(q, 30, 30));

	/* past the cursor: the cursor moves up to the new head */
	T_CHECK(wsb_msgq_release(q, 40) == 2);
	T_CHECK(counters(q, 1, 1, 50));
	T_CHECK(first_is(q, 50, 50));
	T_CHECK(peek_is(q, 50, 50));
	wsb_msgq_advance(q);
	T_CHECK(counters(q, 1, 0, 50));
	T_CHECK(wsb_msgq_release(q, UINT64_MAX) == 1);
	T_CHECK(counters(q, 0, 0, 0));
	T_CHECK(wsb_msgq_release(q, UINT64_MAX) == 0);

	/* the emptied queue works again */
	T_CHECK(push_pat(q, 3, 60) == 0);
	T_CHECK(counters(q, 1, 1, 3));
	T_CHECK(peek_is(q, 60, 3) && first_is(q, 60, 3));
	wsb_msgq_free(q);
}

static void test_rewind_resends_in_order(void)
{
	struct wsb_msgq *q = wsb_msgq_new();
	uint64_t id;

	for (id = 1; id <= 6; id++)
		T_CHECK(push_pat(q, (size_t)id * 3, id) == 0);
	for (id = 1; id <= 4; id++) {
		T_CHECK(peek_is(q, id, (size_t)id * 3));
		wsb_msgq_advance(q);
	}
	T_CHECK(counters(q, 6, 2, 63));
	wsb_msgq_rewind(q);
	T_CHECK(counters(q, 6, 6, 63));
	for (id = 1; id <= 6; id++) {
		T_CHECK(peek_is(q, id, (size_t)id * 3));
		wsb_msgq_advance(q);
	}
	T_CHECK(counters(q, 6, 0, 63));

	/* after an ack the resend starts at the new head, not the old one */
	T_CHECK(wsb_msgq_release(q, 2) == 2);
	wsb_msgq_rewind(q);
	T_CHECK(counters(q, 4, 4, 54));
	for (id = 3; id <= 6; id++) {
		T_CHECK(peek_is(q, id, (size_t)id * 3));
		wsb_msgq_advance(q);
	}
	T_CHECK(wsb_msgq_unsent(q) == 0);

	/* rewinding twice, or with nothing sent, is harmless */
	wsb_msgq_rewind(q);
	wsb_msgq_rewind(q);
	T_CHECK(counters(q, 4, 4, 54));
	T_CHECK(peek_is(q, 3, 9));
	wsb_msgq_free(q);
}

static void test_drop_first(void)
{
	struct wsb_msgq *q = wsb_msgq_new();

	T_CHECK(push_pat(q, 100, 1) == 0);
	T_CHECK(push_pat(q, 200, 2) == 0);
	T_CHECK(push_pat(q, 300, 3) == 0);

	/* dropping an unsent head takes the cursor with it */
	T_CHECK(wsb_msgq_drop_first(q) == 1);
	T_CHECK(counters(q, 2, 2, 500));
	T_CHECK(first_is(q, 2, 200));
	T_CHECK(peek_is(q, 2, 200));

	/* dropping a sent head leaves the cursor where it was */
	wsb_msgq_advance(q);
	T_CHECK(counters(q, 2, 1, 500));
	T_CHECK(wsb_msgq_drop_first(q) == 1);
	T_CHECK(counters(q, 1, 1, 300));
	T_CHECK(first_is(q, 3, 300));
	T_CHECK(peek_is(q, 3, 300));

	T_CHECK(wsb_msgq_drop_first(q) == 1);
	T_CHECK(counters(q, 0, 0, 0));
	T_CHECK(wsb_msgq_drop_first(q) == 0);
	T_CHECK(counters(q, 0, 0, 0));
	wsb_msgq_free(q);
}

static void test_counters_every_operation(void)
{
	struct wsb_msgq *q = wsb_msgq_new();

	T_CHECK(counters(q, 0, 0, 0));
	T_CHECK(push_pat(q, 10, 1) == 0);
	T_CHECK(counters(q, 1, 1, 10));
	T_CHECK(push_pat(q, 0, 2) == 0);
	T_CHECK(counters(q, 2, 2, 10));
	T_CHECK(push_pat(q, 70000, 3) == 0);
	T_CHECK(counters(q, 3, 3, 70010));
	T_CHECK(push_pat(q, 5, 4) == 0);
	T_CHECK(counters(q, 4, 4, 70015));
	wsb_msgq_advance(q);
	T_CHECK(counters(q, 4, 3, 70015));
	wsb_msgq_advance(q);
	T_CHECK(counters(q, 4, 2, 70015));
	wsb_msgq_rewind(q);
	T_CHECK(counters(q, 4, 4, 70015));
	wsb_msgq_advance(q);
	wsb_msgq_advance(q);
	wsb_msgq_advance(q);
	T_CHECK(counters(q, 4, 1, 70015));
	T_CHECK(wsb_msgq_release(q, 1) == 1);
	T_CHECK(counters(q, 3, 1, 70005));
	T_CHECK(wsb_msgq_drop_first(q) == 1);	/* the empty record */
	T_CHECK(counters(q, 2, 1, 70005));
	T_CHECK(wsb_msgq_drop_first(q) == 1);	/* the big one */
	T_CHECK(counters(q, 1, 1, 5));
	wsb_msgq_advance(q);
	T_CHECK(counters(q, 1, 0, 5));
	T_CHECK(push_pat(q, 7, 5) == 0);
	T_CHECK(counters(q, 2, 1, 12));
	T_CHECK(wsb_msgq_release(q, 5) == 2);
	T_CHECK(counters(q, 0, 0, 0));
	wsb_msgq_rewind(q);
	T_CHECK(counters(q, 0, 0, 0));
	wsb_msgq_free(q);
}

/* Reference model of the queue: records are keys 0..n-1 with id 2k+1 (odd,
 * so an even id falls between two records) and length len[k]. */
struct model {
	size_t *len;
	size_t h, c, t;		/* head, cursor, tail as keys */
	size_t bytes;
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void model_release_to(struct model *m, size_t k_end)
{
	while (m->h < k_end) {
		m->bytes -= m->len[m->h];
		m->h++;
	}
	if (m->c < m->h)
		m->c = m->h;
}

/* 100000 records of 0..3000 bytes through a queue that is sent, acked,
 * dropped and rewound at random, checked against the model after every
 * operation; every byte is checked whenever a record is read. Also keeps one
 * pointer from first() and checks it stays intact until its record goes. */
static void test_many_records_across_chunks(void)
{
	enum { N = 100000 };
	struct wsb_msgq *q = wsb_msgq_new();
	struct model m = { 0 };
	uint64_t s = 0x2545f4914f6cdd1dULL;
	const char *held = NULL, *d;
	size_t held_k = 0, held_len = 0, l, k;
	size_t steps = 0, bad_counters = 0, bad_reads = 0, bad_held = 0, rewinds = 0, max_count = 0;
	uint64_t i;

	m.len = malloc(N * sizeof(*m.len));
	T_CHECK(q && m.len);
	if (!q || !m.len) {
		wsb_msgq_free(q);
		free(m.len);
		return;
	}
	while (m.t < N || m.h < m.t) {
		unsigned r = (unsigned)(rng_next(&s) % 1000);

		steps++;
		/* Alternate phases: in one, acks mostly stop so the backlog
		 * grows over many chunks; in the other it drains. */
		if ((steps / 5000) % 2 && r >= 800 && r < 990 && m.t < N && rng_next(&s) % 20)
			r = 420;	/* send instead */
		if (m.t < N && (r < 420 || m.h == m.t)) {
			k = m.t;
			m.len[k] = (size_t)(rng_next(&s) % 3001);
			if (push_pat(q, m.len[k], 2 * (uint64_t)k + 1) != 0)
				bad_reads++;
			m.bytes += m.len[k];
			m.t++;
		} else if (r < 800) {
			if (m.c < m.t) {
				if (wsb_msgq_peek(q, &d, &l, &i) != 1 || i != 2 * (uint64_t)m.c + 1 ||
				    l != m.len[m.c] || !same(d, l, 2 * (uint64_t)m.c + 1))
					bad_reads++;
				m.c++;
			} else if (wsb_msgq_peek(q, &d, &l, &i) != 0) {
				bad_reads++;
			}
			wsb_msgq_advance(q);
		} else if (r < 960 || m.t == N) {
			/* Mostly ack what was sent; sometimes past the cursor; an
			 * even id lands between records. */
			size_t lim = (r % 4 == 0 || m.t == N) ? m.t : m.c;
			size_t span = lim - m.h, n = span ? (size_t)(rng_next(&s) % (span + 1)) : 0;
			uint64_t ack;

			if (m.t == N && n == 0 && span)
				n = 1;	/* keep draining */
			if (n == 0)	/* the gap just below the head id */
				ack = 2 * (uint64_t)m.h;
			else		/* last key to go: its id, or the gap after it */
				ack = 2 * (uint64_t)(m.h + n - 1) + 1 + (r & 1);
			if (wsb_msgq_release(q, ack) != n)
				bad_reads++;
			model_release_to(&m, m.h + n);
		} else if (r < 990) {
			if (wsb_msgq_drop_first(q) != (m.h < m.t))
				bad_reads++;
			if (m.h < m.t)
				model_release_to(&m, m.h + 1);
		} else {
			wsb_msgq_rewind(q);
			m.c = m.h;
			rewinds++;
		}

		if (wsb_msgq_count(q) != m.t - m.h || wsb_msgq_unsent(q) != m.t - m.c ||
		    wsb_msgq_bytes(q) != m.bytes)
			bad_counters++;
		if (m.t - m.h > max_count)
			max_count = m.t - m.h;

		if (held && held_k < m.h)
			held = NULL;
		if (held && steps % 64 == 0 && !same(held, held_len, 2 * (uint64_t)held_k + 1))
			bad_held++;
		if (!held && m.h < m.t) {
			if (wsb_msgq_first(q, &held, &held_len, &i) != 1 || i != 2 * (uint64_t)m.h + 1 ||
			    held_len != m.len[m.h] || !same(held, held_len, i)) {
				bad_reads++;
				held = NULL;
			} else {
				held_k = m.h;
			}
		}
	}
	T_CHECK(bad_counters == 0);
	T_CHECK(bad_reads == 0);
	T_CHECK(bad_held == 0);
	T_CHECK(counters(q, 0, 0, 0));
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 0 && wsb_msgq_first(q, &d, &l, &i) == 0);
	/* the run must actually have exercised what it claims to */
	T_CHECK(rewinds > 100);
	T_CHECK(max_count > 500);	/* dozens of 64 KiB chunks queued at once */
	wsb_msgq_free(q);
	free(m.len);
}

/* Records whose header plus payload lands on, just under and just over a
 * 64 KiB chunk, and 1 MiB ones, between small ones. */
static void test_big_records(void)
{
	static const size_t sizes[] = {
		5, 1u << 20, 7, 65536 - 12, 65536 - 11, 65536, 0, 65537, 1u << 20, 1u << 20, 3,
		65536 - 13, 1, 65536 - 12, 2,
	};
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	struct wsb_msgq *q = wsb_msgq_new();
	const char *ptr[NS], *d;
	size_t k, l, total = 0;
	uint64_t i;

	for (k = 0; k < NS; k++) {
		T_CHECK(push_pat(q, sizes[k], k + 1) == 0);
		total += sizes[k];
	}
	T_CHECK(counters(q, NS, NS, total));
	for (k = 0; k < NS; k++) {
		T_CHECK(peek_is(q, k + 1, sizes[k]));
		wsb_msgq_peek(q, &ptr[k], &l, &i);
		wsb_msgq_advance(q);
	}
	T_CHECK(counters(q, NS, 0, total));

	/* pushing more must not move anything already returned */
	T_CHECK(push_pat(q, 1u << 20, 100) == 0);
	T_CHECK(push_pat(q, 10, 101) == 0);
	for (k = 0; k < NS; k++)
		T_CHECK(same(ptr[k], sizes[k], k + 1));

	wsb_msgq_rewind(q);
	for (k = 0; k < NS; k++) {
		T_CHECK(first_is(q, k + 1, sizes[k]));
		T_CHECK(peek_is(q, k + 1, sizes[k]));
		T_CHECK(wsb_msgq_release(q, k + 1) == 1);
		total -= sizes[k];
		T_CHECK(counters(q, NS - k + 1, NS - k + 1, total + (1u << 20) + 10));
		/* the records still queued are intact after each release */
		if (k + 1 < NS)
			T_CHECK(same(ptr[k + 1], sizes[k + 1], k + 2));
	}
	T_CHECK(peek_is(q, 100, 1u << 20));
	wsb_msgq_advance(q);
	T_CHECK(peek_is(q, 101, 10));
	T_CHECK(wsb_msgq_release(q, 101) == 2);
	T_CHECK(counters(q, 0, 0, 0));

	/* a big record as the only one, released, then small ones reuse the queue */
	T_CHECK(push_pat(q, 1u << 20, 200) == 0);
	T_CHECK(wsb_msgq_drop_first(q) == 1);
	T_CHECK(push_pat(q, 4, 201) == 0);
	T_CHECK(peek_is(q, 201, 4) && first_is(q, 201, 4));
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1);
	wsb_msgq_free(q);
}

/* The cursor sitting at the append point when a push has to open a new chunk
 * (big or normal) must find that record next. */
static void test_caught_up_cursor_across_chunks(void)
{
	struct wsb_msgq *q = wsb_msgq_new();
	uint64_t id;
	size_t len, bad = 0;

	T_CHECK(push_pat(q, 1, 1) == 0);	/* held back: head stays behind */
	wsb_msgq_advance(q);
	for (id = 2; id < 2000; id++) {
		len = id % 50 == 0 ? 100000 : 997;
		if (push_pat(q, len, id) != 0 || !peek_is(q, id, len))
			bad++;
		wsb_msgq_advance(q);
		if (wsb_msgq_unsent(q) != 0 || wsb_msgq_count(q) != id)
			bad++;
	}
	T_CHECK(bad == 0);
	T_CHECK(first_is(q, 1, 1));
	wsb_msgq_rewind(q);
	for (id = 1; id < 2000; id++) {
		len = id == 1 ? 1 : id % 50 == 0 ? 100000 : 997;
		if (!peek_is(q, id, len))
			bad++;
		wsb_msgq_advance(q);
	}
	T_CHECK(bad == 0);
	T_CHECK(wsb_msgq_unsent(q) == 0);
	wsb_msgq_free(q);
}

static void test_zero_length_records(void)
{
	struct wsb_msgq *q = wsb_msgq_new();
	const char *d;
	size_t l;
	uint64_t i, id, bad = 0;

	T_CHECK(wsb_msgq_push(q, NULL, 0, 1) == 0);
	T_CHECK(wsb_msgq_push(q, "x", 0, 2) == 0);
	T_CHECK(counters(q, 2, 2, 0));
	l = 99;
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1 && l == 0 && i == 1);
	wsb_msgq_advance(q);
	l = 99;
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 1 && l == 0 && i == 2);
	wsb_msgq_advance(q);
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 0);
	T_CHECK(wsb_msgq_release(q, 2) == 2);

	/* enough of them to fill several chunks on headers alone */
	for (id = 10; id < 30010; id++)
		if (wsb_msgq_push(q, NULL, 0, id) != 0)
			bad++;
	T_CHECK(counters(q, 30000, 30000, 0));
	for (id = 10; id < 30010; id++) {
		if (wsb_msgq_peek(q, &d, &l, &i) != 1 || l != 0 || i != id)
			bad++;
		wsb_msgq_advance(q);
	}
	T_CHECK(bad == 0);
	T_CHECK(counters(q, 30000, 0, 0));
	T_CHECK(wsb_msgq_release(q, 20009) == 20000);
	T_CHECK(counters(q, 10000, 0, 0));
	T_CHECK(wsb_msgq_first(q, &d, &l, &i) == 1 && i == 20010 && l == 0);
	wsb_msgq_free(q);
}

static void test_empty_queue(void)
{
	struct wsb_msgq *q = wsb_msgq_new();
	const char *d = NULL;
	size_t l = 0;
	uint64_t i = 0;
	int round;

	/* once fresh, once drained after use */
	for (round = 0; round < 2; round++) {
		T_CHECK(counters(q, 0, 0, 0));
		T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 0);
		T_CHECK(wsb_msgq_first(q, &d, &l, &i) == 0);
		T_CHECK(wsb_msgq_release(q, UINT64_MAX) == 0);
		T_CHECK(wsb_msgq_drop_first(q) == 0);
		wsb_msgq_advance(q);
		wsb_msgq_rewind(q);
		T_CHECK(counters(q, 0, 0, 0));
		T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 0);

		T_CHECK(push_pat(q, 70000, 1) == 0);
		T_CHECK(push_pat(q, 20, 2) == 0);
		wsb_msgq_advance(q);
		T_CHECK(wsb_msgq_release(q, 2) == 2);
	}
	/* all sent and all acked but nothing left: peek still says no */
	T_CHECK(counters(q, 0, 0, 0));
	T_CHECK(wsb_msgq_peek(q, &d, &l, &i) == 0);
	wsb_msgq_free(q);
}

/* Freed with queued records in several chunks, a big one, a cursor midway
 * and a cached spare chunk: under ASan, any leak fails the binary. */
static void test_free_with_records_queued(void)
{
	struct wsb_msgq *q = wsb_msgq_new();
	uint64_t id;

	for (id = 1; id <= 300; id++)
		T_CHECK(push_pat(q, 1000, id) == 0);
	T_CHECK(push_pat(q, 1u << 20, 301) == 0);
	for (id = 302; id <= 400; id++)
		T_CHECK(push_pat(q, 500, id) == 0);
	for (id = 1; id <= 200; id++)
		wsb_msgq_advance(q);
	T_CHECK(wsb_msgq_release(q, 150) == 150);	/* frees a chunk or two into the spare */
	T_CHECK(counters(q, 250, 200, 150 * 1000 + (1u << 20) + 99 * 500));
	wsb_msgq_free(q);

	/* and a queue that was never used */
	wsb_msgq_free(wsb_msgq_new());
}

int main(void)
{
	T_RUN(test_push_peek_advance_order);
	T_RUN(test_release_moves_head_and_cursor);
	T_RUN(test_rewind_resends_in_order);
	T_RUN(test_drop_first);
	T_RUN(test_counters_every_operation);
	T_RUN(test_many_records_across_chunks);
	T_RUN(test_big_records);
	T_RUN(test_caught_up_cursor_across_chunks);
	T_RUN(test_zero_length_records);
	T_RUN(test_empty_queue);
	T_RUN(test_free_with_records_queued);
	return t_done();
}

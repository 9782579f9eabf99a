#define T_SUITE "ring"
#include "t.h"

#include <stdint.h>

#include "ring.h"

/* Growth while wrapped keeps FIFO order: checked against a counter over
 * many interleaved pushes and pops. */
static void test_fifo_across_growth(void)
{
	struct wsb_ring r;
	uint64_t next_in = 0, next_out = 0;
	int ok = 1;

	wsb_ring_init(&r, sizeof(uint64_t));
	for (int round = 0; round < 2000; round++) {
		for (int k = 0; k < round % 7 + 1; k++)
			*(uint64_t *)wsb_ring_push(&r) = next_in++;
		for (int k = 0; k < round % 5 && r.n; k++) {
			ok &= *(uint64_t *)wsb_ring_at(&r, 0) == next_out++;
			wsb_ring_pop(&r);
		}
	}
	for (size_t i = 0; i < r.n; i++)
		ok &= *(uint64_t *)wsb_ring_at(&r, i) == next_out + i;
	T_CHECK(ok && r.n == next_in - next_out);
	T_CHECK((r.cap & (r.cap - 1)) == 0 && r.cap >= r.n);
	wsb_ring_free(&r);
}

/* Odd element sizes, and reserve rounding up to a power of two. */
static void test_reserve(void)
{
	struct wsb_ring r;
	char *e;

	wsb_ring_init(&r, 13);
	T_CHECK(wsb_ring_reserve(&r, 100) == 0 && r.cap == 128);
	for (int i = 0; i < 128; i++) {
		e = wsb_ring_push(&r);
		memset(e, 'a' + i % 26, 13);
	}
	T_CHECK(r.cap == 128);	/* no growth below the reserve */
	e = wsb_ring_at(&r, 127);
	T_CHECK(e[0] == 'a' + 127 % 26 && e[12] == e[0]);
	T_CHECK(wsb_ring_push(&r) != NULL && r.cap == 256);
	T_CHECK(wsb_ring_reserve(&r, (size_t)-1) == -1 && r.cap == 256);	/* unchanged */
	wsb_ring_free(&r);
}

int main(void)
{
	T_RUN(test_fifo_across_growth);
	T_RUN(test_reserve);
	return t_done();
}

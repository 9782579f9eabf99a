#define T_SUITE "stall"
#include "t.h"

#include "stall.h"

/* The budget: max_ms of pausing per window, counted from the first pause
 * after the last window ended; spent stays spent until the window ends. */
static void test_budget(void)
{
	struct wsb_stall st = { 0 };
	struct wsb_stall_cfg c = { 1000, 10000 };

	T_CHECK(wsb_stall_begin(&st, &c, 50000) == WSB_STALL_ON);
	T_CHECK(!wsb_stall_tick(&st, &c, 50400));
	wsb_stall_end(&st, 50400);			/* 400 ms used */
	T_CHECK(st.state == WSB_STALL_NONE && st.used == 400);
	T_CHECK(wsb_stall_begin(&st, &c, 52000) == WSB_STALL_ON);
	T_CHECK(!wsb_stall_tick(&st, &c, 52599));
	T_CHECK(wsb_stall_tick(&st, &c, 52600));	/* 400 + 600: spent */
	T_CHECK(st.state == WSB_STALL_SPENT);
	T_CHECK(!wsb_stall_tick(&st, &c, 59999));
	T_CHECK(wsb_stall_tick(&st, &c, 60000));	/* the window began at 50000 */
	T_CHECK(st.state == WSB_STALL_NONE);
	T_CHECK(wsb_stall_begin(&st, &c, 60001) == WSB_STALL_ON && st.used == 0);
	wsb_stall_end(&st, 61001);
	/* Used up by ended pauses: the next crossing is spent at once. */
	T_CHECK(wsb_stall_begin(&st, &c, 62000) == WSB_STALL_SPENT);
	T_CHECK(wsb_stall_tick(&st, &c, 70001) && st.state == WSB_STALL_NONE);
}

/* No window given: ten times max_ms. */
static void test_default_window(void)
{
	struct wsb_stall st = { 0 };
	struct wsb_stall_cfg c = { 200, 0 };

	T_CHECK(wsb_stall_begin(&st, &c, 100000) == WSB_STALL_ON);
	T_CHECK(wsb_stall_tick(&st, &c, 100200) && st.state == WSB_STALL_SPENT);
	T_CHECK(!wsb_stall_tick(&st, &c, 101999));
	T_CHECK(wsb_stall_tick(&st, &c, 102000) && st.state == WSB_STALL_NONE);
}

int main(void)
{
	T_RUN(test_budget);
	T_RUN(test_default_window);
	return t_done();
}

#define T_SUITE "snapshot"
#include "t.h"

#include "snapshot.h"

static int items[16];

static void drain_all(struct wsb_snap *t)
{
	while (wsb_snap_trim(t, 1))
		;
	wsb_snap_free(t);
}

/* Keys are (type, key) with lengths: no separator or NUL can merge two. */
static void test_keys_do_not_collide(void)
{
	struct wsb_snap *t = wsb_snap_new(1 << 20, 0);
	struct wsb_snap_stats st;
	void *old;

	T_CHECK(wsb_snap_put(t, "a\x1f" "b", 3, NULL, -1, &items[0], 10, &old) == 1 && !old);
	T_CHECK(wsb_snap_put(t, "a", 1, "b", 1, &items[1], 10, &old) == 1 && !old);
	T_CHECK(wsb_snap_put(t, "a", 1, "", 0, &items[2], 10, &old) == 1 && !old);
	T_CHECK(wsb_snap_put(t, "a", 1, NULL, -1, &items[3], 10, &old) == 1 && !old);
	T_CHECK(wsb_snap_put(t, "a\0b", 3, NULL, -1, &items[4], 10, &old) == 1 && !old);
	T_CHECK(wsb_snap_put(t, "a", 1, "b\0c", 3, &items[5], 10, &old) == 1 && !old);
	wsb_snap_stats(t, &st);
	T_CHECK(st.entries == 6);
	/* The same key again replaces, and hands the old item back. */
	T_CHECK(wsb_snap_put(t, "a", 1, "b\0c", 3, &items[6], 10, &old) == 1 && old == &items[5]);
	wsb_snap_stats(t, &st);
	T_CHECK(st.entries == 6);
	drain_all(t);
}

/* Bytes and entries are capped; the least recently updated goes first,
 * and an update makes an entry the newest. */
static void test_lru_and_caps(void)
{
	struct wsb_snap *t = wsb_snap_new(1000, 3);
	struct wsb_snap_stats st;
	const struct wsb_snap_ent *e;
	size_t tlen;
	void *old;

	wsb_snap_put(t, "a", 1, NULL, -1, &items[0], 10, &old);
	wsb_snap_put(t, "b", 1, NULL, -1, &items[1], 10, &old);
	wsb_snap_put(t, "c", 1, NULL, -1, &items[2], 10, &old);
	wsb_snap_put(t, "a", 1, NULL, -1, &items[3], 10, &old);	/* a is newest now */
	T_CHECK(old == &items[0]);
	T_CHECK(wsb_snap_trim(t, 0) == NULL);
	wsb_snap_put(t, "d", 1, NULL, -1, &items[4], 10, &old);
	T_CHECK(wsb_snap_trim(t, 0) == &items[1]);	/* b: least recently updated */
	T_CHECK(wsb_snap_trim(t, 0) == NULL);
	e = wsb_snap_oldest(t);
	T_STREQ(wsb_snap_type(e, &tlen), "c");
	e = wsb_snap_newer(e);
	T_STREQ(wsb_snap_type(e, &tlen), "a");
	T_CHECK(wsb_snap_item(e) == &items[3]);
	wsb_snap_stats(t, &st);
	T_CHECK(st.entries == 3 && st.evicted == 1 && st.bytes <= 1000);
	/* Bytes: a big item pushes out the oldest ones. */
	wsb_snap_put(t, "e", 1, NULL, -1, &items[5], 800, &old);
	while (wsb_snap_trim(t, 0))
		;
	wsb_snap_stats(t, &st);
	T_CHECK(st.bytes <= 1000 && st.entries >= 1);
	T_CHECK(wsb_snap_item(wsb_snap_oldest(t)) != &items[2]);
	drain_all(t);
}

/* Bigger than the whole table: not kept, and the key's older value goes
 * too, so an outdated value never passes for the latest. Off: nothing. */
static void test_too_big_and_off(void)
{
	struct wsb_snap *t = wsb_snap_new(500, 0);
	struct wsb_snap_stats st;
	void *old;

	T_CHECK(wsb_snap_put(t, "a", 1, NULL, -1, &items[0], 10, &old) == 1);
	T_CHECK(wsb_snap_put(t, "a", 1, NULL, -1, &items[1], 10000, &old) == 0);
	T_CHECK(old == &items[0]);
	wsb_snap_stats(t, &st);
	T_CHECK(st.entries == 0 && st.bytes == 0 && st.evicted == 1);
	drain_all(t);

	t = wsb_snap_new(0, 0);
	T_CHECK(wsb_snap_put(t, "a", 1, NULL, -1, &items[0], 1, &old) == 0 && !old);
	T_CHECK(wsb_snap_oldest(t) == NULL);
	drain_all(t);
}

int main(void)
{
	T_RUN(test_keys_do_not_collide);
	T_RUN(test_lru_and_caps);
	T_RUN(test_too_big_and_off);
	return t_done();
}

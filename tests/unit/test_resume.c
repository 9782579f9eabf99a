#define T_SUITE "resume"
#include "t.h"

#include <stdint.h>
#include <string.h>

#include "resume.h"

static void test_producer_id_ok(void)
{
	T_CHECK(wsb_producer_id_ok("pub-a.b_c:1-2", 13));
	T_CHECK(!wsb_producer_id_ok("", 0));
	T_CHECK(!wsb_producer_id_ok("a b", 3));
	T_CHECK(!wsb_producer_id_ok("a/b", 3));
	T_CHECK(!wsb_producer_id_ok("a\"b", 3));
	T_CHECK(wsb_producer_id_ok("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 64));
	T_CHECK(!wsb_producer_id_ok("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 65));
}

static void test_producer_id_make(void)
{
	char id[WSB_PRODUCER_ID_MAX + 1];
	char host[200];

	wsb_producer_id_make(id, "box1.example", 4242, 0xbeef);
	T_STREQ(id, "pub-box1.example-4242-beef");
	wsb_producer_id_make(id, "we ird/host", 7, 0x1);
	T_STREQ(id, "pub-we_ird_host-7-0001");
	T_CHECK(wsb_producer_id_ok(id, strlen(id)));
	wsb_producer_id_make(id, "", 7, 0x12345);
	T_STREQ(id, "pub-x-7-2345");
	memset(host, 'h', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	wsb_producer_id_make(id, host, 2147483647L, 0xffff);
	T_CHECK(strlen(id) == WSB_PRODUCER_ID_MAX);
	T_CHECK(wsb_producer_id_ok(id, strlen(id)));
	T_CHECK(!strcmp(id + strlen(id) - 16, "-2147483647-ffff"));
}

static void test_splice(void)
{
	char buf[256] = "{\"type\":\"a\",\"data\":1}";
	ssize_t n = wsb_pseq_splice(buf, strlen(buf), sizeof buf, "p-1", 42);

	T_CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	T_STREQ(buf, "{\"type\":\"a\",\"data\":1,\"producer\":\"p-1\",\"pseq\":42}");
	strcpy(buf, "{\"type\":\"a\"}");
	T_CHECK(wsb_pseq_splice(buf, strlen(buf), 20, "p", 1) == -1);	/* no room */
	T_CHECK(wsb_pseq_splice(buf, 2, sizeof buf, "p", 1) == -1);	/* "{}" */
	strcpy(buf, "[1,2]");
	T_CHECK(wsb_pseq_splice(buf, 5, sizeof buf, "p", 1) == -1);
	/* the worst case fits in what the bound promises */
	strcpy(buf, "{\"a\":1}");
	n = wsb_pseq_splice(buf, 7, sizeof buf, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			    UINT64_MAX);
	T_CHECK(n > 0 && (size_t)n <= 7 + WSB_PSEQ_SPLICE_MAX);
}

static void test_epoch_ok(void)
{
	T_CHECK(wsb_epoch_ok("9f2c00aa11bb22cc", 16));
	T_CHECK(!wsb_epoch_ok("", 0));
	T_CHECK(!wsb_epoch_ok("a&b", 3));
	T_CHECK(!wsb_epoch_ok("a\"", 2));
}

/* A fresh subscriber takes the greeting's seq as its resume point, prints
 * what follows, and drops what a resume sends again. */
static void test_pos_fresh_and_seam(void)
{
	struct wsb_pos p;

	memset(&p, 0, sizeof p);
	T_CHECK(!p.have);
	wsb_pos_greeting(&p, "e1", 1, 100);
	T_CHECK(p.have && p.seq == 100);
	T_STREQ(p.epoch, "e1");
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 101));
	wsb_pos_advance(&p, NULL, 1, 101);
	wsb_pos_advance(&p, NULL, 1, 102);
	T_CHECK(p.seq == 102 && p.printed == 102);
	/* reconnect: the greeting does not move a held position */
	wsb_pos_greeting(&p, "e1", 1, 150);
	T_CHECK(p.seq == 102);
	T_CHECK(wsb_pos_dup(&p, NULL, 1, 102));
	T_CHECK(wsb_pos_dup(&p, NULL, 1, 5));
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 103));
	T_CHECK(!wsb_pos_dup(&p, NULL, 0, 0));	/* no seq: cannot judge, print */
	/* a message stamped with another epoch is new by definition */
	T_CHECK(!wsb_pos_dup(&p, "e2", 1, 1));
	wsb_pos_advance(&p, "e2", 1, 1);
	T_STREQ(p.epoch, "e2");
	T_CHECK(p.seq == 1 && p.printed == 1);
}

/* Snapshot messages come before the live stream in seq order, below the
 * greeting's seq: none of them is a duplicate. */
static void test_pos_snapshot(void)
{
	struct wsb_pos p;

	memset(&p, 0, sizeof p);
	wsb_pos_greeting(&p, "e1", 1, 500);
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 40));
	wsb_pos_advance(&p, NULL, 1, 40);
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 490));
	wsb_pos_advance(&p, NULL, 1, 490);
	T_CHECK(p.seq == 500);	/* still resumes after what the greeting covered */
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 501));
	wsb_pos_advance(&p, NULL, 1, 501);
	T_CHECK(p.seq == 501);
}

static void test_pos_gaps(void)
{
	struct wsb_pos p;

	wsb_pos_start(&p, 10, "old");
	wsb_pos_greeting(&p, "new", 1, 3);	/* different epoch: wait for the gap */
	T_STREQ(p.epoch, "old");
	T_CHECK(p.seq == 10);
	wsb_pos_gap(&p, 1, "new", 0, 0);
	T_STREQ(p.epoch, "new");
	T_CHECK(p.seq == 0 && p.printed == 0 && p.have);
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 1));
	wsb_pos_advance(&p, NULL, 1, 1);

	wsb_pos_start(&p, 10, "e");
	wsb_pos_gap(&p, 0, "e", 1, 50);
	T_CHECK(p.seq == 50);
	T_CHECK(wsb_pos_dup(&p, NULL, 1, 50));
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 51));
	wsb_pos_gap(&p, 0, "e", 1, 20);	/* never backwards */
	T_CHECK(p.seq == 50);

	/* --since without an epoch adopts the server's */
	wsb_pos_start(&p, 7, NULL);
	wsb_pos_greeting(&p, "srv", 1, 99);
	T_STREQ(p.epoch, "srv");
	T_CHECK(p.seq == 7);
}

/* An older server names no epoch: its seq may restart at 1 after a
 * restart, so nothing is dropped as a duplicate of the last connection. */
static void test_pos_no_epoch(void)
{
	struct wsb_pos p;

	memset(&p, 0, sizeof p);
	wsb_pos_greeting(&p, NULL, 1, 0);
	wsb_pos_advance(&p, NULL, 1, 1);
	wsb_pos_advance(&p, NULL, 1, 2000);
	T_CHECK(wsb_pos_dup(&p, NULL, 1, 5));
	wsb_pos_greeting(&p, NULL, 1, 0);	/* restarted */
	T_CHECK(!wsb_pos_dup(&p, NULL, 1, 1));
	T_CHECK(p.have && p.seq == 0);
	wsb_pos_greeting(&p, "", 0, 0);
	T_CHECK(!p.have);
}

static void test_cursor(void)
{
	char rec[WSB_CURSOR_LEN + 1], epoch[WSB_EPOCH_MAX + 1];
	uint64_t seq = 0;

	wsb_cursor_format(rec, 1234, "9f2c00aa11bb22cc");
	T_CHECK(strlen(rec) == WSB_CURSOR_LEN);
	T_CHECK(rec[WSB_CURSOR_LEN - 1] == '\n');
	T_CHECK(!strncmp(rec, "{\"seq\":1234,\"epoch\":\"9f2c00aa11bb22cc\"} ", 40));
	T_CHECK(!wsb_cursor_parse(rec, strlen(rec), &seq, epoch));
	T_CHECK(seq == 1234);
	T_STREQ(epoch, "9f2c00aa11bb22cc");

	wsb_cursor_format(rec, UINT64_MAX, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	T_CHECK(strlen(rec) == WSB_CURSOR_LEN);
	T_CHECK(!wsb_cursor_parse(rec, strlen(rec), &seq, epoch) && seq == UINT64_MAX);

	wsb_cursor_format(rec, 5, "");
	T_CHECK(!wsb_cursor_parse(rec, strlen(rec), &seq, epoch) && seq == 5 && !epoch[0]);

	T_CHECK(!wsb_cursor_parse("{\"seq\":7,\"epoch\":\"ab\"}\n", 23, &seq, epoch) && seq == 7);
	T_CHECK(wsb_cursor_parse("", 0, &seq, epoch) == -1);
	T_CHECK(wsb_cursor_parse("   \n", 4, &seq, epoch) == -1);
	T_CHECK(wsb_cursor_parse("{\"seq\":-1}", 10, &seq, epoch) == -1);
	T_CHECK(wsb_cursor_parse("{\"epoch\":\"ab\"}", 14, &seq, epoch) == -1);
	T_CHECK(wsb_cursor_parse("{\"seq\":1,\"epoch\":\"a&b\"}", 23, &seq, epoch) == -1);
	T_CHECK(wsb_cursor_parse("{\"seq\":1,\"epoch\":3}", 19, &seq, epoch) == -1);
	T_CHECK(wsb_cursor_parse("{\"seq\":1", 8, &seq, epoch) == -1);	/* torn */
}

int main(void)
{
	T_RUN(test_producer_id_ok);
	T_RUN(test_producer_id_make);
	T_RUN(test_splice);
	T_RUN(test_epoch_ok);
	T_RUN(test_pos_fresh_and_seam);
	T_RUN(test_pos_snapshot);
	T_RUN(test_pos_gaps);
	T_RUN(test_pos_no_epoch);
	T_RUN(test_cursor);
	return t_done();
}

#define T_SUITE "pubstate"
#include "t.h"

#include <stdlib.h>
#include <unistd.h>

#include "lineio.h"
#include "pubstate.h"

static char dir[] = "/tmp/wsb-pubstate.XXXXXX";

static void path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void test_roundtrip(void)
{
	struct wsb_pubstate a = { .acked = 42, .dev = 7, .ino = 99, .offset = 1234 }, b;
	struct wsb_err e;
	char p[256];
	int found = -1;

	path(p, sizeof p, "st");
	snprintf(a.producer, sizeof a.producer, "feed:0badcafe");
	snprintf(a.secret, sizeof a.secret, "0123456789abcdef0123456789abcdef");
	snprintf(a.file, sizeof a.file, "dir/a \"quoted\" name.ndjson");
	T_CHECK(wsb_pubstate_save(p, &a, &e) == 0);
	T_CHECK(wsb_pubstate_load(p, &b, &found, &e) == 0);
	T_CHECK(found == 1);
	T_STREQ(b.producer, a.producer);
	T_STREQ(b.secret, a.secret);
	T_STREQ(b.file, a.file);
	T_CHECK(b.acked == 42 && b.dev == 7 && b.ino == 99 && b.offset == 1234);
	path(p, sizeof p, "st.tmp");
	T_CHECK(access(p, F_OK) != 0);	/* renamed, not left behind */
}

static void test_missing_and_bad(void)
{
	struct wsb_pubstate st;
	struct wsb_err e;
	char p[256];
	int found = -1;
	FILE *f;

	path(p, sizeof p, "none");
	T_CHECK(wsb_pubstate_load(p, &st, &found, &e) == 0 && found == 0);
	path(p, sizeof p, "bad");
	f = fopen(p, "w");
	fputs("{\"seq\":1}\n", f);
	fclose(f);
	T_CHECK(wsb_pubstate_load(p, &st, &found, &e) == -1 && e.code == WSB_EXIT_DATAERR);
}

static void test_resume_rules(void)
{
	struct wsb_pubstate st = { .dev = 1, .ino = 2, .offset = 100 };
	const char *why;
	uint64_t off = 9;

	T_CHECK(wsb_pubstate_resume(&st, 1, 2, 100, &off, &why) == WSB_RESUME_SEEK && off == 100);
	T_CHECK(wsb_pubstate_resume(&st, 1, 2, 5000, &off, &why) == WSB_RESUME_SEEK && off == 100);
	T_CHECK(wsb_pubstate_resume(&st, 1, 3, 5000, &off, &why) == WSB_RESUME_START && off == 0 && why);
	T_CHECK(wsb_pubstate_resume(&st, 1, 2, 99, &off, &why) == WSB_RESUME_START && why);
}

/* The offset a resume seeks to: just past each returned line. */
static void test_lines_consumed(void)
{
	struct wsb_lines l;
	const char *line;
	size_t len;
	uint64_t no;

	T_CHECK(wsb_lines_init(&l, 4) == 0);
	wsb_lines_push(&l, "ab\r\ntoolong\ncd", 14);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_OK && l.consumed == 4);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_TOOLONG && l.consumed == 12);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_NONE);
	wsb_lines_eof(&l);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_OK && l.consumed == 14);
	wsb_lines_free(&l);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir))
		return 1;
	T_RUN(test_roundtrip);
	T_RUN(test_missing_and_bad);
	T_RUN(test_resume_rules);
	T_RUN(test_lines_consumed);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return t_done();
}

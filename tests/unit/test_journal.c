#define T_SUITE "journal"
#include "t.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "prodfile.h"

#define EPOCH_A "0123456789abcdef"
#define EPOCH_B "fedcba9876543210"

static char root[64];
static int dirno;

/* A fresh journal directory per test, under one mkdtemp root. */
static const char *newdir(char *out, size_t cap)
{
	snprintf(out, cap, "%s/j%d", root, ++dirno);
	return out;
}

struct line {
	char *s;
	size_t len;
	uint64_t seq;
};

struct got {
	struct line *v;
	size_t n, cap;
	size_t stop_after;		/* return -1 at this line (1-based); 0: never */
};

static int collect(void *ud, const char *line, size_t len, uint64_t seq)
{
	struct got *g = ud;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->v = realloc(g->v, g->cap * sizeof *g->v);
	}
	g->v[g->n].s = malloc(len + 1);
	memcpy(g->v[g->n].s, line, len);
	g->v[g->n].s[len] = 0;
	g->v[g->n].len = len;
	g->v[g->n].seq = seq;
	g->n++;
	return g->stop_after && g->n == g->stop_after ? -1 : 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].s);
	free(g->v);
	memset(g, 0, sizeof *g);
}

/* A server-shaped line: ends with ,"seq":N}. */
static size_t msg(char *out, size_t cap, uint64_t seq)
{
	return (size_t)snprintf(out, cap,
				"{\"type\":\"tick\",\"data\":{\"i\":%" PRIu64
				",\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"},\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"seq\":%" PRIu64 "}",
				seq, seq);
}

static struct wsb_journal *jopen(const char *dir, int policy, uint64_t seg, uint64_t retain,
				 const char *new_epoch, char *epoch, uint64_t *last, size_t *skipped,
				 struct got *g, struct wsb_err *err)
{
	struct wsb_journal_cfg cfg = { .dir = dir, .fsync = policy, .segment_bytes = seg,
				       .retain_bytes = retain };

	return wsb_journal_open(&cfg, new_epoch, epoch, last, skipped, g ? collect : NULL, g, err);
}

static int append_range(struct wsb_journal *j, uint64_t from, uint64_t to)
{
	char b[256];
	struct wsb_err err;

	for (uint64_t s = from; s <= to; s++)
		if (wsb_journal_append(j, b, msg(b, sizeof b, s), s, &err) < 0)
			return -1;
	return 0;
}

/* 1 if g holds exactly the server lines from..to, in order. */
static int got_range(const struct got *g, uint64_t from, uint64_t to)
{
	char b[256];

	if (g->n != to - from + 1)
		return 0;
	for (uint64_t s = from; s <= to; s++) {
		const struct line *l = &g->v[s - from];
		size_t n = msg(b, sizeof b, s);

		if (l->seq != s || l->len != n || memcmp(l->s, b, n))
			return 0;
	}
	return 1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, n = 0, m;

	if (!f)
		return NULL;
	do {
		if (n == cap)
			p = realloc(p, cap = cap ? cap * 2 : 4096);
		m = fread(p + n, 1, cap - n, f);
		n += m;
	} while (m);
	fclose(f);
	*len = n;
	return p;
}

static void spit(const char *path, const char *s, size_t n, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (f) {
		fwrite(s, 1, n, f);
		fclose(f);
	}
}

static off_t fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : st.st_size;
}

/* Segment numbers in dir, ascending; returns how many. */
static int segments(const char *dir, uint64_t *out, int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strlen(de->d_name) == 27 && !strcmp(de->d_name + 20, ".ndjson") && n < max)
			out[n++] = strtoull(de->d_name, NULL, 10);
	closedir(d);
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && out[k - 1] > out[k]; k--) {
			uint64_t t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

static void segpath(char *out, size_t cap, const char *dir, uint64_t first)
{
	snprintf(out, cap, "%s/%020" PRIu64 ".ndjson", dir, first);
}

/* ---- tests ------------------------------------------------------------- */

static void test_fresh_open(void)
{
	char dir[128], sub[160], ep[WSB_EPOCH_LEN + 1] = "", path[200], *s;
	uint64_t last = 99;
	size_t skipped = 99, n;
	struct wsb_err err = { 0 };
	struct wsb_journal *j;
	struct stat st;
	mode_t um = umask(0);

	umask(um);
	newdir(dir, sizeof dir);
	snprintf(sub, sizeof sub, "%s/a/b/", dir);
	j = jopen(sub, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, &last, &skipped, NULL, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	T_STREQ(ep, EPOCH_A);
	T_CHECK(last == 0 && skipped == 0);
	T_CHECK(wsb_journal_durable(j) == 0 && wsb_journal_pending(j) == 0);
	snprintf(path, sizeof path, "%s/a/b/epoch", dir);
	s = slurp(path, &n);
	T_CHECK(s && n == 17 && !memcmp(s, EPOCH_A "\n", 17));
	free(s);
	snprintf(path, sizeof path, "%s/a/b", dir);
	T_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0750 & ~um));
	T_CHECK(wsb_journal_commit(j, 1, &err) == 0);
	wsb_journal_close(j);
}

static void test_reopen_recovers(void)
{
	char dir[128], ep[WSB_EPOCH_LEN + 1] = "";
	uint64_t last = 0, seg[8];
	size_t skipped = 9;
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;

	newdir(dir, sizeof dir);
	j = jopen(dir, WSB_FSYNC_BATCH, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	T_CHECK(append_range(j, 1, 100) == 0);
	T_CHECK(wsb_journal_pending(j) > 0);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	T_CHECK(wsb_journal_pending(j) == 0);
	T_CHECK(append_range(j, 101, 150) == 0);
	wsb_journal_close(j);	/* commits what is pending */
	T_CHECK(segments(dir, seg, 8) == 1 && seg[0] == 1);

	j = jopen(dir, WSB_FSYNC_BATCH, 0, 0, EPOCH_B, ep, &last, &skipped, &g, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	T_STREQ(ep, EPOCH_A);
	T_CHECK(last == 150 && skipped == 0);
	T_CHECK(got_range(&g, 1, 150));
	T_CHECK(wsb_journal_durable(j) == 150);
	/* Appending continues the same journal. */
	T_CHECK(append_range(j, 151, 160) == 0);
	wsb_journal_close(j);
	got_free(&g);
	j = jopen(dir, WSB_FSYNC_BATCH, 0, 0, EPOCH_B, ep, &last, &skipped, &g, &err);
	T_CHECK(j && last == 160 && got_range(&g, 1, 160));
	wsb_journal_close(j);
	got_free(&g);
}

static void test_seq_lookup_and_skips(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1];
	uint64_t last = 0;
	size_t skipped = 0;
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;
	const char *text =
		"{\"type\":\"a\",\"seq\":1}\n"			/* the fast path */
		"{\"seq\":2,\"type\":\"b\"}\n"			/* seq first: full parse */
		"{ \"type\" : \"c\" , \"seq\" : 3 }\n"		/* white space */
		"{\"type\":\"d\",\"data\":{\"seq\":9}}\n"	/* nested only: skipped */
		"{\"type\":\"e\",\"data\":\"x\\\",\\\"seq\\\":9}\"}\n" /* in a string: skipped */
		"{\"type\":\"f\",\"da\n"			/* torn mid-file: skipped */
		"\n"						/* empty: skipped */
		"{\"type\":\"g\",\"seq\":3}\n"			/* not increasing: skipped */
		"[1,2,3]\n"					/* not an object: skipped */
		"{\"type\":\"h\",\"seq\":01}\n"			/* not a JSON number: skipped */
		"{\"type\":\"i\",\"seq\":18446744073709551615}\n";

	newdir(dir, sizeof dir);
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(j != NULL);
	wsb_journal_close(j);
	segpath(path, sizeof path, dir, 1);
	spit(path, text, strlen(text), "wb");
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j != NULL);
	T_CHECK(last == UINT64_MAX);
	T_CHECK(skipped == 7);
	T_CHECK(g.n == 4);
	if (g.n == 4) {
		T_CHECK(g.v[0].seq == 1 && g.v[1].seq == 2 && g.v[2].seq == 3);
		T_CHECK(g.v[3].seq == UINT64_MAX);
		T_STREQ(g.v[2].s, "{ \"type\" : \"c\" , \"seq\" : 3 }");
	}
	/* Lines in the middle are skipped, never cut. */
	T_CHECK(fsize(path) == (off_t)strlen(text));
	wsb_journal_close(j);
	got_free(&g);
}

/* Lines longer than max_line are read past, never held whole: skipped and
 * counted, the lines around them recovered, and a seq one ends with still
 * counts as used. A long last line is kept, not cut as torn. */
static void test_long_lines(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1];
	uint64_t last = 0;
	size_t skipped = 0, big = 3u << 20, n = 0;
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal_cfg cfg = { .fsync = WSB_FSYNC_NEVER, .max_line = 65536 };
	struct wsb_journal *j;
	char *text = malloc(4 * big);

	newdir(dir, sizeof dir);
	cfg.dir = dir;
	n += (size_t)sprintf(text + n, "{\"type\":\"a\",\"seq\":1}\n");
	memset(text + n, 0, big);			/* zeros left by a crash */
	n += big;
	text[n++] = '\n';
	n += (size_t)sprintf(text + n, "{\"type\":\"b\",\"data\":\"");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t)sprintf(text + n, "\",\"seq\":5}\n{\"type\":\"c\",\"seq\":6}\n{\"d\":\"");
	memset(text + n, 'y', big);
	n += big;
	n += (size_t)sprintf(text + n, "\",\"seq\":9}\n");
	j = wsb_journal_open(&cfg, EPOCH_A, ep, NULL, NULL, NULL, NULL, &err);
	T_CHECK(j != NULL);
	wsb_journal_close(j);
	segpath(path, sizeof path, dir, 1);
	spit(path, text, n, "wb");
	j = wsb_journal_open(&cfg, EPOCH_A, ep, &last, &skipped, collect, &g, &err);
	T_CHECK(j != NULL);
	T_CHECK(g.n == 2 && g.v[0].seq == 1 && g.v[1].seq == 6);
	T_CHECK(skipped == 3);
	T_CHECK(last == 9);
	T_CHECK(fsize(path) == (off_t)n);
	wsb_journal_close(j);
	got_free(&g);
	free(text);
}

static void test_rotation(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1], big[3000];
	uint64_t last = 0, seg[64];
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;
	size_t one = msg(big, sizeof big, 1) + 1, n;
	int ns, ok = 1;

	newdir(dir, sizeof dir);
	/* Room for exactly 4 lines of this length per segment (seqs 1..9 have
	 * one digit in two places, so the first lines are the shortest). */
	j = jopen(dir, WSB_FSYNC_ALWAYS, 4 * (one + 2), 0, EPOCH_A, ep, &last, NULL, NULL, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	for (uint64_t s = 1; s <= 30; s += 3) {
		T_CHECK(append_range(j, s, s + 2) == 0);
		T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	}
	/* A message bigger than a segment gets one of its own. */
	memset(big, 0, sizeof big);
	n = (size_t)snprintf(big, sizeof big, "{\"type\":\"big\",\"data\":\"%0*d\",\"seq\":31}", 1000, 7);
	T_CHECK(wsb_journal_append(j, big, n, 31, &err) == 0);
	T_CHECK(append_range(j, 32, 33) == 0);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	T_CHECK(wsb_journal_durable(j) == 33);
	wsb_journal_close(j);

	ns = segments(dir, seg, 64);
	T_CHECK(ns >= 8);
	for (int i = 0; i < ns; i++) {
		char *s;
		uint64_t first = 0;
		const char *p;

		segpath(path, sizeof path, dir, seg[i]);
		s = slurp(path, &n);
		/* Named by the first seq it holds; never over the limit unless
		 * it holds one message only. */
		p = s ? strstr(s, "\"seq\":") : NULL;
		if (p)
			first = strtoull(p + 6, NULL, 10);
		if (!s || first != seg[i] || (n > 4 * (one + 2) && memchr(s, '\n', n) != s + n - 1))
			ok = 0;
		free(s);
	}
	T_CHECK(ok);
	T_CHECK(ns >= 3 && seg[ns - 2] == 31 && seg[ns - 1] == 32);
	j = jopen(dir, WSB_FSYNC_ALWAYS, 4 * (one + 2), 0, EPOCH_A, ep, &last, NULL, &g, &err);
	T_CHECK(j && last == 33 && g.n == 33);
	for (size_t i = 0; i < g.n; i++)
		T_CHECK(g.v[i].seq == i + 1);
	wsb_journal_close(j);
	got_free(&g);
}

static void test_retention(void)
{
	char dir[128], ep[WSB_EPOCH_LEN + 1], b[256];
	uint64_t last = 0, seg[64];
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;
	size_t one = msg(b, sizeof b, 100) + 1;
	int ns;

	newdir(dir, sizeof dir);
	/* 5 lines a segment, keep about 3 segments. */
	j = jopen(dir, WSB_FSYNC_NEVER, 5 * one, 15 * one, EPOCH_A, ep, &last, NULL, NULL, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	for (uint64_t s = 100; s < 200; s += 2) {
		T_CHECK(append_range(j, s, s + 1) == 0);
		T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	}
	wsb_journal_close(j);
	ns = segments(dir, seg, 64);
	T_CHECK(ns >= 3 && ns <= 4);
	T_CHECK(ns > 0 && seg[ns - 1] == 195);
	j = jopen(dir, WSB_FSYNC_NEVER, 5 * one, 15 * one, EPOCH_A, ep, &last, NULL, &g, &err);
	T_CHECK(j && last == 199);
	/* What is left is a contiguous tail ending at the last message. */
	T_CHECK(g.n >= 15 && g.n < 100 && got_range(&g, 200 - g.n, 199));
	wsb_journal_close(j);
	got_free(&g);

	/* A limit smaller than one segment keeps the current one. */
	newdir(dir, sizeof dir);
	j = jopen(dir, WSB_FSYNC_NEVER, 5 * one, 1, EPOCH_A, ep, &last, NULL, NULL, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	T_CHECK(append_range(j, 100, 112) == 0);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	wsb_journal_close(j);
	ns = segments(dir, seg, 64);
	T_CHECK(ns == 1 && seg[0] == 110);
	j = jopen(dir, WSB_FSYNC_NEVER, 5 * one, 1, EPOCH_A, ep, &last, NULL, &g, &err);
	T_CHECK(j && last == 112 && got_range(&g, 110, 112));
	wsb_journal_close(j);
	got_free(&g);
}

static void test_torn_tail(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1], *s;
	uint64_t last = 0, seg[8];
	size_t skipped = 0, n;
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;
	off_t good;
	const char *garbage = "{\"type\":\"tick\",\"data\":{\"i\":11,\"pa";
	const char *torn_nl = "{\"type\":\"tick\",\"data\":{\"i\":11}\n";

	newdir(dir, sizeof dir);
	j = jopen(dir, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, &last, NULL, NULL, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	T_CHECK(append_range(j, 1, 10) == 0);
	wsb_journal_close(j);
	segpath(path, sizeof path, dir, 1);
	good = fsize(path);

	/* No '\n' at the end. */
	spit(path, garbage, strlen(garbage), "ab");
	j = jopen(dir, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j && last == 10 && skipped == 0 && got_range(&g, 1, 10));
	T_CHECK(fsize(path) == good);
	wsb_journal_close(j);
	got_free(&g);

	/* A complete line that is not JSON, then a torn one. */
	spit(path, torn_nl, strlen(torn_nl), "ab");
	spit(path, garbage, strlen(garbage), "ab");
	j = jopen(dir, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j && last == 10 && skipped == 0 && got_range(&g, 1, 10));
	T_CHECK(fsize(path) == good);
	s = slurp(path, &n);
	T_CHECK(s && n > 0 && s[n - 1] == '\n');
	free(s);
	/* The journal goes on after the repaired end. */
	T_CHECK(j && append_range(j, 11, 12) == 0);
	wsb_journal_close(j);
	got_free(&g);
	j = jopen(dir, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j && last == 12 && skipped == 0 && got_range(&g, 1, 12));
	wsb_journal_close(j);
	got_free(&g);

	/* A newest segment holding only a torn line is removed, and appends
	 * continue in the one before. */
	segpath(path, sizeof path, dir, 13);
	spit(path, garbage, strlen(garbage), "wb");
	j = jopen(dir, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j && last == 12 && skipped == 0);
	T_CHECK(segments(dir, seg, 8) == 1 && seg[0] == 1);
	T_CHECK(j && append_range(j, 13, 13) == 0);
	wsb_journal_close(j);
	got_free(&g);
	j = jopen(dir, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j && last == 13 && got_range(&g, 1, 13));
	wsb_journal_close(j);
	got_free(&g);

	/* Zeros a crash left behind, with no '\n' at all. */
	segpath(path, sizeof path, dir, 1);
	good = fsize(path);
	{
		char z[700] = { 0 };

		spit(path, z, sizeof z, "ab");
	}
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j && last == 13 && skipped == 0 && fsize(path) == good);
	wsb_journal_close(j);
	got_free(&g);
}

static void test_durable_policies(void)
{
	char dir[128], ep[WSB_EPOCH_LEN + 1];
	struct wsb_err err = { 0 };
	struct wsb_journal *j;

	newdir(dir, sizeof dir);
	j = jopen(dir, WSB_FSYNC_ALWAYS, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	T_CHECK(append_range(j, 1, 3) == 0);
	T_CHECK(wsb_journal_durable(j) == 0);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	T_CHECK(wsb_journal_durable(j) == 3);
	wsb_journal_close(j);

	/* BATCH: written at every commit, durable only when told to sync. */
	j = jopen(dir, WSB_FSYNC_BATCH, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(j && wsb_journal_durable(j) == 3);
	if (!j)
		return;
	T_CHECK(append_range(j, 4, 6) == 0);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	T_CHECK(wsb_journal_pending(j) == 0);
	T_CHECK(wsb_journal_durable(j) == 3);
	T_CHECK(append_range(j, 7, 7) == 0);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	T_CHECK(wsb_journal_durable(j) == 3);
	T_CHECK(wsb_journal_commit(j, 1, &err) == 0);
	T_CHECK(wsb_journal_durable(j) == 7);
	T_CHECK(wsb_journal_commit(j, 1, &err) == 0);	/* nothing new: fine */
	T_CHECK(wsb_journal_durable(j) == 7);
	wsb_journal_close(j);

	/* NEVER: written is all it promises. */
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(j && wsb_journal_durable(j) == 7);
	if (!j)
		return;
	T_CHECK(append_range(j, 8, 9) == 0);
	T_CHECK(wsb_journal_durable(j) == 7);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0);
	T_CHECK(wsb_journal_durable(j) == 9);
	wsb_journal_close(j);
}

static void test_append_rules(void)
{
	char dir[128], ep[WSB_EPOCH_LEN + 1], b[256];
	struct wsb_journal_cfg cfg = { .fsync = WSB_FSYNC_NEVER, .max_pending = 1000 };
	struct wsb_err err = { 0 };
	struct wsb_journal *j;
	size_t n, pend;
	uint64_t s;

	cfg.dir = newdir(dir, sizeof dir);
	j = wsb_journal_open(&cfg, EPOCH_A, ep, NULL, NULL, NULL, NULL, &err);
	T_CHECK(j != NULL);
	if (!j)
		return;
	n = msg(b, sizeof b, 5);
	T_CHECK(wsb_journal_append(j, b, n, 5, &err) == 0);
	err.code = 0;
	T_CHECK(wsb_journal_append(j, b, n, 5, &err) == -1 && err.code == WSB_EXIT_SOFTWARE);
	T_CHECK(wsb_journal_append(j, "{\"a\":\n1}", 8, 6, &err) == -1);
	for (s = 6; s < 100; s++) {
		n = msg(b, sizeof b, s);
		pend = wsb_journal_pending(j);
		if (wsb_journal_append(j, b, n, s, &err) < 0)
			break;
	}
	T_CHECK(s < 100 && err.code == WSB_EXIT_IOERR && strstr(err.msg, "not yet written"));
	T_CHECK(wsb_journal_pending(j) == pend && pend + n + 1 > 1000 && pend <= 1000);
	/* Room again once written; the refused seq may be offered again. */
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0 && wsb_journal_pending(j) == 0);
	T_CHECK(wsb_journal_append(j, b, n, s, &err) == 0);
	T_CHECK(wsb_journal_commit(j, 0, &err) == 0 && wsb_journal_durable(j) == s);
	wsb_journal_close(j);
}

static void test_open_errors(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1];
	struct wsb_err err = { 0 };
	struct got g = { .stop_after = 2 };
	struct wsb_journal *j, *j2;

	newdir(dir, sizeof dir);
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(j != NULL);
	/* One writer at a time. */
	j2 = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(!j2 && err.code == WSB_EXIT_CONFIG && strstr(err.msg, "in use"));
	wsb_journal_close(j2);
	T_CHECK(j && append_range(j, 1, 5) == 0);
	wsb_journal_close(j);

	/* The caller stops the recovery. */
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, &g, &err);
	T_CHECK(!j && g.n == 2 && err.code != 0);
	got_free(&g);

	/* A directory that cannot be one. */
	snprintf(path, sizeof path, "%s/epoch/sub", dir);
	err.code = 0;
	j = jopen(path, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(!j && err.code == WSB_EXIT_CONFIG && strstr(err.msg, path));

	/* A damaged epoch file is not silently replaced. */
	snprintf(path, sizeof path, "%s/epoch", dir);
	spit(path, "zz\n", 3, "wb");
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(!j && err.code == WSB_EXIT_CONFIG && strstr(err.msg, "epoch"));

	/* A bad new epoch for a journal that has none. */
	newdir(dir, sizeof dir);
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, "xyz", ep, NULL, NULL, NULL, &err);
	T_CHECK(!j);
}

/* RLIMIT_FSIZE makes write() fail with EFBIG past a given file size, after
 * a short write up to it: a full disk, deterministically. Nothing may be
 * printed while the limit is low (stdout may be a file). */
static void test_write_failure(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1], b[256], *s;
	struct wsb_err err = { 0 }, err2 = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;
	struct rlimit old, low;
	off_t before, after, after_new;
	size_t one = msg(b, sizeof b, 10) + 1, pend1, pend2, n;
	int rc1, rc2, rc3, rc4;
	uint64_t dur1, dur2, dur3, seg[8];
	int policy;

	for (policy = WSB_FSYNC_ALWAYS; policy <= WSB_FSYNC_NEVER; policy++) {
		newdir(dir, sizeof dir);
		j = jopen(dir, policy, 30 * one, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
		T_CHECK(j != NULL);
		if (!j)
			return;
		T_CHECK(append_range(j, 10, 14) == 0);
		T_CHECK(wsb_journal_commit(j, 1, &err) == 0 && wsb_journal_durable(j) == 14);
		segpath(path, sizeof path, dir, 10);
		before = fsize(path);
		T_CHECK(append_range(j, 15, 24) == 0);

		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &old);
		low = old;
		/* 2.5 lines more: a short write that ends mid-line. */
		low.rlim_cur = (rlim_t)before + 2 * one + one / 2;
		setrlimit(RLIMIT_FSIZE, &low);
		rc1 = wsb_journal_commit(j, 1, &err);
		dur1 = wsb_journal_durable(j);
		pend1 = wsb_journal_pending(j);
		after = fsize(path);
		/* Still full: the retry fails too, with nothing written. */
		rc2 = wsb_journal_commit(j, 1, &err2);
		dur2 = wsb_journal_durable(j);
		pend2 = wsb_journal_pending(j);
		/* Full when a new segment has just been started: 30 lines fill
		 * the first, so the 31st (seq 40) starts another, where the
		 * first write stops after 10 bytes. */
		setrlimit(RLIMIT_FSIZE, &old);
		rc3 = wsb_journal_commit(j, 0, NULL);
		rc3 |= append_range(j, 25, 39);
		rc3 |= wsb_journal_commit(j, 0, NULL);
		rc3 |= append_range(j, 40, 45);
		low.rlim_cur = 10;
		setrlimit(RLIMIT_FSIZE, &low);
		rc4 = wsb_journal_commit(j, 1, NULL);
		dur3 = wsb_journal_durable(j);
		setrlimit(RLIMIT_FSIZE, &old);
		signal(SIGXFSZ, SIG_DFL);

		T_CHECK(rc1 == -1 && err.code == WSB_EXIT_IOERR);
		T_CHECK(strstr(err.msg, "cannot write journal") && strstr(err.msg, path) &&
			strstr(err.msg, "File too large"));
		T_CHECK(dur1 == (policy == WSB_FSYNC_NEVER ? 16 : 14));
		T_CHECK(pend1 == 8 * one);
		/* Two complete lines went in; the half third was cut off. */
		T_CHECK(after == before + 2 * (off_t)one);
		T_CHECK(rc2 == -1 && err2.code == WSB_EXIT_IOERR && dur2 == dur1 && pend2 == pend1);
		T_CHECK(rc3 == 0);
		T_CHECK(rc4 == -1);
		/* Rotation made the old segment durable before leaving it. */
		T_CHECK(dur3 == 39);
		segpath(b, sizeof b, dir, 40);
		T_CHECK(fsize(b) == 0);
		after_new = fsize(path);
		T_CHECK(after_new == 30 * (off_t)one);
		s = slurp(path, &n);
		T_CHECK(s && n == (size_t)after_new && s[n - 1] == '\n');
		free(s);

		/* The disk recovers: everything exactly once. */
		T_CHECK(wsb_journal_commit(j, 1, &err) == 0);
		T_CHECK(wsb_journal_durable(j) == 45 && wsb_journal_pending(j) == 0);
		wsb_journal_close(j);
		T_CHECK(segments(dir, seg, 8) == 2 && seg[0] == 10 && seg[1] == 40);
		j = jopen(dir, policy, 30 * one, 0, EPOCH_A, ep, NULL, NULL, &g, &err);
		T_CHECK(j && got_range(&g, 10, 45));
		wsb_journal_close(j);
		got_free(&g);
	}
}

/* A new journal directory with its epoch and no segment yet. */
static void init_dir(char *dir, size_t cap)
{
	char ep[WSB_EPOCH_LEN + 1];
	struct wsb_err err = { 0 };
	struct wsb_journal *j;

	newdir(dir, cap);
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, NULL, NULL, NULL, &err);
	T_CHECK(j != NULL);
	wsb_journal_close(j);
}

/* Rotation never reuses an older segment's name. Segment 2 ends in an
 * unterminated tail (not the newest, so recovery leaves it alone), and the
 * newest, 5, holds no readable seq: the last seq found is 1. Appending 2
 * used to open 2.ndjson again and glue the line to that tail, and the next
 * open dropped it as torn. The newest name counts as used: 6 comes next. */
static void test_segment_name_reuse(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1], b[256];
	uint64_t last = 0;
	size_t skipped = 0;
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;

	init_dir(dir, sizeof dir);
	segpath(path, sizeof path, dir, 1);
	spit(path, b, msg(b, sizeof b, 1), "wb");
	spit(path, "\n", 1, "ab");
	segpath(path, sizeof path, dir, 2);
	spit(path, "x", 1, "wb");
	segpath(path, sizeof path, dir, 5);
	spit(path, "{\"a\":1}\n", 8, "wb");
	j = jopen(dir, WSB_FSYNC_NEVER, 16, 0, EPOCH_A, ep, &last, &skipped, NULL, &err);
	T_CHECK(j != NULL);
	T_CHECK(last == 5);
	T_CHECK(append_range(j, last + 1, last + 1) == 0);
	T_CHECK(wsb_journal_commit(j, 1, &err) == 0);
	wsb_journal_close(j);
	j = jopen(dir, WSB_FSYNC_NEVER, 16, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j != NULL);
	T_CHECK(last == 6);
	T_CHECK(g.n == 2 && g.n && g.v[g.n - 1].seq == 6);
	wsb_journal_close(j);
	got_free(&g);
}

/* A line in the server's shape is passed on without a full parse (the
 * caller validates it), and its seq counts as used either way. */
static void test_fast_seq_unchecked(void)
{
	char dir[128], path[200], ep[WSB_EPOCH_LEN + 1];
	const char *text = "{garbage,\"seq\":5}\n{\"type\":\"a\",\"b\":1}\n";
	uint64_t last = 0;
	size_t skipped = 0;
	struct wsb_err err = { 0 };
	struct got g = { 0 };
	struct wsb_journal *j;

	init_dir(dir, sizeof dir);
	segpath(path, sizeof path, dir, 5);
	spit(path, text, strlen(text), "wb");
	j = jopen(dir, WSB_FSYNC_NEVER, 0, 0, EPOCH_A, ep, &last, &skipped, &g, &err);
	T_CHECK(j != NULL);
	T_CHECK(last == 5 && skipped == 1);
	T_CHECK(g.n == 1 && g.n && g.v[0].seq == 5);
	T_CHECK(append_range(j, 5, 5) < 0);	/* used */
	wsb_journal_close(j);
	got_free(&g);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* DIR/producers: registrations survive a restart, a later line for an id
 * wins, a torn or foreign line is skipped (and a torn tail does not glue
 * itself to the next append), and the file is compacted at open. */
struct regs {
	char id[8][WSB_PRODUCER_ID_MAX + 1];
	unsigned char hash[8][WSB_SECRET_HASH];
	int n;
};

static int reg_collect(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH])
{
	struct regs *r = ud;

	if (r->n < 8) {
		snprintf(r->id[r->n], sizeof r->id[0], "%s", id);
		memcpy(r->hash[r->n], hash, WSB_SECRET_HASH);
	}
	r->n++;
	return 0;
}

static void test_prodfile(void)
{
	char dir[128], path[160];
	unsigned char h1[WSB_SECRET_HASH], h2[WSB_SECRET_HASH];
	struct regs r = { .n = 0 };
	struct wsb_prodfile *pf;
	size_t lines = 9, skipped = 9;
	struct wsb_err err;
	FILE *f;

	newdir(dir, sizeof dir);
	T_CHECK(wsb_prodfile_load(dir, reg_collect, &r, &lines, &skipped, &err) == 0 && lines == 0);
	T_CHECK(mkdir(dir, 0700) == 0);
	wsb_secret_hash("0123456789abcdef0123456789abcdef", h1);
	wsb_secret_hash("fedcba9876543210fedcba9876543210", h2);
	pf = wsb_prodfile_open(dir, 1, 2, 0, &err);
	T_CHECK(pf && wsb_prodfile_add(pf, "a", h1, &err) == 0 && wsb_prodfile_add(pf, "b", h2, &err) == 0);
	wsb_prodfile_close(pf);
	snprintf(path, sizeof path, "%s/producers", dir);
	f = fopen(path, "a");
	fputs("not a registration\nc 00ff", f);	/* foreign, then torn */
	fclose(f);
	pf = wsb_prodfile_open(dir, 0, 2, 4, &err);
	T_CHECK(pf && wsb_prodfile_add(pf, "a", h2, &err) == 0);
	wsb_prodfile_close(pf);
	T_CHECK(wsb_prodfile_load(dir, reg_collect, &r, &lines, &skipped, &err) == 0);
	T_CHECK(lines == 5 && skipped == 2 && r.n == 3);
	T_CHECK(!strcmp(r.id[0], "a") && !memcmp(r.hash[0], h1, WSB_SECRET_HASH));
	T_CHECK(!strcmp(r.id[2], "a") && !memcmp(r.hash[2], h2, WSB_SECRET_HASH));
	pf = wsb_prodfile_open(dir, 0, 2, lines, &err);	/* 5 > 2 * 2: keep the last 2 */
	wsb_prodfile_close(pf);
	r.n = 0;
	T_CHECK(wsb_prodfile_load(dir, reg_collect, &r, &lines, &skipped, &err) == 0);
	T_CHECK(lines == 2 && skipped == 1 && r.n == 1 && !strcmp(r.id[0], "a"));
}

int main(void)
{
	snprintf(root, sizeof root, "%s", "/tmp/wsb-journal-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_fresh_open);
	T_RUN(test_reopen_recovers);
	T_RUN(test_seq_lookup_and_skips);
	T_RUN(test_long_lines);
	T_RUN(test_rotation);
	T_RUN(test_retention);
	T_RUN(test_torn_tail);
	T_RUN(test_durable_policies);
	T_RUN(test_append_rules);
	T_RUN(test_open_errors);
	T_RUN(test_write_failure);
	T_RUN(test_segment_name_reuse);
	T_RUN(test_fast_seq_unchecked);
	T_RUN(test_prodfile);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return t_done();
}

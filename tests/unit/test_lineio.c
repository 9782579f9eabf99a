#define T_SUITE "lineio"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lineio.h"

/* Results are rendered as "<lineno>:<text>|" per line and "<lineno>:!|" per
 * over-long line, so whole runs compare as one string. */
struct out {
	char s[8192];
	size_t n;
};

static void out_add(struct out *o, uint64_t lineno, const char *line, size_t len, int toolong)
{
	int w = snprintf(o->s + o->n, sizeof o->s - o->n, "%llu:", (unsigned long long)lineno);

	o->n += (size_t)w;
	if (toolong) {
		o->s[o->n++] = '!';
	} else {
		memcpy(o->s + o->n, line, len);
		o->n += len;
	}
	o->s[o->n++] = '|';
	o->s[o->n] = '\0';
}

static void drain(struct wsb_lines *l, struct out *o)
{
	const char *line;
	size_t len;
	uint64_t no;
	int r;

	while ((r = wsb_lines_next(l, &line, &len, &no)) != WSB_LINE_NONE)
		out_add(o, no, line, len, r == WSB_LINE_TOOLONG);
}

/* Feeds in[0..n) in chunks whose sizes come from sizes[] (cycled; 0 means
 * "random 1..rmax" from *seed), draining after every push. */
static int feed(size_t max_line, const char *in, size_t n, const size_t *sizes, size_t nsizes,
		unsigned *seed, size_t rmax, struct out *o)
{
	struct wsb_lines l;
	size_t off = 0, k = 0;

	o->n = 0;
	o->s[0] = '\0';
	if (wsb_lines_init(&l, max_line) < 0)
		return -1;
	while (off < n) {
		size_t c = sizes[k++ % nsizes];

		if (!c) {
			*seed = *seed * 1103515245u + 12345u;
			c = 1 + (*seed >> 16) % rmax;
		}
		if (c > n - off)
			c = n - off;
		if (wsb_lines_push(&l, in + off, c) < 0) {
			wsb_lines_free(&l);
			return -1;
		}
		off += c;
		drain(&l, o);
		if (wsb_lines_done(&l)) {
			wsb_lines_free(&l);
			return -1;
		}
	}
	wsb_lines_eof(&l);
	drain(&l, o);
	if (!wsb_lines_done(&l)) {
		wsb_lines_free(&l);
		return -1;
	}
	wsb_lines_free(&l);
	return 0;
}

static const char sample[] =
	"{\"type\":\"a\"}\n"
	"\n"
	"second line\r\n"
	"\r\n"
	"x\n"
	"a much longer line with spaces and \"quotes\" and \\ slashes\n"
	"\n"
	"\n"
	"cr\rin the middle\n"
	"last without newline";
static const char sample_want[] =
	"1:{\"type\":\"a\"}|2:|3:second line|4:|5:x|"
	"6:a much longer line with spaces and \"quotes\" and \\ slashes|7:|8:|"
	"9:cr\rin the middle|10:last without newline|";

static void test_every_split_point(void)
{
	struct out o;
	size_t n = sizeof sample - 1, cut, one = 1;
	int bad = 0;

	/* One byte at a time. */
	T_CHECK(feed(1024, sample, n, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, sample_want);

	/* Two pushes, split at every possible byte. */
	for (cut = 0; cut <= n; cut++) {
		size_t sizes[2] = { cut ? cut : n, n };

		if (feed(1024, sample, n, sizes, 2, NULL, 0, &o) < 0 || strcmp(o.s, sample_want)) {
			if (bad++ < 3)
				printf("  cut at %zu: %s\n", cut, o.s);
		}
	}
	T_CHECK(bad == 0);

	/* Whole at once. */
	T_CHECK(feed(1024, sample, n, &n, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, sample_want);
}

static void test_random_chunks(void)
{
	struct out o;
	size_t n = sizeof sample - 1, zero = 0;
	unsigned seed = 1;
	int i, bad = 0;

	for (i = 0; i < 2000; i++) {
		if (feed(1024, sample, n, &zero, 1, &seed, 1 + (size_t)i % 40, &o) < 0 ||
		    strcmp(o.s, sample_want))
			bad++;
	}
	T_CHECK(bad == 0);
}

static void test_crlf_and_last_line(void)
{
	struct out o;
	size_t one = 1;
	static const char in1[] = "a\r\nb\r\n";
	static const char in2[] = "a\r\r\n";	/* only one '\r' is stripped */
	static const char in3[] = "tail\r";	/* at eof the last line's '\r' goes too */
	static const char in4[] = "a\n";	/* no empty line after the final '\n' */

	T_CHECK(feed(64, in1, sizeof in1 - 1, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:a|2:b|");
	T_CHECK(feed(64, in2, sizeof in2 - 1, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:a\r|");
	T_CHECK(feed(64, in3, sizeof in3 - 1, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:tail|");
	T_CHECK(feed(64, in4, sizeof in4 - 1, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:a|");
	T_CHECK(feed(64, "", 0, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "");
}

static void test_empty_input_done(void)
{
	struct wsb_lines l;
	const char *line;
	size_t len;
	uint64_t no;

	T_CHECK(wsb_lines_init(&l, 10) == 0);
	T_CHECK(!wsb_lines_done(&l));
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_NONE);
	T_CHECK(!wsb_lines_done(&l));
	wsb_lines_eof(&l);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_NONE);
	T_CHECK(wsb_lines_done(&l));
	wsb_lines_free(&l);
}

static void test_too_long(void)
{
	char in[4096];
	size_t n = 0, one = 1, all, sizes[3] = { 7, 1, 100 };
	struct out o;
	unsigned seed = 9;
	size_t zero = 0;
	int i, bad = 0;
	const char *want = "1:short|2:!|3:after|4:!|5:1234567890123456|6:12345678901234\r|7:!|8:end|";

	/* max_line 16: a 200-byte line, a 17-byte last-ditch one, exact fits. */
	n += (size_t)sprintf(in + n, "short\n");
	memset(in + n, 'L', 200);
	n += 200;
	n += (size_t)sprintf(in + n, "\nafter\n");
	n += (size_t)sprintf(in + n, "12345678901234567\n");	/* 17: one too many */
	n += (size_t)sprintf(in + n, "1234567890123456\r\n");	/* 16 + CR: fits */
	n += (size_t)sprintf(in + n, "12345678901234\r\r\n");	/* 15 after one CR stripped */
	memset(in + n, 'M', 40);
	n += 40;
	n += (size_t)sprintf(in + n, "\r\nend");
	all = n;

	T_CHECK(feed(16, in, n, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, want);
	T_CHECK(feed(16, in, n, &all, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, want);
	T_CHECK(feed(16, in, n, sizes, 3, NULL, 0, &o) == 0);
	T_STREQ(o.s, want);
	for (i = 0; i < 500; i++)
		if (feed(16, in, n, &zero, 1, &seed, 1 + (size_t)i % 64, &o) < 0 || strcmp(o.s, want))
			bad++;
	T_CHECK(bad == 0);
}

static void test_too_long_last_line(void)
{
	struct out o;
	size_t one = 1;
	char in[64];

	/* Over-long and unterminated at eof: reported, not returned. */
	memset(in, 'z', 30);
	T_CHECK(feed(16, in, 30, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:!|");
	memcpy(in, "ok\n", 3);
	T_CHECK(feed(16, in, 30, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:ok|2:!|");
	/* Exactly max_line + 1 bytes, so decided only at eof. */
	T_CHECK(feed(16, in, 3 + 17, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:ok|2:!|");
	T_CHECK(feed(16, in, 3 + 16, &one, 1, NULL, 0, &o) == 0);
	T_STREQ(o.s, "1:ok|2:zzzzzzzzzzzzzzzz|");
}

/* The read(2) path: room, write at wptr, commit; and back-pressure when the
 * caller stops taking lines. */
static void test_room_wptr_commit(void)
{
	struct wsb_lines l;
	const char *line;
	size_t len, room, pushed = 0;
	uint64_t no;
	char chunk[1000];
	int r, lines = 0;

	T_CHECK(wsb_lines_init(&l, 100) == 0);
	room = wsb_lines_room(&l);
	T_CHECK(room >= 100 + 65536);
	memcpy(wsb_lines_wptr(&l), "hello\nwor", 9);
	wsb_lines_commit(&l, 9);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_OK);
	T_CHECK(len == 5 && !memcmp(line, "hello", 5) && no == 1);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_NONE);
	/* After compaction a whole 64 KiB read fits next to the partial line. */
	T_CHECK(wsb_lines_room(&l) >= 65536);
	memcpy(wsb_lines_wptr(&l), "ld\n", 3);
	wsb_lines_commit(&l, 3);
	T_CHECK(wsb_lines_next(&l, &line, &len, &no) == WSB_LINE_OK);
	T_CHECK(len == 5 && !memcmp(line, "world", 5) && no == 2);

	/* Fill without taking lines until push refuses. */
	memset(chunk, 'q', sizeof chunk);
	chunk[49] = '\n';
	for (;;) {
		size_t c = sizeof chunk;

		if (wsb_lines_room(&l) < c)
			break;
		T_CHECK(wsb_lines_push(&l, chunk, c) == 0);
		pushed += c;
	}
	T_CHECK(wsb_lines_push(&l, chunk, sizeof chunk) == -1);
	T_CHECK(pushed + sizeof chunk > 65536);	/* filled to within one chunk */
	/* Taking lines makes room again. */
	while ((r = wsb_lines_next(&l, &line, &len, &no)) == WSB_LINE_OK || r == WSB_LINE_TOOLONG)
		lines++;
	T_CHECK(wsb_lines_push(&l, chunk, sizeof chunk) == 0);
	T_CHECK(lines > 0);
	wsb_lines_free(&l);
}

/* Every byte of a long stream over a small max_line, fed in 64 KiB reads:
 * line numbers and contents survive many compactions. */
static void test_stream_lines(void)
{
	struct wsb_lines l;
	size_t total = 300000, i, off = 0;
	char *in = malloc(total);
	const char *line;
	size_t len;
	uint64_t no, want_no = 0;
	int r, bad = 0;

	/* Lines "0123..." of length (k % 50), k = 0, 1, ... */
	{
		size_t k = 0, p = 0;

		while (p < total) {
			size_t ll = k % 50;

			for (i = 0; i < ll && p < total; i++)
				in[p++] = (char)('0' + (k + i) % 10);
			if (p < total)
				in[p++] = '\n';
			k++;
		}
	}
	T_CHECK(wsb_lines_init(&l, 64) == 0);
	while (off < total || !l.eof) {
		size_t room = wsb_lines_room(&l), c = total - off;

		if (c > 65536)
			c = 65536;
		if (c > room)
			c = room;
		memcpy(wsb_lines_wptr(&l), in + off, c);
		wsb_lines_commit(&l, c);
		off += c;
		if (off == total)
			wsb_lines_eof(&l);
		while ((r = wsb_lines_next(&l, &line, &len, &no)) != WSB_LINE_NONE) {
			size_t k = (size_t)(no - 1);

			want_no++;
			if (r != WSB_LINE_OK || no != want_no)
				bad++;
			else if (len != k % 50 && !(wsb_lines_done(&l) && len < k % 50))
				bad++;
			else
				for (i = 0; i < len; i++)
					if (line[i] != (char)('0' + (k + i) % 10))
						bad++;
		}
	}
	T_CHECK(bad == 0);
	T_CHECK(wsb_lines_done(&l));
	T_CHECK(want_no > 5000);
	wsb_lines_free(&l);
	free(in);
}

static void test_write_all_pipe(void)
{
	int fds[2], status = 0;
	size_t n = 1 << 20, i;
	unsigned char *buf = malloc(n);
	pid_t pid;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 12));
	T_CHECK(pipe(fds) == 0);
	pid = fork();
	T_CHECK(pid >= 0);
	if (pid == 0) {
		/* Child: read everything slowly-ish and compare. */
		size_t got = 0;
		unsigned char rb[4096];
		ssize_t r;
		int ok = 1;

		close(fds[1]);
		while ((r = read(fds[0], rb, sizeof rb)) > 0) {
			for (i = 0; i < (size_t)r; i++)
				if (got + i >= n || rb[i] != buf[got + i])
					ok = 0;
			got += (size_t)r;
			if (got % (256 * 1024) < sizeof rb)
				usleep(2000);
		}
		_exit(ok && got == n ? 0 : 1);
	}
	close(fds[0]);
	/* Non-blocking, so the EAGAIN + poll path is taken: 1 MiB > a pipe. */
	T_CHECK(fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK) == 0);
	T_CHECK(wsb_write_all(fds[1], buf, n) == 0);
	T_CHECK(wsb_write_all(fds[1], buf, 0) == 0);
	close(fds[1]);
	T_CHECK(waitpid(pid, &status, 0) == pid);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(buf);
}

static void test_write_all_epipe(void)
{
	int fds[2];
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);

	T_CHECK(pipe(fds) == 0);
	close(fds[0]);
	errno = 0;
	T_CHECK(wsb_write_all(fds[1], "hello\n", 6) == -1);
	T_CHECK(errno == EPIPE);
	close(fds[1]);
	signal(SIGPIPE, old);
}

int main(void)
{
	T_RUN(test_every_split_point);
	T_RUN(test_random_chunks);
	T_RUN(test_crlf_and_last_line);
	T_RUN(test_empty_input_done);
	T_RUN(test_too_long);
	T_RUN(test_too_long_last_line);
	T_RUN(test_room_wptr_commit);
	T_RUN(test_stream_lines);
	T_RUN(test_write_all_pipe);
	T_RUN(test_write_all_epipe);
	return t_done();
}

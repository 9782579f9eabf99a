/* journal_recover — reading a journal back at open (journal_int.h): the
 * segment list, the repair of a torn tail, and each line's seq. Memory is
 * bounded by max_line whatever the files hold, because they are whatever a
 * crash, a full disk or a local user left there.
 */
#include "journal_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"

#define READ_CHUNK (1024 * 1024)
#define SEQ_TAIL 32		/* ,"seq":<20 digits>} fits */

static int seg_parse(const char *name, uint64_t *first)
{
	uint64_t x = 0;

	if (strlen(name) != WSB_JSEG_NAME_LEN || strcmp(name + WSB_JSEG_DIGITS, WSB_JSEG_SUFFIX))
		return 0;
	for (int i = 0; i < WSB_JSEG_DIGITS; i++) {
		unsigned d = (unsigned char)name[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return 0;
		x = x * 10 + d;
	}
	*first = x;
	return 1;
}
static int cmp_seg(const void *a, const void *b)
{
	uint64_t x = ((const struct seg *)a)->first, y = ((const struct seg *)b)->first;

	return x < y ? -1 : x > y;
}

/* ---- the top-level "seq" of a line ------------------------------------- */

/* The server's lines end with ,"seq":N} — check that shape from the back
 * before paying for a full parse. The quote before "seq" follows ',' or '{'
 * so it cannot be escaped, and the last '}' closes the whole text: in valid
 * JSON this can only be a top-level member. The rest of the line is not
 * checked: recovery's caller parses every line it restores anyway (the
 * server does), so checking here would parse every line twice at startup;
 * journal.h says fn must validate. Such a line's seq counts as used even if
 * fn then refuses it. */
static int seq_fast(const char *l, size_t len, uint64_t *seq)
{
	size_t e, b;

	if (len < 9 || l[0] != '{' || l[len - 1] != '}')
		return 0;
	e = len - 1;
	b = e;
	while (b > 0 && l[b - 1] >= '0' && l[b - 1] <= '9' && e - b < 21)
		b--;
	if (b == e || b < 7 || memcmp(l + b - 6, "\"seq\":", 6) || (l[b - 7] != ',' && l[b - 7] != '{'))
		return 0;
	return wsb_env_uint(l + b, e - b, seq) == 0;
}

/* 1: valid JSON object (*has_seq, *seq filled); 0: not valid; -1 + err: no
 * memory. The compact copy goes to scratch, which is only a work area. */
static int parse_line(struct wsb_buf *scratch, const char *l, size_t len, int *has_seq,
		      uint64_t *seq, struct wsb_err *err)
{
	struct wsb_env env;

	wsb_buf_reset(scratch);
	if (wsb_buf_reserve(scratch, len ? len : 1, err) < 0)
		return -1;
	if (wsb_env_parse(l, len, scratch->p, NULL, &env, NULL) < 0)
		return 0;
	*has_seq = env.has_seq;
	*seq = env.seq;
	return 1;
}

/* ---- recovery ---------------------------------------------------------- */

struct recover {
	struct wsb_journal *j;
	struct wsb_buf sc;
	wsb_journal_fn fn;
	void *ud;
	uint64_t last;
	size_t skipped;
	/* A line longer than max_line being read past: its first byte and its
	 * last SEQ_TAIL bytes, enough to read its seq. */
	int longline;
	char head, tail[SEQ_TAIL];
	size_t tn;
};

static int recover_line(struct recover *r, const char *l, size_t len, uint64_t first,
			struct wsb_err *err)
{
	uint64_t seq;
	int has = 0, rc;

	if (!seq_fast(l, len, &seq)) {
		rc = parse_line(&r->sc, l, len, &has, &seq, err);
		if (rc < 0)
			return -1;
		if (!rc || !has) {
			r->skipped++;
			return 0;
		}
	}
	/* A seq that does not increase would make resume ambiguous. */
	if (seq <= r->last) {
		r->skipped++;
		return 0;
	}
	r->last = seq;
	if (r->fn && r->fn(r->ud, l, len, seq) < 0) {
		char name[WSB_JSEG_NAME_LEN + 1];

		wsb_journal_seg_name(name, first);
		return wsb_err_set(err, WSB_EXIT_SOFTWARE,
				   "recovery of journal %s/%s stopped by the caller at seq %" PRIu64,
				   r->j->dir, name, seq);
	}
	return 0;
}

static void long_feed(struct recover *r, const char *p, size_t n)
{
	size_t keep;

	if (!r->longline) {
		r->longline = 1;
		r->head = n ? p[0] : 0;
		r->tn = 0;
	}
	if (n >= SEQ_TAIL) {
		memcpy(r->tail, p + n - SEQ_TAIL, SEQ_TAIL);
		r->tn = SEQ_TAIL;
		return;
	}
	keep = r->tn + n > SEQ_TAIL ? SEQ_TAIL - n : r->tn;
	memmove(r->tail, r->tail + r->tn - keep, keep);
	memcpy(r->tail + keep, p, n);
	r->tn = keep + n;
}

/* The end of a line too long to restore: skipped and counted, but a seq it
 * ends with still counts as handed out, so a restart never reuses it. */
static void long_end(struct recover *r)
{
	char l[SEQ_TAIL + 1];
	uint64_t seq;

	l[0] = r->head;
	memcpy(l + 1, r->tail, r->tn);
	if (seq_fast(l, r->tn + 1, &seq) && seq > r->last)
		r->last = seq;
	r->skipped++;
	r->longline = 0;
}

/* The lines complete in buf[0, len), through recover_line (or long_end);
 * returns the offset of the first incomplete byte, or -1 + err. */
static ssize_t recover_lines(struct recover *r, struct seg *sg, const char *buf, size_t len,
			     struct wsb_err *err)
{
	size_t start = 0;
	const char *nl;

	while (start < len && (nl = memchr(buf + start, '\n', len - start))) {
		size_t ll = (size_t)(nl - (buf + start));

		if (r->longline) {
			long_feed(r, buf + start, ll);
			long_end(r);
		} else if (recover_line(r, buf + start, ll, sg->first, err) < 0) {
			return -1;
		}
		start += ll + 1;
	}
	return (ssize_t)start;
}

/* Streams one segment through recover_line; sg->size gets its length.
 * Memory is bounded by max_line: a longer line is read past in pieces,
 * never held whole. */
static int recover_seg(struct recover *r, struct seg *sg, struct wsb_err *err)
{
	struct wsb_journal *j = r->j;
	struct wsb_buf b = { .max = j->max_line + 1 };
	char name[WSB_JSEG_NAME_LEN + 1];
	uint64_t total = 0;
	ssize_t done;
	int fd, rc = 0;

	wsb_journal_seg_name(name, sg->first);
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot open", sg->first);
	if (wsb_buf_reserve(&b, b.max < READ_CHUNK ? b.max : READ_CHUNK, err) < 0) {
		close(fd);
		return -1;
	}
	r->longline = 0;
	for (;;) {
		ssize_t n;

		if (b.len == b.cap && (b.cap >= b.max || r->longline)) {
			long_feed(r, b.p, b.len);	/* no '\n' in a whole max_line */
			wsb_buf_reset(&b);
		} else if (b.len == b.cap && wsb_buf_reserve(&b, 1, err) < 0) {
			rc = -1;	/* one line longer than everything buffered: grow */
			break;
		}
		n = read(fd, b.p + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot read", sg->first);
			break;
		}
		if (n == 0) {
			/* An unterminated tail here is not the one we append to
			 * (that was repaired before), so it is only counted. */
			if (b.len || r->longline)
				r->skipped++;
			break;
		}
		total += (uint64_t)n;
		b.len += (size_t)n;
		if ((done = recover_lines(r, sg, b.p, b.len, err)) < 0) {
			rc = -1;
			break;
		}
		memmove(b.p, b.p + done, b.len - (size_t)done);
		b.len -= (size_t)done;
	}
	wsb_buf_free(&b);
	close(fd);
	sg->size = total;
	return rc;
}

/* Reads n bytes at off; -1 with errno (EIO for a short file). */
static int pread_full(int fd, char *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t m = pread(fd, buf + got, n - got, (off_t)(off + got));

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0) {
			if (m == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)m;
	}
	return 0;
}

/* Offset of the last '\n' before end, -1 if none, -2 on a read error
 * (errno). Reads backwards in small chunks: constant memory, whatever the
 * length of the line. */
static int64_t nl_before(int fd, uint64_t end)
{
	char b[16384];

	while (end > 0) {
		size_t n = end < sizeof b ? (size_t)end : sizeof b;
		uint64_t off = end - n;

		if (pread_full(fd, b, n, off) < 0)
			return -2;
		for (size_t i = n; i > 0; i--)
			if (b[i - 1] == '\n')
				return (int64_t)(off + i - 1);
		end = off;
	}
	return -1;
}

/* How much of a segment of size bytes to keep: up to its last '\n', and
 * without its last line if that is not JSON. A last line longer than
 * max_line is kept: it cannot be checked in bounded memory, and recovery
 * skips and counts it. -1 + err. */
static int tail_keep(struct wsb_journal *j, struct wsb_buf *sc, int fd, struct seg *sg,
		     uint64_t size, uint64_t *keep, struct wsb_err *err)
{
	int64_t last = nl_before(fd, size), prev;
	uint64_t start, ll, seq;
	int has, v;
	char *buf;

	if (last == -1) {
		*keep = 0;	/* no '\n' at all: nothing complete */
		return 0;
	}
	prev = last < 0 ? -2 : nl_before(fd, (uint64_t)last);
	if (prev == -2)
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot read", sg->first);
	start = (uint64_t)(prev + 1);
	ll = (uint64_t)last - start;
	if (ll > j->max_line) {
		*keep = (uint64_t)last + 1;
		return 0;
	}
	if (!(buf = malloc(ll ? (size_t)ll : 1)))
		return wsb_journal_oom(err);
	if (pread_full(fd, buf, (size_t)ll, start) < 0) {
		free(buf);
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot read", sg->first);
	}
	v = parse_line(sc, buf, (size_t)ll, &has, &seq, err);
	free(buf);
	if (v < 0)
		return -1;
	*keep = v ? (uint64_t)last + 1 : start;
	return 0;
}

/* Makes the newest segment end at a complete, valid line: cuts the bytes
 * after its last '\n' (a torn write) and then that last line if it is not
 * JSON (a torn write that happened to end in '\n', or zeros left by a crash).
 * A segment left empty is removed, and the one before it is checked in turn,
 * since it becomes the one we append to. */
static int repair_tail(struct wsb_journal *j, struct wsb_buf *sc, struct wsb_err *err)
{
	while (j->nseg) {
		struct seg *sg = &j->segs[j->nseg - 1];
		char name[WSB_JSEG_NAME_LEN + 1];
		struct stat st;
		uint64_t size, keep = 0;
		int fd;

		wsb_journal_seg_name(name, sg->first);
		fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot open", sg->first);
		if (fstat(fd, &st) < 0) {
			int e = errno;

			close(fd);
			return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, e, "cannot stat", sg->first);
		}
		size = (uint64_t)st.st_size;
		if (tail_keep(j, sc, fd, sg, size, &keep, err) < 0) {
			close(fd);
			return -1;
		}
		if (keep < size && ftruncate(fd, (off_t)keep) < 0) {
			int e = errno;

			close(fd);
			return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, e, "cannot truncate the torn end of",
					    sg->first);
		}
		close(fd);
		if (keep > 0)
			return 0;
		/* Empty: its name would promise a first seq it does not hold. */
		if (unlinkat(j->dirfd, name, 0) < 0 && errno != ENOENT)
			return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot remove empty",
					    sg->first);
		j->nseg--;
	}
	return 0;
}

/* ---- the segment list -------------------------------------------------- */

static int list_segments(struct wsb_journal *j, struct wsb_err *err)
{
	DIR *d = opendir(j->dir);
	struct dirent *de;

	if (!d)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot read journal directory %s",
				     j->dir);
	errno = 0;
	while ((de = readdir(d))) {
		uint64_t first;

		if (seg_parse(de->d_name, &first) && wsb_journal_seg_push(j, first, 0) < 0) {
			closedir(d);
			return wsb_journal_oom(err);
		}
		errno = 0;
	}
	if (errno) {
		int e = errno;

		closedir(d);
		return wsb_err_errno(err, WSB_EXIT_IOERR, e, "cannot read journal directory %s", j->dir);
	}
	closedir(d);
	if (j->nseg > 1)
		qsort(j->segs, j->nseg, sizeof *j->segs, cmp_seg);
	return 0;
}
int wsb_journal_recover(struct wsb_journal *j, wsb_journal_fn fn, void *ud, uint64_t *last,
			size_t *skipped, struct wsb_err *err)
{
	struct recover r = { .j = j, .fn = fn, .ud = ud };
	int rc = -1;

	if (list_segments(j, err) < 0 || repair_tail(j, &r.sc, err) < 0)
		goto out;
	for (size_t i = 0; i < j->nseg; i++)
		if (recover_seg(&r, &j->segs[i], err) < 0)
			goto out;
	/* The newest segment's name is the seq of the first line it was
	 * created for, and after repair it holds a complete line: that seq
	 * was handed out even if no line in it could be read. Counting it
	 * keeps rotation from ever reopening an older segment's name, which
	 * appended a line to that file's unterminated tail, where the next
	 * recovery cut it as torn: an acknowledged message lost. */
	if (j->nseg && j->segs[j->nseg - 1].first > r.last)
		r.last = j->segs[j->nseg - 1].first;
	*last = r.last;
	*skipped = r.skipped;
	rc = 0;
out:
	wsb_buf_free(&r.sc);
	return rc;
}

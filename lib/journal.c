#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "envelope.h"
#include "lineio.h"

#define MIB (1024 * 1024)
#define DEFAULT_SEGMENT (64ull * MIB)
#define DEFAULT_PENDING (64ull * MIB)
#define READ_CHUNK (1 * MIB)
#define DEFAULT_MAX_LINE ((1ull << 30) + 64 * 1024)	/* the largest --max-message, stamped */
#define SEQ_TAIL 32		/* ,"seq":<20 digits>} fits */
#define SEG_NAME_DIGITS 20
#define SEG_SUFFIX ".ndjson"
#define SEG_NAME_LEN (SEG_NAME_DIGITS + sizeof SEG_SUFFIX - 1)

struct seg {
	uint64_t first;			/* the number in its name */
	uint64_t size;			/* bytes we know to be in it */
};

struct rec {
	size_t end;			/* offset in buf just past its '\n' */
	uint64_t seq;
};

struct wsb_journal {
	char *dir;
	int dirfd;			/* also holds the flock that keeps a second server out */
	int policy;
	uint64_t seg_max, retain, max_pending;
	size_t max_line;		/* recovery reads no longer line whole */

	struct seg *segs;		/* oldest first; the last is the one we append to */
	size_t nseg, segcap;
	int fd;				/* the last segment, or -1: the next write starts a new one */
	uint64_t durable_size;		/* size of the last segment at its last successful fsync */
	int resize;			/* the file may be longer than segs[nseg-1].size */
	int need_dirsync;		/* a segment was created and the directory not yet fsynced */

	/* buf[bstart..bwrite): written but not yet fsynced, kept so that a failed
	 * fsync can be answered by rewriting them (after a writeback error the
	 * kernel may have dropped those pages, and a later fsync would succeed
	 * without them). buf[bwrite..blen): not yet written. recs mirror buf by
	 * message. With WSB_FSYNC_NEVER, bstart == bwrite. */
	char *buf;
	size_t bstart, bwrite, blen, bcap;
	struct rec *recs;
	size_t rstart, rwrite, rlen, rcap;

	uint64_t appended_seq, written_seq, durable_seq;
};

/* ---- small helpers ----------------------------------------------------- */

static int oom(struct wsb_err *err)
{
	return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
}

static void seg_name(char out[SEG_NAME_LEN + 1], uint64_t first)
{
	snprintf(out, SEG_NAME_LEN + 1, "%020" PRIu64 SEG_SUFFIX, first);
}

/* 1 and *first if name is exactly 20 digits + ".ndjson" and fits uint64_t. */
static int seg_parse(const char *name, uint64_t *first)
{
	uint64_t x = 0;

	if (strlen(name) != SEG_NAME_LEN || strcmp(name + SEG_NAME_DIGITS, SEG_SUFFIX))
		return 0;
	for (int i = 0; i < SEG_NAME_DIGITS; i++) {
		unsigned d = (unsigned char)name[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return 0;
		x = x * 10 + d;
	}
	*first = x;
	return 1;
}

static int epoch_ok(const char *s, size_t n)
{
	if (n != WSB_EPOCH_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return 0;
	return 1;
}

static int cmp_seg(const void *a, const void *b)
{
	uint64_t x = ((const struct seg *)a)->first, y = ((const struct seg *)b)->first;

	return x < y ? -1 : x > y;
}

static int seg_push(struct wsb_journal *j, uint64_t first, uint64_t size)
{
	if (j->nseg == j->segcap) {
		size_t cap = j->segcap ? j->segcap * 2 : 16;
		struct seg *s = realloc(j->segs, cap * sizeof *s);

		if (!s)
			return -1;
		j->segs = s;
		j->segcap = cap;
	}
	j->segs[j->nseg].first = first;
	j->segs[j->nseg].size = size;
	j->nseg++;
	return 0;
}

static int write_full(int fd, const char *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t w = write(fd, p + *done, n - *done);

		if (w > 0) {
			*done += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else {
			if (w == 0)
				errno = EIO;	/* not expected for a regular file; do not spin */
			return -1;
		}
	}
	return 0;
}

/* ---- the top-level "seq" of a line ------------------------------------- */

/* The server's lines end with ,"seq":N} — check that shape from the back
 * before paying for a full parse. The quote before "seq" follows ',' or '{'
 * so it cannot be escaped, and the last '}' closes the whole text: in valid
 * JSON this can only be a top-level member. */
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

struct scratch {
	char *p;
	size_t cap;
};

/* 1: valid JSON object (*has_seq, *seq filled); 0: not valid; -1: no memory. */
static int parse_line(struct scratch *s, const char *l, size_t len, int *has_seq, uint64_t *seq)
{
	struct wsb_env env;

	if (len > s->cap) {
		char *p = realloc(s->p, len);

		if (!p)
			return -1;
		s->p = p;
		s->cap = len;
	}
	if (wsb_env_parse(l, len, s->p, NULL, &env, NULL) < 0)
		return 0;
	*has_seq = env.has_seq;
	*seq = env.seq;
	return 1;
}

/* ---- recovery ---------------------------------------------------------- */

struct recover {
	struct wsb_journal *j;
	struct scratch sc;
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

static int seg_path_err(struct wsb_journal *j, struct wsb_err *err, int code, int errnum,
			const char *what, uint64_t first)
{
	char name[SEG_NAME_LEN + 1];

	seg_name(name, first);
	return wsb_err_errno(err, code, errnum, "%s journal %s/%s", what, j->dir, name);
}

static int recover_line(struct recover *r, const char *l, size_t len, uint64_t first,
			struct wsb_err *err)
{
	uint64_t seq;
	int has = 0, rc;

	if (!seq_fast(l, len, &seq)) {
		rc = parse_line(&r->sc, l, len, &has, &seq);
		if (rc < 0)
			return oom(err);
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
		char name[SEG_NAME_LEN + 1];

		seg_name(name, first);
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

/* Streams one segment through recover_line; *size gets its length. Memory
 * is bounded by max_line (plus a read chunk): a longer line is read past
 * in pieces, never held whole. */
static int recover_seg(struct recover *r, struct seg *sg, struct wsb_err *err)
{
	struct wsb_journal *j = r->j;
	char name[SEG_NAME_LEN + 1];
	size_t cap = READ_CHUNK, len = 0, limit = j->max_line + 1;
	uint64_t total = 0;
	ssize_t done;
	char *buf;
	int fd, rc = 0;

	seg_name(name, sg->first);
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot open", sg->first);
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return oom(err);
	}
	r->longline = 0;
	for (;;) {
		ssize_t n;

		if (len == cap && (cap >= limit || r->longline)) {
			long_feed(r, buf, len);		/* no '\n' in a whole max_line */
			len = 0;
		} else if (len == cap) {
			/* One line longer than everything buffered: grow. */
			size_t ncap = cap * 2 < limit ? cap * 2 : limit;
			char *p = realloc(buf, ncap);

			if (!p) {
				rc = oom(err);
				break;
			}
			buf = p;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot read", sg->first);
			break;
		}
		if (n == 0) {
			/* An unterminated tail here is not the one we append to
			 * (that was repaired before), so it is only counted. */
			if (len || r->longline)
				r->skipped++;
			break;
		}
		total += (uint64_t)n;
		len += (size_t)n;
		if ((done = recover_lines(r, sg, buf, len, err)) < 0) {
			rc = -1;
			break;
		}
		memmove(buf, buf + done, len - (size_t)done);
		len -= (size_t)done;
	}
	free(buf);
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
static int tail_keep(struct wsb_journal *j, struct scratch *sc, int fd, struct seg *sg,
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
		return seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot read", sg->first);
	start = (uint64_t)(prev + 1);
	ll = (uint64_t)last - start;
	if (ll > j->max_line) {
		*keep = (uint64_t)last + 1;
		return 0;
	}
	if (!(buf = malloc(ll ? (size_t)ll : 1)))
		return oom(err);
	if (pread_full(fd, buf, (size_t)ll, start) < 0) {
		free(buf);
		return seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot read", sg->first);
	}
	v = parse_line(sc, buf, (size_t)ll, &has, &seq);
	free(buf);
	if (v < 0)
		return oom(err);
	*keep = v ? (uint64_t)last + 1 : start;
	return 0;
}

/* Makes the newest segment end at a complete, valid line: cuts the bytes
 * after its last '\n' (a torn write) and then that last line if it is not
 * JSON (a torn write that happened to end in '\n', or zeros left by a crash).
 * A segment left empty is removed, and the one before it is checked in turn,
 * since it becomes the one we append to. */
static int repair_tail(struct wsb_journal *j, struct scratch *sc, struct wsb_err *err)
{
	while (j->nseg) {
		struct seg *sg = &j->segs[j->nseg - 1];
		char name[SEG_NAME_LEN + 1];
		struct stat st;
		uint64_t size, keep = 0;
		int fd;

		seg_name(name, sg->first);
		fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot open", sg->first);
		if (fstat(fd, &st) < 0) {
			int e = errno;

			close(fd);
			return seg_path_err(j, err, WSB_EXIT_IOERR, e, "cannot stat", sg->first);
		}
		size = (uint64_t)st.st_size;
		if (tail_keep(j, sc, fd, sg, size, &keep, err) < 0) {
			close(fd);
			return -1;
		}
		if (keep < size && ftruncate(fd, (off_t)keep) < 0) {
			int e = errno;

			close(fd);
			return seg_path_err(j, err, WSB_EXIT_IOERR, e, "cannot truncate the torn end of",
					    sg->first);
		}
		close(fd);
		if (keep > 0)
			return 0;
		/* Empty: its name would promise a first seq it does not hold. */
		if (unlinkat(j->dirfd, name, 0) < 0 && errno != ENOENT)
			return seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot remove empty",
					    sg->first);
		j->nseg--;
	}
	return 0;
}

/* ---- directory, lock, epoch -------------------------------------------- */

static int mkdir_p(const char *dir, struct wsb_err *err)
{
	char *p = strdup(dir);

	if (!p)
		return oom(err);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0750) < 0 && errno != EEXIST) {
			int e = errno;

			wsb_err_errno(err, WSB_EXIT_CONFIG, e, "cannot create journal directory %s", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot create journal directory %s",
				     dir);
	return 0;
}

static int epoch_load(struct wsb_journal *j, const char *new_epoch, char out[WSB_EPOCH_LEN + 1],
		      struct wsb_err *err)
{
	char b[WSB_EPOCH_LEN + 8];
	size_t n = 0;
	int fd = openat(j->dirfd, "epoch", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		for (;;) {
			ssize_t m = read(fd, b + n, sizeof b - n);

			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0) {
				int e = errno;

				close(fd);
				return wsb_err_errno(err, WSB_EXIT_IOERR, e, "cannot read %s/epoch", j->dir);
			}
			if (m == 0 || (n += (size_t)m) == sizeof b)
				break;
		}
		close(fd);
		if (n && b[n - 1] == '\n')
			n--;
		if (!epoch_ok(b, n))
			return wsb_err_set(err, WSB_EXIT_CONFIG,
					   "%s/epoch is not a journal epoch (%d hex digits)", j->dir,
					   WSB_EPOCH_LEN);
		memcpy(out, b, n);
		out[n] = 0;
		return 0;
	}
	if (errno != ENOENT)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot open %s/epoch", j->dir);
	if (!new_epoch || !epoch_ok(new_epoch, strlen(new_epoch)))
		return wsb_err_set(err, WSB_EXIT_SOFTWARE, "journal: new epoch is not %d hex digits",
				   WSB_EPOCH_LEN);
	/* Temp file + rename: a crash leaves the old state or the whole epoch,
	 * never a file that makes the next start fail. */
	memcpy(b, new_epoch, WSB_EPOCH_LEN);
	b[WSB_EPOCH_LEN] = '\n';
	fd = openat(j->dirfd, "epoch.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot create %s/epoch.tmp", j->dir);
	if (wsb_write_all(fd, b, WSB_EPOCH_LEN + 1) < 0 || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlinkat(j->dirfd, "epoch.tmp", 0);
		return wsb_err_errno(err, WSB_EXIT_IOERR, e, "cannot write %s/epoch.tmp", j->dir);
	}
	if (close(fd) < 0 || renameat(j->dirfd, "epoch.tmp", j->dirfd, "epoch") < 0) {
		int e = errno;

		unlinkat(j->dirfd, "epoch.tmp", 0);
		return wsb_err_errno(err, WSB_EXIT_IOERR, e, "cannot write %s/epoch", j->dir);
	}
	if (fsync(j->dirfd) < 0)
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot fsync %s", j->dir);
	memcpy(out, new_epoch, WSB_EPOCH_LEN);
	out[WSB_EPOCH_LEN] = 0;
	return 0;
}

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

		if (seg_parse(de->d_name, &first) && seg_push(j, first, 0) < 0) {
			closedir(d);
			return oom(err);
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

/* ---- writing ----------------------------------------------------------- */

/* Drops whole old segments while the journal is over retain_bytes. A
 * failure to unlink is not a failure to journal: it is retried at the next
 * rotation. */
static void retain(struct wsb_journal *j)
{
	uint64_t total = 0;
	size_t drop = 0;

	if (!j->retain)
		return;
	for (size_t i = 0; i < j->nseg; i++)
		total += j->segs[i].size;
	while (total > j->retain && j->nseg - drop > 1) {
		char name[SEG_NAME_LEN + 1];

		seg_name(name, j->segs[drop].first);
		if (unlinkat(j->dirfd, name, 0) < 0 && errno != ENOENT)
			break;
		total -= j->segs[drop].size;
		drop++;
	}
	if (drop) {
		memmove(j->segs, j->segs + drop, (j->nseg - drop) * sizeof *j->segs);
		j->nseg -= drop;
	}
}

/* Everything written so far is now durable: forget the copies. */
static void mark_durable(struct wsb_journal *j)
{
	j->durable_seq = j->written_seq;
	j->bstart = j->bwrite;
	j->rstart = j->rwrite;
	if (j->nseg && j->fd >= 0)
		j->durable_size = j->segs[j->nseg - 1].size;
}

static int fsync_dir(struct wsb_journal *j, struct wsb_err *err)
{
	if (!j->need_dirsync)
		return 0;
	if (fsync(j->dirfd) < 0)
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot fsync journal directory %s",
				     j->dir);
	j->need_dirsync = 0;
	return 0;
}

/* Makes what was written durable. On failure the written-but-unsynced tail
 * is cut off the file and queued again: after a writeback error Linux may
 * have dropped those pages, so only a rewrite makes them durable. */
static int sync_now(struct wsb_journal *j, struct wsb_err *err)
{
	struct seg *sg;

	if (fsync_dir(j, err) < 0)
		return -1;
	if (j->fd < 0 || !j->nseg)
		return 0;
	sg = &j->segs[j->nseg - 1];
	if (j->written_seq == j->durable_seq && j->durable_size == sg->size)
		return 0;
	/* fdatasync covers the size change an append makes. */
	if (fdatasync(j->fd) < 0) {
		int e = errno;

		if (ftruncate(j->fd, (off_t)j->durable_size) < 0)
			j->resize = 1;
		sg->size = j->durable_size;
		j->bwrite = j->bstart;
		j->rwrite = j->rstart;
		j->written_seq = j->durable_seq;
		return seg_path_err(j, err, WSB_EXIT_IOERR, e, "cannot fsync", sg->first);
	}
	mark_durable(j);
	return 0;
}

/* Closes the current segment (durable first, unless NEVER) and starts a new
 * one named by the next message's seq. */
static int rotate(struct wsb_journal *j, uint64_t first, struct wsb_err *err)
{
	char name[SEG_NAME_LEN + 1];
	struct stat st;
	int fd;

	if (j->fd >= 0) {
		if (j->policy != WSB_FSYNC_NEVER && sync_now(j, err) < 0)
			return -1;
		close(j->fd);
		j->fd = -1;
	}
	seg_name(name, first);
	fd = openat(j->dirfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot create", first);
	/* Normally new and empty; if a failed earlier attempt left it behind,
	 * continue after what it holds. */
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return seg_path_err(j, err, WSB_EXIT_IOERR, e, "cannot stat", first);
	}
	if (!j->nseg || j->segs[j->nseg - 1].first != first) {
		if (seg_push(j, first, 0) < 0) {
			close(fd);
			return oom(err);
		}
	}
	j->segs[j->nseg - 1].size = (uint64_t)st.st_size;
	j->fd = fd;
	j->durable_size = (uint64_t)st.st_size;
	j->resize = 0;
	if (j->policy != WSB_FSYNC_NEVER) {
		j->need_dirsync = 1;
		if (fsync_dir(j, err) < 0)
			return -1;
	}
	retain(j);
	return 0;
}

int wsb_journal_commit(struct wsb_journal *j, int sync, struct wsb_err *err)
{
	if (j->resize && j->fd >= 0) {
		/* A torn line from a failed write is still there; appending
		 * after it would glue the next line to it. */
		struct seg *sg = &j->segs[j->nseg - 1];

		if (ftruncate(j->fd, (off_t)sg->size) < 0)
			return seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot truncate", sg->first);
		j->resize = 0;
	}
	if (j->policy != WSB_FSYNC_NEVER && fsync_dir(j, err) < 0)
		return -1;
	while (j->rwrite < j->rlen) {
		size_t r = j->rwrite, end, done;
		uint64_t size;

		if (j->fd < 0 || (j->segs[j->nseg - 1].size > 0 &&
				  j->segs[j->nseg - 1].size + (j->recs[r].end - j->bwrite) > j->seg_max)) {
			if (rotate(j, j->recs[r].seq, err) < 0)
				return -1;
		}
		size = j->segs[j->nseg - 1].size;
		/* As many messages as fit; the first always goes, so a message
		 * bigger than a segment gets a segment of its own. */
		end = r + 1;
		while (end < j->rlen && size + (j->recs[end].end - j->bwrite) <= j->seg_max)
			end++;
		if (write_full(j->fd, j->buf + j->bwrite, j->recs[end - 1].end - j->bwrite, &done) < 0) {
			int e = errno;
			struct seg *sg = &j->segs[j->nseg - 1];
			size_t keep = 0;

			/* Keep the complete lines that made it; cut a partial
			 * one so the retry does not follow half a copy of it. */
			while (j->rwrite < end && j->recs[j->rwrite].end - j->bwrite <= done) {
				keep = j->recs[j->rwrite].end - j->bwrite;
				j->written_seq = j->recs[j->rwrite].seq;
				j->rwrite++;
			}
			j->bwrite += keep;
			sg->size += keep;
			if (done > keep && ftruncate(j->fd, (off_t)sg->size) < 0)
				j->resize = 1;
			if (j->policy == WSB_FSYNC_NEVER) {
				j->durable_seq = j->written_seq;
				j->bstart = j->bwrite;
				j->rstart = j->rwrite;
			}
			return seg_path_err(j, err, WSB_EXIT_IOERR, e, "cannot write", sg->first);
		}
		j->segs[j->nseg - 1].size += done;
		j->bwrite += done;
		j->rwrite = end;
		j->written_seq = j->recs[end - 1].seq;
		if (j->policy == WSB_FSYNC_NEVER) {
			j->durable_seq = j->written_seq;
			j->bstart = j->bwrite;
			j->rstart = j->rwrite;
		}
	}
	/* Unsynced copies are bounded too: past max_pending they are synced
	 * even if the batch timer has not asked yet. */
	if (j->policy == WSB_FSYNC_ALWAYS || (j->policy == WSB_FSYNC_BATCH &&
					       (sync || j->bwrite - j->bstart > j->max_pending))) {
		if (sync_now(j, err) < 0)
			return -1;
	}
	if (j->bstart == j->blen) {
		j->bstart = j->bwrite = j->blen = 0;
		j->rstart = j->rwrite = j->rlen = 0;
	}
	return 0;
}

/* Moves the kept bytes and records to the front. */
static void compact(struct wsb_journal *j)
{
	size_t b = j->bstart;

	if (!b && !j->rstart)
		return;
	memmove(j->buf, j->buf + b, j->blen - b);
	j->blen -= b;
	j->bwrite -= b;
	j->bstart = 0;
	memmove(j->recs, j->recs + j->rstart, (j->rlen - j->rstart) * sizeof *j->recs);
	j->rlen -= j->rstart;
	j->rwrite -= j->rstart;
	j->rstart = 0;
	for (size_t i = 0; i < j->rlen; i++)
		j->recs[i].end -= b;
}

int wsb_journal_append(struct wsb_journal *j, const char *msg, size_t len, uint64_t seq,
		       struct wsb_err *err)
{
	size_t need;

	if (seq <= j->appended_seq)
		return wsb_err_set(err, WSB_EXIT_SOFTWARE,
				   "journal %s: seq %" PRIu64 " does not follow %" PRIu64, j->dir, seq,
				   j->appended_seq);
	/* One message, one line: a raw '\n' would split it in two on recovery. */
	if (memchr(msg, '\n', len))
		return wsb_err_set(err, WSB_EXIT_SOFTWARE,
				   "journal %s: message %" PRIu64 " contains a newline", j->dir, seq);
	if (len + 1 > j->max_pending || j->blen - j->bwrite > j->max_pending - (len + 1))
		return wsb_err_set(err, WSB_EXIT_IOERR,
				   "journal %s: no room for message %" PRIu64 " (%zu bytes not yet written, limit %" PRIu64 ")",
				   j->dir, seq, j->blen - j->bwrite, j->max_pending);
	need = j->blen + len + 1;
	if (need > j->bcap && j->bstart) {
		compact(j);
		need = j->blen + len + 1;
	}
	if (need > j->bcap) {
		size_t cap = j->bcap ? j->bcap : 64 * 1024;
		char *p;

		while (cap < need)
			cap *= 2;
		if (!(p = realloc(j->buf, cap)))
			return oom(err);
		j->buf = p;
		j->bcap = cap;
	}
	if (j->rlen == j->rcap) {
		size_t cap;
		struct rec *p;

		if (j->rstart)
			compact(j);
		if (j->rlen == j->rcap) {
			cap = j->rcap ? j->rcap * 2 : 1024;
			if (!(p = realloc(j->recs, cap * sizeof *p)))
				return oom(err);
			j->recs = p;
			j->rcap = cap;
		}
	}
	memcpy(j->buf + j->blen, msg, len);
	j->buf[j->blen + len] = '\n';
	j->blen += len + 1;
	j->recs[j->rlen].end = j->blen;
	j->recs[j->rlen].seq = seq;
	j->rlen++;
	j->appended_seq = seq;
	return 0;
}

uint64_t wsb_journal_durable(const struct wsb_journal *j)
{
	return j->durable_seq;
}

size_t wsb_journal_pending(const struct wsb_journal *j)
{
	return j->blen - j->bwrite;
}

static void journal_free(struct wsb_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->segs);
	free(j->buf);
	free(j->recs);
	free(j->dir);
	free(j);
}

void wsb_journal_close(struct wsb_journal *j)
{
	if (!j)
		return;
	wsb_journal_commit(j, 1, NULL);
	journal_free(j);
}

/* ---- open -------------------------------------------------------------- */

struct wsb_journal *wsb_journal_open(const struct wsb_journal_cfg *cfg, const char *new_epoch,
				     char epoch[WSB_EPOCH_LEN + 1], uint64_t *last_seq,
				     size_t *skipped, wsb_journal_fn fn, void *ud,
				     struct wsb_err *err)
{
	struct recover r = { .fn = fn, .ud = ud };
	char ep[WSB_EPOCH_LEN + 1];
	struct wsb_journal *j;
	size_t dl;

	if (!cfg->dir || !*cfg->dir) {
		wsb_err_set(err, WSB_EXIT_CONFIG, "journal: no directory given");
		return NULL;
	}
	if (cfg->fsync < WSB_FSYNC_ALWAYS || cfg->fsync > WSB_FSYNC_NEVER) {
		wsb_err_set(err, WSB_EXIT_CONFIG, "journal: unknown fsync policy %d", cfg->fsync);
		return NULL;
	}
	if (!(j = calloc(1, sizeof *j))) {
		oom(err);
		return NULL;
	}
	j->fd = j->dirfd = -1;
	j->policy = cfg->fsync;
	j->seg_max = cfg->segment_bytes ? cfg->segment_bytes : DEFAULT_SEGMENT;
	j->retain = cfg->retain_bytes;
	j->max_pending = cfg->max_pending ? cfg->max_pending : DEFAULT_PENDING;
	j->max_line = cfg->max_line ? cfg->max_line : DEFAULT_MAX_LINE;
	if (!(j->dir = strdup(cfg->dir))) {
		oom(err);
		goto fail;
	}
	/* "dir/" and "dir" name the same journal; keep messages tidy. */
	dl = strlen(j->dir);
	while (dl > 1 && j->dir[dl - 1] == '/')
		j->dir[--dl] = 0;
	r.j = j;
	if (mkdir_p(j->dir, err) < 0)
		goto fail;
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot open journal directory %s", j->dir);
		goto fail;
	}
	/* Two servers appending to one journal would interleave seqs. */
	if (flock(j->dirfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			wsb_err_set(err, WSB_EXIT_CONFIG, "journal %s is in use by another process",
				    j->dir);
		else
			wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot lock journal %s", j->dir);
		goto fail;
	}
	if (epoch_load(j, new_epoch, ep, err) < 0 || list_segments(j, err) < 0 ||
	    repair_tail(j, &r.sc, err) < 0)
		goto fail;
	for (size_t i = 0; i < j->nseg; i++)
		if (recover_seg(&r, &j->segs[i], err) < 0)
			goto fail;
	if (j->nseg) {
		char name[SEG_NAME_LEN + 1];
		struct seg *sg = &j->segs[j->nseg - 1];

		seg_name(name, sg->first);
		j->fd = openat(j->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (j->fd < 0) {
			seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot open", sg->first);
			goto fail;
		}
		/* What we recovered may be only in the page cache (the last run
		 * was killed, not the machine): make it as durable as the
		 * policy promises before it is reported as such. */
		if (j->policy != WSB_FSYNC_NEVER && fdatasync(j->fd) < 0) {
			seg_path_err(j, err, WSB_EXIT_IOERR, errno, "cannot fsync", sg->first);
			goto fail;
		}
		j->durable_size = sg->size;
	}
	if (j->policy != WSB_FSYNC_NEVER) {
		j->need_dirsync = 1;	/* repair may have removed a segment */
		if (fsync_dir(j, err) < 0)
			goto fail;
	}
	retain(j);
	j->appended_seq = j->written_seq = j->durable_seq = r.last;
	free(r.sc.p);
	if (epoch)
		memcpy(epoch, ep, sizeof ep);
	if (last_seq)
		*last_seq = r.last;
	if (skipped)
		*skipped = r.skipped;
	return j;
fail:
	free(r.sc.p);
	journal_free(j);
	return NULL;
}

/* journal — appends, group commit, rotation and retention; open and the
 * epoch. Reading back is journal_recover.c (journal_int.h). */
#include "journal.h"

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

#include "journal_int.h"
#include "lineio.h"

#define MIB (1024 * 1024)
#define DEFAULT_SEGMENT (64ull * MIB)
#define DEFAULT_PENDING (64ull * MIB)
#define DEFAULT_MAX_LINE ((1ull << 30) + 64 * 1024)	/* the largest --max-message, stamped */

void wsb_journal_seg_name(char out[WSB_JSEG_NAME_LEN + 1], uint64_t first)
{
	snprintf(out, WSB_JSEG_NAME_LEN + 1, "%020" PRIu64 WSB_JSEG_SUFFIX, first);
}
int wsb_journal_seg_err(struct wsb_journal *j, struct wsb_err *err, int code, int errnum,
			const char *what, uint64_t first)
{
	char name[WSB_JSEG_NAME_LEN + 1];

	wsb_journal_seg_name(name, first);
	return wsb_err_errno(err, code, errnum, "%s journal %s/%s", what, j->dir, name);
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
int wsb_journal_seg_push(struct wsb_journal *j, uint64_t first, uint64_t size)
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
static int mkdir_p(const char *dir, struct wsb_err *err)
{
	char *p = strdup(dir);

	if (!p)
		return wsb_journal_oom(err);
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
		char name[WSB_JSEG_NAME_LEN + 1];

		wsb_journal_seg_name(name, j->segs[drop].first);
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
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, e, "cannot fsync", sg->first);
	}
	mark_durable(j);
	return 0;
}

/* Closes the current segment (durable first, unless NEVER) and starts a new
 * one named by the next message's seq. */
static int rotate(struct wsb_journal *j, uint64_t first, struct wsb_err *err)
{
	char name[WSB_JSEG_NAME_LEN + 1];
	struct stat st;
	int fd;

	if (j->fd >= 0) {
		if (j->policy != WSB_FSYNC_NEVER && sync_now(j, err) < 0)
			return -1;
		close(j->fd);
		j->fd = -1;
	}
	wsb_journal_seg_name(name, first);
	fd = openat(j->dirfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot create", first);
	/* Normally new and empty; if a failed earlier attempt left it behind,
	 * continue after what it holds. */
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, e, "cannot stat", first);
	}
	if (!j->nseg || j->segs[j->nseg - 1].first != first) {
		/* Not ours: recovery counts the newest name as used, so only
		 * someone else can have made it, and appending would glue our
		 * line to whatever it ends with. Refuse, loudly. */
		if (st.st_size > 0) {
			close(fd);
			return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, EEXIST,
						   "refusing to append to a foreign", first);
		}
		if (wsb_journal_seg_push(j, first, 0) < 0) {
			close(fd);
			return wsb_journal_oom(err);
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
			return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot truncate", sg->first);
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
		if (write_full(j->fd, j->buf.p + j->bwrite, j->recs[end - 1].end - j->bwrite, &done) < 0) {
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
			return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, e, "cannot write", sg->first);
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
	if (j->bstart == j->buf.len) {
		j->bstart = j->bwrite = j->buf.len = 0;
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
	memmove(j->buf.p, j->buf.p + b, j->buf.len - b);
	j->buf.len -= b;
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
	if (seq <= j->appended_seq)
		return wsb_err_set(err, WSB_EXIT_SOFTWARE,
				   "journal %s: seq %" PRIu64 " does not follow %" PRIu64, j->dir, seq,
				   j->appended_seq);
	/* One message, one line: a raw '\n' would split it in two on recovery. */
	if (memchr(msg, '\n', len))
		return wsb_err_set(err, WSB_EXIT_SOFTWARE,
				   "journal %s: message %" PRIu64 " contains a newline", j->dir, seq);
	if (len + 1 > j->max_pending || j->buf.len - j->bwrite > j->max_pending - (len + 1))
		return wsb_err_set(err, WSB_EXIT_IOERR,
				   "journal %s: no room for message %" PRIu64 " (%zu bytes not yet written, limit %" PRIu64 ")",
				   j->dir, seq, j->buf.len - j->bwrite, j->max_pending);
	if (j->buf.len + len + 1 > j->buf.cap && j->bstart)
		compact(j);
	if (wsb_buf_reserve(&j->buf, len + 1, err) < 0)
		return -1;
	if (j->rlen == j->rcap) {
		size_t cap;
		struct rec *p;

		if (j->rstart)
			compact(j);
		if (j->rlen == j->rcap) {
			cap = j->rcap ? j->rcap * 2 : 1024;
			if (!(p = realloc(j->recs, cap * sizeof *p)))
				return wsb_journal_oom(err);
			j->recs = p;
			j->rcap = cap;
		}
	}
	memcpy(j->buf.p + j->buf.len, msg, len);
	j->buf.p[j->buf.len + len] = '\n';
	j->buf.len += len + 1;
	j->recs[j->rlen].end = j->buf.len;
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
	return j->buf.len - j->bwrite;
}

static void journal_free(struct wsb_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->segs);
	wsb_buf_free(&j->buf);
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

static struct wsb_journal *journal_new(const struct wsb_journal_cfg *cfg, struct wsb_err *err)
{
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
	if (!(j = calloc(1, sizeof *j)) || !(j->dir = strdup(cfg->dir))) {
		free(j);
		wsb_journal_oom(err);
		return NULL;
	}
	j->fd = j->dirfd = -1;
	j->policy = cfg->fsync;
	j->seg_max = cfg->segment_bytes ? cfg->segment_bytes : DEFAULT_SEGMENT;
	j->retain = cfg->retain_bytes;
	j->max_pending = cfg->max_pending ? cfg->max_pending : DEFAULT_PENDING;
	j->max_line = cfg->max_line ? cfg->max_line : DEFAULT_MAX_LINE;
	/* "dir/" and "dir" name the same journal; keep messages tidy. */
	dl = strlen(j->dir);
	while (dl > 1 && j->dir[dl - 1] == '/')
		j->dir[--dl] = 0;
	return j;
}

/* Creates and opens DIR and takes its lock. */
static int journal_lock(struct wsb_journal *j, struct wsb_err *err)
{
	if (mkdir_p(j->dir, err) < 0)
		return -1;
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0)
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot open journal directory %s",
				     j->dir);
	/* Two servers appending to one journal would interleave seqs. */
	if (flock(j->dirfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return wsb_err_set(err, WSB_EXIT_CONFIG, "journal %s is in use by another process",
					   j->dir);
		return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot lock journal %s", j->dir);
	}
	return 0;
}

/* Opens the newest segment for appending, as durable as the policy says. */
static int open_newest(struct wsb_journal *j, struct wsb_err *err)
{
	char name[WSB_JSEG_NAME_LEN + 1];
	struct seg *sg;

	if (!j->nseg)
		return 0;
	sg = &j->segs[j->nseg - 1];
	wsb_journal_seg_name(name, sg->first);
	j->fd = openat(j->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (j->fd < 0)
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot open", sg->first);
	/* What we recovered may be only in the page cache (the last run was
	 * killed, not the machine): make it as durable as the policy promises
	 * before it is reported as such. */
	if (j->policy != WSB_FSYNC_NEVER && fdatasync(j->fd) < 0)
		return wsb_journal_seg_err(j, err, WSB_EXIT_IOERR, errno, "cannot fsync", sg->first);
	j->durable_size = sg->size;
	return 0;
}

struct wsb_journal *wsb_journal_open(const struct wsb_journal_cfg *cfg, const char *new_epoch,
				     char epoch[WSB_EPOCH_LEN + 1], uint64_t *last_seq,
				     size_t *skipped, wsb_journal_fn fn, void *ud,
				     struct wsb_err *err)
{
	char ep[WSB_EPOCH_LEN + 1];
	struct wsb_journal *j = journal_new(cfg, err);
	uint64_t last = 0;
	size_t skip = 0;

	if (!j)
		return NULL;
	if (journal_lock(j, err) < 0 || epoch_load(j, new_epoch, ep, err) < 0 ||
	    wsb_journal_recover(j, fn, ud, &last, &skip, err) < 0 || open_newest(j, err) < 0)
		goto fail;
	if (j->policy != WSB_FSYNC_NEVER) {
		j->need_dirsync = 1;	/* repair may have removed a segment */
		if (fsync_dir(j, err) < 0)
			goto fail;
	}
	retain(j);
	j->appended_seq = j->written_seq = j->durable_seq = last;
	if (epoch)
		memcpy(epoch, ep, sizeof ep);
	if (last_seq)
		*last_seq = last;
	if (skipped)
		*skipped = skip;
	return j;
fail:
	journal_free(j);
	return NULL;
}

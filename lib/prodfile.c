#include "prodfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

#define LINE_MAX_ (WSB_PRODUCER_ID_MAX + 1 + 2 * WSB_SECRET_HASH + 1)

#define PENDING_MAX (1u << 20)	/* unwritten registrations kept across errors */

struct wsb_prodfile {
	int fd;
	int sync;
	int unsynced;			/* written since the last good fsync */
	struct wsb_buf pending;		/* lines not yet written (a full disk) */
	char path[4096];
};

/* "ID HEX64" (no '\n') into id and hash; 0, or -1 if it is not one. */
static int parse(const char *l, size_t n, char id[WSB_PRODUCER_ID_MAX + 1],
		 unsigned char hash[WSB_SECRET_HASH])
{
	const char *sp = memchr(l, ' ', n);
	size_t il = sp ? (size_t)(sp - l) : 0;

	if (!sp || !wsb_prods_id_ok(l, il) ||
	    wsb_unhex(hash, WSB_SECRET_HASH, sp + 1, n - il - 1) < 0)
		return -1;
	memcpy(id, l, il);
	id[il] = '\0';
	return 0;
}

int wsb_prodfile_load(const char *dir, wsb_prodfile_fn fn, void *ud, size_t *lines,
		      size_t *skipped, struct wsb_err *err)
{
	char path[4096], l[LINE_MAX_ + 2], id[WSB_PRODUCER_ID_MAX + 1];
	unsigned char hash[WSB_SECRET_HASH];
	FILE *f;
	int r = 0;

	*lines = *skipped = 0;
	snprintf(path, sizeof path, "%s/producers", dir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot open %s", path);
	while (r == 0 && fgets(l, sizeof l, f)) {
		size_t n = strlen(l);

		(*lines)++;
		if (!n || l[n - 1] != '\n' || parse(l, n - 1, id, hash) < 0) {
			(*skipped)++;	/* a torn last line, or not ours */
			while (n && l[n - 1] != '\n' && fgets(l, sizeof l, f))
				n = strlen(l);
			continue;
		}
		if (fn(ud, id, hash) < 0)
			r = wsb_err_set(err, WSB_EXIT_OSERR, "cannot restore producer %s", id);
	}
	if (ferror(f) && !r)
		r = wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot read %s", path);
	fclose(f);
	return r;
}

/* The last keep lines into path.tmp, then renamed over path: a crash
 * leaves the old file or the new one, never half of one. */
static int compact(const char *path, size_t lines, size_t keep, struct wsb_err *err)
{
	char tmp[4200], l[LINE_MAX_ + 2];
	FILE *in = fopen(path, "re"), *out;
	size_t i = 0;
	int bad;

	if (!in)
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot open %s", path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	out = fopen(tmp, "we");
	if (!out) {
		fclose(in);
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot create %s", tmp);
	}
	while (fgets(l, sizeof l, in))
		if (strchr(l, '\n') && i++ >= lines - keep)
			fputs(l, out);
	bad = ferror(in) || fflush(out) || fsync(fileno(out));
	fclose(in);
	if (fclose(out) || bad || rename(tmp, path)) {
		unlink(tmp);
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot compact %s", path);
	}
	return 0;
}

/* A line torn by a crash gets its '\n', so the next append starts a line
 * of its own instead of being glued to (and lost with) the torn one. */
static int end_line(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char c = '\n';

	if (end > 0 && pread(fd, &c, 1, end - 1) != 1)
		return -1;
	return c == '\n' || write(fd, "\n", 1) == 1 ? 0 : -1;
}

/* The file's name must be as durable as the lines in it. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

struct wsb_prodfile *wsb_prodfile_open(const char *dir, int sync, size_t keep, size_t lines,
				       struct wsb_err *err)
{
	struct wsb_prodfile *pf = calloc(1, sizeof *pf);

	if (!pf) {
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	pf->sync = sync;
	pf->pending.max = PENDING_MAX;
	snprintf(pf->path, sizeof pf->path, "%s/producers", dir);
	if (keep && lines > 2 * keep && compact(pf->path, lines, keep, err) < 0) {
		free(pf);
		return NULL;
	}
	pf->fd = open(pf->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (pf->fd < 0 || end_line(pf->fd) < 0 || (sync && sync_dir(dir) < 0)) {
		wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot open %s", pf->path);
		if (pf->fd >= 0)
			close(pf->fd);
		free(pf);
		return NULL;
	}
	return pf;
}

/* What a short write took leaves the buffer, so the rest of a torn line
 * follows it at the next try and the line ends whole. */
int wsb_prodfile_flush(struct wsb_prodfile *pf, struct wsb_err *err)
{
	struct wsb_buf *b;

	if (!pf)
		return 0;
	b = &pf->pending;
	while (b->len) {
		ssize_t w = write(pf->fd, b->p, b->len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return wsb_err_errno(err, WSB_EXIT_IOERR, w < 0 ? errno : EIO, "cannot write %s",
					     pf->path);
		memmove(b->p, b->p + w, b->len - (size_t)w);
		b->len -= (size_t)w;
		pf->unsynced = pf->sync;
	}
	/* Retried until it succeeds, so a failed fsync is never forgotten. */
	if (pf->unsynced && fsync(pf->fd) < 0)
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot fsync %s", pf->path);
	pf->unsynced = 0;
	return 0;
}

int wsb_prodfile_add(struct wsb_prodfile *pf, const char *id,
		     const unsigned char hash[WSB_SECRET_HASH], struct wsb_err *err)
{
	char l[LINE_MAX_ + 1];
	size_t n = (size_t)snprintf(l, sizeof l, "%s ", id);

	wsb_hex(l + n, hash, WSB_SECRET_HASH);
	n += 2 * WSB_SECRET_HASH;
	l[n++] = '\n';
	if (wsb_buf_append(&pf->pending, l, n, err) < 0)
		return -1;
	return wsb_prodfile_flush(pf, err) < 0 ? 1 : 0;
}

void wsb_prodfile_close(struct wsb_prodfile *pf)
{
	if (!pf)
		return;
	wsb_prodfile_flush(pf, NULL);
	close(pf->fd);
	wsb_buf_free(&pf->pending);
	free(pf);
}

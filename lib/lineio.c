#include "lineio.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The most a caller reads at once; with this much slack beyond a whole
 * max_line line, one read always fits once the buffer is compacted. */
#define READ_SLACK 65536

int wsb_lines_init(struct wsb_lines *l, size_t max_line)
{
	memset(l, 0, sizeof *l);
	/* +1: a max_line line may still carry its '\r' while we wait for the
	 * '\n', and that byte must not eat into the read slack. */
	if (max_line > (size_t)-1 - READ_SLACK - 1) {
		errno = ENOMEM;
		return -1;
	}
	l->cap = max_line + 1 + READ_SLACK;
	l->buf = malloc(l->cap);
	if (!l->buf)
		return -1;
	l->max_line = max_line;
	return 0;
}

void wsb_lines_free(struct wsb_lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->start = l->len = l->cap = l->scan = 0;
}

size_t wsb_lines_room(struct wsb_lines *l)
{
	if (l->start) {
		memmove(l->buf, l->buf + l->start, l->len);
		l->start = 0;
	}
	return l->cap - l->len;
}

char *wsb_lines_wptr(struct wsb_lines *l)
{
	return l->buf + l->start + l->len;
}

void wsb_lines_commit(struct wsb_lines *l, size_t n)
{
	l->len += n;
}

int wsb_lines_push(struct wsb_lines *l, const char *data, size_t n)
{
	if (n > wsb_lines_room(l))
		return -1;
	memcpy(wsb_lines_wptr(l), data, n);
	wsb_lines_commit(l, n);
	return 0;
}

void wsb_lines_eof(struct wsb_lines *l)
{
	l->eof = 1;
}

static void consume(struct wsb_lines *l, size_t n)
{
	l->start += n;
	l->len -= n;
	l->consumed += n;
	l->scan = 0;
	if (!l->len)
		l->start = 0;	/* spares the next wsb_lines_room() a memmove */
}

/* Hands out buf[start..start+n) (without '\n') as the next line, n_used bytes
 * being consumed in all. */
static int emit(struct wsb_lines *l, size_t n, size_t n_used, const char **line, size_t *len,
		uint64_t *lineno)
{
	const char *p = l->buf + l->start;

	if (n && p[n - 1] == '\r')
		n--;
	consume(l, n_used);
	*lineno = ++l->lineno;
	if (n > l->max_line)
		return WSB_LINE_TOOLONG;
	/* consume() moved no bytes, so p still points at the line. */
	*line = p;
	*len = n;
	return WSB_LINE_OK;
}

int wsb_lines_next(struct wsb_lines *l, const char **line, size_t *len, uint64_t *lineno)
{
	const char *nl;

	if (l->skipping) {
		/* The rest of an over-long line already reported: drop it. */
		nl = l->len ? memchr(l->buf + l->start, '\n', l->len) : NULL;
		if (!nl) {
			consume(l, l->len);
			if (l->eof)
				l->skipping = 0;
			return WSB_LINE_NONE;
		}
		consume(l, (size_t)(nl - (l->buf + l->start)) + 1);
		l->skipping = 0;
	}

	if (l->len > l->scan) {
		nl = memchr(l->buf + l->start + l->scan, '\n', l->len - l->scan);
		if (nl) {
			size_t n = (size_t)(nl - (l->buf + l->start));

			return emit(l, n, n + 1, line, len, lineno);
		}
		l->scan = l->len;
	}

	if (!l->len)
		return WSB_LINE_NONE;
	if (l->eof)
		return emit(l, l->len, l->len, line, len, lineno);
	/* More than max_line bytes plus a possible '\r' and still no '\n': too
	 * long whatever comes next, so report it now and stop buffering it. */
	if (l->len > l->max_line + 1) {
		consume(l, l->len);
		l->skipping = 1;
		*lineno = ++l->lineno;
		return WSB_LINE_TOOLONG;
	}
	return WSB_LINE_NONE;
}

int wsb_lines_done(const struct wsb_lines *l)
{
	return l->eof && l->len == 0;
}

int wsb_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == 0) {
			/* Not expected for n > 0; fail rather than spin. */
			errno = EIO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* A non-blocking fd (e.g. a shared stdout): wait until it
			 * drains. POLLERR/POLLHUP also wake us, and the next write
			 * then reports the real error. */
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

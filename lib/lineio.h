/* lineio — NDJSON line splitting with a bounded buffer, pull style so the
 * caller takes lines only while it has room for them (back-pressure), and a
 * writer for stdout that handles short writes and EPIPE.
 *
 * Lines end at '\n'; a trailing '\r' is removed; a last line without '\n' is
 * returned after wsb_lines_eof(). A line longer than max_line is skipped
 * whole and reported once with its number. No I/O in the reader: the caller
 * reads and pushes bytes.
 */
#ifndef WSB_LINEIO_H
#define WSB_LINEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct wsb_lines {
	char *buf;
	size_t start, len, cap;		/* unread bytes are buf[start..start+len) */
	size_t max_line;
	size_t scan;			/* bytes after start already known to have no '\n' */
	uint64_t lineno;		/* number of the last line returned */
	int skipping;			/* inside an over-long line */
	int eof;
	/* Input bytes consumed: after a line is returned, the offset just past
	 * it (and its '\n') in the stream, what a resume seeks to. Starts at
	 * 0; the caller may set it when the stream does not start at 0. */
	uint64_t consumed;
};

enum { WSB_LINE_NONE = 0, WSB_LINE_OK = 1, WSB_LINE_TOOLONG = 2 };

int wsb_lines_init(struct wsb_lines *l, size_t max_line);	/* -1 on ENOMEM */
void wsb_lines_free(struct wsb_lines *l);
/* Free space for wsb_lines_push (compacts the buffer first). */
size_t wsb_lines_room(struct wsb_lines *l);
/* Where the caller may read() up to wsb_lines_room() bytes, then commit them. */
char *wsb_lines_wptr(struct wsb_lines *l);
void wsb_lines_commit(struct wsb_lines *l, size_t n);
int wsb_lines_push(struct wsb_lines *l, const char *data, size_t n); /* -1 if no room */
void wsb_lines_eof(struct wsb_lines *l);
/* Next line: WSB_LINE_OK with *line and *len (valid until the next call that
 * changes l; not NUL-terminated) and *lineno; WSB_LINE_TOOLONG once per
 * over-long line (with its lineno); WSB_LINE_NONE when more input is
 * needed (or, after eof, when all is consumed). Empty lines are returned
 * too (len 0); the caller decides. */
int wsb_lines_next(struct wsb_lines *l, const char **line, size_t *len, uint64_t *lineno);
/* 1 when eof was seen and every byte has been returned. */
int wsb_lines_done(const struct wsb_lines *l);

/* Writes all of buf to fd, retrying short writes and EINTR. Returns 0, or
 * -1 with errno set (EPIPE when the reader went away). */
int wsb_write_all(int fd, const void *buf, size_t n);

#endif

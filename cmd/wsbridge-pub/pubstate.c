#include "pubstate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "lineio.h"

#define STATE_MAX (WSB_PUBSTATE_NAME * 6 + 1024)

static int get_str(const char *obj, size_t len, const char *key, char *out, size_t cap)
{
	struct wsb_span v;

	out[0] = '\0';
	if (!wsb_env_lookup(obj, len, key, &v))
		return 0;
	return wsb_env_string(obj + v.off, v.len, out, cap) < 0 ? -1 : 0;
}

static int get_uint(const char *obj, size_t len, const char *key, uint64_t *out)
{
	struct wsb_span v;

	*out = 0;
	if (!wsb_env_lookup(obj, len, key, &v))
		return 0;
	return wsb_env_uint(obj + v.off, v.len, out);
}

static int parse(const char *obj, size_t len, struct wsb_pubstate *st)
{
	return get_str(obj, len, "producer", st->producer, sizeof st->producer) ||
	       get_str(obj, len, "producer_secret", st->secret, sizeof st->secret) ||
	       get_str(obj, len, "file", st->file, sizeof st->file) ||
	       get_uint(obj, len, "acked", &st->acked) || get_uint(obj, len, "dev", &st->dev) ||
	       get_uint(obj, len, "ino", &st->ino) || get_uint(obj, len, "offset", &st->offset) ||
	       !st->producer[0] ? -1 : 0;
}

int wsb_pubstate_load(const char *path, struct wsb_pubstate *st, int *found, struct wsb_err *err)
{
	static char buf[STATE_MAX];
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(st, 0, sizeof *st);
	*found = 0;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot open %s", path);
	while (got < sizeof buf && (n = read(fd, buf + got, sizeof buf - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot read %s", path);
		}
		got += (size_t)n;
	}
	close(fd);
	while (got && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
		got--;
	if (!got)
		return 0;
	if (got == sizeof buf || parse(buf, got, st))
		return wsb_err_set(err, WSB_EXIT_DATAERR, "%s is not a wsbridge-pub state file", path);
	*found = 1;
	return 0;
}

/* The rename is durable only once the directory entry is on disk too. */
static void sync_dir(const char *path)
{
	char copy[WSB_PUBSTATE_NAME];
	int fd;

	snprintf(copy, sizeof copy, "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int wsb_pubstate_save(const char *path, const struct wsb_pubstate *st, struct wsb_err *err)
{
	static char text[STATE_MAX];
	char tmp[WSB_PUBSTATE_NAME + 16], name[WSB_PUBSTATE_NAME * 6 + 3];
	int n, fd;

	wsb_json_escape(name, sizeof name, st->file, strlen(st->file));
	n = snprintf(text, sizeof text,
		     "{\"producer\":\"%s\",\"producer_secret\":\"%s\",\"acked\":%" PRIu64 ",\"file\":%s,"
		     "\"dev\":%" PRIu64 ",\"ino\":%" PRIu64 ",\"offset\":%" PRIu64 "}\n",
		     st->producer, st->secret, st->acked, name, st->dev, st->ino, st->offset);
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return wsb_err_set(err, WSB_EXIT_IOERR, "state file name too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot write %s", tmp);
	if (wsb_write_all(fd, text, (size_t)n) || fsync(fd)) {
		wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path)) {
		wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	sync_dir(path);
	return 0;
}

int wsb_pubstate_resume(const struct wsb_pubstate *st, uint64_t dev, uint64_t ino, uint64_t size,
			uint64_t *off, const char **why)
{
	*off = 0;
	*why = NULL;
	if (dev != st->dev || ino != st->ino) {
		*why = "another file than last time (inode changed)";
		return WSB_RESUME_START;
	}
	if (size < st->offset) {
		*why = "shorter than last time (truncated?)";
		return WSB_RESUME_START;
	}
	*off = st->offset;
	return WSB_RESUME_SEEK;
}

#include "ready.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"

void wsb_ready_init(const struct wsb_cfg *cfg)
{
	/* Not for our children (none today), nor kept open past the line;
	 * wsb_cfg_check made sure it is open. */
	if (cfg->ready_fd)
		fcntl((int)cfg->ready_fd, F_SETFD, FD_CLOEXEC);
}

static int write_pid_file(const char *path, struct wsb_err *err)
{
	char tmp[4096], line[32];
	int fd;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return wsb_err_set(err, WSB_EXIT_IOERR, "--pid-file: name too long");
	snprintf(line, sizeof line, "%ld\n", (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot write --pid-file %s", tmp);
	if (wsb_write_all(fd, line, strlen(line)) || close(fd)) {
		wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot write --pid-file %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int wsb_ready_announce(const struct wsb_cfg *cfg, int port, struct wsb_err *err)
{
	char line[16];
	int fd = (int)cfg->ready_fd;

	if (cfg->pid_file && write_pid_file(cfg->pid_file, err))
		return -1;
	if (!cfg->ready_fd)
		return 0;
	snprintf(line, sizeof line, "%d\n", port);
	/* A reader that went away is its business: the broker runs on. */
	if (wsb_write_all(fd, line, strlen(line)) && errno != EPIPE) {
		close(fd);
		return wsb_err_errno(err, WSB_EXIT_IOERR, errno, "cannot write --ready-fd %d", fd);
	}
	close(fd);
	return 0;
}

void wsb_ready_done(const struct wsb_cfg *cfg)
{
	if (cfg->pid_file)
		unlink(cfg->pid_file);
}

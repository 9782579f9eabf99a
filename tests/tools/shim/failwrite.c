/* failwrite — an LD_PRELOAD shim that makes writes to chosen files fail as
 * on a full disk, switchable while the process runs. For the tests of
 * `wsbridge-serve --journal` on a full filesystem when no small loop or
 * tmpfs mount is available. Not built by the Makefile (it is not a program
 * and must not link the project library); an integration test builds it:
 *
 *   cc -shared -fPIC -o "$T/failwrite.so" tests/tools/shim/failwrite.c -ldl
 *   FAILWRITE_MATCH=/journal/ FAILWRITE_FLAG="$T/full" \
 *       LD_PRELOAD="$T/failwrite.so" wsbridge-serve --journal "$T/journal" ... &
 *   touch "$T/full"     # from now on the disk is "full"
 *   rm "$T/full"        # and now it has room again
 *
 * While the file $FAILWRITE_FLAG exists, write(), writev(), pwrite(),
 * pwritev() (and their 64-bit aliases) on a descriptor whose path
 * (readlink of /proc/self/fd/N) contains $FAILWRITE_MATCH fail with ENOSPC
 * and write nothing. Both variables must be set, or the shim does nothing.
 * Optional:
 *   FAILWRITE_ERRNO=EIO|EDQUOT|EFBIG|ENOSPC|<number>  the error (default ENOSPC)
 *   FAILWRITE_PARTIAL=1  a failing write() of more than one byte first
 *                        writes half and returns that short count, the next
 *                        one on that descriptor fails: how a real disk fills
 *                        up mid-line
 *   FAILWRITE_FSYNC=1    fsync() and fdatasync() on matching files fail with
 *                        EIO too (a writeback error)
 * Only calls that go through the dynamic symbols are seen: stdio's internal
 * writes (fwrite, fprintf) are not, which keeps a test's own logging alive.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static __thread int short_fd = -1;	/* the last short write, so the next one fails */

static int fail_errno(void)
{
	const char *e = getenv("FAILWRITE_ERRNO");

	if (!e || !*e || !strcmp(e, "ENOSPC"))
		return ENOSPC;
	if (!strcmp(e, "EIO"))
		return EIO;
	if (!strcmp(e, "EDQUOT"))
		return EDQUOT;
	if (!strcmp(e, "EFBIG"))
		return EFBIG;
	return atoi(e) > 0 ? atoi(e) : ENOSPC;
}

/* 1 if writes to fd are to fail now. Keeps errno as it was. */
static int failing(int fd)
{
	const char *match = getenv("FAILWRITE_MATCH"), *flag = getenv("FAILWRITE_FLAG");
	char link[64], path[4096];
	int saved = errno, hit = 0;
	ssize_t n;

	if (fd >= 0 && match && *match && flag && *flag && access(flag, F_OK) == 0) {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof path - 1);
		if (n > 0) {
			path[n] = 0;
			hit = strstr(path, match) != NULL;
		}
	}
	errno = saved;
	return hit;
}

/* The next definition of name (libc's), looked up once. */
#define REAL(name)                                                                     \
	static __typeof__(&name) real_##name;                                          \
	if (!real_##name)                                                              \
		real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	if (failing(fd)) {
		if (getenv("FAILWRITE_PARTIAL") && n > 1 && short_fd != fd) {
			short_fd = fd;
			return real_write(fd, buf, n / 2);
		}
		short_fd = -1;
		errno = fail_errno();
		return -1;
	}
	short_fd = -1;
	return real_write(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev);
	if (failing(fd)) {
		errno = fail_errno();
		return -1;
	}
	return real_writev(fd, iov, cnt);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	if (failing(fd)) {
		errno = fail_errno();
		return -1;
	}
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(pwrite64);
	if (failing(fd)) {
		errno = fail_errno();
		return -1;
	}
	return real_pwrite64(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	REAL(pwritev);
	if (failing(fd)) {
		errno = fail_errno();
		return -1;
	}
	return real_pwritev(fd, iov, cnt, off);
}

int fsync(int fd)
{
	REAL(fsync);
	if (getenv("FAILWRITE_FSYNC") && failing(fd)) {
		errno = EIO;
		return -1;
	}
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	if (getenv("FAILWRITE_FSYNC") && failing(fd)) {
		errno = EIO;
		return -1;
	}
	return real_fdatasync(fd);
}

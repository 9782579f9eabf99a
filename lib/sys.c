#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int urandom(unsigned char *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == n ? 0 : -1;
}

/* Short reads happen for large n or on a signal: loop until n bytes. Only
 * a getrandom that does not work at all sends us to /dev/urandom. */
int wsb_random_bytes(void *p, size_t n)
{
	unsigned char *b = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return urandom(b + got, n - got);
		got += (size_t)r;
	}
	return 0;
}

/* Uniqueness only has to hold across runs on one machine, so the clocks
 * and the pid are enough when the kernel has no entropy to give. */
uint64_t wsb_random64(void)
{
	uint64_t v;
	struct timespec ts;

	if (wsb_random_bytes(&v, sizeof v) == 0)
		return v;
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	v ^= wsb_mono_ns() * 0x9e3779b97f4a7c15u;
	return v ^ (uint64_t)getpid() << 40;
}

uint64_t wsb_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

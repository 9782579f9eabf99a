#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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

/* A kernel without entropy to give: xorshift64*, seeded once, so the
 * masks still change per frame. */
static void fallback_block(struct wsb_random_pool *pool)
{
	if (!pool->rng)
		pool->rng = wsb_random64() | 1;
	for (size_t i = 0; i < sizeof pool->b; i += 8) {
		uint64_t v;

		pool->rng ^= pool->rng >> 12;
		pool->rng ^= pool->rng << 25;
		pool->rng ^= pool->rng >> 27;
		v = pool->rng * 0x2545F4914F6CDD1DULL;
		memcpy(pool->b + i, &v, 8);
	}
}

void wsb_random_take(struct wsb_random_pool *pool, void *out, size_t n)
{
	if (!pool->refills || pool->used + n > sizeof pool->b) {
		if (wsb_random_bytes(pool->b, sizeof pool->b))
			fallback_block(pool);
		pool->used = 0;
		pool->refills++;
	}
	memcpy(out, pool->b + pool->used, n);
	pool->used += n;
}

uint64_t wsb_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* sys — randomness and the monotonic clock: one helper each, one policy.
 *
 * wsb_random_bytes fills p with n bytes from the kernel: getrandom(2), which
 * blocks only until the kernel's pool is first initialised at boot, or
 * /dev/urandom where getrandom is missing (ENOSYS, or refused by a seccomp
 * filter). It never returns guessable bytes: 0, or -1 with errno when there
 * is no kernel entropy. Secrets use it and fail without it.
 *
 * wsb_random64 is for values that must differ between runs but need not be
 * secret (ids, jitter): the same source, or, without kernel entropy, a mix
 * of the wall clock, the monotonic clock and the pid instead of failing.
 *
 * wsb_random_take hands out a pool's bytes, refilled from wsb_random_bytes
 * a block at a time: kernel entropy for every small draw (a WebSocket
 * client's mask key per frame, RFC 6455 §5.3) at one getrandom per 4 KiB.
 * Without kernel entropy a block comes from wsb_random64's fallback
 * instead: masks must be unpredictable to intermediaries, not secret.
 *
 * wsb_mono_ns is CLOCK_MONOTONIC in nanoseconds: intervals and deadlines,
 * never wall time. The broker does not call these itself: its randomness
 * and clocks are injected (broker.h), these are the defaults.
 */
#ifndef WSB_SYS_H
#define WSB_SYS_H

#include <stddef.h>
#include <stdint.h>

int wsb_random_bytes(void *p, size_t n);

#define WSB_RANDOM_POOL 4096
struct wsb_random_pool {
	unsigned char b[WSB_RANDOM_POOL];
	size_t used;			/* bytes of b handed out */
	uint64_t refills;		/* blocks drawn (tests) */
	uint64_t rng;			/* the fallback's state */
};
/* n (at most WSB_RANDOM_POOL) bytes into out. Start with the pool zeroed. */
void wsb_random_take(struct wsb_random_pool *pool, void *out, size_t n);
uint64_t wsb_random64(void);
uint64_t wsb_mono_ns(void);

#endif

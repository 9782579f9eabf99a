/* Our recv() must be a plain definition: the fortified header would turn
 * the name into an inline wrapper of its own. */
#undef _FORTIFY_SOURCE

#include "lwsio.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "buf.h"

struct watch {
	struct wsb_wsguard g;
	struct wsb_wsrx *rx;		/* a client's receive path, or NULL */
	wsb_lwsio_hook fn;
	void *owner;
	unsigned char on, told;
};

/* Indexed by fd, grown on demand up to RLIMIT_NOFILE entries. */
static struct wsb_buf table;

static struct watch *slot(int fd)
{
	if (fd < 0 || (size_t)fd >= table.len / sizeof(struct watch))
		return NULL;
	return (struct watch *)(void *)table.p + fd;
}

static int grow(int fd, struct wsb_err *err)
{
	struct rlimit rl;
	size_t have = table.len / sizeof(struct watch), want = have ? have * 2 : 64;

	if (want <= (size_t)fd)
		want = (size_t)fd + 1;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY && want > rl.rlim_cur)
		want = rl.rlim_cur > (rlim_t)fd ? (size_t)rl.rlim_cur : (size_t)fd + 1;
	if (wsb_buf_reserve(&table, (want - have) * sizeof(struct watch), err))
		return -1;
	memset(table.p + table.len, 0, (want - have) * sizeof(struct watch));
	table.len = want * sizeof(struct watch);
	return 0;
}

int wsb_lwsio_watch(int fd, enum wsb_wsguard_side side, struct wsb_err *err)
{
	struct watch *w;

	if (fd < 0)
		return wsb_err_set(err, WSB_EXIT_SOFTWARE, "no descriptor to watch");
	if (!slot(fd) && grow(fd, err))
		return -1;
	w = slot(fd);
	memset(w, 0, sizeof *w);
	wsb_wsguard_init(&w->g, side, 1);
	w->on = 1;
	return 0;
}

int wsb_lwsio_attach(int fd, wsb_lwsio_hook fn, void *owner)
{
	struct watch *w = slot(fd);

	if (!w || !w->on)
		return -1;
	w->fn = fn;
	w->owner = owner;
	if (!wsb_wsguard_failed(&w->g))
		return 0;
	w->told = 1;
	return 1;
}

int wsb_lwsio_rx(int fd, struct wsb_wsrx *rx)
{
	struct watch *w = slot(fd);

	if (!w || !w->on)
		return -1;
	w->rx = rx;
	return 0;
}

void wsb_lwsio_unwatch(int fd)
{
	struct watch *w = slot(fd);

	if (w)
		memset(w, 0, sizeof *w);
}

/* n bytes were read into buf on w's descriptor: how many lws may see, at
 * the front of buf. */
static size_t check(struct watch *w, void *buf, size_t n)
{
	uint64_t start = w->g.pos, at;
	size_t ok = wsb_wsguard_feed(&w->g, buf, n), from;

	if (ok < n && !w->told && w->fn) {
		w->told = 1;
		w->fn(w->owner);
	}
	/* The receive path sees the frames the guard passed, not the 101. */
	if (!w->rx || !ok || (at = wsb_wsguard_frames_at(&w->g)) >= start + ok)
		return ok;
	from = at > start ? (size_t)(at - start) : 0;
	return from + wsb_wsrx_feed(w->rx, (unsigned char *)buf + from, ok - from);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL);
	struct watch *w;
	size_t ok;

	if (n <= 0 || (flags & MSG_PEEK) || !(w = slot(fd)) || !w->on)
		return n;
	ok = check(w, buf, (size_t)n);
	if (ok)
		return (ssize_t)ok;
	if (wsb_wsguard_peer_closed(&w->g))
		return 0;		/* it answered our close: end now, as at EOF */
	errno = EAGAIN;			/* read and dropped: poll() wakes for new bytes only */
	return -1;
}

/* OpenSSL's, declared here rather than including its headers: the
 * executables do not link libssl themselves, lws does. */
struct ssl_st;
int SSL_read(struct ssl_st *ssl, void *buf, int num);

int SSL_read(struct ssl_st *ssl, void *buf, int num)
{
	static int (*real)(struct ssl_st *, void *, int);
	static int (*get_fd)(const struct ssl_st *);
	static int (*pending)(const struct ssl_st *);	/* SSL_has_pending: read-ahead too */
	struct watch *w;
	size_t have = 0;
	int n;

	if (!real) {
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_read");
		*(void **)&get_fd = dlsym(RTLD_NEXT, "SSL_get_fd");
		*(void **)&pending = dlsym(RTLD_NEXT, "SSL_has_pending");
		if (!real) {
			errno = ENOSYS;
			return -1;
		}
	}
	n = real(ssl, buf, num);
	if (n <= 0 || !table.len || !get_fd || !pending || !(w = slot(get_fd(ssl))) || !w->on)
		return n;
	/* Less than was read goes back to lws: then nothing may be left in
	 * OpenSSL's buffer, where poll() cannot see it and lws (which takes a
	 * short read for "all there was") would not look. And nothing at all
	 * (a violation's aftermath, or every byte taken by the receive path)
	 * only once OpenSSL says "want read", which is what lws asks
	 * SSL_get_error; or 0 right after the peer's close frame, which lws
	 * takes as the connection's end. */
	for (;;) {
		have += check(w, (char *)buf + have, (size_t)n);
		if (have == (size_t)num || (have && !pending(ssl)))
			return (int)have;
		if (!have && wsb_wsguard_peer_closed(&w->g))
			return 0;
		if ((n = real(ssl, (char *)buf + have, num - (int)have)) <= 0)
			return have ? (int)have : n;
	}
}

static int reuse_port;

void wsb_lwsio_reuse_port(int on)
{
	reuse_port = on;
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	int one = 1;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "bind");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (reuse_port)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	return real(fd, sa, len);
}

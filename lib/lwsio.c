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
	struct wsb_wsext *ext;		/* a client's extension answer, or NULL */
	wsb_lwsio_hook fn;
	void *owner;
	unsigned char on, told;
	unsigned char ext_told;		/* rx knows the answer */
	unsigned char nheld;		/* bytes ext held back: they go in front of the next read */
	unsigned char held[WSB_WSEXT_HOLD];
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

int wsb_lwsio_ext(int fd, struct wsb_wsext *x)
{
	struct watch *w = slot(fd);

	if (!w || !w->on)
		return -1;
	w->ext = x;
	return 0;
}

void wsb_lwsio_unwatch(int fd)
{
	struct watch *w = slot(fd);

	if (w)
		memset(w, 0, sizeof *w);
}

/* A client's 101 through its wsext (see wsb_lwsio_ext): what it holds back
 * waits in w for the next read; once the head is over, rx hears the
 * verdict before the first frame. Returns the bytes that go on. */
static size_t ext_check(struct watch *w, unsigned char *buf, size_t n)
{
	size_t ok = wsb_wsext_feed(w->ext, buf, n);

	memcpy(w->held, buf + ok, n - ok);
	w->nheld = (unsigned char)(n - ok);
	if (wsb_wsext_done(w->ext) && !w->ext_told) {
		w->ext_told = 1;
		if (w->rx && w->ext->named)
			wsb_wsrx_deflate(w->rx, w->ext->verdict > 0);
	}
	return ok;
}

/* Room for the bytes ext held back, at the front of a read of len: how
 * many (the read goes after them), or 0. */
static size_t held_room(const struct watch *w, size_t len)
{
	return w && w->on && w->nheld < len ? w->nheld : 0;
}

/* The held bytes go in front of the n just read after them. */
static size_t unhold(struct watch *w, void *buf, size_t k, size_t n)
{
	if (!k)
		return n;
	memcpy(buf, w->held, k);
	w->nheld = 0;
	return k + n;
}

/* n bytes were read into buf on w's descriptor: how many lws may see, at
 * the front of buf. */
static size_t check(struct watch *w, void *buf, size_t n)
{
	uint64_t start = w->g.pos, at;
	size_t ok, from;

	if (w->ext && !w->ext_told)
		n = ext_check(w, buf, n);
	ok = wsb_wsguard_feed(&w->g, buf, n);

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
	struct watch *w = slot(fd);
	size_t k = flags & MSG_PEEK ? 0 : held_room(w, len), ok;
	ssize_t n = recvfrom(fd, (char *)buf + k, len - k, flags, NULL, NULL);

	if (n <= 0 || (flags & MSG_PEEK) || !w || !w->on)
		return n;
	ok = check(w, buf, unhold(w, buf, k, (size_t)n));
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
	size_t have = 0, k;
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
	if (!table.len || !get_fd || !pending || !(w = slot(get_fd(ssl))) || !w->on)
		return real(ssl, buf, num);
	/* Less than was read goes back to lws: then nothing may be left in
	 * OpenSSL's buffer, where poll() cannot see it and lws (which takes a
	 * short read for "all there was") would not look. And nothing at all
	 * (a violation's aftermath, or every byte taken by the receive path)
	 * only once OpenSSL says "want read", which is what lws asks
	 * SSL_get_error; or 0 right after the peer's close frame, which lws
	 * takes as the connection's end. */
	for (;;) {
		k = held_room(w, (size_t)num - have);
		if ((n = real(ssl, (char *)buf + have + k, num - (int)(have + k))) <= 0)
			return have ? (int)have : n;
		have += check(w, (char *)buf + have, unhold(w, (char *)buf + have, k, (size_t)n));
		if (have == (size_t)num || (have && !pending(ssl)))
			return (int)have;
		if (!have && wsb_wsguard_peer_closed(&w->g))
			return 0;
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

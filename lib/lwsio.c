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

void wsb_lwsio_unwatch(int fd)
{
	struct watch *w = slot(fd);

	if (w)
		memset(w, 0, sizeof *w);
}

/* n bytes were read on w's descriptor: how many lws may see. */
static size_t check(struct watch *w, const void *buf, size_t n)
{
	size_t ok = wsb_wsguard_feed(&w->g, buf, n);

	if (ok < n && !w->told && w->fn) {
		w->told = 1;
		w->fn(w->owner);
	}
	return ok;
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
	struct watch *w;
	size_t ok;
	int n;

	if (!real) {
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_read");
		*(void **)&get_fd = dlsym(RTLD_NEXT, "SSL_get_fd");
		if (!real) {
			errno = ENOSYS;
			return -1;
		}
	}
	n = real(ssl, buf, num);
	if (n <= 0 || !table.len || !get_fd || !(w = slot(get_fd(ssl))) || !w->on)
		return n;
	/* After a violation: drop what is decrypted until OpenSSL wants more,
	 * so that its state (SSL_get_error, for lws) says "try again later";
	 * or, once the peer's close frame came, return 0 right after a good
	 * read, which lws takes as the connection's end. */
	for (;;) {
		ok = check(w, buf, (size_t)n);
		if (ok)
			return (int)ok;
		if (wsb_wsguard_peer_closed(&w->g))
			return 0;
		if ((n = real(ssl, buf, num)) <= 0)
			return n;
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

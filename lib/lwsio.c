/* Our recv() must be a plain definition: the fortified header would turn
 * the name into an inline wrapper of its own. */
#undef _FORTIFY_SOURCE

#include "lwsio.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"

/* A descriptor is a client's or a server's, never both: their parts
 * share the slot (about 40 B less per connection, in a table of tens of
 * thousands), so every use of either part asks `server` first. */
struct watch {
	struct wsb_wsguard g;
	wsb_lwsio_hook fn;
	void *owner;
	unsigned char on, told;
	unsigned char server;
	unsigned char asked;		/* a server's: more() ran and no read came since */
	unsigned char own;		/* a server's read by its owner, not by lws (wsb_lwsio_move) */
	unsigned char keep;		/* moved away: lws's shutdown() of this number is skipped */
	uint32_t plen;			/* a server's: see pend */
	union {
		struct {
			struct wsb_wsrx *rx;		/* a client's receive path, or NULL */
			struct wsb_wsext *ext;		/* a client's extension answer, or NULL */
			unsigned char ext_told;		/* rx knows the answer */
			unsigned char nheld;		/* bytes ext held back: they go in front of the next read */
			unsigned char held[WSB_WSEXT_HOLD];
		};
		struct {	/* a server's receive path, followed from the first frame */
			uint32_t poff;			/* in pend; plen above packs with the flags */
			struct wsb_wssrx srx;
			wsb_lwsio_hook more;		/* held bytes wait for a read */
			unsigned char *pend;		/* read and not yet parsed (malloc'd) */
		};
	};
};

/* What a serving connection reads goes here first: one buffer for all,
 * since the event loop is single-threaded, so lws's own per-connection
 * buffer can be tiny without making reads small. */
#define SHARED_CAP 65536
static unsigned char *shared;

/* Indexed by fd, grown on demand up to RLIMIT_NOFILE entries. Mapped,
 * not malloc'd: the kernel's pages come zeroed and cost nothing until a
 * slot on them is used, so doubling it for the 10 001st connection does
 * not make every new slot resident (about 140 B per connection at 10 000
 * before), and growing it moves pages instead of copying them. */
static struct watch *table;
static size_t nslots, mapped;

static struct watch *slot(int fd)
{
	if (fd < 0 || (size_t)fd >= nslots)
		return NULL;
	return table + fd;
}

static int grow(int fd, struct wsb_err *err)
{
	struct rlimit rl;
	size_t want = nslots ? nslots * 2 : 64, page = (size_t)sysconf(_SC_PAGESIZE), bytes;
	void *p;

	if (want <= (size_t)fd)
		want = (size_t)fd + 1;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY && want > rl.rlim_cur)
		want = rl.rlim_cur > (rlim_t)fd ? (size_t)rl.rlim_cur : (size_t)fd + 1;
	bytes = (want * sizeof(struct watch) + page - 1) / page * page;
	p = table ? mremap(table, mapped, bytes, MREMAP_MAYMOVE)
		  : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return wsb_err_set(err, WSB_EXIT_OSERR, "descriptor table for %zu: %s", want, strerror(errno));
	table = p;
	mapped = bytes;
	nslots = bytes / sizeof(struct watch);
	return 0;
}

int wsb_lwsio_watch(int fd, enum wsb_wsguard_side side, struct wsb_err *err)
{
	struct watch *w;

	if (fd < 0)
		return wsb_err_set(err, WSB_EXIT_SOFTWARE, "no descriptor to watch");
	if (!slot(fd) && grow(fd, err))
		return -1;
	wsb_lwsio_unwatch(fd);
	w = slot(fd);
	wsb_wsguard_init(&w->g, side, 1);
	w->server = side == WSB_WSGUARD_SERVER;
	if (w->server)
		wsb_wssrx_init(&w->srx);
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

	if (!w || !w->on || w->server)
		return -1;
	w->rx = rx;
	return 0;
}

int wsb_lwsio_ext(int fd, struct wsb_wsext *x)
{
	struct watch *w = slot(fd);

	if (!w || !w->on || w->server)
		return -1;
	w->ext = x;
	return 0;
}

int wsb_lwsio_serve(int fd, size_t max, int deflate, const struct wsb_wssrx_ops *ops, void *ud,
		    wsb_lwsio_hook more)
{
	struct watch *w = slot(fd);

	if (!w || !w->on || !w->server)
		return -1;
	if (!shared && !(shared = malloc(SHARED_CAP)))
		return -1;
	wsb_wssrx_take(&w->srx, max, deflate, ops, ud);
	w->more = more;
	return 0;
}

int wsb_lwsio_held(int fd)
{
	struct watch *w = slot(fd);

	return w && w->on && w->server && w->poff < w->plen;
}

void wsb_lwsio_drop(int fd)
{
	struct watch *w = slot(fd);

	if (w && w->on && w->server)
		wsb_wssrx_drop(&w->srx);
}

void wsb_lwsio_unwatch(int fd)
{
	struct watch *w = slot(fd);

	if (!w)
		return;
	if (w->server) {
		wsb_wssrx_free(&w->srx);
		free(w->pend);
	}
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
	return w && w->on && !w->server && w->nheld < len ? w->nheld : 0;
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

	if (!w->server && w->ext && !w->ext_told)
		n = ext_check(w, buf, n);
	ok = wsb_wsguard_feed(&w->g, buf, n);

	if (ok < n && !w->told && w->fn) {
		w->told = 1;
		w->fn(w->owner);
	}
	/* The receive path sees the frames the guard passed, not the 101. */
	if ((!w->server && !w->rx) || !ok || (at = wsb_wsguard_frames_at(&w->g)) >= start + ok)
		return ok;
	from = at > start ? (size_t)(at - start) : 0;
	if (w->server) {	/* not taking yet: followed, every frame stays lws's */
		size_t out = from;

		wsb_wssrx_feed(&w->srx, (unsigned char *)buf + from, ok - from, buf, ok, &out);
		return out;
	}
	return from + wsb_wsrx_feed(w->rx, (unsigned char *)buf + from, ok - from);
}

/* ---- a serving connection that takes its data frames (wssrx.h) ---- */

int wsb_lwsio_fresh(int fd)
{
	struct watch *w = slot(fd);

	return w && w->on && w->server && !w->told && w->plen == 0 && w->g.frames_at != UINT64_MAX &&
	       w->g.pos == w->g.frames_at && !w->srx.lws_open && !w->srx.hlen && !w->srx.in_payload;
}

int wsb_lwsio_move(int from, int to, struct wsb_err *err)
{
	struct watch *w = slot(from), *t;

	if (!w || !w->on || !w->server || from == to)
		return wsb_err_set(err, WSB_EXIT_SOFTWARE, "descriptor %d is not a watched server socket", from);
	if (!slot(to) && grow(to, err))
		return -1;
	wsb_lwsio_unwatch(to);
	w = slot(from);			/* the table may have moved */
	t = slot(to);
	*t = *w;
	t->own = 1;
	memset(w, 0, sizeof *w);
	w->keep = 1;
	return 0;
}

void *wsb_lwsio_own(int fd)
{
	struct watch *w = slot(fd);

	return w && w->on && w->own ? w->owner : NULL;
}

/* Parses p[0..n) into buf[*out..len); what is left is held (copied unless
 * it already is the held buffer). 0, or -1 when it cannot be held (out of
 * memory: the connection fails like a read error). */
static int serve_parse(struct watch *w, unsigned char *p, size_t n, unsigned char *buf, size_t len, size_t *out)
{
	size_t used = wsb_wssrx_feed(&w->srx, p, n, buf, len, out);
	unsigned char *h;

	if (p == w->pend + w->poff) {
		w->poff += (uint32_t)used;
		if (w->poff == w->plen) {
			free(w->pend);
			w->pend = NULL;
			w->plen = w->poff = 0;
		}
		return 0;
	}
	if (used == n)
		return 0;
	if (!(h = malloc(n - used)))
		return -1;
	memcpy(h, p + used, n - used);
	w->pend = h;
	w->plen = (uint32_t)(n - used);
	w->poff = 0;
	return 0;
}

/* The next bytes to parse: what is held, or a read into the shared buffer
 * through the guard. >0: their number, at *p; else the read's result (0
 * EOF, -1 error or EAGAIN, or -2: read and dropped after a violation). */
static ssize_t serve_next(struct watch *w, ssize_t (*rd)(void *src, void *p, size_t cap), void *src,
			  unsigned char **p)
{
	ssize_t n;
	size_t ok;

	w->asked = 0;
	if (w->poff < w->plen) {
		*p = w->pend + w->poff;
		return (ssize_t)(w->plen - w->poff);
	}
	if ((n = rd(src, shared, SHARED_CAP)) <= 0)
		return n;
	ok = wsb_wsguard_feed(&w->g, shared, (size_t)n);
	if (ok < (size_t)n && !w->told && w->fn) {
		w->told = 1;
		w->fn(w->owner);
	}
	*p = shared;
	return ok ? (ssize_t)ok : -2;
}

/* Held bytes that the owner did not stop for (lws's out was full): ask
 * for another read, since poll() cannot see them. */
static void serve_more(struct watch *w)
{
	if (w->poff < w->plen && !w->srx.stop && w->more && !w->asked) {
		w->asked = 1;
		w->more(w->owner);
	}
}

static ssize_t rd_plain(void *src, void *p, size_t cap)
{
	return recvfrom(*(int *)src, p, cap, 0, NULL, NULL);
}

static ssize_t serve_recv(struct watch *w, int fd, unsigned char *buf, size_t len)
{
	unsigned char *p = NULL;
	size_t out = 0;
	ssize_t n = serve_next(w, rd_plain, &fd, &p);

	if (n == -2 && wsb_wsguard_peer_closed(&w->g))
		return 0;		/* it answered our close: end now, as at EOF */
	if (n == 0 || n == -1)
		return n;
	if (n > 0 && serve_parse(w, p, (size_t)n, buf, len, &out)) {
		errno = ENOMEM;
		return -1;
	}
	serve_more(w);
	if (out)
		return (ssize_t)out;
	errno = EAGAIN;			/* all of it was ours: poll() wakes for new bytes only */
	return -1;
}

ssize_t wsb_lwsio_read(int fd, void *buf, size_t len)
{
	struct watch *w = slot(fd);

	if (!w || !w->on || !w->own || !w->srx.taking) {
		errno = EBADF;
		return -1;
	}
	return serve_recv(w, fd, buf, len);
}

/* lws shuts a socket down as it closes it; one moved to its owner
 * (wsb_lwsio_move) lives on under another number, so not that one. */
int shutdown(int fd, int how)
{
	static int (*real)(int, int);
	struct watch *w = slot(fd);

	if (w && w->keep) {
		w->keep = 0;
		return 0;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "shutdown");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, how);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct watch *w = slot(fd);
	size_t k, ok;
	ssize_t n;

	if (w && w->on && w->server && w->srx.taking && !(flags & MSG_PEEK))
		return serve_recv(w, fd, buf, len);
	k = flags & MSG_PEEK ? 0 : held_room(w, len);
	n = recvfrom(fd, (char *)buf + k, len - k, flags, NULL, NULL);

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

static int (*ssl_real)(struct ssl_st *, void *, int);
static int (*ssl_get_fd)(const struct ssl_st *);
static int (*ssl_pending)(const struct ssl_st *);	/* SSL_has_pending: read-ahead too */

static ssize_t rd_tls(void *src, void *p, size_t cap)
{
	return ssl_real(src, p, (int)cap);
}

/* A serving connection over TLS. lws takes a short read for "all there
 * was" and asks SSL_get_error about a read that returned nothing, so:
 * read on while everything was ours and OpenSSL has more (its last answer
 * is then "want read"); when the connection stops with nothing for lws,
 * hand it an empty pong (harmless: the peer did just send something) and
 * ask for another read if OpenSSL still holds bytes. */
static int serve_ssl_read(struct watch *w, struct ssl_st *ssl, unsigned char *buf, int num)
{
	static const unsigned char pong[] = { 0x8a, 0x80, 0, 0, 0, 0 };
	size_t out = 0;
	unsigned char *p = NULL;
	ssize_t n;

	for (;;) {
		n = serve_next(w, rd_tls, ssl, &p);
		if (n == -2 && !out && wsb_wsguard_peer_closed(&w->g))
			return 0;
		if (n == -2)
			continue;	/* read and dropped: on to "want read" */
		if (n <= 0)
			return out ? (int)out : (int)n;
		if (serve_parse(w, p, (size_t)n, buf, (size_t)num, &out))
			return out ? (int)out : -1;
		if (out == (size_t)num || w->srx.stop || w->poff < w->plen)
			break;
		if (out && !ssl_pending(ssl))
			return (int)out;
	}
	if (!w->srx.stop && w->more && !w->asked && (w->poff < w->plen || ssl_pending(ssl))) {
		w->asked = 1;
		w->more(w->owner);
	}
	if (out)
		return (int)out;
	if ((size_t)num < sizeof pong)
		return -1;
	memcpy(buf, pong, sizeof pong);
	return (int)sizeof pong;
}

int SSL_read(struct ssl_st *ssl, void *buf, int num)
{
	struct watch *w;
	size_t have = 0, k;
	int n;

	if (!ssl_real) {
		*(void **)&ssl_real = dlsym(RTLD_NEXT, "SSL_read");
		*(void **)&ssl_get_fd = dlsym(RTLD_NEXT, "SSL_get_fd");
		*(void **)&ssl_pending = dlsym(RTLD_NEXT, "SSL_has_pending");
		if (!ssl_real) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (!nslots || !ssl_get_fd || !ssl_pending || !(w = slot(ssl_get_fd(ssl))) || !w->on)
		return ssl_real(ssl, buf, num);
	if (w->server && w->srx.taking)
		return serve_ssl_read(w, ssl, buf, num);
	/* Less than was read goes back to lws: then nothing may be left in
	 * OpenSSL's buffer, where poll() cannot see it and lws (which takes a
	 * short read for "all there was") would not look. And nothing at all
	 * (a violation's aftermath, or every byte taken by the receive path)
	 * only once OpenSSL says "want read", which is what lws asks
	 * SSL_get_error; or 0 right after the peer's close frame, which lws
	 * takes as the connection's end. */
	for (;;) {
		k = held_room(w, (size_t)num - have);
		if ((n = ssl_real(ssl, (char *)buf + have + k, num - (int)(have + k))) <= 0)
			return have ? (int)have : n;
		have += check(w, (char *)buf + have, unhold(w, (char *)buf + have, k, (size_t)n));
		if (have == (size_t)num || (have && !ssl_pending(ssl)))
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

/* relay — the machine's floor for the latency scenario.
 *
 *   relay [PORT]      (0 or none: a free port; "listening on 127.0.0.1:PORT"
 *                      goes to stderr once it accepts)
 *
 * The least work a WebSocket fan-out server can do for wsb-load: no
 * envelope, no sessions, no queues, no libwebsockets. A connection whose
 * upgrade request names a query (wsb-load's subscribers ask ?type=...) is a
 * subscriber; any other is a publisher. Each gets the 101 and a
 * connection_established greeting. Every read from a publisher is unmasked
 * and re-framed into one buffer, which goes to each subscriber with one
 * send(): one send per subscriber per read, as the broker does when a
 * subscriber keeps up. What a socket does not take is kept and finished
 * under EPOLLOUT, so nothing is lost and wsb-load's loss and order checks
 * still hold.
 *
 * Why it exists: on a shared 2-core VM the latency tail moves with the
 * host from one minute to the next. Run beside wsbridge-serve with the
 * same load client in the same minute, its p99 says how much of the
 * broker's p99 any server would have had there (tests/bench/bench.sh,
 * docs/performance.md). Loopback only; a bench tool, not a server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"

#define MAXPEERS 4096
#define RBUF (256 * 1024)

struct peer {
	int fd;
	int sub;		/* its upgrade named a query */
	int up;			/* 101 sent */
	unsigned char *in;	/* bytes not yet a whole request or frame */
	size_t in_len, in_cap;
	unsigned char *out;	/* bytes the socket did not take */
	size_t out_len, out_cap;
};

static struct peer *peers[MAXPEERS];
static int ep;
static unsigned char rbuf[RBUF];
static unsigned char *fan;	/* one read's frames, re-framed for subscribers */
static size_t fan_len, fan_cap;

static int grow(unsigned char **b, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;
	unsigned char *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (!(n = realloc(*b, c)))
		return -1;
	*b = n;
	*cap = c;
	return 0;
}

static void drop(struct peer *p)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	peers[p->fd] = NULL;
	free(p->in);
	free(p->out);
	free(p);
}

/* send() what can go now; keep the rest (after any already kept, so the
 * order holds) and ask for EPOLLOUT while some is kept. */
static int put(struct peer *p, const unsigned char *b, size_t n)
{
	ssize_t w = 0;

	if (!p->out_len && (w = send(p->fd, b, n, MSG_NOSIGNAL)) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		w = 0;
	}
	if ((size_t)w == n)
		return 0;
	if (grow(&p->out, &p->out_cap, p->out_len + n - (size_t)w))
		return -1;
	memcpy(p->out + p->out_len, b + w, n - (size_t)w);
	p->out_len += n - (size_t)w;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = p->fd };
	return epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
}

static int flush_kept(struct peer *p)
{
	ssize_t w = send(p->fd, p->out, p->out_len, MSG_NOSIGNAL);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = p->fd };

	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	memmove(p->out, p->out + w, p->out_len - (size_t)w);
	p->out_len -= (size_t)w;
	return p->out_len ? 0 : epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
}

static int put_text(struct peer *p, const char *s)
{
	unsigned char f[256];
	size_t n = strlen(s), h = wsb_frame_header(f, n, WSB_OP_TEXT, NULL);

	memcpy(f + h, s, n);
	return put(p, f, h + n);
}

/* The whole request is in: answer 101 (the accept key as RFC 6455 §4.2.2
 * asks), then the greeting. */
static int upgrade(struct peer *p, const char *req)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	const char *k = strcasestr(req, "\r\nSec-WebSocket-Key:");
	char key[128], resp[256];
	unsigned char sha[SHA_DIGEST_LENGTH], acc[64];
	size_t kl;

	if (strncmp(req, "GET ", 4) || !k)
		return -1;
	k += 20;
	k += strspn(k, " ");
	kl = strcspn(k, " \r");
	if (kl > 64)
		return -1;
	snprintf(key, sizeof key, "%.*s%s", (int)kl, k, guid);
	SHA1((const unsigned char *)key, strlen(key), sha);
	EVP_EncodeBlock(acc, sha, sizeof sha);
	p->sub = memchr(req, '?', strcspn(req, "\r")) != NULL;
	p->up = 1;
	snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", (const char *)acc);
	if (put(p, (const unsigned char *)resp, strlen(resp)))
		return -1;
	return put_text(p, "{\"type\":\"connection_established\"}");
}

/* Whole masked frames from b: each text frame's payload, unmasked and
 * re-framed, appended to fan. Returns the bytes used; *stop when a frame
 * ends the connection (a close, or one this floor does not take: not
 * masked, fragmented, not text), the frames before it still fanned out. */
static long frames(const unsigned char *b, size_t n, int *stop)
{
	size_t at = 0;

	while (n - at >= 2) {
		const unsigned char *f = b + at;
		uint64_t len = f[1] & 0x7f;
		size_t h = 2;

		if (!(f[1] & 0x80) || (f[0] & 0x0f) != WSB_OP_TEXT || !(f[0] & 0x80)) {
			*stop = 1;
			break;
		}
		if (len == 126) {
			if (n - at < 8)
				break;
			len = (uint64_t)f[2] << 8 | f[3], h = 4;
		} else if (len == 127) {
			if (n - at < 14)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | f[2 + i];
			h = 10;
		}
		if (len > RBUF || n - at < h + 4 + len)
			break;
		if (grow(&fan, &fan_cap, fan_len + 14 + len))
			return -1;
		fan_len += wsb_frame_header(fan + fan_len, len, WSB_OP_TEXT, NULL);
		for (uint64_t i = 0; i < len; i++)
			fan[fan_len + i] = f[h + 4 + i] ^ f[h + (i & 3)];
		fan_len += len;
		at += h + 4 + len;
	}
	return (long)at;
}

static int fan_out(void)
{
	for (int fd = 0; fd < MAXPEERS; fd++) {
		struct peer *s = peers[fd];

		if (s && s->sub && s->up && put(s, fan, fan_len))
			drop(s);
	}
	fan_len = 0;
	return 0;
}

/* The request so far: once whole, the upgrade. Returns the bytes used. */
static long request(struct peer *p, const unsigned char *b, size_t n)
{
	const unsigned char *e = memmem(b, n, "\r\n\r\n", 4);
	char req[8192];

	if (!e)
		return n >= sizeof req ? -1 : 0;
	if ((size_t)(e - b) >= sizeof req)
		return -1;
	memcpy(req, b, (size_t)(e - b));
	req[e - b] = 0;
	return upgrade(p, req) ? -1 : e + 4 - b;
}

/* Bytes from the socket, after whatever was kept from the last read. */
static int consume(struct peer *p, const unsigned char *b, size_t n)
{
	long used;
	int stop = 0;

	if (p->in_len) {
		if (grow(&p->in, &p->in_cap, p->in_len + n))
			return -1;
		memcpy(p->in + p->in_len, b, n);
		p->in_len += n;
		b = p->in, n = p->in_len;
	}
	if (!p->up)
		used = request(p, b, n);
	else if ((used = frames(b, n, &stop)) > 0 && !p->sub)
		fan_out();
	else
		fan_len = 0;	/* a subscriber's frames go nowhere */
	if (used < 0 || stop)
		return -1;
	/* Keep the partial rest; b is p->in itself or the read buffer, and
	 * p->in is grown only in the second case. */
	p->in_len = n - (size_t)used;
	if (!p->in_len)
		return 0;
	if (b != p->in && grow(&p->in, &p->in_cap, p->in_len))
		return -1;
	memmove(p->in, b + used, p->in_len);
	return 0;
}

static void readable(struct peer *p)
{
	ssize_t n = recv(p->fd, rbuf, sizeof rbuf, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || consume(p, rbuf, (size_t)n))
		drop(p);
}

static void accept_all(int lfd)
{
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		struct peer *p = fd < MAXPEERS ? calloc(1, sizeof *p) : NULL;

		if (!p || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			free(p);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		p->fd = fd;
		peers[fd] = p;
	}
}

static int listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t sl = sizeof sa;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 1024) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	fprintf(stderr, "relay: listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
	return fd;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	int lfd, port = argc > 1 ? atoi(argv[1]) : 0;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 2 || port < 0 || port > 65535 || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (lfd = listen_on(port)) < 0) {
		fprintf(stderr, "usage: relay [PORT]  (cannot listen: %s)\n", strerror(errno));
		return 64;
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd)
				accept_all(lfd);
			else if (peers[fd] && (evs[i].events & EPOLLOUT) && flush_kept(peers[fd]))
				drop(peers[fd]);
			else if (peers[fd] && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				readable(peers[fd]);
		}
		if (n < 0 && errno != EINTR)
			return 71;
	}
}

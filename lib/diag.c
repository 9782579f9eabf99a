#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "envelope.h"

/* A minimal TLS 1.2 ClientHello: any TLS server answers it with a
 * handshake record or an alert, both starting 0x16/0x15 0x03. */
static const unsigned char client_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x2f,		/* record: handshake, 47 bytes */
	0x01, 0x00, 0x00, 0x2b, 0x03, 0x03,	/* ClientHello, 43 bytes, TLS 1.2 */
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,	/* random */
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	0x00,					/* no session id */
	0x00, 0x04, 0xc0, 0x2f, 0x00, 0x9c,	/* two cipher suites */
	0x01, 0x00,				/* no compression */
};

static const char http_probe[] = "GET / HTTP/1.0\r\n\r\n";

static int wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return r;
}

static void say_errno(int e, int port, int timeout_ms, char *out, size_t cap)
{
	if (e == ECONNREFUSED)
		snprintf(out, cap, "connection refused (nothing listens on port %d)", port);
	else if (e == ETIMEDOUT)
		snprintf(out, cap, "no answer within %g s", timeout_ms / 1000.0);
	else if (e == EHOSTUNREACH || e == ENETUNREACH)
		snprintf(out, cap, "host unreachable");
	else
		snprintf(out, cap, "%s", strerror(e));
}

/* A connected socket to host:port, or -1 with the cause in out. */
static int dial(const char *host, int port, int timeout_ms, char *out, size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char ps[16];
	int fd, r, e = 0;
	socklen_t el = sizeof e;

	snprintf(ps, sizeof ps, "%d", port);
	if ((r = getaddrinfo(host, ps, &hints, &ai))) {
		snprintf(out, cap, "cannot resolve %s: %s", host, gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		e = errno;
	else if (fd >= 0 && !(r = wait_fd(fd, POLLOUT, timeout_ms)))
		e = ETIMEDOUT;
	else if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el))
		e = errno;
	if (fd < 0)
		e = errno;
	freeaddrinfo(ai);
	if (!e)
		return fd;
	say_errno(e, port, timeout_ms, out, cap);
	if (fd >= 0)
		close(fd);
	return -1;
}

int wsb_diag_connect(const char *host, int port, int tls, int http, int timeout_ms, char *out, size_t cap)
{
	unsigned char b[8];
	ssize_t n = -1;
	int fd = dial(host, port, timeout_ms, out, cap);

	if (fd < 0)
		return 0;
	/* Say what the scheme says we speak, and see what comes back. */
	if (tls ? send(fd, http_probe, sizeof http_probe - 1, MSG_NOSIGNAL) > 0
		: send(fd, client_hello, sizeof client_hello, MSG_NOSIGNAL) > 0)
		if (wait_fd(fd, POLLIN, timeout_ms) > 0)
			n = recv(fd, b, sizeof b, 0);
	close(fd);
	if (!tls && n >= 2 && (b[0] == 0x16 || b[0] == 0x15) && b[1] == 0x03) {
		snprintf(out, cap, "the broker speaks TLS: use %s://", http ? "https" : "wss");
		return WSB_DIAG_SCHEME;
	}
	if (tls && n >= 5 && !memcmp(b, "HTTP/", 5)) {
		snprintf(out, cap, "the broker does not speak TLS on this port: use %s://", http ? "http" : "ws");
		return WSB_DIAG_SCHEME;
	}
	return -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct wsb_buf *b = ud;

	return wsb_buf_append(b, data, size * nmemb, NULL) ? 0 : size * nmemb;
}

/* "endpoints":{"websocket":"/ws"} of a wsbridge-serve / answer. */
static int ws_path_of(const char *body, size_t len, char *out, size_t cap)
{
	struct wsb_span e, w;
	struct wsb_env env;
	char *scan = malloc(len + 1);
	ssize_t n = scan ? wsb_env_parse(body, len, scan, NULL, &env, NULL) : -1;
	int r = -1;

	if (n > 0 && wsb_env_lookup(scan, (size_t)n, "endpoints", &e) &&
	    wsb_env_lookup(scan + e.off, e.len, "websocket", &w) &&
	    wsb_env_string(scan + e.off + w.off, w.len, out, cap) > 0)
		r = 0;
	free(scan);
	return r;
}

int wsb_diag_ws_path(const char *host, int port, int tls, const char *cafile, int insecure,
		     int timeout_ms, char *out, size_t cap)
{
	struct wsb_buf body = { .max = 64 * 1024 };
	char url[1200];
	long code = 0;
	int r = -1;
	CURL *h = curl_easy_init();

	if (!h)
		return -1;
	snprintf(url, sizeof url, "%s://%s%s%s:%d/", tls ? "https" : "http", strchr(host, ':') ? "[" : "",
		 host, strchr(host, ':') ? "]" : "", port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	if (cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
	if (insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (curl_easy_perform(h) == CURLE_OK && !curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) &&
	    code == 200 && body.len)
		r = ws_path_of(body.p, body.len, out, cap);
	curl_easy_cleanup(h);
	wsb_buf_free(&body);
	return r;
}

/* wsb-load — the project's load client for benchmarks: many WebSocket
 * connections in one process, one lws context, default poll backend.
 *
 *   wsb-load fanout --url ws://127.0.0.1:PORT/ws --subs 100 --messages 20000
 *                   [--size 200] [--type bench] [--timeout 60] [--write raw|text]
 *                   [--rx raw|lws] [--rate MSGS/S] [--cpu-pid PID] [--pub-url ws://...]
 *                   [--patterns N] [--loop epoll|lws]
 *
 * --patterns N: each subscriber also names N patterns no message matches
 * (z0, z1.*, z2, ...: half exact, half globs), to see what fan-out costs
 * per pattern.
 * --pub-url: the publisher connects there instead of --url (another
 * instance of a cluster: the latency then includes the way through Redis).
 * Opens --subs subscriber connections (?type=TYPE), waits for every
 * connection_established greeting (the broker registers a session, with its
 * URL subscription, before it greets), then one publisher connection sends
 * --messages messages {"type":TYPE,"data":{"i":N,"t":NS,"pad":"xxx…"}} of
 * --size bytes, paced only by its socket: --write raw (default) masks whole
 * frames into one buffer and sends it with one lws_write(LWS_WRITE_RAW) per
 * writable callback; --write text makes one lws_write(LWS_WRITE_TEXT) per
 * message (each its own send()), for comparison. Subscribers are, with
 * --rx raw (default), lws RAW sockets that upgrade and parse frames here
 * (lws's client parser goes byte by byte and caps one process at ~0.7 M
 * deliveries/s, below the broker), or with --rx lws ordinary lws ws
 * clients. --rate paces the publisher (checked every 1 ms) so latency can
 * be seen below saturation. t is CLOCK_MONOTONIC ns
 * when the frame was built. Every subscriber counts what it gets, checks
 * that i goes up by exactly 1, and adds receive time - t to one latency
 * histogram. When every subscriber has all messages, has been closed, or
 * --timeout passes, one line of key=value pairs goes to stdout:
 *
 *   subs messages deliveries loss out_of_order closed seconds
 *   deliveries_per_s p50_ms p99_ms max_ms write rx loop client_cpu_s
 *   [sock_p50_ms sock_p99_ms sock_max_ms]
 *
 * seconds runs from the first frame built to the last message received.
 * client_cpu_s is this process's own CPU over that interval: on a shared
 * machine it competes with the server it measures.
 * With --rate (and --rx raw), each delivery is also timed to the moment
 * its bytes were in the subscriber's socket (the kernel's receive
 * timestamp, SO_TIMESTAMPNS, of the last segment of the read that brought
 * it, so never earlier than the truth): sock_*. p50_ms/p99_ms also count
 * the time this one process takes to read 100 sockets one after another,
 * which 100 real subscribers would not wait for; the difference is the
 * measuring client's own part of the latency.
 * --loop epoll (the default with --rate, which needs --rx raw and --write
 * raw): no lws at all; every connection is a plain socket in one epoll
 * set, read once per readiness into one 64 KiB buffer and parsed in bulk,
 * the publisher paced and batched as with lws (see ep_open). --loop lws
 * (the default otherwise, and the only loop for idle) is the lws context
 * and its poll() over every descriptor: the latency run's client then
 * used more CPU than the broker. Both print the same line.
 * With --cpu-pid PID (the server's), the line also has server_cpu_s, the
 * utime+stime PID spent over that same interval (from /proc/PID/stat, so
 * connection setup is left out), and deliveries_per_cpu_s.
 * Exit 0 only when loss and out_of_order are both 0; 1 otherwise; 2 when
 * the connections could not be set up; 64 for bad usage.
 *
 *   wsb-load idle --url ws://127.0.0.1:PORT/ws --subs 10000 [--timeout 60]
 *
 * Opens --subs subscriber connections and no publisher, prints "ready
 * conns=N" once every one is greeted, then holds them, idle, until SIGTERM
 * or --timeout (make bench measures the server's memory per connection
 * meanwhile). Then one line "conns= greeted= closed="; exit 0 only if all
 * were greeted and none closed.
 */
/* Our recv() must be a plain definition: the fortified header would turn
 * the name into an inline wrapper of its own. */
#undef _FORTIFY_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "frame.h"

#define BATCH 65536		/* bytes of frames per writable callback */
/* Connections being set up at once: ten thousand at a time overflow the
 * server's accept queue and lws gives some up ("closed before
 * established"), so the rest wait for a greeting to make room. */
#define CONNECT_BURST 256
#define HSUB 7			/* histogram: 2^HSUB buckets per power of two */
#define HBUCKETS ((64 - HSUB + 1) << HSUB)

struct conn {
	struct lws *wsi;
	int is_pub;
	int greeted;		/* connection_established seen */
	int gone;		/* closed or failed */
	int done;		/* got every message */
	int upgraded;		/* raw subscriber: 101 seen */
	int fd;			/* --loop epoll: the socket (-1: none) */
	int connecting;		/* --loop epoll: connect() not yet done */
	uint64_t got;
	uint64_t next_i;	/* the i expected next */
	char *rx;		/* reassembly of fragmented messages */
	size_t rx_len, rx_cap;
};

static struct {
	/* options */
	const char *url, *type;
	long subs;
	uint64_t messages;
	size_t size;
	double timeout;
	int text;		/* --write text */
	int lws_rx;		/* --rx lws */
	int patterns;		/* --patterns: more per subscriber, never matching */
	int idle;		/* mode idle: subscribers only, held open */
	double rate;		/* --rate: messages/s, 0 = as fast as the socket takes */
	long cpu_pid;		/* --cpu-pid: the server, whose CPU time is reported */
	int ep;			/* --loop epoll: the epoll descriptor, or -1 (lws) */

	/* URL */
	char host[256], path[2048];
	int port;
	const char *pub_url;		/* --pub-url, or NULL: --url */
	char pub_host[256], pub_path[2048];
	int pub_port;

	struct lws_context *ctx;
	struct conn *conns;	/* subs, then the publisher at [subs] */
	struct conn *pub;
	long greeted, finished;	/* subscribers greeted; done or gone */
	long next_conn, inflight;	/* connect_more: next to open, opened and not greeted */
	int started, stop, setup_failed;

	/* publisher */
	uint64_t sent;
	unsigned char *batch;	/* LWS_PRE + BATCH (+ one message) */
	size_t batch_cap;
	size_t tail_off, tail_len;	/* --loop epoll: batch bytes the socket did not take yet */
	uint64_t pub_check;	/* --loop epoll: when the pacing looks again (ns; 0: at once) */
	uint64_t rng;
	char *msg;		/* message template */
	size_t prefix_len;	/* bytes before the padding */

	/* results */
	uint64_t deliveries, out_of_order, closed;
	uint64_t t_first, t_last;	/* ns */
	double cpu_first, cpu_last;	/* --cpu-pid's utime+stime, s, at t_first / t_last */
	double self_first, self_last;	/* ours, likewise */
	uint64_t lat_max;		/* ns */
	uint32_t hist[HBUCKETS];	/* latency in µs */

	/* kernel receive timestamps (--rate): time in the socket */
	int kstamp;
	int64_t real_off;		/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint64_t rx_kts;		/* the last read's, monotonic ns, or 0 */
	uint64_t arrival;		/* the read being parsed */
	uint64_t read_at;		/* --rx raw: when that read returned (ns), or 0 */
	uint64_t sock_max, sock_n;
	uint32_t shist[HBUCKETS];

	lws_sorted_usec_list_t sul_timeout, sul_pace;
} L;

static void connect_more(void);
static void on_timeout(lws_sorted_usec_list_t *sul);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* lws reads its sockets with recv() through the PLT, so this definition
 * is the one it calls (as lib/lwsio.c does in the tools). With --rate it
 * reads with recvmsg() to get the kernel's receive timestamp, which is
 * CLOCK_REALTIME: turned monotonic with an offset taken at start (a
 * clock step during a run would skew it; NTP's slewing is ppm). */
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	union { char b[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } cb;
	struct iovec io = { buf, len };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = sizeof cb.b };
	struct cmsghdr *h;
	ssize_t n;

	if (!L.kstamp)
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	n = recvmsg(fd, &m, flags);
	L.rx_kts = 0;
	for (h = CMSG_FIRSTHDR(&m); n > 0 && h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(h), sizeof ts);
			L.rx_kts = (uint64_t)((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - L.real_off);
		}
	return n;
}

/* Log-linear buckets: exact below 2^HSUB, then 2^HSUB per power of two
 * (under 1 % error). */
static unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < (1u << HSUB))
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return ((e - HSUB + 1) << HSUB) + (unsigned)((v >> (e - HSUB)) & ((1u << HSUB) - 1));
}

/* The middle of bucket i. */
static double hist_value(unsigned i)
{
	unsigned e;
	uint64_t lo;

	if (i < (1u << HSUB))
		return i;
	e = (i >> HSUB) + HSUB - 1;
	lo = ((uint64_t)(i & ((1u << HSUB) - 1)) | (1u << HSUB)) << (e - HSUB);
	return (double)lo + (double)((uint64_t)1 << (e - HSUB)) / 2;
}

static double hist_pct(const uint32_t *hist, double p)
{
	uint64_t total = 0, want, cum = 0;
	unsigned i;

	for (i = 0; i < HBUCKETS; i++)
		total += hist[i];
	if (!total)
		return 0;
	want = (uint64_t)(p * (double)total + 0.999999);
	if (!want)
		want = 1;
	for (i = 0; i < HBUCKETS; i++) {
		cum += hist[i];
		if (cum >= want)
			return hist_value(i);
	}
	return hist_value(HBUCKETS - 1);
}

/* utime+stime of --cpu-pid in seconds (0 without it or if unreadable):
 * fields 14 and 15 of /proc/PID/stat, after the parenthesised name. */
static double cpu_of_pid(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	if (!L.cpu_pid)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", L.cpu_pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The server's CPU is read here, right after the last delivery, rather
 * than per message. */
static void finish_now(void)
{
	if (!L.stop && L.t_first) {
		L.cpu_last = cpu_of_pid();
		L.self_last = self_cpu();
	}
	L.stop = 1;
	if (L.ctx)
		lws_cancel_service(L.ctx);
}

static void sub_finished(struct conn *c)
{
	if (++L.finished >= L.subs)
		finish_now();
}

static uint64_t next_rand(void)
{
	L.rng ^= L.rng >> 12;
	L.rng ^= L.rng << 25;
	L.rng ^= L.rng >> 27;
	return L.rng * 0x2545F4914F6CDD1DULL;
}

/* Writes message number i into L.msg (its padding is already there). */
static size_t make_msg(uint64_t i)
{
	char head[128];
	int n = snprintf(head, sizeof head, "{\"type\":\"%s\",\"data\":{\"i\":%" PRIu64 ",\"t\":%" PRIu64 ",\"pad\":\"",
			 L.type, i, now_ns());
	size_t len;

	/* The padding keeps the total at --size: shorter heads get more x. */
	len = (size_t)n + 3 < L.size ? L.size : (size_t)n + 3;
	memcpy(L.msg, head, (size_t)n);
	memset(L.msg + n, 'x', len - 3 - (size_t)n);
	memcpy(L.msg + len - 3, "\"}}", 3);
	return len;
}

static void pace_cb(lws_sorted_usec_list_t *sul)
{
	if (L.pub->wsi)
		lws_callback_on_writable(L.pub->wsi);
}

static int pub_write(struct conn *c)
{
	size_t n = 0;
	uint64_t limit = L.messages;

	if (!L.started || L.sent >= L.messages)
		return 0;
	if (!L.t_first) {
		L.t_first = now_ns();
		L.cpu_first = cpu_of_pid();
		L.self_first = self_cpu();
	}
	if (L.rate > 0) {
		/* What the schedule allows by now; otherwise come back in 1 ms. */
		uint64_t due = 1 + (uint64_t)((double)(now_ns() - L.t_first) / 1e9 * L.rate);

		if (due < limit)
			limit = due;
		if (L.sent >= limit) {
			if (L.ep >= 0)
				L.pub_check = now_ns() + 1000000;
			else
				lws_sul_schedule(L.ctx, 0, &L.sul_pace, pace_cb, 1000);
			return 0;
		}
	}
	if (L.text) {
		/* One message per lws_write, each its own send(): the naive way. */
		size_t len = make_msg(L.sent);

		memcpy(L.batch + LWS_PRE, L.msg, len);
		if (lws_write(c->wsi, L.batch + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
			return -1;
		L.sent++;
	} else {
		while (L.sent < limit) {
			size_t len = make_msg(L.sent), need = wsb_frame_header_len(len, 1) + len;
			uint32_t r = (uint32_t)next_rand();
			unsigned char key[4], *p;

			if (n && n + need > BATCH)
				break;
			memcpy(key, &r, 4);
			p = L.batch + LWS_PRE + n;
			p += wsb_frame_header(p, len, WSB_OP_TEXT, key);
			memcpy(p, L.msg, len);
			wsb_frame_mask(p, len, key);
			n += need;
			L.sent++;
		}
		/* Whole frames only; lws keeps an unsent tail and sends it before
		 * the next WRITEABLE (ep_flush, likewise). */
		if (L.ep >= 0) {
			L.tail_off = 0;
			L.tail_len = n;
			L.pub_check = 0;	/* as lws's WRITEABLE: the next pass */
			return 0;
		}
		if (lws_write(c->wsi, L.batch + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
			return -1;
	}
	if (L.sent < L.messages)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static void start_publishing(void)
{
	if (L.started || L.greeted < L.subs || !L.pub->greeted)
		return;
	L.started = 1;
	if (L.ep < 0)
		lws_callback_on_writable(L.pub->wsi);
}

/* The number after the first "K": at or after *at, which moves past it
 * (i comes before t, so t's search starts where i's ended). A jump from
 * quote to quote: memmem per key was a tenth of the client's CPU. */
static uint64_t num_after(const char **at, const char *end, char k, int *ok)
{
	const char *p = *at;
	uint64_t v = 0;

	*ok = 0;
	while ((p = memchr(p, '"', (size_t)(end - p))) && end - p >= 4 && !(p[1] == k && p[2] == '"' && p[3] == ':'))
		p++;
	if (!p || end - p < 4)
		return 0;
	for (p += 4; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		*ok = 1;
	}
	*at = p;
	return v;
}

static void on_message(struct conn *c, const char *msg, size_t len)
{
	uint64_t i, t, now, lat;
	int ok_i, ok_t;
	const char *at = msg;

	if (!c->greeted) {
		if (memmem(msg, len, "\"connection_established\"", 24)) {
			c->greeted = 1;
			L.inflight--;
			connect_more();
			if (!c->is_pub)
				L.greeted++;
			if (L.idle && L.greeted == L.subs) {
				L.started = 1;	/* the timeout no longer means setup failed */
				printf("ready conns=%ld\n", L.subs);
				fflush(stdout);
			}
			start_publishing();
		}
		return;
	}
	if (c->is_pub || c->done)
		return;
	i = num_after(&at, msg + len, 'i', &ok_i);
	t = num_after(&at, msg + len, 't', &ok_t);
	if (!ok_i || !ok_t)
		return;		/* not ours (a control message) */
	now = L.read_at ? L.read_at : now_ns();
	if (i != c->next_i)
		L.out_of_order++;
	c->next_i = i + 1;
	lat = now > t ? now - t : 0;
	if (lat > L.lat_max)
		L.lat_max = lat;
	L.hist[hist_index(lat / 1000)]++;
	if (L.arrival) {
		uint64_t sl = L.arrival > t ? L.arrival - t : 0;

		if (sl > L.sock_max)
			L.sock_max = sl;
		L.shist[hist_index(sl / 1000)]++;
		L.sock_n++;
	}
	L.deliveries++;
	L.t_last = now;
	if (++c->got >= L.messages) {
		c->done = 1;
		sub_finished(c);
	}
}

static int receive(struct lws *wsi, struct conn *c, const char *in, size_t len)
{
	int first = lws_is_first_fragment(wsi);
	int last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);

	if (first)
		c->rx_len = 0;
	if (first && last) {
		on_message(c, in, len);
		return 0;
	}
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap * 2 : 4096;
		char *p;

		while (cap < c->rx_len + len)
			cap *= 2;
		if (!(p = realloc(c->rx, cap)))
			return -1;
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (last) {
		on_message(c, c->rx, c->rx_len);
		c->rx_len = 0;
	}
	return 0;
}


/* --rx raw (default): subscribers are lws RAW client sockets that do the
 * upgrade and parse the server's (unmasked) frames here, a frame at a time
 * rather than lws's byte-at-a-time parser, so the load client is not what
 * limits the fan-out figure. */
static int raw_send(struct conn *c, const char *buf, size_t len)
{
	unsigned char tmp[LWS_PRE + 3000];

	if (L.ep >= 0)	/* small, on a socket that is not behind: all or fail */
		return send(c->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
	if (len > sizeof tmp - LWS_PRE)
		return -1;
	memcpy(tmp + LWS_PRE, buf, len);
	return lws_write(c->wsi, tmp + LWS_PRE, len, LWS_WRITE_RAW) < (int)len ? -1 : 0;
}

/* type=TYPE, and --patterns more that no message matches, half of them
 * exact and half globs (what the broker's type index is measured by). */
static void sub_query(char *q, size_t cap)
{
	size_t n = 0;

	/* before TYPE: a set is matched in the order it was named */
	for (int k = 0; k < L.patterns && n < cap; k++)
		n += (size_t)snprintf(q + n, cap - n, k % 2 ? "type=z%d.*&" : "type=z%d&", k);
	if (n < cap)
		snprintf(q + n, cap - n, "type=%s", L.type);
}

static int raw_upgrade_request(struct conn *c, const char *query)
{
	char req[3000];
	int other = c->is_pub && L.pub_url;
	const char *path = other ? L.pub_path : L.path;
	int n = snprintf(req, sizeof req,
			 "GET %s%s%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: d3NiLWxvYWQtMDEyMzQ1Ng==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			 path, !*query ? "" : strchr(path, '?') ? "&" : "?", query, other ? L.pub_host : L.host,
			 other ? L.pub_port : L.port);

	if (n <= 0 || (size_t)n >= sizeof req)
		return -1;
	return raw_send(c, req, (size_t)n);
}

/* Parses whole frames out of p[0..len); returns the bytes consumed, or -1
 * to close. Fragmented messages are not expected from wsbridge-serve; a
 * continuation is reported as its own message (the order check notices). */
static long raw_frames(struct conn *c, const unsigned char *p, size_t len)
{
	size_t off = 0;

	while (len - off >= 2) {
		const unsigned char *f = p + off;
		int op = f[0] & 0x0f;
		uint64_t plen = f[1] & 0x7f;
		size_t h = 2;

		if (f[1] & 0x80)
			return -1;	/* servers never mask */
		if (plen == 126) {
			if (len - off < 4)
				break;
			plen = (uint64_t)f[2] << 8 | f[3];
			h = 4;
		} else if (plen == 127) {
			if (len - off < 10)
				break;
			plen = 0;
			for (int k = 0; k < 8; k++)
				plen = plen << 8 | f[2 + k];
			h = 10;
		}
		if (plen > (uint64_t)64 * 1024 * 1024)
			return -1;
		if (len - off - h < plen)
			break;
		if (op == 0x1 || op == 0x0) {
			on_message(c, (const char *)f + h, (size_t)plen);
		} else if (op == 0x8) {
			return -1;
		} else if (op == 0x9 && plen <= 125) {	/* ping: pong back, masked with a zero key */
			char pong[6 + 125] = { (char)0x8a, (char)(0x80 | plen), 0, 0, 0, 0 };

			memcpy(pong + 6, f + h, (size_t)plen);
			if (raw_send(c, pong, 6 + (size_t)plen))
				return -1;
		}
		off += h + (size_t)plen;
	}
	return (long)off;
}

static int raw_rx(struct conn *c, const unsigned char *in, size_t len)
{
	const unsigned char *p = in;
	size_t n = len;
	long used;

	/* lws hands RAW reads over at once: this is the read recv() timed.
	 * Its messages were the client's from the moment it returned: one
	 * clock read for all of them (a clock read per message was 4 % of
	 * the client's CPU, for the sub-µs it takes to parse the ones before). */
	L.arrival = L.rx_kts;
	L.read_at = now_ns();
	if (c->rx_len || !c->upgraded) {
		/* Something is pending: parse from the reassembly buffer. */
		if (c->rx_len + len > c->rx_cap) {
			size_t cap = c->rx_cap ? c->rx_cap : 4096;
			char *b;

			while (cap < c->rx_len + len)
				cap *= 2;
			if (!(b = realloc(c->rx, cap)))
				return -1;
			c->rx = b;
			c->rx_cap = cap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		p = (const unsigned char *)c->rx;
		n = c->rx_len;
	}
	if (!c->upgraded) {
		const char *e = memmem(p, n, "\r\n\r\n", 4);

		if (!e)
			return n > 16384 ? -1 : 0;
		if (n < 12 || memcmp(p, "HTTP/1.1 101", 12)) {
			fprintf(stderr, "wsb-load: upgrade refused: %.*s\n", (int)strcspn((const char *)p, "\r"), p);
			return -1;
		}
		c->upgraded = 1;
		used = e + 4 - (const char *)p;
		p += used;
		n -= (size_t)used;
	}
	used = raw_frames(c, p, n);
	L.arrival = 0;
	L.read_at = 0;
	if (used < 0)
		return -1;
	p += used;
	n -= (size_t)used;
	/* Keep the partial frame for the next read. */
	if (n && (const char *)p != c->rx) {
		if (p >= in && p < in + len) {
			if (n > c->rx_cap) {
				char *b = realloc(c->rx, n < 4096 ? 4096 : n);

				if (!b)
					return -1;
				c->rx = b;
				c->rx_cap = n < 4096 ? 4096 : n;
			}
			memcpy(c->rx, p, n);
		} else {
			memmove(c->rx, p, n);
		}
	}
	c->rx_len = n;
	return 0;
}

static void conn_gone(struct conn *c, const char *why)
{
	if (c->gone)
		return;
	c->gone = 1;
	c->wsi = NULL;
	if (c->fd >= 0) {
		close(c->fd);	/* leaves the epoll set with it */
		c->fd = -1;
	}
	if (L.stop)
		return;
	if (!L.started && !c->greeted) {
		fprintf(stderr, "wsb-load: %s connection failed: %s\n", c->is_pub ? "publisher" : "subscriber", why);
		L.setup_failed = 1;
		finish_now();
		return;
	}
	if (c->is_pub) {
		if (L.sent < L.messages)
			fprintf(stderr, "wsb-load: publisher closed after %" PRIu64 " messages: %s\n", L.sent, why);
		/* Nothing more can come: the subscribers have what they have. */
		if (L.sent < L.messages)
			finish_now();
		return;
	}
	if (!c->done) {
		L.closed++;
		sub_finished(c);
	}
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->wsi = wsi;
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return receive(wsi, c, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c->is_pub ? pub_write(c) : 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		conn_gone(c, in ? (const char *)in : "connection error");
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_gone(c, "closed");
		return 0;
	case LWS_CALLBACK_RAW_CONNECTED: {
		char query[2048];
		int one = 1;

		c->wsi = wsi;
		if (L.kstamp && setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one))
			L.kstamp = 0;	/* not timed rather than timed in part */
		sub_query(query, sizeof query);
		return raw_upgrade_request(c, query);
	}
	case LWS_CALLBACK_RAW_RX:
		return raw_rx(c, in, len);
	case LWS_CALLBACK_RAW_CLOSE:
		conn_gone(c, "closed");
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ "wsb-load", callback, 0, BATCH, 0, NULL, BATCH },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static int connect_one(struct conn *c, const char *query, int raw)
{
	struct lws_client_connect_info i;
	char path[2400];

	int other = c->is_pub && L.pub_url;
	const char *host = other ? L.pub_host : L.host, *base = other ? L.pub_path : L.path;

	snprintf(path, sizeof path, "%s%s%s", base, *query ? (strchr(base, '?') ? "&" : "?") : "", query);
	memset(&i, 0, sizeof i);
	i.context = L.ctx;
	i.address = host;
	i.port = other ? L.pub_port : L.port;
	i.path = path;
	i.host = host;
	i.origin = host;
	i.local_protocol_name = "wsb-load";
	i.userdata = c;
	i.pwsi = &c->wsi;
	if (raw)
		i.method = "RAW";
	return lws_client_connect_via_info(&i) ? 0 : -1;
}

/* --loop epoll (the default with --rate): the connections are plain
 * sockets in one level-triggered epoll set, no lws. lws's service pass
 * polls every descriptor and runs its per-connection machinery for each
 * read, which made this one process the largest CPU user of the latency
 * run (more than the broker it measures). Here a pass costs one
 * epoll_pwait2 and one recv() per socket with bytes, parsed in bulk by
 * raw_rx as before; the publisher is paced and batched exactly as with
 * lws (pub_write), so the broker sees the same writes. */
static int ep_open(struct conn *c)
{
	int other = c->is_pub && L.pub_url, one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	if (getaddrinfo(other ? L.pub_host : L.host, NULL, &hints, &ai))
		return -1;
	sa.sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
	sa.sin_port = htons((uint16_t)(other ? L.pub_port : L.port));
	freeaddrinfo(ai);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	/* as lws does on its client sockets */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!c->is_pub && L.kstamp && setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one))
		L.kstamp = 0;	/* not timed rather than timed in part */
	if ((connect(c->fd, (struct sockaddr *)&sa, sizeof sa) && errno != EINPROGRESS) ||
	    epoll_ctl(L.ep, EPOLL_CTL_ADD, c->fd, &ev)) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->connecting = 1;
	return 0;
}

/* connect() is done: the upgrade request, then only reads. */
static void ep_connected(struct conn *c)
{
	static char query[2048];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int err = 0;
	socklen_t el = sizeof err;

	c->connecting = 0;
	if (!c->is_pub)
		sub_query(query, sizeof query);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		conn_gone(c, err ? strerror(err) : "connect failed");
		return;
	}
	if (raw_upgrade_request(c, c->is_pub ? "" : query) || epoll_ctl(L.ep, EPOLL_CTL_MOD, c->fd, &ev))
		conn_gone(c, "cannot send the upgrade request");
}

/* One read of whatever the socket has (our recv(): with --rate it takes
 * the kernel's receive timestamp too), parsed at once. */
static void ep_read(struct conn *c)
{
	static unsigned char buf[BATCH];
	ssize_t n = recv(c->fd, buf, sizeof buf, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || raw_rx(c, buf, (size_t)n))
		conn_gone(c, n < 0 ? strerror(errno) : "closed");
}

/* The publisher's unsent batch; EPOLLOUT only while some is left. */
static void ep_flush(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t n = L.tail_len ? send(c->fd, L.batch + LWS_PRE + L.tail_off, L.tail_len, MSG_NOSIGNAL) : 0;

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		conn_gone(c, strerror(errno));
		return;
	}
	if (n > 0) {
		L.tail_off += (size_t)n;
		L.tail_len -= (size_t)n;
	}
	ev.events |= L.tail_len ? EPOLLOUT : 0;
	epoll_ctl(L.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* How long epoll may sleep: until the pacing looks again or the timeout,
 * whichever is first, to the nanosecond (epoll_pwait2): whole
 * milliseconds would let the publisher's checks drift late by up to one,
 * and its writes carry more messages each than with lws. */
static struct timespec ep_wait_for(uint64_t now, uint64_t deadline)
{
	uint64_t until = deadline, d;

	if (L.started && L.sent < L.messages && !L.tail_len && !L.pub->gone && L.pub_check < until)
		until = L.pub_check;
	d = until <= now ? 0 : until - now;
	return (struct timespec){ (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
}

static void ep_loop(void)
{
	struct epoll_event evs[256];
	uint64_t deadline = now_ns() + (uint64_t)(L.timeout * 1e9);

	while (!L.stop && !L.setup_failed) {
		uint64_t now = now_ns();
		struct timespec w = ep_wait_for(now, deadline);
		int n = epoll_pwait2(L.ep, evs, 256, &w, NULL);

		if (n < 0 && errno != EINTR)
			break;
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;

			if (c->gone)
				continue;	/* closed earlier in this batch */
			if (c->connecting)
				ep_connected(c);
			else if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				ep_read(c);
			if (c->is_pub && !c->gone && L.tail_len && (evs[k].events & EPOLLOUT))
				ep_flush(c);
		}
		now = now_ns();
		if (now >= deadline)
			on_timeout(NULL);
		if (L.started && !L.tail_len && !L.pub->gone && now >= L.pub_check && !L.stop) {
			if (pub_write(L.pub))
				conn_gone(L.pub, "write failed");
			else if (L.tail_len)
				ep_flush(L.pub);
		}
	}
}

/* Opens connections, subscribers then the publisher (none in idle mode),
 * while fewer than CONNECT_BURST are waiting for their greeting. */
static void connect_more(void)
{
	static char query[2048];
	long n = L.subs + !L.idle;

	sub_query(query, sizeof query);
	for (; L.next_conn < n && L.inflight < CONNECT_BURST && !L.setup_failed; L.next_conn++) {
		long i = L.next_conn;

		if (L.ep >= 0 ? ep_open(&L.conns[i]) : connect_one(&L.conns[i], i < L.subs ? query : "", i < L.subs && !L.lws_rx)) {
			fprintf(stderr, "wsb-load: cannot start connection %ld\n", i);
			L.conns[i].gone = 1;
			L.setup_failed = 1;
			break;
		}
		L.inflight++;
	}
}

static void on_timeout(lws_sorted_usec_list_t *sul)
{
	if (!L.started)
		L.setup_failed = 1;
	finish_now();
}

static void on_signal(int sig)
{
	L.stop = 1;
	if (L.ctx)
		lws_cancel_service(L.ctx);
}

static int parse_one(const char *url, char *host, char *path, int *port_out)
{
	char buf[2048];
	const char *prot, *ads, *p;
	int port;

	if (strlen(url) >= sizeof buf)
		return -1;
	strcpy(buf, url);
	if (lws_parse_uri(buf, &prot, &ads, &port, &p) || !*ads || strcmp(prot, "ws"))
		return -1;
	snprintf(host, sizeof L.host, "%s", ads);
	snprintf(path, sizeof L.path, "/%s", p);
	*port_out = port;
	return 0;
}

static int parse_url(void)
{
	if (parse_one(L.url, L.host, L.path, &L.port))
		return -1;
	return L.pub_url ? parse_one(L.pub_url, L.pub_host, L.pub_path, &L.pub_port) : 0;
}

/* The lws context and its service loop (--loop lws). */
static int run_lws(void)
{
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.pt_serv_buf_size = BATCH;
	info.timeout_secs = 10;
	info.connect_timeout_secs = 10;
	L.ctx = lws_create_context(&info);
	if (!L.ctx) {
		fprintf(stderr, "wsb-load: cannot create the lws context\n");
		return -1;
	}
	connect_more();
	lws_sul_schedule(L.ctx, 0, &L.sul_timeout, on_timeout, (lws_usec_t)(L.timeout * LWS_US_PER_SEC));
	while (!L.stop && !L.setup_failed)
		if (lws_service(L.ctx, 0) < 0)
			break;
	return 0;
}

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "wsb-load: %s\n", why);
	fprintf(stderr, "usage: wsb-load fanout --url ws://HOST:PORT/PATH [--subs N] [--messages M] [--size BYTES]\n"
			"                       [--type T] [--timeout SECS] [--write raw|text] [--rx raw|lws] [--rate MSGS/S]\n"
	"                       [--patterns N]\n"
			"                       [--cpu-pid PID] [--pub-url ws://HOST:PORT/PATH] [--loop epoll|lws]\n"
			"       wsb-load idle --url ws://HOST:PORT/PATH [--subs N] [--timeout SECS]\n");
	return 64;
}

int main(int argc, char **argv)
{
	long i;
	int rc, loop = -1;	/* --loop: 1 epoll, 0 lws, -1 epoll with --rate */

	L.url = "ws://127.0.0.1:8765/ws";
	L.type = "bench";
	L.subs = 100;
	L.messages = 20000;
	L.size = 200;
	L.timeout = 60;
	if (argc < 2 || (strcmp(argv[1], "fanout") && strcmp(argv[1], "idle")))
		return usage(argc < 2 ? "which mode? (fanout or idle)" : "unknown mode");
	L.idle = !strcmp(argv[1], "idle");
	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(NULL);
			return 0;
		}
		if (!v)
			return usage("option needs a value");
		i++;
		if (!strcmp(o, "--url"))
			L.url = v;
		else if (!strcmp(o, "--pub-url"))
			L.pub_url = v;
		else if (!strcmp(o, "--subs"))
			L.subs = strtol(v, NULL, 10);
		else if (!strcmp(o, "--messages"))
			L.messages = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--size"))
			L.size = (size_t)strtoul(v, NULL, 10);
		else if (!strcmp(o, "--type"))
			L.type = v;
		else if (!strcmp(o, "--timeout"))
			L.timeout = strtod(v, NULL);
		else if (!strcmp(o, "--write") && (!strcmp(v, "raw") || !strcmp(v, "text")))
			L.text = !strcmp(v, "text");
		else if (!strcmp(o, "--rate"))
			L.rate = strtod(v, NULL);
		else if (!strcmp(o, "--cpu-pid"))
			L.cpu_pid = strtol(v, NULL, 10);
		else if (!strcmp(o, "--patterns"))
			L.patterns = atoi(v);
		else if (!strcmp(o, "--rx") && (!strcmp(v, "raw") || !strcmp(v, "lws")))
			L.lws_rx = !strcmp(v, "lws");
		else if (!strcmp(o, "--loop") && (!strcmp(v, "epoll") || !strcmp(v, "lws")))
			loop = !strcmp(v, "epoll");
		else
			return usage("unknown option or bad value");
	}
	if (L.subs < 1 || L.subs > 100000 || !L.messages || L.size > 16 * 1024 * 1024 || L.timeout <= 0 || L.rate < 0 || L.patterns < 0 || L.patterns > 60 ||
	    strlen(L.type) > 64 || strspn(L.type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
					   strlen(L.type))
		return usage("bad value");
	if (parse_url())
		return usage("--url and --pub-url must be ws://HOST[:PORT]/PATH");
	if (loop < 0)
		loop = L.rate > 0 && !L.lws_rx && !L.text && !L.idle;
	if (loop && (L.lws_rx || L.text || L.idle))
		return usage("--loop epoll is for fanout with --rx raw and --write raw");

	L.msg = malloc(L.size + 128);
	L.batch_cap = BATCH + WSB_FRAME_HDR_MAX + L.size + 128;
	L.batch = malloc(LWS_PRE + L.batch_cap);
	L.conns = calloc((size_t)L.subs + 1, sizeof *L.conns);
	if (!L.msg || !L.batch || !L.conns) {
		fprintf(stderr, "wsb-load: out of memory\n");
		return 2;
	}
	for (i = 0; i <= L.subs; i++)
		L.conns[i].fd = -1;
	L.pub = &L.conns[L.subs];
	L.pub->is_pub = 1;
	L.ep = -1;
	if (loop && (L.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		fprintf(stderr, "wsb-load: epoll_create1: %s\n", strerror(errno));
		return 2;
	}
	L.rng = now_ns() | 1;
	if (L.rate > 0 && !L.lws_rx && !L.idle) {
		struct timespec r, m;

		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m);
		L.real_off = ((int64_t)r.tv_sec - m.tv_sec) * 1000000000 + (r.tv_nsec - m.tv_nsec);
		L.kstamp = 1;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (L.ep >= 0) {
		connect_more();
		ep_loop();
	} else if (run_lws()) {
		return 2;
	}

	if (L.idle) {
		printf("conns=%ld greeted=%ld closed=%" PRIu64 "\n", L.subs, L.greeted, L.closed);
		rc = L.greeted == L.subs && !L.closed ? 0 : 1;
	} else if (L.setup_failed && !L.started) {
		fprintf(stderr, "wsb-load: setup failed: %ld of %ld subscribers greeted, publisher %s\n", L.greeted,
			L.subs, L.pub->greeted ? "greeted" : "not greeted");
		rc = 2;
	} else {
		uint64_t expected = (uint64_t)L.subs * L.messages;
		uint64_t loss = expected - L.deliveries;
		double secs = L.t_last > L.t_first ? (double)(L.t_last - L.t_first) / 1e9 : 0;

		double cpu = L.cpu_last - L.cpu_first;
		uint64_t timed = L.kstamp ? L.sock_n : 0;

		printf("subs=%ld messages=%" PRIu64 " deliveries=%" PRIu64 " loss=%" PRIu64 " out_of_order=%" PRIu64
		       " closed=%" PRIu64 " seconds=%.3f deliveries_per_s=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
		       " write=%s rx=%s loop=%s client_cpu_s=%.2f",
		       L.subs, L.messages, L.deliveries, loss, L.out_of_order, L.closed, secs,
		       secs > 0 ? (double)L.deliveries / secs : 0, hist_pct(L.hist, 0.50) / 1000, hist_pct(L.hist, 0.99) / 1000,
		       (double)L.lat_max / 1e6, L.text ? "text" : "raw", L.lws_rx ? "lws" : "raw",
		       L.ep >= 0 ? "epoll" : "lws", L.self_last - L.self_first);
		/* Only when every delivery was timed in its socket. */
		if (timed && timed == L.deliveries)
			printf(" sock_p50_ms=%.3f sock_p99_ms=%.3f sock_max_ms=%.3f", hist_pct(L.shist, 0.50) / 1000,
			       hist_pct(L.shist, 0.99) / 1000, (double)L.sock_max / 1e6);
		if (L.cpu_pid)
			printf(" server_cpu_s=%.2f deliveries_per_cpu_s=%.0f", cpu,
			       cpu > 0 ? (double)L.deliveries / cpu : 0);
		printf("\n");
		fflush(stdout);
		rc = loss || L.out_of_order ? 1 : 0;
	}
	if (L.ctx) {
		lws_sul_cancel(&L.sul_timeout);
		lws_sul_cancel(&L.sul_pace);
		lws_context_destroy(L.ctx);
	}
	for (i = 0; i <= L.subs; i++) {
		free(L.conns[i].rx);
		if (L.conns[i].fd >= 0)
			close(L.conns[i].fd);
	}
	if (L.ep >= 0)
		close(L.ep);
	free(L.conns);
	free(L.batch);
	free(L.msg);
	return rc;
}

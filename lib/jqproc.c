#include "jqproc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "jqfilter.h"
#include "sys.h"

/* The wire between parent and worker: a header, then len bytes.
 *   COMPILE a=id, the text      -> header a=0 ok / 1 error, the message
 *   DROP    a=id                -> nothing
 *   TEST    a=n, n ids, the msg -> n result bytes, each as it is known
 * Results come one by one so that, when the worker dies or hangs, the
 * first missing one names the program that did it. */
enum { OP_COMPILE = 1, OP_DROP, OP_TEST };

struct hdr {
	uint32_t op, a, len;
};

#define WORKER_FD 3
#define COMPILE_WAIT_NS 5000000000LL	/* a compile is ~33 ms; a stuck one is dropped */

struct prog {
	char *text;		/* NULL: a free slot */
	int dead;		/* went over budget: never run again */
};

struct wsb_jqproc {
	struct wsb_jqproc_cfg cfg;
	pid_t pid;		/* 0: no worker */
	int fd;
	struct prog *v;		/* by id */
	size_t n;
	uint64_t restarts;
	struct wsb_buf req;
};

struct wsb_jqproc *wsb_jqproc_new(const struct wsb_jqproc_cfg *cfg)
{
	struct wsb_jqproc *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->fd = -1;
	return p;
}

static void stop_worker(struct wsb_jqproc *p)
{
	if (!p->pid)
		return;
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(p->fd);
	p->fd = -1;
	p->pid = 0;
}

void wsb_jqproc_free(struct wsb_jqproc *p)
{
	if (!p)
		return;
	stop_worker(p);
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	free(p->v);
	wsb_buf_free(&p->req);
	free(p);
}

/* ---- the parent's side of the wire ---- */

static int send_all(int fd, const void *buf, size_t n)
{
	const char *b = buf;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Up to n bytes before the monotonic deadline: how many came (fewer when
 * the worker hung or went away). */
static size_t recv_until(int fd, void *buf, size_t n, int64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		int64_t left = deadline - (int64_t)wsb_mono_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (left <= 0)
			break;
		r = poll(&pfd, 1, (int)((left + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static int request(struct wsb_jqproc *p, uint32_t op, uint32_t a, const void *body, size_t len)
{
	struct hdr h = { op, a, (uint32_t)len };

	if (len > UINT32_MAX)
		return -1;
	return send_all(p->fd, &h, sizeof h) || (len && send_all(p->fd, body, len)) ? -1 : 0;
}

/* The worker's environment: the socket and the limits, and the sanitizer
 * settings of a test build; nothing else reaches jq's env or $ENV. */
static void worker_env(const struct wsb_jqproc *p, char *own, size_t cap, char **envp)
{
	static const char *const keep[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", NULL };
	static char kept[3][1024];
	size_t k = 0;

	snprintf(own, cap, "%s=%d,%.6f,%" PRIu64, WSB_JQPROC_ENV, WORKER_FD, p->cfg.cpu, p->cfg.mem);
	envp[k++] = own;
	for (size_t i = 0; keep[i]; i++) {
		const char *v = getenv(keep[i]);
		int n;

		if (!v)
			continue;
		n = snprintf(kept[i], sizeof kept[i], "%s=%s", keep[i], v);
		if (n > 0 && (size_t)n < sizeof kept[i])
			envp[k++] = kept[i];
	}
	envp[k] = NULL;
}

static int spawn_worker(struct wsb_jqproc *p, struct wsb_err *err)
{
	char exe[PATH_MAX], own[128], *envp[8];
	char *argv[] = { "wsbridge-jq-worker", NULL };
	posix_spawn_file_actions_t fa;
	int sv[2], r;
	ssize_t n;

	/* readlink, not exec of /proc/self/exe itself: under valgrind only
	 * the former names our binary. */
	if (p->cfg.exe)
		snprintf(exe, sizeof exe, "%s", p->cfg.exe);
	else if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0)
		exe[n] = '\0';
	else
		return wsb_err_errno(err, WSB_EXIT_UNAVAILABLE, errno, "cannot find the jq worker's binary");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return wsb_err_errno(err, WSB_EXIT_UNAVAILABLE, errno, "cannot start the jq worker");
	worker_env(p, own, sizeof own, envp);
	posix_spawn_file_actions_init(&fa);
	/* dup2 onto itself would keep CLOEXEC: go through another number. */
	if (sv[1] == WORKER_FD) {
		posix_spawn_file_actions_adddup2(&fa, sv[1], WORKER_FD + 1);
		posix_spawn_file_actions_adddup2(&fa, WORKER_FD + 1, WORKER_FD);
	} else {
		posix_spawn_file_actions_adddup2(&fa, sv[1], WORKER_FD);
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* Client sockets must not live on in the worker after we close them. */
	posix_spawn_file_actions_addclosefrom_np(&fa, WORKER_FD + 1);
	r = posix_spawn(&p->pid, exe, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (r) {
		close(sv[0]);
		p->pid = 0;
		return wsb_err_errno(err, WSB_EXIT_UNAVAILABLE, r, "cannot start the jq worker %s", exe);
	}
	p->fd = sv[0];
	return 0;
}

/* A worker with every live program compiled: the same ids as before. */
static int ensure_worker(struct wsb_jqproc *p, struct wsb_err *err)
{
	if (p->pid)
		return 0;
	if (spawn_worker(p, err))
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		struct prog *g = &p->v[i];
		struct hdr h;

		if (!g->text || g->dead)
			continue;
		if (request(p, OP_COMPILE, (uint32_t)i, g->text, strlen(g->text)) ||
		    recv_until(p->fd, &h, sizeof h, (int64_t)wsb_mono_ns() + COMPILE_WAIT_NS) != sizeof h) {
			stop_worker(p);
			p->restarts++;
			return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "the jq worker failed");
		}
		if (h.a) {	/* compiled before, so never expected: drop it */
			char skip[WSB_ERR_LEN];

			g->dead = 1;
			if (h.len >= sizeof skip ||
			    recv_until(p->fd, skip, h.len, (int64_t)wsb_mono_ns() + COMPILE_WAIT_NS) != h.len) {
				stop_worker(p);
				p->restarts++;
				return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "the jq worker failed");
			}
		}
	}
	return 0;
}

static int new_slot(struct wsb_jqproc *p)
{
	struct prog *v;

	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].text)
			return (int)i;
	if (p->n >= INT_MAX || !(v = realloc(p->v, (p->n + 1) * sizeof *v)))
		return -1;
	p->v = v;
	p->v[p->n].text = NULL;
	return (int)p->n++;
}

/* The worker's answer to a compile: 0, or -1 + err with jq's message. */
static int compile_reply(struct wsb_jqproc *p, struct wsb_err *err)
{
	int64_t deadline = (int64_t)wsb_mono_ns() + COMPILE_WAIT_NS;
	struct hdr h;
	char msg[WSB_ERR_LEN];

	if (recv_until(p->fd, &h, sizeof h, deadline) != sizeof h || h.len >= sizeof msg ||
	    recv_until(p->fd, msg, h.len, deadline) != h.len) {
		stop_worker(p);
		p->restarts++;
		return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "the jq worker failed on this program");
	}
	msg[h.len] = '\0';
	return h.a ? wsb_err_set(err, WSB_EXIT_USAGE, "%s", msg) : 0;
}

int wsb_jqproc_compile(struct wsb_jqproc *p, const char *text, struct wsb_err *err)
{
	int id;

	if (ensure_worker(p, err))
		return -1;
	if ((id = new_slot(p)) < 0 || !(p->v[id].text = strdup(text)))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	p->v[id].dead = 0;
	if (request(p, OP_COMPILE, (uint32_t)id, text, strlen(text))) {
		stop_worker(p);
		p->restarts++;
		wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "the jq worker failed");
	} else if (!compile_reply(p, err)) {
		return id;
	}
	free(p->v[id].text);
	p->v[id].text = NULL;
	return -1;
}

void wsb_jqproc_drop(struct wsb_jqproc *p, int id)
{
	if (id < 0 || (size_t)id >= p->n || !p->v[id].text)
		return;
	free(p->v[id].text);
	p->v[id].text = NULL;
	if (p->pid && request(p, OP_DROP, (uint32_t)id, NULL, 0)) {
		stop_worker(p);
		p->restarts++;
	}
}

/* One TEST of ids[0..n) (all alive): how many results came. Fewer than n:
 * the next one hung or killed the worker, which is gone now. NOT_SENT: the
 * worker was gone before it was asked (killed from outside), nobody's
 * fault. */
#define NOT_SENT ((size_t)-1)

static size_t test_once(struct wsb_jqproc *p, const char *msg, size_t len, const int *ids, size_t n,
			unsigned char *res)
{
	int64_t deadline = (int64_t)wsb_mono_ns() + (int64_t)((p->cfg.wait + p->cfg.cpu * (double)n) * 1e9);
	size_t got = NOT_SENT;

	wsb_buf_reset(&p->req);
	for (size_t i = 0; i < n; i++) {
		uint32_t id = (uint32_t)ids[i];

		if (wsb_buf_append(&p->req, &id, sizeof id, NULL))
			return 0;
	}
	if (!wsb_buf_append(&p->req, msg, len, NULL) &&
	    !request(p, OP_TEST, (uint32_t)n, p->req.p, p->req.len))
		got = recv_until(p->fd, res, n, deadline);
	wsb_buf_shrink(&p->req, 1 << 16);
	if (got != n) {
		stop_worker(p);
		p->restarts++;
	}
	return got;
}

static int alive(const struct wsb_jqproc *p, int id)
{
	return id >= 0 && (size_t)id < p->n && p->v[id].text && !p->v[id].dead;
}

int wsb_jqproc_test(struct wsb_jqproc *p, const char *msg, size_t len, const int *ids, size_t n,
		    unsigned char *res, struct wsb_err *err)
{
	size_t done = 0;
	int retried = 0;

	/* A message the worker could not even parse within its memory would
	 * kill it and be blamed on an innocent program: it is an error, as
	 * for a message jq cannot read. A parsed value is ~10x its text. */
	if (p->cfg.mem && len > p->cfg.mem / 16) {
		memset(res, WSB_JQP_ERROR, n);
		return 0;
	}
	while (done < n) {
		size_t k = 0, got;

		/* The dead ones are answered here; the run of live ones after
		 * them goes to the worker in one request. */
		if (!alive(p, ids[done])) {
			res[done++] = WSB_JQP_OVER;
			continue;
		}
		while (done + k < n && alive(p, ids[done + k]))
			k++;
		if (ensure_worker(p, err)) {
			memset(res + done, WSB_JQP_ERROR, n - done);
			return -1;
		}
		got = test_once(p, msg, len, ids + done, k, res + done);
		if (got == NOT_SENT) {
			if (retried++)
				got = 0;	/* a fresh worker failed too: blame the program */
			else
				continue;
		}
		for (size_t i = done; i < done + got; i++)
			if (res[i] == WSB_JQP_OVER)
				p->v[ids[i]].dead = 1;
		done += got;
		if (got < k) {
			p->v[ids[done]].dead = 1;
			res[done++] = WSB_JQP_OVER;
		}
	}
	return 0;
}

void wsb_jqproc_stats(const struct wsb_jqproc *p, struct wsb_jqproc_stats *st)
{
	memset(st, 0, sizeof *st);
	st->restarts = p->restarts;
	st->pid = p->pid;
	for (size_t i = 0; i < p->n; i++)
		st->programs += p->v[i].text && !p->v[i].dead;
}

/* ---- the worker ---- */

struct child {
	int fd;
	double cpu;
	struct wsb_jqf **v;	/* by id */
	size_t n;
	struct wsb_buf in;
};

static int read_all(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int child_compile(struct child *c, uint32_t id)
{
	struct wsb_err e = { 0 };
	struct hdr h = { OP_COMPILE, 0, 0 };
	struct wsb_jqf *f;

	if (wsb_buf_append(&c->in, "", 1, NULL))
		return -1;
	f = wsb_jqf_compile_sandboxed(c->in.p, &e);
	if (id >= c->n) {
		struct wsb_jqf **v = realloc(c->v, (id + 1) * sizeof *v);

		if (!v)
			return -1;
		memset(v + c->n, 0, (id + 1 - c->n) * sizeof *v);
		c->v = v;
		c->n = id + 1;
	}
	wsb_jqf_free(c->v[id]);
	c->v[id] = f;
	if (f)
		wsb_jqf_set_cpu_limit(f, c->cpu);
	else
		h.a = 1, h.len = (uint32_t)strlen(e.msg);
	return send_all(c->fd, &h, sizeof h) || (h.len && send_all(c->fd, e.msg, h.len)) ? -1 : 0;
}

static int child_test(struct child *c, uint32_t n)
{
	const uint32_t *ids = (const uint32_t *)(void *)c->in.p;
	size_t off = (size_t)n * sizeof *ids;
	struct wsb_jqv *v;

	if (off > c->in.len)
		return -1;
	v = wsb_jqv_parse(c->in.p + off, c->in.len - off, NULL);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char r = WSB_JQP_ERROR;
		struct wsb_jqf *f = ids[i] < c->n ? c->v[ids[i]] : NULL;

		if (v && f) {
			int t = wsb_jqf_test(f, v, NULL);

			r = t == WSB_JQF_OVER ? WSB_JQP_OVER : t == 1 ? WSB_JQP_TRUE : t == 0 ? WSB_JQP_FALSE
											: WSB_JQP_ERROR;
		}
		if (send_all(c->fd, &r, 1)) {
			wsb_jqv_free(v);
			return -1;
		}
	}
	wsb_jqv_free(v);
	return 0;
}

static void child_limits(uint64_t mem)
{
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
#ifndef __SANITIZE_ADDRESS__
	/* ASan reserves terabytes of shadow: under it the limit would stop
	 * the worker from starting, so a sanitizer build goes without (a
	 * failed allocation would be reported, not just fail): there a
	 * memory bomb runs until the parent's wait is over and kills it. */
	if (mem) {
		struct rlimit data = { (rlim_t)mem, (rlim_t)mem };

		setrlimit(RLIMIT_DATA, &data);
	}
#endif
}

int wsb_jqproc_child(void)
{
	const char *env = getenv(WSB_JQPROC_ENV);
	struct child c = { .fd = -1 };
	uint64_t mem = 0;
	struct hdr h;

	if (!env || sscanf(env, "%d,%lf,%" SCNu64, &c.fd, &c.cpu, &mem) != 3 || c.fd < 0)
		return -1;
	child_limits(mem);
	while (!read_all(c.fd, &h, sizeof h)) {
		wsb_buf_reset(&c.in);
		if (wsb_buf_reserve(&c.in, h.len, NULL) || read_all(c.fd, c.in.p, h.len))
			break;
		c.in.len = h.len;
		if ((h.op == OP_COMPILE && child_compile(&c, h.a)) || (h.op == OP_TEST && child_test(&c, h.a)))
			break;
		if (h.op == OP_DROP && h.a < c.n) {
			wsb_jqf_free(c.v[h.a]);
			c.v[h.a] = NULL;
		}
	}
	for (size_t i = 0; i < c.n; i++)
		wsb_jqf_free(c.v[i]);
	free(c.v);
	wsb_buf_free(&c.in);
	return 0;
}

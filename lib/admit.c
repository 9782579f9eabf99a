#include "admit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

int wsb_admit_host_is_own(const char *host, const char *listen_host)
{
	char name[256];
	unsigned char addr[16];
	const char *end;
	size_t n;

	if (host[0] == '[') {		/* [v6]:port */
		end = strchr(host, ']');
		if (!end || (size_t)(end - host - 1) >= sizeof name)
			return 0;
		memcpy(name, host + 1, (size_t)(end - host - 1));
		name[end - host - 1] = '\0';
		return inet_pton(AF_INET6, name, addr) == 1;
	}
	end = strrchr(host, ':');
	n = end ? (size_t)(end - host) : strlen(host);
	if (!n || n >= sizeof name)
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';
	/* inet_pton takes only the dotted quad, so "127.0.0.1." (a name) and
	 * "0x7f.1" are names here, not literals. */
	return inet_pton(AF_INET, name, addr) == 1 || !strcasecmp(name, "localhost") ||
	       (listen_host && listen_host[0] && !strcasecmp(name, listen_host));
}

int wsb_admit_origin(const char *origin, const char *host, int tls, const struct wsb_strlist *allow,
		     const char *listen_host)
{
	const char *scheme = tls ? "https://" : "http://";
	size_t n = strlen(scheme);

	if (!origin)
		return 1;
	for (size_t i = 0; allow && i < allow->n; i++)
		if (!strcmp(allow->v[i], "*") || !strcmp(allow->v[i], origin))
			return 1;
	if (!host || !host[0] || !wsb_admit_host_is_own(host, listen_host))
		return 0;
	/* A page this broker served would carry exactly scheme://Host (both
	 * omit a default port the same way); host names compare caselessly. */
	return !strncasecmp(origin, scheme, n) && !strcasecmp(origin + n, host);
}

static int is_b64(int c)
{
	return isalnum(c) || c == '+' || c == '/';
}

int wsb_admit_ws_key(const char *key)
{
	if (strlen(key) != 24 || key[22] != '=' || key[23] != '=')
		return 0;
	for (int i = 0; i < 22; i++)
		if (!is_b64((unsigned char)key[i]))
			return 0;
	/* 16 bytes leave 4 unused low bits in the 22nd character. */
	return strchr("AQgw", key[21]) != NULL;
}

int wsb_admit_check_allow(const char *e, struct wsb_err *err)
{
	const char *p = e, *host;

	if (!strcmp(e, "*") || !strcmp(e, "null"))
		return 0;
	if (!isalpha((unsigned char)*p))
		goto bad;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (strncmp(p, "://", 3))
		goto bad;
	host = p + 3;
	if (!*host || strpbrk(host, "/?#@ \t"))
		goto bad;
	return 0;
bad:
	return wsb_err_set(err, WSB_EXIT_USAGE,
			   "--allow-origin %s: not an origin: scheme://host[:port] with no path or "
			   "trailing slash, 'null' or '*'", e);
}

void wsb_admit_printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	if (!cap)
		return;
	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

#define NOFILE_CAP (1 << 20)

uint64_t wsb_admit_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > NOFILE_CAP ? NOFILE_CAP : rl.rlim_max;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? NOFILE_CAP : (uint64_t)rl.rlim_cur;
}

uint64_t wsb_admit_conn_budget(uint64_t nofile)
{
	uint64_t headroom = nofile / 8 > 16 ? nofile / 8 : 16;

	return nofile > headroom + 1 ? nofile - headroom : 1;
}

#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int wsb_listen_check(const struct wsb_cfg *cfg, char *ip, size_t cap, struct wsb_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char port[16];
	int fd, one = 1, r, e;

	snprintf(port, sizeof port, "%d", cfg->listen_port);
	r = getaddrinfo(cfg->listen_host[0] ? cfg->listen_host : NULL, port, &hints, &res);
	if (r)
		return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "--listen %s: %s", cfg->listen, gai_strerror(r));
	if (cfg->listen_host[0])
		getnameinfo(res->ai_addr, res->ai_addrlen, ip, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
	else
		ip[0] = '\0';
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		return wsb_err_errno(err, WSB_EXIT_OSERR, errno, "socket");
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* --reuse-port: the port may be shared, as lws will set it up */
	if (cfg->reuse_port)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	r = bind(fd, res->ai_addr, res->ai_addrlen);
	e = errno;
	close(fd);
	freeaddrinfo(res);
	if (r)
		return wsb_err_errno(err, WSB_EXIT_UNAVAILABLE, e, "cannot listen on %s", cfg->listen);
	return 0;
}

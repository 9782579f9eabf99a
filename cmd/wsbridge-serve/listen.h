/* listen — checks --listen before libwebsockets is started.
 *
 * lws wants an IP or an interface name, and when it cannot bind it logs and
 * goes on; so the host is resolved here to a numeric address and a trial
 * bind makes "not an address of this host" and "in use" fail with a clear
 * message. Part of the serve program; the transport gets the address.
 */
#ifndef WSB_LISTEN_H
#define WSB_LISTEN_H

#include <stddef.h>

#include "config.h"
#include "err.h"

/* 0 with ip (cap bytes) set to --listen's host as a numeric address ("" for
 * any), or -1 with err: WSB_EXIT_UNAVAILABLE (cannot resolve or bind),
 * WSB_EXIT_OSERR. */
int wsb_listen_check(const struct wsb_cfg *cfg, char *ip, size_t cap, struct wsb_err *err);

#endif

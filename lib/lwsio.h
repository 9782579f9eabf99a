/* lwsio — the bytes libwebsockets reads, seen before it parses them, so
 * that RFC 6455 rules it does not enforce can be (see wsguard.h: masking).
 *
 * lws 4.1.6 reads plain sockets with recv() and TLS with SSL_read(), both
 * called through the PLT. This file defines both functions; because
 * libwebsockets.so references them, the linker exports ours from the
 * executable and the dynamic linker binds lws's calls to them. Each calls
 * the real one (recvfrom(); SSL_read found with dlsym(RTLD_NEXT)) and, for
 * a descriptor being watched, feeds what was read to that connection's
 * wsguard tracker. Every other descriptor (libcurl's, for instance) passes
 * through untouched: one table lookup per call.
 *
 * When a frame breaks the rule, the call returns only the bytes before it
 * (or -1/EAGAIN when there are none), so lws never parses the frame, and
 * the owner's hook runs once, from inside lws's read: it must only note the
 * failure and ask lws for a WRITEABLE callback, from which the transport
 * closes with 1002. Everything the peer sends after that is read and
 * dropped, so poll() does not wake up again for it (no busy loop), while
 * its EOF and errors still reach lws; its close frame (the answer to ours)
 * reads as EOF, so lws ends the connection then rather than after its
 * close timeout.
 *
 * A client can also take its data frames here (wsb_lwsio_rx): lws then
 * sees only control frames. And one that offered permessage-deflate has
 * the 101's answer recorded and hidden from lws here (wsb_lwsio_ext).
 * A server connection can take its data frames too (wsb_lwsio_serve):
 * its reads then go into one shared 64 KiB buffer (the loop is
 * single-threaded), whatever small size lws asks for, and lws gets only
 * the control frames, in its own buffer. What the owner stopped for (a
 * paused publisher) or what lws had no room for is held for the next read
 * (wsb_lwsio_held), and the owner is asked (`more`) to make lws read again
 * when nothing on the socket would wake poll() for it. Single-threaded, like the event loop that calls it. Watching an fd resets
 * any state left on it; an unwatched fd costs one comparison.
 */
#ifndef WSB_LWSIO_H
#define WSB_LWSIO_H

#include "err.h"
#include "wsext.h"
#include "wsguard.h"
#include "wsrx.h"
#include "wssrx.h"

typedef void (*wsb_lwsio_hook)(void *owner);

/* Watches fd's inbound stream from its first byte (HTTP first: see
 * wsguard.h) with side's masking rule. -1 + err if the table cannot grow
 * to fd (out of memory, or fd beyond RLIMIT_NOFILE). */
int wsb_lwsio_watch(int fd, enum wsb_wsguard_side side, struct wsb_err *err);
/* Who to tell when fd's peer breaks the rule: fn(owner), once. Returns 1
 * when it already has (fn is then not called), 0 if not, -1 if fd is not
 * watched. */
int wsb_lwsio_attach(int fd, wsb_lwsio_hook fn, void *owner);
/* A client's receive path (wsrx.h): from the first frame after the 101 on,
 * what fd reads (and the guard lets through) goes to rx, and lws gets only
 * what rx leaves it. Over TLS a read whose bytes rx took entirely is
 * followed by the next until OpenSSL has nothing left (its state must say
 * "want read", and nothing may be left in its buffer that poll() cannot
 * see), so one call may take everything the socket holds. -1 if fd is not
 * watched. rx must outlive the watch. */
int wsb_lwsio_rx(int fd, struct wsb_wsrx *rx);
/* A server connection's receive path (wssrx.h), from now on: its data
 * messages up to max bytes go to ops (ud their owner), deflate if it
 * negotiated permessage-deflate. more(ud) runs, from inside a read, when
 * bytes are held that no poll() event will bring back: the owner makes lws
 * read fd again soon (not from inside the read). -1 if fd is not a
 * watched server socket, or out of memory. */
int wsb_lwsio_serve(int fd, size_t max, int deflate, const struct wsb_wssrx_ops *ops, void *ud,
		    wsb_lwsio_hook more);
/* 1 if fd holds bytes read and not yet parsed: after the owner stopped a
 * feed, it must make lws read again once it reads the connection again. */
int wsb_lwsio_held(int fd);
/* --message-timeout: drops fd's unfinished message (wsb_wssrx_drop). */
void wsb_lwsio_drop(int fd);
/* A client that offered permessage-deflate: the 101 read on fd goes
 * through x first (wsext.h: the bytes it holds back are put in front of
 * the next read), and at the head's end rx learns what was agreed
 * (wsb_wsrx_deflate) before it sees a frame. Call after wsb_lwsio_rx. -1
 * if fd is not watched. x must outlive the watch. */
int wsb_lwsio_ext(int fd, struct wsb_wsext *x);
/* A server connection the program reads itself from now on (instead of
 * lws, which is about to close its descriptor): 1 if nothing of fd's but
 * the HTTP head has been read, so lws holds no frame byte. */
int wsb_lwsio_fresh(int fd);
/* Moves fd's watch (guard, receive path, owner) to to, a dup of fd; lws's
 * shutdown() of fd, as it closes it, is then skipped, so the socket lives
 * on under to. -1 + err if fd is not a watched server socket or the table
 * cannot grow. */
int wsb_lwsio_move(int from, int to, struct wsb_err *err);
/* The owner of a moved descriptor (wsb_lwsio_attach's), or NULL. */
void *wsb_lwsio_own(int fd);
/* Reads a moved descriptor once (or what it holds) into its receive path:
 * data messages go to its ops; the control frames' bytes, as the client
 * sent them, to buf[0..len). Returns their number, or 0 at EOF (also once
 * the client's close frame came after a guard violation), or -1 (errno:
 * EAGAIN when nothing is for buf). */
ssize_t wsb_lwsio_read(int fd, void *buf, size_t len);
/* Stops watching fd (no-op if it was not). Call it before the descriptor
 * can be reused: a stale watch would apply to whatever gets the number. */
void wsb_lwsio_unwatch(int fd);

/* --reuse-port: while on, every bind() in the process (lws's listener,
 * while the transport creates its context) first sets SO_REUSEPORT. lws
 * 4.1.6 sets it only with several service threads, and Debian builds it
 * with one (LWS_MAX_SMP 1); bind() is defined here like recv(). */
void wsb_lwsio_reuse_port(int on);

#endif

/* wsctl — the control frames (ping, pong, close) of a connection the
 * server reads itself (wsserver_own.c): wssrx passes their bytes on as they
 * came (masked, and a frame may be split over reads); here they are
 * gathered, checked as RFC 6455 §5.5 wants (FIN set, payload at most 125
 * bytes, masked, opcode close, ping or pong) and handed over whole and
 * unmasked. And the server's own control frames, written.
 *
 * Idle, a connection's gatherer is a pointer and two bytes: the buffer for
 * a frame split over reads is made only then, and freed once it is whole.
 * Pure: no I/O.
 */
#ifndef WSB_WSCTL_H
#define WSB_WSCTL_H

#include <stddef.h>
#include <stdint.h>

#define WSB_WSCTL_PING 0x9
#define WSB_WSCTL_PONG 0xa
/* The largest server control frame: header and 125 payload bytes. */
#define WSB_WSCTL_FRAME_MAX 127

struct wsb_wsctl {
	unsigned char *part;		/* a frame split over reads (malloc'd), or NULL */
	uint8_t n;			/* its bytes so far */
	uint8_t done;			/* failed, or the owner said no more: the rest is dropped */
};

/* One whole control frame: op, its payload unmasked. Non-zero: no more
 * frames are wanted from this connection (a close came). */
typedef int (*wsb_wsctl_fn)(void *ud, int op, const unsigned char *payload, size_t len);

/* Feeds p[0..n) (unmasked in place). Returns 0; or 1002 with *why when a
 * frame breaks the rules (nothing after it is looked at); or 1011 with
 * *why when a split frame cannot be held (out of memory). */
int wsb_wsctl_feed(struct wsb_wsctl *c, unsigned char *p, size_t n, wsb_wsctl_fn fn, void *ud, const char **why);
void wsb_wsctl_free(struct wsb_wsctl *c);

/* A server frame (unmasked, FIN) of op with payload p[0..len), len at most
 * 125, into out (WSB_WSCTL_FRAME_MAX bytes): its length. */
size_t wsb_wsctl_frame(unsigned char *out, int op, const void *p, size_t len);
/* A close frame: code and reason (cut to 123 bytes, at a UTF-8 character's
 * start); code 0 sends an empty one. Its length. */
size_t wsb_wsctl_close(unsigned char *out, int code, const char *reason);

#endif

/* wsext — a client's view of the 101's Sec-WebSocket-Extensions, taken
 * out of libwebsockets' sight.
 *
 * The lws 4.1.6 client fails a 101 that names an extension it does not run
 * itself ("HS: EXT: unknown ext"), and its own permessage-deflate cannot be
 * run (design.md, Compression). So a client that offered the extension
 * (--compress) has lwsio feed it the 101 as read, before lws parses it: the
 * header's value is recorded (several such headers joined with ", ") and
 * its name rewritten in place, same length, to one lws does not know. A
 * line start that may still become that name when more bytes arrive ("Sec-
 * WebSoc" at the end of a read) cannot be judged yet: it is held back (at
 * most WSB_WSEXT_HOLD bytes) and must be fed again in front of the next
 * read. At the head's end (an empty line) the answer is judged
 * (wsb_pmd_answer) and everything after passes untouched.
 *
 * Pure: no I/O, no allocation; any input is safe (fuzzable).
 */
#ifndef WSB_WSEXT_H
#define WSB_WSEXT_H

#include <stddef.h>
#include <stdint.h>

#define WSB_WSEXT_HOLD 25	/* strlen("sec-websocket-extensions:") */

struct wsb_wsext {
	char value[256];		/* what the server answered (cut short: verdict -1) */
	char why[160];			/* verdict -1: what is wrong with it */
	uint16_t vlen;
	uint8_t state;			/* see wsext.c */
	uint8_t named;			/* a Sec-WebSocket-Extensions header went by */
	uint8_t toolong;
	int8_t verdict;			/* at the end: wsb_pmd_answer's */
};

void wsb_wsext_init(struct wsb_wsext *x);
/* Feeds the next n bytes of the stream, in place. Returns how many may go
 * on to lws now, at the front of p; p[return..n) must come again, first,
 * with the next read's bytes. */
size_t wsb_wsext_feed(struct wsb_wsext *x, unsigned char *p, size_t n);
/* 1 once the 101's head has ended (the verdict is known). */
int wsb_wsext_done(const struct wsb_wsext *x);

#endif

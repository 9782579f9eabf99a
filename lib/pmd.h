/* pmd — permessage-deflate (RFC 7692) as wsbridge uses it: each message
 * compressed once, on its own (no context taken over from the message
 * before), so one compressed frame is right for every peer that
 * negotiated the extension and can be shared like the plain one.
 *
 * On the server libwebsockets negotiates the extension, and the receive
 * path (wsserver_rx.c) inflates what peers send with wsb_inflate under the
 * --max-message cap; lws never compresses for us, since our batched
 * LWS_WRITE_RAW writes bypass its extension path. The clients (--compress)
 * do without lws's extension (its client cannot run it: design.md): they
 * offer the same parameters, judge the answer with wsb_pmd_answer and
 * inflate with wsb_inflate (wsrx.h). Pure: zlib, no I/O.
 */
#ifndef WSB_PMD_H
#define WSB_PMD_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* What the server asks for when a client offers it (lws answers the
 * offer; our frames never depend on it), and what the clients offer: no
 * context takeover either way. */
#define WSB_PMD_OFFER "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

/* Whether the first permessage-deflate offer in a Sec-WebSocket-Extensions
 * header is one whose peer can read our frames: 0 when there is none, or
 * when it limits our window (server_max_window_bits below 15). */
int wsb_pmd_offer_ok(const char *header);

/* A server's answer to WSB_PMD_OFFER: h is the value of the 101's
 * Sec-WebSocket-Extensions (several headers joined with ", "). 1 when it
 * agrees to permessage-deflate as offered, 0 when it names no extension
 * (plain frames), -1 when it names anything else: another extension, two
 * answers, a parameter we did not offer (client_max_window_bits), a bad
 * server_max_window_bits, or no server_no_context_takeover, which a server
 * that takes our offer must repeat (RFC 7692 §7.1.1.1). why then says what,
 * for the client to fail the connection with (§5). */
int wsb_pmd_answer(const char *h, char *why, size_t cap);

struct wsb_deflate;

/* NULL on ENOMEM. */
struct wsb_deflate *wsb_deflate_new(void);
void wsb_deflate_free(struct wsb_deflate *d);
/* Room a compressed frame of a len-byte payload may need. */
size_t wsb_deflate_bound(size_t len);
/* The whole frame (FIN, RSV1, text; masked with key unless NULL, as a
 * client's must be) of
 * payload[0..len) compressed, into out (cap >= wsb_deflate_bound(len)):
 * its length, or 0 when compressing does not make it smaller (send the
 * plain frame, which RFC 7692 allows) or zlib failed. */
size_t wsb_deflate_frame(struct wsb_deflate *d, const void *payload, size_t len, unsigned char *out, size_t cap,
			 const unsigned char key[4]);

/* msg as one text frame at out (cap >= wsb_deflate_bound(len)), masked
 * with key unless NULL: compressed by d when that makes it smaller, else
 * (or with d NULL) plain. Its length. */
size_t wsb_pmd_frame(struct wsb_deflate *d, const void *msg, size_t len, unsigned char *out, size_t cap,
		     const unsigned char key[4]);

/* An inflater for one connection's compressed messages, each on its own
 * (no context takeover). Memory: zlib's state and a 32 KiB window, from
 * the first message on. */
struct wsb_inflate;

enum {
	WSB_INFLATE_BIG = -1,		/* the output would pass out->max (1009) */
	WSB_INFLATE_BAD = -2,		/* not raw deflate data (1002) */
	WSB_INFLATE_NOMEM = -3,		/* out of memory within the cap (1011) */
};

/* NULL on ENOMEM. */
struct wsb_inflate *wsb_inflate_new(void);
void wsb_inflate_free(struct wsb_inflate *z);
/* Starts a new message: nothing is taken over from the one before. */
void wsb_inflate_reset(struct wsb_inflate *z);
/* 1 once the current message ended with a final block: the next needs a
 * reset (the server inflates with context takeover, which lws's answer
 * allows, so it resets only then). */
int wsb_inflate_ended(const struct wsb_inflate *z);
/* Inflates the next n bytes of the current message's payload onto out, in
 * pieces of at most 16 KiB, never past out->max: a bomb fails when its
 * output reaches the cap, holding no more than the cap. end: the message
 * ends here (its 00 00 ff ff tail is supplied). 0, or a WSB_INFLATE_ code. */
int wsb_inflate(struct wsb_inflate *z, const void *in, size_t n, int end, struct wsb_buf *out);

#endif

/* wsguard — the RFC 6455 masking rule (§5.1), checked on the raw inbound
 * byte stream of one connection before libwebsockets parses it.
 *
 * lws 4.1.6 reads the mask bit into a private field and never says whether
 * a frame had it, so the rule is checked beside it: the transport feeds
 * every byte it receives on a connection (in whatever chunks the socket
 * gives) to a tracker that follows the frame boundaries: FIN/RSV/opcode,
 * the mask bit, the 7, 16 or 64-bit length, the mask key. Payloads are
 * skipped by count, never copied or looked at, so the cost is per frame
 * header, not per byte. O(1) state, no allocation, no system calls: safe to
 * fuzz with any input.
 *
 * A tracker may start in the HTTP part of the stream (how a connection
 * begins: request heads on the server, the 101 response on the client). It
 * follows heads line by line and switches to frames right after the first
 * head with an "Upgrade:" header line, which is where lws switches: an
 * Upgrade that lws does not take ends the connection, and heads without one
 * (a keep-alive GET /health before the upgrade) stay HTTP. A head ends at
 * an empty line, "\r\n" or, as lws also accepts, a bare "\n".
 *
 * Only the masking rule is reported: a server requires the mask bit on
 * every client frame, a client forbids it on every server frame. Every
 * other framing error is left to lws, which already fails those with 1002.
 */
#ifndef WSB_WSGUARD_H
#define WSB_WSGUARD_H

#include <stddef.h>
#include <stdint.h>

enum wsb_wsguard_side {
	WSB_WSGUARD_SERVER,		/* we are the server: frames must be masked */
	WSB_WSGUARD_CLIENT,		/* we are the client: frames must not be */
};

struct wsb_wsguard {
	uint64_t pos;			/* stream offset of the next byte */
	uint64_t skip;			/* payload bytes of the current frame left */
	uint64_t len;			/* length field being assembled */
	uint64_t bad;			/* offset of the offending header; UINT64_MAX: none */
	uint64_t frames;		/* complete headers seen */
	uint64_t hdr_at;		/* offset of the current header's first byte */
	uint64_t frames_at;		/* offset of the first frame byte; UINT64_MAX: still HTTP */
	uint8_t side;
	uint8_t state;			/* see wsguard.c */
	uint8_t need;			/* header bytes still to come */
	uint8_t lenbytes;		/* of which extended length (the rest: mask key) */
	uint8_t upgrade;		/* HTTP: how far this line matches "upgrade:" */
	uint8_t head_up;		/* HTTP: this head has an Upgrade header */
	uint8_t failed;			/* a frame broke the rule */
	uint8_t peer_closed;		/* after that, a close frame began */
};

/* Starts a tracker for one connection. http: the stream begins with HTTP
 * heads (see above); 0: it begins with the first frame. */
void wsb_wsguard_init(struct wsb_wsguard *g, enum wsb_wsguard_side side, int http);

/* Feeds the next n bytes of the stream. Returns how many of them may be
 * passed on: n while the rule holds, else the bytes of this chunk before
 * the offending header, or 0 when the header began in an earlier chunk
 * (its first byte, which has no mask bit, then passed with that chunk:
 * alone it is nothing a parser can act on). After a violation every later
 * chunk returns 0. */
size_t wsb_wsguard_feed(struct wsb_wsguard *g, const void *p, size_t n);

/* 1 once a frame broke the masking rule (wsb_wsguard_bad_at says where). */
int wsb_wsguard_failed(const struct wsb_wsguard *g);
/* 1 once, after the violation, the peer began a close frame (frames are
 * still followed, only not passed on): it answered the close we sent, or
 * is closing anyway, so the connection can end without waiting. */
int wsb_wsguard_peer_closed(const struct wsb_wsguard *g);
uint64_t wsb_wsguard_bad_at(const struct wsb_wsguard *g);
/* 1 while the tracker is still in the HTTP part of the stream. */
int wsb_wsguard_in_http(const struct wsb_wsguard *g);
/* Stream offset where frames begin (right after the upgrade's head), or
 * UINT64_MAX while the stream is still HTTP. */
uint64_t wsb_wsguard_frames_at(const struct wsb_wsguard *g);

#endif

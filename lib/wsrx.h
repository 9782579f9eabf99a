/* wsrx — the clients' receive path: RFC 6455 server frames parsed in bulk
 * from the bytes a read returned, instead of libwebsockets' client parser,
 * which walks every byte of every frame through a state machine.
 *
 * lwsio feeds it each chunk a client socket reads, from the first frame
 * after the 101 on (see lwsio.h). A frame is looked at once per header:
 * a whole text message in the chunk is handed over where it lies (no copy:
 * server frames are unmasked), a message split over frames or reads is
 * gathered in a buffer capped at max. Control frames (ping, pong, close)
 * are left to lws: feed() moves their bytes to the front of the chunk and
 * returns how many, so lws keeps answering pings, timing pongs and doing
 * the close handshake on a stream that only lacks the data frames. They
 * are rare, so its byte-at-a-time parser costs nothing there.
 *
 * Until wsb_wsrx_take() every frame is left to lws (the connection is not
 * open yet, and frames that came with the 101 are lws's); after it, a data
 * message is taken here from its first frame, once lws has no message
 * open, so no message is ever split between the two.
 *
 * What a taken message may not be, it fails with, once (fail(), then its
 * data frames are dropped; control frames still pass, for the close):
 * binary 1003, larger than max 1009 (from the header that passes it: the
 * memory held never exceeds max), text that is not UTF-8 1007, a masked
 * frame, RSV bits, a reserved opcode or a continuation out of place 1002.
 * A data frame after the server's close frame is dropped, as lws would.
 *
 * Order: lws parses what a feed returns only after the feed, so a message
 * taken in a feed that also passed lws data bytes (the tail of a message
 * lws began with the 101) would overtake lws's. Such messages are copied
 * and held, and delivered by wsb_wsrx_flush: at the start of the next feed
 * at the latest, or when the owner calls it after held() (at most one
 * read's worth of messages, once per connection).
 *
 * permessage-deflate (wsb_wsrx_deflate, once the 101 agreed to it): every
 * data frame is taken from the first one after the 101, so lws never
 * meets an RSV1 frame (it would fail it), and messages that arrive before
 * take() are held as above. A message whose first frame has RSV1 is
 * inflated as its payload arrives (no context takeover: each on its own)
 * into the reassembly buffer, so the cap bounds the inflated size (a bomb
 * fails with 1009 holding at most max bytes); UTF-8 is checked on the
 * result. RSV1 on a continuation, or data that does not inflate: 1002.
 *
 * Pure: no I/O, no lws; allocation in the reassembly buffer and, once a
 * compressed message comes, one inflater.
 */
#ifndef WSB_WSRX_H
#define WSB_WSRX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "pmd.h"

struct wsb_wsrx_ops {
	/* One whole text message, valid UTF-8. msg is only valid during the call. */
	void (*message)(void *ud, const char *msg, size_t len);
	/* The connection must fail with code (see above); why is for people. */
	void (*fail)(void *ud, int code, const char *why);
	/* Messages are held (see below): call wsb_wsrx_flush once lws has
	 * parsed what this feed returned, e.g. from a timer due at once. */
	void (*held)(void *ud);
};

struct wsb_wsrx {
	const struct wsb_wsrx_ops *ops;
	void *ud;
	struct wsb_buf msg;		/* a message split over frames or reads, capped at max */
	struct wsb_buf hold;		/* messages held behind lws's: 4-byte length, bytes */
	uint64_t left;			/* payload bytes of the current frame still to come */
	uint64_t messages;		/* messages handed over */
	unsigned char hdr[WSB_FRAME_HDR_MAX];	/* a header split over reads */
	uint8_t hlen;			/* header bytes gathered */
	uint8_t hneed;			/* header length, once its second byte is in (0: not yet) */
	uint8_t mode;			/* the current frame: see wsrx.c */
	uint8_t in_payload;
	uint8_t fin;			/* the current frame ends its message */
	uint8_t taking;			/* wsb_wsrx_take was called */
	uint8_t lws_open;		/* lws has a data message open */
	uint8_t open;			/* a taken message is open */
	uint8_t closed;			/* the server's close frame went by */
	uint8_t failed;
	uint8_t lws_data;		/* this feed passed bytes of a data frame to lws */
	uint8_t data;			/* the current frame is a data frame */
	uint8_t pmd;			/* permessage-deflate agreed: all data frames are ours */
	uint8_t deflated;		/* the open message is compressed */
	struct wsb_inflate *inf;	/* from the first compressed message */
};

/* A receiver for one connection, messages up to max bytes. */
void wsb_wsrx_init(struct wsb_wsrx *r, size_t max, const struct wsb_wsrx_ops *ops, void *ud);
/* Back to the start of a new connection's frames; memory above a small
 * reassembly buffer is given back. */
void wsb_wsrx_reset(struct wsb_wsrx *r);
/* From now on, take data messages (see above). */
void wsb_wsrx_take(struct wsb_wsrx *r);
/* The 101 named an extension (lwsio, at the head's end, before any frame
 * after it is fed): every data frame is taken from the first, messages
 * are held until take(). agreed: permessage-deflate as offered, RSV1
 * messages are inflated; 0: the owner fails the connection (the answer
 * was refused), and data frames are dropped meanwhile. */
void wsb_wsrx_deflate(struct wsb_wsrx *r, int agreed);
/* Feeds the next n bytes of the frame stream, in place. Returns how many
 * bytes lws must see, moved to p[0..return): control frames, and frames
 * that are lws's. Messages are delivered (and failures reported) from
 * inside this call. */
size_t wsb_wsrx_feed(struct wsb_wsrx *r, unsigned char *p, size_t n);
/* Delivers the held messages, in order. */
void wsb_wsrx_flush(struct wsb_wsrx *r);
void wsb_wsrx_free(struct wsb_wsrx *r);

#endif
